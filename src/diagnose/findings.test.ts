// The diagnosis rules on simulated networks: each scenario is a server misbehaving in one known
// way, the libraries' traces come from the emulators on the simulated driver (no root, no
// network), and the expectations are stated by hand from how glibc, musl and eventlet behave —
// never computed by the rule under test.
import { describe, expect, it } from 'vitest';
import { LIBRARY_RULES, parseResolverConfig } from '../../resolvers/core/config.js';
import { emulatorFor, parseScenario, seededRandom, simulateLookups } from '../../resolvers/index.js';
import { concernsProgram, configuredServers, findFindings, type Finding } from './findings.js';
import type { ProgramLibrary } from '../program/library.js';
import type { SortHost } from '../../resolvers/core/types.js';
import { RULES } from './rules.js';
import type { ModeRow } from './run.js';
import { parseWhatIf } from './whatif.js';

interface Scenario {
  conf: string;
  servers: Record<string, string>;
  zone?: string[];
  names?: string[];
  modes?: string[];
  hosts?: string;
  nsswitch?: string;
  /** the kernel's answers while the libraries sort (a live run's target) */
  host?: SortHost;
}

const ZONE = ['db.example=A:192.0.2.10', 'db.example=AAAA:2001:db8::10'];
const DEAD = '10.0.0.1';
const GOOD = '10.0.0.2';

/** The direct rows a live diagnose would have measured, here from the simulated driver. */
function simulate(s: Scenario): ModeRow[] {
  const input = { resolvConf: s.conf, hosts: s.hosts ?? '', nsswitch: s.nsswitch, env: {}, hostname: 'app', host: s.host };
  const scenario = parseScenario({ servers: s.servers, zone: s.zone ?? ZONE });
  const requests = (s.names ?? ['db.example']).map((name) => ({ name, family: 'any' as const, canonname: false }));
  return (s.modes ?? ['glibc', 'musl', 'eventlet']).map((mode) => ({
    mode,
    label: mode,
    path: 'direct' as const,
    input,
    traces: simulateLookups(emulatorFor(mode)!, input, scenario, requests, seededRandom(1)),
  }));
}

function diagnose(s: Scenario): Finding[] {
  return findFindings(simulate(s), s.names ?? ['db.example'], 'any');
}

const ids = (fs: Finding[]) => fs.map((f) => f.id);

/** The one finding with this id. */
function only(fs: Finding[], id: string): Finding {
  const matching = fs.filter((f) => f.id === id);
  expect(matching.map((f) => f.id), `findings: ${ids(fs).join(', ')}`).toEqual([id]);
  return matching[0]!;
}

const conf = (servers: string[], extra = 'options timeout:1') => `${servers.map((s) => `nameserver ${s}\n`).join('')}${extra}\n`;
const healthy: Scenario = { conf: conf([GOOD]), servers: { [GOOD]: 'answer' } };
const blackholeFirst: Scenario = { conf: conf([DEAD, GOOD]), servers: { [DEAD]: 'blackhole', [GOOD]: 'answer' } };
const closedFirst: Scenario = { conf: conf([DEAD, GOOD]), servers: { [DEAD]: 'closed', [GOOD]: 'answer' } };
const withOne = (behaviour: string, extra?: string): Scenario => ({ conf: conf([GOOD], extra), servers: { [GOOD]: behaviour } });
const inHosts = (o: Partial<Scenario> = {}): Scenario => ({
  conf: conf([GOOD]),
  servers: { [GOOD]: 'answer' },
  names: ['cache.internal'],
  hosts: '10.9.9.9 cache.internal\n',
  ...o,
});

