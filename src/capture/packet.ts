// PURE: a captured IP packet (from its network header) → what a DNS capture needs: addresses,
// transport, ports, the TCP sequence and flags, the DNS message of a UDP datagram, and for an
// ICMP/ICMPv6 destination-unreachable the datagram it reports. Anything malformed or truncated
// decodes to undefined or to a packet without DNS: a capture reads hostile traffic too.
import dnsPacket from 'dns-packet';
import { addressText } from '../../resolvers/core/address.js';

export interface DnsSummary {
  id: number;
  qr: boolean;
  opcode: number;
  rcode: number;
  tc: boolean;
  /** lower-case, no trailing dot; '' when there is no question */
  qname: string;
  qtype: string;
  answers: number;
  /** an OPT record is present (EDNS) */
  edns: boolean;
}

export interface IcmpUnreachable {
  /** ICMP type 3 / ICMPv6 type 1 code: 3 (v4) or 4 (v6) = port unreachable */
  code: number;
  /** the datagram it reports: where it was going */
  dst: string;
  dport: number;
  src: string;
  sport: number;
}

export interface DecodedPacket {
  version: 4 | 6;
  src: string;
  dst: string;
  transport: 'udp' | 'tcp' | 'icmp';
  sport: number;
  dport: number;
  /** UDP/TCP payload (a copy) */
  payload: Buffer;
  tcp?: { seq: number; syn: boolean; fin: boolean; rst: boolean };
  /** the DNS message in a UDP payload, when it decodes */
  dns?: DnsSummary;
  icmp?: IcmpUnreachable;
}

export function summarizeDns(bytes: Uint8Array): DnsSummary | undefined {
  let msg: dnsPacket.Packet;
  try {
    msg = dnsPacket.decode(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch {
    return undefined;
  }
  const flags = msg.flags ?? 0;
  const q = msg.questions?.[0];
  return {
    id: msg.id ?? 0,
    qr: msg.type === 'response',
    opcode: (flags >> 11) & 0xf,
    rcode: flags & 0xf,
    tc: (flags & dnsPacket.TRUNCATED_RESPONSE) !== 0,
    qname: q ? q.name.replace(/\.$/, '').toLowerCase() : '',
    qtype: q ? String(q.type) : '',
    answers: msg.answers?.length ?? 0,
    edns: (msg.additionals ?? []).some((a) => a.type === 'OPT'),
  };
}

interface Ip {
  version: 4 | 6;
  src: string;
  dst: string;
  proto: number;
  /** the transport header and payload */
  body: Buffer;
  /** a non-first fragment: no transport header */
  fragment: boolean;
}

function ip(b: Buffer): Ip | undefined {
  if (b.length < 1) return undefined;
  const version = b[0]! >> 4;
  if (version === 4) {
    const ihl = (b[0]! & 0xf) * 4;
    if (ihl < 20 || b.length < ihl) return undefined;
    const total = Math.min(b.readUInt16BE(2), b.length);
    return { version: 4, src: addressText(b.subarray(12, 16)), dst: addressText(b.subarray(16, 20)), proto: b[9]!, body: b.subarray(ihl, Math.max(ihl, total)), fragment: (b.readUInt16BE(6) & 0x1fff) !== 0 };
  }
  if (version === 6) {
    if (b.length < 40) return undefined;
    const end = Math.min(40 + b.readUInt16BE(4), b.length);
    // Extension headers are not followed: DNS traffic does not carry them.
    return { version: 6, src: addressText(b.subarray(8, 24)), dst: addressText(b.subarray(24, 40)), proto: b[6]!, body: b.subarray(40, end), fragment: false };
  }
  return undefined;
}

function unreachable(p: Ip): IcmpUnreachable | undefined {
  const b = p.body;
  const isUnreachable = p.version === 4 ? p.proto === 1 && b[0] === 3 : p.proto === 58 && b[0] === 1;
  if (!isUnreachable || b.length < 8) return undefined;
  const inner = ip(b.subarray(8));
  if (!inner || inner.fragment || inner.body.length < 4 || (inner.proto !== 17 && inner.proto !== 6)) return undefined;
  return { code: b[1]!, dst: inner.dst, dport: inner.body.readUInt16BE(2), src: inner.src, sport: inner.body.readUInt16BE(0) };
}

/** Decodes one captured packet; undefined for anything that is not UDP, TCP or ICMP unreachable. */
export function decodePacket(bytes: Buffer): DecodedPacket | undefined {
  const p = ip(bytes);
  if (!p || p.fragment) return undefined;
  const b = p.body;
  if (p.proto === 17 && b.length >= 8) {
    const payload = Buffer.from(b.subarray(8, Math.max(8, Math.min(b.readUInt16BE(4), b.length))));
    const dns = summarizeDns(payload);
    return { version: p.version, src: p.src, dst: p.dst, transport: 'udp', sport: b.readUInt16BE(0), dport: b.readUInt16BE(2), payload, ...(dns ? { dns } : {}) };
  }
  if (p.proto === 6 && b.length >= 20) {
    const off = (b[12]! >> 4) * 4;
    if (off < 20 || b.length < off) return undefined;
    const flags = b[13]!;
    return {
      version: p.version,
      src: p.src,
      dst: p.dst,
      transport: 'tcp',
      sport: b.readUInt16BE(0),
      dport: b.readUInt16BE(2),
      payload: Buffer.from(b.subarray(off)),
      tcp: { seq: b.readUInt32BE(4), syn: (flags & 0x02) !== 0, fin: (flags & 0x01) !== 0, rst: (flags & 0x04) !== 0 },
    };
  }
  const icmp = unreachable(p);
  if (icmp) return { version: p.version, src: p.src, dst: p.dst, transport: 'icmp', sport: 0, dport: 0, payload: Buffer.alloc(0), icmp };
  return undefined;
}
