// Zone entries as the simulated network and fake-dns read them. Names come from the wire too
// (diagnose builds its simulated network from what the live lookups asked): any byte but NUL may
// be in a label, "=" and spaces included, and such a name must still make a valid entry.
import { describe, expect, it } from 'vitest';
import * as dnsPacket from 'dns-packet';
import { addZoneEntry, ConntrackRace, parseBehaviour, respond, type Zone } from './responder.js';

const zoneOf = (...entries: string[]) => {
  const z: Zone = new Map();
  for (const e of entries) addZoneEntry(z, e);
  return z;
};

describe('addZoneEntry', () => {
  it('reads NAME=TYPE:VALUE, names lower-cased without the final dot', () => {
    expect(zoneOf('DB.Example.=A:10.0.0.5', 'db.example=AAAA:2001:db8::5', 'db.example=TXT:v=1').get('db.example')).toEqual({
      A: ['10.0.0.5'], AAAA: ['2001:db8::5'], TXT: ['v=1'],
    });
  });

  it('takes names with "=", spaces and line breaks in a label (the last =TYPE: ends the name)', () => {
    const z = zoneOf('a=b.example=A:192.0.2.1', 'x y.example=A:192.0.2.2', 'two\nlines.example=AAAA:2001:db8::1', 'x=A:1.2.3.4=A:192.0.2.3');
    expect(z.get('a=b.example')?.A).toEqual(['192.0.2.1']);
    expect(z.get('x y.example')?.A).toEqual(['192.0.2.2']);
    expect(z.get('two\nlines.example')?.AAAA).toEqual(['2001:db8::1']);
    expect(z.get('x=a:1.2.3.4')?.A).toEqual(['192.0.2.3']);
  });

  it('refuses what is not an entry, naming it', () => {
    expect(() => zoneOf('db.example')).toThrow(/invalid zone entry "db.example"/);
    expect(() => zoneOf('db.example=A:999.0.0.1')).toThrow(/is not an IPv4 address/);
    expect(() => zoneOf('=A:10.0.0.1')).toThrow(/invalid zone entry/);
  });
});

// ---------------------------------------------------------------------------------------------
// respond(): the behaviours the fidelity matrix's wider scenarios need (the simulated network and
// fake-dns share these decisions).

const ask = (name: string, type: string, opts: { edns?: boolean; id?: number } = {}) =>
  dnsPacket.encode({
    type: 'query',
    id: opts.id ?? 77,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type: type as dnsPacket.RecordType, name, class: 'IN' }],
    ...(opts.edns ? { additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1200, extendedRcode: 0, ednsVersion: 0, flags: 0, options: [] } as unknown as dnsPacket.Answer] } : {}),
  });

function decide(behaviour: string, zone: Zone, name: string, type: string, transport: 'udp' | 'tcp' = 'udp', edns = false) {
  const d = respond(parseBehaviour(behaviour), zone, ask(name, type, { edns }), transport);
  if (d.kind !== 'reply') return { d, msg: undefined };
  return { d, msg: dnsPacket.decode(d.bytes) };
}

const answersOf = (msg: dnsPacket.DecodedPacket | undefined) =>
  (msg?.answers ?? []).map((a) => `${a.name} ${a.type} ${String((a as { data: unknown }).data)}`);
const rcodeOf = (msg: dnsPacket.DecodedPacket | undefined) => (msg?.flags ?? 0) & 0xf;
const tcOf = (msg: dnsPacket.DecodedPacket | undefined) => ((msg?.flags ?? 0) & dnsPacket.TRUNCATED_RESPONSE) !== 0;

