// A worker-thread pool that runs lookups (Node's libuv pool running getaddrinfo). Pure: both
// drivers (core/sim.ts on a virtual clock, the real driver) queue lookups through it, so which
// thread runs which lookup — and so which thread's resolver state it sees — is decided in one place.
//
// libuv 1.46 src/threadpool.c: UV_THREADPOOL_SIZE threads (atoi; 0 → 1; at most 1024; default 4),
// created at first use. getaddrinfo is "slow I/O" work (uv__work_submit(..., UV__WORK_SLOW_IO)):
// at most (threads + 1) / 2 such jobs run at once, the rest wait in FIFO order. A thread that
// finishes one goes straight on to the next waiting job; an idle thread waits on a condition
// variable and the one waiting longest is woken first (modelled as a FIFO of idle threads).

/** libuv's cap on slow I/O work (getaddrinfo) running at once: half the pool, rounded up. */
export const slowWorkAtOnce = (threads: number) => Math.floor((threads + 1) / 2);

export interface ThreadPool {
  /** worker threads */
  threads: number;
  /** jobs of this kind that may run at once */
  concurrency: number;
  /** idle threads, the longest idle first */
  idle: number[];
}

export function threadPool(threads: number, concurrency: number): ThreadPool {
  return { threads, concurrency, idle: Array.from({ length: threads }, (_, i) => i) };
}

/** Jobs waiting for a thread of one pool, started in submission order. */
export class PoolQueue<J> {
  private readonly waiting: J[] = [];
  private running = 0;

  constructor(private readonly pool: ThreadPool) {}

  submit(job: J): void {
    this.waiting.push(job);
  }

  /** The jobs that start now, each with its thread. */
  startable(): Array<{ job: J; thread: number }> {
    const out: Array<{ job: J; thread: number }> = [];
    while (this.waiting.length > 0 && this.running < this.pool.concurrency && this.pool.idle.length > 0) {
      out.push({ job: this.waiting.shift()!, thread: this.pool.idle.shift()! });
      this.running++;
    }
    return out;
  }

  /** A job on `thread` ended: the thread takes the next waiting job itself, or goes idle. */
  finished(thread: number): Array<{ job: J; thread: number }> {
    this.running--;
    if (this.waiting.length > 0) {
      this.running++;
      return [{ job: this.waiting.shift()!, thread }];
    }
    this.pool.idle.push(thread);
    return [];
  }
}
