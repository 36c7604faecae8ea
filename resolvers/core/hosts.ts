// /etc/hosts as each library reads it. Pure.

export interface HostsLine {
  address: string;
  names: string[];
}

export function hostsLines(text: string): HostsLine[] {
  const out: HostsLine[] = [];
  for (const raw of text.split('\n')) {
    const [address, ...names] = raw.replace(/#.*$/s, '').trim().split(/\s+/).filter(Boolean);
    if (address && names.length > 0) out.push({ address, names });
  }
  return out;
}

const isV6 = (a: string) => a.includes(':');

/** glibc nss_files: every matching line, names compared case-insensitively, file order. */
export function glibcHostsLookup(text: string, name: string, family: 'any' | 'inet' | 'inet6'): string[] {
  const want = name.toLowerCase();
  return hostsLines(text)
    .filter((l) => l.names.some((n) => n.toLowerCase() === want))
    .map((l) => l.address)
    .filter((a) => (family === 'any' ? true : family === 'inet6' ? isV6(a) : !isV6(a)));
}

/** glibc nss_files: the canonical name is the first name of the first matching line of the family. */
export function glibcHostsCanon(text: string, name: string, family: 'any' | 'inet' | 'inet6'): string | undefined {
  const want = name.toLowerCase();
  return hostsLines(text).find((l) => l.names.some((n) => n.toLowerCase() === want) && (family === 'any' || (family === 'inet6') === isV6(l.address)))?.names[0];
}

/** musl name_from_hosts: case-sensitive token match, every matching line (at most 48), in file order. */
export function muslHostsLines(text: string, name: string): HostsLine[] {
  return hostsLines(text)
    .filter((l) => l.names.includes(name))
    .slice(0, 48);
}

/**
 * eventlet greendns HostsResolver: lower-cased names, one address per name and family (a later
 * line replaces an earlier one), link-local fe80:: entries skipped.
 */
export function eventletHosts(text: string): { v4: Map<string, string>; v6: Map<string, string> } {
  const v4 = new Map<string, string>();
  const v6 = new Map<string, string>();
  for (const l of hostsLines(text)) {
    if (isV6(l.address) && l.address.toLowerCase().startsWith('fe80')) continue;
    for (const n of l.names) (isV6(l.address) ? v6 : v4).set(n.toLowerCase(), l.address);
  }
  return { v4, v6 };
}

/**
 * Go 1.19 net/hosts.go lookupStaticHost: '#' starts a comment anywhere, the address must be an IP
 * literal (a %zone kept), names lower-cased and compared as absolute names ("db." = "db"), every
 * matching line in file order. The family filter is the caller's (Go filters after the lookup).
 */
export function goHostsLookup(text: string, name: string, isAddress: (a: string) => boolean): string[] {
  const key = name.toLowerCase().replace(/\.$/, '');
  return hostsLines(text)
    .filter((l) => isAddress(l.address) && l.names.some((n) => n.toLowerCase().replace(/\.$/, '') === key))
    .map((l) => l.address);
}
