// The rule table that names a process's resolver library, and Go's resolver choice, on facts as
// src/diagnose/program.ts gathers them. The Go rules are Go 1.19's src/net/conf.go (the oracle is
// the real Go program, in test/netns/program.test.ts; here each rule once).
import { describe, expect, it } from 'vitest';
import type { ElfInfo } from './elf.js';
import { goDebugNetdns, goResolverChoice } from '../../resolvers/go.js';
import { parseGoConfig } from '../../resolvers/core/config.js';
import { identifyLibrary, type ProgramFacts } from './library.js';
import { mappedFiles } from './maps.js';

const elf = (interpreter?: string): ElfInfo => ({ bits: 64, littleEndian: true, type: 3, machine: 62, interpreter, needed: [], segments: [], sections: [] });
const GLIBC_LD = '/lib64/ld-linux-x86-64.so.2';
const MUSL_LD = '/lib/ld-musl-x86_64.so.1';
const maps = (...paths: string[]) => mappedFiles(paths.map((p, i) => `7f${i}0000-7f${i}1000 r--p 00000000 08:01 ${i + 1} ${p}`).join('\n'));

const facts = (over: Partial<ProgramFacts>): ProgramFacts => ({
  exe: '/app',
  elf: elf(GLIBC_LD),
  elfProblem: undefined,
  goBinary: false,
  go: undefined,
  maps: maps('/usr/lib/x86_64-linux-gnu/libc.so.6'),
  env: {},
  libcVersion: '2.36',
  eventletVersion: undefined,
  resolvConf: 'nameserver 10.0.0.1\n',
  nsswitch: 'hosts: files dns\n',
  ...over,
});

