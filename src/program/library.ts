// Which resolver library a process's lookups go through, from evidence gathered about it (its
// executable, what it maps, its environment): a rule table, first match wins. Each rule says what
// it saw; a program without evidence is "unclassified", never guessed. PURE.
import type { ElfInfo } from './elf.js';
import type { GoBuildInfo } from './go-buildinfo.js';
import { goResolverChoice } from '../../resolvers/go.js';
import { poolSize } from '../../resolvers/node.js';
import { slowWorkAtOnce } from '../../resolvers/core/pool.js';
import { mapped, mappedLibc, type Mapping } from './maps.js';

export type LibraryKind = 'glibc' | 'musl' | 'go' | 'eventlet' | 'node' | 'python' | 'unclassified';

/** What was gathered about a process (src/diagnose/program.ts reads it). */
export interface ProgramFacts {
  /** the executable's path as the process sees it (/proc/PID/exe) */
  exe: string;
  elf: ElfInfo | undefined;
  /** why the executable could not be read as ELF, when it could not */
  elfProblem: string | undefined;
  goBinary: boolean;
  go: GoBuildInfo | undefined;
  maps: Mapping[];
  /** the process's environment (bounded) */
  env: Record<string, string>;
  /** the version string found in the mapped C library ("2.36", "1.2.3") */
  libcVersion: string | undefined;
  /** eventlet's version from its package next to the mapped greenlet, when found */
  eventletVersion: string | undefined;
  resolvConf: string;
  nsswitch: string | undefined;
}

export interface ProgramLibrary {
  library: LibraryKind;
  /** one line: "musl 1.2.3", "Go go1.19.8, Go's own resolver", "Node.js (dns.lookup → glibc 2.36)" */
  summary: string;
  /** the emulator whose row leads the report; undefined when unclassified */
  mode: string | undefined;
  /** the mode is only the closest emulated behaviour (no emulator for this library) */
  approximate: boolean;
  /** the C library under the runtime, when there is one */
  libc: { kind: 'glibc' | 'musl'; version: string | undefined } | undefined;
  /** Node: libuv's threadpool size (UV_THREADPOOL_SIZE, default 4) */
  threadpool?: number;
  evidence: string[];
  notes: string[];
}

const base = (path: string) => path.slice(path.lastIndexOf('/') + 1);

/** The C library from the loader (PT_INTERP), else from what is mapped. */
function libcOf(f: ProgramFacts): { kind: 'glibc' | 'musl'; version: string | undefined; evidence: string } | undefined {
  const interp = f.elf?.interpreter;
  const version = f.libcVersion;
  if (interp && /\/ld-linux[\w.-]*\.so\.\d+$/.test(interp)) return { kind: 'glibc', version, evidence: `ELF interpreter ${interp} (glibc's loader)` };
  if (interp && /\/ld-musl-[\w-]+\.so\.1$/.test(interp)) return { kind: 'musl', version, evidence: `ELF interpreter ${interp} (musl's loader)` };
  const m = mappedLibc(f.maps);
  return m ? { kind: m.kind, version, evidence: `maps ${m.mapping.path}` } : undefined;
}

const named = (l: { kind: string; version: string | undefined }) => `${l.kind}${l.version ? ` ${l.version}` : ''}`;

type Rule = (f: ProgramFacts) => ProgramLibrary | undefined;

/** First match wins: runtimes before the C library they run on. */
const RULES: Rule[] = [nodeRule, pythonRule, goRule, libcRule, unclassifiedRule];

export function identifyLibrary(f: ProgramFacts): ProgramLibrary {
  for (const rule of RULES) {
    const found = rule(f);
    if (found) return found;
  }
  throw new Error('unreachable: the last rule always matches');
}

function nodeRule(f: ProgramFacts): ProgramLibrary | undefined {
  const lib = mapped(f.maps, /^libnode\.so/);
  if (!/^(node|nodejs)$/.test(base(f.exe)) && !lib) return undefined;
  const libc = libcOf(f);
  const threadpool = poolSize(f.env.UV_THREADPOOL_SIZE);
  return {
    library: 'node',
    summary: `Node.js (dns.lookup → getaddrinfo of ${libc ? named(libc) : 'an unidentified C library'} on libuv's threadpool of ${threadpool}, ${slowWorkAtOnce(threadpool)} lookups at once)`,
    mode: libc?.kind === 'glibc' ? 'node' : libc?.kind === 'musl' ? 'node-musl' : undefined,
    approximate: false,
    libc: libc && { kind: libc.kind, version: libc.version },
    threadpool,
    evidence: [lib ? `maps ${lib.path}` : `executable ${f.exe}`, ...(libc ? [libc.evidence] : []), `UV_THREADPOOL_SIZE ${f.env.UV_THREADPOOL_SIZE === undefined ? 'unset (4)' : `=${f.env.UV_THREADPOOL_SIZE}`}`],
    notes: ['dns.lookup (what http.get and net.connect use) runs the C library\'s getaddrinfo on the threadpool; dns.resolve* uses c-ares instead and is not emulated'],
  };
}

