// `tsnet stub serve`: the same resolver as a sidecar in any network namespace, for containers
// tsnet did not create (Docker, Podman, a Kubernetes pod via nsenter): every allowed client gets
// the given upstreams, strategy and extra hosts.
import { networkInterfaces } from 'node:os';
import { enterNetnsForGood } from '../ns/enter.js';
import { TsnetError } from '../errors.js';
import { ipVersion } from '../../resolvers/core/address.js';
import { validateAddHost } from '../config/validate.js';
import { FORWARD_MODES, type ForwardMode } from '../../resolvers/forward.js';
import { stubUpstreamConf } from '../files/stub-resolv.js';
import { StubServer, type QueryLogLine } from '../stub/server.js';
import { allowList, parseCidr } from '../stub/answer.js';
import { openQueryLog } from '../stub/querylog.js';
import type { StubView } from '../stub/view.js';

export interface ServeOptions {
  listen: string[];
  upstream: string[];
  mode: string;
  addHost?: string[] | undefined;
  dnsOption?: string[] | undefined;
  log?: string | undefined;
  netns?: string | undefined;
  port?: string | undefined;
  /** client CIDRs answered (repeatable); default: the subnets of this namespace's addresses */
  allow?: string[] | undefined;
}

/**
 * The subnets of the addresses configured (on interfaces that are up) in the namespace this
 * thread is in: loopback, the pod's or container's own network. Read once, at start.
 */
function ownSubnets(): string[] {
  return Object.values(networkInterfaces()).flatMap((addrs) => (addrs ?? []).flatMap((a) => (a.cidr ? [a.cidr] : [])));
}

export async function serveStandalone(o: ServeOptions, print: (s: string) => void): Promise<void> {
  if (!(FORWARD_MODES as readonly string[]).includes(o.mode)) throw new TsnetError('TSNET_USAGE', `unknown --mode "${o.mode}": use glibc or musl`);
  if (o.listen.length === 0) throw new TsnetError('TSNET_USAGE', 'no --listen address', { hint: 'e.g. --listen 127.0.0.53' });
  for (const a of [...o.listen, ...o.upstream]) {
    if (ipVersion(a) === 0) throw new TsnetError('TSNET_USAGE', `invalid address "${a}": expected an IP address`);
  }
  if (o.upstream.length === 0) throw new TsnetError('TSNET_USAGE', 'no --upstream nameserver', { hint: 'e.g. --upstream 10.0.0.53' });
  const port = Number(o.port ?? '53');
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new TsnetError('TSNET_USAGE', `invalid --port "${o.port}"`);
  const addHosts = (o.addHost ?? []).map(validateAddHost).map((h) => ({ name: h.names[0]!, address: h.address }));
  for (const c of o.allow ?? []) {
    if (!parseCidr(c)) throw new TsnetError('TSNET_USAGE', `invalid --allow "${c}": expected ADDRESS/PREFIX or an address`, { hint: 'e.g. --allow 10.89.0.0/16' });
  }
  if (o.netns) enterNetnsForGood(o.netns);
  // Not an open resolver: only clients of the namespace's own subnets (or --allow) get answers;
  // anyone else gets nothing (dropped, not REFUSED: a spoofed source gets no reflection).
  const allow = o.allow && o.allow.length > 0 ? o.allow : ownSubnets();
  const client = {
    name: 'sidecar', network: 'sidecar', address: '*', mode: o.mode as ForwardMode, upstreams: o.upstream, addHosts, cacheSize: 0,
    upstreamConf: stubUpstreamConf(o.upstream, o.dnsOption ?? []),
  };
  const view: StubView = {
    networks: new Map([['sidecar', { name: 'sidecar', gateway: o.listen[0]!, subnet: '0.0.0.0/32', containers: new Map(), byAddress: new Map() }]]),
    clients: new Map(),
    fallback: client,
  };
  const qlog = o.log ? openQueryLog(o.log) : undefined;
  const server = new StubServer((line: QueryLogLine) => qlog?.write(line), undefined, port);
  server.setView(view);
  server.setAllow(allowList(allow));
  for (const a of o.listen) {
    try {
      await server.listen(a);
    } catch (err) {
      await server.close();
      throw new TsnetError('TSNET_USAGE', `cannot listen on ${a}:${port}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
        hint: 'the address must exist in this network namespace and port 53 must be free',
      });
    }
  }
  print(`tsnet stub serving on ${o.listen.map((a) => `${a}:${port}`).join(', ')} (${o.mode} strategy to ${o.upstream.join(', ')}), answering ${allow.join(', ') || 'nobody (no address is configured here; use --allow)'}\n`);
  await new Promise<void>((done) => {
    const stop = () => void server.close().then(() => {
      qlog?.close();
      done();
    });
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}
