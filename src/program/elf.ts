// What an ELF file says about how it runs: its interpreter (the dynamic loader: glibc's or musl's),
// the libraries it needs, its sections and segments. PURE over a ByteSource; the file may be
// hostile (it comes from a container), so every count, offset and string is bounded and checked.
import { MalformedFile, type ByteSource } from './source.js';

export interface ElfSegment {
  type: number;
  flags: number;
  offset: number;
  vaddr: number;
  filesz: number;
}

export interface ElfSection {
  name: string;
  type: number;
  offset: number;
  addr: number;
  size: number;
}

export interface ElfInfo {
  bits: 32 | 64;
  littleEndian: boolean;
  /** ET_EXEC 2, ET_DYN 3 (PIE executables and shared libraries) */
  type: number;
  machine: number;
  /** PT_INTERP: the dynamic loader; undefined for a static binary */
  interpreter: string | undefined;
  /** DT_NEEDED entries, in order */
  needed: string[];
  segments: ElfSegment[];
  sections: ElfSection[];
}

export const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
export const PF_W = 2;
const DT_NEEDED = 1;
const DT_STRTAB = 5;
const DT_STRSZ = 10;

const LIMITS = { headers: 4096, sections: 65_536, path: 4096, dynamic: 65_536, needed: 256, name: 255 };

/** Readers for one file's class and byte order. */
function fieldReader(bytes: Buffer, little: boolean, bits: 32 | 64) {
  const u16 = (at: number) => (little ? bytes.readUInt16LE(at) : bytes.readUInt16BE(at));
  const u32 = (at: number) => (little ? bytes.readUInt32LE(at) : bytes.readUInt32BE(at));
  const u64 = (at: number) => {
    const v = little ? bytes.readBigUInt64LE(at) : bytes.readBigUInt64BE(at);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new MalformedFile('a 64-bit field out of range');
    return Number(v);
  };
  return { u16, u32, addr: bits === 64 ? u64 : u32 };
}

function exactly(src: ByteSource, offset: number, length: number, what: string): Buffer {
  if (offset < 0 || length < 0 || offset + length > src.size) throw new MalformedFile(`${what} lies outside the file`);
  const b = src.read(offset, length);
  if (b.length !== length) throw new MalformedFile(`${what}: the file is shorter than its headers say`);
  return b;
}

/** A NUL-terminated string of at most `max` bytes at `offset` (undefined when it has no end). */
function cString(src: ByteSource, offset: number, max: number): string | undefined {
  const b = src.read(offset, max + 1);
  const end = b.indexOf(0);
  return end < 0 ? undefined : b.subarray(0, end).toString('latin1');
}

/** Reads an ELF file's headers; undefined when it is not ELF at all, MalformedFile when it is broken. */
export function readElf(src: ByteSource): ElfInfo | undefined {
  const ident = src.read(0, 64);
  if (ident.length < 16 || ident.readUInt32BE(0) !== 0x7f454c46) return undefined;
  const bits = ident[4] === 1 ? 32 : ident[4] === 2 ? 64 : undefined;
  const little = ident[5] === 1 ? true : ident[5] === 2 ? false : undefined;
  if (bits === undefined || little === undefined) throw new MalformedFile('unknown ELF class or byte order');
  const head = exactly(src, 0, bits === 64 ? 64 : 52, 'the ELF header');
  const f = fieldReader(head, little, bits);
  const at = bits === 64 ? { phoff: 32, shoff: 40, phentsize: 54, phnum: 56, shentsize: 58, shnum: 60, shstrndx: 62 } : { phoff: 28, shoff: 32, phentsize: 42, phnum: 44, shentsize: 46, shnum: 48, shstrndx: 50 };
  const segments = readSegments(src, f.addr(at.phoff), f.u16(at.phentsize), f.u16(at.phnum), little, bits);
  const sections = readSections(src, f.addr(at.shoff), f.u16(at.shentsize), f.u16(at.shnum), f.u16(at.shstrndx), little, bits);
  const interp = segments.find((s) => s.type === PT_INTERP);
  let interpreter: string | undefined;
  if (interp) {
    interpreter = cString(src, interp.offset, Math.min(interp.filesz, LIMITS.path));
    if (interpreter === undefined) throw new MalformedFile('PT_INTERP is not a string');
  }
  return {
    bits,
    littleEndian: little,
    type: f.u16(16),
    machine: f.u16(18),
    interpreter,
    needed: readNeeded(src, segments, little, bits),
    segments,
    sections,
  };
}

