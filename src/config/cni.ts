// The CNI contract, pure: what a runtime hands the plugin (CNI_* variables, the configuration on
// stdin), checked as hostile input, and what the plugin hands back (results, errors), in the
// shapes of the spec versions the engines here speak (libcni 1.1: 0.4.0 and 1.0.0) and 1.1.0's
// GC and STATUS. containernetworking/cni SPEC.md is the reference; field names are the spec's.
import { isIPv4 } from '../../resolvers/core/address.js';
import { isTsnetError } from '../errors.js';
import { isContainerName, isNetworkName, validateDnsMode, type DnsMode } from './validate.js';

export const SUPPORTED_VERSIONS = ['0.4.0', '1.0.0', '1.1.0'] as const;
export type CniVersion = (typeof SUPPORTED_VERSIONS)[number];
export const CNI_COMMANDS = ['ADD', 'DEL', 'CHECK', 'GC', 'STATUS', 'VERSION'] as const;
export type CniCommand = (typeof CNI_COMMANDS)[number];

/** The spec's well-known error codes (SPEC.md "Error"). */
export const CNI_ERR = {
  incompatibleVersion: 1,
  unsupportedField: 2,
  unknownContainer: 3,
  invalidEnv: 4,
  io: 5,
  decode: 6,
  invalidConfig: 7,
  tryAgain: 11,
  notAvailable: 50,
} as const;

/** A failure the runtime reads as the spec's error JSON. */
export class CniError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly details = '',
  ) {
    super(message);
    this.name = 'CniError';
  }
}

/** Plugin-specific codes (100+): an attachment that exists already, a failed CHECK, anything else. */
export const ALREADY_ATTACHED = 100;
export const CHECK_FAILED = 101;
export const PLUGIN_FAILED = 102;

/**
 * Any failure as the spec's error: tsnet's bad input is 7 (invalid configuration), a missing
 * namespace 3, a lock timeout 11 (try again), the rest plugin-specific.
 */
export function toCniError(err: unknown, what?: string): CniError {
  if (err instanceof CniError) return err;
  const prefix = what === undefined ? '' : `${what}: `;
  if (isTsnetError(err)) {
    const code = err.code === 'TSNET_USAGE' ? CNI_ERR.invalidConfig : err.code === 'TSNET_NOT_FOUND' ? CNI_ERR.unknownContainer : err.code === 'TSNET_LOCK_TIMEOUT' ? CNI_ERR.tryAgain : PLUGIN_FAILED;
    return new CniError(code, `${prefix}${err.message}`, err.hint ?? '');
  }
  return new CniError(PLUGIN_FAILED, `${prefix}internal error: ${(err as Error)?.message ?? String(err)}`);
}

/** Limits on what a runtime may hand over: generous for real use, bounded for a hostile caller. */
export const LIMITS = { containerId: 512, netnsPath: 4096, args: 8192, listItems: 64, attachments: 100_000 };

export interface CniDns {
  nameservers: string[];
  search: string[];
  options: string[];
}

export interface PluginConfig {
  cniVersion: CniVersion;
  /** the network's name (a tsnet network name) */
  name: string;
  /** required for a first plugin's ADD; a chained tsnet takes the previous result's */
  subnet: string | undefined;
  dnsMode: DnsMode;
  /** the upstreams (for the stub modes) or the container's own nameservers (direct) */
  dns: CniDns | undefined;
  root: string | undefined;
  dnsCache: number | undefined;
  /** runtimeConfig.dns (the "dns" capability: servers, searches, options), overriding `dns` for one container */
  runtimeDns: Partial<CniDns> | undefined;
  /** GC: the attachments still valid */
  validAttachments: Array<{ containerId: string; ifname: string }> | undefined;
  /** the previous plugin's result (chained) or this plugin's own (CHECK, DEL) */
  prevResult: unknown;
}

export interface CniArgs {
  /** K8S_POD_NAME: the container's name (Podman puts its container name here) */
  podName: string | undefined;
  podNamespace: string | undefined;
}

