// The fault-injecting authoritative server's decisions, as a pure function: `tsnet fake-dns`
// (real sockets) and the simulated driver (virtual network) answer with the same code.
import * as dnsPacket from 'dns-packet';
import { ipv4Bytes, ipv6Bytes } from './address.js';
import type { Transport } from './types.js';

export const BEHAVIOURS = [
  'answer', 'blackhole', 'closed', 'servfail', 'refused', 'nxdomain', 'nodata-aaaa', 'drop-aaaa',
  'servfail-aaaa', 'truncate', 'delay',
] as const;

export interface ServerBehaviour {
  /** what every query gets, unless an AAAA rule below applies */
  base: 'answer' | 'blackhole' | 'closed' | 'servfail' | 'refused' | 'nxdomain' | 'truncate';
  /** nxdomain only for names under this suffix (others are answered) */
  nxdomainSuffix?: string | undefined;
  aaaa?: 'nodata' | 'drop' | 'servfail' | undefined;
  delayMs: number;
}

/** Parses "delay:1500,drop-aaaa" style behaviour lists. Throws Error with a usable message. */
export function parseBehaviour(text: string): ServerBehaviour {
  const b: ServerBehaviour = { base: 'answer', delayMs: 0 };
  for (const item of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [kind, arg] = item.split(/:(.*)/s) as [string, string | undefined];
    switch (kind) {
      case 'answer': case 'blackhole': case 'closed': case 'servfail': case 'refused': case 'truncate':
        b.base = kind;
        break;
      case 'nxdomain':
        b.base = 'nxdomain';
        b.nxdomainSuffix = arg ? arg.replace(/^\.|\.$/g, '').toLowerCase() : undefined;
        break;
      case 'nodata-aaaa': b.aaaa = 'nodata'; break;
      case 'drop-aaaa': b.aaaa = 'drop'; break;
      case 'servfail-aaaa': b.aaaa = 'servfail'; break;
      case 'delay':
        if (!arg || !/^\d+$/.test(arg)) throw new Error(`behaviour "${item}": delay needs milliseconds, like delay:1500`);
        b.delayMs = Number(arg);
        break;
      default:
        throw new Error(`unknown behaviour "${item}": use ${BEHAVIOURS.map((x) => (x === 'delay' ? 'delay:MS' : x === 'nxdomain' ? 'nxdomain[:suffix]' : x)).join(', ')}`);
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
  | { kind: 'reply'; bytes: Buffer; action: string; delayMs: number }
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

/** Answers from zone data, following CNAMEs inside the zone. */
function answerFromZone(zone: Zone, qname: string, qtype: string): { rcode: number; answers: dnsPacket.Answer[] } {
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
  const out = (bytes: Buffer, action: string): Decision => ({ kind: 'reply', bytes, action, delayMs: b.delayMs });
  if (b.base === 'blackhole' || b.base === 'closed') return { kind: 'drop', action: 'blackhole' };
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
  const { rcode, answers } = answerFromZone(zone, q.qname, q.qtype);
  const action = rcode === 3 ? 'nxdomain' : rcode === 2 ? 'servfail' : answers.some((a) => a.type === q.qtype) ? 'answer' : 'nodata';
  return out(reply(q.packet, rcode, answers), action);
}
