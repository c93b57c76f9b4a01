#!/usr/bin/env bash
# need-deb.sh PACKAGE...: installs the Debian packages that are missing
# (apt-get, as root or through sudo); exits non-zero with a clear message
# when it cannot. Used by the tests that run against real software.
set -euo pipefail
missing=()
for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0
if [[ $(id -u) -eq 0 ]]; then sudo=(); elif command -v sudo > /dev/null; then sudo=(sudo -n); else
    echo "need-deb: missing ${missing[*]}; install them (apt-get install ${missing[*]}) or run as root" >&2
    exit 1
fi
echo "need-deb: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get install -y -qq "${missing[@]}" > /dev/null 2>&1 \
    || { "${sudo[@]}" apt-get update -qq > /dev/null && "${sudo[@]}" apt-get install -y -qq "${missing[@]}" > /dev/null; }
