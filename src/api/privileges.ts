import { TsnetError } from '../errors.js';

export function requireRoot(command: string): void {
  if (process.getuid?.() !== 0) {
    throw new TsnetError('TSNET_NOT_ROOT', `tsnet ${command} needs root (it creates namespaces, links and mounts)`, {
      hint: `run it as root: sudo tsnet ${command} ...`,
    });
  }
}
