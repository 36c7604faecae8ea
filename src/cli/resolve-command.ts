import { Option, type Command } from 'commander';
import type { CliContext } from './context.js';
import { addEngineOptions, engineOptions, TARGET_HELP, type EngineCliOptions } from './engine-options.js';

interface ResolveCliOptions extends EngineCliOptions {
  mode: string;
  in?: string;
  netns?: string;
  resolvConf?: string;
  hosts?: string;
  nsswitch?: string;
  env?: string[];
  family?: string;
  canonname?: boolean;
  simulate?: string;
  repeat?: string;
  concurrency?: string;
  port?: string;
  gaiConf?: string;
  json?: boolean;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerResolveCommand(program: Command, ctx: CliContext): void {
  const command = program
    .command('resolve')
    .description(
      'resolve a name the way a resolver library would (glibc, musl, eventlet, ...), on a container\'s real network or a simulated one, and show every query with its timing. ' +
        'Exit: 0 resolved, 1 not resolved, 2 usage, 3 the --in target not found or not reachable',
    )
    .argument('<name>', 'the name to look up (getaddrinfo)')
    .requiredOption('--mode <mode>', 'resolver library to emulate: glibc, musl, eventlet, eventlet-0.24, go, go-cgo, node, node-musl')
    .option('--in <target>', `run inside this target's network namespace, its files the defaults: ${TARGET_HELP}`)
    .option('--netns <path>', 'run inside this network namespace (e.g. /run/netns/NAME, /proc/PID/ns/net)');
  addEngineOptions(command)
    .option('--resolv-conf <file>', 'resolv.conf the emulated process reads (default: the container\'s, else /etc/resolv.conf)')
    .option('--hosts <file>', 'hosts file (default: the container\'s, else /etc/hosts)')
    .option('--nsswitch <file>', 'nsswitch.conf (default: the container\'s, else /etc/nsswitch.conf)')
    .option('--gai-conf <file>', 'gai.conf: glibc\'s address-sorting tables (default /etc/gai.conf)')
    .option('--env <KEY=VALUE>', 'environment of the emulated process (repeatable): RES_OPTIONS, LOCALDOMAIN, EVENTLET_NO_GREENDNS, GODEBUG, UV_THREADPOOL_SIZE; the caller\'s own environment is never used', collect)
    .addOption(new Option('--family <family>', 'address family asked for').choices(['any', 'inet', 'inet6']).default('any'))
    .option('--canonname', 'ask for the canonical name too (AI_CANONNAME)')
    .option('--simulate <scenario>', 'run on a simulated network: a JSON file or inline JSON like {"servers": {"10.0.0.1": "blackhole"}, "zone": ["db.example=A:10.0.0.5"]}')
    .option('--repeat <n>', 'look the name up n times in one emulated process (rotate, sticky fallbacks, caches)', '1')
    .option('--concurrency <n>', 'start n lookups at once (with --repeat: n at once, that many rounds); node queues them on its thread pool', '1')
    .option('--port <port>', 'DNS port of the nameservers', '53')
    .option('--json', 'print the trace as JSON (an array with --repeat or --concurrency > 1)')
    .action(async (name: string, o: ResolveCliOptions) => {
      const { runResolve } = await import('../api/resolve.js');
      const { renderTrace } = await import('./render.js');
      const traces = await runResolve(
        {
          name, mode: o.mode, in: o.in, netns: o.netns, resolvConf: o.resolvConf, hosts: o.hosts, nsswitch: o.nsswitch,
          env: o.env, family: o.family, canonname: o.canonname, simulate: o.simulate, repeat: o.repeat, concurrency: o.concurrency, port: o.port, gaiConf: o.gaiConf,
        },
        { ...(await ctx.deps()), engines: engineOptions(o) },
      );
      if (o.json) ctx.printJson(traces.length === 1 ? traces[0] : traces);
      else for (const t of traces) ctx.print(renderTrace(t));
      // Exit status says whether the (last) lookup resolved: 0 yes, 1 no.
      if (traces.at(-1)?.result.error) process.exitCode = 1;
    });
}
