// The dependency rules of docs/architecture.md, checked on every import line.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, importCycles, importsOf, parseRankTable, read, sources, treeEdges, unitOf, violations } from './support/layers.js';

const imports = (file: string) => importsOf(read(file));
const table = parseRankTable(readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8'));

describe('layers: imports point down the rank table of docs/architecture.md', () => {
  it('every source file has a rank and no import points up or sideways', () => {
    const edges = treeEdges();
    expect(edges.length).toBeGreaterThan(200);
    expect(violations(edges, table)).toEqual([]);
  });

  it('the same checker and table reject a back edge, a sideways edge and an unranked file', () => {
    const wrong = [
      { from: 'src/stub/daemon.ts', spec: '../api/create.js' }, // stub (8) → api (9): up
      { from: 'src/driver/real-driver.ts', spec: '../fakedns/server.js' }, // rank 7 → rank 7: sideways
      { from: 'resolvers/core/wire.ts', spec: '../glibc.js' }, // core (0) → resolvers (1): up
      { from: 'src/files/hosts.ts', spec: '../cli/main.js' },
      { from: 'src/newfolder/x.ts', spec: '../errors.js' }, // a folder nobody ranked
    ];
    const found = violations(wrong, table);
    expect(found).toHaveLength(5);
    expect(found[0]).toMatch(/^src\/stub\/daemon\.ts \(src\/stub\/, rank 8\) imports src\/api\/create\.ts \(src\/api\/, rank 9\): up$/);
    expect(found[1]).toMatch(/sideways$/);
    expect(found[4]).toBe('src/newfolder/x.ts has no rank in docs/architecture.md');
    // ...while the same edges pointing down pass.
    expect(violations([{ from: 'src/api/create.ts', spec: '../stub/control.js' }, { from: 'src/cli/main.ts', spec: '../../resolvers/core/wire.js' }], table)).toEqual([]);
  });

  it('no two files import each other, directly or around a loop', () => {
    expect(importCycles(treeEdges())).toEqual([]);
    // the same check sees a loop when there is one
    const loop = [
      { from: 'src/diagnose/a.ts', spec: './b.js' },
      { from: 'src/diagnose/b.ts', spec: './c.js' },
      { from: 'src/diagnose/c.ts', spec: './a.js' },
    ];
    expect(importCycles(loop)).toEqual([['src/diagnose/a.ts', 'src/diagnose/b.ts', 'src/diagnose/c.ts']]);
  });

  it('a file takes the rank of the longest path that holds it', () => {
    expect(unitOf('resolvers/core/wire.ts', table)?.rank).toBe(0);
    expect(unitOf('resolvers/glibc.ts', table)?.rank).toBe(1);
    expect(unitOf('src/deps.ts', table)?.path).toBe('src/deps.ts');
  });

  it('only src/cli/ imports commander', () => {
    for (const f of sources('src')) if (!f.startsWith('src/cli/')) expect(imports(f), f).not.toContain('commander');
  });
});

describe('architecture', () => {
  it('resolvers/ is pure: no I/O modules, no clock, nothing from src/ or native/', () => {
    const files = sources('resolvers');
    expect(files.length).toBeGreaterThan(5);
    for (const f of files) {
      for (const spec of imports(f)) {
        expect(spec, `${f} imports ${spec}`).not.toMatch(/^(node:)?(dgram|net|fs|timers|child_process|worker_threads)$/);
        expect(spec, `${f} imports ${spec}`).not.toMatch(/\/(src|native)\//);
        expect(spec, `${f} imports ${spec}`).not.toBe('koffi');
      }
      const text = read(f).replace(/\/\/.*$|\/\*[\s\S]*?\*\//gm, '');
      expect(text, `${f} reads the clock`).not.toMatch(/Date\.now\(|performance\.now\(|setTimeout\(|setInterval\(/);
    }
  });

  it('only native/ imports koffi', () => {
    for (const f of [...sources('src'), ...sources('resolvers'), ...sources('native')]) {
      if (f.startsWith('native/')) continue;
      expect(imports(f), f).not.toContain('koffi');
    }
  });

  it('native/ depends on nothing of the project', () => {
    for (const f of sources('native')) {
      for (const spec of imports(f)) expect(spec, `${f} imports ${spec}`).toMatch(/^(node:|koffi$|\.\/)/);
    }
  });

  it('only the CLI entry point exits the process', () => {
    for (const f of sources('src')) {
      if (f === 'src/cli/main.ts' || f === 'src/ns/enter.ts') continue; // enter.ts: a thread stuck in another namespace
      const text = read(f);
      expect(text, `${f} calls process.exit`).not.toMatch(/process\.exit\(/);
    }
  });
});
