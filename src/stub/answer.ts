// The stub's decisions for one client query, as a pure function: answer it here (container
// names, --add-host entries, the subnet's reverse zone), refuse it, or forward it upstream.
import * as dnsPacket from 'dns-packet';
import type { StubClient, StubNetwork } from './view.js';
import { fastParse, fastReply, type FastAnswer, type FastQuery } from './wire.js';
import { addressBytes, ipv4Bytes, ipv6Bytes, isIPv4, v4MappedBytes } from '../../resolvers/core/address.js';
import { contains, parseIPv4, parseSubnet } from '../config/ipv4.js';

export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
const TTL = 5; // short: containers come and go

export interface ParsedQuery {
  id: number;
  qname: string;
  qtype: string;
  flags: number;
  /** the client's EDNS UDP payload size (512 without EDNS) */
  udpSize: number;
  /** the query as received: forwarded upstream with a new id (flags and EDNS kept) */
  bytes: Buffer;
  /** the question name as the client wrote it (answers echo it) */
  owner: string;
  /** the fast path's view (the common shape), for replies built by hand */
  fast: FastQuery | undefined;
}

export type Parse = { ok: true; query: ParsedQuery } | { ok: false; reply: Buffer | undefined; reason: string };

/**
 * Source ports the stub never answers. Port 0: no reply can be addressed to it (and Node's send
 * throws). Every other port below 1024 except 53: stub clients are libc resolvers sending from
 * ephemeral ports; the privileged ports are services, and those that answer any datagram (echo 7,
 * discard 9, daytime 13, qotd 17, chargen 19, time 37, ...) turn a spoofed query into reflection
 * or an endless ping-pong. BIND drops 7, 13, 19 and 37 (ns_client_dropport), dnsmasq port 0; 53
 * stays allowed (a DNS server forwarding from port 53 never answers our response: no loop).
 */
export function unanswerableSourcePort(port: number): boolean {
  return port === 0 || (port < 1024 && port !== 53);
}

export interface Cidr {
  bytes: Uint8Array;
  prefix: number;
}

/** "ADDR/PREFIX" (host bits may be set: an interface's address/prefix) or a bare address (a host). */
export function parseCidr(text: string): Cidr | undefined {
  const m = /^([^/]+)(?:\/(\d{1,3}))?$/.exec(text);
  if (!m) return undefined;
  const bytes = ipv4Bytes(m[1]!) ?? ipv6Bytes(m[1]!);
  if (!bytes) return undefined;
  const prefix = m[2] === undefined ? bytes.length * 8 : Number(m[2]);
  return prefix <= bytes.length * 8 ? { bytes, prefix } : undefined;
}

function inCidr(c: Cidr, b: Uint8Array): boolean {
  if (b.length !== c.bytes.length) return false;
  const whole = c.prefix >> 3;
  for (let i = 0; i < whole; i++) if (b[i] !== c.bytes[i]) return false;
  const rest = c.prefix & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (b[whole]! & mask) === (c.bytes[whole]! & mask);
}

/**
 * Whether a client address is in one of the CIDRs (`tsnet stub serve`'s allow list). An IPv4
 * client seen on a dual-stack socket (::ffff:a.b.c.d) is matched as IPv4; an IPv6 zone is ignored.
 * Decisions are remembered per address (a bounded memo: the UDP path asks once per datagram).
 */
export function allowList(cidrs: readonly string[]): (address: string) => boolean {
  const list = cidrs.map(parseCidr).filter((c): c is Cidr => c !== undefined);
  const memo = new Map<string, boolean>();
  return (address) => {
    let ok = memo.get(address);
    if (ok === undefined) {
      const raw = addressBytes(address);
      const b = raw && (v4MappedBytes(raw) ?? raw);
      ok = b !== undefined && list.some((c) => inCidr(c, b));
      if (memo.size >= 4096) memo.clear();
      memo.set(address, ok);
    }
    return ok;
  };
}

/** Reads a client query. Malformed packets get no reply; wrong shapes get FORMERR or NOTIMP. */
export function parseQuery(bytes: Buffer): Parse {
  if (bytes.length < 12) return { ok: false, reply: undefined, reason: 'short packet' };
  const id = bytes.readUInt16BE(0);
  const flags = bytes.readUInt16BE(2);
  if (flags & 0x8000) return { ok: false, reply: undefined, reason: 'a response, not a query' };
  const opcode = (flags >> 11) & 0xf;
  if (opcode !== 0) return { ok: false, reply: headerReply(id, flags, RCODE.NOTIMP), reason: `opcode ${opcode}` };
  const fast = fastParse(bytes);
  if (fast) return { ok: true, query: { id, qname: fast.qname, qtype: fast.qtype, flags, udpSize: fast.udpSize, bytes, owner: fast.owner, fast } };
  let packet: dnsPacket.Packet;
  try {
    packet = dnsPacket.decode(bytes);
  } catch {
    return { ok: false, reply: headerReply(id, flags, RCODE.FORMERR), reason: 'malformed' };
  }
  const qs = packet.questions ?? [];
  if (qs.length !== 1) return { ok: false, reply: headerReply(id, flags, RCODE.FORMERR), reason: `${qs.length} questions` };
  const q = qs[0]!;
  const opt = (packet.additionals ?? []).find((a) => a.type === 'OPT') as { udpPayloadSize?: number } | undefined;
  return {
    ok: true,
    query: {
      id,
      qname: q.name.replace(/\.$/, '').toLowerCase(),
      qtype: q.type,
      flags,
      udpSize: Math.max(512, Math.min(opt?.udpPayloadSize ?? 512, 4096)),
      bytes,
      owner: q.name.replace(/\.$/, ''),
      fast: undefined,
    },
  };
}

