// tsnet demo: a throwaway lab that shows the classic DNS stalls side by side, diagnosed, then
// removed (also on Ctrl-C). Private state root and subnet; the upstreams are tsnet fake-dns
// servers inside a container of the lab: no packet leaves the lab's bridge.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { TsnetError } from '../errors.js';
import { builtEntry } from '../built.js';
import { requireRoot } from '../api/privileges.js';
import { findContainer } from '../state/lookup.js';
import { Paths } from '../state/paths.js';

/** A /24 in 10.89.0.0/16 that no route on the host uses. */
function freeSubnet(): string {
  const routes = spawnSync('ip', ['-4', 'route', 'show'], { encoding: 'utf8' }).stdout;
  for (let third = 200; third < 255; third++) if (!routes.includes(`10.89.${third}.`)) return `10.89.${third}`;
  throw new TsnetError('TSNET_SYSTEM', 'no free /24 in 10.89.200.0-10.89.254.0 for the demo');
}

export async function runDemo(print: (s: string) => void, exit: (code: number) => never): Promise<number> {
  requireRoot('demo');
  const entry = builtEntry('tsnet.js');
  const root = mkdtempSync('/tmp/tsnet-demo-');
  const net = freeSubnet();
  const ip = (h: number) => `${net}.${h}`;
  const tag = Math.random().toString(16).slice(2, 6);
  const name = (s: string) => `demo${tag}-${s}`;
  const made: string[] = [];
  let server: ChildProcess | undefined;
  const tsnet = (args: string[], quiet = false) => {
    const r = spawnSync(process.execPath, [entry, '--root', root, ...args], { stdio: quiet ? 'pipe' : 'inherit', encoding: 'utf8' });
    return r.status ?? 1;
  };
  const cleanup = () => {
    server?.kill('SIGTERM');
    if (made.length) tsnet(['rm', ...made], true);
    tsnet(['prune'], true);
    rmSync(root, { recursive: true, force: true });
  };
  const onSignal = () => {
    cleanup();
    exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const step = (s: string) => print(`\n=== ${s}\n`);
  try {
    step(`a private lab: network ${ip(0)}/24, upstream DNS servers ${ip(50)} (drops everything), ${ip(51)} (healthy), ${ip(52)} (drops AAAA), ${ip(53)} (behind a conntrack race: the second of two packets sent together is lost)`);
    const up = name('upstream');
    if (tsnet(['create', up, '--subnet', `${ip(0)}/24`, '--ip', ip(50), '--dns-mode', 'direct', '--dns', '127.0.0.1'], true) !== 0) throw new TsnetError('TSNET_SYSTEM', 'could not create the demo upstream');
    made.push(up);
    for (const h of [51, 52, 53]) tsnet(['exec', up, '--', 'ip', 'addr', 'add', `${ip(h)}/24`, 'dev', 'eth0'], true);
    const ready = `${root}/fake-dns.ready`;
    const netns = findContainer(new Paths(root), up).namespaces.net;
    server = spawn(process.execPath, [
      entry, 'fake-dns', '--netns', netns, '--listen', `${ip(50)}=blackhole`, '--listen', `${ip(51)}=answer`, '--listen', `${ip(52)}=drop-aaaa`,
      // 20 ms, not the default 5: fake-dns sees a packet when its event loop gets to it, and a cold start is slow
      '--listen', `${ip(53)}=race-drop:20`,
      '--zone', 'api.example=A:192.0.2.10', '--zone', 'api.example=AAAA:2001:db8::10', '--log', `${root}/fake-dns.log`, '--ready-file', ready,
    ], { stdio: 'ignore' });
    for (let i = 0; i < 200 && !existsSync(ready); i++) await new Promise((r) => setTimeout(r, 25));

    const apps: Array<[string, string[], string[], string]> = [
      [name('glibc'), ['--dns-mode', 'glibc', '--dns', ip(50), '--dns', ip(51), '--dns-option', 'timeout:1'], ['api.example'],
        'a glibc app whose first nameserver is dead: glibc waits on it, musl races past it, eventlet pays per try'],
      [name('musl'), ['--dns-mode', 'musl', '--dns', ip(52), '--dns-option', 'timeout:1'], ['api.example'],
        'an Alpine (musl) app whose nameserver drops AAAA: musl fails the whole lookup, glibc falls back to IPv4 only'],
      [name('pod'), ['--dns-mode', 'direct', '--dns', ip(53), '--dns-profile', 'kubernetes', '--dns-option', 'timeout:1'], ['api.example'],
        "a Kubernetes pod (its search list and ndots:5) behind a conntrack race: the 5-second delays (here timeout:1), once per search name"],
      [name('hosts'), ['--dns-mode', 'glibc', '--dns', ip(50), '--dns-option', 'timeout:1', '--add-host', `cache.internal:${ip(9)}`], ['cache.internal', '--modes', 'glibc,eventlet,eventlet-0.24'],
        'an eventlet app resolving a name from /etc/hosts while DNS is dead: fine today, a stall with eventlet ≤ 0.24'],
    ];
    let worst = 0;
    for (const [app, opts, args, story] of apps) {
      if (tsnet(['create', app, ...opts], true) !== 0) throw new TsnetError('TSNET_SYSTEM', `could not create ${app}`);
      made.push(app);
      step(story);
      print(`$ tsnet diagnose ${app} ${args.join(' ')}\n`);
      worst = Math.max(worst, tsnet(['diagnose', app, ...args]));
    }
    step('cleaning up: every container, the stub, the upstream and the state root go away');
    return worst <= 1 ? 0 : worst;
  } finally {
    cleanup();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
