#!/bin/bash
# Training-parity runs of docs/results/parity.md: GenRec's HSTU and SASRec (both SASRec layouts) on every dataset
# at hand, one run after another. Usage: docs/results/parity-runs.sh OUT_DIR [GENREC_DLL]
# Needs ../shared/data (ML-100K, the Taobao sample, ML-1M-U3K); the generated catalog is made here.
set -euo pipefail
out=${1:?usage: parity-runs.sh OUT_DIR [GENREC_DLL]}
dll=${2:-src/GenRec.Cli/bin/Release/net10.0/GenRec.Cli.dll}
data=../shared/data
mkdir -p "$out"
g() { dotnet "$dll" "$@"; }
run() {  # name data epochs evalEvery config [--set ...]
  local name=$1 d=$2 epochs=$3 every=$4 config=$5; shift 5
  [ -f "$out/$name/metrics.jsonl" ] && [ -f "$out/$name.done" ] && return 0
  /usr/bin/time -v dotnet "$dll" train --config "$config" --data "$d" --epochs "$epochs" \
    --set training.evalEvery="$every" "$@" --out "$out/$name" --json > "$out/$name.json" 2> "$out/$name.err"
  touch "$out/$name.done"
}
# Generated: a sparse long-tail catalog (24,127 rated of 30,000 items, median 2 events per item).
[ -f "$out/sparse.csv" ] || g generate-ratings --out "$out/sparse.csv" --users 4000 --items 30000 --interests 300 \
  --min-length 10 --max-length 60 --seed 11
# Taobao sample as items only: every behaviour an event, the rating column constant.
[ -f "$out/taobao.csv" ] || awk -F, 'BEGIN{print "user,item,rating,timestamp"} {print $1","$2",1,"$5}' \
  "$data/taobao-userbehavior-sample/UserBehavior.head.csv" > "$out/taobao.csv"
for m in hstu sasrec-official sasrec-kang2018; do
  case $m in
    hstu) cfg=hstu; set=();;
    sasrec-official) cfg=sasrec; set=(--set model.sasRecLayout=official);;
    sasrec-kang2018) cfg=sasrec; set=(--set model.sasRecLayout=kang2018);;
  esac
  run "sparse-$m" "$out/sparse.csv" 40 5 "configs/ml-1m/$cfg.json" "${set[@]}"
  run "ml100k-$m" "$data/ml-100k" 101 10 "configs/ml-100k/$cfg.json" "${set[@]}"
  run "taobao-$m" "$out/taobao.csv" 20 5 "configs/ml-1m/$cfg.json" "${set[@]}"
done
for layout in official kang2018; do
  run "ml1m-sasrec-$layout" "$data/ml-1m-u3k" 30 5 configs/ml-1m/sasrec.json --set model.sasRecLayout=$layout
done
# The table: HR@10 / NDCG@10 / MRR at every evaluated epoch.
for f in "$out"/*/metrics.jsonl; do
  python3 - "$f" <<'PY'
import json, sys
name = sys.argv[1].split('/')[-2]
for line in open(sys.argv[1]):
    r = json.loads(line)
    m = r.get('metrics')
    if m: print(f"{name}\t{r['epoch']}\t{m['hr10']:.4f}\t{m['ndcg10']:.4f}\t{m['mrr']:.4f}\t{m['hr200']:.4f}")
PY
done