describe('the rule table', () => {
  it('runs the rules in the order findFindings reports ties in', () => {
    expect(RULES.map((r) => r.name)).toEqual([
      'eachNameserver', // blackholedNameserver, closedNameserver, slowNameserver, onlyServerFailing
      'aaaaLost',
      'conntrackRace',
      'aaaaServfail',
      'truncationWithoutTcp',
      'nodataEndsSearch',
      'searchAmplification',
      'moreThan3Nameservers',
      'eventletTimeoutGe5',
      'attemptsZero',
      'rotate',
      'eachNameInHosts', // nsswitchDnsFirst, hostsShadow, eventlet024Hosts
      'firstAddressUnroutable',
      'nodeThreadpool',
    ]);
  });
});

describe('resolv.conf as the libraries read it', () => {
  const messy = 'nameserver 10.0.0.1 # primary\nnameserver bogus\n nameserver 10.0.0.9\nnameserver 10.0.0.2\noptions timeout:1\n';

  it('configuredServers: only real nameserver lines (no comment, no non-address, no indented line: glibc and musl skip those)', () => {
    const input = { resolvConf: messy, hosts: '', nsswitch: undefined, env: {}, hostname: 'app' };
    expect(configuredServers([{ path: 'direct', input }])).toEqual(['10.0.0.1', '10.0.0.2']);
  });

  it('a line glibc skips is no 4th nameserver, and the removal what-if still names the right line', () => {
    const s: Scenario = { conf: `nameserver bogus\n${messy}`, servers: { [DEAD]: 'blackhole', [GOOD]: 'answer' } };
    const fs = diagnose(s);
    expect(ids(fs)).not.toContain('more-than-3-nameservers');
    // whatif.ts decides how it numbers nameserver lines: check what the offered change does
    const whatIf = only(fs, 'blackholed-nameserver').whatIf!;
    expect(whatIf).toMatch(/^nameserver-remove \d$/);
    const after = parseWhatIf(whatIf).apply({ resolvConf: s.conf, hosts: '', nsswitch: undefined, env: {}, hostname: 'app' });
    expect(parseResolverConfig(after.resolvConf, LIBRARY_RULES.glibc, () => {}).nameservers).toEqual([GOOD]);
  });
});

describe('a healthy network', () => {
  it('one answering server, a name DNS knows: no finding at all', () => {
    expect(diagnose(healthy)).toEqual([]);
  });

  it('three answering servers, search list within ndots, a fully qualified name: no finding', () => {
    const s: Scenario = {
      conf: conf([GOOD, '10.0.0.3', '10.0.0.4'], 'search s1.example\noptions ndots:1 timeout:1'),
      servers: { [GOOD]: 'answer', '10.0.0.3': 'answer', '10.0.0.4': 'answer' },
    };
    expect(diagnose(s)).toEqual([]);
  });
});

