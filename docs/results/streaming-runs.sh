#!/usr/bin/env bash
# The streaming evaluation runs of docs/results/streaming.md, one after another (run alone on the machine).
# Usage: docs/results/streaming-runs.sh OUT [which...]
#   which: ml-1m ml-100k taobao taobao-category births (default: all)
# Each run writes OUT/NAME/streaming.json and streaming.png and prints its table to OUT/NAME.log.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:?usage: docs/results/streaming-runs.sh OUT [ml-1m ml-100k taobao births]}
shift
which=("${@:-ml-1m ml-100k taobao taobao-category births}")
data=../shared/data
cli="dotnet src/GenRec.Cli/bin/Release/net10.0/GenRec.Cli.dll"
mkdir -p "$out"
dotnet build src/GenRec.Cli -c Release -v q > /dev/null
run() {   # name, then stream-eval arguments
  local name=$1; shift
  { time $cli stream-eval --out "$out/$name" "$@"; } > "$out/$name.log" 2>&1
  tail -n 12 "$out/$name.log"
}
for w in ${which[@]}; do
  case $w in
    ml-1m) run ml-1m --config configs/ml-1m/hstu-fast.json --data "$data/ml-1m-u3k" --period week \
             --initial 0.8 --periods 6 --epochs 15 ;;
    ml-100k) run ml-100k --config configs/ml-100k/hstu.json --data "$data/ml-100k" --period week \
             --initial 0.8 --periods 7 --epochs 20 ;;
    taobao)
      [ -f "$out/taobao.csv" ] || awk -F, 'BEGIN{print "user,item,rating,timestamp"} {print $1","$2",1,"$5}' \
        "$data/taobao-userbehavior-sample/UserBehavior.head.csv" > "$out/taobao.csv"
      run taobao --config configs/ml-1m/hstu-fast.json --data "$out/taobao.csv" --period day --initial 0.5 \
        --periods 5 --epochs 20 ;;
    taobao-category)   # prepared with the category as an item feature (cold start); actions left out
      [ -d "$out/taobao-prepared" ] || $cli prepare --schema configs/taobao/schema.json \
        --data "$data/taobao-userbehavior-sample" --out "$out/taobao-prepared" > /dev/null
      run taobao-category --config configs/ml-1m/hstu-fast.json --data "$out/taobao-prepared" --period day \
        --initial 0.5 --periods 5 --epochs 20 --set features.actions=false
      for v in "2 0" "1 1" "3 1"; do
        set -- $v
        run taobao-category-s$1r$2 --config configs/ml-1m/hstu-fast.json --data "$out/taobao-prepared" \
          --period day --initial 0.5 --periods 5 --epochs 20 --set features.actions=false \
          --policies frozen,streaming --stream-epochs $1 --replay $2
      done ;;
    births)
      [ -f "$out/births.csv" ] || $cli generate-ratings --out "$out/births.csv" --users 3000 --items 3000 \
        --item-lifetime-days 60 --seed 11 > /dev/null
      run births --config configs/ml-1m/hstu-fast.json --data "$out/births.csv" --period week --initial 0.7 \
        --periods 8 --epochs 15 ;;
    *) echo "unknown run $w; expected ml-1m ml-100k taobao taobao-category births" >&2; exit 2 ;;
  esac
done
