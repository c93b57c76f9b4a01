#!/usr/bin/env bash
# The C face's checks, run by `make test-c` after `make c-examples`:
# header compiles (C, C++, twice), the C and C++ tests of rings, bounded loads and locks
# (shared and static), valgrind and ASAN+UBSAN, exported symbols, SONAME,
# examples agree, C and C++ lock examples share one counter exactly.
# Prints "test-c: N passed, N failed" and exits 1 on any failure.
#
# Environment (set by ffi/ffi.mk): CC CXX RELEASE BUILD CFLAGS CXXFLAGS
# LINK_SO (flags to link the shared library) STATIC_LIBS (what libringlock.a needs).
set -uo pipefail

: "${CC:=gcc}" "${CXX:=g++}" "${RELEASE:=target/release}" "${BUILD:=build}"
: "${CFLAGS:=-std=c11 -Wall -Wextra -Wpedantic -Werror -Iinclude}"
: "${CXXFLAGS:=-std=c++17 -Wall -Wextra -Wpedantic -Werror -Iinclude}"
: "${LINK_SO:=-L$RELEASE -lringlock -Wl,-rpath,$PWD/$BUILD/lib}"
: "${STATIC_LIBS:=-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc}"

out=$BUILD/tests
mkdir -p "$out"
passed=0
failed=0

