#!/usr/bin/env bash
# Training throughput alone and beside one CPU-bound process (a shell busy loop), for each way libtorch's OpenMP
# threads may wait, side by side in one script (issue 18, "Throughput on a shared machine"). Run it on an otherwise
# quiet machine. Usage: docs/results/shared-cpu.sh ML-1M-U3K-FOLDER [STEPS] [ROUNDS]
# One line per run: config, setting, neighbour, median seconds per step, tokens per second.
set -euo pipefail
cd "$(dirname "$0")/../.."
data=${1:?usage: docs/results/shared-cpu.sh ML-1M-U3K-FOLDER [STEPS] [ROUNDS]}
steps=${2:-12}
rounds=${3:-2}
cli="dotnet src/GenRec.Cli/bin/Release/net10.0/GenRec.Cli.dll"
dotnet build src/GenRec.Cli -c Release -v q > /dev/null
echo "machine: $(nproc) logical cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(date -u +%FT%TZ)"
run() {   # config, setting, neighbour (alone|busy), then env assignments and extra arguments
  local config=$1 setting=$2 neighbour=$3; shift 3
  local envs=() args=()
  for a in "$@"; do if [[ $a == *=* ]]; then envs+=("$a"); else args+=("$a"); fi; done
  local busy=""
  if [ "$neighbour" = busy ]; then sh -c 'while :; do :; done' & busy=$!; fi
  local out
  out=$(env "${envs[@]}" $cli bench train --config "$config" --data "$data" --steps "$steps" --warmup 2 --json \
    "${args[@]}" 2>/dev/null)
  if [ -n "$busy" ]; then kill "$busy"; wait "$busy" 2>/dev/null || true; fi
  python3 -c '
import json, sys
r = json.loads(sys.argv[1])
step, rate = r["medianStepSeconds"], r["tokensPerSecond"]
print(f"{sys.argv[2]:<16} {sys.argv[3]:<34} {sys.argv[4]:<6} {step:.3f} s/step {rate:>9,.0f} tokens/s")
' "$out" "$(basename "$config" .json)" "$setting" "$neighbour"
}
for round in $(seq "$rounds"); do
  for config in configs/ml-1m/hstu-fast.json configs/ml-1m/hstu.json; do
    for neighbour in alone busy; do
      # libgomp's own default (spin 300,000 times before sleeping): what GenRec ran with before.
      run "$config" "spin (GOMP_SPINCOUNT=300000)" "$neighbour" GOMP_SPINCOUNT=300000
      # GenRec's default now: OMP_WAIT_POLICY=PASSIVE, set before libtorch loads.
      run "$config" "passive (GenRec default)" "$neighbour"
      run "$config" "passive, --threads 1" "$neighbour" --threads 1
    done
  done
done
