#!/usr/bin/env bash
# The client profiles against the real clients (make test-profiles):
# libmemcached 1.1.4 from Debian's libmemcached-dev (C, 100,000 keys per list)
# and nginx 1.22 (a real nginx proxying to 24 backends, 2,000 keys per
# upstream, tests/profiles/test_nginx.py). Each check places the keys with
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
$CC $cflags -DPROFILE=RL_ALGORITHM_KETAMA tests/profiles/test_libmemcached.c $LINK_SO -lmemcached \
    -o "$out/ketama_vs_libmemcached"
"$out/test_libmemcached" | grep -v '^ok:'
if "$out/ketama_vs_libmemcached" > "$out/control.log" 2>&1; then
    echo "FAIL: the negative control (ketama against libmemcached) agreed: the comparison sees nothing"
    exit 1
fi
echo "negative control: ketama disagrees with libmemcached as expected ($(grep -c '^FAIL:' "$out/control.log") of $(grep -c -E '^(ok|FAIL):' "$out/control.log") server lists differ)"

# nginx: the system's if installed, else Debian's package unpacked under
# $BUILD/tools (never installed: installing would start a server on port 80).
nginx=$(command -v nginx || true)
[[ -z $nginx && -x /usr/sbin/nginx ]] && nginx=/usr/sbin/nginx
if [[ -z $nginx ]]; then
    tools=$BUILD/tools/nginx
    if [[ ! -x $tools/usr/sbin/nginx ]]; then
        mkdir -p "$tools"
        ( cd "$tools" && { apt-get download nginx > /dev/null 2>&1 \
            || { apt-get update -qq > /dev/null 2>&1; apt-get download nginx > /dev/null; }; } \
          && dpkg-deb -x nginx_*.deb . && rm -f nginx_*.deb )
    fi
    nginx=$tools/usr/sbin/nginx
fi
"${VPY:-.venv/bin/python}" tests/profiles/test_nginx.py "$nginx" "${NGINX_KEYS:-2000}"