pass() { passed=$((passed + 1)); echo "ok: $*"; }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }
check() { # check DESCRIPTION COMMAND...
    local what=$1; shift
    if "$@" > "$out/last.log" 2>&1; then pass "$what"; else fail "$what"; sed 's/^/  | /' "$out/last.log" | head -40; fi
}
# Runs a test program and adds its own "N passed, N failed" line to the totals.
run_counted() { # run_counted DESCRIPTION COMMAND...
    local what=$1; shift
    local log="$out/run.log" rc p f
    "$@" > "$log" 2>&1
    rc=$?
    sed 's/^/  | /' "$log" | grep -v ' passed, 0 failed$' | head -40
    read -r p f < <(sed -n 's/^.*: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$log" | tail -n1)
    if [[ $rc -eq 0 && -n "${p:-}" ]]; then
        passed=$((passed + p)); failed=$((failed + f))
        echo "ok: $what ($p checks)"
    else
        failed=$((failed + ${f:-0} + 1))
        passed=$((passed + ${p:-0}))
        echo "FAIL: $what (exit $rc)"
    fi
}

# ---- the header ---------------------------------------------------------------
printf '#include "ringlock.h"\n#include "ringlock.h"\nint main(void) { return RL_OK; }\n' > "$out/twice.c"
cp "$out/twice.c" "$out/twice.cpp"
printf '#include "ringlock.hpp"\n#include "ringlock.hpp"\n#include "ringlock.h"\nint main() { return 0; }\n' > "$out/twice_hpp.cpp"
check "ringlock.h compiles as C11, included twice" $CC $CFLAGS -o "$out/twice_c" "$out/twice.c"
check "ringlock.h compiles as C99" $CC ${CFLAGS/-std=c11/-std=c99} -fsyntax-only "$out/twice.c"
check "ringlock.h compiles as C++17, included twice" $CXX $CXXFLAGS -o "$out/twice_cpp" "$out/twice.cpp"
check "ringlock.h compiles as C++11" $CXX ${CXXFLAGS/-std=c++17/-std=c++11} -fsyntax-only "$out/twice.cpp"
check "ringlock.hpp compiles as C++17, included twice" $CXX $CXXFLAGS -fsyntax-only "$out/twice_hpp.cpp"

# ---- the test programs ----------------------------------------------------------
check "build test_ring (shared)" $CC $CFLAGS -O1 -g ffi/tests/c/test_ring.c $LINK_SO -lpthread -o "$out/test_ring"
check "build test_ring (static)" $CC $CFLAGS -O1 ffi/tests/c/test_ring.c "$RELEASE/libringlock.a" $STATIC_LIBS -o "$out/test_ring_static"
check "build test_ring_cpp" $CXX $CXXFLAGS -O1 -g ffi/tests/cpp/test_ring.cpp $LINK_SO -o "$out/test_ring_cpp"
run_counted "test_ring (shared)" "$out/test_ring"
run_counted "test_ring (static)" "$out/test_ring_static"
run_counted "test_ring_cpp" "$out/test_ring_cpp"
check "build test_bounded (shared)" $CC $CFLAGS -O1 -g ffi/tests/c/test_bounded.c $LINK_SO -lpthread -o "$out/test_bounded"
check "build test_bounded (static)" $CC $CFLAGS -O1 ffi/tests/c/test_bounded.c "$RELEASE/libringlock.a" $STATIC_LIBS -o "$out/test_bounded_static"
check "build test_bounded_cpp" $CXX $CXXFLAGS -O1 -g -pthread ffi/tests/cpp/test_bounded.cpp $LINK_SO -o "$out/test_bounded_cpp"
run_counted "test_bounded (shared)" "$out/test_bounded"
run_counted "test_bounded (static)" "$out/test_bounded_static"
run_counted "test_bounded_cpp" "$out/test_bounded_cpp"
check "build test_maglev" $CC $CFLAGS -O1 -g ffi/tests/c/test_maglev.c $LINK_SO -o "$out/test_maglev"
run_counted "test_maglev" "$out/test_maglev"
check "build test_diff (shared)" $CC $CFLAGS -O1 -g ffi/tests/c/test_diff.c $LINK_SO -lm -o "$out/test_diff"
check "build test_diff (static)" $CC $CFLAGS -O1 ffi/tests/c/test_diff.c "$RELEASE/libringlock.a" $STATIC_LIBS -o "$out/test_diff_static"
check "build test_diff_cpp" $CXX $CXXFLAGS -O1 -g ffi/tests/cpp/test_diff.cpp $LINK_SO -o "$out/test_diff_cpp"
run_counted "test_diff (shared)" "$out/test_diff"
run_counted "test_diff (static)" "$out/test_diff_static"
run_counted "test_diff_cpp" "$out/test_diff_cpp"
check "build test_lock (shared)" $CC $CFLAGS -O1 -g ffi/tests/c/test_lock.c $LINK_SO -lpthread -o "$out/test_lock"
check "build test_lock (static)" $CC $CFLAGS -O1 ffi/tests/c/test_lock.c "$RELEASE/libringlock.a" $STATIC_LIBS -o "$out/test_lock_static"
check "build test_lock_cpp" $CXX $CXXFLAGS -O1 -g -pthread ffi/tests/cpp/test_lock.cpp $LINK_SO -o "$out/test_lock_cpp"
run_counted "test_lock (shared)" "$out/test_lock"
run_counted "test_lock (static)" "$out/test_lock_static"
run_counted "test_lock_cpp" "$out/test_lock_cpp"

if command -v valgrind > /dev/null; then
    run_counted "test_ring under valgrind" valgrind -q --error-exitcode=1 --leak-check=full "$out/test_ring"
    run_counted "test_ring_cpp under valgrind" valgrind -q --error-exitcode=1 --leak-check=full "$out/test_ring_cpp"
    run_counted "test_maglev under valgrind" valgrind -q --error-exitcode=1 --leak-check=full "$out/test_maglev"
    run_counted "test_diff under valgrind" valgrind -q --error-exitcode=1 --leak-check=full "$out/test_diff"
    run_counted "test_diff_cpp under valgrind" valgrind -q --error-exitcode=1 --leak-check=full "$out/test_diff_cpp"
    # valgrind follows the forked children too (they must exit clean); the
    # ones killed with SIGKILL by design report nothing.
    run_counted "test_bounded under valgrind" valgrind -q --error-exitcode=1 --leak-check=full "$out/test_bounded"
    run_counted "test_lock under valgrind" valgrind -q --error-exitcode=1 --leak-check=full "$out/test_lock"
    run_counted "test_lock_cpp under valgrind" valgrind -q --error-exitcode=1 --leak-check=full "$out/test_lock_cpp"
else
    echo "skipped: no valgrind (the sanitizer run below still runs)"
fi
san="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
if echo 'int main(void){return 0;}' | $CC $san -x c - -o "$out/san_probe" > /dev/null 2>&1; then
    check "build test_ring with ASAN+UBSAN" $CC $CFLAGS -O1 -g $san ffi/tests/c/test_ring.c $LINK_SO -lpthread -o "$out/test_ring_san"
    run_counted "test_ring under ASAN+UBSAN" "$out/test_ring_san"
    check "build test_bounded with ASAN+UBSAN" $CC $CFLAGS -O1 -g $san ffi/tests/c/test_bounded.c $LINK_SO -lpthread -o "$out/test_bounded_san"
    run_counted "test_bounded under ASAN+UBSAN" "$out/test_bounded_san"
    check "build test_diff with ASAN+UBSAN" $CC $CFLAGS -O1 -g $san ffi/tests/c/test_diff.c $LINK_SO -lm -o "$out/test_diff_san"
    run_counted "test_diff under ASAN+UBSAN" "$out/test_diff_san"
    check "build test_lock with ASAN+UBSAN" $CC $CFLAGS -O1 -g $san ffi/tests/c/test_lock.c $LINK_SO -lpthread -o "$out/test_lock_san"
    run_counted "test_lock under ASAN+UBSAN" "$out/test_lock_san"
else
    echo "skipped: $CC has no ASAN/UBSAN"
fi

# ---- the shared library -------------------------------------------------------
so=$RELEASE/libringlock.so
exports() {
    local syms bad
    syms=$(nm -D --defined-only "$so" | awk '{print $2, $3}')
    [[ -n "$syms" ]] || { echo "no exported symbol"; return 1; }
    bad=$(grep -v '^T rl_' <<< "$syms")
    [[ -z "$bad" ]] || { echo "exports other than rl_ functions:"; echo "$bad"; return 1; }
    echo "$(wc -l <<< "$syms") rl_ functions"
}
check "libringlock.so exports only rl_ functions" exports
check "libringlock.so has SONAME libringlock.so.0" \
    bash -c "readelf -d '$so' | grep -q 'SONAME.*\[libringlock\.so\.0\]'"
check "ring_c_static does not need libringlock.so" \
    bash -c "! readelf -d '$BUILD/examples/ring_c_static' | grep -q 'NEEDED.*ringlock'"
check "ring_dlopen does not need libringlock.so" \
    bash -c "! readelf -d '$BUILD/examples/ring_dlopen' | grep -q 'NEEDED.*ringlock'"

# ---- the examples agree with each other (test-cross compares them with Rust) ---
ex=$BUILD/examples
check "ring_c runs and prints 53 lines" \
    bash -c "'$ex/ring_c' > '$out/ring_c.txt' && [[ \$(wc -l < '$out/ring_c.txt') -eq 53 ]]"
check "ring_c_static prints what ring_c prints" bash -c "'$ex/ring_c_static' | cmp - '$out/ring_c.txt'"
check "ring_cpp prints what ring_c prints" bash -c "'$ex/ring_cpp' | cmp - '$out/ring_c.txt'"
check "ring_dlopen prints what ring_c prints" \
    bash -c "'$ex/ring_dlopen' '$(realpath "$so")' | cmp - '$out/ring_c.txt'"
check "ring_dlopen fails cleanly on a missing library" \
    bash -c "! '$ex/ring_dlopen' /nonexistent/libringlock.so 2> /dev/null"

# ---- the lock examples: C and C++ processes share one counter ------------------
# 4 lock_c + 4 lock_cpp processes, 5,000 increments each, one counter file:
# exactly 40,000, every line well formed, the last token handed out 40,000.
lock_counter() { # lock_counter BACKEND
    local b=$1 d rc=0 p i line max=0 lines=0
    d=$(mktemp -d) || return 1
    local pids=()
    for i in 1 2 3 4; do
        "$ex/lock_c" counter "$d/counter" 5000 "$b" "$d/locks" > "$d/out.c$i" & pids+=($!)
        "$ex/lock_cpp" counter "$d/counter" 5000 "$b" "$d/locks" > "$d/out.cpp$i" & pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p" || { echo "a process failed"; rc=1; }; done
    echo "counter: $(cat "$d/counter" 2> /dev/null)"
    [[ "$(cat "$d/counter" 2> /dev/null)" == 40000 ]] || rc=1
    while read -r line; do
        lines=$((lines + 1))
        if [[ "$line" =~ ^(c|cpp)\ pid=[0-9]+\ increments=5000\ last_token=([0-9]+)\ died_seen=0$ ]]; then
            (( BASH_REMATCH[2] > max )) && max=${BASH_REMATCH[2]}
        else
            echo "bad line: $line"; rc=1
        fi
    done < <(cat "$d"/out.*)
    echo "lines: $lines, largest last_token: $max"
    [[ $lines -eq 8 && $max -eq 40000 ]] || rc=1
    rm -rf "$d"
    return $rc
}
check "lock_c + lock_cpp, 8 processes x 5,000 increments (shm): exactly 40,000" lock_counter shm
check "lock_c + lock_cpp, 8 processes x 5,000 increments (file): exactly 40,000" lock_counter file
lock_fails() { # lock_fails PROGRAM ARGS...: exit 1 with a message on stderr
    local rc msg
    msg=$("$@" 2>&1 > /dev/null); rc=$?
    echo "exit $rc: $msg"
    [[ $rc -eq 1 && -n "$msg" ]]
}
for prog in lock_c lock_cpp; do
    check "$prog fails cleanly on a bad lock name" lock_fails "$ex/$prog" a/b "$out/unused" 1 shm "$out/locks"
    check "$prog fails cleanly on a bad backend" lock_fails "$ex/$prog" ok "$out/unused" 1 nfs "$out/locks"
    check "$prog fails cleanly on a counter file it cannot parse" \
        bash -c "echo junk > '$out/junk' && ! '$ex/$prog' ok '$out/junk' 1 file '$out/locks' 2> /dev/null"
done
rm -rf "$out/locks" "$out/junk"

echo "test-c: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
