// tsnet fake-dns: options and help; the command's body is ./fake-dns.ts, imported lazily.
import type { Command } from 'commander';
import type { CliContext } from './context.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

const FAKE_DNS_HELP = `
Behaviours (comma-separated; the last base behaviour wins, AAAA rules and delay combine with it):
  answer             answer from the zone (default): records, CNAME chains inside the zone,
                     NXDOMAIN for unknown names, NODATA for a name without the asked type
  blackhole          receive and never reply
  closed             bind nothing: the kernel refuses (ICMP port unreachable, TCP RST)
  servfail, refused  reply SERVFAIL / REFUSED to everything
  nxdomain[:SUFFIX]  reply NXDOMAIN (only for SUFFIX and names under it, if given)
  truncate           UDP replies carry TC=1 and no answers; TCP answers in full
  truncate-partial   UDP replies carry TC=1 and the first half (rounded up) of the answers;
                     TCP answers in full
  formerr-edns       a server that predates EDNS: FORMERR to a query with an OPT record, the
                     usual answer without one
  wrong-port         UDP replies leave from another source port of the same address
  wrong-port-first   each UDP reply from another source port, then again from the right one
  auth:ZONE          authoritative for ZONE only (repeatable): a CNAME whose target lies outside
                     every such zone ends the answer (the client must chase it)
  nodata-aaaa        AAAA queries get an empty NOERROR reply
  drop-aaaa          AAAA queries get no reply at all
  servfail-aaaa      AAAA queries get SERVFAIL
  delay:MS           every reply is sent MS milliseconds late
  race-drop[:MS]     the conntrack race behind DNAT (Kubernetes' 5-second delays): of the first
                     two UDP packets from one client address and port, the second is dropped if
                     it arrives within MS ms (default 5) of the first; later packets pass (a
                     flow idle for 30 s is new again). race-drop:0 drops only packets that
                     arrive at one instant: the simulated network's model of a real node,
                     where fake-dns never drops (it sees no two packets at one instant)

Log: one JSON object per received query (dropped and malformed ones too), logged when it
arrives, before any delay:
  {"ts":<epoch ms>,"server":"10.0.0.53","transport":"udp","client_port":41234,"id":4711,
   "qname":"db.example","qtype":"A","action":"answer"}
action is one of answer, nodata, nxdomain, servfail, refused, truncate, truncate-partial,
formerr-edns, blackhole, drop-aaaa, servfail-aaaa, nodata-aaaa, race-drop, malformed; with wrong-port(-first)
a UDP reply's action carries "+wrong-port" or "+wrong-port-first".

Zone file: one "NAME TYPE VALUE" per line (TYPE A, AAAA, CNAME or TXT), '#' starts a comment.

Each listener serves UDP and TCP (2-byte length framing, several queries per connection, idle
connections closed after 10 s). Runs until SIGINT or SIGTERM, then exits 0.

Examples:
  tsnet fake-dns --listen 127.0.0.53:5353 --zone db.example=A:10.0.0.5
  tsnet fake-dns --netns /run/netns/lab --listen 10.0.0.53=delay:200,drop-aaaa \\
      --listen 10.0.0.54=closed --zone-file lab.zone --log queries.jsonl --ready-file /tmp/ready
`;

export function registerFakeDnsCommand(program: Command, ctx: CliContext): void {
  program
    .command('fake-dns')
    .description('run a fault-injecting authoritative DNS server (UDP + TCP) for reproductions and tests')
    .option('--listen <addr=behaviours>', 'listen on ADDR, ADDR:PORT or [V6]:PORT (default port 53) with these behaviours (default answer); repeatable', collect)
    .option('--zone <name=type:value>', 'a zone record, like db.example=A:10.0.0.5 (TYPE A, AAAA, CNAME, TXT); repeatable', collect)
    .option('--zone-file <file>', 'read zone records from a file (--zone entries are added on top)')
    .option('--log <file>', 'write the query log (JSON lines) to this file, truncating it; - = stdout', '-')
    .option('--netns <path>', 'enter this network namespace (like /run/netns/NAME) before binding')
    .option('--ready-file <file>', 'once every listener is bound, write the listening ADDR:PORTs to this file (removed again at exit)')
    .addHelpText('after', FAKE_DNS_HELP)
    .action(async (o: { listen?: string[]; zone?: string[]; zoneFile?: string; log?: string; netns?: string; readyFile?: string }) => {
      const { runFakeDns } = await import('./fake-dns.js');
      await runFakeDns(o, ctx);
    });
}
