// The clock-margin premise of musl-overshoot-7, on send times the real musl put on the wire in
// two fresh-clone CI runs (2026-12-03): one on time (it overshot: 8 AAAA), one 4 ms late at its
// second resend (it gave up at 1000 ms: 7 AAAA).
import { describe, expect, it } from 'vitest';
import { chainLateness } from './run.js';

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
