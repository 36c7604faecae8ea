// Whole-file writes that readers never see half done: write a temp file, then rename over.
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { TsnetError } from '../errors.js';

/**
 * mkdir -p whose new directories get exactly `mode` (the caller's umask does not apply); existing
 * ones are left as they are.
 */
export function makeDirs(path: string, mode: number): void {
  const first = mkdirSync(path, { recursive: true, mode });
  if (first === undefined) return;
  for (let p = path; p.length >= first.length; p = dirname(p)) chmodSync(p, mode);
}

export function writeFileAtomic(path: string, data: string, mode = 0o644): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, data, { mode });
    chmodSync(tmp, mode); // the mode asked for, not what the caller's umask leaves of it
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

export function writeJsonAtomic(path: string, value: unknown, mode = 0o644): void {
  writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n', mode);
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
