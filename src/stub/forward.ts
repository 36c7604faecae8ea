// Runs one upstream exchange for a client query with the client container's strategy, on real
// sockets (src/driver/real-driver.ts), behind a guard: a reply is accepted only from a server
// it was sent to, with the same id and question; anything else is dropped and counted.
import { randomInt } from 'node:crypto';
import { createForwarder, type Forwarder, type ForwardMode } from '../../resolvers/forward.js';
import { decodeReply, sameName } from '../../resolvers/core/wire.js';
import type { MachineEvent, QueryInfo, ResolverMachine, Trace } from '../../resolvers/core/types.js';
import { lookupReal, type UdpSocketSource } from '../driver/real-driver.js';
import { appendOptions } from '../files/resolvconf.js';
import { stubWorstCaseMs } from '../files/stub-resolv.js';

/**
 * Randomness an off-path spoofer cannot model (Math.random's xorshift128+ state can be recovered
 * from a few outputs), from node:crypto's randomInt, which draws from a pooled randomFillSync
 * buffer of its own. Measured here (Node 20, 2 cores): randomInt(65536) 170-250 ns a call against
 * Math.random's 38 ns (a hand-pooled randomFillSync: 71 ns), while the cheapest forwarded query
 * (an upstream the kernel refuses at once) costs the stub 23 us: about 1 %, not worth a pool of
 * our own.
 */
export const randomQueryId = (): number => randomInt(65536);

/** A float in [0, 1) from the same source, for the emulators' injected `random` (rotate's start). */
export const cryptoRandom = (): number => randomInt(0xffff_ffff_ffff) / 0xffff_ffff_ffff;

export interface ForwardCounters {
  spoofed: number;
}

/** Drops replies that do not answer the query from one of the servers (anti-spoofing). */
function guarded(machine: ResolverMachine, query: QueryInfo, servers: Set<string>, counters: ForwardCounters): ResolverMachine {
  const ok = (ev: MachineEvent): boolean => {
    if (ev.type === 'udp' && !servers.has(ev.from)) return false;
    if (ev.type !== 'udp' && ev.type !== 'tcp') return true;
    const r = decodeReply(ev.bytes);
    return r !== undefined && r.id === query.id && r.question !== undefined && sameName(r.question.name, query.qname) && r.question.type === query.qtype;
  };
  return {
    start: (now, clock) => machine.start(now, clock),
    handle: (now, ev) => {
      if (ok(ev)) return machine.handle(now, ev);
      counters.spoofed++;
      return [];
    },
  };
}

export class ClientForwarders {
  private readonly udp: Forwarder;
  private readonly tcp: Forwarder;
  private readonly servers: Set<string>;

  /**
   * The stub's worst case (every upstream silent): the deadline of every exchange. glibc's TCP
   * (send_vc, for a TCP client or after a truncated UDP answer) has no timeout of its own, so an
   * upstream that accepts and never answers would hold the query for ever; a UDP exchange ends by
   * then on its own timers (when both fire at once, the result is the same failure).
   */
  private readonly worstMs: number;

  constructor(readonly mode: ForwardMode, readonly conf: string, upstreams: string[], private readonly sockets?: UdpSocketSource) {
    const ctx = (resolvConf: string) => ({
      input: { resolvConf, hosts: '', nsswitch: undefined, env: {}, hostname: 'tsnet-stub' },
      random: cryptoRandom,
      warn: () => {},
    });
    this.udp = createForwarder(mode, ctx(conf));
    // A client that asked over TCP is answered from a TCP exchange (glibc's send_vc order).
    this.tcp = createForwarder('glibc', ctx(appendOptions(conf, ['use-vc'])));
    this.servers = new Set(upstreams);
    this.worstMs = stubWorstCaseMs(mode, conf);
  }

  /** Sends `bytes` (the client's query, id rewritten) upstream; resolves with the trace (reply in result.reply). */
  exchange(query: QueryInfo, viaTcp: boolean, counters: ForwardCounters): Promise<Trace> {
    const machine = guarded((viaTcp ? this.tcp : this.udp).forward(query), query, this.servers, counters);
    return lookupReal({ lookup: () => machine }, { name: query.qname, family: 'any', canonname: false }, {
      mode: this.mode,
      port: 53,
      warnings: [],
      deadlineMs: this.worstMs,
      udpSockets: this.sockets,
    });
  }
}