export interface CniRequest {
  command: CniCommand;
  containerId: string;
  netns: string | undefined;
  ifname: string;
  args: CniArgs;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The spec's container id: an alphanumeric, then alphanumerics, "_", "." or "-". */
const CONTAINER_ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const NETNS_RE = /^\/[A-Za-z0-9_.:@+=,/-]*$/;
/** A runtime's namespace path tsnet accepts (CNI_NETNS, and read back from an attachment's record). */
export const isRuntimeNetnsPath = (p: string): boolean => NETNS_RE.test(p) && p.length <= LIMITS.netnsPath && !p.split('/').includes('..');
/** An interface name the kernel takes: 1-15 bytes, no "/", ":" or whitespace, not "." or "..". */
const IFNAME_RE = /^[A-Za-z0-9_.-]{1,15}$/;

const shown = (s: string, max = 80) => JSON.stringify(s.length > max ? `${s.slice(0, max)}...` : s);

export function parseCommand(value: string | undefined): CniCommand {
  if (value === undefined || value === '') throw new CniError(CNI_ERR.invalidEnv, 'CNI_COMMAND is not set', 'tsnet is a CNI plugin here: a container runtime runs it with CNI_COMMAND=ADD|DEL|CHECK|GC|STATUS|VERSION');
  if (!(CNI_COMMANDS as readonly string[]).includes(value)) throw new CniError(CNI_ERR.invalidEnv, `CNI_COMMAND ${shown(value)} is not one of ${CNI_COMMANDS.join(', ')}`);
  return value as CniCommand;
}

/** CNI_ARGS: "K=V;K=V". Unknown keys are refused unless IgnoreUnknown is set, as libcni's plugins do. */
export function parseCniArgs(text: string | undefined): CniArgs {
  const out: CniArgs = { podName: undefined, podNamespace: undefined };
  if (text === undefined || text === '') return out;
  if (text.length > LIMITS.args) throw new CniError(CNI_ERR.invalidEnv, `CNI_ARGS is longer than ${LIMITS.args} characters`);
  const pairs = text.split(';').filter(Boolean).map((p) => {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new CniError(CNI_ERR.invalidEnv, `CNI_ARGS: ${shown(p)} is not KEY=VALUE`);
    return [p.slice(0, eq), p.slice(eq + 1)] as const;
  });
  const ignoreUnknown = pairs.some(([k, v]) => k === 'IgnoreUnknown' && /^(1|true)$/i.test(v));
  for (const [k, v] of pairs) {
    if (k === 'K8S_POD_NAME') out.podName = v;
    else if (k === 'K8S_POD_NAMESPACE') out.podNamespace = v;
    else if (k === 'IgnoreUnknown' || k === 'K8S_POD_INFRA_CONTAINER_ID' || k === 'K8S_POD_UID') continue;
    else if (!ignoreUnknown) throw new CniError(CNI_ERR.invalidEnv, `CNI_ARGS: unknown key ${shown(k)}`, 'set IgnoreUnknown=1 to pass keys tsnet does not use');
  }
  return out;
}

/**
 * The CNI_* variables a command uses, checked (SPEC.md "Parameters"); the others are not looked
 * at (libcni validates a configuration by running VERSION with CNI_NETNS=dummy and the like).
 */
export function parseRequest(env: Record<string, string | undefined>): CniRequest {
  const command = parseCommand(env.CNI_COMMAND);
  const attachment = command === 'ADD' || command === 'CHECK' || command === 'DEL';
  if (!attachment) return { command, containerId: '', netns: undefined, ifname: '', args: { podName: undefined, podNamespace: undefined } };
  const needs = (name: string) => command !== 'DEL' || name !== 'CNI_NETNS';
  const bad: string[] = [];
  const containerId = env.CNI_CONTAINERID ?? '';
  if (needs('CNI_CONTAINERID') && !(containerId.length <= LIMITS.containerId && CONTAINER_ID_RE.test(containerId))) bad.push(`CNI_CONTAINERID ${shown(containerId)} (an alphanumeric, then alphanumerics, "_", "." or "-", at most ${LIMITS.containerId})`);
  const ifname = env.CNI_IFNAME ?? '';
  if (needs('CNI_IFNAME') && (!IFNAME_RE.test(ifname) || ifname === '.' || ifname === '..')) bad.push(`CNI_IFNAME ${shown(ifname)} (1-15 of letters, digits, "_", "." and "-")`);
  const netnsRaw = env.CNI_NETNS;
  const netns = netnsRaw === undefined || netnsRaw === '' ? undefined : netnsRaw;
  // Runtimes' paths (/run/netns/netns-UUID, /var/run/netns/cni-UUID, /proc/PID/ns/net) need no
  // more than these characters; none that could drive a terminal when tsnet prints the path.
  if (netns !== undefined && !isRuntimeNetnsPath(netns)) bad.push(`CNI_NETNS ${shown(netns)} (an absolute path of [A-Za-z0-9_.:@+=,/-], without "..")`);
  else if (netns === undefined && needs('CNI_NETNS')) bad.push('CNI_NETNS (not set)');
  if (bad.length > 0) throw new CniError(CNI_ERR.invalidEnv, `invalid ${bad.join('; ')}`);
  return { command, containerId, netns, ifname, args: parseCniArgs(env.CNI_ARGS) };
}

/** The version a configuration asks for, when it is one tsnet speaks. */
export function parseVersion(value: unknown): CniVersion {
  if (typeof value !== 'string') throw new CniError(CNI_ERR.decode, 'the configuration has no "cniVersion" string');
  if (!(SUPPORTED_VERSIONS as readonly string[]).includes(value)) {
    throw new CniError(CNI_ERR.incompatibleVersion, `incompatible CNI version ${shown(value)}`, `tsnet supports ${SUPPORTED_VERSIONS.join(', ')}`);
  }
  return value as CniVersion;
}

function stringList(v: unknown, key: string): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.length > LIMITS.listItems || !v.every((x) => typeof x === 'string' && x.length <= 255)) {
    throw new CniError(CNI_ERR.invalidConfig, `"${key}" must be a list of at most ${LIMITS.listItems} strings`);
  }
  return v as string[];
}