describe('identifyLibrary', () => {
  it('a dynamic C program: the loader names the libc, the mapped libc its version', () => {
    expect(identifyLibrary(facts({}))).toMatchObject({ library: 'glibc', summary: 'glibc 2.36', mode: 'glibc', approximate: false });
    const m = identifyLibrary(facts({ elf: elf(MUSL_LD), maps: maps(MUSL_LD), libcVersion: '1.2.3' }));
    expect(m).toMatchObject({ library: 'musl', summary: 'musl 1.2.3', mode: 'musl' });
    expect(m.evidence.join(' ')).toContain(MUSL_LD);
  });

  it('a static C program: unclassified, no row leads, the reason given', () => {
    const u = identifyLibrary(facts({ elf: elf(undefined), maps: maps('/app'), libcVersion: undefined }));
    expect(u).toMatchObject({ library: 'unclassified', mode: undefined });
    expect(u.evidence[0]).toMatch(/statically linked/);
    expect(identifyLibrary(facts({ elf: undefined, elfProblem: 'not an ELF file', maps: [] })).evidence[0]).toMatch(/not an ELF file/);
  });

  it('Go without cgo: Go\'s own resolver, the go emulator', () => {
    const g = identifyLibrary(facts({ elf: elf(undefined), maps: maps('/app'), goBinary: true, go: { version: 'go1.19.8', path: 'x', settings: new Map([['CGO_ENABLED', '0']]) } }));
    expect(g).toMatchObject({ library: 'go', mode: 'go', approximate: false });
    expect(g.summary).toBe("Go go1.19.8, Go's own resolver");
  });

  it('Go with cgo: Go\'s resolver by default (glibc for .local names); the C library when something forces cgo', () => {
    const cgo = { goBinary: true, go: { version: 'go1.19.8', path: 'x', settings: new Map([['CGO_ENABLED', '1']]) } };
    const byDefault = identifyLibrary(facts(cgo));
    expect(byDefault).toMatchObject({ library: 'go', mode: 'go-cgo', approximate: false });
    expect(byDefault.summary).toMatch(/Go's own resolver \(glibc 2\.36 for names ending in \.local/);
    const forced = identifyLibrary(facts({ ...cgo, env: { RES_OPTIONS: 'timeout:1' } }));
    expect(forced).toMatchObject({ library: 'go', mode: 'glibc', approximate: false, summary: 'Go go1.19.8, cgo resolver: getaddrinfo of glibc 2.36' });
    expect(forced.evidence).toContain('RES_OPTIONS is set');
  });

  it('Node: the libc under it, the threadpool size (libuv clamps 1..1024), advice for Node only', () => {
    const n = identifyLibrary(facts({ exe: '/usr/bin/node', env: { UV_THREADPOOL_SIZE: '64' } }));
    expect(n).toMatchObject({ library: 'node', mode: 'node', threadpool: 64 });
    expect(identifyLibrary(facts({ exe: '/usr/local/bin/node', env: { UV_THREADPOOL_SIZE: '0' } })).threadpool).toBe(1);
    // atoi: not a number is 0, which libuv makes 1
    expect(identifyLibrary(facts({ exe: '/usr/local/bin/node', env: { UV_THREADPOOL_SIZE: 'many' } })).threadpool).toBe(1);
    expect(identifyLibrary(facts({ exe: '/usr/local/bin/node', env: { UV_THREADPOOL_SIZE: '5000' } })).threadpool).toBe(1024);
    expect(identifyLibrary(facts({ exe: '/usr/local/bin/node' })).threadpool).toBe(4);
    expect(identifyLibrary(facts({ exe: '/opt/app', maps: maps('/usr/lib/libnode.so.108', '/usr/lib/x86_64-linux-gnu/libc.so.6') })).library).toBe('node');
  });

  it('Python with greenlet mapped and eventlet beside it: eventlet, greendns per EVENTLET_NO_GREENDNS, the 0.24 emulator for old versions', () => {
    const py = { exe: '/usr/bin/python3.11', maps: maps('/usr/lib/x86_64-linux-gnu/libc.so.6', '/usr/lib/python3/dist-packages/greenlet/_greenlet.cpython-311-x86_64-linux-gnu.so'), eventletVersion: '0.33.1' };
    expect(identifyLibrary(facts(py))).toMatchObject({ library: 'eventlet', mode: 'eventlet', summary: 'eventlet 0.33.1, greendns (dnspython)' });
    expect(identifyLibrary(facts({ ...py, env: { EVENTLET_NO_GREENDNS: 'YES' } })).summary).toMatch(/greendns off/);
    expect(identifyLibrary(facts({ ...py, eventletVersion: '0.24.0' })).mode).toBe('eventlet-0.24');
    expect(identifyLibrary(facts({ ...py, eventletVersion: '0.24.1' })).mode).toBe('eventlet');
    // no eventlet found: plain Python on its libc
    expect(identifyLibrary(facts({ ...py, eventletVersion: undefined }))).toMatchObject({ library: 'python', mode: 'glibc' });
    expect(identifyLibrary(facts({ exe: '/usr/bin/python3' }))).toMatchObject({ library: 'python', mode: 'glibc', summary: 'Python (socket.getaddrinfo → glibc 2.36)' });
  });
});

describe('goResolverChoice (Go 1.19 src/net/conf.go)', () => {
  const defaults = { cgo: true, netgo: false, env: {} as Record<string, string>, resolvConf: 'nameserver 10.0.0.1\noptions ndots:2 timeout:1 rotate\n', nsswitch: 'hosts: files dns\n' };
  const base = defaults;
  const goResolver = (i: typeof defaults) => goResolverChoice({ cgo: i.cgo, netgo: i.netgo }, { ...i, hostname: 'h' });
  const goUnknownResolvConf = (text: string) => parseGoConfig(text, 'h').unknown;

  it('no cgo, netgo, GODEBUG=netdns=go: Go always; GODEBUG=netdns=cgo: the C library', () => {
    expect(goResolver({ ...base, cgo: false }).resolver).toBe('go');
    expect(goResolver({ ...base, netgo: true, env: { RES_OPTIONS: 'x' } }).resolver).toBe('go');
    expect(goResolver({ ...base, env: { GODEBUG: 'netdns=go+2' } }).resolver).toBe('go');
    expect(goResolver({ ...base, env: { GODEBUG: 'http2client=0,netdns=1+cgo' } }).resolver).toBe('cgo');
  });

  it('forces cgo: RES_OPTIONS or HOSTALIASES non-empty, LOCALDOMAIN set even empty, an option or keyword Go does not know, an nsswitch source or action it does not handle', () => {
    expect(goResolver({ ...base, env: { RES_OPTIONS: '' } }).resolver).toBe('go');
    expect(goResolver({ ...base, env: { LOCALDOMAIN: '' } }).resolver).toBe('cgo');
    expect(goResolver({ ...base, env: { HOSTALIASES: '/h' } }).resolver).toBe('cgo');
    expect(goResolver({ ...base, resolvConf: 'nameserver 10.0.0.1\noptions no-tld-query\n' }).why).toEqual(['resolv.conf has option no-tld-query, which Go does not understand']);
    expect(goResolver({ ...base, resolvConf: 'nameserver 10.0.0.1\nsortlist 10.0.0.0/8\n' }).resolver).toBe('cgo');
    expect(goResolver({ ...base, nsswitch: 'hosts: files resolve [!UNAVAIL=return] dns\n' }).resolver).toBe('cgo');
    expect(goResolver({ ...base, nsswitch: 'hosts: files [NOTFOUND=return UNAVAIL=continue] dns\n' }).resolver).toBe('cgo');
    // a "return" on the last criterion counts as standard
    expect(goResolver({ ...base, nsswitch: 'hosts: files dns [NOTFOUND=return]\n' }).resolver).toBe('go');
    expect(goResolver({ ...base, nsswitch: 'hosts: files mdns4_minimal dns myhostname\n' })).toMatchObject({ resolver: 'go' });
    expect(goResolver({ ...base, nsswitch: 'hosts: files dns myhostname\n' }).cgoFor).toContain('localhost, gateway and its own hostname (nsswitch myhostname)');
  });

  it('reads GODEBUG and resolv.conf as Go does', () => {
    expect(goDebugNetdns(undefined)).toBeUndefined();
    expect(goDebugNetdns('netdns=2')).toBeUndefined();
    expect(goDebugNetdns('netdns=cgo')).toBe('cgo');
    expect(goUnknownResolvConf('# c\n; c\nnameserver 1.2.3.4\ndomain x\nsearch a b\noptions usevc use-vc tcp single-request-reopen attempts:2 inet6\n')).toEqual(['option inet6']);
    // Go 1.19 knows neither edns0 nor trust-ad (later Go does): with cgo they hand lookups to the C library
    expect(goUnknownResolvConf('options edns0 trust-ad\n')).toEqual(['option edns0', 'option trust-ad']);
  });
});
