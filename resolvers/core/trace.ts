// Builds the trace of a lookup from what a driver sent and received. Shared by both drivers so
// that real and simulated runs describe themselves identically.
import type { QType, QueryOutcome, Trace, TraceQuery, Transport, LookupResult, Family } from './types.js';
import { decodeReply, outcomeOf, sameName } from './wire.js';

interface Pending {
  key: string;
  id: number;
  entry: TraceQuery;
  sentAt: number;
}

/**
 * What a driver lets one lookup cost before it stops it (EAI_AGAIN, and a warning saying so): a
 * hostile configuration can ask for more than any real network needs — Go takes `attempts` and
 * `timeout` up to 16 777 215 (its resolv.conf parser's saturation), 16 million queries to a
 * refusing server or 194 days of waiting.
 */
export const MAX_LOOKUP_QUERIES = 10_000;
export const MAX_LOOKUP_MS = 3600_000;
export const stoppedWarning = (why: string) => `tsnet stopped this lookup after ${why}: the configuration would have it go on (reported as EAI_AGAIN)`;

export class TraceRecorder {
  private readonly queries: TraceQuery[] = [];
  private readonly pending: Pending[] = [];

  constructor(private readonly start: number) {}

  /** Queries recorded so far (drivers stop a lookup that goes past MAX_LOOKUP_QUERIES). */
  get count(): number {
    return this.queries.length;
  }

  /** `key` names the socket or connection the query went out on. */
  sent(now: number, key: string, server: string, transport: Transport, qname: string, qtype: QType, id: number): void {
    const entry: TraceQuery = {
      t_ms: round(now - this.start),
      server,
      transport,
      qname: qname.replace(/\.$/, '').toLowerCase(),
      qtype,
      outcome: 'timeout',
      rtt_ms: null,
    };
    this.queries.push(entry);
    this.pending.push({ key, id, entry, sentAt: now });
  }

  /**
   * A reply arrived on `key` (from `from`, for UDP): it completes the latest unanswered query with
   * its id sent there to that server (one unconnected socket may talk to every server: musl). A
   * resend carries the same id as the send it repeats, so the wire cannot say which one a reply
   * answers; the latest is the likely one (loss is common, a reply later than a whole retry
   * interval is not), and it keeps a lost first send visible as a timeout.
   */
  received(now: number, key: string, bytes: Buffer, from?: string, wrongPort?: boolean): void {
    const reply = decodeReply(bytes);
    if (!reply) return;
    let i = this.pending.length - 1;
    const matches = (p: Pending) =>
      p.key === key &&
      p.id === reply.id &&
      (from === undefined || p.entry.server === from) &&
      (reply.question === undefined || (sameName(reply.question.name, p.entry.qname) && reply.question.type === p.entry.qtype));
    while (i >= 0 && !matches(this.pending[i]!)) i--;
    if (i < 0) return;
    if (wrongPort) {
      // Not an answer to it (the library ignores it or gives up the try): a right one may follow.
      this.pending[i]!.entry.outcome = 'wrong-port';
      this.pending[i]!.entry.rtt_ms = round(now - this.pending[i]!.sentAt);
      return;
    }
    const [p] = this.pending.splice(i, 1);
    p!.entry.outcome = outcomeOf(reply);
    p!.entry.rtt_ms = round(now - p!.sentAt);
  }

  /** An error on `key` ends every query waiting there (ICMP unreachable, refused connection). */
  failed(now: number, key: string, outcome: QueryOutcome): void {
    for (let i = this.pending.length - 1; i >= 0; i--) {
      const p = this.pending[i]!;
      if (p.key !== key) continue;
      p.entry.outcome = outcome;
      p.entry.rtt_ms = round(now - p.sentAt);
      this.pending.splice(i, 1);
    }
  }

  finish(now: number, mode: string, name: string, family: Family, result: LookupResult, warnings: string[]): Trace {
    return { mode, name, family, result, elapsed_ms: round(now - this.start), queries: this.queries, warnings };
  }
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;
