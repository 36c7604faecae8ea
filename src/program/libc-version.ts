// The version a C library carries in its own bytes: glibc's banner ("GNU C Library (...) stable
// release version 2.36."), musl's version string beside "musl libc (ARCH)". PURE over a
// ByteSource; reads at most SCAN bytes of a file a container controls.
import type { ByteSource } from './source.js';

const SCAN = 16 << 20;
const CHUNK = 1 << 20;

/** Calls `visit` with overlapping chunks until it returns a value or the budget is spent. */
function scan<T>(src: ByteSource, overlap: number, visit: (chunk: Buffer) => T | undefined): T | undefined {
  for (let off = 0; off < Math.min(src.size, SCAN); off += CHUNK) {
    const found = visit(src.read(off, CHUNK + overlap));
    if (found !== undefined) return found;
  }
  return undefined;
}

export function glibcVersion(src: ByteSource): string | undefined {
  return scan(src, 256, (chunk) => {
    const at = chunk.indexOf('GNU C Library');
    if (at < 0) return undefined;
    const line = chunk.subarray(at, at + 256).toString('latin1').split(/[\n\0]/)[0]!;
    return /release version (\d+\.\d+(?:\.\d+)?)/.exec(line)?.[1];
  });
}

/** musl keeps its version (src/internal/version.c) as a lone "1.2.3" string; taken only when exactly one candidate exists. */
export function muslVersion(src: ByteSource): string | undefined {
  const isMusl = scan(src, 32, (chunk) => (chunk.includes('musl libc (') ? true : undefined));
  if (!isMusl) return undefined;
  const candidates = new Set<string>();
  scan(src, 16, (chunk) => {
    for (const m of chunk.toString('latin1').matchAll(/\0(\d{1,2}\.\d{1,3}\.\d{1,3})\0/g)) candidates.add(m[1]!);
    return candidates.size > 1 ? true : undefined;
  });
  return candidates.size === 1 ? [...candidates][0] : undefined;
}
