// Which names a library tries, in which order (search list × ndots). One function; the
// per-library rules are data. Pure.

export type SearchStyle =
  /** glibc res_query.c __res_context_search: as-is first when dots ≥ ndots, else search then as-is */
  | 'glibc'
  /** musl lookup_name.c name_from_dns_search: dots ≥ ndots or trailing dot → only as-is */
  | 'musl'
  /** dnspython _get_qnames_to_try: absolute first when labels > ndots, else last */
  | 'dnspython';

export interface Candidate {
  /** the name to query, without a trailing dot */
  qname: string;
  /** true for the name as the user gave it (not a search expansion) */
  asIs: boolean;
}

export function countDots(name: string): number {
  return (name.replace(/\.$/, '').match(/\./g) ?? []).length;
}

/** glibc's plan is not a fixed list (results steer it), so it only uses the pieces below. */
export function candidates(name: string, search: string[], ndots: number, style: SearchStyle): Candidate[] {
  const trailing = name.endsWith('.');
  const bare = name.replace(/\.$/, '');
  if (trailing) return [{ qname: bare, asIs: true }];
  const dots = countDots(bare);
  const expansions = search.filter((d) => d !== '').map((d) => ({ qname: `${bare}.${d}`, asIs: false }));
  const asIs = { qname: bare, asIs: true };
  switch (style) {
    case 'musl':
      return dots >= ndots ? [asIs] : [...expansions, asIs];
    case 'dnspython':
    case 'glibc':
      return dots >= ndots ? [asIs, ...expansions] : [...expansions, asIs];
  }
}
