#!/usr/bin/env bash
# Binary size and build cost of the minimal programs (minimal/*: put / get / list / delete
# of one object; `bare` and `floor-tls` are the hand-written floors, without and with TLS),
# each a Cargo project of its own with strip, lto, codegen-units = 1, panic = "abort",
# opt-level = "s".
#
# For each, one at a time: a clean release build in a fresh target directory (crates
# already downloaded: `cargo fetch` first, not timed), wall time, stripped binary size,
# package count (`cargo tree -e normal --prefix none --no-dedupe | sort -u | wc -l`: distinct
# package versions in the normal dependency graph, the program itself included) and compiled
# units (`Compiling` lines of that build, build scripts' crates included); then the program
# is run once against the benchmark server to show it works.
#
#   bash benches/peers/sizes.sh     # writes results/<date>-sizes.json and .md
set -euo pipefail
cd "$(dirname "$0")"
DATE=${DATE:-$(date -u +%Y-%m-%d)}
OUT=${OUT:-results/$DATE-sizes}
PROGRAMS=${PROGRAMS:-"bare floor-tls storages-s3 storages-s3-storage storages-s3-http object_store aws-sdk-s3"}
JOBS=${CARGO_BUILD_JOBS:-2}

CARGO_BUILD_JOBS=$JOBS cargo build --release --quiet --bin server
DATA=$(mktemp -d /dev/shm/peers-sizes.XXXXXX)
WORK=$(mktemp -d /tmp/peers-sizes.XXXXXX)
SERVER_PID=""
cleanup() {
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
    rm -rf "$DATA" "$WORK"
}
trap cleanup EXIT
target/release/server "$DATA" > "$WORK/server.out" 2> "$WORK/server.err" &
SERVER_PID=$!
for _ in $(seq 100); do grep -q READY "$WORK/server.out" 2>/dev/null && break; sleep 0.1; done
read -r _ S3_ADDR _ < "$WORK/server.out"
mkdir "$DATA/peers-minimal"

: > "$WORK/sizes.jsonl"
for p in $PROGRAMS; do
    dir=minimal/$p
    (cd "$dir" && cargo fetch --quiet)
    target=$(mktemp -d /tmp/peers-size-target.XXXXXX)
    echo "building $p (clean, target $target)" >&2
    t0=$(date +%s.%N)
    (cd "$dir" && CARGO_BUILD_JOBS=$JOBS CARGO_TARGET_DIR=$target cargo build --release --locked 2> "$WORK/$p.build.log")
    t1=$(date +%s.%N)
    bin=$(find "$target/release" -maxdepth 1 -type f -name "minimal-*" -perm -u+x | head -1)
    size=$(stat -c %s "$bin")
    units=$(grep -c '^ *Compiling ' "$WORK/$p.build.log" || true)
    packages=$( (cd "$dir" && cargo tree -e normal --prefix none --no-dedupe --locked) | sed 's/ (\*)$//; s/ (proc-macro)$//' | sort -u | wc -l)
    ran=$(PEERS_ENDPOINT="http://$S3_ADDR" PEERS_BUCKET=peers-minimal "$bin" 2>&1 | tail -1)
    echo "$p: $size bytes, $(echo "$t1 - $t0" | bc) s, $packages packages, $units units: $ran" >&2
    python3 -c 'import json,sys; print(json.dumps({"program": sys.argv[1], "binary_bytes": int(sys.argv[2]), "build_s": float(sys.argv[3]) - float(sys.argv[4]), "packages": int(sys.argv[5]), "compiled_units": int(sys.argv[6]), "jobs": int(sys.argv[7]), "ran": sys.argv[8]}))' \
        "$p" "$size" "$t1" "$t0" "$packages" "$units" "$JOBS" "$ran" >> "$WORK/sizes.jsonl"
    rm -rf "$target"
done

mkdir -p "$(dirname "$OUT")"
python3 - "$WORK/sizes.jsonl" "$OUT" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
by = {r["program"]: r for r in rows}
md = ["# Binary size and build cost of the minimal programs\n",
      "Each program does put / get / list / delete of one object against the benchmark server. Release profile: "
      "strip, lto = true, codegen-units = 1, panic = abort, opt-level = s. Clean build = fresh target directory, "
      "crates already downloaded, CARGO_BUILD_JOBS as shown, wall time. Packages = distinct package versions in "
      "`cargo tree -e normal` (the program included); units = `Compiling` lines of the clean build (build-dependencies "
      "and proc macros included).\n",
      "| program | binary KiB | vs storages-s3 | clean build s | packages | compiled units | ran |",
      "|---|---|---|---|---|---|---|"]
ours = by.get("storages-s3")
for r in rows:
    rel = f"{r['binary_bytes'] / ours['binary_bytes']:.2f}×" if ours else "–"
    md.append(f"| {r['program']} | {r['binary_bytes'] / 1024:.0f} | {rel} | {r['build_s']:.0f} | {r['packages']} | "
              f"{r['compiled_units']} | {r['ran']} |")
targets = {}
if ours and "aws-sdk-s3" in by:
    targets["size_vs_aws_sdk_s3"] = ours["binary_bytes"] / by["aws-sdk-s3"]["binary_bytes"]
if ours and "bare" in by:
    targets["size_vs_bare"] = ours["binary_bytes"] / by["bare"]["binary_bytes"]
if ours and "floor-tls" in by:
    targets["size_vs_floor_tls"] = ours["binary_bytes"] / by["floor-tls"]["binary_bytes"]
    targets["packages_over_floor_tls"] = ours["packages"] - by["floor-tls"]["packages"]
    targets["build_vs_floor_tls"] = ours["build_s"] / by["floor-tls"]["build_s"]
    if "storages-s3-storage" in by:
        targets["storage_size_vs_floor_tls"] = by["storages-s3-storage"]["binary_bytes"] / by["floor-tls"]["binary_bytes"]
if targets:
    md.append("")
    if "size_vs_aws_sdk_s3" in targets:
        v = targets["size_vs_aws_sdk_s3"]
        md.append(f"- storages-s3 / aws-sdk-s3 binary: {v:.3f} (target ≤ 0.2: {'met' if v <= 0.2 else 'not met'})")
    if "size_vs_bare" in targets:
        v = targets["size_vs_bare"]
        md.append(f"- storages-s3 / bare binary (no TLS in bare): {v:.2f}")
    if "size_vs_floor_tls" in targets:
        v = targets["size_vs_floor_tls"]
        md.append(f"- storages-s3 / floor-tls binary: {v:.2f} (target ≤ 1.2: {'met' if v <= 1.2 else 'not met'})")
        v = targets["build_vs_floor_tls"]
        md.append(f"- storages-s3 / floor-tls clean build: {v:.2f} (target ≤ 1.3: {'met' if v <= 1.3 else 'not met'})")
        if "storage_size_vs_floor_tls" in targets:
            v = targets["storage_size_vs_floor_tls"]
            md.append(f"- S3Storage program / floor-tls binary: {v:.2f} (target ≤ 1.35: {'met' if v <= 1.35 else 'not met'})")
        v = targets["packages_over_floor_tls"]
        md.append(f"- storages-s3 packages over floor-tls: {v:+d} (target ≤ +20: {'met' if v <= 20 else 'not met'})")
json.dump({"rows": rows, "targets": targets}, open(sys.argv[2] + ".json", "w"), indent=1)
open(sys.argv[2] + ".md", "w").write("\n".join(md) + "\n")
print("\n".join(md))
PY
