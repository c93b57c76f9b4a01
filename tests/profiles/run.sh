#!/usr/bin/env bash
# The client profiles against the real clients (make test-profiles):
# libmemcached 1.1.4 from Debian's libmemcached-dev. Each check places
# 100,000 keys on many server lists with the real client and with ringlock;
# a negative control (libketama's continuum against libmemcached) must
# disagree, so the comparison is known to see differences.
#
# Environment (set by the Makefile): CC RELEASE BUILD CFLAGS LINK_SO.
set -euo pipefail
: "${CC:=gcc}" "${BUILD:=build}" "${RELEASE:=target/release}"
: "${CFLAGS:=-std=c11 -Wall -Wextra -Wpedantic -Werror -O2 -Iinclude}"
: "${LINK_SO:=-L$RELEASE -lringlock -Wl,-rpath,$PWD/$BUILD/lib}"

bash tests/lib/need-deb.sh libmemcached-dev
out=$BUILD/tests/profiles
mkdir -p "$out"
# libmemcached's header is not -Wpedantic clean
cflags=${CFLAGS/-Wpedantic/}
$CC $cflags tests/profiles/test_libmemcached.c $LINK_SO -lmemcached -o "$out/test_libmemcached"
$CC $cflags -DPROFILE=RL_ALGORITHM_KETAMA tests/profiles/test_libmemcached.c $LINK_SO -lmemcached \
    -o "$out/ketama_vs_libmemcached"
"$out/test_libmemcached" | grep -v '^ok:'
if "$out/ketama_vs_libmemcached" > "$out/control.log" 2>&1; then
    echo "FAIL: the negative control (ketama against libmemcached) agreed: the comparison sees nothing"
    exit 1
fi
echo "negative control: ketama disagrees with libmemcached as expected ($(grep -c '^FAIL:' "$out/control.log") of $(grep -c -E '^(ok|FAIL):' "$out/control.log") server lists differ)"
