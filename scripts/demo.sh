#!/usr/bin/env bash
# The quick-start demo: installs what tsnet needs, builds it, and runs `tsnet demo` — a throwaway
# lab (private state root and subnet, fake upstream DNS servers inside it) that shows the classic
# DNS stalls diagnosed side by side, then removes everything (also on Ctrl-C).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "demo: needs root (namespaces, veth, mounts): sudo npm run demo" >&2; exit 2; }
bash scripts/setup.sh
npm run --silent build >&2
exec node dist/tsnet.js demo