describe('blackholed-nameserver', () => {
  it('the first of two servers dropped: an error, the fix removes it and the prediction drops glibc to ≈ 0', () => {
    const f = only(diagnose(blackholeFirst), 'blackholed-nameserver');
    expect(f).toMatchObject({ severity: 'error', whatIf: 'nameserver-remove 1' });
    expect(f.title).toMatch(/^nameserver 10\.0\.0\.1 never answers/);
    expect(f.fix).toMatch(/^remove "nameserver 10\.0\.0\.1"/);
    // glibc waits its 1 s timeout, then asks the second server
    const glibc = f.modes.find((m) => m.mode === 'glibc')!;
    expect(glibc.measured_ms).toBeGreaterThanOrEqual(1000);
    expect(glibc.with_fix_ms!).toBeLessThan(50);
  });

  it('says which libraries wait: glibc 1 s and eventlet 2 s (one timeout per query type); musl asks every server at once and does not wait', () => {
    const f = only(diagnose(blackholeFirst), 'blackholed-nameserver');
    expect(f.title).not.toMatch(/every library/);
    expect(f.title).toContain('glibc waits 1.00 s on it');
    expect(f.title).toContain('eventlet waits 2.00 s on it');
    expect(f.title).toContain('musl does not wait (it asks every server at once)');
  });

  it('a healthy second server that answers 5 ms after the first is not dead: musl\'s unused replies are no evidence', () => {
    // musl asks both at once and takes the first reply; glibc and eventlet never reach the second.
    const fs = diagnose({ conf: conf([GOOD, DEAD]), servers: { [GOOD]: 'answer', [DEAD]: 'delay:5' } });
    expect(ids(fs)).not.toContain('blackholed-nameserver');
  });

  it('a server written in inet_aton shorthand ("nameserver 10.1") is judged by the address the libraries send to', () => {
    // glibc and musl read 10.1 as 10.0.0.1 (DEAD): the finding names it and removes line 1.
    const fs = diagnose({ conf: 'nameserver 10.1\nnameserver 10.0.0.2\noptions timeout:1\n', servers: { [DEAD]: 'blackhole', [GOOD]: 'answer' }, modes: ['glibc', 'musl'] });
    const f = only(fs, 'blackholed-nameserver');
    expect(f.title).toContain(DEAD);
    expect(f.whatIf).toBe('nameserver-remove 1');
  });

  it('musl alone still names a dead server when its lookups fail', () => {
    const fs = diagnose({ conf: conf([DEAD]), servers: { [DEAD]: 'blackhole' }, modes: ['musl'] });
    expect(only(fs, 'blackholed-nameserver').severity).toBe('error');
  });

  it('the only server dead: every lookup fails; the fix points at a serving nameserver, never "remove" it', () => {
    const f = only(diagnose({ conf: conf([DEAD]), servers: { [DEAD]: 'blackhole' } }), 'blackholed-nameserver');
    expect(f).toMatchObject({ severity: 'error', whatIf: null });
    expect(f.fix).not.toMatch(/remove/);
    expect(f.fix).toMatch(/point the container at a nameserver that is actually serving/);
    expect(f.title).toContain('it is the only nameserver');
    expect(f.title).toContain('glibc fails (EAI_AGAIN) after 2.00 s'); // timeout:1, attempts:2
    expect(f.title).toContain('musl fails (EAI_AGAIN) after 1.00 s');
    expect(f.modes.every((m) => m.with_fix_ms === null)).toBe(true);
  });

  it('both servers dead: removing one is no fix, so neither finding says to', () => {
    const fs = diagnose({ conf: conf([DEAD, '10.0.0.3']), servers: { [DEAD]: 'blackhole', '10.0.0.3': 'blackhole' } }).filter((f) => f.id === 'blackholed-nameserver');
    expect(fs.map((f) => f.title.split(' ')[1])).toEqual([DEAD, '10.0.0.3']);
    for (const f of fs) {
      expect(f).toMatchObject({ severity: 'error', whatIf: null });
      expect(f.fix).not.toMatch(/remove/);
      expect(f.title).toContain('no other nameserver answers');
    }
  });

  it('silent for an ICMP-closed server (that is closed-nameserver)', () => {
    expect(ids(diagnose(closedFirst))).not.toContain('blackholed-nameserver');
  });
});

