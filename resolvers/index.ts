// The emulator registry: mode name → emulator. resolvers/ is a pure leaf: nothing here does I/O.
import { glibc } from './glibc.js';
import { musl } from './musl.js';
import { eventlet, eventlet024 } from './eventlet.js';
import { go, goCgo } from './go.js';
import { node, nodeMusl } from './node.js';
import type { Emulator } from './core/types.js';

const EMULATORS: Emulator[] = [glibc, musl, eventlet, eventlet024, go, goCgo, node, nodeMusl];

export const MODES = EMULATORS.map((e) => e.mode);

export function emulatorFor(mode: string): Emulator | undefined {
  return EMULATORS.find((e) => e.mode === mode);
}

export type { Emulator, Trace, TraceQuery, LookupRequest, LibraryInput, Family } from './core/types.js';
export { hostOf, DUAL_STACK_HOST, type LocalNet } from './core/addrsort.js';
export { parseScenario, type ScenarioSpec } from './core/scenario.js';
export { simulateLookups, simulateBurst, simulateRounds, seededRandom } from './core/sim.js';
