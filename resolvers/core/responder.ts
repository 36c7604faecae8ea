// The fault-injecting authoritative server's decisions, as a pure function: `tsnet fake-dns`
// (real sockets) and the simulated driver (virtual network) answer with the same code.
import * as dnsPacket from 'dns-packet';
import { ipv4Bytes, ipv6Bytes } from './address.js';
import type { Transport } from './types.js';

export const BEHAVIOURS = [
  'answer', 'blackhole', 'closed', 'servfail', 'refused', 'nxdomain', 'nodata-aaaa', 'drop-aaaa',
  'servfail-aaaa', 'truncate', 'truncate-partial', 'formerr-edns', 'wrong-port', 'wrong-port-first',
  'auth', 'delay', 'race-drop',
] as const;

export interface ServerBehaviour {
  /** what every query gets, unless an AAAA rule below applies */
  base: 'answer' | 'blackhole' | 'closed' | 'servfail' | 'refused' | 'nxdomain' | 'truncate' | 'truncate-partial';
  /** nxdomain only for names under this suffix (others are answered) */
  nxdomainSuffix?: string | undefined;
  aaaa?: 'nodata' | 'drop' | 'servfail' | undefined;
  /**
   * A server that predates EDNS (RFC 6891 §7): a query carrying an OPT record gets FORMERR (the
   * question copied, no OPT back); the same query without OPT is answered as usual.
   */
  formerrEdns?: boolean | undefined;
  /**
   * UDP replies leave from another source port than the one the query went to (a NAT or a
   * multi-homed server rewriting the source): 'only' = that reply alone, 'first' = that reply,
   * then the same reply from the right port at once. TCP is not affected.
   */
  wrongPort?: 'only' | 'first' | undefined;
  /**
   * Authoritative only for these zones (lower-case, no dots at the ends): a CNAME whose target
   * lies outside all of them ends the answer (the client must chase it, as with an authoritative
   * server or a Kubernetes ExternalName service). Unset: every chain is followed (a recursive server).
   */
  auth?: string[] | undefined;
  delayMs: number;
  /**
   * The Linux conntrack insertion race behind DNAT (kubernetes/kubernetes#56903): of the first two
   * UDP packets of a new flow, the second is lost when it arrives within this many ms of the
   * first. See ConntrackRace.
   */
  raceDropMs?: number | undefined;
}

/** `race-drop` without a window */
export const RACE_DROP_DEFAULT_MS = 5;

/** Parses "delay:1500,drop-aaaa" style behaviour lists. Throws Error with a usable message. */
export function parseBehaviour(text: string): ServerBehaviour {
  const b: ServerBehaviour = { base: 'answer', delayMs: 0 };
  for (const item of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [kind, arg] = item.split(/:(.*)/s) as [string, string | undefined];
    switch (kind) {
      case 'answer': case 'blackhole': case 'closed': case 'servfail': case 'refused': case 'truncate': case 'truncate-partial':
        b.base = kind;
        break;
      case 'formerr-edns': b.formerrEdns = true; break;
      case 'wrong-port': b.wrongPort = 'only'; break;
      case 'wrong-port-first': b.wrongPort = 'first'; break;
      case 'auth': {
        const zone = (arg ?? '').replace(/^\.|\.$/g, '').toLowerCase();
        if (!zone) throw new Error(`behaviour "${item}": auth needs a zone, like auth:example.com`);
        b.auth = [...(b.auth ?? []), zone];
        break;
      }
      case 'nxdomain':
        b.base = 'nxdomain';
        b.nxdomainSuffix = arg ? arg.replace(/^\.|\.$/g, '').toLowerCase() : undefined;
        break;
      case 'nodata-aaaa': b.aaaa = 'nodata'; break;
      case 'drop-aaaa': b.aaaa = 'drop'; break;
      case 'servfail-aaaa': b.aaaa = 'servfail'; break;
      case 'race-drop':
        if (arg !== undefined && !/^\d{1,5}$/.test(arg)) throw new Error(`behaviour "${item}": race-drop takes a window in milliseconds, like race-drop:5`);
        b.raceDropMs = arg === undefined ? RACE_DROP_DEFAULT_MS : Number(arg);
        break;
      case 'delay':
        if (!arg || !/^\d+$/.test(arg)) throw new Error(`behaviour "${item}": delay needs milliseconds, like delay:1500`);
        b.delayMs = Number(arg);
        break;
      default:
        throw new Error(`unknown behaviour "${item}": use ${BEHAVIOURS.map((x) => (x === 'delay' ? 'delay:MS' : x === 'nxdomain' ? 'nxdomain[:suffix]' : x === 'auth' ? 'auth:ZONE' : x === 'race-drop' ? 'race-drop[:MS]' : x)).join(', ')}`);
    }
  }
  return b;
}

