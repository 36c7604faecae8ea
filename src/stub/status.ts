// What the daemon reports about itself under <root>/stub/ (`tsnet stub status`).
import { readFileSync, existsSync } from 'node:fs';
import type { Deps } from '../deps.js';
import { stubRunning } from './control.js';
import type { StubStats } from './server.js';
import type { Restart } from './supervisor.js';

export interface StubStatus {
  running: boolean;
  pid: number | null;
  started: string | null;
  addresses: string[];
  networks: Array<{ name: string; gateway: string; subnet: string }>;
  containers: Array<{ name: string; address: string; mode: string; upstreams: string[] }>;
  stats: StubStats | null;
  /** the timing log: characters of lines dropped because writing failed and the queue was full */
  queryLog: { droppedChars: number } | null;
  /** deaths the supervisor restarted the daemon after, newest last */
  restarts: Restart[];
  /** the CNI plugin's requests the daemon ran (src/cli/cni-service.ts), and how long they took in it */
  cni: { socket: string; served: number; ms: { p50: number | null; p90: number | null; of: number } } | null;
}

export function stubStatus(deps: Deps): StubStatus {
  const running = stubRunning(deps);
  let s: Partial<StubStatus> & { pid?: number } = {};
  if (running && existsSync(deps.paths.stubStatus)) {
    try {
      s = JSON.parse(readFileSync(deps.paths.stubStatus, 'utf8'));
    } catch {
      s = {};
    }
  }
  return {
    running,
    pid: running ? s.pid ?? null : null,
    started: running ? s.started ?? null : null,
    addresses: running ? s.addresses ?? [] : [],
    networks: running ? s.networks ?? [] : [],
    containers: running ? s.containers ?? [] : [],
    stats: running ? s.stats ?? null : null,
    queryLog: running ? s.queryLog ?? null : null,
    restarts: running ? s.restarts ?? [] : [],
    cni: running ? s.cni ?? null : null,
  };
}
