// The shared vocabulary of the resolver emulators. An emulator is a pure state machine (sans-IO,
// like h11 or c-ares with `now` as an argument): the driver feeds it events and carries out the
// actions it returns. No sockets, timers or clock reads in resolvers/ — the real driver
// (src/driver/real-driver.ts) and the simulated one (core/sim.ts) run the same machines.

import type { ThreadPool } from './pool.js';

export type Transport = 'udp' | 'tcp';
/** What the emulators ask for; the stub forwards any type a client asks for. */
export type QType = 'A' | 'AAAA' | 'CNAME' | (string & {});
export type Family = 'any' | 'inet' | 'inet6';

export type ResolveError =
  | 'EAI_NONAME' // name does not resolve
  | 'EAI_AGAIN' // temporary failure (timeouts, SERVFAIL)
  | 'EAI_FAIL' // non-recoverable failure (e.g. REFUSED in musl)
  | 'EAI_NODATA' // name exists, no address of the family
  | 'EAI_SYSTEM'
  | 'EAI_ADDRFAMILY' // a literal address of the other family
  | 'SIGFPE'; // musl with attempts:0 divides by zero: the process dies

export interface LookupRequest {
  name: string;
  family: Family;
  /** AI_CANONNAME (eventlet sends an extra CNAME query for it) */
  canonname: boolean;
}

/** What the emulated process sees: its files and its own environment (never the caller's). */
export interface LibraryInput {
  resolvConf: string;
  hosts: string;
  /** nsswitch.conf text; undefined = file missing (libraries use their built-in default) */
  nsswitch: string | undefined;
  env: Record<string, string>;
  /** gethostname(): glibc derives the search domain from it when resolv.conf has none */
  hostname: string;
  /**
   * What the kernel answers while the library sorts its addresses (core/addrsort.ts): the source
   * address for each destination, the interface addresses. Undefined: a dual-stack host that
   * reaches every destination (DUAL_STACK_HOST).
   */
  host?: SortHost | undefined;
  /** /etc/gai.conf (glibc's sorting tables); undefined: no file, the built-in tables */
  gaiConf?: string | undefined;
}

export interface QueryInfo {
  qname: string;
  qtype: QType;
  id: number;
  /** the exact packet to send (the stub forwards a client's query); else built from the fields */
  bytes?: Buffer | undefined;
}

/** Something the network did. */
export type MachineEvent =
  /**
   * a datagram on a UDP socket; wrongPort: it came from another source port than the DNS port the
   * query went to (only an unconnected socket can receive one: the kernel drops it for a connected one)
   */
  | { type: 'udp'; socket: number; from: string; bytes: Buffer; wrongPort?: true }
  /** an ICMP error reported on a connected UDP socket (ECONNREFUSED = port unreachable) */
  | { type: 'udp-error'; socket: number; code: string }
  /** one complete DNS message received on a TCP connection (length prefix removed) */
  | { type: 'tcp'; conn: number; bytes: Buffer }
  | { type: 'tcp-error'; conn: number; code: string }
  | { type: 'timer'; id: number };

/** Something the emulator wants done. Times are absolute ms on the driver's clock. */
export type MachineAction =
  /** connect: the server address for a connected socket (ICMP errors reported), null for unconnected */
  /**
   * dualStack (unconnected only): one AF_INET6 socket that reaches IPv4 servers as ::ffff:a.b.c.d
   * (musl when any server is IPv6); otherwise an unconnected socket takes its first destination's family
   */
  | { type: 'udp-open'; socket: number; connect: string | null; dualStack?: true }
  | { type: 'udp-send'; socket: number; to: string; bytes: Buffer; query: QueryInfo }
  | { type: 'udp-close'; socket: number }
  | { type: 'tcp-open'; conn: number; to: string }
  | { type: 'tcp-send'; conn: number; bytes: Buffer; query: QueryInfo }
  | { type: 'tcp-close'; conn: number }
  | { type: 'timer'; id: number; at: number }
  | { type: 'cancel'; id: number }
  | { type: 'done'; result: LookupResult };

