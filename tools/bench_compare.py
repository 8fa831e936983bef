#!/usr/bin/env python3
"""Compares two google-benchmark JSON files (a baseline and a new run).

For each benchmark present in both, takes the median throughput over its
repetitions (bytes_per_second, else items_per_second, else 1/real_time) and
prints new/baseline. A benchmark regresses when that ratio falls below
1 - threshold, where the threshold is derived from the repetitions' own
spread: max(--min-threshold, --sigmas * (rel_mad(base) + rel_mad(new))).
Exits 1 if any benchmark regressed, 0 otherwise, 2 on bad input.

Standard library only. Usage:
  tools/bench_compare.py BASELINE.json NEW.json [--min-threshold 0.05]
"""
import argparse
import json
import statistics
import sys


def throughput(run):
    for key in ("bytes_per_second", "items_per_second"):
        if key in run:
            return float(run[key])
    t = float(run.get("real_time", 0))
    return 1.0 / t if t > 0 else 0.0


def load(path):
    """Returns {name: [throughput of each repetition]}."""
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, ValueError) as e:
        sys.exit(f"bench_compare: cannot read {path}: {e}")
    out = {}
    for run in data.get("benchmarks", []):
        if run.get("run_type", "iteration") != "iteration":
            continue  # recompute aggregates ourselves from the repetitions
        if run.get("error_occurred"):
            continue
        name = run.get("run_name", run["name"])
        out.setdefault(name, []).append(throughput(run))
    return out


def rel_mad(values):
    """Median absolute deviation relative to the median (0 for one value)."""
    if len(values) < 2:
        return 0.0
    m = statistics.median(values)
    if m == 0:
        return 0.0
    return statistics.median(abs(v - m) for v in values) / m


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("baseline")
    ap.add_argument("new")
    ap.add_argument("--min-threshold", type=float, default=0.05,
                    help="smallest relative drop reported as a regression")
    ap.add_argument("--sigmas", type=float, default=3.0,
                    help="how many relative MADs of noise to tolerate")
    args = ap.parse_args()

    base, new = load(args.baseline), load(args.new)
    common = [n for n in new if n in base]
    if not common:
        print("bench_compare: no benchmark in common", file=sys.stderr)
        return 2
    regressions = 0
    width = max(len(n) for n in common)
    print(f"{'benchmark':<{width}}  {'baseline':>12}  {'new':>12}  {'ratio':>7}  {'threshold':>9}  verdict")
    for name in common:
        b, n = statistics.median(base[name]), statistics.median(new[name])
        if b <= 0:
            continue
        ratio = n / b
        thr = max(args.min_threshold, args.sigmas * (rel_mad(base[name]) + rel_mad(new[name])))
        verdict = "ok"
        if ratio < 1 - thr:
            verdict = "REGRESSION"
            regressions += 1
        elif ratio > 1 + thr:
            verdict = "faster"
        print(f"{name:<{width}}  {b:12.4g}  {n:12.4g}  {ratio:7.3f}  {thr:9.3f}  {verdict}")
    for name in sorted(set(base) - set(new)):
        print(f"{name:<{width}}  only in baseline")
    for name in sorted(set(new) - set(base)):
        print(f"{name:<{width}}  only in new run")
    print(f"{len(common)} compared, {regressions} regressed")
    return 1 if regressions else 0


if __name__ == "__main__":
    sys.exit(main())