describe('closed-nameserver', () => {
  it('the first of two servers ICMP-closed: a warning, the fix removes it', () => {
    const f = only(diagnose(closedFirst), 'closed-nameserver');
    expect(f).toMatchObject({ severity: 'warning', whatIf: 'nameserver-remove 1', fix: 'remove "nameserver 10.0.0.1" from resolv.conf' });
    expect(f.title).toMatch(/^nameserver 10\.0\.0\.1 refuses DNS \(ICMP port unreachable\)/);
  });

  it('says who waits: eventlet (unconnected socket) 2 s; glibc sees the ICMP error, musl asks every server at once', () => {
    const f = only(diagnose(closedFirst), 'closed-nameserver');
    expect(f.title).toContain('eventlet waits 2.00 s on it');
    expect(f.title).toContain('glibc does not wait (it sees the ICMP error)');
    expect(f.title).toContain('musl does not wait (it asks every server at once)');
  });

  it('the only server ICMP-closed: every lookup fails (EAI_AGAIN), so an error; the fix is a serving nameserver, not removing it', () => {
    const s: Scenario = { conf: conf([DEAD]), servers: { [DEAD]: 'closed' } };
    const rows = simulate(s);
    for (const r of rows) expect(r.traces[0]!.result.error, r.label).toBe('EAI_AGAIN');
    const f = only(findFindings(rows, ['db.example'], 'any'), 'closed-nameserver');
    expect(f).toMatchObject({ severity: 'error', whatIf: null });
    expect(f.fix).not.toMatch(/remove/);
    expect(f.fix).toMatch(/point the container at a nameserver that is actually serving/);
    expect(f.fix).toContain(DEAD);
    expect(f.title).toContain('it is the only nameserver');
    expect(f.title).toContain('glibc fails (EAI_AGAIN)');
  });

  it('silent on a healthy network and on a blackholed server', () => {
    expect(ids(diagnose(healthy))).not.toContain('closed-nameserver');
    expect(ids(diagnose(blackholeFirst))).not.toContain('closed-nameserver');
  });
});

describe('slow-nameserver', () => {
  it('median reply 300 ms: a warning; 1.5 s: an error', () => {
    const f = only(diagnose(withOne('delay:300')), 'slow-nameserver');
    expect(f.severity).toBe('warning');
    expect(f.title).toMatch(/^nameserver 10\.0\.0\.2 is slow: median reply 300\.\d ms$/);
    expect(only(diagnose(withOne('delay:1500', 'options timeout:5')), 'slow-nameserver').severity).toBe('error');
  });

  it('silent below 200 ms', () => {
    expect(ids(diagnose(withOne('delay:150')))).not.toContain('slow-nameserver');
  });
});

describe('only-server-failing', () => {
  it('the only server REFUSED: an error naming REFUSED', () => {
    const f = only(diagnose(withOne('refused')), 'only-server-failing');
    expect(f.severity).toBe('error');
    expect(f.title).toBe('the only nameserver 10.0.0.2 answers REFUSED to everything');
  });

  it('the only server SERVFAIL: an error naming SERVFAIL', () => {
    expect(only(diagnose(withOne('servfail')), 'only-server-failing').title).toMatch(/SERVFAIL/);
  });

  it('silent when another server answers', () => {
    const s: Scenario = { conf: conf(['10.0.0.3', GOOD]), servers: { '10.0.0.3': 'refused', [GOOD]: 'answer' } };
    expect(ids(diagnose(s))).not.toContain('only-server-failing');
  });
});

