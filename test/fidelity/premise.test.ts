// The clock-margin premise of musl-overshoot-7, on send times the real musl put on the wire in
// two fresh-clone CI runs (2026-12-03): one on time (it overshot: 8 AAAA), one 4 ms late at its
// second resend (it gave up at 1000 ms: 7 AAAA).
import { describe, expect, it } from 'vitest';
import { chainLateness, describeStall, realStall, serverLate, slowRealRun, slowReactions } from './run.js';

describe('fidelity: a timing-margin scenario\'s premise, read off the real wire', () => {
  it('on time: under a millisecond of lateness (the run that overshot)', () => {
    expect(chainLateness([0.12, 141.75, 283.96, 426.16, 568.39, 710.68, 853.0, 995.34], 142)).toBeLessThan(1);
  });
  it('late: 5 ms behind on-time wake-ups, past the 4 ms the margin allows (the run that did not)', () => {
    const late = chainLateness([0, 142, 288, 430, 572, 715, 858], 142);
    expect(late).toBeGreaterThan(4);
    expect(late).toBeCloseTo(858 - 6 * 142 * 1.001, 6);
  });
  it('one send: nothing to measure', () => {
    expect(chainLateness([3], 142)).toBe(0);
  });
});

describe('fidelity: a real library stalled after a reply (realStall)', () => {
  // edns0-formerr × glibc in a fresh-clone CI run (dd9280c): the FORMERR reply at 4.6 ms, glibc's
  // retry without EDNS — a send it makes at once — at 66 ms; the simulated glibc sends it at the reply.
  const sim = [{ sends: [{ t: 0, key: 'A db@ns1' }, { t: 0, key: 'AAAA db@ns1' }, { t: 0.4, key: 'A db@ns1' }], replies: [0.4, 0.4] }];

  it('names the send and how long after its reply the real library made it', () => {
    const real = [{ sends: [{ t: 0, key: 'A db@ns1' }, { t: 0.1, key: 'AAAA db@ns1' }, { t: 66, key: 'A db@ns1' }], replies: [4.6, 4.9] }];
    expect(realStall(real, sim)).toEqual({ kind: 'library', lookup: 1, query: 'A db@ns1 #2', lateMs: 66 - 4.9 });
  });

  it('nothing under STALL_MS', () => {
    const real = [{ sends: [{ t: 0, key: 'A db@ns1' }, { t: 0.1, key: 'AAAA db@ns1' }, { t: 5.2, key: 'A db@ns1' }], replies: [4.6, 4.9] }];
    expect(realStall(real, sim)).toBeUndefined();
  });

  it('a send on a timer is not a stall, however late (that is the library\'s timing, judged as such)', () => {
    const timer = [{ sends: [{ t: 0, key: 'A db@ns1' }, { t: 1000, key: 'A db@ns2' }], replies: [] }];
    const real = [{ sends: [{ t: 0, key: 'A db@ns1' }, { t: 1100, key: 'A db@ns2' }], replies: [3] }];
    expect(realStall(real, timer)).toBeUndefined();
  });

  it('a send the real library makes on a timer where the simulated one sends at the reply is no stall: that is a difference in logic, and fails', () => {
    const real = [{ sends: [{ t: 0, key: 'A db@ns1' }, { t: 0.1, key: 'AAAA db@ns1' }, { t: 1000, key: 'A db@ns1' }], replies: [4.6, 4.9] }];
    expect(realStall(real, sim)).toBeUndefined();
  });
});

describe('fidelity: the fake server answering the real run late (serverLate)', () => {
  // cname-chain-canon × eventlet in a fresh-clone CI run: the A reply ~100 ms late (tasks waited
  // for a CPU 92 % of the time), the CNAME query right after it; the scenario answers in 0.2 ms
  const sim = [{ key: 'AAAA www@ns1', rtt: 0.2 }, { key: 'A www@ns1', rtt: 0.2 }, { key: 'CNAME www@ns1', rtt: 0.2 }];

  it('names the reply and how much later than the scenario says it came', () => {
    const real = [{ key: 'AAAA www@ns1', rtt: 0.4 }, { key: 'A www@ns1', rtt: 103.6 }, { key: 'CNAME www@ns1', rtt: 0.3 }];
    expect(serverLate(real, sim)).toEqual({ kind: 'server', query: 'A www@ns1 #1', lateMs: 103.6 - 0.2 });
  });

  it('a delay the scenario has is not lateness', () => {
    expect(serverLate([{ key: 'A www@ns1', rtt: 1500.4 }], [{ key: 'A www@ns1', rtt: 1500.2 }])).toBeUndefined();
  });
});

