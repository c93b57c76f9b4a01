#!/usr/bin/env bash
# The C face's checks, run by `make test-c` after `make c-examples`:
# header compiles (C, C++, twice), the C and C++ tests of rings, limits, bounded loads, maglev,
# migration plans and locks (shared and static), valgrind and ASAN+UBSAN, exported symbols, SONAME,
# examples agree, C and C++ lock examples share one counter exactly; the etcd lock and
# membership rings in etcd (C and C++) against etcd servers started here (skipped without
# etcd, unless RINGLOCK_REQUIRE_ETCD is set).
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
# Each suite NAME is ffi/tests/c/test_NAME.c (linked shared and static) and,
# where it exists, ffi/tests/cpp/test_NAME.cpp; all run plain, under valgrind
# (valgrind follows forked children too: they must exit clean; the ones killed
# with SIGKILL by design report nothing) and the C one under ASAN+UBSAN.
SUITES=(ring limits bounded maglev diff shared_ring lock)
san="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
has_valgrind=$(command -v valgrind > /dev/null && echo 1 || echo 0)
has_san=$(echo 'int main(void){return 0;}' | $CC $san -x c - -o "$out/san_probe" > /dev/null 2>&1 && echo 1 || echo 0)
[[ $has_valgrind == 1 ]] || echo "skipped: no valgrind (the sanitizer runs still run)"
[[ $has_san == 1 ]] || echo "skipped: $CC has no ASAN/UBSAN"
for t in "${SUITES[@]}"; do
    c=ffi/tests/c/test_$t.c cpp=ffi/tests/cpp/test_$t.cpp bin=$out/test_$t
    check "build test_$t (shared)" $CC $CFLAGS -O1 -g "$c" $LINK_SO -lpthread -lm -o "$bin"
    check "build test_$t (static)" $CC $CFLAGS -O1 "$c" "$RELEASE/libringlock.a" $STATIC_LIBS -o "${bin}_static"
    run_counted "test_$t (shared)" "$bin"
    run_counted "test_$t (static)" "${bin}_static"
    if [[ -f $cpp ]]; then
        check "build test_${t}_cpp" $CXX $CXXFLAGS -O1 -g -pthread "$cpp" $LINK_SO -o "${bin}_cpp"
        run_counted "test_${t}_cpp" "${bin}_cpp"
    fi
    if [[ $has_valgrind == 1 ]]; then
        run_counted "test_$t under valgrind" valgrind -q --error-exitcode=1 --leak-check=full "$bin"
        [[ -f $cpp ]] && run_counted "test_${t}_cpp under valgrind" \
            valgrind -q --error-exitcode=1 --leak-check=full "${bin}_cpp"
    fi
    if [[ $has_san == 1 ]]; then
        check "build test_$t with ASAN+UBSAN" $CC $CFLAGS -O1 -g $san "$c" $LINK_SO -lpthread -lm -o "${bin}_san"
        run_counted "test_$t under ASAN+UBSAN" "${bin}_san"
    fi
done

# ---- the etcd lock, against a real etcd ---------------------------------------------
# One etcd on free 127.0.0.1 ports (tests/lib/etcd-server.sh), stopped by pid
# at the end. test_lock_etcd runs shared, static, C++ and under ASAN+UBSAN,
# not under valgrind: it times lease expiries, which valgrind's slowdown
# would blur.
# shellcheck source=../../tests/lib/etcd-server.sh
source tests/lib/etcd-server.sh
if ! etcd_available; then
    if [[ -n ${RINGLOCK_REQUIRE_ETCD:-} ]]; then
        fail "etcd lock tests: RINGLOCK_REQUIRE_ETCD is set but no etcd is on PATH (tests/lib/need-etcd.sh installs it)"
    else
        echo "SKIPPED: the etcd lock tests (no etcd on PATH: apt-get install etcd-server, or set RINGLOCK_REQUIRE_ETCD=1 to fail instead)"
    fi
