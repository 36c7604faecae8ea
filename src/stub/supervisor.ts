// The stub's supervisor: a shell loop that runs the daemon and starts it again when it dies of
// anything but a clean stop (SIGKILL, the OOM killer, a crash), so containers are served again
// within a second without any tsnet command being run. A shell, not a second Node process: it
// costs ~1 MB instead of ~40 MB and has nothing in it that can crash.
//
// Exit statuses of the daemon: 0 = stopped on purpose (no stub-mode container left, SIGTERM);
// 2 = will not run (another daemon holds the lock, bad state root): retrying cannot help. Anything
// else is a death, and the daemon is restarted with --restarted-after <status> so that it records
// the restart for `tsnet stub status`. A daemon that keeps dying within 10 s of its start is given
// up after 5 tries (the next create starts a fresh supervisor).
//
// V8's heap for the daemon: a 2 MiB young generation (short-lived query objects die there) and
// an old generation sized for at most 256 MiB — V8 then grows it in smaller steps and collects
// it sooner. Measured forwarding 17k queries/s on one core: 94 MiB RSS with V8's defaults, 76 MiB
// with the cap, at the same speed. The daemon's live heap is 10-20 MiB (a TCP flood's memory is
// Buffers, outside this heap); one that reached the cap would abort and be restarted here.

export const GIVE_UP_AFTER = 5;

export const SUPERVISOR_SCRIPT = `
fast=0; after=
while :; do
  start=$(date +%s)
  "$TSNET_STUB_NODE" --max-semi-space-size=2 --max-old-space-size=256 "$TSNET_STUB_CLI" --root "$TSNET_STUB_ROOT" stub daemon \${after:+--restarted-after "$after"}
  rc=$?
  case $rc in 0|2) exit $rc ;; esac
  if [ $(( $(date +%s) - start )) -lt 10 ]; then fast=$((fast + 1)); else fast=0; fi
  if [ $fast -ge ${GIVE_UP_AFTER} ]; then echo "stub supervisor: the daemon died $fast times within 10 s of starting (last status $rc); giving up" >&2; exit $rc; fi
  echo "stub supervisor: the daemon died (status $rc); restarting" >&2
  after=$rc
done
`;

/** What a daemon's exit status says about how it died (the shell's 128+N for signal N). */
export function describeExit(status: number): string {
  if (status > 128 && status < 128 + 65) {
    const name = SIGNALS[status - 128];
    return name ? `killed by ${name}` : `killed by signal ${status - 128}`;
  }
  return `exited with status ${status}`;
}

const SIGNALS: Record<number, string> = { 1: 'SIGHUP', 2: 'SIGINT', 3: 'SIGQUIT', 4: 'SIGILL', 6: 'SIGABRT', 7: 'SIGBUS', 8: 'SIGFPE', 9: 'SIGKILL', 11: 'SIGSEGV', 13: 'SIGPIPE', 15: 'SIGTERM' };

export interface Restart {
  at: string;
  why: string;
}

/** The restart history a daemon keeps in <root>/stub/restarts.json: newest last, at most 20. */
export function recordRestart(history: Restart[], at: string, status: number): Restart[] {
  return [...history, { at, why: describeExit(status) }].slice(-20);
}
