// /etc/hosts model. Pure.

export interface HostsEntry {
  address: string;
  names: string[];
}

export interface HostsSection {
  comment: string;
  entries: HostsEntry[];
}

export function parseHosts(text: string): HostsEntry[] {
  const entries: HostsEntry[] = [];
  for (const raw of text.split('\n')) {
    const fields = raw.replace(/#.*$/s, '').trim().split(/\s+/).filter(Boolean);
    const [address, ...names] = fields;
    if (address !== undefined && names.length > 0) entries.push({ address, names });
  }
  return entries;
}

export function renderHosts(header: string[], sections: HostsSection[]): string {
  const out = header.map((h) => `# ${h}`);
  for (const section of sections) {
    if (section.entries.length === 0) continue;
    out.push(`# ${section.comment}`);
    for (const e of section.entries) out.push(`${e.address}\t${e.names.join(' ')}`);
  }
  return out.join('\n') + '\n';
}