function pythonRule(f: ProgramFacts): ProgramLibrary | undefined {
  const libpython = mapped(f.maps, /^libpython3/);
  if (!/^python[\d.]*$/.test(base(f.exe)) && !libpython) return undefined;
  const libc = libcOf(f);
  const greenlet = mapped(f.maps, /^_greenlet\..*\.so$/);
  const gevent = f.maps.find((m) => m.path.includes('/gevent/'));
  const evidence = [`executable ${f.exe}`, ...(libc ? [libc.evidence] : [])];
  if (greenlet && f.eventletVersion !== undefined && !gevent) {
    const noGreen = (f.env.EVENTLET_NO_GREENDNS ?? '').toLowerCase() === 'yes';
    const old = /^0\.(\d+)\.(\d+)/.exec(f.eventletVersion);
    const pre0241 = old !== null && (Number(old[1]) < 24 || (Number(old[1]) === 24 && Number(old[2]) === 0));
    return {
      library: 'eventlet',
      summary: `eventlet ${f.eventletVersion}, ${noGreen ? `greendns off (EVENTLET_NO_GREENDNS=yes: ${libc ? named(libc) : 'the C library'})` : 'greendns (dnspython)'}`,
      mode: pre0241 && !noGreen ? 'eventlet-0.24' : 'eventlet',
      approximate: false,
      libc: libc && { kind: libc.kind, version: libc.version },
      evidence: [...evidence, `maps ${greenlet.path}`, `eventlet ${f.eventletVersion} installed beside it`, `EVENTLET_NO_GREENDNS ${f.env.EVENTLET_NO_GREENDNS === undefined ? 'unset' : `=${f.env.EVENTLET_NO_GREENDNS}`}`],
      notes: ['greenlet is mapped and eventlet is installed: whether this program monkey-patches with eventlet cannot be read from outside; a program that does not resolves through the C library'],
    };
  }
  return {
    library: 'python',
    summary: `Python (socket.getaddrinfo → ${libc ? named(libc) : 'an unidentified C library'})`,
    mode: libc?.kind,
    approximate: false,
    libc: libc && { kind: libc.kind, version: libc.version },
    evidence: [...evidence, ...(greenlet ? [`maps ${greenlet.path}`] : [])],
    notes: gevent ? ['gevent is loaded: its resolver (threadpool or c-ares, GEVENT_RESOLVER) is not emulated; shown here as the C library'] : [],
  };
}

function goRule(f: ProgramFacts): ProgramLibrary | undefined {
  if (!f.goBinary && !f.go) return undefined;
  const settings = f.go?.settings ?? new Map<string, string>();
  const cgoSetting = settings.get('CGO_ENABLED');
  // No build setting (old or trimmed build info): a Go binary with a loader was linked with cgo.
  const cgo = cgoSetting !== undefined ? cgoSetting === '1' : f.elf?.interpreter !== undefined;
  const netgo = (settings.get('-tags') ?? '').split(',').includes('netgo');
  const choice = goResolverChoice({ cgo, netgo }, { env: f.env, resolvConf: f.resolvConf, nsswitch: f.nsswitch, hostname: '' }); // the hostname only feeds the default search list
  const libc = libcOf(f);
  const version = f.go?.version ?? 'version unknown';
  const evidence = [
    `Go build info: ${version}${cgoSetting !== undefined ? `, CGO_ENABLED=${cgoSetting}` : ''}${settings.has('-tags') ? `, -tags=${settings.get('-tags')}` : ''}`,
    ...(libc ? [libc.evidence] : ['no ELF interpreter (statically linked)']),
    ...(f.env.GODEBUG !== undefined ? [`GODEBUG=${f.env.GODEBUG}`] : []),
  ];
  const base = { library: 'go' as const, libc: libc && { kind: libc.kind, version: libc.version }, evidence: [...evidence, ...choice.why] };
  // every lookup goes to the C library: that library's own emulator is exact
  if (choice.resolver === 'cgo' && libc) return { ...base, summary: `Go ${version}, cgo resolver: getaddrinfo of ${named(libc)}`, mode: libc.kind, approximate: false, notes: [] };
  const cgoToo = cgo && !netgo && choice.cgoFor.length > 0 && libc !== undefined;
  return {
    ...base,
    summary: `Go ${version}, Go's own resolver${cgoToo ? ` (${named(libc)} for ${choice.cgoFor.join(', ')})` : ''}`,
    mode: cgo && !netgo ? 'go-cgo' : 'go',
    // go-cgo hands its few cgo lookups to the glibc emulator
    approximate: cgoToo && libc.kind !== 'glibc',
    notes: cgoToo && libc.kind !== 'glibc' ? [`go-cgo emulates the names Go hands to the C library with glibc; this program's is ${named(libc)}`] : [],
  };
}

function libcRule(f: ProgramFacts): ProgramLibrary | undefined {
  const libc = libcOf(f);
  if (!libc || f.elf === undefined) return undefined;
  return { library: libc.kind, summary: named(libc), mode: libc.kind, approximate: false, libc: { kind: libc.kind, version: libc.version }, evidence: [libc.evidence], notes: [] };
}

function unclassifiedRule(f: ProgramFacts): ProgramLibrary {
  const why = f.elf === undefined ? `the executable ${f.exe} is not an ELF file tsnet can read${f.elfProblem ? ` (${f.elfProblem})` : ''}` : `statically linked ${f.exe}, with no Go build info and no C library mapped`;
  return {
    library: 'unclassified',
    summary: 'unclassified: its resolver cannot be read from the binary',
    mode: undefined,
    approximate: false,
    libc: undefined,
    evidence: [why],
    notes: ['every emulated library is shown; none leads'],
  };
}
