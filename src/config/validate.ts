// Turns raw create options into a validated spec before anything is touched. Pure.
import { TsnetError, usageError } from '../errors.js';
import { addressBytes, canonicalWithZone, ipVersion, v4MappedBytes } from '../../resolvers/core/address.js';
import { isLoopback, parseIPv4, parseSubnet, type Subnet } from './ipv4.js';
import { parseHostsLine, formatHostsLine } from '../files/nsswitch.js';
import type { HostsEntry } from '../files/hosts.js';

export const DNS_MODES = ['glibc', 'musl', 'direct'] as const;
export type DnsMode = (typeof DNS_MODES)[number];

export const DNS_FLAG_OPTIONS = [
  'rotate', 'single-request', 'single-request-reopen', 'edns0', 'use-vc', 'no-aaaa', 'trust-ad',
] as const;
export const DNS_NUMERIC_OPTIONS = ['ndots', 'timeout', 'attempts'] as const;

export interface CreateRequest {
  name?: string | undefined;
  network?: string | undefined;
  subnet?: string | undefined;
  ip?: string | undefined;
  hostname?: string | undefined;
  dns?: string[] | undefined;
  dnsSearch?: string[] | undefined;
  dnsOptions?: string[] | undefined;
  addHosts?: string[] | undefined;
  nsswitch?: string | undefined;
  dnsMode?: string | undefined;
  dnsCache?: string | number | undefined;
  /** `kubernetes`: the search list and ndots a pod gets (dnsPolicy ClusterFirst) */
  dnsProfile?: string | undefined;
  /** the pod's namespace for the kubernetes profile (default "default") */
  k8sNamespace?: string | undefined;
}

export interface CreateSpec {
  name: string;
  network: string;
  /** requested subnet; only used when the network does not exist yet */
  subnet: Subnet | undefined;
  ip: number | undefined;
  hostname: string;
  /** undefined: take the host's non-loopback nameservers */
  dns: string[] | undefined;
  search: string[];
  options: string[];
  addHosts: HostsEntry[];
  nsswitch: string;
  dnsMode: DnsMode;
  /** stub answer cache entries; 0 = off */
  dnsCache: number;
}

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const NETWORK_RE = /^[a-z0-9][a-z0-9_-]*$/;
const LABEL_RE = /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$/;

export const isContainerName = (name: string): boolean => name.length <= 63 && NAME_RE.test(name);
export const isNetworkName = (name: string): boolean => name.length <= 32 && NETWORK_RE.test(name);

export function validateName(name: string, what = 'container name'): string {
  if (!isContainerName(name)) {
    throw usageError(
      `invalid ${what} ${JSON.stringify(name)}: use 1-63 characters from letters, digits, "_", "." and "-", starting with a letter or digit`,
    );
  }
  return name;
}

export function validateNetworkName(name: string): string {
  if (!isNetworkName(name)) {
    throw usageError(
      `invalid network name ${JSON.stringify(name)}: use 1-32 lower-case letters, digits, "_" and "-", starting with a letter or digit`,
    );
  }
  return name;
}

/** RFC 1123 host or domain name; sethostname(2) takes at most 64 bytes. */
export function isDomainName(name: string, maxLength = 253): boolean {
  const n = name.endsWith('.') ? name.slice(0, -1) : name;
  return n.length > 0 && n.length <= maxLength && n.split('.').every((l) => l.length <= 63 && LABEL_RE.test(l));
}

export function validateHostname(name: string): string {
  if (!isDomainName(name, 64) || name.endsWith('.')) {
    throw usageError(
      `invalid hostname "${name}": use dot-separated labels of letters, digits and "-" (at most 64 characters)`,
    );
  }
  return name;
}