export interface ZoneRecords {
  A: string[];
  AAAA: string[];
  CNAME?: string;
  TXT: string[];
}

/** name (lower-case, no trailing dot) → records */
export type Zone = Map<string, ZoneRecords>;

const norm = (n: string) => n.replace(/\.$/, '').toLowerCase();

/**
 * Adds "name=TYPE:value" (TYPE one of A, AAAA, CNAME, TXT) to a zone. Throws Error on bad input.
 * The name is everything before the last "=TYPE:" that leaves a value: a label may hold any byte
 * ("=", spaces, line breaks), as names from the wire do.
 */
export function addZoneEntry(zone: Zone, entry: string): void {
  const m = /^(.+)=(A|AAAA|CNAME|TXT):(.+)$/is.exec(entry.trim());
  if (!m) throw new Error(`invalid zone entry "${entry}": expected NAME=TYPE:VALUE with TYPE A, AAAA, CNAME or TXT, like db.example=A:10.0.0.5`);
  const name = norm(m[1]!);
  const type = m[2]!.toUpperCase() as 'A' | 'AAAA' | 'CNAME' | 'TXT';
  // dns-packet encodes any string as an address without complaint: garbage on the wire otherwise.
  // So a strict dotted quad, and IPv6 without a %zone (it has no meaning in a record).
  if ((type === 'A' && !ipv4Bytes(m[3]!)) || (type === 'AAAA' && !ipv6Bytes(m[3]!))) {
    throw new Error(`invalid zone entry "${entry}": "${m[3]}" is not an ${type === 'A' ? 'IPv4' : 'IPv6'} address`);
  }
  const rec = zone.get(name) ?? { A: [], AAAA: [], TXT: [] };
  if (type === 'CNAME') rec.CNAME = norm(m[3]!);
  else rec[type].push(m[3]!);
  zone.set(name, rec);
}

/** A zone file: one "NAME TYPE VALUE" per line, '#' comments. */
export function parseZoneFile(text: string): Zone {
  const zone: Zone = new Map();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/#.*$/, '').trim();
    if (!line) return;
    const [name, type, ...rest] = line.split(/\s+/);
    if (!name || !type || rest.length === 0) throw new Error(`zone file line ${i + 1}: expected NAME TYPE VALUE`);
    addZoneEntry(zone, `${name}=${type}:${rest.join(' ')}`);
  });
  return zone;
}

export type Decision =
  /**
   * source: which UDP source port the reply leaves from ('wrong' = another port than the query
   * went to; 'wrong-then-right' = from another port, then the same bytes from the right one).
   */
  | { kind: 'reply'; bytes: Buffer; action: string; delayMs: number; source: 'right' | 'wrong' | 'wrong-then-right' }
  | { kind: 'drop'; action: string };

export interface QueryView {
  id: number;
  qname: string;
  qtype: string;
}

/** Reads the question of a query, or undefined for something that is not one. */
export function readQuery(bytes: Buffer): (QueryView & { packet: dnsPacket.Packet }) | undefined {
  try {
    const p = dnsPacket.decode(bytes);
    const q = p.questions?.[0];
    if (p.type !== 'query' || !q) return undefined;
    return { id: p.id ?? 0, qname: q.name, qtype: q.type, packet: p };
  } catch {
    return undefined;
  }
}