function dnsOf(v: unknown, key: string, names: { servers: string; search: string }): Partial<CniDns> | undefined {
  if (v === undefined) return undefined;
  if (!isObj(v)) throw new CniError(CNI_ERR.invalidConfig, `"${key}" must be an object`);
  return {
    nameservers: stringList(v[names.servers], `${key}.${names.servers}`),
    search: stringList(v[names.search], `${key}.${names.search}`),
    options: stringList(v.options, `${key}.options`),
  };
}

/**
 * The plugin configuration on stdin. Field values are checked here for shape; their meaning
 * (addresses, options, the subnet) by the same validation `tsnet create` uses.
 */
export function parseConfig(text: string, command: CniCommand): PluginConfig {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new CniError(CNI_ERR.decode, 'the configuration on stdin is not JSON', (err as Error).message);
  }
  if (!isObj(v)) throw new CniError(CNI_ERR.decode, 'the configuration on stdin is not a JSON object');
  const cniVersion = parseVersion(v.cniVersion);
  if (command === 'VERSION') return { cniVersion, name: '', subnet: undefined, dnsMode: 'glibc', dns: undefined, root: undefined, dnsCache: undefined, runtimeDns: undefined, validAttachments: undefined, prevResult: undefined };
  if (v.type !== 'tsnet') throw new CniError(CNI_ERR.invalidConfig, `"type" is ${shown(String(v.type))}, not "tsnet"`);
  const name = v.name;
  if (typeof name !== 'string' || !isNetworkName(name)) {
    throw new CniError(CNI_ERR.invalidConfig, `network "name" ${shown(String(name))} is not a tsnet network name`, 'use 1-32 lower-case letters, digits, "_" and "-", starting with a letter or digit');
  }
  // Optional here: a chained tsnet takes the previous result's; a first plugin's ADD needs it.
  const subnet = v.subnet;
  if (subnet !== undefined && (typeof subnet !== 'string' || !isCidr(subnet))) {
    throw new CniError(CNI_ERR.invalidConfig, `"subnet" ${shown(String(subnet))} is not an IPv4 CIDR`, 'like "subnet": "10.89.0.0/24"');
  }
  let dnsMode: DnsMode;
  try {
    dnsMode = validateDnsMode(v.dnsMode === undefined ? 'glibc' : String(v.dnsMode));
  } catch (err) {
    throw new CniError(CNI_ERR.invalidConfig, `"dnsMode": ${(err as Error).message.replace('--dns-mode', '')}`);
  }
  const dns = dnsOf(v.dns, 'dns', { servers: 'nameservers', search: 'search' }) as CniDns | undefined;
  const root = v.root;
  if (root !== undefined && (typeof root !== 'string' || !root.startsWith('/') || root.length > 1024 || root.includes('\0') || root.split('/').includes('..'))) {
    throw new CniError(CNI_ERR.invalidConfig, `"root" ${shown(String(root))} is not an absolute path without ".."`);
  }
  const dnsCache = v.dnsCache;
  if (dnsCache !== undefined && !(Number.isInteger(dnsCache) && (dnsCache as number) >= 0 && (dnsCache as number) <= 1_000_000)) {
    throw new CniError(CNI_ERR.invalidConfig, '"dnsCache" must be a number of entries from 0 to 1000000');
  }
  const rc = v.runtimeConfig;
  if (rc !== undefined && !isObj(rc)) throw new CniError(CNI_ERR.invalidConfig, '"runtimeConfig" must be an object');
  const runtimeDns = rc ? dnsOf(rc.dns, 'runtimeConfig.dns', { servers: 'servers', search: 'searches' }) : undefined;
  return {
    cniVersion,
    name,
    subnet: subnet as string | undefined,
    dnsMode,
    dns,
    root: root as string | undefined,
    dnsCache: dnsCache as number | undefined,
    runtimeDns,
    validAttachments: command === 'GC' ? attachmentsOf(v['cni.dev/valid-attachments']) : undefined,
    prevResult: v.prevResult,
  };
}