export function validateDnsOption(opt: string): string {
  const [key, value, ...rest] = opt.split(':');
  if ((DNS_NUMERIC_OPTIONS as readonly string[]).includes(key!)) {
    if (rest.length > 0 || value === undefined || !/^\d{1,3}$/.test(value)) {
      throw usageError(`invalid --dns-option "${opt}": ${key} needs a number, like ${key}:${key === 'ndots' ? 1 : 2}`);
    }
    return `${key}:${Number(value)}`;
  }
  if ((DNS_FLAG_OPTIONS as readonly string[]).includes(opt)) return opt;
  throw usageError(
    `unknown --dns-option "${opt}": use ${DNS_NUMERIC_OPTIONS.map((o) => `${o}:N`).join(', ')}, ${DNS_FLAG_OPTIONS.join(', ')}`,
  );
}

export function validateAddHost(spec: string): HostsEntry {
  const i = spec.indexOf(':');
  const name = i < 0 ? '' : spec.slice(0, i);
  const address = i < 0 ? '' : spec.slice(i + 1).replace(/^\[(.*)\]$/, '$1');
  if (i < 0 || !isDomainName(name) || name.endsWith('.') || ipVersion(address) === 0) {
    throw usageError(`invalid --add-host "${spec}": expected NAME:IP, like db:10.89.0.77`);
  }
  return { address, names: [name] };
}

export function validateDnsCache(value: string | number | undefined, mode: string): number {
  if (value === undefined) return 0;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 1_000_000) {
    throw usageError(`invalid --dns-cache "${value}": give a number of entries from 0 to 1000000 (0 = off)`);
  }
  if (n > 0 && mode === 'direct') throw usageError('--dns-cache needs the stub resolver: use --dns-mode glibc or musl');
  return n;
}

export function validateDnsMode(mode: string): DnsMode {
  if (!(DNS_MODES as readonly string[]).includes(mode)) {
    throw usageError(`unknown --dns-mode "${mode}": use one of ${DNS_MODES.join(', ')}`);
  }
  return mode as DnsMode;
}

/** A valid hostname made from any valid container name: "_" becomes "-", empty and edge-dash labels go. */
export function hostnameFromName(name: string): string {
  const labels = name
    .replace(/_/g, '-')
    .split('.')
    .map((l) => l.replace(/^-+|-+$/g, ''))
    .filter(Boolean);
  let host = labels.join('.');
  while (host.length > 64) host = host.slice(0, host.lastIndexOf('.') > 0 ? host.lastIndexOf('.') : 64);
  return host === '' ? 'container' : host;
}

/**
 * A --dns address in its one form, RFC 5952's (the address module's canonical text: lower case,
 * the longest zero run as '::', v4-mapped as ::ffff:a.b.c.d), a %zone kept as given. The kernel
 * reports a reply's source in that form, and the stub's anti-spoofing guard, the records and the
 * resolv.conf files compare or show it as text: "2001:DB8::1" would never match.
 */
function validateDnsServer(text: string): string {
  const canonical = canonicalWithZone(text);
  if (canonical === undefined) throw usageError(`invalid --dns ${JSON.stringify(text)}: expected an IP address, like 10.89.255.250`);
  return canonical;
}

/** Loopback however it is written, the IPv4 loopback mapped into IPv6 (::ffff:127.0.0.1) too. */
function isLoopbackServer(address: string): boolean {
  const bytes = addressBytes(address);
  const v4 = bytes && v4MappedBytes(bytes);
  return isLoopback(address) || (v4 !== undefined && v4[0] === 127);
}

/** The cluster domain of the kubernetes profile: the kubelet's default (`--cluster-domain`). */
export const K8S_CLUSTER_DOMAIN = 'cluster.local';

/**
 * What a DNS profile puts before the user's own search domains and options: `kubernetes` is the
 * resolv.conf the kubelet writes for a pod with dnsPolicy ClusterFirst — the search list
 * `NS.svc.cluster.local svc.cluster.local cluster.local` and `options ndots:5` (the node's own
 * search domains, which the kubelet appends, are the user's --dns-search here).
 */