const TTL = 60;

function reply(query: dnsPacket.Packet, rcode: number, answers: dnsPacket.Answer[], truncated = false): Buffer {
  const rd = (query.flags ?? 0) & dnsPacket.RECURSION_DESIRED;
  return dnsPacket.encode({
    type: 'response',
    id: query.id ?? 0,
    flags: dnsPacket.AUTHORITATIVE_ANSWER | dnsPacket.RECURSION_AVAILABLE | rd | (truncated ? dnsPacket.TRUNCATED_RESPONSE : 0) | rcode,
    questions: query.questions ?? [],
    answers,
  });
}

/** A reply to `bytes` with this rcode, TC bit and, when `answered`, one documentation address of the asked type. */
export function scriptedReply(bytes: Buffer, rcode: number, answered: boolean, truncated: boolean): Buffer | undefined {
  const q = readQuery(bytes);
  if (!q) return undefined;
  const owner = q.qname.replace(/\.$/, '');
  const data = q.qtype === 'AAAA' ? '2001:db8::1' : q.qtype === 'A' ? '192.0.2.1' : undefined;
  const answers = answered && data ? [{ type: q.qtype, name: owner, ttl: TTL, data } as dnsPacket.Answer] : [];
  return reply(q.packet, rcode, answers, truncated);
}

const within = (name: string, zones: string[]) => zones.some((z) => name === z || name.endsWith(`.${z}`));

/**
 * Answers from zone data, following CNAMEs through the zone data — except, for a server that is
 * authoritative only for `auth` zones, a CNAME whose target lies outside them: that chain ends
 * at the CNAME record.
 */
function answerFromZone(zone: Zone, qname: string, qtype: string, auth?: string[]): { rcode: number; answers: dnsPacket.Answer[] } {
  const answers: dnsPacket.Answer[] = [];
  let name = norm(qname);
  let owner = qname.replace(/\.$/, '');
  for (let hops = 0; hops < 8; hops++) {
    const rec = zone.get(name);
    if (!rec) return { rcode: answers.length > 0 ? 0 : 3, answers };
    if (qtype === 'A' || qtype === 'AAAA') {
      const list = rec[qtype];
      if (list.length > 0) {
        for (const data of list) answers.push({ type: qtype, name: owner, ttl: TTL, data } as dnsPacket.Answer);
        return { rcode: 0, answers };
      }
    } else if (qtype === 'TXT' && rec.TXT.length > 0) {
      for (const data of rec.TXT) answers.push({ type: 'TXT', name: owner, ttl: TTL, data } as dnsPacket.Answer);
      return { rcode: 0, answers };
    }
    if (rec.CNAME === undefined) return { rcode: 0, answers };
    answers.push({ type: 'CNAME', name: owner, ttl: TTL, data: rec.CNAME } as dnsPacket.Answer);
    if (qtype === 'CNAME') return { rcode: 0, answers };
    if (auth !== undefined && !within(rec.CNAME, auth)) return { rcode: 0, answers };
    name = rec.CNAME;
    owner = rec.CNAME;
  }
  return { rcode: 2, answers: [] };
}

