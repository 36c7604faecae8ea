// What a stub-mode container's resolv.conf says: the stub as the only nameserver, the user's
// search list and ndots, and a client timeout longer than the stub's worst case so the
// application's own libc defers to the stub's (emulated) strategy. Also the resolv.conf the
// stub's forwarders read for a client. Pure.
import { createForwarder, type ForwardMode } from '../../resolvers/forward.js';
import { parseScenario } from '../../resolvers/core/scenario.js';
import { seededRandom, simulateLookup } from '../../resolvers/core/sim.js';
import { renderResolvConf } from './resolvconf.js';

/** Options the stub applies upstream on a client's behalf (resolv.conf syntax). */
function upstreamOptions(options: readonly string[]): string[] {
  return options.filter((o) => /^(timeout|attempts):\d+$/.test(o) || o === 'rotate');
}

/** The resolv.conf the stub's forwarders read for a client: its upstreams and upstream options, no comments. */
export function stubUpstreamConf(upstreams: readonly string[], options: readonly string[]): string {
  return renderResolvConf({ header: [], nameservers: upstreams.map((address) => ({ address })), search: { values: [] }, options: { values: upstreamOptions(options) } });
}

/**
 * The stub's longest upstream exchange, in ms, for the configuration its forwarders read: the
 * stub's own strategy (resolvers/forward.ts) on the simulated network with every upstream
 * blackholed, until it gives up. No formula of its own: the waits are the emulators', which the
 * fidelity suite checks against the real libraries.
 */
export function stubWorstCaseMs(mode: ForwardMode, upstreamConf: string): number {
  const key = `${mode}\n${upstreamConf}`;
  const known = worstCases.get(key);
  if (known !== undefined) return known;
  const worst = simulateWorstCase(mode, upstreamConf);
  if (worstCases.size >= 64) worstCases.clear();
  worstCases.set(key, worst);
  return worst;
}

/** Worst cases computed in this process: a create or CNI ADD needs one twice (files, result). */
const worstCases = new Map<string, number>();

function simulateWorstCase(mode: ForwardMode, upstreamConf: string): number {
  const input = { resolvConf: upstreamConf, hosts: '', nsswitch: undefined, env: {}, hostname: 'tsnet-stub' };
  const forwarder = createForwarder(mode, { input, random: seededRandom(1), warn: () => {} });
  const query = { qname: 'worst-case.invalid', qtype: 'A', id: 1 };
  // a scenario that lists no server: every one is a blackhole (no reply, no ICMP error)
  const run = simulateLookup({ lookup: () => forwarder.forward(query) }, { name: query.qname, family: 'any', canonname: false }, parseScenario({ servers: {} }), { mode });
  return run.endAt;
}

/** Options that belong to the application's side of the conversation with the stub. */
const CLIENT_SIDE = /^(ndots:\d+|no-aaaa|edns0|trust-ad|use-vc)$/;

export function stubClientOptions(mode: ForwardMode, nameservers: string[], options: string[]): { options: string[]; worstMs: number; timeoutS: number } {
  const worstMs = stubWorstCaseMs(mode, stubUpstreamConf(nameservers, options));
  // glibc caps a client timeout at 30 s; past that the client gives up first (documented).
  const timeoutS = Math.min(30, Math.floor(worstMs / 1000) + 1);
  return { options: [...options.filter((o) => CLIENT_SIDE.test(o)), `timeout:${timeoutS}`, 'attempts:1'], worstMs, timeoutS };
}
