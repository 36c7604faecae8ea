// --dns addresses leave validation in one form, RFC 5952's (the address module's canonical text):
// the kernel reports a reply's source that way, and the stub's anti-spoofing guard, the records
// and the resolv.conf files all compare or show that text.
import { describe, expect, it } from 'vitest';
import { validateCreate } from './validate.js';

const dnsOf = (dns: string[], dnsMode = 'glibc') => validateCreate({ name: 'web', dns, dnsMode }, () => 'x').dns;

describe('validateCreate: --dns in canonical form', () => {
  it.each([
    ['2001:DB8::1', '2001:db8::1'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8::0:1', '2001:db8::1'],
    ['2001:DB8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // the first of two equal zero runs
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // one zero group is not compressed
    ['FD00:0:0:0:0:0:0:53', 'fd00::53'],
    ['::FFFF:1.2.3.4', '::ffff:1.2.3.4'],
    ['::ffff:0102:0304', '::ffff:1.2.3.4'], // v4-mapped: mixed notation, as inet_ntop prints it
    ['0:0:0:0:0:ffff:102:304', '::ffff:1.2.3.4'],
    ['FE80::0001%eth0', 'fe80::1%eth0'], // the zone is kept: a link-local server needs it
    ['10.89.0.1', '10.89.0.1'],
    ['2606:4700:4700::1111', '2606:4700:4700::1111'],
  ])('%s → %s', (given, canonical) => {
    expect(dnsOf([given])).toEqual([canonical]);
  });

  it('keeps the order and every entry', () => {
    expect(dnsOf(['10.0.0.1', '2001:DB8::53', '2001:db8::53'])).toEqual(['10.0.0.1', '2001:db8::53', '2001:db8::53']);
  });

  it('still refuses what is not an address', () => {
    for (const bad of ['2001:db8::g', '2001:db8:::1', '10.1', '1.2.3.4.5', '::ffff:1.2.3']) {
      expect(() => dnsOf([bad]), bad).toThrow(`invalid --dns "${bad}"`);
    }
  });

  it('refuses loopback in the stub modes however it is written (uncompressed, or IPv4 loopback mapped into IPv6)', () => {
    for (const loop of ['0:0:0:0:0:0:0:1', '::0001', '::ffff:127.0.0.1', '::FFFF:7f00:1', '127.1.2.3']) {
      expect(() => dnsOf([loop], 'glibc'), loop).toThrow(/is a loopback address/);
      expect(() => dnsOf([loop], 'musl'), loop).toThrow(/is a loopback address/);
      expect(dnsOf([loop], 'direct'), loop).toHaveLength(1);
    }
  });
});
