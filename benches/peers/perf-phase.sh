#!/usr/bin/env bash
# Profiles one phase of one client: starts a server, runs the client, and attaches
# `perf record -g` to it from the moment the phase before it has printed its line until the
# phase's own line appears; then prints the top symbols (self time).
#
#   bash benches/peers/perf-phase.sh storages-s3 stream_get [perf.data]
# PEERS_* size variables pass through (e.g. PEERS_SMALL_N=5000 for the 64 KiB phases);
# SCHEME=tls profiles the HTTPS run (the server's CA given to the client).
set -euo pipefail
cd "$(dirname "$0")"
CLIENT=$1 PHASE=$2 DATA_OUT=${3:-/tmp/perf-$1-$2.data}
PHASES=(put_64k get_64k put_1m get_1m multipart_put stream_get file_get_1 file_get_4 file_get_10 list delete)
prev=""
for i in "${!PHASES[@]}"; do if [ "${PHASES[$i]}" = "$PHASE" ] && [ "$i" -gt 0 ]; then prev=${PHASES[$((i - 1))]}; fi; done
DATA=$(mktemp -d /dev/shm/peers-perf.XXXXXX)
WORK=$(mktemp -d /tmp/peers-perf.XXXXXX)
SERVER_PID="" CLIENT_PID=""
cleanup() {
    [ -n "$CLIENT_PID" ] && kill "$CLIENT_PID" 2>/dev/null || true
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$DATA" "$WORK"
}
trap cleanup EXIT
proto=http ca=""
if [ "${SCHEME:-http}" = tls ]; then
    proto=https ca="$WORK/ca.pem"
    export PEERS_TLS_DIR="$WORK"
fi
target/release/server "$DATA" > "$WORK/server.out" 2>&1 &
SERVER_PID=$!
unset PEERS_TLS_DIR
for _ in $(seq 100); do grep -q READY "$WORK/server.out" 2>/dev/null && break; sleep 0.1; done
read -r _ S3_ADDR STATS_ADDR < "$WORK/server.out"
mkdir "$DATA/peers-perf"
RUST_BACKTRACE=0 PEERS_ENDPOINT="$proto://$S3_ADDR" PEERS_CA_FILE="$ca" PEERS_BUCKET=peers-perf PEERS_SERVER_PID="$SERVER_PID" \
    PEERS_STATS_ADDR="$STATS_ADDR" "target/release/client-$CLIENT" > "$WORK/client.out" &
CLIENT_PID=$!
if [ -n "$prev" ]; then
    until grep -q "\"phase\":\"$prev\"" "$WORK/client.out"; do sleep 0.005; done
fi
perf record -F 1999 -g -p "$CLIENT_PID" -o "$DATA_OUT" 2> "$WORK/perf.err" &
PERF_PID=$!
until grep -q "\"phase\":\"$PHASE\"" "$WORK/client.out"; do sleep 0.005; done
kill -INT "$PERF_PID"; wait "$PERF_PID" || true
grep "\"phase\":\"$PHASE\"" "$WORK/client.out"
perf report -i "$DATA_OUT" --no-children --sort symbol --stdio -g none 2>/dev/null | grep '%' | head -${TOP:-25}
