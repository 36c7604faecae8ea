// What a target process resolves with: gathers the evidence (its executable through /proc/PID/exe,
// /proc/PID/maps, its environment, the mapped C library through /proc/PID/map_files, eventlet's
// package inside its root) and lets src/program name the library. Everything read is a file the
// container controls: reads are bounded, and a file that cannot be read is evidence missing, not
// an error — the report then says what it could not tell.
import { closeSync, fstatSync, openSync, readlinkSync, readSync } from 'node:fs';
import { readElf, type ElfInfo } from '../program/elf.js';
import { isGoBinary, readGoBuildInfo, type GoBuildInfo } from '../program/go-buildinfo.js';
import { glibcVersion, muslVersion } from '../program/libc-version.js';
import { identifyLibrary, type ProgramFacts, type ProgramLibrary } from '../program/library.js';
import { mapped, mappedFiles, mappedLibc, type Mapping } from '../program/maps.js';
import { MalformedFile, type ByteSource } from '../program/source.js';
import { readFileInRoot } from '../ns/in-root.js';

/** The variables that change how a resolver library behaves; nothing else of the environment is kept. */
export const RESOLVER_ENV = ['RES_OPTIONS', 'LOCALDOMAIN', 'HOSTALIASES', 'EVENTLET_NO_GREENDNS', 'GODEBUG', 'UV_THREADPOOL_SIZE', 'GEVENT_RESOLVER'];
const MAX_PROC_TEXT = 4 << 20;
const MAX_VALUE = 4096;

/** A file opened for positioned, bounded reads (closed by the caller's `finally`). */
function openSource(path: string): { src: ByteSource; close: () => void } {
  const fd = openSync(path, 'r');
  const size = fstatSync(fd).size;
  return {
    src: {
      size,
      read: (offset, length) => {
        const buf = Buffer.alloc(Math.max(0, Math.min(length, size - offset)));
        const n = buf.length === 0 ? 0 : readSync(fd, buf, 0, buf.length, offset);
        return buf.subarray(0, n);
      },
    },
    close: () => closeSync(fd),
  };
}

function withSource<T>(path: string, read: (src: ByteSource) => T): T {
  const f = openSource(path);
  try {
    return read(f.src);
  } finally {
    f.close();
  }
}

/** The first `max` bytes of a /proc file (they report size 0: read until EOF or the bound). */
function readProc(path: string, max = MAX_PROC_TEXT): Buffer {
  const fd = openSync(path, 'r');
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.alloc(Math.min(65_536, max - total));
      if (buf.length === 0) break;
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      chunks.push(buf.subarray(0, n));
      total += n;
    }
    return Buffer.concat(chunks);
  } finally {
    closeSync(fd);
  }
}

/** The resolver-relevant variables of /proc/PID/environ. */
export function resolverEnv(pid: number): Record<string, string> {
  const out: Record<string, string> = {};
  let raw: Buffer;
  try {
    raw = readProc(`/proc/${pid}/environ`, 1 << 20);
  } catch {
    return out;
  }
  for (const kv of raw.toString('utf8').split('\0')) {
    const eq = kv.indexOf('=');
    const key = kv.slice(0, eq);
    if (eq > 0 && RESOLVER_ENV.includes(key) && !(key in out)) out[key] = kv.slice(eq + 1, eq + 1 + MAX_VALUE);
  }
  return out;
}

function executable(pid: number): { elf: ElfInfo | undefined; problem: string | undefined; goBinary: boolean; go: GoBuildInfo | undefined } {
  try {
    return withSource(`/proc/${pid}/exe`, (src) => {
      const elf = readElf(src);
      if (!elf) return { elf, problem: 'not an ELF file', goBinary: false, go: undefined };
      let go: GoBuildInfo | undefined;
      try {
        go = readGoBuildInfo(src, elf);
      } catch (err) {
        if (!(err instanceof MalformedFile)) throw err;
      }
      return { elf, problem: undefined, goBinary: isGoBinary(elf), go };
    });
  } catch (err) {
    const problem = err instanceof MalformedFile ? `malformed: ${err.message}` : ((err as NodeJS.ErrnoException).code ?? (err as Error).message);
    return { elf: undefined, problem, goBinary: false, go: undefined };
  }
}

/** The mapped C library's own version string, read through /proc/PID/map_files (the exact file mapped). */
function libcVersionOf(pid: number, maps: Mapping[]): string | undefined {
  const libc = mappedLibc(maps);
  if (!libc) return undefined;
  try {
    return withSource(`/proc/${pid}/map_files/${libc.mapping.range}`, (src) => (libc.kind === 'glibc' ? glibcVersion(src) : muslVersion(src)));
  } catch {
    return undefined;
  }
}

/** eventlet's version from the package installed beside the mapped greenlet (inside the process's root). */
function eventletVersionOf(pid: number, maps: Mapping[]): string | undefined {
  const greenlet = mapped(maps, /^_greenlet\..*\.so$/);
  if (!greenlet) return undefined;
  const sitePackages = greenlet.path.replace(/\/greenlet\/[^/]+$/, '');
  try {
    const init = readFileInRoot(`/proc/${pid}/root`, `${sitePackages}/eventlet/__init__.py`);
    const tuple = /^version_info\s*=\s*\((\d+),\s*(\d+),\s*(\d+)/m.exec(init);
    return tuple ? `${tuple[1]}.${tuple[2]}.${tuple[3]}` : /^__version__\s*=\s*['"]([\w.]+)['"]/m.exec(init)?.[1];
  } catch {
    return undefined;
  }
}

export interface ProgramReport extends ProgramLibrary {
  pid: number;
  exe: string;
  env: Record<string, string>;
}

/** Names the resolver library of process `pid`, which reads `resolvConf` and `nsswitch`. */
export function inspectProgram(pid: number, resolvConf: string, nsswitch: string | undefined): ProgramReport {
  let exe = '';
  try {
    exe = readlinkSync(`/proc/${pid}/exe`).slice(0, 4096);
  } catch {
    exe = '(unreadable)';
  }
  let maps: Mapping[] = [];
  try {
    maps = mappedFiles(readProc(`/proc/${pid}/maps`).toString('utf8'));
  } catch {
    maps = [];
  }
  const env = resolverEnv(pid);
  const x = executable(pid);
  const facts: ProgramFacts = {
    exe,
    elf: x.elf,
    elfProblem: x.problem,
    goBinary: x.goBinary,
    go: x.go,
    maps,
    env,
    libcVersion: libcVersionOf(pid, maps),
    eventletVersion: eventletVersionOf(pid, maps),
    resolvConf,
    nsswitch,
  };
  return { pid, exe, env, ...identifyLibrary(facts) };
}
