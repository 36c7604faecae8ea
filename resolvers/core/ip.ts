// Address syntax checks without node:net (resolvers/ stays free of I/O modules). Pure.

export const isIPv4 = (s: string): boolean => /^\d{1,3}(\.\d{1,3}){3}$/.test(s) && s.split('.').every((p) => Number(p) <= 255);

/** IPv6 text form with an optional trailing dotted IPv4 and an optional %zone. */
export function isIPv6(text: string): boolean {
  const addr = text.replace(/%[\w.-]+$/, '');
  const halves = addr.split('::');
  if (halves.length > 2) return false;
  const parts = halves.flatMap((h) => (h === '' ? [] : h.split(':')));
  const last = parts.at(-1);
  const v4 = last !== undefined && last.includes('.');
  if (v4 && (!isIPv4(last) || halves.at(-1) === '')) return false;
  const hex = v4 ? parts.slice(0, -1) : parts;
  if (!hex.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return false;
  const count = hex.length + (v4 ? 2 : 0);
  return halves.length === 2 ? count <= 7 : count === 8;
}
