// The one place koffi is loaded. Each native module declares the libc functions it needs through
// `fn`, lazily on first use, so importing tsnet costs nothing until a syscall is needed.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
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
  /** native memory that never moves (freed with `free`) */
  alloc(type: string, length: number): unknown;
  free(ptr: unknown): void;
  /** an ArrayBuffer over `length` bytes of native memory (no copy) */
  view(ptr: unknown, length: number): ArrayBuffer;
}

let koffi: Koffi | undefined;
let libc: { func(decl: string): KoffiFn } | undefined;
const declared = new Map<string, KoffiFn>();

export function loadKoffi(): Koffi {
  if (koffi) return koffi;
  const require = createRequire(import.meta.url);
  koffi = nativeModule(require) ?? (require('koffi') as Koffi);
  return koffi;
}

/**
 * koffi's own loader probes the platform (it reads Node's ELF headers to tell glibc from musl) and
 * wraps deprecated aliases: 7-10 ms of every short process's life (a CNI ADD or DEL), measured,
 * against 2 ms for loading the native module itself. On glibc Linux, load the native module of the
 * koffi that `require` would find, where npm puts it, when its version is that koffi's; anything
 * else (another layout, musl, a mismatch) goes through koffi's loader. Found through the
 * node_modules search path, not require.resolve: koffi's package exports cost 7 ms to resolve.
 */
function nativeModule(require: NodeJS.Require): Koffi | undefined {
  if (process.platform !== 'linux' || !onGlibc()) return undefined;
  const platform = join('@koromix', `koffi-linux-${process.arch}`, `linux_${process.arch}`, 'koffi.node');
  for (const dir of require.resolve.paths('koffi') ?? []) {
    const pkg = join(dir, 'koffi', 'package.json');
    if (!existsSync(pkg)) continue;
    try {
      const { version } = JSON.parse(readFileSync(pkg, 'utf8')) as { version: string };
      const file = [join(dir, 'koffi', 'node_modules', platform), join(dir, platform)].find((f) => existsSync(f));
      const native = file === undefined ? undefined : (require(file) as Koffi & { version?: string });
      return native?.version === version ? native : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Whether this Node runs on glibc (koffi ships a build per C library): its maps name glibc's libc.so.6. */
function onGlibc(): boolean {
  try {
    return /\/libc\.so\.6$/m.test(readFileSync('/proc/self/maps', 'utf8'));
  } catch {
    return false;
  }
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
