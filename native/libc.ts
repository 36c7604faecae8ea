// Namespace, mount, lock and plain socket calls. Only synchronous koffi calls are used here: the
// async variant would run the call on another thread, and namespaces belong to threads.
import { SyscallError } from './errno.js';
import { check, errno, fn } from './koffi.js';

const decl = {
  unshare: 'int unshare(int flags)',
  setns: 'int setns(int fd, int nstype)',
  mount: 'int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const void *data)',
  umount2: 'int umount2(const char *target, int flags)',
  sethostname: 'int sethostname(const char *name, size_t len)',
  gettid: 'int gettid()',
  flock: 'int flock(int fd, int op)',
  socket: 'int socket(int domain, int type, int protocol)',
  send: 'long send(int fd, const void *buf, size_t len, int flags)',
  recv: 'long recv(int fd, void *buf, size_t len, int flags)',
  close: 'int close(int fd)',
} as const;

export function unshare(flags: number): void {
  check(fn(decl.unshare)(flags), 'unshare');
}

export function setns(fd: number, nstype: number, path?: string): void {
  check(fn(decl.setns)(fd, nstype), 'setns', path);
}

export function mount(
  source: string | null,
  target: string,
  fstype: string | null,
  flags: number,
): void {
  check(fn(decl.mount)(source, target, fstype, flags, null), 'mount', target);
}

export function umount2(target: string, flags: number): void {
  check(fn(decl.umount2)(target, flags), 'umount2', target);
}

export function sethostname(name: string): void {
  check(fn(decl.sethostname)(name, Buffer.byteLength(name)), 'sethostname', name);
}

export function gettid(): number {
  return fn(decl.gettid)();
}

/** flock(2); returns false instead of throwing when LOCK_NB finds the lock held. */
export function flock(fd: number, op: number, path?: string): boolean {
  if (fn(decl.flock)(fd, op) === 0) return true;
  const err = errno();
  if (err === 11 /* EWOULDBLOCK */) return false;
  throw new SyscallError('flock', err, path);
}

export function socket(domain: number, type: number, protocol: number): number {
  return check(fn(decl.socket)(domain, type, protocol), 'socket');
}

export function send(fd: number, buf: Buffer): number {
  return check(fn(decl.send)(fd, buf, buf.length, 0), 'send');
}

export function recv(fd: number, buf: Buffer): number {
  return check(fn(decl.recv)(fd, buf, buf.length, 0), 'recv');
}

export function close(fd: number): void {
  check(fn(decl.close)(fd), 'close');
}