describe('respond: CNAME chains', () => {
  const zone = zoneOf(
    'www.fy.test=CNAME:alias.fy.test', 'alias.fy.test=CNAME:db.fy.test', 'db.fy.test=A:10.50.0.5', 'db.fy.test=AAAA:fd00:50::5',
    'web.fy.test=CNAME:api.other.test', 'api.other.test=A:10.50.3.3',
    'loop1.fy.test=CNAME:loop2.fy.test', 'loop2.fy.test=CNAME:loop1.fy.test',
  );

  it('follows a chain inside the zone data, owners as the chain goes', () => {
    const { msg, d } = decide('answer', zone, 'www.fy.test', 'A');
    expect(d.action).toBe('answer');
    expect(answersOf(msg)).toEqual(['www.fy.test CNAME alias.fy.test', 'alias.fy.test CNAME db.fy.test', 'db.fy.test A 10.50.0.5']);
  });

  it('follows a chain into another zone when nothing says it is authoritative (a recursive server)', () => {
    expect(answersOf(decide('answer', zone, 'web.fy.test', 'A').msg)).toEqual(['web.fy.test CNAME api.other.test', 'api.other.test A 10.50.3.3']);
  });

  it('auth:ZONE: a chain leaving the zone ends at the CNAME (NOERROR, the client must chase it)', () => {
    const { msg, d } = decide('auth:fy.test', zone, 'web.fy.test', 'A');
    expect(rcodeOf(msg)).toBe(0);
    expect(d.action).toBe('nodata');
    expect(answersOf(msg)).toEqual(['web.fy.test CNAME api.other.test']);
    // inside the zone it still follows
    expect(answersOf(decide('auth:fy.test', zone, 'www.fy.test', 'AAAA').msg)).toHaveLength(3);
    // several zones: repeatable
    expect(answersOf(decide('auth:fy.test,auth:other.test', zone, 'web.fy.test', 'A').msg)).toHaveLength(2);
    expect(() => parseBehaviour('auth')).toThrow(/auth needs a zone/);
  });

  it('a CNAME query gets the CNAME alone; a loop ends in SERVFAIL', () => {
    expect(answersOf(decide('answer', zone, 'www.fy.test', 'CNAME').msg)).toEqual(['www.fy.test CNAME alias.fy.test']);
    expect(rcodeOf(decide('answer', zone, 'loop1.fy.test', 'A').msg)).toBe(2);
  });
});

describe('respond: formerr-edns', () => {
  const zone = zoneOf('db.fy.test=A:10.50.0.5');

  it('FORMERR (question copied, no OPT) to a query with an OPT record, over UDP and TCP', () => {
    for (const transport of ['udp', 'tcp'] as const) {
      const { msg, d } = decide('formerr-edns', zone, 'db.fy.test', 'A', transport, true);
      expect(d.action).toBe('formerr-edns');
      expect(rcodeOf(msg)).toBe(1);
      expect(msg?.questions?.[0]?.name).toBe('db.fy.test');
      expect(msg?.additionals ?? []).toEqual([]);
      expect(answersOf(msg)).toEqual([]);
    }
  });

  it('answers the same query without OPT as usual; combines with a base behaviour', () => {
    expect(answersOf(decide('formerr-edns', zone, 'db.fy.test', 'A').msg)).toEqual(['db.fy.test A 10.50.0.5']);
    expect(decide('formerr-edns,delay:20', zone, 'db.fy.test', 'A', 'udp', true).d).toMatchObject({ delayMs: 20, action: 'formerr-edns' });
    expect(decide('formerr-edns,blackhole', zone, 'db.fy.test', 'A', 'udp', true).d.kind).toBe('drop');
  });
});

