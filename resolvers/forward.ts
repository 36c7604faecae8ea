// Forwarding strategies for the stub resolver: the sending layer of the glibc and musl emulators,
// one client query at a time. The stub's upstream behaviour is this code — the same code
// `tsnet resolve` runs — not a second copy.
import { glibcForwarder } from './glibc.js';
import { muslForwarder } from './musl.js';
import type { ProcessContext, QueryInfo, ResolverMachine } from './core/types.js';

export const FORWARD_MODES = ['glibc', 'musl'] as const;
export type ForwardMode = (typeof FORWARD_MODES)[number];

export interface Forwarder {
  /** A machine that sends `query` upstream and finishes with `result.reply` (or an error: answer SERVFAIL). */
  forward(query: QueryInfo): ResolverMachine;
}

/** `ctx.input.resolvConf` carries the upstreams and options (nameserver/options lines). */
export function createForwarder(mode: ForwardMode, ctx: ProcessContext): Forwarder {
  return mode === 'glibc' ? glibcForwarder(ctx) : muslForwarder(ctx);
}
