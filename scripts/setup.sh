#!/usr/bin/env bash
# Installs what tsnet and its tests need on Debian 12: system tools, then the npm dependencies.
# Idempotent and quiet when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
# The container engines (runtime-target tests run private ones), busybox-static (their root
# filesystems) and golang-go (Go programs for library detection).
for pair in ip:iproute2 setpriv:util-linux nsenter:util-linux getent:libc-bin dig:bind9-dnsutils musl-gcc:musl-tools gcc:gcc chromium:chromium \
  podman:podman runc:runc conmon:conmon ctr:containerd containerd:containerd dockerd:docker.io docker:docker.io busybox:busybox-static go:golang-go; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair#*:}")
done
/usr/bin/python3 -c 'import eventlet, dns' >/dev/null 2>&1 || need+=(python3-eventlet) # Debian's python, which the tests use
[ -x /usr/lib/cni/bridge ] || need+=(containernetworking-plugins)
if [ ${#need[@]} -gt 0 ]; then
  mapfile -t need < <(printf '%s\n' "${need[@]}" | sort -u)
  echo "setup: installing ${need[*]}" >&2
  # A package's postinst must not start its service (docker.io, containerd): the tests run their own.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}" >&2 \
    || { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}" >&2; }
  for pair in podman:podman ctr:containerd dockerd:docker.io busybox:busybox-static go:golang-go; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || { echo "setup: ${pair%%:*} is still missing after installing ${pair#*:}" >&2; exit 1; }
  done
fi

# npm ci only when node_modules is missing or older than the lockfile.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci" >&2
  npm ci --no-audit --no-fund >&2
fi
