#!/usr/bin/env bash
# Incremental training on ML-1M-U3K as an operator runs it (issue 16): the first 90 % of the events (by time) are the
# base dataset and train a model; the last 10 % arrive as an event log (user, item, timestamp) that only grows; each
# week of it is one `genrec train --resume RUN --events LOG` update that publishes a model for `serve --watch`.
# Prints, per update, the events, items admitted, wall seconds and the item table's memory, beside the base training.
# Usage: docs/results/freshness-runs.sh DATA_DIR OUT_DIR [WEEKS]   (DATA_DIR: ../shared/data/ml-1m-u3k)
set -euo pipefail
data=$1; out=$2; weeks=${3:-8}
genrec="dotnet src/GenRec.Cli/bin/Release/net10.0/GenRec.Cli.dll"
mkdir -p "$out/base"
cp "$data/movies.dat" "$out/base/"
# The 90 % time quantile splits the log; later events become the log file, in time order (its line numbers are the
# sequence numbers the watermark counts).
cut_ts=$(awk -F'::' '{print $4}' "$data/ratings.dat" | sort -n | awk '{a[NR]=$1} END {print a[int(NR*0.9)]}')
awk -F'::' -v t="$cut_ts" '$4 < t' "$data/ratings.dat" > "$out/base/ratings.dat"
{ printf 'user\titem\ttimestamp\n'; awk -F'::' -v t="$cut_ts" '$4 >= t {print $1"\t"$2"\t"$4}' "$data/ratings.dat" \
    | sort -t$'\t' -k3,3n -s; } > "$out/events.tsv"
echo "base: $(wc -l < "$out/base/ratings.dat") events before $(date -u -d @"$cut_ts" +%F); log: $(($(wc -l < "$out/events.tsv") - 1)) events"
start=$(date +%s.%N)
$genrec train --config configs/ml-1m/hstu-fast.json --data "$out/base" --out "$out/run" --epochs 20 \
    --set training.evalEvery=0 --threads 2 > "$out/base-train.log" 2>&1
echo "base training, 20 epochs: $(echo "$(date +%s.%N) - $start" | bc) s"
# Week boundaries of the log: the number of events in each week after the cut.
mapfile -t counts < <(awk -F'\t' -v t="$cut_ts" 'NR > 1 {w = int(($3 - t) / 604800); n[w]++; if (w > m) m = w}
    END {for (i = 0; i <= m; i++) print n[i] + 0}' "$out/events.tsv")
for ((w = 0; w < weeks && w < ${#counts[@]}; w++)); do
    n=${counts[$w]}
    if ((n == 0)); then echo "week $((w + 1)): no events"; continue; fi
    start=$(date +%s.%N)
    $genrec train --resume "$out/run" --data "$out/base" --events "$out/events.tsv" --max-events "$n" \
        --publish "$out/published" --threads 2 --json > "$out/update-$w.json" 2> "$out/update-$w.log"
    wall=$(echo "$(date +%s.%N) - $start" | bc)
    python3 - "$out/update-$w.json" "$w" "$wall" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"week {int(sys.argv[2]) + 1}: {r['events']} events ({r['targets']} targets), {r['itemsAdmitted']} items admitted, "
      f"{r['items']} known, table {r['tableRows']} rows / {r['tableBytes'] / 2**20:.2f} MiB, "
      f"{r['steps']} steps in {r['seconds']:.1f} s (process {float(sys.argv[3]):.1f} s), watermark {r['to']}")
PY
done
ls "$out/published"
