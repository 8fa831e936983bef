#!/usr/bin/env bash
# Installs wkspkit into a temporary prefix with //lib:install, checks the
# installed tree (files, links, SONAME, exported symbols, strict C11 and
# C++17 header builds), then builds and runs examples/c and examples/cpp
# against it as users would: with CMake (find_package(wkspkit)) and with
# plain `cc`/`c++` and pkg-config, shared and static.
set -euo pipefail
r="$TEST_SRCDIR/wkspkit"
t="$TEST_TMPDIR"
prefix="$t/prefix"
export HOME="$t"
export WKSP_SHMEM_ROOT="$t/shm"
mkdir -p "$WKSP_SHMEM_ROOT"

fail() { echo "FAIL: $*" >&2; exit 1; }

# ---- install -----------------------------------------------------------
"$r/lib/install" "$prefix"
read -r major minor patch <"$r/lib/version.txt"
v="$major.$minor.$patch"
for f in lib/libwkspkit.so.$v lib/libwkspkit.a include/wkspkit/wkspkit.h \
         include/wkspkit/wkspkit.hpp lib/pkgconfig/wkspkit.pc \
         lib/pkgconfig/wkspkit-static.pc lib/cmake/wkspkit/wkspkitConfig.cmake \
         lib/cmake/wkspkit/wkspkitConfigVersion.cmake bin/wksp_ctl \
         share/man/man1/wksp_ctl.1 share/bash-completion/completions/wksp_ctl; do
  [[ -f "$prefix/$f" ]] || fail "not installed: $f"
done
[[ "$(readlink "$prefix/lib/libwkspkit.so.$major")" == "libwkspkit.so.$v" ]] || fail "soname link"
[[ "$(readlink "$prefix/lib/libwkspkit.so")" == "libwkspkit.so.$major" ]] || fail "dev link"
# (Outputs are captured before matching: grep -q would end a pipe early.)
dyn=$(readelf -d "$prefix/lib/libwkspkit.so.$v")
[[ "$dyn" == *"(SONAME)"*"[libwkspkit.so.$major]"* ]] || fail "SONAME: $dyn"
# Only the C API is exported (plus the version node itself), and every
# function the header declares is.
syms=$(nm -D --defined-only "$prefix/lib/libwkspkit.so.$v" | awk '{ sub(/@.*/, "", $3); print $3 }')
others=$(grep -v -e '^wkspkit_' -e "^WKSPKIT_$major\$" <<<"$syms" || true)
[[ -z "$others" ]] || fail "exported beyond the C API: $others"
declared=$(grep -o '^[a-z][a-z_0-9 ]*\** *wkspkit_[a-z_0-9]*(' "$prefix/include/wkspkit/wkspkit.h" |
  grep -o 'wkspkit_[a-z_0-9]*(' | tr -d '(' | sort)
exported=$(grep '^wkspkit_' <<<"$syms" | sort)
[[ $(wc -l <<<"$declared") -gt 30 ]] || fail "found only $(wc -l <<<"$declared") declarations"
[[ "$declared" == "$exported" ]] ||
  fail "header and exports differ: $(diff <(echo "$declared") <(echo "$exported"))"

[[ "$("$prefix/bin/wksp_ctl" --version)" == *"$v"* ]] || fail "wksp_ctl --version"
# Installing again over it works (upgrades replace files).
"$r/lib/install" "$prefix" >/dev/null

# A library built with --config=asan or tsan needs its sanitizer's runtime
# linked first into every program using it: build the examples the same way.
undef=$(nm -D --undefined-only "$prefix/lib/libwkspkit.so.$v")
san=()
[[ "$undef" != *__asan_init* ]] || san=(-fsanitize=address,undefined)
[[ "$undef" != *__tsan_init* ]] || san=(-fsanitize=thread)
cmake_san=(-DCMAKE_C_FLAGS="${san[*]:-}" -DCMAKE_CXX_FLAGS="${san[*]:-}")

# The headers alone, strictly: C11 with no C++ header reachable, C++17.
printf '#include <wkspkit/wkspkit.h>\nint main(void) { return wkspkit_version()[0] == 0; }\n' >"$t/h.c"
cc -std=c11 -Wall -Wextra -Wpedantic -Werror -I"$prefix/include" -fsyntax-only "$t/h.c"
printf '#include <wkspkit/wkspkit.hpp>\nint main() { return 0; }\n' >"$t/h.cc"
c++ -std=c++17 -Wall -Wextra -Wpedantic -Werror -I"$prefix/include" -fsyntax-only "$t/h.cc"

