// resolv.conf model: parse (lenient, like the libraries: unknown lines become warnings) and
// render (with provenance comments, like moby's Generate). Pure.

export interface ResolvConf {
  nameservers: string[];
  search: string[];
  options: string[];
  /** lines that no resolver understands, with their line numbers */
  warnings: string[];
}

export interface Nameserver {
  address: string;
  /** where this line came from, written as a comment above it */
  source: string;
}

export interface Sourced {
  values: string[];
  source: string;
}

export interface ResolvConfSpec {
  header: string[];
  nameservers: Nameserver[];
  search: Sourced;
  options: Sourced;
}

const KEYWORDS = new Set(['nameserver', 'search', 'domain', 'options', 'sortlist', 'lookup', 'family']);

export function parseResolvConf(text: string): ResolvConf {
  const rc: ResolvConf = { nameservers: [], search: [], options: [], warnings: [] };
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/[#;].*$/s, '').trim();
    if (line === '') return;
    const [keyword, ...args] = line.split(/\s+/);
    switch (keyword) {
      case 'nameserver':
        if (args[0] === undefined) rc.warnings.push(`line ${i + 1}: nameserver without an address`);
        else rc.nameservers.push(args[0]);
        break;
      case 'search':
      case 'domain':
        // The last search/domain line wins, as in glibc and musl.
        rc.search = args;
        break;
      case 'options':
        rc.options.push(...args);
        break;
      default:
        if (!KEYWORDS.has(keyword!)) rc.warnings.push(`line ${i + 1}: unknown keyword "${keyword}"`);
    }
  });
  return rc;
}

export function renderResolvConf(spec: ResolvConfSpec): string {
  const out = spec.header.map((h) => `# ${h}`);
  for (const ns of spec.nameservers) {
    out.push(`# ${ns.source}`, `nameserver ${ns.address}`);
  }
  if (spec.nameservers.length === 0) out.push('# no nameserver: pass --dns IP to set one');
  if (spec.search.values.length > 0) out.push(`# ${spec.search.source}`, `search ${spec.search.values.join(' ')}`);
  if (spec.options.values.length > 0) out.push(`# ${spec.options.source}`, `options ${spec.options.values.join(' ')}`);
  return out.join('\n') + '\n';
}
