// Live measurement: every selected emulator, concurrently, on the target's real network; plus,
// for a stub-mode container, the application's actual path (its libc → the stub → upstreams).
import { isTsnetError } from '../errors.js';
import { enterNetnsForGood } from '../ns/enter.js';
import { emulatorFor, parseScenario, seededRandom, simulateLookups, type Family, type LibraryInput, type Trace } from '../../resolvers/index.js';
import { lookupReal } from '../driver/real-driver.js';
import { renderResolvConf } from '../files/resolvconf.js';
import { TargetError, type Target } from '../engines/target-view.js';

export interface ModeRow {
  /** emulator mode */
  mode: string;
  /** how the report names the row: "glibc", or "glibc → stub" for the application's path */
  label: string;
  path: 'direct' | 'stub';
  input: LibraryInput;
  traces: Trace[];
}

/** The configuration a library would read if it talked to the upstreams directly (`env`: the process's resolver variables). */
export function directInput(t: Target, env: Record<string, string> = {}): LibraryInput {
  const r = t.record;
  if (r && r.dns.stubActive) {
    const text = renderResolvConf({
      header: [],
      nameservers: r.dns.nameservers.map((n) => ({ address: n.address })),
      search: { values: r.dns.search },
      options: { values: r.dns.options },
    });
    return { resolvConf: text, hosts: t.hosts, nsswitch: t.nsswitch, env, hostname: t.hostname, gaiConf: t.gaiConf };
  }
  return { resolvConf: t.resolvConf, hosts: t.hosts, nsswitch: t.nsswitch, env, hostname: t.hostname, gaiConf: t.gaiConf };
}

export function planRows(t: Target, modes: string[], env: Record<string, string> = {}): Omit<ModeRow, 'traces'>[] {
  const rows: Omit<ModeRow, 'traces'>[] = modes.map((mode) => ({ mode, label: mode, path: 'direct', input: directInput(t, env) }));
  const r = t.record;
  if (r && r.dns.stubActive) {
    rows.push({
      mode: r.dns.mode,
      label: `${r.dns.mode} → stub`,
      path: 'stub',
      input: { resolvConf: t.resolvConf, hosts: t.hosts, nsswitch: t.nsswitch, env: {}, hostname: t.hostname, gaiConf: t.gaiConf },
    });
  }
  return rows;
}

/** Moves this thread into the target's network namespace for good (diagnose exits afterwards). */
export function enter(t: Target): void {
  try {
    enterNetnsForGood(t.netns);
  } catch (err) {
    // The target is there but cannot be entered: diagnose's "target unreachable" exit status.
    if (isTsnetError(err)) throw new TargetError(err.code, `cannot enter ${t.label}: ${err.message}`, err.hint === undefined ? {} : { hint: err.hint });
    throw err;
  }
}

/** Runs every row's lookups live; rows run concurrently, a row's names one after another (one process). */
export async function measure(rows: Omit<ModeRow, 'traces'>[], names: string[], family: Family, onProgress?: (running: string[]) => void): Promise<ModeRow[]> {
  const running = new Set(rows.map((r) => r.label));
  const timer = onProgress ? setInterval(() => onProgress([...running]), 500) : undefined;
  try {
    return await Promise.all(
      rows.map(async (row) => {
        const emulator = emulatorFor(row.mode)!;
        const warnings: string[] = [];
        const proc = emulator.createProcess({ input: row.input, random: Math.random, warn: (m) => warnings.push(m) });
        const traces: Trace[] = [];
        for (const name of names) {
          traces.push(await lookupReal(proc, { name, family, canonname: false }, { mode: row.label, port: 53, warnings: [...warnings] }));
        }
        running.delete(row.label);
        return { ...row, traces };
      }),
    );
  } finally {
    if (timer) clearInterval(timer);
  }
}

/** The same rows on a simulated network (predictions: --no-live, what-ifs, fix costs). */
export function predict(rows: Omit<ModeRow, 'traces'>[], names: string[], family: Family, scenario: ReturnType<typeof parseScenario>): ModeRow[] {
  return rows.map((row) => ({
    ...row,
    traces: simulateLookups(emulatorFor(row.mode)!, row.input, scenario, names.map((name) => ({ name, family, canonname: false })), seededRandom(1)).map((t) => ({ ...t, mode: row.label })),
  }));
}
