#!/usr/bin/env python3
"""Draws results/peers.png from a results/<date>-tls.json of run.sh (and
results/peers-http.png from an -http one): per phase, client CPU (s per GiB on data phases,
s per 1,000 requests on list/delete) and throughput, one bar per client, medians with
min–max whiskers.

    python3 benches/peers/plot.py [results/<date>-<scheme>.json]   # default: the newest -tls run

Runs itself inside benches/peers/.venv (created on first use with a pinned matplotlib).
"""
import glob
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
VENV = os.path.join(HERE, ".venv")
MATPLOTLIB = "matplotlib==3.9.2"

if os.path.realpath(sys.prefix) != os.path.realpath(VENV):
    py = os.path.join(VENV, "bin", "python")
    if not os.path.exists(py):
        subprocess.check_call([sys.executable, "-m", "venv", VENV])
        subprocess.check_call([py, "-m", "pip", "install", "--quiet", MATPLOTLIB])
    os.execv(py, [py, os.path.abspath(__file__)] + sys.argv[1:])

import json  # noqa: E402

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

BYTE_PHASES = ["put_64k", "get_64k", "put_1m", "get_1m", "multipart_put", "stream_get", "file_get_1", "file_get_4",
               "file_get_10"]
REQ_PHASES = ["list", "delete"]
COLORS = {"storages-s3": "#2b7a3d", "storages-s3+crc32": "#7fbf7b", "aws-sdk-s3": "#e08a1e", "aws-sdk-s3+crc32": "#b35806", "object_store": "#3b6db3"}


def main():
    runs = glob.glob(os.path.join(HERE, "results", "*-tls.json"))
    src = sys.argv[1] if len(sys.argv) > 1 else max(runs, key=os.path.getmtime)
    data = json.load(open(src))
    summary = data["summary"]
    clients = list(summary)
    fig, axes = plt.subplots(2, 2, figsize=(13, 8), gridspec_kw={"width_ratios": [3, 1]})
    panels = [
        (axes[0][0], BYTE_PHASES, "cpu_per_gib", "client CPU s / GiB (lower is better)"),
        (axes[0][1], REQ_PHASES, "cpu_per_kreq", "client CPU s / 1,000 requests"),
        (axes[1][0], BYTE_PHASES, "mib_s", "throughput MiB/s (higher is better)"),
        (axes[1][1], REQ_PHASES, "ops_s", "keys/s"),
    ]
    width = 0.8 / len(clients)
    for ax, phases, key, title in panels:
        for i, c in enumerate(clients):
            xs, ys, lo, hi = [], [], [], []
            for j, p in enumerate(phases):
                s = summary[c].get(p, {}).get(key)
                if not s:
                    continue
                xs.append(j + (i - (len(clients) - 1) / 2) * width)
                ys.append(s["median"])
                lo.append(s["median"] - s["min"])
                hi.append(s["max"] - s["median"])
            ax.bar(xs, ys, width, yerr=[lo, hi], capsize=2, label=c, color=COLORS.get(c))
        ax.set_xticks(range(len(phases)), phases, rotation=20)
        ax.set_title(title, fontsize=10)
        ax.set_yscale("log")
        ax.grid(axis="y", which="both", alpha=0.3)
    axes[0][0].legend(fontsize=9)
    meta = data.get("meta", {})
    scheme = "HTTPS" if meta.get("scheme") == "tls" else "plain HTTP"
    fig.suptitle(f"storages-s3 vs aws-sdk-s3 vs object_store over {scheme}, one s3s-fs server on tmpfs "
                 f"({os.path.basename(src)[:-5]}, median of {meta.get('runs', '?')} runs, min–max whiskers)", fontsize=11)
    fig.tight_layout()
    out = os.path.join(HERE, "results", "peers.png" if meta.get("scheme") == "tls" else "peers-http.png")
    fig.savefig(out, dpi=80)
    print(f"wrote {out}")


main()
