// DNS messages for the emulators: build queries, read replies. Pure (dns-packet does the wire format).
import * as dnsPacket from 'dns-packet';
import type { QType } from './types.js';

export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

export interface QueryOptions {
  /** EDNS0 OPT record advertising this UDP payload size */
  edns?: number;
  /** set the AD bit (glibc trust-ad) */
  ad?: boolean;
}

export function encodeQuery(id: number, qname: string, qtype: QType, opts: QueryOptions = {}): Buffer {
  return dnsPacket.encode({
    type: 'query',
    id,
    flags: dnsPacket.RECURSION_DESIRED | (opts.ad ? dnsPacket.AUTHENTIC_DATA : 0),
    questions: [{ type: qtype as dnsPacket.RecordType, name: qname, class: 'IN' }],
    ...(opts.edns ? { additionals: [{ type: 'OPT', name: '.', udpPayloadSize: opts.edns, extendedRcode: 0, ednsVersion: 0, flags: 0, options: [] } as unknown as dnsPacket.Answer] } : {}),
  });
}

const HEADER = 12;
const [T_A, T_AAAA, C_IN] = [1, 28, 1];

/** Offset just past the question's QNAME (labels or a compression pointer), or -1 when malformed. */
function questionNameEnd(msg: Buffer): number {
  let at = HEADER;
  while (at < msg.length) {
    const len = msg[at]!;
    if (len === 0) return at + 1;
    if ((len & 0xc0) === 0xc0) return at + 2 <= msg.length ? at + 2 : -1;
    if (len & 0xc0) return -1;
    at += 1 + len;
  }
  return -1;
}

const questionIs = (msg: Buffer, at: number, type: number) => at + 4 <= msg.length && msg.readUInt16BE(at) === type && msg.readUInt16BE(at + 2) === C_IN;

/**
 * glibc's RES_NOAAAA (resolv/res-noaaaa.c): an AAAA query goes out as an A query with the same
 * header and name, EDNS0 dropped (only the question is kept). undefined when it is not an AAAA/IN question.
 */
export function noAaaaQuery(query: Buffer): Buffer | undefined {
  const end = questionNameEnd(query);
  if (end < 0 || query.readUInt16BE(4) !== 1 || !questionIs(query, end, T_AAAA)) return undefined;
  const out = Buffer.from(query.subarray(0, end + 4));
  out.writeUInt16BE(0, 10); // arcount: no OPT
  out.writeUInt16BE(T_A, end);
  return out;
}

/**
 * ...and its reply is cut back to the header and the question, its type switched back to AAAA and
 * every count but qdcount zeroed, the rcode untouched: an answer becomes NODATA, NXDOMAIN stays.
 */
export function noAaaaReply(reply: Buffer): Buffer {
  const end = questionNameEnd(reply);
  if (end < 0 || !questionIs(reply, end, T_A)) return reply;
  const out = Buffer.from(reply.subarray(0, end + 4));
  out.writeUInt16BE(T_AAAA, end);
  for (const count of [6, 8, 10]) out.writeUInt16BE(0, count);
  return out;
}

export interface Reply {
  /** the packet as received */
  bytes: Buffer;
  id: number;
  rcode: number;
  truncated: boolean;
  authoritative: boolean;
  recursionAvailable: boolean;
  question: { name: string; type: string } | undefined;
  qdcount: number;
  /** A/AAAA addresses for the question's type, in answer order */
  addresses: string[];
  /** CNAME target, when the answer holds one for the question name */
  cname: string | undefined;
  /** the answer section in order: owner, type, and the data as text (names without the final dot) */
  records: Array<{ name: string; type: string; data: string }>;
  ancount: number;
  arcount: number;
}

// One received packet is read by the trace recorder, the stub's guard and the emulator: decode it once.
const decoded = new WeakMap<Buffer, Reply | null>();

/** Decodes a reply; undefined for anything that is not a well-formed DNS response. */
export function decodeReply(bytes: Buffer): Reply | undefined {
  const known = decoded.get(bytes);
  if (known !== undefined) return known ?? undefined;
  const reply = decodeUncached(bytes);
  decoded.set(bytes, reply ?? null);
  return reply;
}

function decodeUncached(bytes: Buffer): Reply | undefined {
  let msg: dnsPacket.Packet;
  try {
    msg = dnsPacket.decode(bytes);
  } catch {
    return undefined;
  }
  if (msg.type !== 'response') return undefined;
  const flags = msg.flags ?? 0;
  const q = msg.questions?.[0];
  const qtype = q?.type;
  const answers = (msg.answers ?? []) as Array<{ name: string; type: string; data?: unknown }>;
  return {
    bytes,
    id: msg.id ?? 0,
    rcode: flags & 0xf,
    truncated: (flags & dnsPacket.TRUNCATED_RESPONSE) !== 0,
    authoritative: (flags & dnsPacket.AUTHORITATIVE_ANSWER) !== 0,
    recursionAvailable: (flags & dnsPacket.RECURSION_AVAILABLE) !== 0,
    question: q ? { name: q.name, type: q.type } : undefined,
    qdcount: msg.questions?.length ?? 0,
    addresses: answers.filter((a) => a.type === qtype && (a.type === 'A' || a.type === 'AAAA')).map((a) => String(a.data)),
    cname: answers.find((a) => a.type === 'CNAME')?.data as string | undefined,
    records: answers.map((a) => ({ name: a.name, type: a.type, data: typeof a.data === 'string' ? a.data : JSON.stringify(a.data) })),
    ancount: answers.length,
    arcount: msg.additionals?.length ?? 0,
  };
}

/** DNS names compare case-insensitively, without the trailing dot. */
export const sameName = (a: string, b: string) => a.replace(/\.$/, '').toLowerCase() === b.replace(/\.$/, '').toLowerCase();

/** Whether a reply answers this query: same id and same question (what glibc's res_queriesmatch checks). */
export function matches(reply: Reply, id: number, qname: string, qtype: QType): boolean {
  return reply.id === id && reply.question !== undefined && reply.question.type === qtype && sameName(reply.question.name, qname);
}

/** The trace's outcome for a reply. */
export function outcomeOf(reply: Reply): 'answer' | 'nodata' | 'nxdomain' | 'servfail' | 'refused' | 'notimp' | 'formerr' | 'truncated' | 'rcode' {
  if (reply.truncated) return 'truncated';
  switch (reply.rcode) {
    case RCODE.NOERROR:
      return reply.addresses.length > 0 || reply.cname !== undefined ? 'answer' : 'nodata';
    case RCODE.NXDOMAIN:
      return 'nxdomain';
    case RCODE.SERVFAIL:
      return 'servfail';
    case RCODE.REFUSED:
      return 'refused';
    case RCODE.NOTIMP:
      return 'notimp';
    case RCODE.FORMERR:
      return 'formerr';
    default:
      return 'rcode';
  }
}
