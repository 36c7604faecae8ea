// Terminal safety for everything tsnet prints: names and lines a container (or a hostile packet)
// supplied must show as text, never act on the reader's terminal. Pure.

/** Each byte of the character's UTF-8 as \DDD (decimal), as dig and RFC 1035 §5.1 write it. */
const decimalBytes = (c: string) => [...Buffer.from(c, 'utf8')].map((b) => `\\${String(b).padStart(3, '0')}`).join('');

/**
 * A DNS name as dig prints it (presentation format): printable ASCII as it is, every other byte
 * (controls, space, DEL, all of UTF-8 beyond ASCII) and the backslash as \DDD. Query names come
 * from the network byte for byte: printed raw, ESC or CSI in one would drive the reader's terminal.
 */
export function presentName(name: string): string {
  return name.replace(/[^\x21-\x5b\x5d-\x7e]/gu, decimalBytes);
}

/**
 * What a terminal would act on instead of showing: C0 controls (line breaks too: one line of
 * output stays one line), DEL, C1 controls and the bidirectional overrides and isolates.
 */
const TERMINAL_CONTROLS = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;

/** One line of human output with every terminal control in it written as \DDD. */
export function safeLine(line: string): string {
  return line.replace(TERMINAL_CONTROLS, decimalBytes);
}

/** A JSON text with DEL, C1 and bidi controls as \u escapes: the same JSON value, inert on a terminal (JSON.stringify escapes only C0). */
export function safeJson(json: string): string {
  return json.replace(TERMINAL_CONTROLS, (c) => (c < ' ' ? c : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}