export function dnsProfile(profile: string | undefined, namespace: string | undefined): { search: string[]; options: string[] } {
  if (profile === undefined) {
    if (namespace !== undefined) throw usageError('--k8s-namespace needs --dns-profile kubernetes');
    return { search: [], options: [] };
  }
  if (profile !== 'kubernetes') throw usageError(`unknown --dns-profile ${JSON.stringify(profile)}: the one profile is kubernetes`);
  const ns = namespace ?? 'default';
  // a Kubernetes namespace is an RFC 1123 label
  if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(ns)) {
    throw usageError(`invalid --k8s-namespace ${JSON.stringify(ns)}: a Kubernetes namespace is 1-63 of a-z, 0-9 and "-", starting and ending with a letter or digit`);
  }
  return { search: [`${ns}.svc.${K8S_CLUSTER_DOMAIN}`, `svc.${K8S_CLUSTER_DOMAIN}`, K8S_CLUSTER_DOMAIN], options: ['ndots:5'] };
}

/** The user's options after the profile's; an option the user gives replaces the profile's of that name (as a pod's dnsConfig does). */
function withProfileOptions(profile: string[], user: string[]): string[] {
  const key = (o: string) => o.split(':')[0];
  const given = new Set(user.map(key));
  return [...profile.filter((o) => !given.has(key(o))), ...user];
}

export function validateCreate(req: CreateRequest, generateName: () => string): CreateSpec {
  const name = validateName(req.name ?? generateName());
  const hostname = req.hostname === undefined ? hostnameFromName(name) : validateHostname(req.hostname);
  const dns = req.dns?.map(validateDnsServer);
  const profile = dnsProfile(req.dnsProfile, req.k8sNamespace);
  const userSearch = (req.dnsSearch ?? []).map((d) => {
    if (!isDomainName(d)) throw usageError(`invalid --dns-search "${d}": expected a domain name, like corp.example`);
    return d.replace(/\.$/, '');
  });
  const search = [...profile.search, ...userSearch.filter((d) => !profile.search.includes(d))];
  const dnsMode = validateDnsMode(req.dnsMode ?? 'glibc');
  // The stub runs in the host's namespace: a loopback upstream would be the host's own resolver.
  const loop = dnsMode !== 'direct' ? dns?.find(isLoopbackServer) : undefined;
  if (loop !== undefined) {
    throw usageError(
      `--dns ${loop} is a loopback address: the stub resolver (dns-mode ${dnsMode}) would send to the host's own loopback`,
      'give upstream nameservers the stub can reach, or use --dns-mode direct for a resolver inside the container',
    );
  }
  return {
    name,
    network: validateNetworkName(req.network ?? 'tsnet'),
    subnet: req.subnet === undefined ? undefined : parseSubnet(req.subnet),
    ip: req.ip === undefined ? undefined : parseIPv4(req.ip, '--ip address'),
    hostname,
    dns,
    search,
    options: withProfileOptions(profile.options, (req.dnsOptions ?? []).map(validateDnsOption)),
    addHosts: (req.addHosts ?? []).map(validateAddHost),
    nsswitch: formatHostsLine(parseHostsLine(req.nsswitch ?? 'files dns')),
    dnsMode,
    dnsCache: validateDnsCache(req.dnsCache, req.dnsMode ?? 'glibc'),
  };
}

/** A name to look up (resolve, diagnose): 1-253 characters, labels of 1-63. */
export function validateLookupName(name: string): void {
  const bare = name.endsWith('.') && name.length > 1 ? name.slice(0, -1) : name;
  if (bare.length === 0) throw new TsnetError('TSNET_USAGE', 'invalid name "": the name to resolve is empty');
  if (bare.length > 253) throw new TsnetError('TSNET_USAGE', `invalid name "${name.slice(0, 40)}...": longer than 253 characters`);
  const bad = bare.split('.').find((l) => l.length === 0 || l.length > 63);
  if (bad !== undefined) {
    throw new TsnetError('TSNET_USAGE', `invalid name "${name}": ${bad.length === 0 ? 'empty label (two dots in a row)' : 'a label is longer than 63 characters'}`);
  }
}
