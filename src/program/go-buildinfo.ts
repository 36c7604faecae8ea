// A Go binary's embedded build information (what `go version -m` prints): the Go version and the
// build settings that decide its resolver — CGO_ENABLED and the netgo tag. Format as Go's
// debug/buildinfo reads it: a 32-byte header "\xff Go buildinf:" + pointer size + flags, then
// either two varint-prefixed strings (flags & 2, Go >= 1.18) or two pointers to Go string
// headers (older). PURE over a ByteSource; the file may be hostile: every length is bounded.
import { fileOffset, PF_W, PT_LOAD, type ElfInfo } from './elf.js';
import { MalformedFile, type ByteSource } from './source.js';

export interface GoBuildInfo {
  /** "go1.19.8"; undefined when the binary is Go but carries no readable version */
  version: string | undefined;
  /** the main package's path ("path" line) */
  path: string | undefined;
  /** "build" lines: -tags, CGO_ENABLED, GOOS, ... */
  settings: Map<string, string>;
}

const MAGIC = Buffer.from('\xff Go buildinf:', 'latin1');
const HEADER = 32;
const MAX_STRING = 1 << 20;
/** How much of the writable segments is searched when the section headers are gone (stripped). */
const SCAN_BUDGET = 64 << 20;

/** Whether the ELF file is a Go program at all (sections Go's linker always writes). */
export function isGoBinary(elf: ElfInfo): boolean {
  return elf.sections.some((s) => s.name === '.go.buildinfo' || s.name === '.note.go.buildid' || s.name === '.gopclntab');
}

/** The build information, or undefined when there is none to find. */
export function readGoBuildInfo(src: ByteSource, elf: ElfInfo): GoBuildInfo | undefined {
  const at = findHeader(src, elf);
  if (at === undefined) return undefined;
  const head = src.read(at, HEADER);
  if (head.length < HEADER) throw new MalformedFile('Go build info header cut short');
  const ptrSize = head[14]!;
  const flags = head[15]!;
  let version: string | undefined;
  let modinfo: Buffer | undefined;
  if (flags & 2) {
    const [v, next] = varintString(src, at + HEADER);
    version = v.toString('utf8');
    [modinfo] = varintString(src, next);
  } else {
    if (ptrSize !== 4 && ptrSize !== 8) throw new MalformedFile(`Go build info pointer size ${ptrSize}`);
    const big = (flags & 1) !== 0;
    version = pointedString(src, elf, head, 16, ptrSize, big)?.toString('utf8');
    modinfo = pointedString(src, elf, head, 16 + ptrSize, ptrSize, big);
  }
  return { version: version || undefined, ...parseModinfo(modinfo ?? Buffer.alloc(0)) };
}

function findHeader(src: ByteSource, elf: ElfInfo): number | undefined {
  const section = elf.sections.find((s) => s.name === '.go.buildinfo');
  if (section) return src.read(section.offset, MAGIC.length).equals(MAGIC) ? section.offset : undefined;
  // No section headers: debug/buildinfo searches the writable data for the magic, 16-byte aligned.
  let budget = SCAN_BUDGET;
  for (const seg of elf.segments.filter((s) => s.type === PT_LOAD && (s.flags & PF_W) !== 0)) {
    for (let off = 0; off < seg.filesz && budget > 0; off += 1 << 20) {
      const chunk = src.read(seg.offset + off, Math.min(1 << 20, seg.filesz - off) + MAGIC.length);
      budget -= chunk.length;
      for (let i = chunk.indexOf(MAGIC); i >= 0; i = chunk.indexOf(MAGIC, i + 1)) {
        if ((off + i) % 16 === 0) return seg.offset + off + i;
      }
    }
  }
  return undefined;
}

/** A uvarint-length-prefixed string at `off`; returns its bytes and the offset after it. */
function varintString(src: ByteSource, off: number): [Buffer, number] {
  const b = src.read(off, 10);
  let len = 0;
  let shift = 0;
  let i = 0;
  for (;; i++) {
    if (i >= b.length || i > 4) throw new MalformedFile('Go build info: a bad length');
    len += (b[i]! & 0x7f) * 2 ** shift;
    shift += 7;
    if ((b[i]! & 0x80) === 0) break;
  }
  if (len > MAX_STRING) throw new MalformedFile(`Go build info: a ${len}-byte string`);
  const s = src.read(off + i + 1, len);
  if (s.length !== len) throw new MalformedFile('Go build info cut short');
  return [s, off + i + 1 + len];
}

/** Go < 1.18: a pointer (virtual address) to a string header {data pointer, length}. */
function pointedString(src: ByteSource, elf: ElfInfo, head: Buffer, at: number, ptrSize: number, big: boolean): Buffer | undefined {
  const ptr = (b: Buffer, o: number) => (ptrSize === 8 ? Number(big ? b.readBigUInt64BE(o) : b.readBigUInt64LE(o)) : big ? b.readUInt32BE(o) : b.readUInt32LE(o));
  const hdrOff = fileOffset(elf.segments, ptr(head, at));
  if (hdrOff === undefined) return undefined;
  const hdr = src.read(hdrOff, 2 * ptrSize);
  if (hdr.length < 2 * ptrSize) return undefined;
  const dataOff = fileOffset(elf.segments, ptr(hdr, 0));
  const len = ptr(hdr, ptrSize);
  if (dataOff === undefined || len > MAX_STRING) return undefined;
  return src.read(dataOff, len);
}

/**
 * modinfo: since Go 1.18 framed by 16 bytes of sentinel on each side; lines "path\tP",
 * "mod\t...", "dep\t...", "build\tKEY=VALUE".
 */
export function parseModinfo(raw: Buffer): { path: string | undefined; settings: Map<string, string> } {
  const body = (raw.length >= 33 && raw[raw.length - 17] === 0x0a ? raw.subarray(16, -16) : raw).toString('utf8');
  const settings = new Map<string, string>();
  let path: string | undefined;
  for (const line of body.split('\n')) {
    const tab = line.indexOf('\t');
    if (tab < 0) continue;
    const [kind, rest] = [line.slice(0, tab), line.slice(tab + 1)];
    if (kind === 'path') path = rest;
    else if (kind === 'build') {
      const eq = rest.indexOf('=');
      if (eq > 0) settings.set(rest.slice(0, eq), rest.slice(eq + 1));
    }
  }
  return { path, settings };
}
