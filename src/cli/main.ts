// The CLI: the only place that reads argv, prints results and exits. Command modules are
// imported lazily so `tsnet --help` and short commands start fast.
import { Command, CommanderError, Option } from 'commander';
import type { Deps } from '../deps.js';
import { jsonText, type CliContext } from './context.js';
import { registerFakeDnsCommand } from './fake-dns-command.js';
import { registerResolveCommand } from './resolve-command.js';
import { registerStubCommand } from './stub-command.js';
import { registerDemoCommand, registerDiagnoseCommand } from './diagnose-command.js';
import { registerTraceCommand } from './trace-command.js';
import { registerCniCommand } from './cni-command.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

const program = new Command();
program
  .name('tsnet')
  .description('Container networking that understands DNS: network + UTS namespaces, veth, addresses and per-container resolver files')
  .option('--root <dir>', 'state root (env TSNET_ROOT)', undefined)
  .addOption(new Option('--log-level <level>', 'log level for the JSON logs on stderr (env TSNET_LOG_LEVEL; default warn)').choices(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']))
  .enablePositionalOptions()
  .configureOutput({
    // Usage mistakes get the same one-line shape as every other tsnet error.
    outputError: (str, write) => write(`tsnet: ${str.replace(/^error: /, '').trim()} (see tsnet --help)\n`),
  })
  .exitOverride();

async function deps(): Promise<Deps> {
  const { makeDeps } = await import('../deps.js');
  const g = program.opts<{ root?: string; logLevel?: string }>();
  return makeDeps({ root: g.root, logLevel: g.logLevel });
}

const print = (text: string) => process.stdout.write(text);
const printJson = (value: unknown) => print(jsonText(value));
const ctx: CliContext = { deps, print, printJson, exit: (code) => process.exit(code) };
type Renderers = typeof import('./render.js');
/** --json prints the value; otherwise the renderer's text (render.ts loads only when needed). */
const show = async (json: boolean | undefined, value: unknown, text: (r: Renderers) => string) =>
  json ? printJson(value) : print(text(await import('./render.js')));

program
  .command('create')
  .description('create a container network: namespaces, veth on the network bridge, address, hostname, /etc files')
  .argument('[name]', 'container name (1-63 of [A-Za-z0-9_.-]); generated when omitted')
  .option('--network <name>', 'network (bridge) to join; made on first use', 'tsnet')
  .option('--subnet <cidr>', 'subnet when the network is first made (default 10.89.0.0/16, env TSNET_DEFAULT_SUBNET)')
  .option('--ip <addr>', 'address for eth0 (default: the next free one)')
  .option('--hostname <name>', 'hostname inside the container (default: the name)')
  .option('--dns <ip>', 'upstream nameserver (repeatable; default: the host\'s non-loopback nameservers)', collect)
  .option('--dns-search <domain>', 'search domain (repeatable)', collect)
  .option('--dns-option <opt>', 'resolver option (repeatable): ndots:N timeout:N attempts:N rotate single-request single-request-reopen edns0 use-vc no-aaaa trust-ad', collect)
  .option('--dns-profile <profile>', 'kubernetes: the search list and ndots:5 a pod gets (NS.svc.cluster.local svc.cluster.local cluster.local), before --dns-search and --dns-option')
  .option('--k8s-namespace <ns>', 'the pod namespace for --dns-profile kubernetes (default: default)')
  .option('--add-host <name:ip>', 'extra /etc/hosts entry (repeatable)', collect)
  .option('--nsswitch <line>', 'the nsswitch.conf hosts line', 'files dns')
  .option('--dns-mode <mode>', 'glibc or musl: the tsnet stub resolver answers for the container and reaches the upstreams the way that library would; direct: resolv.conf lists the upstreams itself', 'glibc')
  .option('--dns-cache <entries>', 'let the stub cache answers (by TTL; off by default so emulated timing stays faithful)')
  .option('--json', 'print the container record as JSON')
  .action(async (name: string | undefined, o: Record<string, string & string[]>) => {
    const { createContainer } = await import('../api/create.js');
    const record = await createContainer(
      {
        name, network: o.network, subnet: o.subnet, ip: o.ip, hostname: o.hostname, dns: o.dns,
        dnsSearch: o.dnsSearch, dnsOptions: o.dnsOption, addHosts: o.addHost, nsswitch: o.nsswitch, dnsMode: o.dnsMode, dnsCache: o.dnsCache, dnsProfile: o.dnsProfile, k8sNamespace: o.k8sNamespace,
      },
      await deps(),
    );
    if (o.json) printJson(record);
    else print(`${record.name} ${record.address} ${record.id}\n`);
  });

program
  .command('exec')
  .description('run a command inside a container (its network and UTS namespaces, its /etc files)')
  .argument('<container>', 'container name or id prefix')
  .argument('<command...>', 'the command and its arguments (put -- before them)')
  .passThroughOptions()
  .action(async (ref: string, argv: string[]) => {
    const { execInContainer } = await import('../api/exec.js');
    const result = await execInContainer(ref, argv[0] === '--' ? argv.slice(1) : argv, await deps());
    if ('signal' in result) {
      // Die of the same signal so our caller sees what the command saw.
      process.removeAllListeners(result.signal);
      process.kill(process.pid, result.signal);
    } else process.exitCode = result.code;
  });

program
  .command('ls')
  .description('list containers')
  .option('--json', 'print JSON records')
  .action(async (o: { json?: boolean }) => {
    const { listContainers } = await import('../state/lookup.js');
    const items = listContainers((await deps()).paths);
    await show(o.json, items.map((i) => i.record ?? { name: i.name, problem: i.problem }), (r) => r.renderList(items));
  });

program
  .command('inspect')
  .description('show a container\'s full record')
  .argument('<container>', 'container name or id prefix')
  .option('--json', 'print the JSON record')
  .action(async (ref: string, o: { json?: boolean }) => {
    const { findContainer } = await import('../state/lookup.js');
    const record = findContainer((await deps()).paths, ref);
    await show(o.json, record, (r) => r.renderInspect(record));
  });

program
  .command('rm')
  .description('remove containers: namespaces, veth, mounts, files, address; the bridge goes with its network\'s last container')
  .argument('<container...>', 'container names or id prefixes')
  .option('--json', 'print what was removed as JSON')
  .action(async (refs: string[], o: { json?: boolean }) => {
    const { removeContainer } = await import('../api/remove.js');
    const d = await deps();
    const removed: string[] = [];
    let firstError: unknown;
    for (const ref of refs) {
      try {
        removed.push(await removeContainer(ref, d));
      } catch (err) {
        firstError ??= err;
        if (refs.length > 1) reportError(err);
      }
    }
    if (o.json) printJson({ removed });
    else for (const n of removed) print(`${n}\n`);
    if (firstError !== undefined) {
      if (refs.length > 1) process.exitCode = exitCodeOf(firstError);
      else throw firstError;
    }
  });

program
  .command('prune')
  .description('remove what crashed commands left behind: half-made containers, orphan namespaces, veths, bridges, address reservations')
  .option('--json', 'print the report as JSON')
  .action(async (o: { json?: boolean }) => {
    const { prune } = await import('../api/prune.js');
    const report = await prune(await deps());
    await show(o.json, report, (r) => r.renderPrune(report));
    if (report.errors.length > 0) process.exitCode = 1;
  });

// The DNS tools register from their own files.
registerResolveCommand(program, ctx);
registerStubCommand(program, ctx);
registerDiagnoseCommand(program, ctx);
registerTraceCommand(program, ctx);
registerDemoCommand(program, ctx);
registerFakeDnsCommand(program, ctx);
registerCniCommand(program, ctx);

interface UserError {
  message: string;
  hint?: string | undefined;
  exitCode: number;
}

function asUserError(err: unknown): UserError | undefined {
  const e = err as { [k: symbol]: unknown; message: string; hint?: string; exitCode: number };
  return typeof err === 'object' && err !== null && e[Symbol.for('tsnet.error')] === true ? e : undefined;
}

function exitCodeOf(err: unknown): number {
  return asUserError(err)?.exitCode ?? 1;
}

function reportError(err: unknown): void {
  const u = asUserError(err);
  if (u) {
    process.stderr.write(`tsnet: ${u.message}${u.hint ? ` (${u.hint})` : ''}\n`);
  } else {
    process.stderr.write(
      `tsnet: internal error: ${(err as Error)?.stack ?? String(err)}\nThis is a bug in tsnet; please open an issue with the command you ran.\n`,
    );
  }
}

// `tsnet ... | head`: a closed stdout is the reader's choice, not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

// Not a top-level await: the CLI is bundled as a CommonJS script (dist/tsnet-body.cjs, run with a
// V8 code cache: cli-loader.ts), where there is none.
program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CommanderError) {
    // Help and version are "errors" to exitOverride; usage mistakes exit 2.
    process.exitCode = err.exitCode === 0 ? 0 : 2;
  } else {
    reportError(err);
    process.exitCode = exitCodeOf(err);
  }
});
