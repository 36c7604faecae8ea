// A container owns the names it asks for, byte for byte: a query name with ESC, BEL, DEL, CR, LF
// or a C1 control (U+009B, CSI) in a label must not reach the terminal of whoever reads the stub's
// log. `tsnet stub logs`, `tsnet stub status` and `tsnet diagnose` (which takes its names from the
// stub's log) print such bytes as dig does, \DDD; `stub logs --json` stays JSON with the name
// intact (DEL and C1 as \u escapes). The queries are sent over UDP from inside a lab container to
// the stub on the lab's gateway; the upstream is `tsnet fake-dns` in another lab container.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab, isRoot } from '../support/lab.js';
import { destroyStubLab, startUpstream, stubLogs, waitFor, type Upstream } from '../support/upstream.js';
import { SEND_RAW_NAME as SEND, controlsIn } from '../support/raw-names.js';


describe.skipIf(!isRoot)('stub logs, stub status and diagnose print hostile query names escaped', () => {
  const lab = new Lab();
  const dir = mkdtempSync(join(tmpdir(), 'tsnet-logesc-test-'));
  const script = join(dir, 'send.py');
  let up: Upstream | undefined;
  const app = lab.name('app');
  // Forwarded (the upstream answers NXDOMAIN), so diagnose takes it from the log as a recent name:
  // x ESC [2J BEL . DEL \ U+009B (CSI, as UTF-8) . example
  const forwarded = [Buffer.from('x\x1b[2J\x07', 'latin1'), Buffer.from([0x7f, 0x5c, 0xc2, 0x9b]), Buffer.from('example')];
  const qname = 'x\x1b[2j\x07.\x7f\\\u009b.example'; // as the stub logs it (lower case, UTF-8 decoded)
  const shown = 'x\\027[2j\\007.\\127\\092\\194\\155.example'; // dig's presentation format
  // Answered by the stub itself (NXDOMAIN in the network's zone): a line break and a carriage return.
  const local = [Buffer.from('a\nb\rc'), Buffer.from('tsnet'), Buffer.from('tsnet')];
  const localName = 'a\nb\rc.tsnet.tsnet';
  const localShown = 'a\\010b\\013c.tsnet.tsnet';
  const send = async (labels: Buffer[]) => {
    const sent = await lab.cli(['exec', app, '--', 'python3', script, labels.map((l) => l.toString('hex')).join(','), lab.ip(1)]);
    if (sent.code !== 0) throw new Error(`the hostile query: ${sent.stderr}`);
  };

  beforeAll(async () => {
    writeFileSync(script, SEND);
    up = await startUpstream(lab, lab.name('up'), [{ address: lab.ip(200), behaviour: 'answer' }], ['db.example=A:192.0.2.10']);
    const r = await lab.create(app, ['--dns-mode', 'glibc', '--dns', lab.ip(200), '--dns-option', 'timeout:1', '--dns-option', 'attempts:1']);
    if (r.code !== 0) throw new Error(`create ${app}: ${r.stderr}`);
    await send(local);
    await send(forwarded);
    await waitFor('the hostile queries in the stub log', async () => {
      const names = (await stubLogs(lab, app)).map((l) => l.qname);
      return names.includes(qname) && names.includes(localName);
    });
  });

  afterAll(async () => {
    await up?.stop();
    const { leftovers, daemons } = await destroyStubLab(lab);
    rmSync(dir, { recursive: true, force: true });
    expect(leftovers).toEqual([]);
    expect(daemons).toEqual([]);
  });

  it('stub logs: the name as \\DDD, no control character, one line per query', async () => {
    const r = await lab.cli(['stub', 'logs', app]);
    expect(r.code, r.stderr).toBe(0);
    expect(controlsIn(r.stdout)).toEqual([]);
    expect(r.stdout).toContain(shown);
    expect(r.stdout).toContain(localShown);
    const lines = r.stdout.split('\n').filter(Boolean);
    expect(lines).toHaveLength((await stubLogs(lab, app)).length);
    for (const l of lines) expect(l).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('stub logs --json: JSON with the name intact, and no raw DEL or C1 character', async () => {
    const r = await lab.cli(['stub', 'logs', app, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(controlsIn(r.stdout)).toEqual([]);
    expect(r.stdout.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { qname: string }).qname)).toEqual(expect.arrayContaining([qname, localName]));
  });

  it('stub status: no control character', async () => {
    const r = await lab.cli(['stub', 'status']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^stub: running/);
    expect(controlsIn(r.stdout)).toEqual([]);
  });

  it('diagnose (names from the stub log, --no-live): the name as \\DDD, no control character', async () => {
    const r = await lab.cli(['diagnose', app, '--no-live']);
    expect(r.stdout, r.stderr).toContain('the most recent names this container looked up');
    expect(controlsIn(r.stdout)).toEqual([]);
    expect(r.stdout).toContain(shown);
  });
});
