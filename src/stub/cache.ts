// An optional answer cache (RFC 2308 for negative answers). Off by default: in glibc/musl modes
// a cached answer would hide the upstream timing the container is meant to live through.
import * as dnsPacket from 'dns-packet';

interface Entry {
  bytes: Buffer;
  stored: number;
  expires: number;
  /** where its TTLs are (ttlOffsets) */
  ttls: number[];
  /** the reply as aged by `agedS` whole seconds: rebuilt once a second, not once a hit */
  agedS: number;
  aged: Buffer;
}

/**
 * Where each record's TTL sits in a reply (OPT's TTL field is flags: left out), by a walk over
 * its sections; undefined when the message does not parse. Aging a cached reply is then a copy
 * and a few writes: decoding and re-encoding it with dns-packet once a second per entry (~30 us
 * each) stalled a 1000-name cache under 10k queries/s (p99 2.5 ms against 0.4 ms for local names).
 */
export function ttlOffsets(b: Buffer): number[] | undefined {
  if (b.length < 12) return undefined;
  const skipName = (at: number): number => {
    for (let hops = 0; hops < 128; hops++) {
      if (at >= b.length) return -1;
      const len = b[at]!;
      if (len === 0) return at + 1;
      if ((len & 0xc0) === 0xc0) return at + 2 <= b.length ? at + 2 : -1;
      if (len > 63) return -1;
      at += 1 + len;
    }
    return -1;
  };
  let at = 12;
  for (let q = b.readUInt16BE(4); q > 0; q--) {
    at = skipName(at);
    if (at < 0 || at + 4 > b.length) return undefined;
    at += 4;
  }
  const out: number[] = [];
  const records = b.readUInt16BE(6) + b.readUInt16BE(8) + b.readUInt16BE(10);
  for (let r = 0; r < records; r++) {
    at = skipName(at);
    if (at < 0 || at + 10 > b.length) return undefined;
    if (b.readUInt16BE(at) !== 41) out.push(at + 4);
    at += 10 + b.readUInt16BE(at + 8);
    if (at > b.length) return undefined;
  }
  return out;
}

/** The cached reply with its TTLs counted down by the time it has spent in the cache. */
function aged(bytes: Buffer, offsets: readonly number[], elapsedS: number): Buffer {
  if (elapsedS < 1 || offsets.length === 0) return bytes;
  const out = Buffer.from(bytes);
  for (const at of offsets) out.writeUInt32BE(Math.max(0, out.readUInt32BE(at) - elapsedS), at);
  return out;
}

const NEGATIVE_DEFAULT_S = 60;

/**
 * An upstream's TTL is believed up to a day for answers and an hour for negative answers:
 * unbound's cache-max-ttl and cache-max-negative-ttl defaults (dnsmasq has max-cache-ttl and
 * neg-ttl, unset by default). A poisoned or mistaken record then lives a day at most, and the
 * client is told no longer than the cache will keep it.
 */
export const MAX_TTL_S = 86_400;
export const MAX_NEGATIVE_TTL_S = 3_600;

/** How long a decoded reply may be cached, and the cap its records' TTLs are held to. */
function policy(p: dnsPacket.Packet): { ttl: number; cap: number } | undefined {
  const rcode = (p.flags ?? 0) & 0xf;
  if ((p.flags ?? 0) & dnsPacket.TRUNCATED_RESPONSE) return undefined;
  const answers = (p.answers ?? []) as Array<{ ttl?: number }>;
  if (rcode === 0 && answers.length > 0) return { ttl: Math.min(MAX_TTL_S, ...answers.map((a) => a.ttl ?? 0)), cap: MAX_TTL_S };
  if (rcode === 0 || rcode === 3) {
    const soa = (p.authorities ?? []).find((a) => a.type === 'SOA') as { ttl?: number; data?: { minimum?: number } } | undefined;
    const ttl = soa ? Math.min(soa.ttl ?? 0, soa.data?.minimum ?? 0) : NEGATIVE_DEFAULT_S;
    return { ttl: Math.min(ttl, MAX_NEGATIVE_TTL_S), cap: MAX_NEGATIVE_TTL_S };
  }
  return undefined; // SERVFAIL and friends are never cached
}

/** Seconds a reply may be cached: the smallest answer TTL; for NXDOMAIN/NODATA the SOA minimum; capped. */
export function cacheTtl(bytes: Buffer): number | undefined {
  try {
    return policy(dnsPacket.decode(bytes))?.ttl;
  } catch {
    return undefined;
  }
}

/** The reply with every record's TTL at most `cap` (OPT's TTL field is flags, not a TTL); undefined if it cannot be rebuilt. */
function capped(p: dnsPacket.Packet, bytes: Buffer, cap: number): Buffer | undefined {
  const sections = [p.answers, p.authorities, p.additionals] as Array<Array<{ type: string; ttl?: number }> | undefined>;
  if (!sections.some((rrs) => rrs?.some((a) => a.type !== 'OPT' && (a.ttl ?? 0) > cap))) return bytes;
  const cut = (rrs: dnsPacket.Answer[] | undefined) =>
    (rrs ?? []).map((a) => (a.type === 'OPT' ? a : { ...a, ttl: Math.min((a as { ttl?: number }).ttl ?? 0, cap) })) as dnsPacket.Answer[];
  try {
    return dnsPacket.encode({ ...p, answers: cut(p.answers), authorities: cut(p.authorities), additionals: cut(p.additionals) });
  } catch {
    return undefined;
  }
}

export class AnswerCache {
  private readonly map = new Map<string, Entry>();
  hits = 0;
  misses = 0;

  constructor(private readonly size: number) {}

  get(key: string, now: number): Buffer | undefined {
    const e = this.map.get(key);
    if (!e || e.expires <= now) {
      if (e) this.map.delete(key);
      this.misses++;
      return undefined;
    }
    this.map.delete(key); // refresh LRU position
    this.map.set(key, e);
    this.hits++;
    const s = Math.floor((now - e.stored) / 1000);
    if (s !== e.agedS) {
      e.agedS = s;
      e.aged = aged(e.bytes, e.ttls, s);
    }
    return e.aged;
  }

  put(key: string, bytes: Buffer, now: number): void {
    let p: dnsPacket.Packet;
    try {
      p = dnsPacket.decode(bytes);
    } catch {
      return;
    }
    const pol = policy(p);
    if (pol === undefined || pol.ttl <= 0) return;
    const stored = capped(p, bytes, pol.cap);
    const ttls = stored && ttlOffsets(stored);
    if (!stored || !ttls) return;
    this.map.delete(key);
    this.map.set(key, { bytes: stored, stored: now, expires: now + pol.ttl * 1000, ttls, agedS: 0, aged: stored });
    while (this.map.size > this.size) this.map.delete(this.map.keys().next().value!);
  }
}
