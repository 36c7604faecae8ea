// The one module that talks to koffi. Bindings are declared lazily on first use so importing
// tsnet costs nothing until a syscall is needed. Only synchronous koffi calls are used: the
// async variant would run the call on another thread, and namespaces belong to threads.
import { createRequire } from 'node:module';
import { SyscallError } from './errno.js';

type KoffiFn = (...args: unknown[]) => number;
interface Bindings {
  unshare: KoffiFn;
  setns: KoffiFn;
  mount: KoffiFn;
  umount2: KoffiFn;
  sethostname: KoffiFn;
  gettid: KoffiFn;
  flock: KoffiFn;
  socket: KoffiFn;
  send: KoffiFn;
  recv: KoffiFn;
  close: KoffiFn;
  errno: () => number;
}

let bindings: Bindings | undefined;

function load(): Bindings {
  if (bindings) return bindings;
  const require = createRequire(import.meta.url);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const koffi = require('koffi') as {
    load(path: string): { func(decl: string): KoffiFn };
    errno(): number;
  };
  const libc = koffi.load('libc.so.6');
  bindings = {
    unshare: libc.func('int unshare(int flags)'),
    setns: libc.func('int setns(int fd, int nstype)'),
    mount: libc.func(
      'int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const void *data)',
    ),
    umount2: libc.func('int umount2(const char *target, int flags)'),
    sethostname: libc.func('int sethostname(const char *name, size_t len)'),
    gettid: libc.func('int gettid()'),
    flock: libc.func('int flock(int fd, int op)'),
    socket: libc.func('int socket(int domain, int type, int protocol)'),
    send: libc.func('long send(int fd, const void *buf, size_t len, int flags)'),
    recv: libc.func('long recv(int fd, void *buf, size_t len, int flags)'),
    close: libc.func('int close(int fd)'),
    errno: () => koffi.errno(),
  };
  return bindings;
}

function check(ret: number, syscall: string, path?: string): number {
  if (ret < 0) throw new SyscallError(syscall, load().errno(), path);
  return ret;
}

export function unshare(flags: number): void {
  check(load().unshare(flags), 'unshare');
}

export function setns(fd: number, nstype: number, path?: string): void {
  check(load().setns(fd, nstype), 'setns', path);
}

export function mount(
  source: string | null,
  target: string,
  fstype: string | null,
  flags: number,
): void {
  check(load().mount(source, target, fstype, flags, null), 'mount', target);
}

export function umount2(target: string, flags: number): void {
  check(load().umount2(target, flags), 'umount2', target);
}

export function sethostname(name: string): void {
  check(load().sethostname(name, Buffer.byteLength(name)), 'sethostname', name);
}

export function gettid(): number {
  return load().gettid();
}

/** flock(2); returns false instead of throwing when LOCK_NB finds the lock held. */
export function flock(fd: number, op: number, path?: string): boolean {
  const b = load();
  if (b.flock(fd, op) === 0) return true;
  const err = b.errno();
  if (err === 11 /* EWOULDBLOCK */) return false;
  throw new SyscallError('flock', err, path);
}

export function socket(domain: number, type: number, protocol: number): number {
  return check(load().socket(domain, type, protocol), 'socket');
}

export function send(fd: number, buf: Buffer): number {
  return check(load().send(fd, buf, buf.length, 0), 'send');
}

export function recv(fd: number, buf: Buffer): number {
  return check(load().recv(fd, buf, buf.length, 0), 'recv');
}

export function close(fd: number): void {
  check(load().close(fd), 'close');
}
