// PURE: captured packets → exchanges: each query this namespace sent, with the reply (or ICMP
// error) that came back for it. The capture sees every interface of the namespace; a query counts
// when it leaves (PACKET_OUTGOING: on loopback, where each packet is seen twice, that is its
// sending copy) and a reply when it arrives, so a DNS server inside the namespace is not mistaken
// for a client. A resend repeats its query's id: a reply goes to the latest unanswered send of
// that id and question on that socket (as the emulators' traces do, resolvers/core/trace.ts).
import type { WireRecord } from '../capture/capture.js';
import type { QueryOutcome } from '../../resolvers/core/types.js';

export interface Exchange {
  /** kernel time the query left, ms since the epoch */
  t: number;
  transport: 'udp' | 'tcp';
  /** the client socket: source address and port */
  client: string;
  clientPort: number;
  server: string;
  serverPort: number;
  id: number;
  qname: string;
  qtype: string;
  edns: boolean;
  outcome: QueryOutcome;
  /** ms from send to reply; null when none came */
  rtt: number | null;
  /** the reply's answer count (all records: a CNAME chain counts) */
  answers: number;
}

const RCODES: Record<number, QueryOutcome> = { 1: 'formerr', 2: 'servfail', 3: 'nxdomain', 4: 'notimp', 5: 'refused' };

function outcomeOf(r: NonNullable<WireRecord['dns']>): QueryOutcome {
  if (r.tc) return 'truncated';
  if (r.rcode === 0) return r.answers > 0 ? 'answer' : 'nodata';
  return RCODES[r.rcode] ?? 'rcode';
}

/** The latest send of the list still without a reply; answered ones at its end are dropped for good (each is looked at once). */
function latestUnanswered(list: Exchange[] | undefined): Exchange | undefined {
  while (list && list.length > 0 && list.at(-1)!.rtt !== null) list.pop();
  return list?.at(-1);
}

const sock = (transport: string, addr: string, port: number, peer: string, peerPort: number) => `${transport} ${addr} ${port} ${peer} ${peerPort}`;

/**
 * Pairs queries with replies. `serverPorts`: what counts as a DNS server port (53, the stub's).
 * Exchanges come out in send order; records may come in any order.
 */
export function toExchanges(records: WireRecord[], serverPorts: number[]): Exchange[] {
  const ports = new Set(serverPorts);
  const sorted = [...records].sort((a, b) => a.ts - b.ts);
  const out: Exchange[] = [];
  const waiting = new Map<string, Exchange[]>(); // socket + id + question → sends without a reply, oldest first
  const onSocket = new Map<string, Exchange[]>(); // client socket → its sends without a reply (for ICMP)
  const byId = new Map<string, Exchange[]>(); // socket + id → sends (a reply may carry no question: FORMERR, SERVFAIL, REFUSED)
  for (const r of sorted) {
    if (r.transport === 'icmp') {
      const i = r.icmp;
      if (r.outgoing || !i || !ports.has(i.dport)) continue;
      const key = sock('udp', i.src, i.sport, i.dst, i.dport);
      for (const e of onSocket.get(key) ?? []) {
        if (e.rtt !== null) continue;
        e.outcome = 'icmp-unreachable';
        e.rtt = r.ts - e.t;
      }
      onSocket.delete(key); // each send is looked at once: a flood of errors stays linear
      continue;
    }
    const d = r.dns;
    if (!d || d.opcode !== 0) continue;
    if (!d.qr && r.outgoing && ports.has(r.dport)) {
      const e: Exchange = {
        t: r.ts, transport: r.transport, client: r.src, clientPort: r.sport, server: r.dst, serverPort: r.dport,
        id: d.id, qname: d.qname, qtype: d.qtype, edns: d.edns, outcome: 'timeout', rtt: null, answers: 0,
      };
      out.push(e);
      const s = sock(r.transport, r.src, r.sport, r.dst, r.dport);
      const key = `${s} ${d.id} ${d.qname} ${d.qtype}`;
      for (const [map, k] of [[waiting, key], [onSocket, s], [byId, `${s} ${d.id}`]] as const) {
        const list = map.get(k);
        if (list) list.push(e);
        else map.set(k, [e]);
      }
    } else if (d.qr && !r.outgoing && ports.has(r.sport)) {
      const s = sock(r.transport, r.dst, r.dport, r.src, r.sport);
      // the latest unanswered send of that id and question (of that id alone, for a reply without one)
      const e = latestUnanswered(d.qname === '' ? byId.get(`${s} ${d.id}`) : waiting.get(`${s} ${d.id} ${d.qname} ${d.qtype}`));
      if (!e) continue;
      e.outcome = outcomeOf(d);
      e.rtt = r.ts - e.t;
      e.answers = d.answers;
    }
  }
  return out;
}
