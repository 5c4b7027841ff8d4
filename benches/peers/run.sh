#!/usr/bin/env bash
# Runs the peer workload: builds in release, starts one s3s-fs server on tmpfs, runs each
# client in turn against it (a fresh bucket per client and run), RUNS times with the client
# order rotated each run, then writes results/<date>.json and results/<date>.md.
#
#   bash benches/peers/run.sh                 # 3 runs, the three clients
#   RUNS=1 PEERS_QUICK=1 bash benches/peers/run.sh   # smoke test at small sizes
#   PAUSE_FUZZER=1 bash benches/peers/run.sh  # SIGSTOP the local fuzzer during the runs only
#   CLIENTS="storages-s3 aws-sdk-s3 object_store aws-sdk-s3+crc32" bash benches/peers/run.sh
set -euo pipefail
cd "$(dirname "$0")"
HERE=$PWD
RUNS=${RUNS:-3}
CLIENTS=${CLIENTS:-"storages-s3 aws-sdk-s3 object_store"}
DATE=${DATE:-$(date -u +%Y-%m-%d)}
OUT=${OUT:-results/$DATE}

started=$(date +%s)
CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-2} cargo build --release --quiet
built=$(date +%s)

DATA=$(mktemp -d /dev/shm/peers-data.XXXXXX)
WORK=$(mktemp -d /tmp/peers-run.XXXXXX)
SERVER_PID=""
PAUSED=0
cleanup() {
    if [ "$PAUSED" = 1 ]; then pkill -CONT -f 'fuzz/target' || true; fi
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
    rm -rf "$DATA" "$WORK"
}
trap cleanup EXIT

target/release/server "$DATA" > "$WORK/server.out" 2> "$WORK/server.err" &
SERVER_PID=$!
for _ in $(seq 100); do grep -q READY "$WORK/server.out" 2>/dev/null && break; sleep 0.1; done
read -r _ S3_ADDR STATS_ADDR < "$WORK/server.out"
echo "server pid $SERVER_PID on $S3_ADDR (stats $STATS_ADDR), data in $DATA" >&2

if [ "${PAUSE_FUZZER:-0}" = 1 ]; then
    PAUSED=1
    pkill -STOP -f 'fuzz/target' || true
fi

: > "$WORK/lines.jsonl"
read -r -a clients <<< "$CLIENTS"
n=${#clients[@]}
for run in $(seq "$RUNS"); do
    for i in $(seq 0 $((n - 1))); do
        c=${clients[$(( (i + run - 1) % n ))]}
        bin=$c; extra=()
        if [ "$c" = "aws-sdk-s3+crc32" ]; then bin=aws-sdk-s3; extra=(PEERS_AWS_CHECKSUMS=when_supported); fi
        bucket="peers-$(echo "$c" | tr -c 'a-z0-9\n' '-')-$run"
        mkdir "$DATA/$bucket"
        echo "run $run: $c (bucket $bucket)" >&2
        env "${extra[@]}" PEERS_ENDPOINT="http://$S3_ADDR" PEERS_BUCKET="$bucket" PEERS_SERVER_PID="$SERVER_PID" \
            PEERS_STATS_ADDR="$STATS_ADDR" PEERS_RUN="$run" "target/release/client-$bin" | tee -a "$WORK/lines.jsonl" >&2
        rm -rf "${DATA:?}/$bucket"
    done
done

if [ "$PAUSED" = 1 ]; then pkill -CONT -f 'fuzz/target' || true; PAUSED=0; fi
finished=$(date +%s)
mkdir -p "$(dirname "$OUT")"
python3 "$HERE/summarize.py" "$WORK/lines.jsonl" "$OUT" \
    --meta "build_s=$((built - started))" "measure_s=$((finished - built))" "runs=$RUNS" \
    "crate_commit=$(git -C ../.. rev-parse --short HEAD)$(git -C ../.. diff --quiet HEAD -- src Cargo.toml || echo '+uncommitted')"
echo "wrote $OUT.json and $OUT.md (build $((built - started)) s, measurement $((finished - built)) s)" >&2
