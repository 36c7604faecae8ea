// resolv.conf as tsnet itself reads and writes it: one typed model, parsed leniently (like the
// libraries: unknown lines become warnings) and rendered with provenance comments (like moby's
// Generate), plus the line-preserving edits of diagnose's --what-if. Every resolv.conf tsnet writes
// or reads for its own use goes through this module; how each library reads one is the emulators'
// fidelity code (resolvers/core/config.ts) and stays there. Pure.

/** A nameserver line; `source` (where it came from) is written as a comment line above it. */
export interface NameserverEntry {
  address: string;
  source?: string | undefined;
}

/** A search or options line: its values, and where they came from (a comment line above it). */
export interface ValuesEntry {
  values: string[];
  source?: string | undefined;
}

/** A nameserver whose origin is known (what create records). */
export interface Nameserver extends NameserverEntry {
  source: string;
}

/** Values whose origin is known. */
export interface Sourced extends ValuesEntry {
  source: string;
}

export interface ResolvConf {
  /** comment lines at the top of the file */
  header: string[];
  nameservers: NameserverEntry[];
  search: ValuesEntry;
  options: ValuesEntry;
}

export interface ParsedResolvConf extends ResolvConf {
  /** lines that no resolver understands, with their line numbers */
  warnings: string[];
}

/** One line as tsnet reads it; parse and the edits agree on which lines are which. */
type Line =
  | { kind: 'blank' }
  | { kind: 'comment'; text: string }
  | { kind: 'nameserver'; address: string }
  | { kind: 'search' | 'options'; values: string[] }
  | { kind: 'other'; problem?: string };

const KEYWORDS = new Set(['nameserver', 'search', 'domain', 'options', 'sortlist', 'lookup', 'family']);

