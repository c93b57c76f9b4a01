#!/usr/bin/env bash
# need-etcd.sh: makes sure an etcd server binary is on PATH (Debian's
# etcd-server when it is missing, through need-deb.sh) and prints its
# version. The etcd tests start their own servers on 127.0.0.1.
set -euo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
if ! command -v etcd > /dev/null; then
    bash "$here/need-deb.sh" etcd-server
fi
if ! command -v etcd > /dev/null; then
    echo "need-etcd: etcd-server is installed but no etcd is on PATH" >&2
    exit 1
fi
etcd --version | sed -n 1p  # not head: etcd would die of SIGPIPE under pipefail