function attachmentsOf(v: unknown): Array<{ containerId: string; ifname: string }> {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.length > LIMITS.attachments) throw new CniError(CNI_ERR.invalidConfig, '"cni.dev/valid-attachments" must be a list');
  return v.map((a, i) => {
    if (!isObj(a) || typeof a.containerID !== 'string' || typeof a.ifname !== 'string') {
      throw new CniError(CNI_ERR.invalidConfig, `"cni.dev/valid-attachments"[${i}] needs "containerID" and "ifname" strings`);
    }
    return { containerId: a.containerID, ifname: a.ifname };
  });
}

const isCidr = (s: string) => /^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(s) && isIPv4(s.split('/')[0]!) && Number(s.split('/')[1]) <= 32;

/** What a chained tsnet takes from the previous plugin's result: the container's IPv4 address on CNI_IFNAME and its gateway. */
export interface PreviousAttachment {
  address: string;
  prefix: number;
  gateway: string;
}

/**
 * The previous result's IPv4 address for `ifname` (SPEC.md "ADD Success": `ips[].interface`
 * indexes `interfaces`, the container's have a `sandbox`), with the gateway the stub will listen on.
 */
export function previousAttachment(prev: unknown, ifname: string): PreviousAttachment {
  const bad = (why: string) => new CniError(CNI_ERR.invalidConfig, `chained after another plugin: ${why}`);
  if (!isObj(prev) || !Array.isArray(prev.ips)) throw bad('"prevResult" has no "ips"');
  const interfaces = Array.isArray(prev.interfaces) ? prev.interfaces : [];
  const ours = (i: unknown) => typeof i !== 'number' || (isObj(interfaces[i]) && interfaces[i].name === ifname && typeof interfaces[i].sandbox === 'string' && interfaces[i].sandbox !== '');
  const ip = prev.ips.find((x: unknown) => isObj(x) && typeof x.address === 'string' && isCidr(x.address) && ours(x.interface)) as Record<string, unknown> | undefined;
  if (!ip) throw bad(`"prevResult" has no IPv4 address on the container's ${ifname}`);
  if (typeof ip.gateway !== 'string' || !isIPv4(ip.gateway)) throw bad(`the address ${String(ip.address)} has no IPv4 gateway for the stub to listen on`);
  const [address, prefix] = (ip.address as string).split('/');
  return { address: address!, prefix: Number(prefix), gateway: ip.gateway };
}