run() {  # run NAME EXPECTED-TEXT COMMAND...
  local name=$1 want=$2
  shift 2
  local out
  out=$("$@") || fail "$name exited $?: $out"
  [[ "$out" == *"$want"* ]] || fail "$name printed '$out', want '$want'"
  echo "$name: $out"
}
ckdir="$t/ckpt"
mkdir -p "$ckdir"

# ---- CMake ---------------------------------------------------------------
for ex in c cpp; do
  cp -r "$r/examples/$ex" "$t/src-$ex"
  cmake -S "$t/src-$ex" -B "$t/build-$ex" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_BUILD_TYPE=Release "${cmake_san[@]}" >"$t/cmake-$ex.log" 2>&1 || { cat "$t/cmake-$ex.log"; fail "cmake $ex"; }
  cmake --build "$t/build-$ex" >>"$t/cmake-$ex.log" 2>&1 || { cat "$t/cmake-$ex.log"; fail "build $ex"; }
done
# CMake sets the build tree's RPATH to the prefix: no LD_LIBRARY_PATH.
run "cmake example_c" "identical; first says \"hello from C\"" "$t/build-c/example_c" "$ckdir"
run "cmake example_cpp" "identical; first says \"hello from C++\"" "$t/build-cpp/example_cpp" "$ckdir"
lib_used=$(ldd "$t/build-c/example_c" | grep "libwkspkit.so.$major => ")
lib_path=${lib_used#*=> }
lib_path=${lib_path%% (*}
[[ "$(realpath "$lib_path")" == "$(realpath "$prefix/lib/libwkspkit.so.$v")" ]] ||
  fail "example_c does not use the installed library: $lib_used"

# A version request the package must refuse.
mkdir -p "$t/src-v"
printf 'cmake_minimum_required(VERSION 3.16)\nproject(v C)\nfind_package(wkspkit %s REQUIRED)\n' \
  "$((major + 1)).0" >"$t/src-v/CMakeLists.txt"
if cmake -S "$t/src-v" -B "$t/build-v" -DCMAKE_PREFIX_PATH="$prefix" >"$t/cmake-v.log" 2>&1; then
  fail "find_package(wkspkit $((major + 1)).0) accepted $v"
fi

# ---- pkg-config ------------------------------------------------------------
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
[[ "$(pkg-config --modversion wkspkit)" == "$v" ]] || fail "pkg-config --modversion"
cc -std=c11 -Wall -Wextra -Werror "$r/examples/c/main.c" $(pkg-config --cflags --libs wkspkit) ${san[@]+"${san[@]}"} -o "$t/pc_c"
c++ -std=c++17 -Wall -Wextra -Werror "$r/examples/cpp/main.cc" $(pkg-config --cflags --libs wkspkit) ${san[@]+"${san[@]}"} -o "$t/pc_cpp"
LD_LIBRARY_PATH="$prefix/lib" run "pkg-config example_c" "identical" "$t/pc_c" "$ckdir"
LD_LIBRARY_PATH="$prefix/lib" run "pkg-config example_cpp" "identical" "$t/pc_cpp" "$ckdir"

# Static: libwkspkit.a plus the system libraries the .pc lists.
cc -std=c11 "$r/examples/c/main.c" $(pkg-config --cflags --libs wkspkit-static) ${san[@]+"${san[@]}"} -o "$t/static_c"
[[ "$(ldd "$t/static_c")" != *libwkspkit* ]] || fail "static_c links libwkspkit.so"
run "static example_c" "identical" "$t/static_c" "$ckdir"

# CMake, static target.
mkdir -p "$t/src-s"
cp "$r/examples/c/main.c" "$t/src-s/"
printf 'cmake_minimum_required(VERSION 3.16)\nproject(s C)\nfind_package(wkspkit REQUIRED)\nadd_executable(static_c main.c)\ntarget_link_libraries(static_c PRIVATE wkspkit::wkspkit_static)\n' >"$t/src-s/CMakeLists.txt"
cmake -S "$t/src-s" -B "$t/build-s" -DCMAKE_PREFIX_PATH="$prefix" "${cmake_san[@]}" >"$t/cmake-s.log" 2>&1 &&
  cmake --build "$t/build-s" >>"$t/cmake-s.log" 2>&1 || { cat "$t/cmake-s.log"; fail "cmake static"; }
run "cmake static example_c" "identical" "$t/build-s/static_c" "$ckdir"

# Nothing left behind by the examples.
[[ -z "$(ls -A "$WKSP_SHMEM_ROOT")" ]] || fail "workspaces left: $(ls -A "$WKSP_SHMEM_ROOT")"
[[ -z "$(ls -A "$ckdir")" ]] || fail "checkpoints left: $(ls -A "$ckdir")"
echo PASS
