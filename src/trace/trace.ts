// tsnet trace: watch a target's DNS from inside its network namespace without changing it (an
// AF_PACKET socket opened there with a kernel filter: no tcpdump, no promiscuous mode), until a
// duration passes, the traced command exits or the caller stops it; then exchanges, lookups,
// fingerprint and report. Memory is bounded by `maxRecords` (what does not fit is counted).
import { DnsCapture, type WireRecord } from '../capture/capture.js';
import type { Target } from '../engines/target-view.js';
import { inNetns } from '../ns/enter.js';
import { LIBRARY_RULES, parseResolverConfig } from '../../resolvers/core/config.js';
import { toExchanges } from './exchanges.js';
import { groupLookups } from './lookups.js';
import { buildReport, type TraceReport } from './report.js';

export const DEFAULT_MAX_RECORDS = 200_000;
/** After the traced command exits: replies already on their way still arrive. */
const GRACE_MS = 100;
const POLL_MS = 50;

export interface TraceOptions {
  ports: number[];
  /** stop after this long */
  durationMs?: number | undefined;

  /** stop when aborted (Ctrl-C): the report covers what was seen so far */
  signal?: AbortSignal | undefined;
  maxRecords?: number | undefined;
  /**
   * Called once the capture is open (traffic from then on is seen): starts the traced command,
   * and the trace stops GRACE_MS after the promise it returns settles.
   */
  start?: () => Promise<unknown> | undefined;
}

/** Waits for the first of: duration, command exit (+ grace), abort, or a failing read (rejects with it). */
function stopWhen(o: TraceOptions, until: Promise<unknown> | undefined, drain: () => boolean): Promise<void> {
  return new Promise((done, fail) => {
    let over = false;
    // A drain that stopped on its budget goes on at the next turn of the event loop, after timers and signals.
    const read = () => {
      if (over) return;
      try {
        if (drain()) setImmediate(read);
      } catch (err) {
        finish();
        fail(err);
      }
    };
    const tick = setInterval(read, POLL_MS);
    const timers: NodeJS.Timeout[] = [];
    const finish = () => {
      over = true;
      clearInterval(tick);
      for (const t of timers) clearTimeout(t);
      o.signal?.removeEventListener('abort', finish);
      done();
    };
    if (o.signal?.aborted) return finish();
    o.signal?.addEventListener('abort', finish);
    if (o.durationMs !== undefined) timers.push(setTimeout(finish, o.durationMs));
    const later = () => timers.push(setTimeout(finish, GRACE_MS));
    until?.then(later, later);
  });
}

/** The search domains the target's libraries walk: resolv.conf's, else the hostname's domain (glibc, musl). */
function searchDomains(target: Target): string[] {
  const { search } = parseResolverConfig(target.resolvConf, LIBRARY_RULES.glibc, () => {});
  const dot = target.hostname.indexOf('.');
  return search.length > 0 ? search : dot > 0 ? [target.hostname.slice(dot + 1)] : [];
}

export async function runTrace(target: Target, o: TraceOptions): Promise<TraceReport> {
  const capture = inNetns(target.netns, () => DnsCapture.open({ ports: o.ports, maxRecords: o.maxRecords ?? DEFAULT_MAX_RECORDS }));
  let records: WireRecord[];
  const startedAt = Date.now();
  try {
    await stopWhen(o, o.start?.(), () => capture.poll());
    records = capture.take();
  } finally {
    capture.close();
  }
  const endedAt = Date.now();
  const lookups = groupLookups(toExchanges(records, o.ports), searchDomains(target));
  return buildReport({
    target: target.label,
    startedAt,
    endedAt,
    ports: o.ports,
    capture: { ...capture.stats, kept: records.length },
    lookups,
    input: { resolvConf: target.resolvConf, hosts: target.hosts, nsswitch: target.nsswitch, env: {}, hostname: target.hostname },
  });
}