else
    c=ffi/tests/c/test_lock_etcd.c cpp=ffi/tests/cpp/test_lock_etcd.cpp bin=$out/test_lock_etcd
    check "build test_lock_etcd (shared)" $CC $CFLAGS -O1 -g "$c" $LINK_SO -lpthread -o "$bin"
    check "build test_lock_etcd (static)" $CC $CFLAGS -O1 "$c" "$RELEASE/libringlock.a" $STATIC_LIBS -o "${bin}_static"
    check "build test_lock_etcd_cpp" $CXX $CXXFLAGS -O1 -g -pthread "$cpp" $LINK_SO -o "${bin}_cpp"
    [[ $has_san == 1 ]] && check "build test_lock_etcd with ASAN+UBSAN" \
        $CC $CFLAGS -O1 -g $san "$c" $LINK_SO -lpthread -o "${bin}_san"
    etcd_counter() { # the example: 3 processes share one counter under one etcd lock
        local d rc=0 p i pids=()
        d=$(mktemp -d) || return 1
        for i in 1 2 3; do
            "$BUILD/examples/lock_c" example-counter "$d/counter" 20 etcd "$ETCD_ENDPOINT" > "$d/out.$i" & pids+=($!)
        done
        for p in "${pids[@]}"; do wait "$p" || { echo "a process failed"; rc=1; }; done
        cat "$d"/out.* "$d/counter"
        [[ $(cut -d' ' -f1 "$d/counter") == 60 ]] || rc=1
        [[ $(cut -d' ' -f3 "$d/counter") == 0 ]] || rc=1
        [[ $(grep -c '^c pid=[0-9]* increments=20 last_token=[0-9]* died_seen=0 rejected=0$' "$d"/out.*  | awk -F: '{s += $2} END {print s}') == 3 ]] || rc=1
        rm -rf "$d"
        return $rc
    }
    if etcd_start; then
        trap etcd_stop EXIT
        echo "etcd: $(etcd --version | sed -n 1p) at $ETCD_ENDPOINT (pid $ETCD_PID)"
        export RINGLOCK_ETCD_ENDPOINT=$ETCD_ENDPOINT
        run_counted "test_lock_etcd (shared)" "$bin"
        run_counted "test_lock_etcd (static)" "${bin}_static"
        run_counted "test_lock_etcd_cpp" "${bin}_cpp"
        [[ $has_san == 1 ]] && run_counted "test_lock_etcd under ASAN+UBSAN" "${bin}_san"
        check "lock_c etcd, 3 processes x 20 fenced increments: exactly 60, none rejected" etcd_counter
        unset RINGLOCK_ETCD_ENDPOINT
        etcd_stop
        trap - EXIT
    else
        fail "start an etcd for the etcd lock tests"
    fi
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
check "ring_c runs and prints 113 lines" \
    bash -c "'$ex/ring_c' > '$out/ring_c.txt' && [[ \$(wc -l < '$out/ring_c.txt') -eq 113 ]]"
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

# ---- membership rings in etcd, against a real etcd ------------------------------
# test_membership starts its own etcd (ffi/tests/c/etcd_server.h: free 127.0.0.1
# ports, data under /tmp, killed by pid) and skips, saying so, without one
# unless RINGLOCK_REQUIRE_ETCD is set. Shared, static, C++ and under
# ASAN+UBSAN; not under valgrind: it times a lease's expiry, which valgrind's
# slowdown would blur.
m=ffi/tests/c/test_membership.c mcpp=ffi/tests/cpp/test_membership.cpp mbin=$out/test_membership
check "build test_membership (shared)" $CC $CFLAGS -O1 -g "$m" $LINK_SO -lpthread -o "$mbin"
check "build test_membership (static)" $CC $CFLAGS -O1 "$m" "$RELEASE/libringlock.a" $STATIC_LIBS -o "${mbin}_static"
check "build test_membership_cpp" $CXX $CXXFLAGS -O1 -g -pthread -Iffi/tests/c "$mcpp" $LINK_SO -o "${mbin}_cpp"
run_counted "test_membership (shared)" "$mbin"
run_counted "test_membership (static)" "${mbin}_static"
run_counted "test_membership_cpp" "${mbin}_cpp"
if [[ $has_san == 1 ]]; then
    check "build test_membership with ASAN+UBSAN" $CC $CFLAGS -O1 -g $san "$m" $LINK_SO -lpthread -o "${mbin}_san"
    run_counted "test_membership under ASAN+UBSAN" "${mbin}_san"
fi

echo "test-c: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
