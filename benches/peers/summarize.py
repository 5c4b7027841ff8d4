#!/usr/bin/env python3
"""Summarizes the JSON lines of run.sh: medians and ranges per client and phase, ratios
against storages-s3, and the project's targets. Standard library only.

    summarize.py lines.jsonl results/<date> [--meta key=value ...]
writes results/<date>.json (every line, the summary, the targets) and results/<date>.md.
"""
import json
import statistics
import sys

MIB = 1024 * 1024
GIB = 1024 * MIB
OURS = "storages-s3"
PHASES = ["put_64k", "get_64k", "put_1m", "get_1m", "multipart_put", "stream_get", "file_get_1", "file_get_4",
          "file_get_10", "list", "delete"]
BYTE_PHASES = {"put_64k", "get_64k", "put_1m", "get_1m", "multipart_put", "stream_get", "file_get_1", "file_get_4",
               "file_get_10"}
# A download in parts is compared with the peer's single stream to a file (neither peer
# downloads one object in parts).
PEER_PHASE = {"file_get_4": "file_get_1", "file_get_10": "file_get_1"}
# A phase is called server-bound when the server used at least 0.8 of the 2 cores and more
# than twice the client's CPU: its wall time (so throughput) then says little about the client.
def server_bound(s):
    try:
        return s["srv_cores"]["median"] >= 0.8 and s["srv_cpu_s"]["median"] > 2 * s["cpu_s"]["median"]
    except KeyError:
        return False


UPLOADS = {"put_64k", "put_1m", "multipart_put"}
DOWNLOADS = {"get_64k", "get_1m", "stream_get", "file_get_1", "file_get_4", "file_get_10"}


def cpu_limit(scheme, phase, peer):
    """The project's client CPU target for a phase, as a ratio to the peer's. Over TLS (what
    production runs): uploads at most 0.5x aws-sdk-s3 (either checksum setting) and 0.6x
    object_store, downloads 0.8x both; listing and deleting, and everything over plain HTTP,
    keep the first targets: 0.5x aws-sdk-s3, 0.8x object_store."""
    aws = peer.startswith("aws-sdk-s3")
    if scheme == "tls" and phase in UPLOADS:
        return 0.5 if aws else 0.6
    if scheme == "tls" and phase in DOWNLOADS:
        return 0.8
    return 0.5 if aws else 0.8


# part_size x (max_concurrency + 1) + 32 MiB
RSS_TARGET = 8 * MIB * 11 + 32 * MIB


def derive(l):
    wall, cpu, req = l["wall_s"], l["cpu_s"], l.get("requests")
    srv = l.get("server_cpu_s")
    d = {
        "wall_s": wall,
        "cpu_s": cpu,
        "ops_s": l["ops"] / wall,
        "cli_cores": cpu / wall,
        "peak_rss_mib": l["peak_rss_bytes"] / MIB,
        "rss_growth_mib": (l["peak_rss_bytes"] - l["rss_start_bytes"]) / MIB,
    }
    if "minor_faults" in l:
        d["minor_faults"] = l["minor_faults"]
    if l["bytes"]:
        d["mib_s"] = l["bytes"] / MIB / wall
        d["cpu_per_gib"] = cpu / (l["bytes"] / GIB)
    if req:
        d["requests"] = req
        d["req_s"] = req / wall
        d["cpu_per_kreq"] = cpu / req * 1000
    if srv is not None:
        d["srv_cpu_s"] = srv
        d["srv_cores"] = srv / wall
        d["srv_share"] = srv / (srv + cpu) if srv + cpu > 0 else 0.0
    return d


