// The nsswitch.conf `hosts:` line as glibc's nss/nss_action_parse.c reads it. Lenient like
// glibc: a bad criterion is skipped, not fatal. Pure.

export interface NssCriterion {
  negate: boolean;
  status: 'SUCCESS' | 'NOTFOUND' | 'UNAVAIL' | 'TRYAGAIN';
  action: 'return' | 'continue' | 'merge';
}

export interface NssSource {
  name: string;
  criteria: NssCriterion[];
}

const STATUSES = ['SUCCESS', 'NOTFOUND', 'UNAVAIL', 'TRYAGAIN'];
const ACTIONS = ['return', 'continue', 'merge'];

/** undefined text (no file) or no hosts line → glibc 2.36's built-in "files dns". */
export function parseNssHosts(text: string | undefined, warn: (m: string) => void): NssSource[] {
  const line = text
    ?.split('\n')
    .map((l) => l.replace(/#.*$/s, ''))
    .find((l) => /^\s*hosts\s*:/.test(l));
  if (line === undefined) return [{ name: 'files', criteria: [] }, { name: 'dns', criteria: [] }];
  const sources: NssSource[] = [];
  for (const tok of line.replace(/^\s*hosts\s*:/, '').match(/\[[^\]]*\]|[^\s[]+/g) ?? []) {
    if (!tok.startsWith('[')) {
      sources.push({ name: tok, criteria: [] });
      if (tok !== 'files' && tok !== 'dns') warn(`nsswitch: source "${tok}" is not emulated; it counts as UNAVAIL`);
      continue;
    }
    for (const item of tok.slice(1, -1).trim().split(/\s+/).filter(Boolean)) {
      const m = /^(!?)(\w+)=(\w+)$/.exec(item);
      const status = m?.[2]?.toUpperCase();
      const action = m?.[3]?.toLowerCase();
      if (!m || !STATUSES.includes(status!) || !ACTIONS.includes(action!) || sources.length === 0) {
        warn(`nsswitch: criterion "${item}" is not valid; glibc ignores it`);
        continue;
      }
      sources.at(-1)!.criteria.push({ negate: m[1] === '!', status: status as NssCriterion['status'], action: action as NssCriterion['action'] });
    }
  }
  return sources;
}
