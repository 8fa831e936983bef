#!/usr/bin/env python3
"""Checks the #includes of every source file against the layering.

The library's packages form one order (tools/layers.bzl, README.md):
util -> io -> checkpt -> wksp -> wksp/checkpt -> lib (and include/, the C
API) -> distrib -> apps. Bazel visibility enforces the order on targets, but
GCC does not check that an #include belongs to a dependency, so a file can
still reach a later package or another package's private headers. This
fails on:
  - an #include of a later package's header;
  - an #include of another package's internal header (PKG/internal/... or
    PKG/internal.h);
  - an #include of bench/ from a library package (bench sits on top);
  - an #include of testdata/ from a library file that is not a test,
    benchmark or test helper.

Usage: check_layering.py ROOT   (scans ROOT's .h/.cc/.c files)
       check_layering.py --self-test
"""
import os
import re
import sys

LAYERS = ["util", "io", "checkpt", "wksp", "wksp/checkpt", "lib", "distrib",
          "apps"]
LAYER = {p: i for i, p in enumerate(LAYERS)}
LAYER["include"] = LAYER["lib"]  # the C API's installed headers
SUPPORT = ["bench", "testdata", "tools", "examples"]
PACKAGES = sorted(list(LAYER) + SUPPORT, key=len, reverse=True)

# Known exceptions, each with its reason. Keep this short.
ALLOWED = {
    # The restore mark is set by wksp/checkpt's restore and read by wksp:
    # wksp's test of it kills a real restore.
    ("wksp/restore_mark_test.cc", "wksp/checkpt/wksp_checkpt.h"),
}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
TESTISH = re.compile(
    r'(_test\.(cc|c|h)|(^|/)test_util\.(h|cc)|_fuzz\.(h|cc)|fuzz_main\.cc|'
    r'_bench\.cc)$')


def package_of(path):
    for p in PACKAGES:
        if path == p or path.startswith(p + "/"):
            return p
    return None


def is_internal(header):
    return "/internal/" in header or header.endswith("/internal.h")


def violations(path, text):
    """What is wrong with the includes of `path` (relative to the root)."""
    src = package_of(path)
    out = []
    for header in INCLUDE.findall(text):
        dst = package_of(header)
        if dst is None or dst == src or (path, header) in ALLOWED:
            continue
        if is_internal(header):
            out.append("%s includes %s: another package's internal header"
                       % (path, header))
        elif src in LAYER and dst in LAYER and LAYER[dst] > LAYER[src]:
            out.append("%s includes %s: %s comes after %s (%s)"
                       % (path, header, dst, src, " -> ".join(LAYERS)))
        elif src in LAYER and dst == "bench":
            out.append("%s includes %s: library code must not use bench"
                       % (path, header))
        elif src in LAYER and dst == "testdata" and not TESTISH.search(path):
            out.append("%s includes %s: only tests may use testdata"
                       % (path, header))
    return out


def scan(root):
    found, files = [], 0
    for d, dirs, names in os.walk(root, followlinks=True):
        # Not ours: Bazel's output links, other repositories, hidden dirs.
        dirs[:] = [x for x in dirs if not x.startswith(("bazel-", "."))
                   and x not in ("external", "third_party")]
        for n in names:
            if not n.endswith((".h", ".cc", ".c")):
                continue
            full = os.path.join(d, n)
            rel = os.path.relpath(full, root)
            with open(full, encoding="utf-8", errors="replace") as f:
                found += violations(rel, f.read())
            files += 1
    return found, files


def self_test():
    bad = {
        ("checkpt/x.cc", '#include "wksp/wksp.h"'): "after",
        ("io/x.h", '#include "wksp/checkpt/wksp_checkpt.h"'): "after",
        ("wksp/checkpt/x.cc", '#include "wksp/internal/layout.h"'): "internal",
        ("distrib/x.cc", '#include "checkpt/internal.h"'): "internal",
        ("lib/x.cc", '#include "distrib/distrib.h"'): "after",
        ("distrib/x.cc", '#include "bench/workload.h"'): "bench",
        ("wksp/x.cc", '#include "testdata/ref_workspace.h"'): "testdata",
        ("util/x.cc", '  #  include "apps/parse.h"'): "after",
    }
    good = [
        ("wksp/checkpt/x.cc", '#include "wksp/wksp.h"'),
        ("wksp/x.cc", '#include "wksp/internal/layout.h"'),
        ("apps/x.cc", '#include "distrib/distrib.h"\n#include "absl/x.h"'),
        ("bench/x.cc", '#include "wksp/checkpt/wksp_checkpt.h"'),
        ("wksp/checkpt/x_test.cc", '#include "testdata/ref_workspace.h"'),
        ("wksp/restore_mark_test.cc", '#include "wksp/checkpt/wksp_checkpt.h"'),
        ("lib/x.cc", '#include "wksp/checkpt/wksp_checkpt.h"'),
        ("apps/x.cc", '// #include "x/internal.h" is not an include'),
    ]
    ok = True
    for (path, text), why in bad.items():
        v = violations(path, text)
        if len(v) != 1 or why not in v[0]:
            print("self-test: %s with %r gave %r (want one '%s')"
                  % (path, text, v, why))
            ok = False
    for path, text in good:
        if violations(path, text):
            print("self-test: %s with %r gave %r (want none)"
                  % (path, text, violations(path, text)))
            ok = False
    return ok


def main(argv):
    if argv[1:] == ["--self-test"]:
        return 0 if self_test() else 1
    if len(argv) != 2:
        print(__doc__)
        return 2
    found, files = scan(argv[1])
    for v in found:
        print("layering: " + v)
    if files == 0:
        print("layering: no source files under %s" % argv[1])
        return 1
    print("layering: %d files, %d violations" % (files, len(found)))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