function readSegments(src: ByteSource, off: number, entsize: number, count: number, little: boolean, bits: 32 | 64): ElfSegment[] {
  if (count === 0) return [];
  if (count > LIMITS.headers) throw new MalformedFile(`${count} program headers`);
  if (entsize < (bits === 64 ? 56 : 32)) throw new MalformedFile('program headers too small');
  const table = exactly(src, off, entsize * count, 'the program headers');
  const out: ElfSegment[] = [];
  for (let i = 0; i < count; i++) {
    const b = table.subarray(i * entsize, (i + 1) * entsize);
    const f = fieldReader(b, little, bits);
    out.push(
      bits === 64
        ? { type: f.u32(0), flags: f.u32(4), offset: f.addr(8), vaddr: f.addr(16), filesz: f.addr(32) }
        : { type: f.u32(0), flags: f.u32(24), offset: f.u32(4), vaddr: f.u32(8), filesz: f.u32(16) },
    );
  }
  return out;
}

function readSections(src: ByteSource, off: number, entsize: number, count: number, strndx: number, little: boolean, bits: 32 | 64): ElfSection[] {
  if (off === 0) return [];
  if (entsize < (bits === 64 ? 64 : 40)) throw new MalformedFile('section headers too small');
  const parse = (b: Buffer) => {
    const f = fieldReader(b, little, bits);
    return bits === 64
      ? { name: f.u32(0), type: f.u32(4), addr: f.addr(16), offset: f.addr(24), size: f.addr(32), link: f.u32(40) }
      : { name: f.u32(0), type: f.u32(4), addr: f.u32(12), offset: f.u32(16), size: f.u32(20), link: f.u32(24) };
  };
  // Extended numbering (ELF gABI): 0 sections / SHN_XINDEX mean "see section 0".
  const zero = parse(exactly(src, off, entsize, 'a section header'));
  const n = count === 0 ? zero.size : count;
  const names = strndx === 0xffff ? zero.link : strndx;
  if (n > LIMITS.sections) throw new MalformedFile(`${n} sections`);
  const table = exactly(src, off, entsize * n, 'the section headers');
  const raw = Array.from({ length: n }, (_, i) => parse(table.subarray(i * entsize, (i + 1) * entsize)));
  const strtab = raw[names];
  const SHT_NOBITS = 8;
  return raw.map((s) => ({
    name: strtab && strtab.type !== SHT_NOBITS ? sectionName(src, strtab, s.name) : '',
    type: s.type,
    offset: s.offset,
    addr: s.addr,
    size: s.size,
  }));
}

function sectionName(src: ByteSource, strtab: { offset: number; size: number }, at: number): string {
  if (at >= strtab.size) return '';
  return cString(src, strtab.offset + at, Math.min(LIMITS.name, strtab.size - at - 1)) ?? '';
}

/** The file offset of a virtual address, through the PT_LOAD segments (undefined: not in the file). */
export function fileOffset(segments: ElfSegment[], vaddr: number): number | undefined {
  const seg = segments.find((s) => s.type === PT_LOAD && vaddr >= s.vaddr && vaddr < s.vaddr + s.filesz);
  return seg ? seg.offset + (vaddr - seg.vaddr) : undefined;
}

function readNeeded(src: ByteSource, segments: ElfSegment[], little: boolean, bits: 32 | 64): string[] {
  const dyn = segments.find((s) => s.type === PT_DYNAMIC);
  if (!dyn) return [];
  const size = bits === 64 ? 16 : 8;
  const count = Math.min(Math.floor(dyn.filesz / size), LIMITS.dynamic);
  const table = exactly(src, dyn.offset, count * size, 'the dynamic section');
  const f = fieldReader(table, little, bits);
  const needed: number[] = [];
  let strtab: number | undefined;
  let strsz = 0;
  for (let i = 0; i < count; i++) {
    const tag = f.addr(i * size);
    const val = f.addr(i * size + size / 2);
    if (tag === 0) break;
    if (tag === DT_NEEDED && needed.length < LIMITS.needed) needed.push(val);
    else if (tag === DT_STRTAB) strtab = val;
    else if (tag === DT_STRSZ) strsz = val;
  }
  const base = strtab === undefined ? undefined : fileOffset(segments, strtab);
  if (base === undefined) return [];
  return needed.flatMap((at) => {
    if (at >= strsz) return [];
    const s = cString(src, base + at, Math.min(LIMITS.path, strsz - at - 1));
    return s === undefined ? [] : [s];
  });
}