describe('fidelity: a run slow at every step after a reply (slowReactions)', () => {
  // search-six × glibc in a fresh-clone run (e8276ee): seven names walked, each asked the moment the
  // last one's NXDOMAIN came; the emulator's CLI (at 2 cores, 3 lanes) ~9 ms behind at each step
  const names = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
  const sim = [{ sends: names.map((n, k) => ({ t: k * 0.4, key: `A ${n}@ns1` })), replies: names.map((_, k) => k * 0.4 + 0.4) }];
  const run = (step: number) => [{ sends: names.map((n, k) => ({ t: k * step, key: `A ${n}@ns1` })), replies: names.map((_, k) => k * step + 0.3) }];

  it('each step a few ms late, 25 ms or more in all: the process was not running', () => {
    const s = slowReactions(run(9.4), sim, 'emulator');
    expect(s).toMatchObject({ kind: 'emulator', query: '6 sends that follow a reply' });
    expect(s!.lateMs).toBeCloseTo(6 * (9.4 - 0.3 - 1), 6);
  });

  it('a normal pace is not slow (the first millisecond of each step is free)', () => {
    expect(slowReactions(run(1.5), sim, 'library')).toBeUndefined();
  });

  it('the way to the first query counts too, where the simulated library sends at once', () => {
    // truncate-tcp × eventlet-nogreendns in 8bd18b5's run: UDP at 9.3 ms, its TC reply at ~9.6, TCP A at 32.7, AAAA at 40.3
    const simTcp = [{ sends: [{ t: 0, key: 'A db@ns1' }, { t: 0, key: 'AAAA db@ns1' }, { t: 0.2, key: 'A db@ns1' }, { t: 0.2, key: 'AAAA db@ns1' }], replies: [0.2, 0.2, 0.6, 0.6] }];
    const emu = [{ sends: [{ t: 9.3, key: 'A db@ns1' }, { t: 9.4, key: 'AAAA db@ns1' }, { t: 32.7, key: 'A db@ns1' }, { t: 40.3, key: 'AAAA db@ns1' }], replies: [9.6, 9.7, 39.5, 41] }];
    expect(slowReactions(emu, simTcp, 'emulator')!.lateMs).toBeCloseTo(8.3 + 22 + 0, 6);
  });

  it('sends on timers do not count, however late', () => {
    const timers = [{ sends: names.map((n, k) => ({ t: k * 1000, key: `A ${n}@ns1` })), replies: [] }];
    expect(slowReactions(run(1100), timers, 'library')).toBeUndefined();
  });
});

describe('fidelity: a real run slow by small steps at the server, or at both ends (serverLate, slowRealRun)', () => {
  // truncate-tcp × eventlet in e3067ff's CI run (65 % CPU pressure) and reproduced under load:
  // every reply of the fake server ~20 ms late, the real Python quick after each
  const sim = [{ sends: [{ t: 0, key: 'AAAA db@ns1' }, { t: 0.2, key: 'AAAA db@ns1' }, { t: 0.6, key: 'A db@ns1' }, { t: 0.8, key: 'A db@ns1' }], replies: [0.2, 0.6, 0.8, 1.2] }];
  const simAnswers = [{ key: 'AAAA db@ns1', rtt: 0.2 }, { key: 'AAAA db@ns1', rtt: 0.4 }, { key: 'A db@ns1', rtt: 0.2 }, { key: 'A db@ns1', rtt: 0.4 }];
  const real = [{ sends: [{ t: 0.9, key: 'AAAA db@ns1' }, { t: 24.4, key: 'AAAA db@ns1' }, { t: 49.0, key: 'A db@ns1' }, { t: 53.2, key: 'A db@ns1' }], replies: [21.0, 44.2, 52.7, 54.9] }];
  const answered = [{ key: 'AAAA db@ns1', rtt: 20.1 }, { key: 'AAAA db@ns1', rtt: 19.8 }, { key: 'A db@ns1', rtt: 3.7 }, { key: 'A db@ns1', rtt: 1.7 }];

  it('no reply 25 ms late, but 25 ms or more in all: the server was not running', () => {
    expect(realStall(real, sim)).toBeUndefined();
    const s = serverLate(answered, simAnswers);
    expect(s).toMatchObject({ kind: 'server', query: '4 replies' });
    expect(s!.lateMs).toBeCloseTo(18.9 + 18.4 + 2.5 + 0.3, 6);
    expect(describeStall(s!)).toMatch(/4 replies 40\.1 ms later in all than the scenario says/);
  });

  it('the server a little late and the library a little slow, 25 ms or more together', () => {
    const half = answered.map((a, i) => ({ ...a, rtt: i === 0 ? 16 : a.rtt / 10 }));
    const slow = [{ sends: [{ t: 1, key: 'AAAA db@ns1' }, { t: 30, key: 'AAAA db@ns1' }, { t: 31, key: 'A db@ns1' }, { t: 32, key: 'A db@ns1' }], replies: [17, 30.5, 31.5, 32.5] }];
    expect(serverLate(half, simAnswers)).toBeUndefined();
    expect(slowReactions(slow, sim, 'library')).toBeUndefined();
    expect(slowRealRun(slow, half, sim, simAnswers)!.lateMs).toBeCloseTo(14.8 + (1.98 - 0.4 - 1) + 12, 6);
  });

  it('on time at both ends is no stall', () => {
    const quick = [{ sends: [{ t: 0.5, key: 'AAAA db@ns1' }, { t: 1.2, key: 'AAAA db@ns1' }, { t: 2, key: 'A db@ns1' }, { t: 2.8, key: 'A db@ns1' }], replies: [0.8, 1.7, 2.3, 3.2] }];
    const onTime = simAnswers.map((a) => ({ ...a, rtt: a.rtt + 0.3 }));
    expect(serverLate(onTime, simAnswers)).toBeUndefined();
    expect(slowRealRun(quick, onTime, sim, simAnswers)).toBeUndefined();
  });
});
