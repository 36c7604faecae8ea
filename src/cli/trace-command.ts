// tsnet trace: options and help; the capture and analysis are in src/trace/, the text in ./trace-render.ts.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Command as Commander } from 'commander';
import type { CliContext } from './context.js';
import { addEngineOptions, engineOptions, TARGET_HELP, type EngineCliOptions } from './engine-options.js';

interface TraceCliOptions extends EngineCliOptions {
  pid?: string;
  duration?: string;
  port?: string[];
  maxRecords?: string;
  json?: boolean;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerTraceCommand(program: Commander, ctx: CliContext): void {
  const command = program
    .command('trace')
    .description(
      'watch what a target\'s own resolver sends: its DNS captured inside its network namespace (nothing changed there), grouped into lookups, ' +
        'timed per attempt, and matched against each library\'s strategy (glibc, glibc with single-request(-reopen) or use-vc, musl, eventlet). ' +
        'Ends after --duration, when the traced command exits, or on Ctrl-C (with a report of what was seen so far). ' +
        'Exit: 0 traced, 2 usage, 3 target not found or not reachable',
    )
    .argument('[target]', `what to watch: ${TARGET_HELP} (or use --pid)`)
    .argument('[command...]', 'for a tsnet container: run this command in it (tsnet exec; put -- before it) and trace until it exits; its output goes to stderr')
    .option('--pid <pid>', 'watch any process\'s network namespace')
    .option('--duration <seconds>', 'stop after this long (default: until the command exits, or Ctrl-C)')
    .option('--port <port>', 'a DNS server port to watch besides 53 (repeatable)', collect)
    .option('--max-records <n>', 'records kept at most (a UDP packet is one, a TCP segment may hold several DNS messages); packets past it are counted as overflow, not decoded', '200000')
    .option('--json', 'print the report as JSON');
  addEngineOptions(command).action(async (ref: string | undefined, argv: string[], o: TraceCliOptions) => {
    const { cmd, durationMs, ports, maxRecords } = await parseArgs(ref, argv, o);
    const engines = engineOptions(o);
    const { containerTarget, pidTarget } = await import('../engines/target-view.js');
    const deps = { ...(await ctx.deps()), engines };
    if (ref === undefined) {
      const { checkEngineOptions } = await import('../engines/ref.js');
      checkEngineOptions(undefined, engines);
    }
    const target = ref === undefined ? pidTarget(o.pid!) : containerTarget(deps, ref);
    if (cmd.length > 0 && target.record === undefined) throw (await usageError())(`a command can be run and traced only in a tsnet container; ${target.label} is not one`, 'run it there yourself and use --duration');
    const { runTrace } = await import('../trace/trace.js');
    // loaded now: the command must start the moment the capture is open (node:child_process is
    // imported statically: the CLI's CommonJS bundle runs no import() of a builtin)
    const { builtEntry } = await import('../built.js');
    const exec = () => spawn(process.execPath, [builtEntry('tsnet.js'), '--root', deps.paths.root, 'exec', target.record!.name, '--', ...cmd], { stdio: ['ignore', process.stderr, 'inherit'] });
    const abort = new AbortController();
    let command: Command | undefined;
    // Stopping the trace stops the traced command too (tsnet exec forwards the signal to it).
    const stop = () => {
      abort.abort();
      void command?.stop();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    let report: Awaited<ReturnType<typeof runTrace>>;
    let exit: number | null | undefined;
    try {
      report = await runTrace(target, {
        ports,
        durationMs,
        maxRecords,
        signal: abort.signal,
        start: () => {
          if (cmd.length > 0) return (command = watch(exec())).done;
          process.stderr.write(`tracing ${target.label}… (${durationMs === undefined ? 'Ctrl-C to stop' : `for ${durationMs / 1000} s, Ctrl-C to stop sooner`})\n`);
          return undefined;
        },
      });
    } finally {
      // The trace is over (its duration, a signal, a failing read): so is the command it watched.
      exit = await command?.stop();
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
    if (o.json) ctx.printJson({ ...report, ...(command ? { command: { argv: cmd, exit } } : {}) });
    else {
      const { renderTrace } = await import('./trace-render.js');
      ctx.print(renderTrace(report));
    }
  });
}

interface Command {
  /** its exit status (null: killed by a signal, or it could not start) */
  done: Promise<number | null>;
  /** SIGTERM (tsnet exec passes it on) if it still runs, SIGKILL 5 s later; its exit status */
  stop(): Promise<number | null>;
}

const STOP_GRACE_MS = 5000;

/** The traced command: `tsnet exec NAME -- CMD` as a child (the tracer never enters the container); its stdout goes to our stderr. */
function watch(child: ChildProcess): Command {
  const done = new Promise<number | null>((resolve) => {
    child.once('error', () => resolve(null));
    child.once('exit', (code) => resolve(code));
  });
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    done,
    stop: () => {
      if (!running()) return done;
      child.kill('SIGTERM');
      const hard = setTimeout(() => running() && child.kill('SIGKILL'), STOP_GRACE_MS);
      return done.finally(() => clearTimeout(hard));
    },
  };
}

const usageError = async () => {
  const { TsnetError } = await import('../errors.js');
  return (m: string, hint?: string) => new TsnetError('TSNET_USAGE', m, hint ? { hint } : {});
};

/** The command line, checked before anything is looked up (exit 2). */
async function parseArgs(ref: string | undefined, argv: string[], o: TraceCliOptions) {
  const usage = await usageError();
  const cmd = argv[0] === '--' ? argv.slice(1) : argv;
  if (o.pid !== undefined && ref !== undefined) throw usage('trace --pid watches that process: give no target or command with it');
  if (o.pid === undefined && ref === undefined) throw usage('trace needs a target or --pid', 'tsnet trace NAME -- CMD, or tsnet trace NAME --duration 30');
  if (cmd.length === 0 && o.duration === undefined && !process.stdin.isTTY && !process.stderr.isTTY) {
    throw usage('trace without a command needs --duration when not run from a terminal (nothing would stop it)');
  }
  const { secondsOption } = await import('./parse-options.js');
  return {
    cmd,
    durationMs: o.duration === undefined ? undefined : secondsOption('--duration', o.duration),
    ports: [53, ...(o.port ?? []).map((p) => port(p, usage))],
    maxRecords: count(o.maxRecords ?? '200000', usage),
  };
}

function port(text: string, usage: (m: string) => Error): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) < 1 || Number(text) > 65535) throw usage(`invalid --port "${text}": expected 1-65535`);
  return Number(text);
}

function count(text: string, usage: (m: string) => Error): number {
  if (!/^\d{1,9}$/.test(text) || Number(text) < 1) throw usage(`invalid --max-records "${text}": expected a positive number`);
  return Number(text);
}
