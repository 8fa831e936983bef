#!/usr/bin/env python3
"""Prints the benchmark table of a google-benchmark JSON run and, given a
baseline, judges each benchmark against it.

  tools/bench_compare.py NEW.json                 # table only
  tools/bench_compare.py BASELINE.json NEW.json   # table + verdicts

Each figure is the median over a benchmark's repetitions: GB/s when it sets
bytes_per_second, M/s when items_per_second, else nanoseconds per iteration.
"vs ceiling" shows the ratio counters the benchmark itself reports (any user
counter named x_* or "ratio", e.g. x_memcpy: its throughput over memcpy
measured in the same process); for a byte throughput with none, "m1" is its
ratio to ceilings_bench's 1-thread memcpy of the same run.

Against a baseline, each benchmark is judged on a ratio that cancels the
machine's speed and load as far as the run allows (--judge ratio, default):
its own ceiling counter when it has one (the first x_* counter, else
"ratio"); else, for a byte throughput, its throughput over the same run's
1-thread memcpy ceiling (m1); else (a time-only benchmark) its raw
throughput, 1/time. The ceilings themselves (ceilings_bench) measure the
machine, not our code: they (and any benchmark labelled "ceiling" with
state.SetLabel) are shown but not judged. --judge throughput
judges raw throughput everywhere. The judged quantity regresses when
new/baseline (of the medians over the repetitions) falls below
1 - threshold, where
  threshold = max(--min-threshold, --sigmas * (relMAD(base) + relMAD(new)))
and relMAD is the repetitions' median absolute deviation over their median:
noisier measurements get a wider band. A benchmark that reported an error is
a failure too. Only ratios are judged, never absolute times.

Exits 0 when nothing regressed, 1 on a regression or a benchmark error, 2 on
bad input (unreadable file, nothing in common). Standard library only.
"""
import argparse
import json
import re
import statistics
import sys

TIME_TO_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}
MEMCPY_1 = re.compile(r"^ceilings_bench/BM_Memcpy/1(/|$)")


class Bench:
    """The iteration runs (repetitions) of one benchmark."""

    def __init__(self, name):
        self.name = name
        self.runs = []
        self.error = None

    def values(self, key):
        return [float(r[key]) for r in self.runs if key in r]

    def kind(self):
        for key in ("bytes_per_second", "items_per_second"):
            if self.runs and all(key in r for r in self.runs):
                return key
        return "time"

    def throughputs(self):
        """Higher is better: bytes/s, items/s, or iterations per ns."""
        k = self.kind()
        if k != "time":
            return self.values(k)
        out = []
        for r in self.runs:
            ns = float(r.get("real_time", 0)) * TIME_TO_NS.get(
                r.get("time_unit", "ns"), 1.0)
            out.append(1.0 / ns if ns > 0 else 0.0)
        return out

    def figure(self):
        k = self.kind()
        if k == "bytes_per_second":
            return f"{statistics.median(self.values(k)) / 1e9:.3f} GB/s"
        if k == "items_per_second":
            return f"{statistics.median(self.values(k)) / 1e6:.3f} M/s"
        t = statistics.median(self.throughputs())
        return f"{1.0 / t:.4g} ns" if t > 0 else "-"

    def is_ceiling(self):
        """ceilings_bench, or a benchmark labelled "ceiling" (SetLabel)."""
        return (self.name.startswith("ceilings_bench/") or
                any(r.get("label") == "ceiling" for r in self.runs))

    def judged(self, how, memcpy1):
        """(label, per-repetition values) of the quantity to judge."""
        if how == "ratio":
            counters = [k for k in self.ceiling_counters() if k.startswith("x_")]
            counters += [k for k in self.ceiling_counters() if k == "ratio"]
            for k in counters:
                # With interleaved repetitions a counter can be missing from
                # the first ones (its reference had not run yet).
                vals = self.values(k)
                if vals:
                    return k, vals
            if memcpy1 and self.kind() == "bytes_per_second":
                return "m1", [v / memcpy1 for v in self.throughputs()]
        return "tput", self.throughputs()

    def ceiling_counters(self):
        keys = sorted({k for r in self.runs for k in r
                       if k.startswith("x_") or k == "ratio"})
        return {k: statistics.median(self.values(k)) for k in keys}


