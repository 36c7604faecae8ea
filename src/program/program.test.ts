// The ELF, Go build info, maps and libc-version readers on real binaries built here (gcc: glibc,
// musl-gcc: musl, dynamic and static; go: CGO_ENABLED=0 and cgo), checked against independent
// oracles (readelf, `go version -m`), and on truncated and hostile files.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveCommand } from '../../test/support/lab.js';
import { readElf } from './elf.js';
import { isGoBinary, parseModinfo, readGoBuildInfo } from './go-buildinfo.js';
import { glibcVersion, muslVersion } from './libc-version.js';
import { mappedFiles, mappedLibc } from './maps.js';
import { bufferSource, MalformedFile } from './source.js';

const dir = mkdtempSync(join(tmpdir(), 'tsnet-program-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const C = '#include <netdb.h>\nint main(int c, char **v) { struct addrinfo *r; return c > 1 ? getaddrinfo(v[1], 0, 0, &r) : 0; }\n';
const GO = 'package main\nimport ("fmt"; "net")\nfunc main() { fmt.Println(net.LookupHost("localhost")) }\n';
const bin: Record<string, string> = {};
/** go build, its stderr in the error when it fails. */
const goBuild = (cmd: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv }) => {
  try {
    execFileSync(cmd, args, { ...opts, stdio: 'pipe' });
  } catch (err) {
    throw new Error(`${cmd} ${args.join(' ')}: ${String((err as { stderr?: Buffer }).stderr ?? err)}`);
  }
};
const have = haveCommand;

beforeAll(() => {
  writeFileSync(join(dir, 'gai.c'), C);
  const cc = (name: string, compiler: string, ...flags: string[]) => {
    bin[name] = join(dir, name);
    execFileSync(compiler, [...flags, '-o', bin[name]!, join(dir, 'gai.c')], { stdio: 'pipe' });
  };
  cc('glibc', 'gcc');
  cc('glibc-static', 'gcc', '-static');
  cc('musl', 'musl-gcc', '-Wl,--dynamic-linker=/lib/ld-musl-x86_64.so.1');
  cc('musl-static', 'musl-gcc', '-static');
  if (have('go')) {
    // in a directory of their own: the .c file beside them would be taken as part of the package
    const src = join(dir, 'gosrc');
    mkdirSync(src);
    writeFileSync(join(src, 'main.go'), GO);
    writeFileSync(join(src, 'go.mod'), 'module example.com/lookup\n\ngo 1.19\n');
    const build = (name: string, cgo: string, ...flags: string[]) => {
      bin[name] = join(dir, name);
      goBuild('go', ['build', ...flags, '-o', bin[name]!, '.'], { cwd: src, env: { ...process.env, CGO_ENABLED: cgo, GOCACHE: join(dir, 'gocache'), GOPATH: join(dir, 'gopath'), GOFLAGS: '-mod=mod' } });
    };
    build('go-pure', '0');
    build('go-cgo', '1');
    build('go-netgo', '1', '-tags', 'netgo');
  }
}, 180_000);

const elfOf = (name: string) => readElf(bufferSource(readFileSync(bin[name]!)))!;
const readelfInterp = (path: string) => /\[Requesting program interpreter: (.*)\]/.exec(execFileSync('readelf', ['-lW', path], { encoding: 'utf8' }))?.[1];
const readelfNeeded = (path: string) => [...execFileSync('readelf', ['-dW', path], { encoding: 'utf8' }).matchAll(/\(NEEDED\)\s+Shared library: \[(.*)\]/g)].map((m) => m[1]);

describe('readElf on binaries built here (readelf is the oracle)', () => {
  it.each(['glibc', 'glibc-static', 'musl', 'musl-static'])('%s: interpreter and needed libraries', (name) => {
    const elf = elfOf(name);
    expect(elf.bits).toBe(64);
    expect(elf.interpreter).toBe(readelfInterp(bin[name]!));
    expect(elf.needed).toEqual(readelfNeeded(bin[name]!));
  });

  it('glibc dynamic: glibc\'s loader and libc.so.6; static ones have no interpreter', () => {
    expect(elfOf('glibc').interpreter).toMatch(/ld-linux-x86-64\.so\.2$/);
    expect(elfOf('glibc').needed).toContain('libc.so.6');
    expect(elfOf('musl').interpreter).toBe('/lib/ld-musl-x86_64.so.1');
    expect(elfOf('glibc-static').interpreter).toBeUndefined();
    expect(elfOf('musl-static').interpreter).toBeUndefined();
  });

  it('is not fooled into calling a C program Go', () => {
    for (const name of ['glibc', 'musl-static']) expect(isGoBinary(elfOf(name))).toBe(false);
  });

  it('not ELF at all: undefined', () => {
    expect(readElf(bufferSource(Buffer.from('#!/bin/sh\necho hi\n')))).toBeUndefined();
    expect(readElf(bufferSource(Buffer.alloc(0)))).toBeUndefined();
  });
});

describe('hostile and truncated files', () => {
  const real = () => readFileSync(bin.glibc!);

  it('a file cut anywhere is read or refused with MalformedFile, nothing else', () => {
    const bytes = real();
    for (const len of [5, 16, 20, 63, 64, 100, 500, 1000, 4000, bytes.length >> 1, bytes.length - 1]) {
      try {
        readElf(bufferSource(bytes.subarray(0, len)));
      } catch (err) {
        expect(err, `cut at ${len}`).toBeInstanceOf(MalformedFile);
      }
    }
  });

  it('huge counts, offsets past the end, a string without an end: MalformedFile, bounded', () => {
    const set = (at: number, write: (b: Buffer) => void) => {
      const b = Buffer.from(real());
      write(b);
      return b;
    };
    const cases = [
      set(0, (b) => b.writeUInt16LE(0xffff, 56)), // e_phnum
      set(0, (b) => b.writeBigUInt64LE(0xffffffffffn, 32)), // e_phoff
      set(0, (b) => b.writeBigUInt64LE(0x7fffffffffffffffn, 40)), // e_shoff
      set(0, (b) => b.writeUInt16LE(8, 54)), // e_phentsize too small
      set(0, (b) => b.writeUInt8(7, 4)), // class
    ];
    for (const c of cases) expect(() => readElf(bufferSource(c))).toThrow(MalformedFile);
  });

  it('random byte flips in the headers never crash the reader (500 mutants)', () => {
    const bytes = real();
    let seed = 12345;
    const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
    for (let i = 0; i < 500; i++) {
      const b = Buffer.from(bytes.subarray(0, 8192));
      for (let k = 0; k < 4; k++) b[rnd() % 256] = rnd() & 0xff;
      try {
        const elf = readElf(bufferSource(b));
        if (elf) readGoBuildInfo(bufferSource(b), elf);
      } catch (err) {
        expect(err).toBeInstanceOf(MalformedFile);
      }
    }
  });
});

describe('Go build info (go version -m is the oracle)', () => {
  const goVersionM = (path: string) => execFileSync('go', ['version', '-m', path], { encoding: 'utf8' });

  it.each(['go-pure', 'go-cgo', 'go-netgo'])('%s: version, CGO_ENABLED and tags as `go version -m` prints them', (name) => {
    if (!bin[name]) throw new Error('go is not installed: apt-get install golang-go (scripts/setup.sh does)');
    const src = bufferSource(readFileSync(bin[name]!));
    const elf = readElf(src)!;
    expect(isGoBinary(elf)).toBe(true);
    const info = readGoBuildInfo(src, elf)!;
    const oracle = goVersionM(bin[name]!);
    expect(oracle.split('\n')[0]).toContain(`: ${info.version}`);
    for (const [k, v] of info.settings) expect(oracle).toContain(`build\t${k}=${v}`);
    expect(info.settings.get('CGO_ENABLED')).toBe(name === 'go-pure' ? '0' : '1');
    expect(info.path).toBe('example.com/lookup');
  });

  it('cgo builds have glibc\'s loader; CGO_ENABLED=0 builds none', () => {
    if (!bin['go-pure']) throw new Error('go is not installed: apt-get install golang-go (scripts/setup.sh does)');
    expect(elfOf('go-pure').interpreter).toBeUndefined();
    expect(elfOf('go-cgo').interpreter).toMatch(/ld-linux/);
  });

  it('modinfo framing: 16 bytes of sentinel each side are removed; lines without a tab are skipped', () => {
    const body = 'path\tx/y\nbuild\tCGO_ENABLED=0\nbuild\t-tags=netgo,osusergo\njunk\n';
    const framed = Buffer.concat([Buffer.alloc(16, 0xaa), Buffer.from(body), Buffer.alloc(16, 0xbb)]);
    const m = parseModinfo(framed);
    expect(m.path).toBe('x/y');
    expect(Object.fromEntries(m.settings)).toEqual({ CGO_ENABLED: '0', '-tags': 'netgo,osusergo' });
  });
});

describe('maps and the C library\'s version', () => {
  const MAPS = [
    '55d0c0a00000-55d0c0a01000 r--p 00000000 08:01 1234 /usr/bin/python3.11',
    '7f00aa000000-7f00aa028000 r--p 00000000 08:01 2222 /usr/lib/x86_64-linux-gnu/libc.so.6',
    '7f00aa028000-7f00aa1bd000 r-xp 00028000 08:01 2222 /usr/lib/x86_64-linux-gnu/libc.so.6',
    '7f00ab000000-7f00ab001000 rw-p 00000000 00:00 0 ',
    '7f00ac000000-7f00ac010000 r--p 00000000 08:01 3333 /usr/lib/python3/dist-packages/greenlet/_greenlet.cpython-311-x86_64-linux-gnu.so (deleted)',
    '7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]',
  ].join('\n');

  it('each file once, with its first range; anonymous and [special] mappings skipped; (deleted) dropped', () => {
    expect(mappedFiles(MAPS).map((m) => `${m.range} ${m.path}`)).toEqual([
      '55d0c0a00000-55d0c0a01000 /usr/bin/python3.11',
      '7f00aa000000-7f00aa028000 /usr/lib/x86_64-linux-gnu/libc.so.6',
      '7f00ac000000-7f00ac010000 /usr/lib/python3/dist-packages/greenlet/_greenlet.cpython-311-x86_64-linux-gnu.so',
    ]);
    expect(mappedLibc(mappedFiles(MAPS))?.kind).toBe('glibc');
    expect(mappedLibc(mappedFiles('7f0-7f1 r-xp 0 08:01 9 /lib/ld-musl-x86_64.so.1'))?.kind).toBe('musl');
    expect(mappedLibc(mappedFiles('7f0-7f1 r-xp 0 08:01 9 /usr/lib/x86_64-linux-musl/libc.so'))?.kind).toBe('musl');
  });

  it('glibc\'s banner and musl\'s version string from the real libraries (ldd --version and the musl package are the oracles)', () => {
    const ldd = /(\d+\.\d+)\s*$/m.exec(execFileSync('ldd', ['--version'], { encoding: 'utf8' }).split('\n')[0]!)![1];
    expect(glibcVersion(bufferSource(readFileSync('/lib/x86_64-linux-gnu/libc.so.6')))).toBe(ldd);
    const pkg = /^Version: (\d+\.\d+\.\d+)/m.exec(execFileSync('dpkg', ['-s', 'musl'], { encoding: 'utf8' }))![1];
    expect(muslVersion(bufferSource(readFileSync('/usr/lib/x86_64-linux-musl/libc.so')))).toBe(pkg);
    expect(muslVersion(bufferSource(readFileSync('/lib/x86_64-linux-gnu/libc.so.6')))).toBeUndefined();
    expect(glibcVersion(bufferSource(readFileSync('/usr/lib/x86_64-linux-musl/libc.so')))).toBeUndefined();
  });
});
