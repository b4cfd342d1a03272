#!/usr/bin/env bash
# Issue 17, item 3: training steps on a generated catalog of 10 million items (HSTU at the ML-1M width: D = 50, two
# layers, batch 32 × 200, 128 negatives per position), the item table replicated in one process (2 threads) against
# sharded over mpirun -np 2 (1 thread each). Prints, per rank: bytes held for the table and its AdamW moments, peak
# RSS, median step, tokens/s, bytes exchanged per step and the share of time in MPI. Run alone on the machine; it
# needs about 20 GiB of memory. GENREC_CLI names another build of GenRec.Cli.dll.
# Usage: docs/results/item-table-runs.sh OUT [ITEMS] [STEPS]
set -euo pipefail
out=$1; items=${2:-10000000}; steps=${3:-5}
cli="dotnet ${GENREC_CLI:-src/GenRec.Cli/bin/Release/net10.0/GenRec.Cli.dll}"
mkdir -p "$out"
run() {   # name, then the command
  local name=$1; shift
  local start=$SECONDS
  if "$@" > "$out/$name.txt" 2>&1; then grep -v "^generated" "$out/$name.txt" | sed 's/\x1b\[[?0-9;]*[a-zA-Z=]//g; s/\x1b=//g'
  else echo "$name: failed (exit $?), see $out/$name.txt"; tail -3 "$out/$name.txt"; fi
  echo "  ($name: wall $((SECONDS - start)) s)"
}
common=(--items "$items" --steps "$steps" --warmup 1 --set training.batchSize=32)
run sharded-np2 mpirun --allow-run-as-root --oversubscribe -np 2 $cli bench item-table "${common[@]}" --threads 1 \
  --shard
run replicated-np1 $cli bench item-table "${common[@]}" --threads 2
