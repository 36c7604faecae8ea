// The fidelity suite: real resolver libraries vs tsnet's emulators, same topology, same fake
// servers (see run.ts). One test per scenario × library; the whole matrix runs once in beforeAll,
// spread over a few independent lanes, and is written to FIDELITY_OUT (default
// test/fidelity/.last-run.json — not committed) for scripts/fidelity-table.mjs.
//
// Environment:
//   FIDELITY_SKIP=1          skip the suite
//   FIDELITY_ONLY=a,b        only these scenario ids
//   FIDELITY_LIBS=glibc,musl only these libraries (of glibc, musl, eventlet, eventlet-nogreendns, go, go-cgo;
//                            go and go-cgo need golang-go to build test/fidelity/ref/go_lookup.go)
//   FIDELITY_LANES=3         parallel lanes (each: a server + a client namespace); 3 on 2 cores:
//                            with 4, each full run had 2-3 rows whose real or emulated side
//                            stalled 50-75 ms behind the other lanes' process start-ups (measured
//                            2026-12-03: 4 lanes 195-213 s, 2-3 timing failures a run; 3 lanes
//                            252 s, none)
//   FIDELITY_OUT=path        where the results go
//   FIDELITY_KEEP=1          keep the work directory (files, logs) for inspection
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIBRARIES, SCENARIOS, validateScenarios, type Library } from './scenarios.js';
import { buildReferences, describeStall, haveGo, hostInfo, offPremise, REPO, runMatrix, snapshotCli, type FidelityResults, type RowResult, type Tools } from './run.js';
import { onExitCleanup, Topology } from './topology.js';
import { formatPlan } from './compare.js';

const isRoot = process.getuid?.() === 0;

