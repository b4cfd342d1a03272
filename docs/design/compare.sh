#!/usr/bin/env bash
# Side-by-side benchmarks of two checkouts of GenRec (issue 14: "not slower"), alternating before/after so that drift
# of this VM hits both alike. Usage: docs/design/compare.sh BEFORE_DIR AFTER_DIR DATA_DIR [ROUNDS]
# Each checkout must be built: dotnet build BEFORE_DIR/src/GenRec.Cli -c Release (likewise AFTER_DIR).
set -euo pipefail
before=$1 after=$2 data=$3 rounds=${4:-2}
run() { dotnet "$1/src/GenRec.Cli/bin/Release/net10.0/GenRec.Cli.dll" "${@:2}"; }
for round in $(seq 1 "$rounds"); do
  for side in before after; do
    dir=${!side}
    t=$(run "$dir" bench train --config "$dir/configs/ml-1m/hstu-fast.json" --data "$data" --steps 12 --threads 2 --json 2>/dev/null \
      | python3 -c 'import json,sys; d=json.load(sys.stdin); print(f"{d[\"tokensPerSecond\"]:.0f} tok/s, {d[\"medianStepSeconds\"]:.3f} s/step")')
    echo "round $round $side bench train (hstu-fast, 12 steps): $t"
    i=$(run "$dir" bench infer --corpus 100000 --requests 200 --candidates 1024 --threads 2 --json 2>/dev/null | python3 -c '
import json,sys; d=json.load(sys.stdin); print(json.dumps(d)[:900])')
    echo "round $round $side bench infer (100K items, 1,024 candidates): $i"
    m=$(run "$dir" bench mfalcon --history 200 --candidates 1024 --threads 2 --json 2>/dev/null | python3 -c '
import json,sys; d=json.load(sys.stdin); print(json.dumps(d)[:600])')
    echo "round $round $side bench mfalcon (200 history, 1,024 candidates): $m"
  done
done