def stats(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def main():
    src, out = sys.argv[1], sys.argv[2]
    meta = {}
    if "--meta" in sys.argv:
        for kv in sys.argv[sys.argv.index("--meta") + 1 :]:
            k, _, v = kv.partition("=")
            meta[k] = v
    lines = [json.loads(x) for x in open(src) if x.strip().startswith("{")]
    clients = []
    for l in lines:
        if l["client"] not in clients:
            clients.append(l["client"])
    ours = [c for c in clients if c.startswith(OURS)]
    clients = ours + [c for c in clients if c not in ours]
    scheme = meta.get("scheme", "http")
    summary = {}
    for c in clients:
        for p in PHASES:
            ds = [derive(l) for l in lines if l["client"] == c and l["phase"] == p]
            if not ds:
                continue
            keys = sorted(set().union(*ds))
            summary.setdefault(c, {})[p] = {k: stats([d[k] for d in ds if k in d]) for k in keys}

    def med(c, p, k):
        try:
            return summary[c][p][k]["median"]
        except KeyError:
            return None

    def fmt(s, k, digits=1):
        if k not in s:
            return "–"
        v = s[k]
        if v["n"] > 1 and v["min"] != v["max"]:
            return f"{v['median']:.{digits}f} ({v['min']:.{digits}f}–{v['max']:.{digits}f})"
        return f"{v['median']:.{digits}f}"

    md = []
    md.append(f"# Peer benchmark, {out.rsplit('/', 1)[-1]}\n")
    md.append(
        "Median of the runs, (min–max) in brackets. Throughput in MiB/s for data phases, keys/s for "
        "list and delete; client CPU = this client's user+sys seconds; server = the s3s-fs process over "
        "the same interval; cores = CPU seconds / wall seconds (the machine has 2); server share = "
        "server CPU / (server + client CPU). Requests are counted by the server.\n"
    )
    if meta:
        md.append("Run: " + ", ".join(f"{k} = {v}" for k, v in meta.items()) + "\n")
    for p in PHASES:
        rows = [c for c in clients if p in summary.get(c, {})]
        if not rows:
            continue
        md.append(f"\n## {p}\n")
        md.append(
            "| client | throughput | wall s | client CPU s | CPU s / GiB | CPU s / 1k req | client cores | server cores | server share | peak RSS MiB | RSS growth MiB | minor faults | requests | bound |"
        )
        md.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        for c in rows:
            s = summary[c][p]
            thr = fmt(s, "mib_s") if p in BYTE_PHASES else fmt(s, "ops_s", 0)
            md.append(
                f"| {c} | {thr} | {fmt(s, 'wall_s', 3)} | {fmt(s, 'cpu_s', 3)} | {fmt(s, 'cpu_per_gib', 2)} | "
                f"{fmt(s, 'cpu_per_kreq', 3)} | {fmt(s, 'cli_cores', 2)} | {fmt(s, 'srv_cores', 2)} | "
                f"{fmt(s, 'srv_share', 2)} | {fmt(s, 'peak_rss_mib')} | {fmt(s, 'rss_growth_mib')} | {fmt(s, 'minor_faults', 0)} | {fmt(s, 'requests', 0)} | {'server' if server_bound(s) else 'client'} |"
            )

    # Ratios and targets.
    targets = []
    peers = [c for c in clients if c not in ours]
    md.append("\n## Ratios: storages-s3 / peer (medians)\n")
    md.append(
        "CPU ratio < 1 means storages-s3 uses less CPU for the same work (per GiB on data phases, per 1,000 "
        "requests on list and delete); throughput ratio > 1 means it is faster.\n"
    )
    md.append("| phase | client | peer | CPU ratio | throughput ratio | CPU target | throughput target (≥ 1.2) |")
    md.append("|---|---|---|---|---|---|---|")
    # storages-s3 against every peer; a variant (`storages-s3+crc32`) against the same
    # variant of aws-sdk-s3 only, like for like.
    pairs = [(OURS, peer) for peer in peers if OURS in ours]
    pairs += [(us, us.replace(OURS, "aws-sdk-s3")) for us in ours if us != OURS and us.replace(OURS, "aws-sdk-s3") in peers]
    for p, us, peer in [(p, us, peer) for p in PHASES for us, peer in pairs]:
        cpu_key = "cpu_per_gib" if p in BYTE_PHASES else "cpu_per_kreq"
        thr_key = "mib_s" if p in BYTE_PHASES else "ops_s"
        pp = PEER_PHASE.get(p, p)
        a, b = med(us, p, cpu_key), med(peer, pp, cpu_key)
        ta, tb = med(us, p, thr_key), med(peer, pp, thr_key)
        if None in (a, b, ta, tb):
            continue
        limit = cpu_limit(scheme, p, peer)
        cpu_ratio, thr_ratio = a / b, ta / tb
        cpu_met, thr_met = cpu_ratio <= limit, thr_ratio >= 1.2
        bound = server_bound(summary[us][p]) or server_bound(summary[peer][pp])
        targets.append(
            {"phase": p, "peer_phase": pp, "client": us, "peer": peer, "cpu_ratio": cpu_ratio, "cpu_limit": limit, "cpu_met": cpu_met,
             "throughput_ratio": thr_ratio, "throughput_met": thr_met, "server_bound": bound}
        )
        md.append(
            f"| {p}{'' if pp == p else ' (peer: ' + pp + ')'} | {us} | {peer} | {cpu_ratio:.2f} | {thr_ratio:.2f} | ≤ {limit}: {'met' if cpu_met else '**not met**'} | "
            f"{'met' if thr_met else '**not met**'}{' (server-bound)' if bound else ''} |"
        )
    rss = summary.get(OURS, {}).get("multipart_put", {})
    if rss:
        peak = rss["peak_rss_mib"]["max"]
        growth = rss["rss_growth_mib"]["max"]
        ok = peak * MIB <= RSS_TARGET
        targets.append({"phase": "multipart_put", "peer": None, "peak_rss_mib_max": peak, "growth_mib_max": growth,
                        "rss_limit_mib": RSS_TARGET / MIB, "rss_met": ok})
        md.append(
            f"\nPeak RSS of the storages-s3 1 GiB upload: {peak:.1f} MiB at most over the runs (growth over the "
            f"phase's start {growth:.1f} MiB); target ≤ 8 MiB × 11 + 32 MiB = {RSS_TARGET / MIB:.0f} MiB: "
            f"{'met' if ok else '**not met**'}.\n"
        )
    json.dump({"meta": meta, "summary": summary, "targets": targets, "lines": lines}, open(out + ".json", "w"), indent=1)
    open(out + ".md", "w").write("\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
