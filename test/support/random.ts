// Seeded randomness for the random-input tests: reproducible, and the same PRNG (mulberry32)
// the simulated driver uses.
export { seededRandom as mulberry32 } from '../../resolvers/core/sim.js';

export const intBelow = (rand: () => number, n: number) => Math.floor(rand() * n);
export const pick = <T>(rand: () => number, xs: readonly T[]): T => xs[intBelow(rand, xs.length)]!;
