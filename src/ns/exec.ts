// Running a command inside a container, like `ip netns exec`: this process's main thread joins the
// container's network and UTS namespaces, takes a private mount namespace, bind-mounts the
// container's files over /etc/*, and spawns the command (a child inherits the forking thread's
// namespaces). The caller must exit afterwards: this thread never returns to the host namespaces.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as native from '../../native/index.js';
import { enterForGood } from './enter.js';

export interface ExecTarget {
  netns: string;
  utsns: string;
  /** container file → path it shadows, e.g. [.../etc/hosts, /etc/hosts] */
  binds: Array<[string, string]>;
}

export function enterForExec(target: ExecTarget): string[] {
  enterForGood(target.netns, 'net');
  enterForGood(target.utsns, 'uts');
  native.unshare(native.CLONE_NEWNS);
  // Private, so the binds below never propagate back to the host's mount namespace.
  native.mount(null, '/', null, native.MS_REC | native.MS_PRIVATE);
  const skipped: string[] = [];
  for (const [source, dest] of target.binds) {
    if (!existsSync(dest)) {
      skipped.push(dest);
      continue;
    }
    native.mount(source, dest, null, native.MS_BIND);
  }
  return skipped;
}

export type ExecResult = { code: number } | { signal: NodeJS.Signals };

const FORWARDED: NodeJS.Signals[] = ['SIGTERM', 'SIGHUP', 'SIGUSR1', 'SIGUSR2', 'SIGINT', 'SIGQUIT'];

/** Spawns argv with inherited stdio, forwards signals to it, resolves with how it ended. */
export function runChild(argv: string[]): Promise<ExecResult> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: 'inherit' });
    const handlers = new Map<NodeJS.Signals, () => void>();
    for (const sig of FORWARDED) {
      // A terminal already sends ^C / ^\ to the whole foreground group, child included.
      const fromTty = (sig === 'SIGINT' || sig === 'SIGQUIT') && process.stdin.isTTY;
      const h = () => {
        if (!fromTty) child.kill(sig);
      };
      handlers.set(sig, h);
      process.on(sig, h);
    }
    const done = (r: ExecResult) => {
      for (const [sig, h] of handlers) process.off(sig, h);
      resolve(r);
    };
    child.on('error', (err: NodeJS.ErrnoException) => {
      process.stderr.write(`tsnet exec: ${argv[0]}: ${err.code === 'ENOENT' ? 'command not found' : err.message}\n`);
      done({ code: err.code === 'ENOENT' ? 127 : 126 });
    });
    child.on('exit', (code, signal) => done(signal ? { signal } : { code: code ?? 0 }));
  });
}
