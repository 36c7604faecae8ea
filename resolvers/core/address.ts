// IP addresses as text and as bytes: the one address module of the project (src/ and the
// emulators both import it). Pure: no node:net (an I/O module, and ~1.4 ms of CLI start-up).
//
// Which reader for which caller — the libraries disagree, so the choice is part of the caller:
// - isIPv4 / ipv4Bytes: a strict dotted quad (4 decimal parts 0-255, no leading zeros, nothing
//   around it). node:net's isIPv4, inet_pton(AF_INET) of glibc and musl, dnspython's
//   dns.ipv4.inet_aton. tsnet's own input (--ip, --dns, --add-host, subnets, zone data) uses it.
// - inetAton / inetAtonExact: the C library's legacy reader (glibc resolv/inet_addr.c, musl
//   src/network/inet_aton.c): "10.1", "0x7f.1", "010.0.0.1" are addresses. getaddrinfo's literal
//   check and resolv.conf's nameserver lines use the exact form.
// - isIPv6 / ipv6Bytes: RFC 4291 §2.2 text, optionally ending in a strict dotted quad. isIPv6
//   also takes a %zone (node:net's rule); ipv6Bytes takes none (callers split it off).

/** A strict dotted quad → 4 bytes. */
export function ipv4Bytes(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/.test(p))) return undefined;
  return Uint8Array.from(parts, Number);
}

/** IPv6 text without a zone → 16 bytes. A dotted quad may only be the last piece. */
export function ipv6Bytes(text: string): Uint8Array | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const words: number[][] = [];
  for (const [i, half] of halves.entries()) {
    const out: number[] = [];
    const groups = half === '' ? [] : half.split(':');
    for (const [j, g] of groups.entries()) {
      const last = i === halves.length - 1 && j === groups.length - 1;
      const v4 = last && g.includes('.') ? ipv4Bytes(g) : undefined;
      if (v4) out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      else if (/^[0-9a-fA-F]{1,4}$/.test(g)) out.push(parseInt(g, 16));
      else return undefined;
    }
    words.push(out);
  }
  const [head, tail = []] = words as [number[], number[]?];
  const count = head.length + tail.length;
  // without '::' exactly 8 groups; with it, '::' stands for at least one group of zeros
  if (halves.length === 1 ? count !== 8 : count > 7) return undefined;
  const all = [...head, ...Array<number>(8 - count).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  all.forEach((w, k) => {
    bytes[2 * k] = w >> 8;
    bytes[2 * k + 1] = w & 0xff;
  });
  return bytes;
}

/** Splits "fe80::1%eth0" at the first '%'. */
export function splitZone(text: string): { address: string; zone: string | undefined } {
  const pct = text.indexOf('%');
  return pct < 0 ? { address: text, zone: undefined } : { address: text.slice(0, pct), zone: text.slice(pct + 1) };
}

export const isIPv4 = (text: string): boolean => ipv4Bytes(text) !== undefined;

/** node:net's isIPv6: IPv6 text with an optional %zone of letters, digits, '-', '.', ':'. */
export function isIPv6(text: string): boolean {
  const { address, zone } = splitZone(text);
  return (zone === undefined || /^[0-9a-zA-Z.:-]+$/.test(zone)) && ipv6Bytes(address) !== undefined;
}

/** 4, 6 or 0, like node:net's isIP. */
export function ipVersion(text: string): 0 | 4 | 6 {
  return isIPv4(text) ? 4 : isIPv6(text) ? 6 : 0;
}

/** 4 or 16 bytes of a strict IPv4 or an IPv6 address (a zone is dropped: it never goes on the wire). */
export function addressBytes(text: string): Uint8Array | undefined {
  return ipv4Bytes(text) ?? (isIPv6(text) ? ipv6Bytes(splitZone(text).address) : undefined);
}

/**
 * Text of 4 or 16 bytes: a dotted quad, or IPv6 as RFC 5952 §4 writes it (lower case, no leading
 * zeros, the longest run of two or more zero groups — the first of equals — as '::') with the
 * IPv4-mapped prefix ::ffff:0:0/96 in mixed notation (§5), as inet_ntop prints it.
 */
export function addressText(bytes: Uint8Array): string {
  if (bytes.length === 4) return bytes.join('.');
  if (bytes.length !== 16) throw new Error(`an address has 4 or 16 bytes, not ${bytes.length}`);
  const words = Array.from({ length: 8 }, (_, k) => (bytes[2 * k]! << 8) | bytes[2 * k + 1]!);
  if (words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff) return `::ffff:${bytes.subarray(12).join('.')}`;
  let best = { at: -1, len: 1 };
  for (let k = 0; k < 8; k++) {
    let len = 0;
    while (k + len < 8 && words[k + len] === 0) len++;
    if (len > best.len) best = { at: k, len };
    k += len;
  }
  const hex = (ws: number[]) => ws.map((w) => w.toString(16)).join(':');
  if (best.at < 0) return hex(words);
  return `${hex(words.slice(0, best.at))}::${hex(words.slice(best.at + best.len))}`;
}

