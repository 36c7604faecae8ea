// The bodies of `tsnet stub status` and `tsnet stub logs`: the status as text, and the timing log
// printed (and followed) line by line.
import { readFileSync, existsSync, statSync, openSync, readSync, closeSync } from 'node:fs';
import type { Deps } from '../deps.js';
import { logFiles } from '../stub/querylog.js';
import type { QueryLogLine } from '../stub/server.js';
import type { StubStatus } from '../stub/status.js';
import { presentName, safeJson, safeLine } from './escape.js';

export function renderStatus(s: StubStatus): string {
  if (!s.running) return 'stub: not running (create starts it for containers in dns-mode glibc or musl)\n';
  const out = [
    `stub: running, pid ${s.pid}, since ${s.started}, listening on ${s.addresses.map((a) => `${a}:53`).join(', ')}`,
    `networks:   ${s.networks.map((n) => `${n.name} (${n.subnet}, gateway ${n.gateway})`).join(', ')}`,
    `containers: ${s.containers.map((c) => `${c.name} ${c.address} ${c.mode}`).join(', ')}`,
  ];
  if (s.cni) {
    const ms = s.cni.ms;
    out.push(`cni:        ${s.cni.served} plugin requests run here (ADD, CHECK)${ms.of ? `, p50 ${ms.p50} ms, p90 ${ms.p90} ms of the last ${ms.of}` : ''}`);
  }
  const last = s.restarts.at(-1);
  if (last) out.push(`restarts:   ${s.restarts.length}, last at ${last.at} (the daemon before it was ${last.why})`);
  if (s.stats) {
    const st = s.stats;
    out.push(`queries:    ${st.queries} (local ${st.local}, forwarded ${st.forwarded}, cached ${st.cached}, refused ${st.refused}, over limits ${st.limited}, malformed ${st.malformed}, spoofed replies dropped ${st.spoofed})`);
    const sockets = st.upstreamSockets;
    if (sockets && sockets.made + sockets.reused > 0) out.push(`upstream sockets: ${sockets.made} made, ${sockets.reused} exchanges on a reused one`);
    for (const [server, h] of Object.entries(st.upstreams)) {
      out.push(`upstream ${server}: ${h.queries} queries, ${h.timeouts} timeouts, ${h.failures} failures, last rtt ${h.lastRttMs === null ? '-' : `${h.lastRttMs.toFixed(1)} ms`}`);
    }
  }
  if (s.queryLog && s.queryLog.droppedChars > 0) out.push(`query log:  ${s.queryLog.droppedChars} characters of lines dropped (writing failed and the queue was full)`);
  return out.map(safeLine).join('\n') + '\n';
}

/**
 * One log line for a human. The query name is the client's, byte for byte: it is printed the way
 * dig prints names (\DDD for every byte that is not printable ASCII, and for the backslash), and
 * whatever else the line holds is kept from acting on the terminal.
 */
function renderLine(l: QueryLogLine): string {
  const up = l.upstream.map((q) => `${q.server}/${q.transport}@${q.t_ms.toFixed(0)}ms:${q.outcome}`).join(' ');
  return `${safeLine(`${l.time}  ${(l.container ?? l.client).padEnd(16)} ${l.qtype.padEnd(5)} ${presentName(l.qname).padEnd(32)} ${l.rcode.padEnd(8)} ${l.latency_ms.toFixed(1).padStart(8)} ms  ${l.source}${up ? `  ${up}` : ''}`)}\n`;
}

export async function printLogs(deps: Deps, container: string | undefined, follow: boolean, json: boolean, print: (s: string) => void): Promise<void> {
  const emit = (text: string) => {
    for (const raw of text.split('\n')) {
      if (!raw) continue;
      let l: QueryLogLine;
      try {
        l = JSON.parse(raw);
      } catch {
        continue;
      }
      if (container !== undefined && l.container !== container) continue;
      print(json ? `${safeJson(raw)}\n` : renderLine(l));
    }
  };
  for (const f of logFiles(deps.paths.stubLog)) emit(readFileSync(f, 'utf8'));
  if (!follow) return;
  let pos = existsSync(deps.paths.stubLog) ? statSync(deps.paths.stubLog).size : 0;
  let partial = '';
  await new Promise<void>((done) => {
    const timer = setInterval(() => {
      if (!existsSync(deps.paths.stubLog)) return;
      const size = statSync(deps.paths.stubLog).size;
      if (size < pos) pos = 0; // rotated
      if (size === pos) return;
      const fd = openSync(deps.paths.stubLog, 'r');
      const buf = Buffer.alloc(size - pos);
      readSync(fd, buf, 0, buf.length, pos);
      closeSync(fd);
      pos = size;
      const text = partial + buf.toString('utf8');
      const cut = text.lastIndexOf('\n');
      partial = text.slice(cut + 1);
      emit(text.slice(0, cut + 1));
    }, 200);
    process.once('SIGINT', () => {
      clearInterval(timer);
      done();
    });
  });
}
