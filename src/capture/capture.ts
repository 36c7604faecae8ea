// A DNS capture on an AF_PACKET socket: every UDP/TCP packet to or from the given ports (and every
// ICMP unreachable) on every interface of the network namespace the socket was opened in, with
// the kernel's receive timestamp. Open it in the namespace to watch (the caller enters it around
// `open`, see src/ns/enter.ts: a socket belongs to the namespace of the thread that made it);
// read it from anywhere. Reading polls: the timestamps come from the kernel, so how soon the
// queue is drained never changes a timing. Memory is bounded by the socket buffer, the TCP
// reassembler's limits and `maxRecords`; what does not fit is counted, never silently lost.
import { closePacketSocket, openPacketSocket, packetDrops, readPacket } from '../../native/packet.js';
import { dnsCaptureFilter, SNAP_BYTES } from './filter.js';
import { decodePacket, summarizeDns, type DnsSummary, type IcmpUnreachable } from './packet.js';
import { TcpDnsReassembler } from './tcp-dns.js';

export interface WireRecord {
  /** kernel timestamp, ms since the epoch (CLOCK_REALTIME) */
  ts: number;
  /** sent by this namespace (PACKET_OUTGOING); on loopback every packet is seen twice, once each way */
  outgoing: boolean;
  ifIndex: number;
  transport: 'udp' | 'tcp' | 'icmp';
  src: string;
  sport: number;
  dst: string;
  dport: number;
  /** UDP: the datagram's message; TCP: one record per complete message on the stream */
  dns?: DnsSummary;
  icmp?: IcmpUnreachable;
  /** TCP connection set-up/tear-down seen (no message): 'syn' | 'fin' | 'rst' */
  tcpFlag?: 'syn' | 'fin' | 'rst';
}

export interface CaptureStats {
  packets: number;
  records: number;
  /** packets past maxRecords: counted, not decoded, not kept */
  overflow: number;
  /** packets the kernel dropped because the socket buffer was full (read when drained) */
  kernelDrops: number;
  undecoded: number;
}

export interface CaptureOptions {
  ports: number[];
  /** kernel receive buffer; default 8 MiB */
  bufferBytes?: number;
  /** records kept over the capture's life (taken or not); default 200 000 */
  maxRecords?: number;
}

export class DnsCapture {
  private readonly buf = Buffer.alloc(SNAP_BYTES);
  private readonly addr = Buffer.alloc(32);
  private readonly addrLen = Buffer.alloc(4);
  private readonly stamp = Buffer.alloc(16);
  private readonly tcp = new TcpDnsReassembler();
  private records: WireRecord[] = [];
  private fd: number | undefined;
  private readonly maxRecords: number;
  readonly stats: CaptureStats = { packets: 0, records: 0, overflow: 0, undecoded: 0, kernelDrops: 0 };

  private constructor(fd: number, maxRecords: number) {
    this.fd = fd;
    this.maxRecords = maxRecords;
  }

  /** Opens the capture in the calling thread's network namespace. */
  static open(o: CaptureOptions): DnsCapture {
    const ports = [...new Set(o.ports)];
    return new DnsCapture(openPacketSocket(dnsCaptureFilter(ports), o.bufferBytes ?? 8 << 20), o.maxRecords ?? 200_000);
  }

  /**
   * Reads what is queued into the kept records, for at most `budgetMs` (call it often: the
   * socket's buffer is finite). The budget keeps a caller's event loop turning under a flood that
   * arrives faster than it is read; what the buffer cannot hold meanwhile is in `kernelDrops`.
   */
  poll(budgetMs = 20): boolean {
    return this.drain(budgetMs);
  }

  /** Reads what is queued (for at most `budgetMs`); returns (and forgets) the records so far. */
  take(budgetMs = 1000): WireRecord[] {
    this.drain(budgetMs);
    const out = this.records;
    this.records = [];
    return out;
  }

  close(): void {
    if (this.fd === undefined) return;
    closePacketSocket(this.fd);
    this.fd = undefined;
  }

  /** Whether it stopped on its budget (more may be queued). */
  private drain(budgetMs: number): boolean {
    if (this.fd === undefined) return false;
    this.stats.kernelDrops += packetDrops(this.fd);
    const until = performance.now() + budgetMs;
    for (let n = 1; ; n++) {
      if ((n & 0xff) === 0 && performance.now() > until) return true; // checked before a read: nothing read is left unprocessed
      const p = readPacket(this.fd, this.buf, this.addr, this.addrLen, this.stamp);
      if (!p) return false;
      this.stats.packets++;
      if (this.stats.records >= this.maxRecords) {
        this.stats.overflow++; // full: not even decoded, so a flood costs a read and a count
        continue;
      }
      const d = decodePacket(p.bytes);
      if (!d) {
        this.stats.undecoded++;
        continue;
      }
      const base = { ts: p.tsMs, outgoing: p.pktType === 4, ifIndex: p.ifIndex, transport: d.transport, src: d.src, sport: d.sport, dst: d.dst, dport: d.dport };
      if (d.transport === 'tcp' && d.tcp) {
        const flow = `${base.outgoing ? 'o' : 'i'}${p.ifIndex} ${d.src}:${d.sport}>${d.dst}:${d.dport}`;
        const flag = d.tcp.rst ? 'rst' : d.tcp.syn ? 'syn' : d.tcp.fin ? 'fin' : undefined;
        if (flag) this.keep({ ...base, tcpFlag: flag });
        for (const m of this.tcp.push({ flow, ...d.tcp, payload: d.payload })) {
          const dns = summarizeDns(m);
          if (dns) this.keep({ ...base, dns });
          else this.stats.undecoded++;
        }
      } else {
        this.keep({ ...base, ...(d.dns ? { dns: d.dns } : {}), ...(d.icmp ? { icmp: d.icmp } : {}) });
      }
    }
  }

  private keep(r: WireRecord): void {
    if (this.stats.records >= this.maxRecords) {
      this.stats.overflow++;
      return;
    }
    this.stats.records++;
    this.records.push(r);
  }
}
