// The layering rule of docs/architecture.md as code: its rank table, the rank of a file, and the
// imports that break the rule. The architecture test runs this on the real tree and on
// deliberately wrong imports, through the same functions and the same table.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';

export const ROOT = join(import.meta.dirname, '../..');

export interface Unit {
  rank: number;
  /** a folder ending in "/" or a single file */
  path: string;
}

/** The `| rank | folder | ... |` rows of the Layers table. */
export function parseRankTable(markdown: string): Unit[] {
  const units = [...markdown.matchAll(/^\|\s*(\d+)\s*\|\s*((?:src|resolvers|native)[^\s|]*)\s*\|/gm)].map((m) => ({ rank: Number(m[1]), path: m[2]! }));
  if (units.length === 0) throw new Error('docs/architecture.md has no rank table');
  return units;
}

/** The unit a file belongs to: the longest table path that is the file or a folder holding it. */
export function unitOf(file: string, table: Unit[]): Unit | undefined {
  return table
    .filter((u) => (u.path.endsWith('/') ? file.startsWith(u.path) : file === u.path))
    .sort((a, b) => b.path.length - a.path.length)[0];
}

/** Module specifiers a file imports: static, re-exports, dynamic import() and require(). */
export function importsOf(text: string): string[] {
  return [
    ...text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/gm),
    ...text.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm),
    ...text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g),
    ...text.matchAll(/require\(\s*['"]([^'"]+)['"]\s*\)/g),
  ].map((m) => m[1]!);
}

/** A relative specifier as a repository path ("../state/paths.js" from src/api/x.ts → src/state/paths.ts). */
export function resolveSpec(from: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  return normalize(join(dirname(from), spec)).replace(/\.js$/, '.ts');
}

export interface Edge {
  from: string;
  spec: string;
}

/** Every edge that breaks the rule, as a readable line; files without a rank are violations too. */
export function violations(edges: Edge[], table: Unit[]): string[] {
  const out: string[] = [];
  for (const { from, spec } of edges) {
    const a = unitOf(from, table);
    if (!a) {
      out.push(`${from} has no rank in docs/architecture.md`);
      continue;
    }
    const target = resolveSpec(from, spec);
    if (target === undefined) continue; // a package or node: module (other rules cover those)
    const b = unitOf(target, table);
    if (!b) out.push(`${from} imports ${target}, which has no rank in docs/architecture.md`);
    else if (a.path !== b.path && b.rank >= a.rank) {
      out.push(`${from} (${a.path}, rank ${a.rank}) imports ${target} (${b.path}, rank ${b.rank}): ${b.rank === a.rank ? 'sideways' : 'up'}`);
    }
  }
  return [...new Set(out)];
}

/** Source files (no tests) under a folder, as repository paths. */
export function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.test.ts'))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)));
}

export const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

/** Every import edge of the tree's source files. */
export function treeEdges(dirs = ['src', 'resolvers', 'native']): Edge[] {
  return dirs.flatMap(sources).flatMap((from) => {
    const specs = importsOf(read(from));
    // A file that imports nothing still needs a rank: give it one edge with no target.
    return specs.length > 0 ? specs.map((spec) => ({ from, spec })) : [{ from, spec: 'node:none' }];
  });
}

/** Groups of files that import each other, directly or around a loop (Tarjan's strongly connected components). */
export function importCycles(edges: Edge[]): string[][] {
  const graph = new Map<string, string[]>();
  for (const { from, spec } of edges) {
    const to = resolveSpec(from, spec);
    graph.set(from, [...(graph.get(from) ?? []), ...(to === undefined ? [] : [to])]);
  }
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const out: string[][] = [];
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (stack.includes(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const group: string[] = [];
      let w: string;
      do group.push((w = stack.pop()!));
      while (w !== v);
      if (group.length > 1) out.push(group.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return out;
}
