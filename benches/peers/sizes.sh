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
# is run once against the benchmark server to show it works. The programs in REPEAT (the
# floor and this crate's) are built BUILDS times (3), each clean, and their build time is the
# median; the others once (their size does not change between builds, only the time).
#
#   bash benches/peers/sizes.sh     # writes results/<date>-sizes.json and .md
#   PROGRAMS="bare floor-tls storages-s3" EARLIER=results/<date>-sizes.json bash benches/peers/sizes.sh
#     # builds those only; the other programs' rows come from the earlier run, marked so
set -euo pipefail
cd "$(dirname "$0")"
DATE=${DATE:-$(date -u +%Y-%m-%d)}
OUT=${OUT:-results/$DATE-sizes}
PROGRAMS=${PROGRAMS:-"bare floor-tls storages-s3 storages-s3-lean storages-s3-storage storages-s3-http object_store aws-sdk-s3"}
REPEAT=${REPEAT:-"floor-tls storages-s3 storages-s3-lean"}
BUILDS=${BUILDS:-3}
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
    builds=1
    case " $REPEAT " in *" $p "*) builds=$BUILDS ;; esac
    times=() cpus=()
    for b in $(seq "$builds"); do
        [ "$b" -gt 1 ] && rm -rf "$target"
        target=$(mktemp -d /tmp/peers-size-target.XXXXXX)
        echo "building $p (clean, target $target, build $b of $builds)" >&2
        t0=$(date +%s.%N)
        (cd "$dir" && CARGO_BUILD_JOBS=$JOBS CARGO_TARGET_DIR=$target /usr/bin/time -f "%U %S" -o "$WORK/$p.time" \
            cargo build --release --locked 2> "$WORK/$p.build.log")
        t1=$(date +%s.%N)
        times+=("$(echo "$t1 - $t0" | bc)")
        read -r user sys < "$WORK/$p.time"
        cpus+=("$(echo "$user + $sys" | bc)")
    done
    bin=$(find "$target/release" -maxdepth 1 -type f -name "minimal-*" -perm -u+x | head -1)
    size=$(stat -c %s "$bin")
    units=$(grep -c '^ *Compiling ' "$WORK/$p.build.log" || true)
    packages=$( (cd "$dir" && cargo tree -e normal --prefix none --no-dedupe --locked) | sed 's/ (\*)$//; s/ (proc-macro)$//' | sort -u | wc -l)
    ran=$(PEERS_ENDPOINT="http://$S3_ADDR" PEERS_BUCKET=peers-minimal "$bin" 2>&1 | tail -1)
    echo "$p: $size bytes, wall ${times[*]} s, CPU ${cpus[*]} s, $packages packages, $units units: $ran" >&2
    python3 -c 'import json,statistics,sys; n=(len(sys.argv)-7)//2; t=[float(x) for x in sys.argv[7:7+n]]; c=[float(x) for x in sys.argv[7+n:]]; print(json.dumps({"program": sys.argv[1], "binary_bytes": int(sys.argv[2]), "build_s": statistics.median(t), "build_s_all": t, "build_cpu_s": statistics.median(c), "build_cpu_s_all": c, "packages": int(sys.argv[3]), "compiled_units": int(sys.argv[4]), "jobs": int(sys.argv[5]), "ran": sys.argv[6]}))' \
        "$p" "$size" "$packages" "$units" "$JOBS" "$ran" "${times[@]}" "${cpus[@]}" >> "$WORK/sizes.jsonl"
    rm -rf "$target"
done

mkdir -p "$(dirname "$OUT")"
python3 - "$WORK/sizes.jsonl" "$OUT" <<'PY'
import json, sys
import os
rows = [json.loads(l) for l in open(sys.argv[1])]
earlier = os.environ.get("EARLIER")
if earlier:
    built = {r["program"] for r in rows}
    for r in json.load(open(earlier))["rows"]:
        if r["program"] not in built:
            r["from_run"] = r.get("from_run", os.path.basename(earlier))
            rows.append(r)
by = {r["program"]: r for r in rows}
floor = by.get("floor-tls")
md = ["# Binary size and build cost of the minimal programs\n",
      "Each program does put / get / list / delete of one object against the benchmark server (the storage "
      "program: save / open and read / listdir / delete). Release profile: strip, lto = true, codegen-units = 1, "
      "panic = abort, opt-level = s. Clean build = fresh target directory, crates already downloaded, "
      "CARGO_BUILD_JOBS as shown; wall and CPU (user + sys of cargo and everything it ran) seconds, the median "
      "where built more than once (all builds in `build_s_all`, `build_cpu_s_all`). Packages = distinct package "
      "versions in `cargo tree -e normal` (the program included); units = `Compiling` lines of the clean build "
      "(build-dependencies and proc macros included).\n",
      "| program | binary bytes | vs floor-tls | clean build wall s | build CPU s | vs floor-tls | builds | packages | compiled units | ran |",
      "|---|---|---|---|---|---|---|---|---|---|"]
for r in rows:
    rel = f"{r['binary_bytes'] / floor['binary_bytes']:.2f}×" if floor else "–"
    cpu_rel = f"{r['build_cpu_s'] / floor['build_cpu_s']:.2f}×" if floor else "–"
    name = r["program"] + (f" (from {r['from_run']})" if r.get("from_run") else "")
    md.append(f"| {name} | {r['binary_bytes']:,} | {rel} | {r['build_s']:.0f} | {r['build_cpu_s']:.0f} | {cpu_rel} | "
              f"{len(r['build_s_all'])} | {r['packages']} | {r['compiled_units']} | {r['ran']} |")
targets = []
def target(name, value, limit, fmt="{:.2f}", op="≤"):
    met = value <= limit
    targets.append({"target": name, "value": value, "limit": limit, "met": met})
    md.append(f"| {name} | {fmt.format(value)} | {op} {fmt.format(limit)} | {'met' if met else '**not met**'} |")
if floor:
    md += ["", "| target | value | limit | |", "|---|---|---|---|"]
    for prog in ["storages-s3", "storages-s3-lean"]:
        r = by.get(prog)
        if not r:
            continue
        target(f"{prog} binary / floor-tls", r["binary_bytes"] / floor["binary_bytes"], 1.2)
        if "aws-sdk-s3" in by:
            target(f"{prog} binary / aws-sdk-s3", r["binary_bytes"] / by["aws-sdk-s3"]["binary_bytes"], 0.25)
        target(f"{prog} clean build CPU / floor-tls", r["build_cpu_s"] / floor["build_cpu_s"], 1.3)
        target(f"{prog} packages − floor-tls", r["packages"] - floor["packages"], 20, "{:+d}")
    if "storages-s3-storage" in by:
        target("storages-s3-storage binary / floor-tls", by["storages-s3-storage"]["binary_bytes"] / floor["binary_bytes"], 1.35)
json.dump({"rows": rows, "targets": targets}, open(sys.argv[2] + ".json", "w"), indent=1)
open(sys.argv[2] + ".md", "w").write("\n".join(md) + "\n")
print("\n".join(md))
PY
