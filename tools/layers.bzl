# The layering of the library (README.md, docs): util -> io -> checkpt ->
# wksp -> wksp/checkpt -> lib (the C API) -> distrib -> apps. A package's
# public targets are visible to the packages after it, and to bench, whose
# benchmarks measure every layer; nothing earlier may depend on them. Every
# package is private by default and names one of these lists per target.
# tools:layering_test checks the same order on the sources' #includes.

_APPS = [
    "//apps:__pkg__",
    "//bench:__pkg__",
]

AFTER_DISTRIB = _APPS

AFTER_LIB = ["//distrib:__pkg__"] + AFTER_DISTRIB

AFTER_WKSP_CHECKPT = [
    "//lib:__subpackages__",
    "//include:__subpackages__",
] + AFTER_LIB

AFTER_WKSP = ["//wksp/checkpt:__pkg__"] + AFTER_WKSP_CHECKPT

AFTER_CHECKPT = ["//wksp:__pkg__"] + AFTER_WKSP

AFTER_IO = ["//checkpt:__pkg__"] + AFTER_CHECKPT

AFTER_UTIL = ["//io:__pkg__"] + AFTER_IO

# The benchmarks that live beside their code, reachable as //bench:<name>.
BENCH = ["//bench:__pkg__"]

# Every source file of a package, for tools:layering_test.
def layering_sources(name = "layering_sources"):
    native.filegroup(
        name = name,
        srcs = native.glob(["**/*.h", "**/*.cc", "**/*.c"]),
        visibility = ["//tools:__pkg__"],
    )
