// node_lookup: the reference Node.js client of the fidelity suite (test/fidelity).
//
//   node node_lookup.mjs NAME [any|inet|inet6] [canon|nocanon] [REPEAT] [PAUSE_MS] [CONCURRENCY]
//
// What a typical Node program does for a name (http.get, net.connect: they call dns.lookup):
// dns.lookup(NAME, { all: true, family: 0|4|6, verbatim: true }) — getaddrinfo(3) of the C library
// Node is linked against, run on libuv's threadpool (UV_THREADPOOL_SIZE threads, default 4; a
// lookup waits in the pool's queue while every thread is busy). verbatim: the addresses in the
// order getaddrinfo returned them (no IPv4-first reordering).
//
// REPEAT rounds (default 1), PAUSE_MS (default 0) apart; each round starts CONCURRENCY (default
// 1) lookups of NAME at once and waits for all of them. One JSON line per lookup, in completion
// order, the same shape as gai.c:
//   {"addresses":[...],"error":null|"EAI_NONAME"|"EAI_AGAIN"|...,"canonname":null,
//    "start_ms":<wall clock ms with µs>,"elapsed_ms":<monotonic ms>}
// plus "round" and "index" (which lookup of which round, from 1) when CONCURRENCY > 1.
// start_ms is when dns.lookup was called — the time a queued lookup spends waiting for a pool
// thread is part of its elapsed_ms.
//
// canonname: always null (dns.lookup has no AI_CANONNAME; `canon` is accepted and ignored).
// Errors: Node reports EAI_NONAME and EAI_NODATA both as ENOTFOUND (lib/internal/errors.js
// dnsException), printed here as EAI_NONAME; other getaddrinfo codes (EAI_AGAIN, EAI_FAIL, ...)
// as they are; anything else by its code.
import dns from 'node:dns';
import { performance } from 'node:perf_hooks';

const FAMILIES = { any: 0, inet: 4, inet6: 6 };

function main(argv) {
  if (argv.length < 1) {
    process.stderr.write('usage: node_lookup.mjs NAME [any|inet|inet6] [canon|nocanon] [REPEAT] [PAUSE_MS] [CONCURRENCY]\n');
    return Promise.resolve(2);
  }
  const [name, fam = 'any', , rep = '1', pause = '0', conc = '1'] = argv;
  if (!(fam in FAMILIES)) {
    process.stderr.write('node_lookup: family must be any, inet or inet6\n');
    return Promise.resolve(2);
  }
  const family = FAMILIES[fam];
  const repeat = Math.max(1, Number.parseInt(rep, 10) || 1);
  const pauseMs = Math.max(0, Number.parseInt(pause, 10) || 0);
  const concurrency = Math.max(1, Number.parseInt(conc, 10) || 1);

  const one = (round, index) =>
    new Promise((done) => {
      const t0 = performance.now();
      const startMs = performance.timeOrigin + t0;
      dns.lookup(name, { all: true, family, verbatim: true }, (err, addrs) => {
        const elapsed = performance.now() - t0;
        const line = {
          addresses: err ? [] : addrs.map((a) => a.address),
          error: err ? (err.code === 'ENOTFOUND' ? 'EAI_NONAME' : String(err.code ?? err.name)) : null,
          canonname: null,
          start_ms: Math.round(startMs * 1000) / 1000,
          elapsed_ms: Math.round(elapsed * 1000) / 1000,
          ...(concurrency > 1 ? { round, index } : {}),
        };
        process.stdout.write(JSON.stringify(line) + '\n');
        done();
      });
    });

  return (async () => {
    for (let r = 1; r <= repeat; r++) {
      if (r > 1 && pauseMs > 0) await new Promise((w) => setTimeout(w, pauseMs));
      await Promise.all(Array.from({ length: concurrency }, (_, i) => one(r, i + 1)));
    }
    return 0;
  })();
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
