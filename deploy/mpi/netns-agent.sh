#!/usr/bin/env bash
# Open MPI's remote-shell agent for two-hosts-netns.sh: called as `netns-agent.sh [ssh options] HOST COMMAND…` where
# ssh would be; runs COMMAND in the namespace that owns HOST's address.
set -euo pipefail
while [[ "${1:-}" == -* ]]; do shift; done   # ssh options Open MPI may pass (-x and the like)
host=$1; shift
case "$host" in
  10.77.0.1) ns=genrec-a ;;
  10.77.0.2) ns=genrec-b ;;
  *) echo "netns-agent.sh: unknown test host $host (expected 10.77.0.1 or 10.77.0.2)" >&2; exit 1 ;;
esac
exec ip netns exec "$ns" /bin/sh -c "$*"
