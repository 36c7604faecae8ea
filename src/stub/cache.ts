// An optional answer cache (RFC 2308 for negative answers). Off by default: in glibc/musl modes
// a cached answer would hide the upstream timing the container is meant to live through.
import * as dnsPacket from 'dns-packet';

interface Entry {
  bytes: Buffer;
  stored: number;
  expires: number;
}

/** The cached reply with its TTLs counted down by the time it has spent in the cache. */
function aged(bytes: Buffer, elapsedS: number): Buffer {
  if (elapsedS < 1) return bytes;
  try {
    const p = dnsPacket.decode(bytes);
    const age = (rrs: dnsPacket.Answer[] | undefined) =>
      rrs?.map((a) => (a.type === 'OPT' ? a : { ...a, ttl: Math.max(0, ((a as { ttl?: number }).ttl ?? 0) - elapsedS) })) as dnsPacket.Answer[] | undefined;
    return dnsPacket.encode({ ...p, answers: age(p.answers) ?? [], authorities: age(p.authorities) ?? [], additionals: p.additionals ?? [] });
  } catch {
    return bytes;
  }
}

const NEGATIVE_DEFAULT_S = 60;

/** Seconds a reply may be cached: the smallest answer TTL; for NXDOMAIN/NODATA the SOA minimum. */
export function cacheTtl(bytes: Buffer): number | undefined {
  let p: dnsPacket.Packet;
  try {
    p = dnsPacket.decode(bytes);
  } catch {
    return undefined;
  }
  const rcode = (p.flags ?? 0) & 0xf;
  if ((p.flags ?? 0) & dnsPacket.TRUNCATED_RESPONSE) return undefined;
  const answers = (p.answers ?? []) as Array<{ ttl?: number }>;
  if (rcode === 0 && answers.length > 0) return Math.min(...answers.map((a) => a.ttl ?? 0));
  if (rcode === 0 || rcode === 3) {
    const soa = (p.authorities ?? []).find((a) => a.type === 'SOA') as { ttl?: number; data?: { minimum?: number } } | undefined;
    return soa ? Math.min(soa.ttl ?? 0, soa.data?.minimum ?? 0) : NEGATIVE_DEFAULT_S;
  }
  return undefined; // SERVFAIL and friends are never cached
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
    return aged(e.bytes, Math.floor((now - e.stored) / 1000));
  }

  put(key: string, bytes: Buffer, now: number): void {
    const ttl = cacheTtl(bytes);
    if (ttl === undefined || ttl <= 0) return;
    this.map.delete(key);
    this.map.set(key, { bytes, stored: now, expires: now + ttl * 1000 });
    while (this.map.size > this.size) this.map.delete(this.map.keys().next().value!);
  }
}