/** What a server with this behaviour does with one query. */
export function respond(b: ServerBehaviour, zone: Zone, bytes: Buffer, transport: Transport): Decision {
  const q = readQuery(bytes);
  if (!q) return { kind: 'drop', action: 'malformed' };
  const isAAAA = q.qtype === 'AAAA';
  const wrong = transport === 'udp' ? b.wrongPort : undefined;
  const out = (bytes: Buffer, action: string): Decision => ({
    kind: 'reply',
    bytes,
    action: wrong === undefined ? action : `${action}+${wrong === 'only' ? 'wrong-port' : 'wrong-port-first'}`,
    delayMs: b.delayMs,
    source: wrong === undefined ? 'right' : wrong === 'only' ? 'wrong' : 'wrong-then-right',
  });
  if (b.base === 'blackhole' || b.base === 'closed') return { kind: 'drop', action: 'blackhole' };
  if (b.formerrEdns && (q.packet.additionals ?? []).some((r) => (r.type as string) === 'OPT')) return out(reply(q.packet, 1, []), 'formerr-edns');
  if (isAAAA && b.aaaa === 'drop') return { kind: 'drop', action: 'drop-aaaa' };
  if (isAAAA && b.aaaa === 'servfail') return out(reply(q.packet, 2, []), 'servfail-aaaa');
  if (isAAAA && b.aaaa === 'nodata') return out(reply(q.packet, 0, []), 'nodata-aaaa');
  switch (b.base) {
    case 'servfail':
      return out(reply(q.packet, 2, []), 'servfail');
    case 'refused':
      return out(reply(q.packet, 5, []), 'refused');
    case 'nxdomain': {
      const n = norm(q.qname);
      if (b.nxdomainSuffix === undefined || n === b.nxdomainSuffix || n.endsWith(`.${b.nxdomainSuffix}`)) {
        return out(reply(q.packet, 3, []), 'nxdomain');
      }
      break;
    }
    case 'truncate':
      if (transport === 'udp') return out(reply(q.packet, 0, [], true), 'truncate');
      break;
  }
  const { rcode, answers } = answerFromZone(zone, q.qname, q.qtype, b.auth);
  const action = rcode === 3 ? 'nxdomain' : rcode === 2 ? 'servfail' : answers.some((a) => a.type === q.qtype) ? 'answer' : 'nodata';
  if (b.base === 'truncate-partial' && transport === 'udp') {
    // A server that fills the datagram record by record and sets TC: the first half (rounded up)
    // of the answer section, the full answer's rcode; TCP gets everything.
    return out(reply(q.packet, rcode, answers.slice(0, Math.ceil(answers.length / 2)), true), 'truncate-partial');
  }
  return out(reply(q.packet, rcode, answers), action);
}

/** Linux forgets an idle UDP conntrack entry after 30 s (nf_conntrack_udp_timeout): the flow is new again. */
export const UDP_FLOW_IDLE_MS = 30_000;

interface Flow {
  first: number;
  last: number;
  packets: number;
}

/**
 * The conntrack insertion race, per server, as state both the simulated network and fake-dns keep:
 * two packets of a new flow (one source address and port to this server) that arrive together
 * both create an unconfirmed entry; the second loses the race to confirm it and is dropped; later
 * packets of the flow pass. On a node the window is the first packet's trip through netfilter
 * (microseconds); here it is `windowMs`, wide enough that a lab reproduces the race whatever the
 * scheduler does, and measured at the server only (a sender's sub-millisecond spacing must not
 * decide it). So A and AAAA from one socket collide whether sent at once (glibc, musl) or one
 * after the other faster than the window (single-request on a fast network), while separate
 * sockets (single-request-reopen, eventlet), TCP (use-vc) and resends after a timeout pass.
 * Memory is bounded: at most `maxFlows` flows (the least recently seen go).
 */
export class ConntrackRace {
  private readonly flows = new Map<string, Flow>();

  constructor(
    private readonly windowMs: number,
    private readonly maxFlows = 65_536,
  ) {}

  /** Whether a UDP packet of `flow` arriving at `now` (ms) gets through. */
  admit(flow: string, now: number): boolean {
    let f = this.flows.get(flow);
    if (f) this.flows.delete(flow); // re-inserted last: the map's order is recency
    if (!f || now - f.last > UDP_FLOW_IDLE_MS) f = { first: now, last: now, packets: 0 };
    this.flows.set(flow, f);
    if (this.flows.size > this.maxFlows) this.flows.delete(this.flows.keys().next().value!);
    f.packets++;
    f.last = now;
    return !(f.packets === 2 && now - f.first <= this.windowMs);
  }

  /** A closed socket's flow: the simulated network numbers sockets, and a new socket is a new flow. */
  forget(flow: string): void {
    this.flows.delete(flow);
  }
}
