// The stub's worst case comes from running its own forwarding strategy on a simulated network with
// every upstream blackholed. The expectations here are worked out by hand from the libraries'
// sources, never by the code under test:
// - glibc 2.36 resolv/res_send.c: __res_context_send tries every server `attempts` times; send_dg
//   waits `seconds = retrans << ns; if (ns > 0) seconds /= nscount; if (seconds <= 0) seconds = 1`
//   on server index ns (the index, not the try: rotate changes the order, not the sum).
// - musl 1.2.3 src/network/res_msend.c: retry_interval = timeout*1000/attempts (integer division),
//   every server at once, resend each interval; the loop `for (; t2-t0 < timeout; ...)` is checked
//   after each wait on a whole-ms clock. Each poll(I) sleeps I + S, S = max(0.05, I/1000) ms (Linux's
//   slack for poll timers, fs/select.c; the real musl measured in the fidelity suite: 2502.7 ms for
//   I = 2500), and the simulated lookup starts half a ms into the clock's ms: it ends after the
//   first k waits with k × (I + S) + 0.5 ≥ T. With attempts not dividing T the slack eats the
//   margin: 5 s / 3 gives up after three intervals, at 5003 ms (not 4 × 1666 = 6664).
import { describe, expect, it } from 'vitest';
import { stubClientOptions, stubUpstreamConf, stubWorstCaseMs } from './stub-resolv.js';

const SERVERS = ['10.0.0.1', '10.0.0.2', '10.0.0.3'];

interface Row {
  mode: 'glibc' | 'musl';
  servers: number;
  options: string[];
  ms: number;
  why: string;
}

const TABLE: Row[] = [
  // glibc: attempts × Σ per-server waits
  { mode: 'glibc', servers: 1, options: ['timeout:1', 'attempts:1'], ms: 1000, why: '1 × 1' },
  { mode: 'glibc', servers: 1, options: [], ms: 10_000, why: 'defaults timeout:5 attempts:2: 2 × 5' },
  { mode: 'glibc', servers: 1, options: ['timeout:30', 'attempts:5'], ms: 150_000, why: '5 × 30' },
  { mode: 'glibc', servers: 2, options: ['timeout:1', 'attempts:1'], ms: 2000, why: '1 + (1<<1)/2=1' },
  { mode: 'glibc', servers: 2, options: ['timeout:2'], ms: 8000, why: '2 × (2 + (2<<1)/2=2)' },
  { mode: 'glibc', servers: 2, options: [], ms: 20_000, why: '2 × (5 + 10/2=5)' },
  { mode: 'glibc', servers: 2, options: ['timeout:7', 'attempts:3', 'rotate'], ms: 42_000, why: '3 × (7 + 14/2=7)' },
  { mode: 'glibc', servers: 2, options: ['timeout:30', 'attempts:5'], ms: 300_000, why: '5 × (30 + 60/2=30)' },
  { mode: 'glibc', servers: 3, options: ['timeout:1', 'attempts:1'], ms: 3000, why: '1 + max(1, 2/3=0)=1 + 4/3=1' },
  { mode: 'glibc', servers: 3, options: ['timeout:2', 'attempts:1'], ms: 5000, why: '2 + 4/3=1 + 8/3=2 (the fidelity suite measures 2/1/2 s)' },
  { mode: 'glibc', servers: 3, options: ['timeout:3', 'attempts:3', 'rotate'], ms: 27_000, why: '3 × (3 + 6/3=2 + 12/3=4)' },
  { mode: 'glibc', servers: 3, options: ['timeout:4', 'attempts:1'], ms: 11_000, why: '4 + 8/3=2 + 16/3=5' },
  { mode: 'glibc', servers: 3, options: [], ms: 28_000, why: '2 × (5 + 10/3=3 + 20/3=6)' },
  { mode: 'glibc', servers: 3, options: ['timeout:30', 'attempts:5', 'rotate'], ms: 450_000, why: '5 × (30 + 60/3=20 + 120/3=40)' },
  { mode: 'glibc', servers: 1, options: ['timeout:0'], ms: 2000, why: 'seconds <= 0 → 1, twice' },
  { mode: 'glibc', servers: 2, options: ['attempts:0'], ms: 0, why: 'no try at all' },
  // musl: k × (I + S), k = ⌈(T - 0.5) / (I + S)⌉, I = ⌊T / attempts⌋, S = max(0.05, I / 1000); servers and rotate do not matter
  { mode: 'musl', servers: 1, options: ['timeout:1', 'attempts:1'], ms: 1001, why: 'I = 1000, S = 1' },
  { mode: 'musl', servers: 1, options: [], ms: 5005, why: 'defaults: I = 2500, 2 × 2502.5' },
  { mode: 'musl', servers: 2, options: ['timeout:1', 'attempts:2'], ms: 1001, why: 'I = 500, 2 × 500.5' },
  { mode: 'musl', servers: 1, options: ['attempts:3'], ms: 5002.998, why: 'I = 1666, 3 × 1667.666 (4998 + 5 ms of slack passes 5000)' },
  { mode: 'musl', servers: 3, options: ['timeout:1', 'attempts:3', 'rotate'], ms: 999.999, why: 'I = 333, 3 × 333.333 + 0.5 ≥ 1000' },
  { mode: 'musl', servers: 2, options: ['timeout:2', 'attempts:3'], ms: 1999.998, why: 'I = 666, 3 × 666.666' },
  { mode: 'musl', servers: 3, options: ['timeout:4', 'attempts:3'], ms: 4002.999, why: 'I = 1333, 3 × 1334.333' },
  { mode: 'musl', servers: 1, options: ['timeout:7', 'attempts:4'], ms: 7007, why: 'I = 1750, 4 × 1751.75' },
  { mode: 'musl', servers: 2, options: ['timeout:10', 'attempts:3'], ms: 10_008.999, why: 'I = 3333, 3 × 3336.333' },
  { mode: 'musl', servers: 3, options: ['timeout:29', 'attempts:5', 'rotate'], ms: 29_029, why: 'I = 5800, 5 × 5805.8' },
  { mode: 'musl', servers: 3, options: ['timeout:30', 'attempts:5'], ms: 30_030, why: 'I = 6000, 5 × 6006' },
  { mode: 'musl', servers: 1, options: ['timeout:0'], ms: 0, why: 'the send loop never runs' },
  { mode: 'musl', servers: 1, options: ['attempts:0'], ms: 0, why: 'musl would die of SIGFPE; the stub answers SERVFAIL at once instead' },
];

