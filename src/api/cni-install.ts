// `tsnet cni install`: an executable named "tsnet" in the runtime's plugin directory that runs
// this tsnet's plugin entry point. It never replaces a file it did not write (a marker line
// tells), and it is written whole (a temporary file renamed over), so a runtime never runs half
// of it.
import { chmodSync, existsSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TsnetError } from '../errors.js';
import { builtEntry } from '../built.js';
import { requireRoot } from './privileges.js';

const MARKER = '# tsnet-cni-plugin: written by `tsnet cni install`';

/** Single-quoted for sh: the paths are the machine's, but a quote in one must not break the script. */
const shQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** `entry`: the plugin's own bundle (dist/cni-plugin.cjs), not the CLI: it starts faster. */
export function pluginScript(node: string, entry: string): string {
  return `#!/bin/sh\n${MARKER}; \`tsnet cni uninstall\` removes it\nexec ${shQuote(node)} ${shQuote(entry)}\n`;
}

const ours = (path: string) => {
  try {
    return readFileSync(path, 'utf8').split('\n')[1]?.startsWith(MARKER) === true;
  } catch {
    return false;
  }
};

function checkDir(dir: string): void {
  if (!dir.startsWith('/')) throw new TsnetError('TSNET_USAGE', `--bin-dir ${JSON.stringify(dir)} is not an absolute path`);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new TsnetError('TSNET_NOT_FOUND', `plugin directory ${dir} does not exist`, { hint: 'create it, or give the runtime\'s directory with --bin-dir' });
  }
}

/** Installs (or updates its own) DIR/tsnet; returns its path. */
export function installPlugin(dir: string, entry = builtEntry('cni-plugin.cjs'), node = process.execPath): string {
  requireRoot('cni install');
  checkDir(dir);
  const target = join(dir, 'tsnet');
  if (existsSync(target) && !ours(target)) {
    throw new TsnetError('TSNET_CONFLICT', `${target} exists and was not written by tsnet`, { hint: 'tsnet never replaces another plugin: remove it yourself, or install into another --bin-dir' });
  }
  const tmp = `${target}.tsnet-${process.pid}`;
  try {
    writeFileSync(tmp, pluginScript(realpathSync(node), realpathSync(entry)), { mode: 0o755 });
    chmodSync(tmp, 0o755);
    renameSync(tmp, target);
  } finally {
    rmSync(tmp, { force: true });
  }
  return target;
}

/** Removes DIR/tsnet if tsnet wrote it; returns what happened. */
export function uninstallPlugin(dir: string): string {
  requireRoot('cni uninstall');
  checkDir(dir);
  const target = join(dir, 'tsnet');
  if (!existsSync(target)) return `${target}: not installed`;
  if (!ours(target)) throw new TsnetError('TSNET_CONFLICT', `${target} was not written by tsnet: left as it is`);
  rmSync(target);
  return `${target}: removed`;
}
