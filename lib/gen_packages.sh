#!/usr/bin/env bash
# Fills the pkg-config and CMake templates (wkspkit.pc.in, ...): the build's
# half of the packages; the installed files find their prefix themselves.
# Usage: gen_packages.sh OUT_DIR VERSION_TXT LINK_FLAGS TEMPLATE...
set -euo pipefail
out=$1 version_txt=$2 link_flags=$3
shift 3
read -r major minor patch <"$version_txt"
version="$major.$minor.$patch"
# The archive's consumers link what its objects need: the system libraries
# Bazel links (abseil, lz4, xxhash, threads) and the C++ runtime.
libs="$(cat "$link_flags") -lstdc++ -lm"
libs="$(echo $libs)"   # one line, single spaces
cmake_libs="${libs// /;}"
for t in "$@"; do
  case "$t" in *.in) ;; *) continue ;; esac
  base="$(basename "$t" .in)"
  sed -e "s|@VERSION@|$version|g" -e "s|@MAJOR@|$major|g" \
      -e "s|@LIBS_PRIVATE@|$libs|g" -e "s|@CMAKE_LIBS_PRIVATE@|$cmake_libs|g" \
      "$t" >"$out/$base"
done
