/*
 * Node 20's dns.lookup (Node 20.20, libuv 1.46), emulated: the C library's getaddrinfo on libuv's
 * thread pool. `node` runs on glibc (Debian's node), `node-musl` on musl (node on Alpine).
 *
 * IMPLEMENTATION NOTES
 * - lib/dns.js lookup: an IP literal (net.isIP: strict dotted quad, IPv6 with %zone) comes back
 *   as written, of whatever family was asked, without the pool; "" comes back empty. Anything else
 *   is one getaddrinfo (src/cares_wrap.cc GetAddrInfo: socktype SOCK_STREAM, no flags unless
 *   hints are given) queued on the pool; the addresses in the library's order (Node 20's default
 *   dns result order is "verbatim"). EAI_NONAME and EAI_NODATA are both ENOTFOUND (lib/internal/
 *   errors.js dnsException), named EAI_NONAME here.
 * - The pool (core/pool.ts): UV_THREADPOOL_SIZE threads, at most (threads + 1) / 2 lookups at once
 *   (slow I/O work), FIFO — a burst of lookups behind a dead nameserver queues in waves, and file
 *   system or crypto work on the same pool would queue with them (not emulated).
 * - Each thread has its own resolver state: glibc's _res is per thread, so the sticky
 *   single-request fallback one lookup earns is not seen by the next lookup on another thread;
 *   glibc's rotate counter is process-wide. musl keeps no state.
 * Not emulated: dns.promises / dns.resolve* (c-ares, not getaddrinfo), `hints` (AI_ADDRCONFIG,
 * AI_V4MAPPED), --dns-result-order=ipv4first, other work sharing the pool.
 */
import { isIPv4, isIPv6 } from './core/address.js';
import { mapResult } from './core/coroutine.js';
import { slowWorkAtOnce, threadPool, type ThreadPool } from './core/pool.js';
import { glibc } from './glibc.js';
import { musl } from './musl.js';
import type { EmulatedProcess, Emulator, LookupRequest, MachineAction, ProcessContext, ResolverMachine } from './core/types.js';

const MAX_THREADPOOL_SIZE = 1024;

export const node: Emulator = {
  mode: 'node',
  summary: "Node 20 dns.lookup: glibc getaddrinfo on libuv's pool (UV_THREADPOOL_SIZE, default 4; half of it for lookups at once), each thread its own resolver state",
  createProcess: (ctx) => nodeProcess(ctx, glibc),
};

export const nodeMusl: Emulator = {
  mode: 'node-musl',
  summary: "Node 20 dns.lookup on musl (Alpine): musl getaddrinfo on libuv's pool",
  createProcess: (ctx) => nodeProcess(ctx, musl),
};

/**
 * libuv threadpool.c init_threads: `nthreads = atoi(val)` into an UNSIGNED int, then 0 → 1 and
 * anything above 1024 → 1024. atoi is glibc's (int) strtol: leading spaces, a sign, digits
 * (saturating at the long's range), the low 32 bits kept — so "-3" is 4294967293 → 1024 threads and
 * "4294967297" is 1.
 */
export function poolSize(value: string | undefined): number {
  if (value === undefined) return 4;
  const m = /^[ \t\n\v\f\r]*([-+]?)(\d+)/.exec(value);
  if (!m) return 1;
  const LONG_MAX = 2n ** 63n - 1n;
  let long = BigInt(m[2]!.slice(0, 25)); // 25 digits are past the long's range already
  if (long > LONG_MAX) long = m[1] === '-' ? LONG_MAX + 1n : LONG_MAX; // strtol saturates (LONG_MIN, LONG_MAX)
  if (m[1] === '-') long = -long;
  const unsigned = Number(BigInt.asUintN(32, long));
  return unsigned === 0 ? 1 : Math.min(MAX_THREADPOOL_SIZE, unsigned);
}

function nodeProcess(ctx: ProcessContext, libc: Emulator): EmulatedProcess {
  const size = poolSize(ctx.input.env.UV_THREADPOOL_SIZE);
  const pool: ThreadPool = threadPool(size, slowWorkAtOnce(size));
  const main = libc.createProcess(ctx);
  const threads = new Map<number, EmulatedProcess>();
  const onThread = (i: number) => threads.get(i) ?? threads.set(i, main.thread?.() ?? main).get(i)!;
  const lookupOn = (thread: number, req: LookupRequest): ResolverMachine => viaPool(onThread(thread).lookup(req));
  return {
    workers: { pool, direct: nodeLiteral, lookupOn },
    lookup(req) {
      const literal = nodeLiteral(req);
      if (literal) return literal;
      const thread = pool.idle.shift();
      if (thread === undefined) throw new Error('node emulator: every worker thread is busy (a driver started more lookups than the pool runs)');
      return releasing(lookupOn(thread, req), () => pool.idle.push(thread));
    },
  };
}

/** lib/dns.js: literals and "" never reach the pool. */
function nodeLiteral(req: LookupRequest): ResolverMachine | undefined {
  if (req.name !== '' && !isIPv4(req.name) && !isIPv6(req.name)) return undefined;
  const done: MachineAction[] = [{ type: 'done', result: { addresses: req.name === '' ? [] : [req.name], error: null, canonname: null } }];
  return { start: () => done, handle: () => [] };
}

/** getaddrinfo's result as dns.lookup hands it on. */
const viaPool = (inner: ResolverMachine): ResolverMachine =>
  mapResult(inner, (r) => ({ addresses: r.addresses, error: r.error === 'EAI_NODATA' ? 'EAI_NONAME' : r.error, canonname: null }));

/** Calls `release` when the machine finishes (a machine finishes once). */
const releasing = (inner: ResolverMachine, release: () => void): ResolverMachine =>
  mapResult(inner, (r) => {
    release();
    return r;
  });
