#!/usr/bin/env bash
# Two "hosts" on one Linux machine: network namespaces genrec-a and genrec-b joined by a veth pair (10.77.0.1 and
# 10.77.0.2, addresses of these test hosts only), and an Open MPI job across them driven by a hostfile, exactly as on
# two machines except that the remote daemon is started with `ip netns exec` (netns-agent.sh) instead of ssh. MPI
# traffic is restricted to TCP over the veth (no shared memory), so the bytes really cross a network interface.
# Needs root (ip netns), mpirun and a built GenRec.Cli.dll.
# Usage: deploy/mpi/two-hosts-netns.sh up | down | run ARGS…   (run: mpirun -np 2 across the two hosts, ARGS to genrec)
# Example: deploy/mpi/two-hosts-netns.sh up && deploy/mpi/two-hosts-netns.sh run bench allreduce; …/two-hosts-netns.sh down
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cli=${GENREC_CLI:-$here/../../src/GenRec.Cli/bin/Release/net10.0/GenRec.Cli.dll}
case "${1:-}" in
  up)
    "$0" down > /dev/null   # a previous run's hosts, if any
    ip netns add genrec-a
    ip netns add genrec-b
    ip link add genrec-va type veth peer name genrec-vb
    ip link set genrec-va netns genrec-a
    ip link set genrec-vb netns genrec-b
    ip -n genrec-a addr add 10.77.0.1/24 dev genrec-va
    ip -n genrec-b addr add 10.77.0.2/24 dev genrec-vb
    for ns in genrec-a genrec-b; do ip -n $ns link set lo up; done
    ip -n genrec-a link set genrec-va up
    ip -n genrec-b link set genrec-vb up
    # Reachability without ping (not on minimal images): bash opens a TCP connection; "refused" means reachable.
    for try in 1 2 3 4 5 6 7 8 9 10; do
      answer=$(ip netns exec genrec-a timeout 2 bash -c "exec 3<>/dev/tcp/10.77.0.2/9" 2>&1 || true)
      if [[ $answer == *refused* ]]; then break; fi
      [ "$try" = 10 ] && { echo "10.77.0.2 is not reachable from genrec-a" >&2; exit 1; }
      sleep 0.5   # the link may need a moment after it comes up
    done
    echo "hosts up: 10.77.0.1 (genrec-a), 10.77.0.2 (genrec-b)"
    ;;
  down)
    ip netns del genrec-a 2> /dev/null || true
    ip netns del genrec-b 2> /dev/null || true
    echo "hosts down"
    ;;
  run)
    shift
    hostfile=$(mktemp)
    trap 'rm -f "$hostfile"' EXIT
    printf '10.77.0.1 slots=1\n10.77.0.2 slots=1\n' > "$hostfile"
    # mpirun starts in genrec-a (10.77.0.1 is local there) and reaches 10.77.0.2 through the agent, as through ssh.
    ip netns exec genrec-a mpirun --allow-run-as-root -np 2 --hostfile "$hostfile" \
      --mca plm_rsh_agent "$here/netns-agent.sh" \
      --mca btl tcp,self --mca btl_tcp_if_include 10.77.0.0/24 --mca oob_tcp_if_include 10.77.0.0/24 \
      -x PATH -x HOME ${DOTNET_ROOT:+-x DOTNET_ROOT} \
      dotnet "$cli" "$@"
    ;;
  *)
    echo "usage: $0 up | down | run GENREC_ARGS…" >&2
    exit 2
    ;;
esac