/** The canonical text of an address (node:net syntax, zone dropped), or undefined. */
export function canonicalAddress(text: string): string | undefined {
  const b = addressBytes(text);
  return b && addressText(b);
}

/**
 * The canonical text with the %zone kept as written: the one form of an upstream address, the
 * form the kernel reports a reply's source in (compared as text by drivers and the stub's guard).
 */
export function canonicalWithZone(text: string): string | undefined {
  const canonical = canonicalAddress(text);
  if (canonical === undefined) return undefined;
  const { zone } = splitZone(text);
  return zone === undefined ? canonical : `${canonical}%${zone}`;
}

const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';

/**
 * glibc's inet_aton_end (resolv/inet_addr.c): 1 to 4 parts "a", "a.b", "a.b.c", "a.b.c.d", each
 * as C's strtoul base 0 reads it after an isdigit check (decimal; octal with a leading 0; hex
 * with 0x), every part but the last at most 255, the last filling the remaining bytes (at most
 * 0xffffffff, 0xffffff, 0xffff or 0xff). The parse ends at the end of the string or at an ASCII
 * space character; `end` is where it stopped. A NUL ends the string, as in C.
 */
function inetAtonEnd(input: string): { bytes: Uint8Array; end: number; length: number } | undefined {
  const nul = input.indexOf('\0');
  const s = nul < 0 ? input : input.slice(0, nul);
  const parts: number[] = [];
  let i = 0;
  let value = 0;
  for (;;) {
    if (!isDigit(s[i])) return undefined;
    let base = 10;
    if (s[i] === '0') {
      base = 8;
      // strtoul takes "0x" only when a hex digit follows; "0x" alone is 0 and then 'x'
      if ((s[i + 1] === 'x' || s[i + 1] === 'X') && /[0-9a-fA-F]/.test(s[i + 2] ?? '')) {
        base = 16;
        i += 2;
      }
    }
    value = 0;
    for (; i < s.length; i++) {
      const d = parseInt(s[i]!, base);
      if (Number.isNaN(d)) break;
      value = Math.min(value * base + d, 2 ** 32); // anything above 0xffffffff fails alike
    }
    if (value > 0xffffffff) return undefined;
    if (s[i] !== '.') break;
    if (parts.length > 2 || value > 0xff) return undefined;
    parts.push(value);
    i++;
  }
  if (i < s.length && !/^[ \t\n\v\f\r]$/.test(s[i]!)) return undefined;
  if (value > [0xffffffff, 0xffffff, 0xffff, 0xff][parts.length]!) return undefined;
  const bytes = new Uint8Array(4);
  parts.forEach((p, k) => (bytes[k] = p));
  for (let k = 3; k >= parts.length; k--) {
    bytes[k] = value % 256;
    value = Math.floor(value / 256);
  }
  return { bytes, end: i, length: s.length };
}

/** glibc's inet_aton: the parse ends at whitespace and ignores what follows ("1.2.3.4 x" is 1.2.3.4). */
export function inetAton(text: string): Uint8Array | undefined {
  return inetAtonEnd(text)?.bytes;
}

/**
 * glibc's __inet_aton_exact (getaddrinfo's literal check and res_init's nameserver lines in
 * 2.36) and musl's __inet_aton (lookup_ipliteral.c, resolvconf.c): the same forms as inet_aton,
 * but the whole string.
 */
export function inetAtonExact(text: string): Uint8Array | undefined {
  const r = inetAtonEnd(text);
  return r && r.end === r.length ? r.bytes : undefined;
}

/** fe80::/10 (IN6_IS_ADDR_LINKLOCAL) */
export const isLinkLocal = (b: Uint8Array): boolean => b.length === 16 && b[0] === 0xfe && (b[1]! & 0xc0) === 0x80;

/** The scope nibble of a multicast address (1 node-local, 2 link-local, ...); undefined for others. */
export const multicastScope = (b: Uint8Array): number | undefined => (b.length === 16 && b[0] === 0xff ? b[1]! & 0x0f : undefined);

/** ::ffff:a.b.c.d → the 4 bytes of a.b.c.d; undefined for any other address. */
export function v4MappedBytes(bytes: Uint8Array): Uint8Array | undefined {
  return bytes.length === 16 && bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff ? bytes.slice(12) : undefined;
}