describe('AAAA', () => {
  it('AAAA dropped, A answered: aaaa-lost (error) with the single-request-reopen what-if', () => {
    const rows = simulate(withOne('drop-aaaa'));
    expect(rows.find((r) => r.mode === 'musl')!.traces[0]!.result.error).toBe('EAI_AGAIN');
    const f = only(findFindings(rows, ['db.example'], 'any'), 'aaaa-lost');
    expect(f).toMatchObject({ severity: 'error', whatIf: 'options single-request-reopen' });
  });

  it('the conntrack race (race-drop): conntrack-race, each library\'s own wait, the what-if helps glibc and not musl; not aaaa-lost', () => {
    // a search walk: glibc loses a query per name until its fallback reaches single-request-reopen
    const walk = only(diagnose({ ...withOne('race-drop', 'search a.example\noptions timeout:1 ndots:2'), zone: ZONE }), 'conntrack-race');
    expect(walk.title).toMatch(/glibc waits 2\.00 s on it .*musl waits 1\.00 s on it/);
    const f = only(diagnose({ ...withOne('race-drop'), names: ['db.example', 'db.example', 'db.example'] }), 'conntrack-race');
    // glibc: 1 s per lookup for the first two (timeout:1, then single-request on a new socket
    // collides again), musl: its 500 ms resend interval per lookup, eventlet: never two at once
    expect(f.title).toMatch(/glibc waits 2\.00 s on it .*musl waits 1\.50 s on it .*eventlet does not wait/);
    expect(f.severity).toBe('error');
    const cost = Object.fromEntries(f.modes.map((m) => [m.mode, m]));
    expect(cost.glibc!.measured_ms).toBeGreaterThan(2000);
    expect(cost.glibc!.with_fix_ms).toBeLessThan(10);
    expect(cost.musl!.with_fix_ms).toBeGreaterThan(1500);
    // every fix predicted: TCP helps glibc too; only a resolver without the race helps musl
    expect(f.fix).toMatch(/use-vc → glibc \d\.\d ms, musl 1\.50 s/);
    expect(f.fix).toMatch(/a resolver without the race → glibc \d\.\d ms, musl \d\.\d ms, eventlet \d\.\d ms/);
    expect(ids(diagnose(withOne('race-drop')))).not.toContain('aaaa-lost');
    expect(ids(diagnose(withOne('drop-aaaa')))).not.toContain('conntrack-race');
  });

  it('AAAA SERVFAIL: aaaa-servfail, an error when musl is measured (it fails the lookup), a warning without it', () => {
    expect(only(diagnose(withOne('servfail-aaaa')), 'aaaa-servfail').severity).toBe('error');
    expect(only(diagnose({ ...withOne('servfail-aaaa'), modes: ['glibc', 'eventlet'] }), 'aaaa-servfail').severity).toBe('warning');
  });

  it('AAAA NODATA (a name with no IPv6 address) is healthy: neither fires', () => {
    const found = ids(diagnose({ ...healthy, zone: ['db.example=A:192.0.2.10'] }));
    expect(found).not.toContain('aaaa-lost');
    expect(found).not.toContain('aaaa-servfail');
  });
});

describe('truncation-without-tcp', () => {
  it('TC=1 replies: musl 1.2.3 uses them and finds nothing: an error', () => {
    const f = only(diagnose(withOne('truncate')), 'truncation-without-tcp');
    expect(f.severity).toBe('error');
    expect(f.evidence.join(' ')).toMatch(/^musl: /);
  });

  it('silent without a musl row (glibc and eventlet retry over TCP)', () => {
    expect(ids(diagnose({ ...withOne('truncate'), modes: ['glibc', 'eventlet'] }))).not.toContain('truncation-without-tcp');
  });
});

describe('nodata-ends-search', () => {
  const nodata: Scenario = {
    conf: conf([GOOD], 'search a.example b.example\noptions timeout:1'),
    servers: { [GOOD]: 'answer' },
    names: ['db'],
    zone: ['db.a.example=TXT:x', 'db.b.example=A:192.0.2.11'],
  };

  it('NODATA for db.a.example ends musl\'s and eventlet\'s search; glibc goes on to db.b.example: one error each', () => {
    const fs = diagnose(nodata).filter((f) => f.id === 'nodata-ends-search');
    expect(fs.map((f) => [f.severity, f.title.split(':')[0]])).toEqual([
      ['error', 'musl'],
      ['error', 'eventlet'],
    ]);
    for (const f of fs) expect(f.evidence[0]).toMatch(/db\.a\.example → NODATA/);
  });

  it('silent when the first search domain has the name', () => {
    expect(ids(diagnose({ ...nodata, zone: ['db.a.example=A:192.0.2.11'] }))).not.toContain('nodata-ends-search');
  });
});

