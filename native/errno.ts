import { constants as osConstants } from 'node:os';

const errnoNames = new Map<number, string>(
  Object.entries(osConstants.errno).map(([name, num]) => [num, name]),
);

/** Name for an errno value ("EPERM"), or "E<num>" when unknown. */
export function errnoName(errno: number): string {
  return errnoNames.get(errno) ?? `E${errno}`;
}

const descriptions: Record<string, string> = {
  EPERM: 'operation not permitted',
  EACCES: 'permission denied',
  ENOENT: 'no such file or directory',
  EEXIST: 'already exists',
  EINVAL: 'invalid argument',
  EBUSY: 'device or resource busy',
  EWOULDBLOCK: 'resource temporarily unavailable',
  EAGAIN: 'resource temporarily unavailable',
  ENODEV: 'no such device',
  EADDRINUSE: 'address already in use',
  EADDRNOTAVAIL: 'address not available',
  ENETUNREACH: 'network unreachable',
  EOPNOTSUPP: 'operation not supported',
  ENOTSUP: 'operation not supported',
  ENOSPC: 'no space left on device',
  ERANGE: 'result out of range',
  ENAMETOOLONG: 'name too long',
};

/** A failed libc call: names the syscall, the errno and (when there is one) the path it acted on. */
export class SyscallError extends Error {
  readonly syscall: string;
  readonly errno: number;
  readonly code: string;
  readonly path: string | undefined;

  constructor(syscall: string, errno: number, path?: string) {
    const code = errnoName(errno);
    const what = path === undefined ? syscall : `${syscall} ${path}`;
    super(`${what}: ${code} (${descriptions[code] ?? 'system error'})`);
    this.name = 'SyscallError';
    this.syscall = syscall;
    this.errno = errno;
    this.code = code;
    this.path = path;
  }
}
