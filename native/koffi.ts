// The one place koffi is loaded. Each native module declares the libc functions it needs through
// `fn`, lazily on first use, so importing tsnet costs nothing until a syscall is needed.
import { createRequire } from 'node:module';
import { SyscallError } from './errno.js';

export type KoffiFn = ((...args: unknown[]) => number) & {
  /** the call on libuv's thread pool, its result delivered on the loop */
  async(...argsThenCallback: unknown[]): void;
};

/** The slice of koffi's API tsnet uses (types, structs and calls are declared per module). */
export interface Koffi {
  load(path: string): { func(decl: string): KoffiFn };
  errno(): number;
  struct(name: string, fields: Record<string, unknown>): unknown;
  array(type: unknown, length: number): unknown;
  pointer(type: unknown): unknown;
  address(value: unknown): bigint;
}

let koffi: Koffi | undefined;
let libc: { func(decl: string): KoffiFn } | undefined;
const declared = new Map<string, KoffiFn>();

export function loadKoffi(): Koffi {
  if (koffi) return koffi;
  const require = createRequire(import.meta.url);
  koffi = require('koffi') as Koffi;
  return koffi;
}

/** A libc function from its C declaration, declared once. */
export function fn(decl: string): KoffiFn {
  let f = declared.get(decl);
  if (!f) {
    libc ??= loadKoffi().load('libc.so.6');
    f = libc.func(decl);
    declared.set(decl, f);
  }
  return f;
}

export const errno = (): number => loadKoffi().errno();

/** The return value, or a SyscallError naming the call (and the path it acted on). */
export function check(ret: number, syscall: string, path?: string): number {
  if (ret < 0) throw new SyscallError(syscall, errno(), path);
  return ret;
}
