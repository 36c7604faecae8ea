// What a stub-mode container's resolv.conf says: the stub as the only nameserver, the user's
// search list and ndots, and a client timeout longer than the stub's worst case so the
// application's own libc defers to the stub's (emulated) strategy. Pure.
import { LIBRARY_RULES, parseResolverConfig } from '../../resolvers/core/config.js';

/** The stub's longest possible upstream exchange, in ms, for these upstream options. */
export function stubWorstCaseMs(mode: 'glibc' | 'musl', nameservers: string[], options: string[]): number {
  const text = nameservers.map((n) => `nameserver ${n}\n`).join('') + (options.length ? `options ${options.join(' ')}\n` : '');
  if (mode === 'musl') {
    const cfg = parseResolverConfig(text, LIBRARY_RULES.musl, () => {});
    const interval = cfg.attempts > 0 ? Math.floor((cfg.timeout * 1000) / cfg.attempts) : 0;
    // the send loop checks the budget after each wait, so it may run one interval over
    return cfg.timeout * 1000 + (cfg.attempts > 0 && (cfg.timeout * 1000) % cfg.attempts !== 0 ? interval : 0);
  }
  const cfg = parseResolverConfig(text, LIBRARY_RULES.glibc, () => {});
  const n = cfg.nameservers.length;
  let perRound = 0;
  for (let i = 0; i < n; i++) perRound += Math.max(1, i > 0 ? Math.trunc((cfg.timeout << i) / n) : cfg.timeout);
  return cfg.attempts * perRound * 1000;
}

/** Options that belong to the application's side of the conversation with the stub. */
const CLIENT_SIDE = /^(ndots:\d+|no-aaaa|edns0|trust-ad|use-vc)$/;

export function stubClientOptions(mode: 'glibc' | 'musl', nameservers: string[], options: string[]): { options: string[]; worstMs: number; timeoutS: number } {
  const upstream = options.filter((o) => !CLIENT_SIDE.test(o));
  const worstMs = stubWorstCaseMs(mode, nameservers, upstream);
  // glibc caps a client timeout at 30 s; past that the client gives up first (documented).
  const timeoutS = Math.min(30, Math.floor(worstMs / 1000) + 1);
  return { options: [...options.filter((o) => CLIENT_SIDE.test(o)), `timeout:${timeoutS}`, 'attempts:1'], worstMs, timeoutS };
}
