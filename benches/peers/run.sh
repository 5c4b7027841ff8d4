#!/usr/bin/env bash
# Runs the peer workload: builds in release, then for each scheme (plain HTTP, then HTTPS
# with a CA generated for the run) starts one s3s-fs server on tmpfs and runs each client in
# turn against it (a fresh bucket per client and run), RUNS times with the client order
# rotated each run, then writes results/<date>-<scheme>.json and .md.
#
#   bash benches/peers/run.sh                 # 3 runs, the three clients, HTTP and TLS
#   RUNS=1 PEERS_QUICK=1 bash benches/peers/run.sh   # smoke test at small sizes
#   SCHEMES=tls bash benches/peers/run.sh     # one scheme only
#   PAUSE_FUZZER=1 bash benches/peers/run.sh  # SIGSTOP the local fuzzer during the runs only
#   CLIENTS="storages-s3 aws-sdk-s3 object_store aws-sdk-s3+crc32 storages-s3+crc32" bash benches/peers/run.sh
set -euo pipefail
cd "$(dirname "$0")"
HERE=$PWD
RUNS=${RUNS:-3}
CLIENTS=${CLIENTS:-"storages-s3 aws-sdk-s3 object_store"}
SCHEMES=${SCHEMES:-"http tls"}
DATE=${DATE:-$(date -u +%Y-%m-%d)}
OUT=${OUT:-results/$DATE}

started=$(date +%s)
CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-2} cargo build --release --quiet
built=$(date +%s)

DATA=""
WORK=$(mktemp -d /tmp/peers-run.XXXXXX)
SERVER_PID=""
PAUSED=0
stop_server() {
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
    SERVER_PID=""
    if [ -n "$DATA" ]; then rm -rf "$DATA"; fi
    DATA=""
}
cleanup() {
    if [ "$PAUSED" = 1 ]; then pkill -CONT -f 'fuzz/target' || true; fi
    stop_server
    rm -rf "$WORK"
}
trap cleanup EXIT

if [ "${PAUSE_FUZZER:-0}" = 1 ]; then
    PAUSED=1
    pkill -STOP -f 'fuzz/target' || true
fi

read -r -a clients <<< "$CLIENTS"
n=${#clients[@]}
for scheme in $SCHEMES; do
    scheme_started=$(date +%s)
    DATA=$(mktemp -d /dev/shm/peers-data.XXXXXX)
    : > "$WORK/server.out"
    ca=""
    if [ "$scheme" = tls ]; then
        mkdir -p "$WORK/tls"
        PEERS_TLS_DIR="$WORK/tls" target/release/server "$DATA" > "$WORK/server.out" 2> "$WORK/server.err" &
        ca="$WORK/tls/ca.pem"
        proto=https
    else
        target/release/server "$DATA" > "$WORK/server.out" 2> "$WORK/server.err" &
        proto=http
    fi
    SERVER_PID=$!
    for _ in $(seq 100); do grep -q READY "$WORK/server.out" 2>/dev/null && break; sleep 0.1; done
    read -r _ S3_ADDR STATS_ADDR < "$WORK/server.out"
    echo "$scheme: server pid $SERVER_PID on $proto://$S3_ADDR (stats $STATS_ADDR), data in $DATA" >&2

    : > "$WORK/lines.jsonl"
    for run in $(seq "$RUNS"); do
        for i in $(seq 0 $((n - 1))); do
            c=${clients[$(( (i + run - 1) % n ))]}
            bin=${c%+crc32}; extra=()
            if [ "$bin" != "$c" ]; then extra=(PEERS_AWS_CHECKSUMS=when_supported PEERS_CHECKSUMS=when_supported); fi
            bucket="peers-$(echo "$c" | tr -c 'a-z0-9\n' '-')-$run"
            mkdir "$DATA/$bucket"
            echo "$scheme run $run: $c (bucket $bucket)" >&2
            env "${extra[@]}" PEERS_ENDPOINT="$proto://$S3_ADDR" PEERS_CA_FILE="$ca" PEERS_BUCKET="$bucket" \
                PEERS_SERVER_PID="$SERVER_PID" PEERS_STATS_ADDR="$STATS_ADDR" PEERS_RUN="$run" \
                "target/release/client-$bin" | tee -a "$WORK/lines.jsonl" >&2
            rm -rf "${DATA:?}/$bucket"
        done
    done
    stop_server
    mkdir -p "$(dirname "$OUT")"
    python3 "$HERE/summarize.py" "$WORK/lines.jsonl" "$OUT-$scheme" \
        --meta "scheme=$scheme" "build_s=$((built - started))" "measure_s=$(($(date +%s) - scheme_started))" "runs=$RUNS" \
        "crate_commit=$(git -C ../.. rev-parse --short HEAD)$(git -C ../.. diff --quiet HEAD -- src Cargo.toml || echo '+uncommitted')" > /dev/null
    echo "wrote $OUT-$scheme.json and $OUT-$scheme.md" >&2
done

if [ "$PAUSED" = 1 ]; then pkill -CONT -f 'fuzz/target' || true; PAUSED=0; fi
finished=$(date +%s)
echo "build $((built - started)) s, measurement $((finished - built)) s" >&2
