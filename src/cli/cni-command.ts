// `tsnet cni`: install the plugin executable, print a configuration list, and the plugin entry
// point itself (what the runtime runs: CNI_* variables in, the configuration on stdin, one JSON
// result or error on stdout, exit 0 or 1).
import type { Command } from 'commander';
import type { CliContext } from './context.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerCniCommand(program: Command, ctx: CliContext): void {
  const cni = program
    .command('cni')
    .description('tsnet as a CNI plugin: Podman, containerd and Kubernetes attach containers to tsnet networks and its stub resolver');

  cni
    .command('install')
    .description('install an executable named "tsnet" that runs this tsnet\'s plugin entry point (never replaces another plugin)')
    .option('--bin-dir <dir>', 'the runtime\'s CNI plugin directory', '/opt/cni/bin')
    .action(async (o: { binDir: string }) => {
      const { installPlugin } = await import('../api/cni-install.js');
      ctx.print(`${installPlugin(o.binDir)}\n`);
    });

  cni
    .command('uninstall')
    .description('remove the executable `tsnet cni install` put there (and nothing else)')
    .option('--bin-dir <dir>', 'the runtime\'s CNI plugin directory', '/opt/cni/bin')
    .action(async (o: { binDir: string }) => {
      const { uninstallPlugin } = await import('../api/cni-install.js');
      ctx.print(`${uninstallPlugin(o.binDir)}\n`);
    });

  cni
    .command('conflist')
    .description('print a CNI configuration list (cniVersion 1.0.0) for a tsnet network')
    .requiredOption('--network <name>', 'the network (a tsnet network name; also the conflist\'s name)')
    .requiredOption('--subnet <cidr>', 'its IPv4 subnet, e.g. 10.89.0.0/24')
    .option('--dns-mode <mode>', 'glibc or musl (the stub resolver forwards the library\'s way) or direct', 'glibc')
    .option('--dns <ip>', 'upstream nameserver (repeatable)', collect, [])
    .option('--dns-search <domain>', 'search domain (repeatable)', collect, [])
    .option('--dns-option <opt>', 'resolver option (repeatable)', collect, [])
    .option('--dns-cache <entries>', 'stub answer cache entries (off by default)')
    .option('--state-root <dir>', 'tsnet state root the plugin uses (default /run/tsnet)')
    .action(async (o: { network: string; subnet: string; dnsMode: string; dns: string[]; dnsSearch: string[]; dnsOption: string[]; dnsCache?: string; stateRoot?: string }) => {
      const { validateCreate } = await import('../config/validate.js');
      const { renderConflist } = await import('../config/cni.js');
      const { formatSubnet } = await import('../config/ipv4.js');
      // The same checks as `tsnet create`, so a conflist it prints is one the plugin takes.
      const spec = validateCreate(
        { name: 'conflist', network: o.network, subnet: o.subnet, dns: o.dns, dnsSearch: o.dnsSearch, dnsOptions: o.dnsOption, dnsMode: o.dnsMode, dnsCache: o.dnsCache },
        () => 'conflist',
      );
      if (o.stateRoot !== undefined && !o.stateRoot.startsWith('/')) throw new (await import('../errors.js')).TsnetError('TSNET_USAGE', `--state-root ${JSON.stringify(o.stateRoot)} is not an absolute path`);
      ctx.print(
        renderConflist({
          network: spec.network,
          subnet: formatSubnet(spec.subnet!),
          dnsMode: spec.dnsMode,
          dns: { nameservers: spec.dns ?? [], search: spec.search, options: spec.options },
          root: o.stateRoot,
          dnsCache: spec.dnsCache,
        }),
      );
    });

  cni
    .command('plugin')
    .description('the plugin entry point a runtime runs (CNI_COMMAND and the other CNI_* variables, the configuration on stdin)')
    .action(async () => {
      const { runPlugin } = await import('./cni-plugin.js');
      process.exitCode = await runPlugin({ print: ctx.print, warn: (t) => process.stderr.write(t) });
    });
}
