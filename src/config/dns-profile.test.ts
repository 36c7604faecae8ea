// --dns-profile kubernetes: the resolv.conf search list and options the kubelet gives a pod with
// dnsPolicy ClusterFirst (kubernetes.io/docs/concepts/services-networking/dns-pod-service: "search
// <namespace>.svc.cluster.local svc.cluster.local cluster.local", "options ndots:5"), rendered by
// the same path as `tsnet create`.
import { describe, expect, it } from 'vitest';
import { renderContainerFiles, resolveDnsConfig } from './container-files.js';
import { validateCreate } from './validate.js';

const spec = (over: Record<string, unknown>) => validateCreate({ name: 'pod', dns: ['10.96.0.10'], dnsMode: 'direct', ...over }, () => 'x');

describe('--dns-profile kubernetes', () => {
  it('gives the pod\'s search list for its namespace and ndots:5', () => {
    const s = spec({ dnsProfile: 'kubernetes', k8sNamespace: 'shop' });
    expect(s.search).toEqual(['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local']);
    expect(s.options).toEqual(['ndots:5']);
    const conf = renderContainerFiles(s, resolveDnsConfig(s, undefined), '10.89.0.2', undefined)['resolv.conf'];
    expect(conf).toMatch(/^search shop\.svc\.cluster\.local svc\.cluster\.local cluster\.local$/m);
    expect(conf).toMatch(/^options ndots:5$/m);
    expect(conf).toMatch(/^nameserver 10\.96\.0\.10$/m);
  });

  it('defaults to the namespace "default"; the user\'s domains follow, the user\'s options replace the profile\'s', () => {
    const s = spec({ dnsProfile: 'kubernetes', dnsSearch: ['corp.example', 'cluster.local'], dnsOptions: ['ndots:2', 'timeout:1'] });
    expect(s.search).toEqual(['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'corp.example']);
    expect(s.options).toEqual(['ndots:2', 'timeout:1']);
    expect(spec({ dnsProfile: 'kubernetes', dnsOptions: ['timeout:1'] }).options).toEqual(['ndots:5', 'timeout:1']);
  });

  it('refuses an unknown profile, a namespace that is not a Kubernetes one, and a namespace without the profile', () => {
    expect(() => spec({ dnsProfile: 'k8s' })).toThrow(/unknown --dns-profile "k8s"/);
    for (const ns of ['Shop', '-a', 'a_b', 'a.b', '', 'x'.repeat(64), 'a\nb']) {
      expect(() => spec({ dnsProfile: 'kubernetes', k8sNamespace: ns }), ns).toThrow(/invalid --k8s-namespace/);
    }
    expect(() => spec({ k8sNamespace: 'shop' })).toThrow(/--k8s-namespace needs --dns-profile kubernetes/);
    expect(spec({}).search).toEqual([]);
  });
});
