#!/usr/bin/env python3
"""Writes testdata/firedancer_ref/ref_vN.allocs.tsv from ref_vN.json, so C++
tests can read the expected allocations without a JSON parser.
Usage: tools/ref_json_to_tsv.py testdata/firedancer_ref/ref_v1.json ..."""
import json
import sys

for path in sys.argv[1:]:
    d = json.load(open(path))
    h = d["header"]
    v = path.rsplit("ref_v", 1)[1].split(".")[0]
    with open(path[: -len(".json")] + ".allocs.tsv", "w") as f:
        f.write(f"# {d['file']}: style {h['style']} fsc {h.get('frame_style_compressed') or 0} "
                f"name {h['name']} seed {h['seed']} part_max {h['part_max']} data_max {h['data_max']}\n")
        f.write(f"# gaddr_lo\tgaddr_hi\ttag\tsha256 (generated from ref_v{v}.json by tools/ref_json_to_tsv.py)\n")
        for a in d["allocations"]:
            f.write(f"{a['gaddr_lo']}\t{a['gaddr_hi']}\t{a['tag']}\t{a['sha256']}\n")