function have(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const only = process.env.FIDELITY_ONLY?.split(',').map((s) => s.trim()).filter(Boolean);
const libs = (process.env.FIDELITY_LIBS?.split(',').map((s) => s.trim()).filter(Boolean) ?? [...LIBRARIES]) as Library[];
const selected = SCENARIOS.filter((s) => !only || only.includes(s.id));
const lanes = Math.max(1, Math.min(8, Number(process.env.FIDELITY_LANES ?? '3') || 3));
const OUT = resolve(REPO, process.env.FIDELITY_OUT ?? 'test/fidelity/.last-run.json');
/** some selected row runs go_lookup (needs the Go toolchain to build it) */
const needGo = selected.some((s) => s.libraries.some((l) => (l === 'go' || l === 'go-cgo') && libs.includes(l)));

function missingTools(): string[] {
  const out: string[] = [];
  if (!have('gcc', ['--version'])) out.push('gcc');
  if (!have('musl-gcc', ['-v'])) out.push('musl-gcc (apt-get install musl-tools)');
  if (!have('/usr/bin/python3', ['-c', 'import eventlet, dns'])) out.push('python3-eventlet (apt-get install python3-eventlet)');
  if (needGo && !haveGo()) out.push('golang-go (apt-get install golang-go; or FIDELITY_LIBS without go, go-cgo)');
  return out;
}

describe('fidelity scenarios (data)', () => {
  it('are well-formed', () => {
    expect(validateScenarios(SCENARIOS)).toEqual([]);
  });
});

const skipReason = process.env.FIDELITY_SKIP ? 'FIDELITY_SKIP is set' : !isRoot ? 'needs root (namespaces, mounts)' : missingTools().join(', ') ? `missing ${missingTools().join(', ')}` : null;
if (skipReason) console.warn(`SKIPPED fidelity suite: ${skipReason}`);

describe.skipIf(skipReason !== null)('fidelity: real libraries vs emulators', () => {
  let topology: Topology | undefined;
  let workDir = '';
  const rows = new Map<string, RowResult>();
  let setupError: Error | undefined;

  beforeAll(async () => {
    const started = new Date();
    workDir = mkdtempSync('/tmp/tsnet-fidelity-');
    const dir = workDir;
    if (!process.env.FIDELITY_KEEP) onExitCleanup(() => rmSync(dir, { recursive: true, force: true }));
    try {
      const refs = buildReferences(join(workDir, 'bin'), needGo);
      const tools: Tools = { node: process.execPath, cli: snapshotCli(workDir), ...refs };
      topology = Topology.create(lanes);
      const progress = (line: string) => process.stderr.write(`fidelity ${line}\n`);
      progress(`${selected.length} scenarios, libraries ${libs.join(', ')}, ${lanes} lanes (${topology.prefix}), work dir ${workDir}`);
      const result = await runMatrix(selected, libs, { tools, topology, workDir, progress });
      for (const r of result) rows.set(`${r.scenario}/${r.library}`, r);
      const finished = new Date();
      const out: FidelityResults = {
        version: 1,
        started: started.toISOString(),
        finished: finished.toISOString(),
        durationMs: finished.getTime() - started.getTime(),
        lanes,
        host: hostInfo(),
        scenarios: selected,
        rows: result,
      };
      mkdirSync(dirname(OUT), { recursive: true });
      writeFileSync(OUT, JSON.stringify(out, null, 2) + '\n');
      const busy = result.filter((r) => (r.load.cpuPressure ?? 0) > 0.2).length;
      progress(`done in ${(out.durationMs / 1000).toFixed(1)} s: ${result.filter((r) => r.status === 'pass').length} pass, ${result.filter((r) => r.status === 'fail').length} fail, ${result.filter((r) => r.status === 'inconclusive').length} inconclusive (the real library off a scenario's timing premise), ${result.filter((r) => r.status === 'pending').length} pending, ${result.filter((r) => r.status === 'error').length} error; ${result.filter((r) => r.rerun).length} re-run alone after a timing failure (still failures); ${busy} rows ran while tasks waited for a CPU > 20 % of the time → ${OUT}`);
    } catch (err) {
      setupError = err as Error;
    }
  }, 30 * 60_000);

  afterAll(() => {
    const failures = topology?.destroy() ?? [];
    const left = topology?.leftovers() ?? [];
    if (!process.env.FIDELITY_KEEP && workDir) rmSync(workDir, { recursive: true, force: true });
    expect(failures, 'topology teardown').toEqual([]);
    expect(left, 'namespaces or links left behind').toEqual([]);
  });

  it('sets up (reference programs, CLI snapshot, topology)', () => {
    if (setupError) throw setupError;
  });

  for (const s of selected) {
    for (const lib of s.libraries.filter((l) => libs.includes(l))) {
      it(`${s.id} × ${lib}`, (ctx) => {
        const r = rows.get(`${s.id}/${lib}`);
        if (!r) throw setupError ?? new Error('not run');
        if (r.status === 'pending') ctx.skip(r.emulated.message);
        const why = [
          r.real.status !== 'ok' ? `real run: ${r.real.message}` : '',
          r.emulatedVsReal && !r.emulatedVsReal.match ? `emulated: ${r.emulatedVsReal.differences.join('; ')}` : '',
          r.simulatedVsReal && !r.simulatedVsReal.match ? `simulated: ${r.simulatedVsReal.differences.join('; ')}` : '',
          r.emulated.traceVsWire ? `emulated trace vs its own wire: ${r.emulated.traceVsWire.join('; ')}` : '',
          r.rerun ? `re-run alone (shown, not counted): ${r.rerun.status}${r.rerun.differences.length ? ` — ${r.rerun.differences.join('; ')}` : ''}` : '',
          r.load.cpuPressure !== null && r.load.cpuPressure > 0.2 ? `machine busy while the row ran: tasks waited for a CPU ${Math.round(r.load.cpuPressure * 100)} % of the time (load ${r.load.loadavg1.toFixed(1)}); timing differences may be the machine's` : '',
          `real plan: ${r.real.lookups.map((l) => formatPlan(l.queries)).join(' | ')}`,
          `emulated plan: ${r.emulated.lookups.map((l) => formatPlan(l.queries)).join(' | ')}`,
        ]
          .filter(Boolean)
          .join('\n');
        if (r.status === 'inconclusive') {
          // the real library ran off the scenario's premise (its own wake-ups late): shown, not a pass
          const late = offPremise(s, r.real);
          ctx.skip(
            late !== undefined
              ? `inconclusive: the real library's resends ran ${late.toFixed(1)} ms late, off this scenario's premise (on-time wake-ups)\n${why}`
              : `inconclusive: ${describeStall(r.stall!)}, and the rest differs in timing only\n${why}`,
          );
        }
        expect(r.status, why).toBe('pass');
      });
    }
  }
});