describe('search-amplification', () => {
  const amp: Scenario = {
    conf: conf([GOOD], 'search s1.example s2.example s3.example\noptions ndots:5 timeout:1'),
    servers: { [GOOD]: 'delay:100' },
  };

  it('db.example (1 dot) under ndots:5 with 3 search domains: 4 names per lookup, a warning; ndots:1 predicted to cut glibc to one round', () => {
    const f = only(diagnose(amp), 'search-amplification');
    expect(f).toMatchObject({ severity: 'warning', whatIf: 'options ndots:1' });
    expect(f.title).toBe('db.example has 1 dot(s) < ndots:5: the search list is tried first, 4 names per lookup');
    const glibc = f.modes.find((m) => m.mode === 'glibc')!;
    expect(glibc.measured_ms).toBeGreaterThanOrEqual(400); // four rounds of 100 ms
    expect(glibc.with_fix_ms!).toBeLessThan(150);
  });

  it('silent for the same name with a trailing dot, and for ndots:1', () => {
    expect(ids(diagnose({ ...amp, names: ['db.example.'] }))).not.toContain('search-amplification');
    expect(ids(diagnose({ ...amp, conf: conf([GOOD], 'search s1.example s2.example s3.example\noptions ndots:1 timeout:1') }))).not.toContain('search-amplification');
  });
});

describe('configuration advisories', () => {
  it('4 nameservers: more-than-3-nameservers (warning) names the ignored one', () => {
    const servers = [GOOD, '10.0.0.3', '10.0.0.4', '10.0.0.5'];
    const f = only(diagnose({ conf: conf(servers), servers: Object.fromEntries(servers.map((s) => [s, 'answer'])) }), 'more-than-3-nameservers');
    expect(f).toMatchObject({ severity: 'warning', evidence: ['ignored by glibc/musl/Go: 10.0.0.5'] });
  });

  it('timeout:5 with a dead first server: eventlet-timeout-ge-5 first (error: eventlet fails), then blackholed-nameserver', () => {
    const s: Scenario = { ...blackholeFirst, conf: conf([DEAD, GOOD], 'options timeout:5') };
    const rows = simulate(s);
    expect(rows.find((r) => r.mode === 'eventlet')!.traces[0]!.result.error).toBe('EAI_AGAIN');
    const fs = findFindings(rows, ['db.example'], 'any');
    expect(fs[0]).toMatchObject({ id: 'eventlet-timeout-ge-5', severity: 'error', whatIf: 'options timeout:2' });
    expect(fs[1]).toMatchObject({ id: 'blackholed-nameserver', severity: 'error' });
    // timeout:2: two seconds on the dead server per query type, then the second server answers
    expect(fs[0]!.modes.find((m) => m.mode === 'eventlet')!.with_fix_ms!).toBeCloseTo(4000, -2);
  });

  it('timeout:5 with a single server, or timeout:2 with two: no eventlet-timeout-ge-5', () => {
    expect(ids(diagnose(withOne('answer', 'options timeout:5')))).not.toContain('eventlet-timeout-ge-5');
    expect(ids(diagnose({ ...blackholeFirst, conf: conf([DEAD, GOOD], 'options timeout:2') }))).not.toContain('eventlet-timeout-ge-5');
  });

  it('attempts:0: attempts-zero (error; musl dies of SIGFPE)', () => {
    const rows = simulate(withOne('answer', 'options attempts:0'));
    expect(rows.find((r) => r.mode === 'musl')!.traces[0]!.result.error).toBe('SIGFPE');
    expect(only(findFindings(rows, ['db.example'], 'any'), 'attempts-zero')).toMatchObject({ severity: 'error', whatIf: 'options attempts:2' });
  });

  it('rotate: an info', () => {
    const s: Scenario = { conf: conf([GOOD, '10.0.0.3'], 'options rotate'), servers: { [GOOD]: 'answer', '10.0.0.3': 'answer' } };
    expect(only(diagnose(s), 'rotate').severity).toBe('info');
  });
});

