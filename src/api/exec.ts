import { TsnetError, wrap } from '../errors.js';
import { enterForExec, runChild, type ExecResult } from '../ns/exec.js';
import { findContainer } from '../state/lookup.js';
import { requireRoot } from './privileges.js';
import type { Deps } from '../deps.js';

/** tsnet exec: runs argv in the container. The process must exit afterwards (see ns/exec.ts). */
export async function execInContainer(ref: string, argv: string[], deps: Deps): Promise<ExecResult> {
  if (argv.length === 0) throw new TsnetError('TSNET_USAGE', 'no command given', { hint: 'usage: tsnet exec NAME -- COMMAND [ARGS...]' });
  requireRoot('exec');
  const record = findContainer(deps.paths, ref);
  if (record.status !== 'running') {
    throw new TsnetError('TSNET_USAGE', `container "${record.name}" is ${record.status}, not running`, {
      hint: 'wait for it, or clean it up with `tsnet prune`',
    });
  }
  if (record.cni) {
    // The runtime's container has its own root filesystem and /etc files; tsnet has only its network.
    throw new TsnetError('TSNET_USAGE', `container "${record.name}" is a CNI attachment of runtime container ${record.cni.containerId}: tsnet did not make its namespaces`, {
      hint: 'run commands in it with its runtime (podman exec, ctr task exec); `tsnet diagnose` and `tsnet stub logs` work on it',
    });
  }
  let skipped: string[];
  try {
    skipped = enterForExec({
      netns: record.namespaces.net,
      utsns: record.namespaces.uts,
      binds: [
        [record.files.resolvConf, '/etc/resolv.conf'],
        [record.files.hosts, '/etc/hosts'],
        [record.files.nsswitch, '/etc/nsswitch.conf'],
        [record.files.hostname, '/etc/hostname'],
      ],
    });
  } catch (err) {
    throw wrap(`enter container "${record.name}"`, err);
  }
  if (skipped.length > 0) deps.log.warn({ skipped }, 'host has no such file to shadow; the container file is not visible there');
  return runChild(argv);
}
