import type { Deps } from '../deps.js';

/** What command modules get from the CLI: lazily built deps and the two output helpers. */
export interface CliContext {
  deps(): Promise<Deps>;
  print(text: string): void;
  printJson(value: unknown): void;
  /** End the process now (long-running commands whose work is done). */
  exit(code: number): never;
}