/** A bare header reply (FORMERR, NOTIMP): no question, as for a packet we could not read. */
export function headerReply(id: number, queryFlags: number, rcode: number): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt16BE(id, 0);
  b.writeUInt16BE(0x8000 | (queryFlags & 0x0100) | 0x0080 | rcode, 2); // QR, RD copied, RA
  return b;
}

export function reply(q: ParsedQuery, rcode: number, answers: dnsPacket.Answer[], authoritative: boolean): Buffer {
  if (q.fast) {
    const simple = answers as Array<{ type: string; data: string; ttl: number }>;
    if (simple.every((a) => a.type === 'A' || a.type === 'AAAA' || a.type === 'PTR')) {
      const out = fastReply(q.fast, rcode, simple as FastAnswer[], authoritative);
      if (out) return out;
    }
  }
  return dnsPacket.encode({
    type: 'response',
    id: q.id,
    flags: (q.flags & dnsPacket.RECURSION_DESIRED) | dnsPacket.RECURSION_AVAILABLE | (authoritative ? dnsPacket.AUTHORITATIVE_ANSWER : 0) | rcode,
    questions: [{ type: q.qtype as dnsPacket.RecordType, name: q.owner, class: 'IN' }],
    answers,
  });
}

export type Decision =
  | { kind: 'local'; rcode: number; answers: dnsPacket.Answer[]; source: 'container' | 'add-host' | 'reverse' }
  | { kind: 'forward' }
  | { kind: 'refuse' };

const inSubnet = (addr: string, subnet: string) => isIPv4(addr) && contains(parseSubnet(subnet), parseIPv4(addr));

/**
 * Local names never leave the stub: `name` and `name.<network>.tsnet` of containers on the
 * client's network, the client's --add-host entries, and PTR records of the network's subnet.
 */
export function decide(q: ParsedQuery, client: StubClient | undefined, network: StubNetwork | undefined): Decision {
  if (!client || !network) return { kind: 'refuse' };
  const name = q.qname;
  const zone = `${network.name}.tsnet`;
  const owner = q.owner;
  const addressAnswer = (address: string): dnsPacket.Answer[] =>
    (q.qtype === 'A' && !address.includes(':')) || (q.qtype === 'AAAA' && address.includes(':'))
      ? [{ type: q.qtype, name: owner, ttl: TTL, data: address } as dnsPacket.Answer]
      : [];

  const short = name.endsWith(`.${zone}`) ? name.slice(0, -zone.length - 1) : name.includes('.') ? undefined : name;
  const containerAddr = short !== undefined ? network.containers.get(short) : undefined;
  if (containerAddr !== undefined) return { kind: 'local', rcode: RCODE.NOERROR, answers: addressAnswer(containerAddr), source: 'container' };
  if (name === zone || name.endsWith(`.${zone}`)) return { kind: 'local', rcode: RCODE.NXDOMAIN, answers: [], source: 'container' };

  const hosts = client.addHosts.filter((h) => h.name.toLowerCase() === name);
  if (hosts.length > 0) {
    return { kind: 'local', rcode: RCODE.NOERROR, answers: hosts.flatMap((h) => addressAnswer(h.address)), source: 'add-host' };
  }

  if (name.endsWith('.in-addr.arpa')) {
    const parts = name.slice(0, -'.in-addr.arpa'.length).split('.');
    if (parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p))) {
      const addr = [...parts].reverse().join('.');
      if (inSubnet(addr, network.subnet)) {
        const ctr = network.byAddress.get(addr);
        const answers = ctr && q.qtype === 'PTR' ? [{ type: 'PTR', name: owner, ttl: TTL, data: `${ctr}.${zone}` } as dnsPacket.Answer] : [];
        return { kind: 'local', rcode: ctr || addr === network.gateway ? RCODE.NOERROR : RCODE.NXDOMAIN, answers, source: 'reverse' };
      }
    }
  }
  return { kind: 'forward' };
}

/**
 * Fits a reply into the client's UDP size: a reply that is too big is cut to its header and
 * question with TC set, so the client retries over TCP.
 */
export function fitUdp(bytes: Buffer, udpSize: number): Buffer {
  if (bytes.length <= udpSize) return bytes;
  try {
    const p = dnsPacket.decode(bytes);
    return dnsPacket.encode({ ...p, flags: (p.flags ?? 0) | dnsPacket.TRUNCATED_RESPONSE, answers: [], authorities: [], additionals: [] });
  } catch {
    return headerReply(bytes.readUInt16BE(0), 0, RCODE.SERVFAIL);
  }
}

/** The upstream reply with the client's id. */
export function withId(bytes: Buffer, id: number): Buffer {
  const out = Buffer.from(bytes);
  out.writeUInt16BE(id, 0);
  return out;
}
