#!/usr/bin/env bash
# Installs wkspkit into a prefix (docs/LIBRARY.md):
#   ./bazelw run -c opt //lib:install -- PREFIX
# PREFIX/lib/libwkspkit.so.X.Y.Z (+ libwkspkit.so.X, libwkspkit.so links),
# PREFIX/lib/libwkspkit.a, PREFIX/include/wkspkit/, PREFIX/lib/pkgconfig/,
# PREFIX/lib/cmake/wkspkit/, PREFIX/bin/wksp_ctl, its man page and bash
# completion under PREFIX/share. Files already there are replaced; nothing
# else in PREFIX is touched. A relative PREFIX means the directory `bazel run`
# was started from.
set -euo pipefail

if [[ $# -ne 1 || "$1" == -* ]]; then
  echo "usage: install PREFIX   (e.g. ./bazelw run -c opt //lib:install -- \$HOME/.local)" >&2
  exit 2
fi
prefix=$1
if [[ "$prefix" != /* ]]; then
  prefix="${BUILD_WORKING_DIRECTORY:-$PWD}/$prefix"
fi

# The built files are this script's runfiles: beside it under `bazel run`
# (and when run from bazel-bin), in the test's runfiles under `bazel test`.
here="$0.runfiles/wkspkit"
if [[ ! -d "$here" ]]; then
  for d in "${RUNFILES_DIR:-}" "${TEST_SRCDIR:-}"; do
    if [[ -n "$d" && -d "$d/wkspkit" ]]; then here="$d/wkspkit"; break; fi
  done
fi
if [[ ! -f "$here/lib/version.txt" ]]; then
  echo "install: cannot find the built files (runfiles of $0); run it as" \
       "./bazelw run //lib:install -- PREFIX" >&2
  exit 1
fi

read -r major minor patch <"$here/lib/version.txt"
version="$major.$minor.$patch"
soname="libwkspkit.so.$major"
# The SONAME the linker wrote must be the one the version says.
if command -v readelf >/dev/null; then
  got="$(readelf -d "$here/lib/libwkspkit.so.$major" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')"
  if [[ "$got" != "$soname" ]]; then
    echo "install: libwkspkit.so has SONAME '$got', but version $version wants $soname" \
         "(lib/BUILD.bazel's -soname and include/wkspkit/wkspkit.h disagree)" >&2
    exit 1
  fi
fi

umask 022
install -d "$prefix/lib/pkgconfig" "$prefix/lib/cmake/wkspkit" \
  "$prefix/include/wkspkit" "$prefix/bin" "$prefix/share/man/man1" \
  "$prefix/share/bash-completion/completions"
install -m 755 "$here/lib/libwkspkit.so.$major" "$prefix/lib/libwkspkit.so.$version"
ln -sfn "libwkspkit.so.$version" "$prefix/lib/$soname"
ln -sfn "$soname" "$prefix/lib/libwkspkit.so"
install -m 644 "$here/lib/libwkspkit.a" "$prefix/lib/libwkspkit.a"
install -m 644 "$here"/include/wkspkit/*.h "$here"/include/wkspkit/*.hpp \
  "$prefix/include/wkspkit/"
install -m 644 "$here/lib/wkspkit.pc" "$here/lib/wkspkit-static.pc" \
  "$prefix/lib/pkgconfig/"
install -m 644 "$here/lib/wkspkitConfig.cmake" \
  "$here/lib/wkspkitConfigVersion.cmake" "$prefix/lib/cmake/wkspkit/"
install -m 755 "$here/apps/wksp_ctl" "$prefix/bin/wksp_ctl"
install -m 644 "$here/docs/wksp_ctl.1" "$prefix/share/man/man1/wksp_ctl.1"
install -m 644 "$here/apps/wksp_ctl.bash-completion" \
  "$prefix/share/bash-completion/completions/wksp_ctl"
echo "installed wkspkit $version into $prefix"
