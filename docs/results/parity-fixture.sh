#!/bin/bash
# GenRec trained exactly as the official fixture's model was (its data, configs/ml-1m/hstu.json, 5 epochs), over
# several seeds, beside the official run's metrics (tests/fixtures/official-hstu/metrics.json).
# Usage: docs/results/parity-fixture.sh OUT_DIR [GENREC_DLL] [SEEDS...]
set -euo pipefail
out=${1:?usage: parity-fixture.sh OUT_DIR [GENREC_DLL] [SEEDS...]}
dll=${2:-src/GenRec.Cli/bin/Release/net10.0/GenRec.Cli.dll}
shift $(( $# >= 2 ? 2 : 1 ))
seeds=${*:-42 1 2 3 4 5 6 7}
fx=tests/fixtures/official-hstu
mkdir -p "$out"
for s in $seeds; do
  dotnet "$dll" train --config configs/ml-1m/hstu.json --data $fx/data/ml-1m --epochs 5 --set training.seed=$s \
    --set training.evalEvery=5 --out "$out/seed$s" --json > "$out/seed$s.json" 2> "$out/seed$s.err"
done
python3 - "$out" $seeds <<'PY'
import json, sys, statistics as st
out, seeds = sys.argv[1], sys.argv[2:]
off = json.load(open('tests/fixtures/official-hstu/metrics.json'))
rows = []
for s in seeds:
    last = [json.loads(l) for l in open(f'{out}/seed{s}/metrics.jsonl')][-1]['metrics']
    rows.append(last)
    print(f"GenRec seed {s}\t{last['hr10']:.4f}\t{last['ndcg10']:.4f}\t{last['hr50']:.4f}\t{last['mrr']:.4f}")
for k, o in [('hr10', 'HR@10'), ('ndcg10', 'NDCG@10'), ('hr50', 'HR@50'), ('mrr', 'MRR')]:
    v = [r[k] for r in rows]
    print(f"{o}: GenRec mean {st.mean(v):.4f} (sd {st.stdev(v):.4f}, min {min(v):.4f}, max {max(v):.4f}); official {off[o]:.4f}")
PY
