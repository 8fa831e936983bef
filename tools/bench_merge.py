#!/usr/bin/env python3
"""Merges the google-benchmark JSON files of several benchmark binaries into
one file that is still google-benchmark shaped.

Each input is named after its binary (checkpt_bench.json -> checkpt_bench);
its benchmark names get that prefix ("checkpt_bench/BM_Memcpy/real_time") so
names from different binaries cannot collide. The merged "context" is the
first input's, plus "binaries" (each input's own context) and any --set
KEY=VALUE pairs (tools/bench.sh records nproc, the CPU model, the mode and
the git commit there). An input that is missing, empty or not JSON (a binary
that crashed or matched no benchmark) is listed under "missing" and skipped.

Standard library only. Usage:
  tools/bench_merge.py --out ALL.json [--set KEY=VALUE]... FILE.json...
Exits 0, or 2 when no input could be read.
"""
import argparse
import json
import os
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="merged JSON file to write")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="extra context entry (repeatable)")
    ap.add_argument("inputs", nargs="+")
    args = ap.parse_args()

    context, binaries, missing, benchmarks = None, {}, [], []
    for path in args.inputs:
        stem = os.path.basename(path)
        if stem.endswith(".json"):
            stem = stem[: -len(".json")]
        try:
            with open(path) as f:
                data = json.load(f)
            runs = data["benchmarks"]
        except (OSError, ValueError, KeyError, TypeError) as e:
            print(f"bench_merge: skipping {path}: {e}", file=sys.stderr)
            missing.append(stem)
            continue
        ctx = data.get("context", {})
        binaries[stem] = ctx
        if context is None:
            context = {k: v for k, v in ctx.items() if k != "executable"}
        for run in runs:
            run = dict(run)
            run["binary"] = stem
            for key in ("name", "run_name"):
                if key in run:
                    run[key] = f"{stem}/{run[key]}"
            benchmarks.append(run)
    if context is None:
        print("bench_merge: no input could be read", file=sys.stderr)
        return 2
    context["binaries"] = binaries
    context["missing"] = missing
    for kv in args.set:
        key, sep, value = kv.partition("=")
        if not sep:
            ap.error(f"--set wants KEY=VALUE, got {kv!r}")
        context[key] = value
    with open(args.out, "w") as f:
        json.dump({"context": context, "benchmarks": benchmarks}, f, indent=1)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
