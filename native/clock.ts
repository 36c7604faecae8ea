// Precise wake-ups without holding a core: clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME) run by
// koffi on libuv's thread pool, its completion delivered on the loop. Node's timers have whole-ms
// resolution, and turning the loop until a deadline (setImmediate) is preempted by any CPU hog:
// measured under `stress-ng --cpu 2`, 142 ms sleeps woke p90 4.1 ms / max 5.0 ms late by turning the
// loop, p90 0.11 / max 1.5 ms by this, and a C program's poll() 0.18 / 0.19 ms — a sleeping
// thread is what the kernel wakes promptly, as it wakes the library's poll().
import { fn, loadKoffi, type KoffiFn } from './koffi.js';

const CLOCK_MONOTONIC = 1;
const TIMER_ABSTIME = 1;
/**
 * Sleeps in flight at once: each holds a thread-pool thread (4 by default) until its deadline;
 * one is left for the rest of the process (file writes of the query log).
 */
const MAX_IN_FLIGHT = 3;

let nanosleep: KoffiFn | undefined;
let inFlight = 0;

function declare(): KoffiFn {
  if (!nanosleep) {
    loadKoffi().struct('tsnet_timespec', { tv_sec: 'int64_t', tv_nsec: 'int64_t' });
    nanosleep = fn('int clock_nanosleep(int clock, int flags, const tsnet_timespec *req, void *rem)');
  }
  return nanosleep;
}

/**
 * Declares the call now (koffi's first declaration costs ~1 ms) and makes a first call that does
 * not sleep: the first asynchronous call starts libuv's thread pool, measured ~4 ms before it
 * completes (then ~0.1 ms), which would otherwise make a lookup's first wake-up that late.
 */
export function prepareClock(): void {
  declare();
  sleepUntil(performance.now(), () => {});
}

/**
 * Calls `woke` on the loop once the monotonic clock reaches `deadline` (performance.now()'s
 * timebase, ms; both read CLOCK_MONOTONIC). False when no thread is free for it (the caller
 * waits another way); never calls back early except by the clock's own rounding (< 1 µs: the
 * caller re-checks).
 */
export function sleepUntil(deadline: number, woke: () => void): boolean {
  if (inFlight >= MAX_IN_FLIGHT) return false;
  const ns = process.hrtime.bigint() + BigInt(Math.ceil((deadline - performance.now()) * 1e6));
  const req = { tv_sec: ns / 1_000_000_000n, tv_nsec: ns % 1_000_000_000n };
  try {
    declare().async(CLOCK_MONOTONIC, TIMER_ABSTIME, req, null, () => {
      inFlight--;
      woke();
    });
  } catch {
    return false; // koffi's own cap on asynchronous calls
  }
  inFlight++;
  return true;
}
