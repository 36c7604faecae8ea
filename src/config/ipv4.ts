// IPv4 addresses and subnets as plain numbers. Pure. Address syntax comes from the one address
// module (resolvers/core/address.ts): tsnet's own input takes node:net's rules, a strict dotted
// quad ("10.1" and "010.0.0.1" are refused, although the C library would read them).
import { addressBytes, ipv4Bytes } from '../../resolvers/core/address.js';
import { usageError } from '../errors.js';

export interface Subnet {
  /** network address as an unsigned 32-bit number */
  network: number;
  prefix: number;
}

export function parseIPv4(text: string, what = 'address'): number {
  const bytes = ipv4Bytes(text);
  if (!bytes) throw usageError(`invalid ${what} "${text}": expected a dotted IPv4 address like 10.89.0.5`);
  return bytes.reduce((acc, b) => acc * 256 + b, 0);
}

export function formatIPv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function maskOf(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

export function parseSubnet(text: string): Subnet {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(text);
  const prefix = m ? Number(m[2]) : NaN;
  if (!m || !ipv4Bytes(m[1]!) || prefix < 8 || prefix > 30) {
    throw usageError(
      `invalid subnet "${text}": expected an IPv4 CIDR with a prefix from /8 to /30, like 10.89.0.0/16`,
    );
  }
  const addr = parseIPv4(m[1]!);
  const network = (addr & maskOf(prefix)) >>> 0;
  if (network !== addr) {
    throw usageError(`invalid subnet "${text}": host bits are set; did you mean ${formatIPv4(network)}/${prefix}?`);
  }
  return { network, prefix };
}

export function formatSubnet(s: Subnet): string {
  return `${formatIPv4(s.network)}/${s.prefix}`;
}

export function contains(s: Subnet, addr: number): boolean {
  return ((addr & maskOf(s.prefix)) >>> 0) === s.network;
}

export function broadcastOf(s: Subnet): number {
  return (s.network | (~maskOf(s.prefix) >>> 0)) >>> 0;
}

export function overlaps(a: Subnet, b: Subnet): boolean {
  const p = Math.min(a.prefix, b.prefix);
  return ((a.network & maskOf(p)) >>> 0) === ((b.network & maskOf(p)) >>> 0);
}

/** The first usable address: the gateway of a tsnet network. */
export function gatewayOf(s: Subnet): number {
  return s.network + 1;
}

/** 127.0.0.0/8 or ::1 (in any spelling). */
export function isLoopback(addr: string): boolean {
  const b = addressBytes(addr);
  return b !== undefined && (b.length === 4 ? b[0] === 127 : b.subarray(0, 15).every((x) => x === 0) && b[15] === 1);
}
