import type { Command } from 'commander';
import type { CliContext } from './context.js';
import { validateName } from '../config/validate.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerStubCommand(program: Command, ctx: CliContext): void {
  const stub = program
    .command('stub')
    .description('the stub resolver: answers container names and --add-host entries, forwards the rest with the container\'s dns-mode (glibc or musl strategy), logs the timing of every query');

  stub
    .command('status')
    .description('is the stub running: pid, networks, containers, queries served, upstream health')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const { stubStatus } = await import('../stub/status.js');
      const { renderStatus } = await import('./stub.js');
      const s = stubStatus(await ctx.deps());
      if (o.json) ctx.printJson(s);
      else ctx.print(renderStatus(s));
    });

  stub
    .command('logs')
    .description('the stub\'s query log: one line per client query with its latency and upstream attempts')
    .argument('[container]', 'only this container\'s queries')
    .option('--follow', 'keep printing new queries')
    .option('--json', 'print the JSON lines as they are')
    .action(async (container: string | undefined, o: { follow?: boolean; json?: boolean }) => {
      const { printLogs } = await import('./stub.js');
      if (container !== undefined) validateName(container);
      await printLogs(await ctx.deps(), container, o.follow ?? false, o.json ?? false, ctx.print);
    });

  stub
    .command('serve')
    .description('run the resolver standalone, as a sidecar in any network namespace (Docker, Podman, a Kubernetes pod via nsenter)')
    .option('--listen <addr>', 'address to answer on (repeatable)', collect, [])
    .option('--upstream <ip>', 'upstream nameserver (repeatable)', collect, [])
    .option('--mode <mode>', 'upstream strategy: glibc (one server at a time) or musl (all at once)', 'glibc')
    .option('--dns-option <opt>', 'upstream options: timeout:N, attempts:N, rotate (repeatable)', collect)
    .option('--add-host <name:ip>', 'answer this name locally (repeatable)', collect)
    .option('--log <file>', 'write the query timing log here (JSON lines, rotated)')
    .option('--netns <path>', 'enter this network namespace first')
    .option('--port <port>', 'port to listen on', '53')
    .option('--allow <cidr>', 'answer only clients in this subnet (repeatable; default: the subnets of this namespace\'s addresses)', collect)
    .action(async (o: { listen: string[]; upstream: string[]; mode: string; dnsOption?: string[]; addHost?: string[]; log?: string; netns?: string; port?: string; allow?: string[] }) => {
      const { serveStandalone } = await import('./stub-serve.js');
      await serveStandalone(o, ctx.print);
      ctx.exit(0);
    });

  // Started by create; not for people (hidden from help).
  stub
    .command('daemon', { hidden: true })
    .description('run the stub daemon for this state root (create starts it, under a supervisor)')
    .option('--restarted-after <status>', 'set by the supervisor: the exit status of the daemon before this one')
    .action(async (o: { restartedAfter?: string }) => {
      const { runDaemon } = await import('../stub/daemon.js');
      const { startCniService } = await import('./cni-service.js');
      const after = o.restartedAfter === undefined ? undefined : Number(o.restartedAfter);
      // the CNI plugin's control socket: ADD and CHECK run here, compiled and warm
      await runDaemon(await ctx.deps(), after !== undefined && Number.isInteger(after) ? after : undefined, (deps, changed) => [startCniService(deps, changed)]);
      ctx.exit(0); // stopped: no lingering upstream exchange may keep a daemon alive
    });
}
