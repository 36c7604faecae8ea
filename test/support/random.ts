// Seeded randomness for the random-input tests: reproducible, and the same PRNG (mulberry32)
// the simulated driver uses.
export { seededRandom as mulberry32 } from '../../resolvers/core/sim.js';

export const intBelow = (rand: () => number, n: number) => Math.floor(rand() * n);
export const pick = <T>(rand: () => number, xs: readonly T[]): T => xs[intBelow(rand, xs.length)]!;

/**
 * Up to 9 pieces, mostly from `pieces` (the tokens a parser looks for), the rest random BMP
 * characters; now and then the whole string repeated `longTimes` times (long inputs).
 */
export function randomJunk(rand: () => number, pieces: readonly string[], longTimes: number): string {
  const n = intBelow(rand, 10);
  let s = '';
  for (let i = 0; i < n; i++) s += rand() < 0.75 ? pick(rand, pieces) : String.fromCharCode(intBelow(rand, 0x3000));
  if (rand() < 0.03) s = s.repeat(longTimes);
  return s;
}