describe('names in /etc/hosts', () => {
  it('hosts-shadow (info): glibc reads files first by default, musl and eventlet too', () => {
    const f = only(diagnose(inHosts()), 'hosts-shadow');
    expect(f).toMatchObject({ severity: 'info', title: 'cache.internal is in /etc/hosts: glibc (files first), musl and eventlet answer from it without DNS' });
  });

  it('"hosts: dns files": nsswitch-dns-first (warning), and hosts-shadow no longer says glibc reads files first', () => {
    const fs = diagnose(inHosts({ nsswitch: 'hosts: dns files\n' }));
    expect(only(fs, 'nsswitch-dns-first').severity).toBe('warning');
    const shadow = only(fs, 'hosts-shadow');
    expect(shadow.title).not.toContain('files first');
    expect(shadow.title).toContain('glibc asks DNS first');
    expect(shadow.title).toContain('musl and eventlet answer from it without DNS');
  });

  it('eventlet-0.24 measured with a dead DNS: eventlet-0.24-hosts-stall first (error), the NO_GREENDNS fix predicted ≈ 0', () => {
    const fs = diagnose(inHosts({ conf: conf([DEAD]), servers: { [DEAD]: 'blackhole' }, modes: ['glibc', 'eventlet', 'eventlet-0.24'] }));
    expect(fs[0]).toMatchObject({ id: 'eventlet-0.24-hosts-stall', severity: 'error', whatIf: 'env EVENTLET_NO_GREENDNS=yes' });
    expect(fs[0]!.modes.find((m) => m.mode === 'eventlet-0.24')!.with_fix_ms!).toBeLessThan(50);
    expect(ids(fs)).not.toContain('eventlet-0.24-hosts-advice');
  });

  it('eventlet-0.24 not measured: eventlet-0.24-hosts-advice (info) instead', () => {
    const fs = diagnose(inHosts());
    expect(only(fs, 'eventlet-0.24-hosts-advice').severity).toBe('info');
    expect(ids(fs)).not.toContain('eventlet-0.24-hosts-stall');
  });

  it('a name not in /etc/hosts: none of them', () => {
    const found = ids(diagnose({ ...inHosts({ nsswitch: 'hosts: dns files\n' }), names: ['db.example'] }));
    for (const id of ['hosts-shadow', 'nsswitch-dns-first', 'eventlet-0.24-hosts-stall', 'eventlet-0.24-hosts-advice']) expect(found).not.toContain(id);
  });
});

/** A target process of this library (what src/diagnose/program.ts would find). */
const programOf = (library: ProgramLibrary['library'], mode: string | undefined, threadpool?: number): ProgramLibrary => ({
  library, summary: library, mode, approximate: false, libc: undefined, evidence: [], notes: [], ...(threadpool !== undefined ? { threadpool } : {}),
});
const diagnoseFor = (s: Scenario, program: ProgramLibrary) => findFindings(simulate(s), s.names ?? ['db.example'], 'any', program);

describe('node-threadpool', () => {
  it('a Node.js program whose lookups take a second or more: a warning naming its threadpool size', () => {
    const f = only(diagnoseFor({ ...blackholeFirst, modes: ['node', 'glibc', 'musl'] }, programOf('node', 'node', 8)), 'node-threadpool');
    expect(f.severity).toBe('warning');
    expect(f.title).toMatch(/threadpool of 8, at most 4 at once/);
    expect(f.title).toMatch(/8 at once end in 2 waves/);
    expect(f.fix).toMatch(/UV_THREADPOOL_SIZE \(e\.g\. 16\)/);
  });

  it('never for another program, nor when the program is not known (a tsnet container)', () => {
    expect(ids(diagnose(blackholeFirst))).not.toContain('node-threadpool');
    expect(ids(diagnoseFor(blackholeFirst, programOf('glibc', 'glibc')))).not.toContain('node-threadpool');
  });

  it('silent when its own library\'s lookups are fast (musl races past the dead server)', () => {
    expect(ids(diagnoseFor({ ...blackholeFirst, modes: ['node-musl', 'glibc'] }, programOf('node', 'node-musl')))).not.toContain('node-threadpool');
    expect(ids(diagnoseFor({ ...withOne('delay:300'), modes: ['node', 'musl'] }, programOf('node', 'node')))).not.toContain('node-threadpool');
  });
});

