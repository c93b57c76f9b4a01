#!/usr/bin/env bash
# etcd-server.sh: a one-member etcd for shell-driven tests, on free
# 127.0.0.1 ports, its data in a fresh temporary directory, stopped by pid.
# Source it, then:
#
#   etcd_start || exit 1      # sets ETCD_ENDPOINT (http://127.0.0.1:PORT),
#                             # ETCD_PID and ETCD_DIR; healthy on return
#   ...
#   etcd_stop                 # kills ETCD_PID (only it), removes ETCD_DIR
#
# etcd_available says whether an etcd binary is on PATH. etcd_start tries
# three times (a port taken between choosing and binding it) and prints the
# server's log on failure.

etcd_available() { command -v etcd > /dev/null; }

# A port nobody listens on now (the kernel's choice for port 0).
etcd_free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# GET /health answers {"health":"true"}: bash's /dev/tcp, no curl needed.
etcd_healthy() { # etcd_healthy PORT
    local answer
    answer=$(timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1 \
        && printf 'GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3 && cat <&3" 2> /dev/null) || return 1
    [[ $answer == *'"health":"true"'* ]]
}

etcd_start() {
    local try client peer i
    for try in 1 2 3; do
        ETCD_DIR=$(mktemp -d "${TMPDIR:-/tmp}/ringlock-etcd-XXXXXX") || return 1
        client=$(etcd_free_port) peer=$(etcd_free_port)
        etcd --name m0 --data-dir "$ETCD_DIR/data" \
            --listen-client-urls "http://127.0.0.1:$client" \
            --advertise-client-urls "http://127.0.0.1:$client" \
            --listen-peer-urls "http://127.0.0.1:$peer" \
            --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
            --initial-cluster "m0=http://127.0.0.1:$peer" \
            --initial-cluster-state new --initial-cluster-token "ringlock-$$-$try" \
            --heartbeat-interval 50 --election-timeout 500 \
            < /dev/null > "$ETCD_DIR/etcd.log" 2>&1 &
        ETCD_PID=$!
        ETCD_ENDPOINT="http://127.0.0.1:$client"
        for i in $(seq 300); do
            kill -0 "$ETCD_PID" 2> /dev/null || break
            if etcd_healthy "$client"; then
                export ETCD_ENDPOINT ETCD_PID ETCD_DIR
                return 0
            fi
            sleep 0.05
        done
        echo "etcd-server: etcd on port $client did not become healthy (try $try); its log:" >&2
        tail -n 20 "$ETCD_DIR/etcd.log" >&2
        etcd_stop
    done
    return 1
}

etcd_stop() {
    if [[ -n ${ETCD_PID:-} ]]; then
        kill -9 "$ETCD_PID" 2> /dev/null
        wait "$ETCD_PID" 2> /dev/null
    fi
    [[ -n ${ETCD_DIR:-} ]] && rm -rf "$ETCD_DIR"
    ETCD_PID= ETCD_DIR=
}
