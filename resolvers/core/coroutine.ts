// Writing an emulator as a generator: library code is loops with waits in the middle (try every
// server, wait `seconds`, retry), and a generator keeps that shape while staying a pure state
// machine. The generator yields a deadline (or null: wait for an event only) and is resumed with
// the next event, or null when the deadline passed. It emits actions through `Io`.
import type { LookupResult, MachineAction, MachineEvent, ResolverMachine } from './types.js';

export class Io {
  private stepNow = 0;
  private clock: (() => number) | undefined;
  private out: MachineAction[] = [];
  private nextHandle = 1;

  /** The time: the step's, or the driver's live clock where it gave one. */
  get now(): number {
    return this.clock ? Math.max(this.stepNow, this.clock()) : this.stepNow;
  }

  /** Called by the machine at each step. */
  setTime(now: number, clock?: () => number): void {
    this.stepNow = now;
    if (clock) this.clock = clock;
  }

  emit(a: MachineAction): void {
    this.out.push(a);
  }

  /** A fresh socket / connection number. */
  handle(): number {
    return this.nextHandle++;
  }

  flush(): MachineAction[] {
    const out = this.out;
    this.out = [];
    return out;
  }
}

export type Coroutine = Generator<number | null, LookupResult, MachineEvent | null>;

export function machineFromCoroutine(make: (io: Io) => Coroutine): ResolverMachine {
  const io = new Io();
  let gen: Coroutine | undefined;
  let timerId = 0;
  let armedAt: number | null = null;
  let finished = false;

  const step = (input: MachineEvent | null): MachineAction[] => {
    const r = gen!.next(input);
    if (r.done) {
      finished = true;
      const tail: MachineAction[] = armedAt !== null ? [{ type: 'cancel', id: timerId }] : [];
      return [...io.flush(), ...tail, { type: 'done', result: r.value }];
    }
    const until = r.value;
    const actions = io.flush();
    if (until !== armedAt) {
      if (armedAt !== null) actions.push({ type: 'cancel', id: timerId });
      armedAt = until;
      if (until !== null) actions.push({ type: 'timer', id: ++timerId, at: until });
    }
    return actions;
  };

  return {
    start(now, clock) {
      io.setTime(now, clock);
      gen = make(io);
      return step(null);
    },
    handle(now, event) {
      if (finished) return [];
      io.setTime(now);
      if (event.type === 'timer') {
        if (event.id !== timerId || armedAt === null) return []; // stale timer
        armedAt = null;
        return step(null);
      }
      return step(event);
    },
  };
}

/** A task inside a coroutine: yields its deadline (null = none), resumed with an event or null. */
export type Task<T> = Generator<number | null, T, MachineEvent | null>;

/**
 * Runs tasks side by side inside one coroutine — threads of the emulated process (Go's goroutines
 * for A and AAAA, libuv's thread pool) — and returns their results in task order. Every event goes
 * to every running task (each ignores sockets that are not its own); a deadline wakes only the
 * tasks whose deadline has passed, lowest index first. Deterministic: no real scheduler decides.
 */
export function* parallel<T>(io: Io, tasks: Task<T>[]): Task<T[]> {
  const results: T[] = new Array(tasks.length);
  const deadlines: (number | null)[] = tasks.map(() => null);
  const running = new Set<number>();
  const resume = (i: number, input: MachineEvent | null) => {
    const r = tasks[i]!.next(input);
    if (r.done) {
      results[i] = r.value;
      running.delete(i);
    } else deadlines[i] = r.value;
  };
  tasks.forEach((_, i) => {
    running.add(i);
    resume(i, null);
  });
  while (running.size > 0) {
    const due = [...running].map((i) => deadlines[i]).filter((d): d is number => d !== null);
    const ev = yield due.length > 0 ? Math.min(...due) : null;
    for (const i of [...running]) {
      if (ev) resume(i, ev);
      else if (deadlines[i] !== null && deadlines[i]! <= io.now) resume(i, null);
    }
  }
  return results;
}

/**
 * A machine that is `inner` with its result passed through `f` when it finishes (once) — one
 * library's getaddrinfo as another layer hands it on (Go's cgo path, Node's dns.lookup).
 */
export function mapResult(inner: ResolverMachine, f: (r: LookupResult) => LookupResult): ResolverMachine {
  const map = (actions: MachineAction[]) => actions.map((a) => (a.type === 'done' ? { ...a, result: f(a.result) } : a));
  return { start: (now, clock) => map(inner.start(now, clock)), handle: (now, ev) => map(inner.handle(now, ev)) };
}