const worst = (mode: 'glibc' | 'musl', servers: number, options: string[]) => stubWorstCaseMs(mode, stubUpstreamConf(SERVERS.slice(0, servers), options));

describe('stubWorstCaseMs: the stub gives up when its library would', () => {
  it.each(TABLE)('$mode, $servers server(s), $options: $ms ms ($why)', ({ mode, servers, options, ms }) => {
    expect(worst(mode, servers, options)).toBeCloseTo(ms, 3);
  });

  it('matches the libraries\' rules for 1-3 servers, timeout 1..30, attempts 1..5, with and without rotate', () => {
    // the same rules as the table, written out once more for the whole grid
    const glibc = (n: number, t: number, a: number) => {
      let perRound = 0;
      for (let ns = 0; ns < n; ns++) perRound += Math.max(1, ns === 0 ? t : Math.floor((t << ns) / n));
      return a * perRound * 1000;
    };
    const musl = (t: number, a: number) => {
      const wait = Math.floor((t * 1000) / a) * 1.001; // I + I/1000 (I ≥ 50 ms here)
      return Math.ceil((t * 1000 - 0.5) / wait) * wait;
    };
    for (let n = 1; n <= 3; n++) {
      for (let t = 1; t <= 30; t++) {
        for (let a = 1; a <= 5; a++) {
          for (const rotate of [[], ['rotate']]) {
            const options = [`timeout:${t}`, `attempts:${a}`, ...rotate];
            expect(worst('glibc', n, options), `glibc ${n} ${options.join(' ')}`).toBe(glibc(n, t, a));
            expect(worst('musl', n, options), `musl ${n} ${options.join(' ')}`).toBeCloseTo(musl(t, a), 3);
          }
        }
      }
    }
  });

  it('reads only the options the stub applies upstream (timeout, attempts, rotate)', () => {
    expect(stubUpstreamConf(['10.0.0.1', '10.0.0.2'], ['ndots:3', 'timeout:2', 'edns0', 'rotate', 'single-request', 'attempts:1'])).toBe(
      'nameserver 10.0.0.1\nnameserver 10.0.0.2\noptions timeout:2 rotate attempts:1\n',
    );
    expect(stubUpstreamConf(['10.0.0.1'], ['ndots:3'])).toBe('nameserver 10.0.0.1\n');
    expect(stubUpstreamConf([], [])).toBe('');
    // glibc would read "timeout:3x" as 3; the stub does not apply it, so neither does its worst case
    expect(worst('glibc', 1, ['timeout:3x', 'attempts:1'])).toBe(5000);
  });
});

describe('stubClientOptions', () => {
  it('keeps the client-side options and waits one second longer than the stub, at most 30 s', () => {
    expect(stubClientOptions('glibc', SERVERS.slice(0, 2), ['ndots:3', 'timeout:2', 'rotate', 'edns0'])).toEqual({
      options: ['ndots:3', 'edns0', 'timeout:9', 'attempts:1'],
      worstMs: 8000,
      timeoutS: 9,
    });
    expect(stubClientOptions('musl', SERVERS.slice(0, 1), ['attempts:3'])).toMatchObject({ options: ['timeout:6', 'attempts:1'], timeoutS: 6 });
    expect(stubClientOptions('glibc', SERVERS, [])).toMatchObject({ worstMs: 28_000, timeoutS: 29 });
    expect(stubClientOptions('glibc', SERVERS, ['timeout:30', 'attempts:5'])).toMatchObject({ worstMs: 450_000, timeoutS: 30 });
    expect(stubClientOptions('glibc', [SERVERS[0]!], ['timeout:1', 'attempts:1'])).toMatchObject({ options: ['timeout:2', 'attempts:1'] });
  });
});
