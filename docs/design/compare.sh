#!/usr/bin/env bash
# Side-by-side benchmarks of two checkouts of GenRec (issue 14: "not slower"), alternating before/after so that drift
# of this VM hits both alike. Usage: docs/design/compare.sh BEFORE_DIR AFTER_DIR DATA_DIR [ROUNDS]
# Each checkout must be built: dotnet build BEFORE_DIR/src/GenRec.Cli -c Release (likewise AFTER_DIR).
set -euo pipefail
before=$1 after=$2 data=$3 rounds=${4:-2}
run() { dotnet "$1/src/GenRec.Cli/bin/Release/net10.0/GenRec.Cli.dll" "${@:2}"; }
read -r -d '' summary <<'PY' || true
import json, sys
kind, d = sys.argv[1], json.load(sys.stdin)
if kind == "train":
    print(f"{d['tokensPerSecond']:.0f} tok/s, median {d['medianStepSeconds']:.3f} s/step")
elif kind == "infer":
    r = ", ".join(f"{x['path']} p50 {x['p50Ms']:.2f} ms" for x in d["retrieval"])
    m = ", ".join(f"libtorch {x['candidatesPerSecond']:.0f} / lean {x['leanCandidatesPerSecond']:.0f} cand/s" for x in d["mFalcon"])
    print(f"retrieval {r}; M-FALCON {m}")
else:
    print(f"M-FALCON {d['mFalconSeconds'] * 1000:.1f} ms ({d['candidatesPerSecond']:.0f} cand/s, "
          f"{d['speedupVsPerCandidate']:.1f}x one forward per candidate, max diff {d['maxAbsDiffCached']:.1e})")
PY
for round in $(seq 1 "$rounds"); do
  for side in before after; do
    dir=${!side}
    echo "round $round $side bench train (hstu-fast, 12 steps): $(run "$dir" bench train --config "$dir/configs/ml-1m/hstu-fast.json" \
      --data "$data" --steps 12 --threads 2 --json 2>/dev/null | python3 -c "$summary" train)"
    echo "round $round $side bench infer (100K items, 1,024 candidates): $(run "$dir" bench infer --corpus 100000 --requests 200 \
      --candidates 1024 --threads 2 --json 2>/dev/null | python3 -c "$summary" infer)"
    echo "round $round $side bench mfalcon (200 history, 1,024 candidates): $(run "$dir" bench mfalcon --history 200 --candidates 1024 \
      --threads 2 --json 2>/dev/null | python3 -c "$summary" mfalcon)"
  done
done