function readLine(raw: string): Line {
  const start = raw.trimStart();
  if (start.startsWith('#') || start.startsWith(';')) return { kind: 'comment', text: start.slice(1).replace(/^ /, '').replace(/\r$/, '') };
  const line = raw.replace(/[#;].*$/s, '').trim();
  if (line === '') return { kind: 'blank' };
  // glibc (res_init.c MATCH) and musl (resolvconf.c strncmp) only see a keyword at column 0.
  if (/^\s/.test(raw)) return { kind: 'other', problem: 'indented: glibc and musl skip the line' };
  const [keyword, ...args] = line.split(/\s+/) as [string, ...string[]];
  switch (keyword) {
    case 'nameserver':
      return args[0] === undefined ? { kind: 'other', problem: 'nameserver without an address' } : { kind: 'nameserver', address: args[0] };
    case 'search':
    case 'domain':
      return { kind: 'search', values: args };
    case 'options':
      return { kind: 'options', values: args };
    default:
      return KEYWORDS.has(keyword) ? { kind: 'other' } : { kind: 'other', problem: `unknown keyword "${keyword}"` };
  }
}

const sourced = <T extends object>(entry: T, source: string | undefined): T & { source?: string } => (source === undefined ? entry : { ...entry, source });

/**
 * Reads a resolv.conf: the comment right above a nameserver, search or options line is its source,
 * the other comments before the first line that is not a comment are the header. The last search
 * or domain line wins (as in glibc and musl); options accumulate across lines.
 */
export function parseResolvConf(text: string): ParsedResolvConf {
  const rc: ParsedResolvConf = { header: [], nameservers: [], search: { values: [] }, options: { values: [] }, warnings: [] };
  let above: string | undefined; // the comment on the line just above
  let inHeader = true;
  text.split('\n').forEach((raw, i) => {
    const line = readLine(raw);
    if (line.kind === 'comment') {
      if (inHeader) rc.header.push(line.text);
      above = line.text;
      return;
    }
    const source = above;
    above = undefined;
    if (line.kind === 'blank') return;
    if (inHeader && source !== undefined && line.kind !== 'other') rc.header.pop(); // it is this line's source
    inHeader = false;
    switch (line.kind) {
      case 'nameserver':
        rc.nameservers.push(sourced({ address: line.address }, source));
        break;
      case 'search':
        rc.search = sourced({ values: line.values }, source);
        break;
      case 'options':
        rc.options = sourced({ values: [...rc.options.values, ...line.values] }, rc.options.source ?? source);
        break;
      default:
        if (line.problem !== undefined) rc.warnings.push(`line ${i + 1}: ${line.problem}`);
    }
  });
  return rc;
}

const comment = (text: string) => `# ${text.replace(/[\r\n]+/g, ' ')}`;
const directive = (keyword: 'nameserver' | 'search' | 'options', values: readonly string[]) => `${keyword} ${values.join(' ')}`;

/** Writes the header, then each line with its source as a comment above it; empty search and options are left out. */
export function renderResolvConf(conf: ResolvConf): string {
  const out = conf.header.map(comment);
  const put = (source: string | undefined, line: string) => {
    if (source !== undefined) out.push(comment(source));
    out.push(line);
  };
  for (const ns of conf.nameservers) put(ns.source, directive('nameserver', [ns.address]));
  if (conf.search.values.length > 0) put(conf.search.source, directive('search', conf.search.values));
  if (conf.options.values.length > 0) put(conf.options.source, directive('options', conf.options.values));
  return out.length > 0 ? `${out.join('\n')}\n` : '';
}

// Line-preserving edits (diagnose's --what-if): they change the lines they name and keep every
// other line byte for byte, so the emulators read the edited file with their own rules (musl's
// skipped long lines, glibc's prefix-matched options, ...) exactly as they read the original.
// Nameserver positions are 0-based and count the lines parseResolvConf reads as nameservers.

/** The indexes of the lines that parseResolvConf reads as nameservers, in order. */
function nameserverLines(lines: readonly string[]): number[] {
  return lines.flatMap((raw, i) => (readLine(raw).kind === 'nameserver' ? [i] : []));
}

const appendLine = (text: string, line: string) => `${text === '' || text.endsWith('\n') ? text : `${text}\n`}${line}\n`;

/** Drops the index-th nameserver line. Throws RangeError when there is no such line. */
export function removeNameserver(text: string, index: number): string {
  const lines = text.split('\n');
  const at = nameserverLines(lines)[index];
  if (at === undefined) throw new RangeError(`there is no nameserver line at position ${index}`);
  return lines.filter((_, i) => i !== at).join('\n');
}

/**
 * Puts the servers in a new order: `order` lists positions (each at most once), the servers it
 * leaves out follow in their old order. The nameserver lines stay where they are in the file; only
 * which server's line sits on each changes. Throws RangeError for a bad position or a repeated one.
 */
export function reorderNameservers(text: string, order: readonly number[]): string {
  const lines = text.split('\n');
  const slots = nameserverLines(lines);
  if (order.some((k) => !Number.isInteger(k) || k < 0 || k >= slots.length) || new Set(order).size !== order.length) {
    throw new RangeError(`invalid order ${order.join(',')} for ${slots.length} nameserver lines`);
  }
  const sequence = [...order, ...slots.keys()].filter((k, i, all) => all.indexOf(k) === i).map((k) => lines[slots[k]!]!);
  const out = [...lines];
  slots.forEach((at, k) => (out[at] = sequence[k]!));
  return out.join('\n');
}

/** Puts a nameserver line at the top of the file: `address` becomes the first server. */
export function prependNameserver(text: string, address: string): string {
  return `${directive('nameserver', [address])}\n${text}`;
}

/** Replaces the search list: drops every search and domain line and appends one search line. */
export function replaceSearch(text: string, domains: readonly string[]): string {
  return appendLine(text.split('\n').filter((raw) => readLine(raw).kind !== 'search').join('\n'), directive('search', domains));
}

/** Appends an options line; the libraries read options lines in order, so these override the same options above. */
export function appendOptions(text: string, options: readonly string[]): string {
  return appendLine(text, directive('options', options));
}
