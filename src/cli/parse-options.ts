// Option values shared by several commands, checked the same way everywhere: one line naming the
// option and what it expects (exit 2).
import { TsnetError } from '../errors.js';

/** "30", "0.5" (seconds, > 0, ms precision) → milliseconds. */
export function secondsOption(flag: string, text: string): number {
  if (!/^\d{1,6}(\.\d{1,3})?$/.test(text) || Number(text) <= 0) throw new TsnetError('TSNET_USAGE', `invalid ${flag} "${text}": expected seconds, like 30 or 0.5`);
  return Number(text) * 1000;
}