export interface LookupResult {
  addresses: string[];
  error: ResolveError | null;
  /** AI_CANONNAME: the canonical name the library returns (null when not asked or on failure) */
  canonname?: string | null | undefined;
  /** forwarders (the stub) finish with the upstream reply itself */
  reply?: Buffer | undefined;
}

export interface ResolverMachine {
  /**
   * `clock`: a real driver's live clock (same timebase as `now`). Without it the emulator's clock
   * stands still within a step (a simulated network); with it the emulator reads the time where
   * the library reads its clock — after its parsing, right before its first send — instead of
   * when the step began (measured: the first step of a lookup on a cold process takes 2-6 ms).
   */
  start(now: number, clock?: () => number): MachineAction[];
  handle(now: number, event: MachineEvent): MachineAction[];
}

export interface ProcessContext {
  input: LibraryInput;
  /** uniform in [0, 1): query ids, rotate offsets, shuffles */
  random: () => number;
  /** warnings about the configuration (bad lines the library skips), reported in traces */
  warn: (message: string) => void;
}

/**
 * One emulated process. State that a real process keeps between lookups lives here: glibc's
 * rotate counter and sticky single-request fallback, eventlet's dnspython cache.
 */
export interface EmulatedProcess {
  lookup(request: LookupRequest): ResolverMachine;
  /**
   * Another thread of the same process (Node's libuv pool): process-wide state shared (glibc's
   * rotate counter), per-thread state its own (glibc's _res and its sticky single-request flags).
   * Undefined: the library keeps no per-thread state, any thread is the process itself.
   */
  thread?(): EmulatedProcess;
  /**
   * A process whose lookups run on a worker pool (Node's dns.lookup): drivers that start several
   * lookups at once queue them through core/pool.ts PoolQueue and run each with lookupOn its
   * thread. `lookup` alone takes the longest-idle thread (one lookup at a time).
   */
  readonly workers?: {
    pool: ThreadPool;
    /** a lookup that never reaches the pool (an IP literal), or undefined */
    direct(request: LookupRequest): ResolverMachine | undefined;
    lookupOn(thread: number, request: LookupRequest): ResolverMachine;
  };
}

export interface Emulator {
  mode: string;
  /** one line for --help and docs */
  summary: string;
  createProcess(ctx: ProcessContext): EmulatedProcess;
}

/** How each query ended, from the client's point of view. */
export type QueryOutcome =
  | 'answer'
  | 'nodata'
  | 'nxdomain'
  | 'servfail'
  | 'refused'
  | 'notimp'
  | 'formerr'
  | 'truncated'
  | 'rcode'
  | 'icmp-unreachable'
  | 'connection-refused'
  /** a reply from the server's address but another source port (nothing else has come yet) */
  | 'wrong-port'
  | 'timeout';

export interface TraceQuery {
  t_ms: number;
  server: string;
  transport: Transport;
  qname: string;
  qtype: QType;
  outcome: QueryOutcome;
  rtt_ms: number | null;
}

/** The stable trace shape (docs/resolvers.md): resolve --json, diagnose and the stub's log speak it. */
export interface Trace {
  mode: string;
  name: string;
  family: Family;
  result: LookupResult;
  elapsed_ms: number;
  /** how long the lookup waited for a worker thread before it began (Node's pool); t_ms and elapsed_ms count from the call */
  queued_ms?: number;
  queries: TraceQuery[];
  warnings: string[];
}

// What the kernel tells a library that sorts its addresses (core/addrsort.ts).

/** One address on an interface (`ip -o addr`). */
export interface LocalAddress {
  address: string;
  prefixLen: number;
  dev: string;
  /** IFA_F_DEPRECATED (or OPTIMISTIC, which glibc treats alike) */
  deprecated?: boolean;
  /** IFA_F_HOMEADDRESS (Mobile IPv6) */
  home?: boolean;
  /** the interface is a tunnel (ipip, sit, ip6tnl): not native transport for glibc's rule 7 */
  tunnel?: boolean;
}

/** What the libraries ask the kernel while sorting. */
export interface SortHost {
  /** the source address connect() + getsockname() gives for a destination; null: connect fails */
  sourceOf(dest: string): string | null;
  /** the interface addresses (glibc's RTM_GETADDR dump); absent: none known */
  addresses?: readonly LocalAddress[];
}
