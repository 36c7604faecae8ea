// The dependency rules of docs/architecture.md, checked on every import line.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.test.ts'))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)));
}

function imports(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  return [...text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/gm), ...text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g), ...text.matchAll(/require\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1]!);
}

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
      const text = readFileSync(join(ROOT, f), 'utf8').replace(/\/\/.*$|\/\*[\s\S]*?\*\//gm, '');
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
      const text = readFileSync(join(ROOT, f), 'utf8');
      expect(text, `${f} calls process.exit`).not.toMatch(/process\.exit\(/);
    }
  });
});
