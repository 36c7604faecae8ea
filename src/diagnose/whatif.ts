// --what-if: a configuration change applied to the emulated process's files or environment.
// Pure: text in, text out.
import { ipVersion } from '../../resolvers/core/address.js';
import { TsnetError } from '../errors.js';
import { appendOptions, parseResolvConf, prependNameserver, removeNameserver, reorderNameservers, replaceSearch } from '../files/resolvconf.js';
import type { LibraryInput } from '../../resolvers/index.js';

export interface WhatIf {
  spec: string;
  apply(input: LibraryInput): LibraryInput;
}

/** How many nameserver lines `text` has (the positions --what-if counts). */
const nameserverCount = (text: string) => parseResolvConf(text).nameservers.length;

function bad(spec: string, why: string): never {
  throw new TsnetError('TSNET_USAGE', `invalid --what-if "${spec}": ${why}`, {
    hint: 'use "options timeout:1", "nameserver-order 2,1", "nameserver-remove 1", "nameserver-add IP", "search a.example b.example", "env EVENTLET_NO_GREENDNS=yes"',
  });
}

export function parseWhatIf(spec: string): WhatIf {
  const [verb, ...args] = spec.trim().split(/\s+/);
  switch (verb) {
    case 'options':
      if (args.length === 0) bad(spec, 'options needs at least one option');
      return { spec, apply: (i) => ({ ...i, resolvConf: appendOptions(i.resolvConf, args) }) };
    case 'search':
      return { spec, apply: (i) => ({ ...i, resolvConf: replaceSearch(i.resolvConf, args) }) };
    case 'nameserver-order': {
      const order = (args[0] ?? '').split(',').map(Number);
      if (order.length === 0 || order.some((n) => !Number.isInteger(n) || n < 1)) bad(spec, 'give the new order as 1-based positions, like 2,1');
      if (new Set(order).size !== order.length) bad(spec, 'give each position at most once');
      return {
        spec,
        apply: (i) => {
          const count = nameserverCount(i.resolvConf);
          if (order.some((n) => n > count)) bad(spec, `there are only ${count} nameserver lines`);
          return { ...i, resolvConf: reorderNameservers(i.resolvConf, order.map((n) => n - 1)) };
        },
      };
    }
    case 'nameserver-remove': {
      const n = Number(args[0]);
      if (!Number.isInteger(n) || n < 1) bad(spec, 'give the 1-based position of the nameserver line to remove');
      return {
        spec,
        apply: (i) => {
          const count = nameserverCount(i.resolvConf);
          if (n > count) bad(spec, `there are only ${count} nameserver lines`);
          return { ...i, resolvConf: removeNameserver(i.resolvConf, n - 1) };
        },
      };
    }
    case 'nameserver-add': {
      const address = args[0];
      if (!address || ipVersion(address) === 0) bad(spec, 'give an IP address');
      return { spec, apply: (i) => ({ ...i, resolvConf: prependNameserver(i.resolvConf, address) }) };
    }
    case 'env': {
      const kv = args[0] ?? '';
      const eq = kv.indexOf('=');
      if (eq <= 0) bad(spec, 'env needs KEY=VALUE');
      return { spec, apply: (i) => ({ ...i, env: { ...i.env, [kv.slice(0, eq)]: kv.slice(eq + 1) } }) };
    }
    default:
      return bad(spec, `unknown change "${verb ?? ''}"`);
  }
}
