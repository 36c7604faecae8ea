// Whole-file writes that readers never see half done: write a temp file, then rename over.
import { readFileSync, renameSync, writeFileSync, rmSync } from 'node:fs';
import { TsnetError } from '../errors.js';

export function writeFileAtomic(path: string, data: string, mode = 0o644): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, data, { mode });
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

/** Reads a JSON state file; undefined when absent; a TSNET_STATE error naming the file when corrupt. */
export function readJson<T>(path: string, check: (v: unknown) => v is T): T | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw new TsnetError('TSNET_STATE', `cannot read state file ${path}: ${code ?? (err as Error).message}`, {
      hint: code === 'EACCES' ? 'run tsnet as root' : 'check the state root (--root / TSNET_ROOT)',
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  if (!check(value)) {
    throw new TsnetError('TSNET_STATE', `state file ${path} is corrupt`, {
      hint: 'run `tsnet prune` to remove what it describes',
    });
  }
  return value;
}
