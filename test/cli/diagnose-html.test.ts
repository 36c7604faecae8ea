// The --html report, rendered by headless Chromium: what is drawn, where.
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseScenario } from '../../resolvers/index.js';
import { predict } from '../../src/diagnose/run.js';
import { findFindings } from '../../src/diagnose/findings.js';
import { renderHtml } from '../../src/cli/diagnose-html.js';
import type { Report } from '../../src/diagnose/diagnose.js';

const CHROMIUM = '/usr/bin/chromium';

function report(): Report {
  const input = { resolvConf: 'nameserver 10.0.0.1\nnameserver 10.0.0.2\n', hosts: '', nsswitch: undefined, env: {}, hostname: 'app' };
  const plan = ['glibc', 'musl', 'eventlet'].map((mode) => ({ mode, label: mode, path: 'direct' as const, input }));
  const scenario = parseScenario({ servers: { '10.0.0.1': 'blackhole', '10.0.0.2': 'answer' }, zone: ['db.example=A:10.1.2.3'] });
  const rows = predict(plan, ['db.example'], 'any', scenario);
  const findings = findFindings(rows, ['db.example'], 'any');
  return {
    program: null,
    target: { label: 'container <app> & co', runtime: null, nameservers: ['10.0.0.1', '10.0.0.2'], upstreams: null, search: [], options: [], nsswitch: 'files dns' },
    names: { list: ['db.example'], why: 'as given' },
    live: false,
    rows: rows.map((r) => ({ label: r.label, mode: r.mode, path: r.path, traces: r.traces })),
    stub: null,
    observed: null,
    findings,
    whatIf: [],
    exitCode: 1,
  };
}

describe.skipIf(!existsSync(CHROMIUM))('diagnose --html in a real browser', () => {
  let browser: Browser;
  const dir = mkdtempSync('/tmp/tsnet-html-');
  const file = join(dir, 'report.html');

  beforeAll(async () => {
    writeFileSync(file, renderHtml(report()));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('draws one waterfall per mode, queries placed on a shared time axis', async () => {
    const page = await browser.newPage();
    await page.goto(`file://${file}`);
    expect(await page.title()).toBe('tsnet diagnose: container <app> & co');
    const modes = await page.locator('svg.waterfall').evaluateAll((els) => els.map((e) => e.getAttribute('data-mode')));
    expect(modes).toEqual(['glibc', 'musl', 'eventlet']);

    // glibc: the first server's queries wait the whole 5 s (amber), the second server's start at 5 s.
    const glibc = page.locator('svg.waterfall[data-mode="glibc"]');
    const timeout = await glibc.locator('rect[data-kind="query"][data-outcome="timeout"]').first().boundingBox();
    const answered = await glibc.locator('rect[data-kind="query"][data-server="10.0.0.2"]').first().boundingBox();
    const lookup = await glibc.locator('rect[data-kind="lookup"]').boundingBox();
    expect(timeout && answered && lookup).toBeTruthy();
    // the answer is drawn where the wait ends, and the wait spans (almost) the whole lookup bar
    expect(Math.abs(answered!.x - (timeout!.x + timeout!.width))).toBeLessThan(3);
    expect(timeout!.width / lookup!.width).toBeGreaterThan(0.95);
    const fill = await glibc.locator('rect[data-outcome="timeout"]').first().evaluate((e) => getComputedStyle(e).fill);
    expect(fill).toBe('rgb(249, 168, 37)');

    // musl answers at once: its bars are a sliver of glibc's 5 s axis
    const muslLookup = await page.locator('svg.waterfall[data-mode="musl"] rect[data-kind="lookup"]').boundingBox();
    expect(muslLookup!.width).toBeLessThan(5);
    await page.close();
  });

  it('lists the findings with the dead nameserver first, with its fix', async () => {
    const page = await browser.newPage();
    await page.goto(`file://${file}`);
    const first = page.locator('li.finding').first();
    expect(await first.getAttribute('data-id')).toBe('blackholed-nameserver');
    expect(await first.innerText()).toMatch(/nameserver 10\.0\.0\.1 never answers[\s\S]*fix: remove "nameserver 10\.0\.0\.1"/);
    expect(await first.isVisible()).toBe(true);
    await page.close();
  });

  it('is self-contained: no scripts, no external resources', async () => {
    const html = renderHtml(report());
    expect(html).not.toMatch(/<script|<link|src=|@import|https?:\/\//);
  });
});
