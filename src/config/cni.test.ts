import { describe, expect, it } from 'vitest';
import { addResult, CniError, parseCniArgs, parseConfig, parseRequest, podNameOf, podNamespaceOf, renderConflist } from './cni.js';

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return (err as CniError).code;
  }
  return 0;
};

describe('CNI input', () => {
  it('CNI_ARGS: K8S_POD_NAME and the namespace are read; unknown keys need IgnoreUnknown (as libcni plugins)', () => {
    expect(parseCniArgs('IgnoreUnknown=1;K8S_POD_NAME=web;K8S_POD_NAMESPACE=prod;FOO=bar')).toEqual({ podName: 'web', podNamespace: 'prod' });
    expect(code(() => parseCniArgs('FOO=bar'))).toBe(4);
    expect(code(() => parseCniArgs('novalue'))).toBe(4);
    expect(code(() => parseCniArgs('K=' + 'x'.repeat(9000)))).toBe(4);
    expect(parseCniArgs(undefined)).toEqual({ podName: undefined, podNamespace: undefined });
    // names the records keep and `inspect` prints: only well-formed ones
    expect(podNameOf({ podName: 'web\u001b[31m', podNamespace: undefined })).toBeUndefined();
    expect(podNamespaceOf({ podName: undefined, podNamespace: 'kube-system' })).toBe('kube-system');
    expect(podNamespaceOf({ podName: undefined, podNamespace: 'x\ny' })).toBeUndefined();
  });

  it('the variables each command needs (SPEC.md): DEL may lack CNI_NETNS, GC and STATUS need no container', () => {
    const add = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CNI_NETNS: '/run/netns/x', CNI_IFNAME: 'eth0' };
    expect(parseRequest(add)).toMatchObject({ command: 'ADD', containerId: 'c1', netns: '/run/netns/x', ifname: 'eth0' });
    expect(code(() => parseRequest({ ...add, CNI_NETNS: '' }))).toBe(4);
    expect(parseRequest({ ...add, CNI_COMMAND: 'DEL', CNI_NETNS: '' }).netns).toBeUndefined();
    expect(parseRequest({ CNI_COMMAND: 'GC' }).command).toBe('GC');
    expect(code(() => parseRequest({}))).toBe(4);
    // the message names every invalid variable
    try {
      parseRequest({ CNI_COMMAND: 'ADD', CNI_CONTAINERID: '/x', CNI_IFNAME: 'way-too-long-name0', CNI_NETNS: 'rel' });
    } catch (err) {
      expect((err as Error).message).toMatch(/CNI_CONTAINERID.*CNI_IFNAME.*CNI_NETNS/);
    }
  });

  it('the configuration: versions, type, name, subnet, dns, runtimeConfig.dns, GC\'s valid attachments', () => {
    const base = { cniVersion: '1.0.0', name: 'net1', type: 'tsnet', subnet: '10.1.0.0/24' };
    const c = parseConfig(JSON.stringify({ ...base, dns: { nameservers: ['10.1.9.9'] }, runtimeConfig: { dns: { servers: ['10.9.9.9'], searches: ['a.example'] } } }), 'ADD');
    expect(c).toMatchObject({ cniVersion: '1.0.0', name: 'net1', dnsMode: 'glibc', dns: { nameservers: ['10.1.9.9'], search: [], options: [] }, runtimeDns: { nameservers: ['10.9.9.9'], search: ['a.example'] } });
    expect(code(() => parseConfig(JSON.stringify({ ...base, cniVersion: '0.3.1' }), 'ADD'))).toBe(1);
    expect(code(() => parseConfig('[]', 'ADD'))).toBe(6);
    expect(code(() => parseConfig(JSON.stringify({ ...base, name: 'Net/1' }), 'ADD'))).toBe(7);
    expect(code(() => parseConfig(JSON.stringify({ ...base, dnsMode: 'bind' }), 'ADD'))).toBe(7);
    expect(code(() => parseConfig(JSON.stringify({ ...base, root: '/run/../etc' }), 'ADD'))).toBe(7);
    expect(code(() => parseConfig(JSON.stringify({ ...base, dns: { nameservers: Array(65).fill('10.0.0.1') } }), 'ADD'))).toBe(7);
    const gc = parseConfig(JSON.stringify({ ...base, 'cni.dev/valid-attachments': [{ containerID: 'a', ifname: 'eth0' }] }), 'GC');
    expect(gc.validAttachments).toEqual([{ containerId: 'a', ifname: 'eth0' }]);
  });

  it('a conflist tsnet prints is one its plugin takes', () => {
    const text = renderConflist({ network: 'dbnet', subnet: '10.7.0.0/24', dnsMode: 'musl', dns: { nameservers: ['10.7.9.9'], search: [], options: ['ndots:2'] } });
    const list = JSON.parse(text);
    const plugin = parseConfig(JSON.stringify({ cniVersion: list.cniVersion, name: list.name, ...list.plugins[0] }), 'ADD');
    expect(plugin).toMatchObject({ name: 'dbnet', subnet: '10.7.0.0/24', dnsMode: 'musl', dns: { nameservers: ['10.7.9.9'], options: ['ndots:2'] } });
  });
});

describe('CNI results', () => {
  const a = { hostVeth: 'tsv1', hostMac: '02:00:00:00:00:01', ifname: 'eth0', mac: '02:00:00:00:00:02', netns: '/run/netns/x', address: '10.1.0.2', prefix: 24, gateway: '10.1.0.1', dns: { nameservers: ['10.1.0.1'], search: [], options: ['attempts:1'] } };
  it('1.0.0 IPs have no "version"; 0.4.0 IPs have version "4" (SPEC 0.4.0 Result)', () => {
    expect((addResult('1.0.0', a).ips as object[])[0]).toEqual({ address: '10.1.0.2/24', gateway: '10.1.0.1', interface: 1 });
    expect((addResult('0.4.0', a).ips as object[])[0]).toEqual({ version: '4', address: '10.1.0.2/24', gateway: '10.1.0.1', interface: 1 });
    expect(addResult('1.0.0', a).dns).toEqual({ nameservers: ['10.1.0.1'], options: ['attempts:1'] });
  });
});
