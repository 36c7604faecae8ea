// /etc/hosts model. Pure. Reading is the emulators' reader (resolvers/core/hosts.ts), so what
// tsnet writes and what the emulated libraries read are split into lines the same way.
import { hostsLines, type HostsLine } from '../../resolvers/core/hosts.js';

export type HostsEntry = HostsLine;

export interface HostsSection {
  comment: string;
  entries: HostsEntry[];
}

/** Every line with an address and at least one name, comments dropped. */
export const parseHosts: (text: string) => HostsEntry[] = hostsLines;

export function renderHosts(header: string[], sections: HostsSection[]): string {
  const out = header.map((h) => `# ${h}`);
  for (const section of sections) {
    if (section.entries.length === 0) continue;
    out.push(`# ${section.comment}`);
    for (const e of section.entries) out.push(`${e.address}\t${e.names.join(' ')}`);
  }
  return out.join('\n') + '\n';
}
