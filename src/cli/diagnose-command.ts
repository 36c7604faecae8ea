import { accessSync, constants, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import type { CliContext } from './context.js';
import { addEngineOptions, engineOptions, TARGET_HELP, type EngineCliOptions } from './engine-options.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerDiagnoseCommand(program: Command, ctx: CliContext): void {
  const command = program
    .command('diagnose')
    .description(
      'why is DNS slow here? measure glibc, musl and eventlet on a container\'s real network, name the cause and the fix. ' +
        'Exit: 0 healthy, 1 a finding of severity error, 2 usage (a malformed target or option), ' +
        '3 target not found or not reachable (no such tsnet container, process or runtime container; one that is not running; its engine not installed or not answering)',
    )
    .argument('[target]', `what to diagnose: ${TARGET_HELP} (or use --pid)`)
    .argument('[names...]', 'names to look up (default: its recent lookups from the stub log, else its --add-host names and neighbours)')
    .option('--pid <pid>', 'diagnose any process\'s network namespace and files');
  addEngineOptions(command)
    .option('--modes <list>', 'emulators to run: glibc,musl,eventlet,eventlet-0.24,go,go-cgo,node,node-musl', 'glibc,musl,eventlet,go')
    .option('--family <family>', 'any, inet or inet6', 'any')
    .option('--what-if <change>', 'predict the effect of a change: "options timeout:1", "nameserver-order 2,1", "nameserver-remove 1", "nameserver-add IP", "search a b", "env K=V" (repeatable)', collect)
    .option('--no-live', 'predict only, no packets sent')
    .option('--observe <seconds>', 'first watch the application\'s own DNS for this long (tsnet trace): its lookups, their strategy, and evidence from them in the findings')
    .option('--json', 'print the report as JSON')
    .option('--html <file>', 'also write a self-contained HTML report (SVG waterfall per mode, findings) to this file')
    .action(async (container: string | undefined, names: string[], o: EngineCliOptions & { pid?: string; modes?: string; family?: string; whatIf?: string[]; live: boolean; observe?: string; json?: boolean; html?: string }) => {
      const { runDiagnose } = await import('../diagnose/diagnose.js');
      if (o.html !== undefined) {
        try {
          accessSync(dirname(o.html), constants.W_OK);
        } catch {
          const { TsnetError } = await import('../errors.js');
          throw new TsnetError('TSNET_USAGE', `cannot write --html ${o.html}: its directory is missing or not writable`);
        }
      }
      const { renderReport } = await import('./diagnose-render.js');
      // With --pid, the first positional is a name, not a container.
      const target = o.pid !== undefined ? undefined : container;
      const list = o.pid !== undefined && container !== undefined ? [container, ...names] : names;
      const started = Date.now();
      const progress = process.stderr.isTTY
        ? (running: string[]) => process.stderr.write(`\r\x1b[K  waiting on ${running.join(', ')} … ${((Date.now() - started) / 1000).toFixed(1)} s`)
        : undefined;
      const modes = o.modes?.split(',').map((m) => m.trim()).filter(Boolean);
      const engines = engineOptions(o);
      if (target === undefined) {
        // --pid (or no target): engine options belong to no engine here
        const { checkEngineOptions } = await import('../engines/ref.js');
        checkEngineOptions(undefined, engines);
      }
      const deps = { ...(await ctx.deps()), engines };
      let observeMs: number | undefined;
      if (o.observe !== undefined) {
        const { secondsOption } = await import('./parse-options.js');
        observeMs = secondsOption('--observe', o.observe);
        if (progress) process.stderr.write(`  observing the application's own DNS for ${o.observe} s …\n`);
      }
      const report = await runDiagnose({ container: target, pid: o.pid, names: list, modes, family: o.family, whatIf: o.whatIf, live: o.live, observeMs }, deps, progress);
      if (progress) process.stderr.write('\r\x1b[K');
      if (o.html !== undefined) {
        const { renderHtml } = await import('./diagnose-html.js');
        writeFileSync(o.html, renderHtml(report));
      }
      if (o.json) ctx.printJson(report);
      else ctx.print(renderReport(report));
      process.exitCode = report.exitCode;
    });
}

export function registerDemoCommand(program: Command, ctx: CliContext): void {
  program
    .command('demo')
    .description('a throwaway lab showing the classic DNS stalls (dead nameserver, dropped AAAA, eventlet and /etc/hosts) diagnosed side by side, then removed')
    .action(async () => {
      const { runDemo } = await import('../demo/demo.js');
      process.exitCode = await runDemo(ctx.print, ctx.exit);
    });
}
