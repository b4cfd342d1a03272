#!/usr/bin/env bash
# Issue 17, item 4 (first part): one process with 2 threads against mpirun -np 2 with 1 thread each, same global
# batch, on ML-1M-U3K (configs/ml-1m/hstu.json with example-seeded negatives and dropout masks, as mpirun requires).
# Prints tokens/s per epoch (over all ranks), the share of the training time spent in MPI calls and the bytes of
# the gradient all-reduce per step. Run alone on the machine.
# Usage: docs/results/distributed-runs.sh DATA_DIR OUT [EPOCHS]   (DATA_DIR: ../shared/data/ml-1m-u3k)
set -euo pipefail
data=$1; out=$2; epochs=${3:-2}
cli="dotnet src/GenRec.Cli/bin/Release/net10.0/GenRec.Cli.dll"
set_args=(--set training.exampleSeeded=true --set training.evalEvery=0 --epochs "$epochs")
mkdir -p "$out"
report() {   # name, summary JSON file
  python3 - "$1" "$2" <<'PY'
import json, sys
text = open(sys.argv[2]).read()
s = json.loads(text[text.index("{"):])   # under mpirun the terminal's mode sequences may precede the JSON
comm = s["communicationSeconds"]
train = sum(json.loads(l)["trainSeconds"] for l in open(s["runDirectory"] + "/metrics.jsonl"))
print(f"{sys.argv[1]}: {s['ranks']} rank(s), {s['tokensPerSecond']:,.0f} tokens/s (mean over epochs), "
      f"training {train:.1f} s, MPI {comm:.1f} s ({100 * comm / train:.0f} %), "
      f"gradient all-reduce {s['gradientBytesPerStep'] / 2**20:.2f} MiB per step, wall {s['wallSeconds']:.0f} s")
PY
}
rm -rf "$out/np1" "$out/np2"
$cli train --config configs/ml-1m/hstu.json --data "$data" --out "$out/np1" --threads 2 --json "${set_args[@]}" \
  > "$out/np1.json" 2> "$out/np1.log"
report "np=1, 2 threads" "$out/np1.json"
mpirun --allow-run-as-root --oversubscribe -np 2 $cli train --config configs/ml-1m/hstu.json --data "$data" \
  --out "$out/np2" --threads 1 --json "${set_args[@]}" > "$out/np2.json" 2> "$out/np2.log"
report "np=2, 1 thread each" "$out/np2.json"