/** A chained tsnet's result: the previous one, its DNS replaced by the stub's (SPEC.md: pass prevResult through, modified). */
export function chainedResult(version: CniVersion, prev: Record<string, unknown>, dns: CniDns): Record<string, unknown> {
  const out: Record<string, unknown> = { ...prev, cniVersion: version };
  out.dns = { nameservers: dns.nameservers, ...(dns.search.length ? { search: dns.search } : {}), ...(dns.options.length ? { options: dns.options } : {}) };
  return out;
}

/** The container's name as tsnet's stub answers it: K8S_POD_NAME when it is a valid container name. */
export const podNameOf = (args: CniArgs): string | undefined => (args.podName !== undefined && isContainerName(args.podName) ? args.podName : undefined);

/** K8S_POD_NAMESPACE when it is a Kubernetes namespace name (an RFC 1123 label); kept for display only. */
export const podNamespaceOf = (args: CniArgs): string | undefined =>
  args.podNamespace !== undefined && /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(args.podNamespace) ? args.podNamespace : undefined;

export interface Attachment {
  hostVeth: string;
  hostMac: string | undefined;
  ifname: string;
  mac: string | undefined;
  netns: string;
  address: string;
  prefix: number;
  gateway: string;
  dns: CniDns;
}

/** ADD's result (SPEC.md "ADD Success"); 0.4.0 adds "version" to each IP and lacks nothing else tsnet uses. */
export function addResult(version: CniVersion, a: Attachment): Record<string, unknown> {
  const ip = { ...(version === '0.4.0' ? { version: '4' } : {}), address: `${a.address}/${a.prefix}`, gateway: a.gateway, interface: 1 };
  return {
    cniVersion: version,
    interfaces: [
      { name: a.hostVeth, ...(a.hostMac ? { mac: a.hostMac } : {}) },
      { name: a.ifname, ...(a.mac ? { mac: a.mac } : {}), sandbox: a.netns },
    ],
    ips: [ip],
    routes: [{ dst: '0.0.0.0/0', gw: a.gateway }],
    dns: { nameservers: a.dns.nameservers, ...(a.dns.search.length ? { search: a.dns.search } : {}), ...(a.dns.options.length ? { options: a.dns.options } : {}) },
  };
}

export const versionResult = (version: string) => ({ cniVersion: version, supportedVersions: [...SUPPORTED_VERSIONS] });

export const errorResult = (version: string, err: CniError) => ({ cniVersion: version, code: err.code, msg: err.message, ...(err.details ? { details: err.details } : {}) });

export interface ConflistRequest {
  network: string;
  subnet: string;
  dnsMode: DnsMode;
  dns: CniDns;
  root?: string | undefined;
  dnsCache?: number | undefined;
}

/** A configuration list with the tsnet plugin, ready for /etc/cni/net.d (cniVersion 1.0.0). */
export function renderConflist(r: ConflistRequest): string {
  const dns = { ...(r.dns.nameservers.length ? { nameservers: r.dns.nameservers } : {}), ...(r.dns.search.length ? { search: r.dns.search } : {}), ...(r.dns.options.length ? { options: r.dns.options } : {}) };
  const plugin = {
    type: 'tsnet',
    subnet: r.subnet,
    dnsMode: r.dnsMode,
    ...(Object.keys(dns).length ? { dns } : {}),
    ...(r.root !== undefined ? { root: r.root } : {}),
    ...(r.dnsCache ? { dnsCache: r.dnsCache } : {}),
    capabilities: { dns: true },
  };
  return `${JSON.stringify({ cniVersion: '1.0.0', name: r.network, plugins: [plugin] }, null, 2)}\n`;
}