describe('respond: truncate-partial', () => {
  const zone = zoneOf('db.fy.test=A:10.50.0.5', 'db.fy.test=A:10.50.0.6', 'db.fy.test=A:10.50.0.7', 'db.fy.test=AAAA:fd00:50::5', 'db.fy.test=AAAA:fd00:50::6');

  it('UDP: TC=1 with the first half of the answers (rounded up); TCP: all of them, no TC', () => {
    const a = decide('truncate-partial', zone, 'db.fy.test', 'A');
    expect(a.d.action).toBe('truncate-partial');
    expect(tcOf(a.msg)).toBe(true);
    expect(answersOf(a.msg)).toEqual(['db.fy.test A 10.50.0.5', 'db.fy.test A 10.50.0.6']);
    const aaaa = decide('truncate-partial', zone, 'db.fy.test', 'AAAA');
    expect(answersOf(aaaa.msg)).toEqual(['db.fy.test AAAA fd00:50::5']);
    const tcp = decide('truncate-partial', zone, 'db.fy.test', 'A', 'tcp');
    expect(tcOf(tcp.msg)).toBe(false);
    expect(answersOf(tcp.msg)).toHaveLength(3);
    expect(tcp.d.action).toBe('answer');
  });

  it('keeps the rcode of the full answer (NXDOMAIN stays NXDOMAIN, with TC)', () => {
    const nx = decide('truncate-partial', zone, 'nope.fy.test', 'A');
    expect(rcodeOf(nx.msg)).toBe(3);
    expect(tcOf(nx.msg)).toBe(true);
  });
});

describe('respond: wrong-port, wrong-port-first', () => {
  const zone = zoneOf('db.fy.test=A:10.50.0.5');

  it('says which source port UDP replies leave from, and logs it in the action', () => {
    expect(decide('answer', zone, 'db.fy.test', 'A').d).toMatchObject({ source: 'right', action: 'answer' });
    expect(decide('wrong-port', zone, 'db.fy.test', 'A').d).toMatchObject({ source: 'wrong', action: 'answer+wrong-port' });
    expect(decide('wrong-port-first', zone, 'nope.fy.test', 'A').d).toMatchObject({ source: 'wrong-then-right', action: 'nxdomain+wrong-port-first' });
  });

  it('TCP is not affected', () => {
    expect(decide('wrong-port', zone, 'db.fy.test', 'A', 'tcp').d).toMatchObject({ source: 'right', action: 'answer' });
  });
});

// ---------------------------------------------------------------------------------------------
// race-drop: the conntrack insertion race (kubernetes/kubernetes#56903), as both drivers keep it.

describe('ConntrackRace', () => {
  it('parses race-drop with the 5 ms default and a given window; refuses a bad one', () => {
    expect(parseBehaviour('race-drop').raceDropMs).toBe(5);
    expect(parseBehaviour('race-drop:20,delay:3')).toMatchObject({ raceDropMs: 20, delayMs: 3 });
    expect(() => parseBehaviour('race-drop:x')).toThrow(/race-drop takes a window in milliseconds/);
    expect(() => parseBehaviour('race-drop:-1')).toThrow(/race-drop/);
  });

  it('drops the second packet of a new flow sent together with the first, and nothing after it', () => {
    const r = new ConntrackRace(5);
    expect(r.admit('a', 0)).toBe(true);
    expect(r.admit('a', 0.01)).toBe(false);
    expect(r.admit('a', 5000)).toBe(true); // the resend
    expect(r.admit('a', 5000.01)).toBe(true);
    expect(r.admit('b', 0.02)).toBe(true); // another source port is another flow
  });

  it('drops it also when sent after the first one has been answered, inside the window (the window is all the server goes by); not after it', () => {
    const r = new ConntrackRace(5);
    expect(r.admit('a', 0)).toBe(true);
    expect(r.admit('a', 0.3)).toBe(false);
    const late = new ConntrackRace(5);
    expect(late.admit('a', 0)).toBe(true);
    expect(late.admit('a', 5.5)).toBe(true);
  });

  it('treats a flow idle for 30 s as new (the UDP conntrack timeout), and forgets the oldest past its bound', () => {
    const r = new ConntrackRace(5, 2);
    r.admit('a', 0);
    r.admit('a', 0);
    expect(r.admit('a', 31_000)).toBe(true);
    expect(r.admit('a', 31_000)).toBe(false);
    r.admit('b', 31_001);
    r.admit('c', 31_002); // 'a' is forgotten: its next packet starts a new flow
    expect(r.admit('a', 31_003)).toBe(true);
    expect(r.admit('a', 31_003)).toBe(false);
  });
});
