// Zone entries as the simulated network and fake-dns read them. Names come from the wire too
// (diagnose builds its simulated network from what the live lookups asked): any byte but NUL may
// be in a label, "=" and spaces included, and such a name must still make a valid entry.
import { describe, expect, it } from 'vitest';
import { addZoneEntry, type Zone } from './responder.js';

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
