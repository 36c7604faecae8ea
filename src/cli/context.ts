import type { Deps } from '../deps.js';
import { safeJson } from './escape.js';

/** What command modules get from the CLI: lazily built deps and the two output helpers. */
export interface CliContext {
  deps(): Promise<Deps>;
  print(text: string): void;
  /** prints jsonText(value) */
  printJson(value: unknown): void;
  /** End the process now (long-running commands whose work is done). */
  exit(code: number): never;
}

/**
 * The text printJson writes: JSON with two-space indentation and a final newline, DEL, C1 and bidi
 * controls as \u escapes as well as C0 (render.ts's safeJson): the same JSON value, and a name a
 * container asked for cannot drive the terminal of whoever reads the output.
 */
export function jsonText(value: unknown): string {
  return `${safeJson(String(JSON.stringify(value, null, 2)))}\n`;
}
