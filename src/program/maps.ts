// /proc/PID/maps: which files a process has mapped — its libc, its loader, the native modules of
// its runtime (libnode, greenlet). PURE; the text comes from the kernel but names files a container
// controls, so lines and paths are bounded.

export interface Mapping {
  /** the first range this file is mapped at ("start-end", as /proc/PID/map_files names it) */
  range: string;
  path: string;
}

const MAX_LINES = 65_536;
const LINE = /^([0-9a-f]+-[0-9a-f]+)\s+\S+\s+\S+\s+\S+\s+\d+\s+(\/.*)$/;

/** Every mapped file once, in the order first seen; "(deleted)" files keep their old path. */
export function mappedFiles(text: string): Mapping[] {
  const seen = new Map<string, Mapping>();
  const lines = text.split('\n', MAX_LINES);
  for (const line of lines) {
    const m = LINE.exec(line);
    if (!m) continue;
    const path = m[2]!.replace(/ \(deleted\)$/, '').slice(0, 4096);
    if (!seen.has(path)) seen.set(path, { range: m[1]!, path });
  }
  return [...seen.values()];
}

const base = (path: string) => path.slice(path.lastIndexOf('/') + 1);

/** The C library mapped: glibc's libc.so.6 (or libc-2.x.so) or musl's loader-and-libc. */
export function mappedLibc(maps: Mapping[]): { kind: 'glibc' | 'musl'; mapping: Mapping } | undefined {
  for (const m of maps) {
    const b = base(m.path);
    if (/^libc\.so\.6$|^libc-2\.\d+\.so$/.test(b)) return { kind: 'glibc', mapping: m };
    if (/^ld-musl-[\w-]+\.so\.1$|^libc\.musl-[\w-]+\.so\.1$/.test(b) || /musl[^/]*\/libc\.so$/.test(m.path)) return { kind: 'musl', mapping: m };
  }
  return undefined;
}

/** A mapped file whose name matches. */
export const mapped = (maps: Mapping[], pattern: RegExp): Mapping | undefined => maps.find((m) => pattern.test(base(m.path)));
