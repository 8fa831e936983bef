#!/usr/bin/env bash
# Runs tools/check_layering.py on its own cases, then on every package's
# sources (their layering_sources filegroups, in the runfiles tree).
set -euo pipefail
root="${TEST_SRCDIR}/${TEST_WORKSPACE}"
python3 "$root/tools/check_layering.py" --self-test
python3 "$root/tools/check_layering.py" "$root"
