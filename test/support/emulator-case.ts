// One simulated lookup case for the emulators' unit tests (resolvers/*.test.ts): the servers and
// the library's input, with the defaults every emulator test shares.
import { parseScenario, type ScenarioSpec } from '../../resolvers/core/scenario.js';
import type { Family, LibraryInput, LookupRequest, Trace } from '../../resolvers/core/types.js';

export const NS1 = '10.0.0.1';
export const NS2 = '10.0.0.2';
export const NS3 = '10.0.0.3';

export interface EmulatorCase {
  resolv: string;
  servers: ScenarioSpec['servers'];
  name: string;
  family?: Family;
  hosts?: string;
  nsswitch?: string;
  env?: Record<string, string>;
  zone?: string[];
  canonname?: boolean;
  /** lookups of the same name in one process */
  repeat?: number;
}

export const inputOf = (c: EmulatorCase): LibraryInput => ({
  resolvConf: c.resolv, hosts: c.hosts ?? '127.0.0.1 localhost\n', nsswitch: c.nsswitch, env: c.env ?? {}, hostname: 'client',
});
/** Every reply 0.2 ms after its query; `zone` unless the case brings its own. */
export const scenarioOf = (c: EmulatorCase, zone: string[]) => parseScenario({ servers: c.servers, zone: c.zone ?? zone, rttMs: 0.2 });
export const requestOf = (c: EmulatorCase): LookupRequest => ({ name: c.name, family: c.family ?? 'any', canonname: c.canonname ?? false });
export const requestsOf = (c: EmulatorCase): LookupRequest[] => Array.from({ length: c.repeat ?? 1 }, () => requestOf(c));

/** resolv.conf lines for these servers */
export const ns = (...servers: string[]) => servers.map((s) => `nameserver ${s}\n`).join('');
/** "t server transport qname qtype" per query */
export const plan = (t: Trace) => t.queries.map((q) => `${q.t_ms} ${q.server} ${q.transport} ${q.qname} ${q.qtype}`);