describe('first-address-unroutable', () => {
  // the target has IPv4 only: no route to the AAAA answer
  const sources = new Map<string, string | null>([['192.0.2.10', '10.0.0.9'], ['2001:db8::10', null]]);
  const v4Only: SortHost = { sourceOf: (a) => (sources.has(a) ? sources.get(a)! : a) };
  const run = (s: Scenario, map = sources, program?: ProgramLibrary) => findFindings(simulate({ ...s, host: v4Only, modes: ['glibc', 'musl', 'eventlet', 'go'] }), ['db.example'], 'any', program, [], map);

  it('eventlet does not sort: it returns the unroutable AAAA first; the sorting libraries put it last and are not named', () => {
    const f = only(run(healthy), 'first-address-unroutable');
    expect(f.severity).toBe('warning');
    expect(f.title).toMatch(/^db\.example: eventlet returns 2001:db8::10 first, and the target has no route to it/);
    expect(f.evidence).toContain('glibc returns 192.0.2.10 first (it sorts unreachable addresses last)');
    expect(f.fix).toMatch(/IPv6 connectivity/);
  });

  it('the program\'s runtime is named: Go races the families', () => {
    expect(only(run(healthy, sources, programOf('go', 'go')), 'first-address-unroutable').title).toMatch(/fast fallback/);
  });

  it('no route to any address: every library named (a warning: the lookups themselves succeeded)', () => {
    const none = new Map<string, string | null>([['192.0.2.10', null], ['2001:db8::10', null]]);
    const f = only(run(healthy, none), 'first-address-unroutable');
    expect(f.severity).toBe('warning');
    expect(f.title).toMatch(/no route to any address glibc, musl, eventlet, go returned/);
  });

  it('silent when the first address is routable, and without a live run (no sources)', () => {
    expect(ids(run(healthy, new Map([['192.0.2.10', '10.0.0.9'], ['2001:db8::10', '2001:db8::9']])))).not.toContain('first-address-unroutable');
    expect(ids(diagnose(healthy))).not.toContain('first-address-unroutable');
  });
});

describe('order', () => {
  it('errors before warnings before infos; among errors the specific mechanism first', () => {
    // AAAA dropped and a slow server: aaaa-lost (specific) before slow-nameserver
    const fs = diagnose(withOne('drop-aaaa,delay:1200', 'options timeout:3'));
    const rank = { error: 0, warning: 1, info: 2 };
    expect(fs.map((f) => rank[f.severity])).toEqual([...fs.map((f) => rank[f.severity])].sort());
    expect(ids(fs).indexOf('aaaa-lost')).toBeLessThan(ids(fs).indexOf('slow-nameserver'));
  });

  it('with a known program, what costs its own library leads (the headline), the rest follows', () => {
    for (const [library, mode] of [['glibc', 'glibc'], ['musl', 'musl'], ['eventlet', 'eventlet']] as const) {
      const program = programOf(library, mode);
      const fs = diagnoseFor(blackholeFirst, program);
      const own = fs.map((f) => concernsProgram(f, program));
      expect(own, mode).toEqual([...own].sort((a, b) => Number(b) - Number(a)));
      if (own[0]) expect(fs[0]!.modes.length === 0 || fs[0]!.modes.find((m) => m.mode === mode)!.measured_ms >= 100, mode).toBe(true);
    }
    // glibc waits out the dead first server: its headline is that server; musl races past it
    expect(concernsProgram(diagnoseFor(blackholeFirst, programOf('glibc', 'glibc'))[0]!, programOf('glibc', 'glibc'))).toBe(true);
    expect(diagnoseFor(blackholeFirst, programOf('musl', 'musl')).filter((f) => f.id === 'blackholed-nameserver').every((f) => !concernsProgram(f, programOf('musl', 'musl')))).toBe(true);
  });
});
