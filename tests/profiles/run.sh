#!/usr/bin/env bash
# The client profiles against the real clients (make test-profiles):
# libmemcached 1.1.4 from Debian's libmemcached-dev (C, 100,000 keys per
# list; weighted and plain ketama) and through pylibmc (Client.hash, the
# server index, tests/profiles/test_pylibmc.py)
# nginx 1.22 (a real nginx proxying to 24 backends, 2,000 keys per
# upstream, tests/profiles/test_nginx.py), twemproxy 0.5 (a real
# nutcracker in front of 8 memcached servers, a pool per key hash, 2,000 keys
# per pool, tests/profiles/test_twemproxy.py) and HAProxy 2.6 (a real
# haproxy with eleven backends of 1 to 200 servers, 100,000 keys each,
# tests/profiles/test_haproxy.py). Each check places the keys with
# the real software and with ringlock; a negative control (ringlock's ketama
# against the same software) must disagree, so each comparison is known to
# see differences.
#
# Environment (set by the Makefile): CC RELEASE BUILD CFLAGS LINK_SO VPY.
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
$CC $cflags -DCONTROL tests/profiles/test_libmemcached.c $LINK_SO -lmemcached \
    -o "$out/ketama_vs_libmemcached"
"$out/test_libmemcached" | grep -v '^ok:'
if "$out/ketama_vs_libmemcached" > "$out/control.log" 2>&1; then
    echo "FAIL: the negative control (ketama against libmemcached) agreed: the comparison sees nothing"
    exit 1
fi
echo "negative control: ketama disagrees with libmemcached as expected ($(grep -c '^FAIL:' "$out/control.log") of $(grep -c -E '^(ok|FAIL):' "$out/control.log") server lists differ)"

# A program from Debian's package PACKAGE: the system's if installed, else
# the package unpacked under $BUILD/tools with the LIBRARY-PACKAGES it needs
# beside it (never installed: installing nginx, memcached or haproxy would
# start a system service; the test that runs an unpacked program points
# LD_LIBRARY_PATH at the libraries beside it).
program() { # program PACKAGE PATH-IN-PACKAGE [LIBRARY-PACKAGE...]
    local pkg=$1 path=$2 tools=$BUILD/tools/$1
    shift 2
    if [[ -x /$path ]]; then echo "/$path"; return; fi
    if [[ ! -x $tools/$path ]]; then
        mkdir -p "$tools"
        ( cd "$tools" && { apt-get download "$pkg" "$@" > /dev/null 2>&1 \
            || { apt-get update -qq > /dev/null 2>&1; apt-get download "$pkg" "$@" > /dev/null; }; } \
          && for deb in ./*.deb; do dpkg-deb -x "$deb" .; done && rm -f ./*.deb ) >&2
    fi
    echo "$tools/$path"
}
vpy=${VPY:-.venv/bin/python}
# pylibmc from PyPI (its wheel bundles libmemcached 1.0.16; where no wheel
# fits, pip builds it against Debian's libmemcached-dev)
if ! "$vpy" -c "import pylibmc" 2> /dev/null; then
    "$vpy" -m pip install --quiet pylibmc 2> /dev/null || {
        bash tests/lib/need-deb.sh gcc python3-dev zlib1g-dev
        "$vpy" -m pip install --quiet pylibmc
    }
fi
"$vpy" tests/profiles/test_pylibmc.py "${PYLIBMC_KEYS:-2500}"
"$vpy" tests/profiles/test_nginx.py "$(program nginx usr/sbin/nginx)" "${NGINX_KEYS:-2000}"
"$vpy" tests/profiles/test_twemproxy.py "$(program nutcracker usr/sbin/nutcracker)" \
    "$(program memcached usr/bin/memcached)" "${TWEMPROXY_KEYS:-2000}"
"$vpy" tests/profiles/test_haproxy.py \
    "$(program haproxy usr/sbin/haproxy liblua5.3-0 libopentracing-c-wrapper0 libopentracing1)" \
    "${HAPROXY_KEYS:-100000}"
