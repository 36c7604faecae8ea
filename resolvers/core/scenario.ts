// A simulated network: which server does what. Used by `tsnet resolve --simulate`, what-if
// predictions and the fast tests; `tsnet fake-dns` takes the same behaviour strings.
import { addressBytes } from './address.js';
import type { LocalNet } from './addrsort.js';
import { addZoneEntry, parseBehaviour, type ServerBehaviour, type Zone } from './responder.js';

export interface ScenarioSpec {
  /** server address → behaviour list, e.g. "blackhole", "delay:1500", "closed", "drop-aaaa" */
  servers: Record<string, string>;
  /** zone entries NAME=TYPE:VALUE */
  zone?: string[];
  /** simulated round-trip time to every server, ms (default 0.2) */
  rttMs?: number;
  /**
   * the client's addresses and routes, for the libraries' address sorting (core/addrsort.ts);
   * absent: a dual-stack host that reaches everything
   */
  network?: LocalNet;
}

/**
 * What a server did with one query, replayed: a reply (rcode, whether it carries the asked type's
 * records, TC) after `delayMs`, or nothing. `closed`: the kernel refused it (ICMP / RST).
 */
export type ScriptedOutcome =
  | { kind: 'reply'; rcode: number; answered: boolean; truncated: boolean; delayMs: number }
  | { kind: 'drop' }
  | { kind: 'closed' };

/**
 * A replayed network (tsnet trace's fingerprint): the outcome of the `nth` (0-based) query for
 * this name and type to this server over this transport; undefined leaves it to the behaviours.
 */
export type ServerScript = (server: string, transport: 'udp' | 'tcp', qname: string, qtype: string, nth: number) => ScriptedOutcome | undefined;

export interface Scenario {
  servers: Map<string, ServerBehaviour>;
  zone: Zone;
  rttMs: number;
  script?: ServerScript | undefined;
  network?: LocalNet | undefined;
}

/** Throws Error naming the bad field. Unlisted servers behave as blackholes (no route, no reply). */
export function parseScenario(spec: unknown): Scenario {
  if (typeof spec !== 'object' || spec === null) throw new Error('scenario must be a JSON object with "servers"');
  const s = spec as Partial<ScenarioSpec>;
  if (typeof s.servers !== 'object' || s.servers === null) throw new Error('scenario needs "servers": {"ADDRESS": "BEHAVIOUR", ...}');
  const servers = new Map<string, ServerBehaviour>();
  for (const [addr, b] of Object.entries(s.servers)) {
    if (typeof b !== 'string') throw new Error(`scenario server ${addr}: behaviour must be a string like "answer" or "delay:1500"`);
    servers.set(addr, parseBehaviour(b));
  }
  const zone: Zone = new Map();
  for (const e of s.zone ?? []) addZoneEntry(zone, e);
  const rttMs = s.rttMs ?? 0.2;
  if (typeof rttMs !== 'number' || rttMs < 0) throw new Error('scenario "rttMs" must be a non-negative number');
  return { servers, zone, rttMs, network: parseNetwork(s.network) };
}

/** A route's "dst": true for IPv6, false for IPv4, undefined when it is not a prefix. */
function routeFamily(dst: string): boolean | undefined {
  if (dst === 'default') return false;
  const m = /^([^/]+)\/(\d{1,3})$/.exec(dst);
  const bytes = m ? addressBytes(m[1]!) : undefined;
  if (!m || !bytes || Number(m[2]) > bytes.length * 8) return undefined;
  return bytes.length === 16;
}

/** The scenario's "network": {"addresses": [{address, prefixLen, dev}], "routes": [{dst, dev, src?}]}. */
function parseNetwork(v: unknown): LocalNet | undefined {
  if (v === undefined) return undefined;
  const n = v as Partial<LocalNet>;
  const bad = (what: string) => new Error(`scenario "network": ${what}`);
  if (typeof v !== 'object' || v === null || !Array.isArray(n.addresses) || !Array.isArray(n.routes)) throw bad('needs "addresses" and "routes" arrays');
  for (const a of n.addresses) {
    if (typeof a?.address !== 'string' || addressBytes(a.address) === undefined) throw bad(`address ${JSON.stringify(a?.address)} is not an IP address`);
    if (!Number.isInteger(a.prefixLen) || a.prefixLen < 0 || a.prefixLen > (a.address.includes(':') ? 128 : 32)) throw bad(`prefixLen of ${a.address} must fit its family`);
    if (typeof a.dev !== 'string') throw bad(`address ${a.address} needs "dev"`);
  }
  for (const r of n.routes) {
    if (typeof r?.dst !== 'string' || typeof r.dev !== 'string') throw bad('every route needs "dst" ("default", "::/0" or PREFIX/LEN) and "dev"');
    const v6 = routeFamily(r.dst);
    if (v6 === undefined) throw bad(`route "${r.dst}": "dst" must be "default", "::/0" or an address/length within its family`);
    if (r.src !== undefined && (typeof r.src !== 'string' || addressBytes(r.src)?.length !== (v6 ? 16 : 4))) throw bad(`route "${r.dst}": "src" must be an address of the route's family`);
  }
  return { addresses: n.addresses, routes: n.routes };
}
