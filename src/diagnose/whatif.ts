// --what-if: a configuration change applied to the emulated process's files or environment.
// Pure: text in, text out.
import { TsnetError } from '../errors.js';
import type { LibraryInput } from '../../resolvers/index.js';

export interface WhatIf {
  spec: string;
  apply(input: LibraryInput): LibraryInput;
}

const lines = (text: string) => text.split('\n');
const nameserverLines = (text: string) => lines(text).map((l, i) => [l, i] as const).filter(([l]) => /^\s*nameserver\s/.test(l));

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
      return { spec, apply: (i) => ({ ...i, resolvConf: `${i.resolvConf.replace(/\n?$/, '\n')}options ${args.join(' ')}\n` }) };
    case 'search':
      return { spec, apply: (i) => ({ ...i, resolvConf: `${lines(i.resolvConf).filter((l) => !/^\s*(search|domain)\s/.test(l)).join('\n').replace(/\n?$/, '\n')}search ${args.join(' ')}\n` }) };
    case 'nameserver-order': {
      const order = (args[0] ?? '').split(',').map(Number);
      if (order.length === 0 || order.some((n) => !Number.isInteger(n) || n < 1)) bad(spec, 'give the new order as 1-based positions, like 2,1');
      return {
        spec,
        apply: (i) => {
          const ns = nameserverLines(i.resolvConf);
          if (order.some((n) => n > ns.length)) bad(spec, `there are only ${ns.length} nameserver lines`);
          const rest = lines(i.resolvConf).filter((l) => !/^\s*nameserver\s/.test(l));
          const reordered = [...order.map((n) => ns[n - 1]![0]), ...ns.filter((_, k) => !order.includes(k + 1)).map(([l]) => l)];
          return { ...i, resolvConf: [...reordered, ...rest].join('\n') };
        },
      };
    }
    case 'nameserver-remove': {
      const n = Number(args[0]);
      if (!Number.isInteger(n) || n < 1) bad(spec, 'give the 1-based position of the nameserver line to remove');
      return {
        spec,
        apply: (i) => {
          const ns = nameserverLines(i.resolvConf);
          if (n > ns.length) bad(spec, `there are only ${ns.length} nameserver lines`);
          const drop = ns[n - 1]![1];
          return { ...i, resolvConf: lines(i.resolvConf).filter((_, k) => k !== drop).join('\n') };
        },
      };
    }
    case 'nameserver-add':
      if (!args[0] || !/^[0-9a-fA-F.:]+$/.test(args[0])) bad(spec, 'give an IP address');
      return { spec, apply: (i) => ({ ...i, resolvConf: `nameserver ${args[0]}\n${i.resolvConf}` }) };
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
