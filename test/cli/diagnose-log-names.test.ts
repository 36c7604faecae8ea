// tsnet diagnose takes a container's recent names from the stub's log, and a container may ask for
// any bytes: a label with a space, a line break or an '=' in it. Such a name is no name diagnose
// can look up again (the simulated network's zone, NAME=TYPE:VALUE, cannot hold it): it is
// skipped and counted, never a crash ("internal error: invalid zone entry" printed it raw). The
// queries are sent over UDP from inside lab containers to the stub on the lab's gateway; the
// upstream is `tsnet fake-dns` in another lab container. Every packet stays on the lab.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab, isRoot, type RunResult } from '../support/lab.js';
import { destroyStubLab, startUpstream, stubLogs, waitFor, type Upstream } from '../support/upstream.js';
import { SEND_RAW_NAME as SEND, controlsIn } from '../support/raw-names.js';


interface ReportJson {
  names: { list: string[]; why: string };
  rows: Array<{ traces: Array<{ name: string }> }>;
  exitCode: number;
}

describe.skipIf(!isRoot)('diagnose skips recent names from the stub log that it cannot look up (a space, a line break)', () => {
  const lab = new Lab();
  const dir = mkdtempSync(join(tmpdir(), 'tsnet-diagnames-test-'));
  const script = join(dir, 'send.py');
  let up: Upstream | undefined;
  const mixed = lab.name('mixed'); // a good name, then two bad ones
  const onlyBad = lab.name('bad'); // only bad names; an --add-host name to fall back on
  // Forwarded to the upstream (NXDOMAIN there), so they are "recent names" in the stub's log.
  const spaced = [Buffer.from('a b\nc'), Buffer.from('example')];
  const spacedName = 'a b\nc.example';
  const equals = [Buffer.from('x=A:1'), Buffer.from('example')];
  const equalsName = 'x=a:1.example';
  const good = [Buffer.from('db'), Buffer.from('example')];
  const send = async (ctr: string, labels: Buffer[]) => {
    const sent = await lab.cli(['exec', ctr, '--', 'python3', script, labels.map((l) => l.toString('hex')).join(','), lab.ip(1)]);
    if (sent.code !== 0) throw new Error(`the query from ${ctr}: ${sent.stderr}`);
  };
  const create = async (name: string, extra: string[] = []) => {
    const r = await lab.create(name, ['--dns-mode', 'glibc', '--dns', lab.ip(200), '--dns-option', 'timeout:1', '--dns-option', 'attempts:1', ...extra]);
    if (r.code !== 0) throw new Error(`create ${name}: ${r.stderr}`);
  };
  /** exits as a diagnosis does (0 healthy, 1 findings), one report, nothing a terminal acts on */
  const diagnosed = (r: RunResult) => {
    expect(r.stderr).not.toMatch(/internal error/);
    expect([0, 1], `${r.code}\n${r.stdout}\n${r.stderr}`).toContain(r.code);
    expect(controlsIn(r.stdout)).toEqual([]);
    expect(controlsIn(r.stderr)).toEqual([]);
    expect(r.stdout + r.stderr).not.toMatch(/a b\s*c/); // the raw name, or its line break alone escaped
  };

  beforeAll(async () => {
    writeFileSync(script, SEND);
    up = await startUpstream(lab, lab.name('up'), [{ address: lab.ip(200), behaviour: 'answer' }], ['db.example=A:192.0.2.10']);
    await create(mixed);
    await create(onlyBad, ['--add-host', 'fallback.example:192.0.2.99']);
    await send(mixed, good);
    await send(mixed, spaced);
    await send(mixed, equals);
    await send(onlyBad, spaced);
    await waitFor('the queries in the stub log', async () => {
      const lines = await stubLogs(lab);
      const names = (ctr: string) => lines.filter((l) => l.container === ctr).map((l) => l.qname);
      return names(mixed).includes(equalsName) && names(mixed).includes('db.example') && names(onlyBad).includes(spacedName);
    });
  });

  afterAll(async () => {
    await up?.stop();
    const { leftovers, daemons } = await destroyStubLab(lab);
    rmSync(dir, { recursive: true, force: true });
    expect(leftovers).toEqual([]);
    expect(daemons).toEqual([]);
  });

  it('--no-live: the good recent name is diagnosed, the two others are skipped and counted', async () => {
    const r = await lab.cli(['diagnose', mixed, '--no-live']);
    diagnosed(r);
    expect(r.stdout).toMatch(/names: db\.example \(the most recent names this container looked up through the stub; 2 skipped/);
    const j = await lab.cli(['diagnose', mixed, '--no-live', '--json']);
    expect(j.stderr).toBe('');
    const report = JSON.parse(j.stdout) as ReportJson;
    expect(report.names.list).toEqual(['db.example']);
    expect(report.names.why).toMatch(/2 skipped/);
    expect(report.names.why).not.toMatch(/a b\s*c/);
  });

  it('live: the same, measured (no crash building the simulated network from the traces)', async () => {
    const r = await lab.cli(['diagnose', mixed, '--json']);
    expect(r.stderr).not.toMatch(/internal error/);
    expect([0, 1], `${r.code}\n${r.stderr}`).toContain(r.code);
    const report = JSON.parse(r.stdout) as ReportJson;
    expect(report.names.list).toEqual(['db.example']);
    expect([...new Set(report.rows.flatMap((row) => row.traces.map((t) => t.name)))]).toEqual(['db.example']);
  });

  it('only bad recent names: falls back to the --add-host names and neighbours, and says how many were skipped', async () => {
    const r = await lab.cli(['diagnose', onlyBad, '--no-live']);
    diagnosed(r);
    expect(r.stdout).toMatch(/names: fallback\.example.*1 skipped/);
  });

  it('a name given on the command line with a space or a line break is refused (exit 2, one line, escaped)', async () => {
    for (const name of ['a b.example', 'a\nb.example', 'x=A:1.example']) {
      const r = await lab.cli(['diagnose', mixed, name, '--no-live']);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
      expect(r.stderr).toMatch(/^tsnet: invalid name "/);
      expect(controlsIn(r.stderr)).toEqual([]);
    }
  });
});
