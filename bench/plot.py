"""Throughput and latency against concurrency, from a `fulcio-loadgen run --json-out` report.

Usage: plot.py REPORT.json OUT.png [TITLE]   (bench/plot runs it in a venv with matplotlib)

The report's `levels` are one row per concurrency level (concurrency, certs_per_second,
p50_ms, p90_ms, p99_ms, max_ms, errors, shed). The chart has certificates/s on the left axis
and p50/p99 latency (ms, log scale) on the right, against concurrency on a log-2 axis; levels
with failed requests are marked with their count.
"""

import datetime
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402


def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            report = json.load(f)
    except (OSError, ValueError) as e:
        sys.exit(f"plot.py: reading {path}: {e}")
    levels = sorted(report.get("levels", []), key=lambda l: l["concurrency"])
    if not levels:
        sys.exit(f"plot.py: {path}: no levels in the report")
    return report, levels


def subtitle(report):
    machine = report.get("machine", {})
    when = datetime.datetime.fromtimestamp(
        report.get("unix_time", 0), tz=datetime.timezone.utc
    ).strftime("%Y-%m-%d %H:%M UTC")
    sct = "CT embedded" if report.get("ct_embedded") else "no CT"
    return (
        f"{machine.get('cores', '?')} cores, {machine.get('cpu_model', '?')}; "
        f"{report.get('transport', 'http')} {report.get('mode', '')}, {sct}; {when}"
    )


def plot(report, levels, out, title):
    conc = [l["concurrency"] for l in levels]
    rate = [l["certs_per_second"] for l in levels]
    p50 = [l["p50_ms"] for l in levels]
    p99 = [l["p99_ms"] for l in levels]

    fig, left = plt.subplots(figsize=(8, 4.8), dpi=120)
    right = left.twinx()
    left.plot(conc, rate, "o-", color="tab:blue", label="certificates/s")
    right.plot(conc, p50, "s--", color="tab:green", label="p50 latency")
    right.plot(conc, p99, "^--", color="tab:red", label="p99 latency")

    left.set_xscale("log", base=2)
    left.set_xticks(conc)
    left.set_xticklabels([str(c) for c in conc])
    left.set_xlabel("concurrent clients")
    left.set_ylabel("certificates/s", color="tab:blue")
    left.set_ylim(bottom=0, top=max(rate) * 1.15 if max(rate) > 0 else 1)
    right.set_yscale("log")
    right.set_ylabel("latency, ms (log)")
    plain = FuncFormatter(lambda v, _: f"{v:g}")
    right.yaxis.set_major_formatter(plain)
    right.yaxis.set_minor_formatter(plain)
    right.tick_params(axis="y", which="minor", labelsize=7)
    left.grid(True, which="major", alpha=0.3)

    for c, r, level in zip(conc, rate, levels):
        left.annotate(f"{r:,.0f}", (c, r), textcoords="offset points", xytext=(0, 6),
                      ha="center", fontsize=8, color="tab:blue")
        if level.get("errors", 0):
            shed = level.get("shed", 0)
            note = f"{level['errors']} errors" + (f" ({shed} shed)" if shed else "")
            left.annotate(note, (c, 0), textcoords="offset points", xytext=(0, 4),
                          ha="center", fontsize=7, color="tab:gray")

    lines = left.get_lines()[:1] + right.get_lines()
    left.legend(lines, [l.get_label() for l in lines], loc="upper left", fontsize=8)
    fig.suptitle(title, fontsize=11)
    left.set_title(subtitle(report), fontsize=8)
    fig.tight_layout()
    fig.savefig(out)


def main(argv):
    if len(argv) not in (3, 4):
        sys.exit("usage: plot.py REPORT.json OUT.png [TITLE]")
    report, levels = load(argv[1])
    title = argv[3] if len(argv) == 4 else "fulcio: throughput and latency against concurrency"
    plot(report, levels, argv[2], title)


if __name__ == "__main__":
    main(sys.argv)
