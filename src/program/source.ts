// Random access to a file a container controls (its executable, a library it maps): every read is
// bounded by the caller, and a short read (EOF, a file that shrank) is the caller's to handle.

export interface ByteSource {
  /** the file's size when it was opened */
  readonly size: number;
  /** up to `length` bytes from `offset` (fewer at the end of the file; none past it) */
  read(offset: number, length: number): Buffer;
}

/** A source over bytes already in memory (tests, small files). */
export function bufferSource(bytes: Buffer): ByteSource {
  return {
    size: bytes.length,
    read: (offset, length) => (offset >= bytes.length || offset < 0 ? Buffer.alloc(0) : bytes.subarray(offset, Math.min(bytes.length, offset + length))),
  };
}

/** Thrown for a file that is not what its headers say (truncated, offsets out of range, loops). */
export class MalformedFile extends Error {}