def load(path):
    """Returns (context, {name: Bench}) in file order."""
    try:
        with open(path) as f:
            data = json.load(f)
        runs = data["benchmarks"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        print(f"bench_compare: cannot read {path}: {e}", file=sys.stderr)
        sys.exit(2)
    out = {}
    # Interleaved repetitions come in random order: list benchmarks in their
    # binary's registration order instead.
    order = {}
    for run in runs:
        order.setdefault(run.get("binary", ""), len(order))
    runs = sorted(runs, key=lambda r: (order[r.get("binary", "")],
                                       r.get("family_index", 0),
                                       r.get("per_family_instance_index", 0)))
    for run in runs:
        if run.get("run_type", "iteration") != "iteration":
            continue  # aggregates are recomputed from the repetitions
        name = run.get("run_name", run.get("name", "?"))
        b = out.setdefault(name, Bench(name))
        if run.get("error_occurred"):
            b.error = run.get("error_message", "error")
        else:
            b.runs.append(run)
    return data.get("context", {}), out


def rel_mad(values):
    """Median absolute deviation relative to the median (0 for one value)."""
    if len(values) < 2:
        return 0.0
    m = statistics.median(values)
    if m == 0:
        return 0.0
    return statistics.median(abs(v - m) for v in values) / m


def find_memcpy1(benches):
    return next((statistics.median(b.values("bytes_per_second"))
                 for n, b in benches.items()
                 if MEMCPY_1.match(n) and b.values("bytes_per_second")), None)


def describe(ctx):
    cores = ctx.get("nproc") or ctx.get("num_cpus", "?")
    parts = [f"{cores} cores", ctx.get("cpu_model", "cpu ?")]
    for key in ("mode", "git_commit", "date", "load_before",
                "library_build_type"):
        if key in ctx:
            parts.append(f"{key}={ctx[key]}")
    return ", ".join(str(p) for p in parts)


def short(name):
    """Display name: drops google-benchmark's decorations."""
    return re.sub(r"/(iterations:\d+|manual_time|real_time|repeats:\d+)", "",
                  name)


def ceiling_text(bench, memcpy1):
    if bench.is_ceiling():
        return "(ceiling)"
    counters = bench.ceiling_counters()
    if counters:
        return " ".join(f"{k} {v:.2f}" for k, v in counters.items())
    if memcpy1 and bench.kind() == "bytes_per_second" and bench.runs:
        return f"m1 {statistics.median(bench.values('bytes_per_second')) / memcpy1:.2f}"
    return ""


def main():
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="+", metavar="[BASELINE] NEW",
                    help="one run (table only) or a baseline and a run")
    ap.add_argument("--min-threshold", type=float, default=0.05,
                    help="smallest relative drop reported as a regression")
    ap.add_argument("--sigmas", type=float, default=3.0,
                    help="how many relative MADs of noise to tolerate")
    ap.add_argument("--judge", choices=("ratio", "throughput"),
                    default="ratio",
                    help="judge ceiling-normalized figures (default) or raw "
                         "throughput")
    args = ap.parse_args()
    if len(args.files) > 2:
        ap.error("give one file (a run) or two (baseline, run)")

    base_ctx, base = (load(args.files[0]) if len(args.files) == 2
                      else ({}, None))
    new_ctx, new = load(args.files[-1])
    if not new:
        print("bench_compare: no benchmark in the run", file=sys.stderr)
        return 2
    print(f"run:      {describe(new_ctx)}")
    if base is not None:
        print(f"baseline: {describe(base_ctx)}")
        if not any(n in base for n in new):
            print("bench_compare: no benchmark in common", file=sys.stderr)
            return 2
        bc = base_ctx.get("nproc") or base_ctx.get("num_cpus")
        nc = new_ctx.get("nproc") or new_ctx.get("num_cpus")
        if (str(bc), base_ctx.get("cpu_model")) != (str(nc), new_ctx.get("cpu_model")):
            print("WARNING: baseline comes from another machine: ratios to it "
                  "mean little; compare the ceiling ratios instead")
    memcpy1 = find_memcpy1(new)
    base_memcpy1 = find_memcpy1(base) if base is not None else None
    if base is not None and args.judge == "ratio" and not (memcpy1 and base_memcpy1):
        memcpy1 = base_memcpy1 = None  # m1 needs the ceiling on both sides

    rows = []
    counts = {"compared": 0, "REGRESSION": 0, "faster": 0, "ERROR": 0}
    for name, b in new.items():
        row = [short(name), b.figure() if b.runs else "-",
               ceiling_text(b, memcpy1), "", "", ""]
        if b.error or not b.runs:
            row[5] = f"ERROR: {b.error or 'no result'}"
            counts["ERROR"] += 1
        elif base is not None:
            ob = base.get(name)
            if ob is None or not ob.runs:
                row[5] = "new"
            elif args.judge == "ratio" and b.is_ceiling():
                bm = statistics.median(ob.throughputs())
                if bm > 0:
                    row[3:] = [f"{statistics.median(b.throughputs()) / bm:.3f}",
                               "", "machine (not judged)"]
            else:
                label, nv = b.judged(args.judge, memcpy1)
                blabel, bv = ob.judged(args.judge, base_memcpy1)
                if blabel != label:  # counters differ: fall back to raw
                    label, nv, bv = "tput", b.throughputs(), ob.throughputs()
                bm, nm = statistics.median(bv), statistics.median(nv)
                if bm > 0:
                    ratio = nm / bm
                    thr = max(args.min_threshold,
                              args.sigmas * (rel_mad(bv) + rel_mad(nv)))
                    verdict = "ok"
                    if ratio < 1 - thr:
                        verdict = "REGRESSION"
                    elif ratio > 1 + thr:
                        verdict = "faster"
                    counts["compared"] += 1
                    if verdict != "ok":
                        counts[verdict] += 1
                    row[3:] = [f"{ratio:.3f} {label}", f"{thr:.3f}", verdict]
        rows.append(row)
    if base is not None:
        for name in base:
            if name not in new:
                rows.append([short(name), "-", "", "", "", "only in baseline"])

    head = ["benchmark", "figure", "vs ceiling", "vs base", "thr", "verdict"]
    widths = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
    fmt = "  ".join(f"{{:{'<' if i in (0, 2, 5) else '>'}{w}}}"
                    for i, w in enumerate(widths))
    print(fmt.format(*head).rstrip())
    for r in rows:
        print(fmt.format(*r).rstrip())
    reps = max((len(b.runs) for b in new.values()), default=0)
    summary = [f"{len(new)} benchmarks", f"up to {reps} repetitions each"]
    if base is not None:
        summary += [f"{counts['compared']} compared",
                    f"{counts['REGRESSION']} regressed",
                    f"{counts['faster']} faster"]
    summary.append(f"{counts['ERROR']} errors")
    print(", ".join(summary))
    if any(r[2].startswith("m1") for r in rows):
        print("m1 = figure / ceilings_bench memcpy (1 thread) of this run")
    if base is not None:
        print("vs base: new/baseline of the judged quantity (x_*/ratio: the "
              "benchmark's ceiling counter; m1; tput: raw throughput)")
    return 1 if counts["REGRESSION"] or counts["ERROR"] else 0


if __name__ == "__main__":
    sys.exit(main())
