#!/usr/bin/env bash
# The quick-start demo: two containers on a private network reach each other over UDP and
# resolve each other's --add-host names through real glibc (getent), then everything is removed.
# Runs in a private state root with its own subnet; cleans up on exit and on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "demo: needs root (namespaces, veth, mounts): sudo npm run demo" >&2; exit 2; }
bash scripts/setup.sh
npm run --silent build >&2

root=$(mktemp -d /tmp/tsnet-demo.XXXXXX)
tsnet() { node dist/tsnet.js --root "$root" "$@"; }
cleanup() {
  trap - EXIT INT TERM
  tsnet rm demo-a demo-b >/dev/null 2>&1 || true
  tsnet prune >/dev/null 2>&1 || true
  rmdir "$root/containers" "$root/networks" "$root" 2>/dev/null || true
}
trap cleanup EXIT INT TERM

# A subnet no one on this host uses yet.
for third in $(seq 10 250); do
  subnet="10.89.$third.0/24"
  ip -4 route show | grep -q "^10\.89\.$third\." || break
done
a="10.89.$third.10"; b="10.89.$third.11"
if [ -t 1 ]; then step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }; else step() { printf '\n$ %s\n' "$*"; }; fi

# The nameserver is each container's own loopback: nothing listens there, so no DNS query ever
# leaves the container (names below are answered from the container's hosts file).
step tsnet create demo-a --subnet "$subnet" --ip "$a" --add-host "db.internal:$b" --dns 127.0.0.1
tsnet create demo-a --subnet "$subnet" --ip "$a" --add-host "db.internal:$b" --dns 127.0.0.1
step tsnet create demo-b --ip "$b" --hostname db.internal --add-host "app.internal:$a" --dns 127.0.0.1 --dns-mode musl
tsnet create demo-b --ip "$b" --hostname db.internal --add-host "app.internal:$a" --dns 127.0.0.1 --dns-mode musl
step tsnet ls
tsnet ls

step tsnet exec demo-a -- getent hosts db.internal
tsnet exec demo-a -- getent hosts db.internal
step tsnet exec demo-b -- getent hosts app.internal
tsnet exec demo-b -- getent hosts app.internal
step tsnet exec demo-b -- hostname
tsnet exec demo-b -- hostname

udp_server='const s=require("dgram").createSocket("udp4");s.on("message",(m,r)=>s.send("pong to "+r.address,r.port,r.address,()=>s.close()));s.bind(7777)'
udp_client='const s=require("dgram").createSocket("udp4");s.on("message",m=>{console.log(m.toString());s.close()});require("dns").lookup(process.argv[1],{family:4},(e,ip)=>{if(e)throw e;s.send("ping",7777,ip)});setTimeout(()=>process.exit(1),3000).unref()'
for pair in "demo-a demo-b app.internal" "demo-b demo-a db.internal"; do
  set -- $pair
  step "tsnet exec $1 -- node (UDP server on :7777)  &  tsnet exec $2 -- node (UDP client to $3)"
  tsnet exec "$1" -- node -e "$udp_server" & server=$!
  sleep 0.3
  tsnet exec "$2" -- node -e "$udp_client" "$3"
  wait $server
done

step tsnet rm demo-a demo-b
tsnet rm demo-a demo-b
cleanup
left=$( { ls /run/netns 2>/dev/null | grep '^tsnet-demo-' || true; grep -F "$root" /proc/self/mountinfo || true; if [ -e "$root" ]; then echo "$root"; fi; } )
if [ -n "$left" ]; then echo "demo: left behind: $left" >&2; exit 1; fi
echo
echo "demo: done; nothing left behind (no namespace, veth, bridge, mount or state file)."
