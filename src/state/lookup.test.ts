// The record cache the stub's reloads list containers through: what it returns is what a fresh
// listContainers returns, after every kind of change a record file goes through.
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ContainerRecordCache, listContainers } from './lookup.js';
import { Paths } from './paths.js';
import { RECORD_VERSION, type ContainerRecord } from './records.js';
import * as store from './store.js';

const root = mkdtempSync(join(tmpdir(), 'tsnet-test-lookup-'));
const paths = new Paths(root);
afterAll(() => rmSync(root, { recursive: true, force: true }));

function record(name: string, address: string): ContainerRecord {
  return {
    version: RECORD_VERSION, id: `${name}-id`, name, status: 'running', owner: null, created: '2026-12-03T00:00:00Z',
    network: 'n', subnet: '10.9.0.0/24', address, gateway: '10.9.0.1', hostname: name, hostVeth: 'x',
    namespaces: { net: '', uts: '', ipNetns: '' },
    dns: { mode: 'glibc', stubActive: true, nameservers: [], search: [], options: [], nsswitch: 'hosts: files dns' },
    addHosts: [], files: { resolvConf: '', hosts: '', nsswitch: '', hostname: '' },
  };
}
const write = (r: ContainerRecord) => {
  mkdirSync(paths.containerDir(r.name), { recursive: true });
  store.writeContainer(paths, r);
};
const addresses = (list: ReturnType<typeof listContainers>) => list.map((c) => [c.name, c.record?.address ?? c.problem]);

describe('ContainerRecordCache', () => {
  const cache = new ContainerRecordCache();

  it('lists what listContainers lists, and reads an unchanged record once', () => {
    write(record('a', '10.9.0.2'));
    write(record('b', '10.9.0.3'));
    const first = cache.list(paths);
    expect(addresses(first)).toEqual(addresses(listContainers(paths)));
    const again = cache.list(paths);
    expect(again[0]!.record).toBe(first[0]!.record); // the same object: not read again
  });

  it('reads a record again when it was replaced, edited in place, or broken, and drops a removed one', () => {
    write(record('a', '10.9.0.12')); // replaced by rename: a new inode
    expect(addresses(cache.list(paths))).toEqual([['a', '10.9.0.12'], ['b', '10.9.0.3']]);
    // rewritten in place at the same size: the inode stays, the mtime moves (set here: file times
    // move by the kernel's tick, and this write may fall in the same one as the last)
    const file = paths.record('b');
    writeFileSync(file, JSON.stringify(record('b', '10.9.0.4'), null, 2) + '\n');
    utimesSync(file, new Date(1_000_000), new Date(1_000_000));
    expect(addresses(cache.list(paths))).toEqual(addresses(listContainers(paths)));
    expect(cache.list(paths)[1]!.record!.address).toBe('10.9.0.4');
    writeFileSync(file, '{"torn":');
    const broken = cache.list(paths);
    expect(broken[1]!.record).toBeUndefined();
    expect(broken[1]!.problem).toMatch(/corrupt/);
    write(record('b', '10.9.0.5'));
    expect(cache.list(paths)[1]!.record!.address).toBe('10.9.0.5');
    rmSync(paths.containerDir('a'), { recursive: true });
    expect(addresses(cache.list(paths))).toEqual([['b', '10.9.0.5']]);
  });
});
