/* A fenced counter in a file, shared by processes (on any hosts that see the
 * file and the etcd cluster) under one etcd lock:
 *
 *   lock_etcd <endpoint> <lock-name> <counter-file> <increments>
 *
 * The file holds "<value> <token>". Each increment: acquire (waiting at most
 * 30 s), read the file, refuse to write if this hold's token is not greater
 * than the stored one (the store fences: a holder that lost its lease
 * unknowingly cannot overwrite a newer holder's value), write value + 1 and
 * the token, release. Prints "etcd pid=<pid> increments=<n> last_token=<t>";
 * exits 1 with a message on any error. */

#define _POSIX_C_SOURCE 200809L

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "ringlock.h"

static void check(rl_status status, const char *what) {
    if (status != RL_OK) {
        fprintf(stderr, "lock_etcd: %s: %s (%s)\n", what, rl_status_str(status), rl_last_error());
        exit(1);
    }
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: lock_etcd <endpoint> <lock-name> <counter-file> <increments>\n");
        return 1;
    }
    const char *endpoints[] = {argv[1]};
    rl_lock_options options = {0}; /* zeroed, then the etcd fields */
    options.backend = RL_BACKEND_ETCD;
    options.endpoints = endpoints;
    options.endpoint_count = 1;
    options.ttl_s = 5;
    rl_lock *lock = NULL;
    check(rl_lock_open(argv[2], &options, &lock), "rl_lock_open");
    long n = strtol(argv[4], NULL, 10);
    uint64_t token = 0;
    for (long i = 0; i < n; i++) {
        rl_hold hold;
        check(rl_lock_acquire(lock, RL_MODE_EXCLUSIVE, 30000, &hold), "rl_lock_acquire");
        uint64_t value = 0, stored = 0;
        FILE *f = fopen(argv[3], "r");
        if (f != NULL) {
            if (fscanf(f, "%" SCNu64 " %" SCNu64, &value, &stored) != 2) value = stored = 0;
            fclose(f);
        }
        if (hold.token <= stored) {
            fprintf(stderr, "lock_etcd: fenced: token %" PRIu64 " <= stored %" PRIu64 "\n", hold.token,
                    stored);
            return 1;
        }
        f = fopen(argv[3], "w");
        if (f == NULL || fprintf(f, "%" PRIu64 " %" PRIu64 "\n", value + 1, hold.token) < 0 || fclose(f) != 0) {
            perror(argv[3]);
            return 1;
        }
        token = hold.token;
        check(rl_lock_release(lock), "rl_lock_release"); /* RL_ERR_LOST: the hold had been lost */
    }
    rl_lock_close(lock);
    printf("etcd pid=%ld increments=%ld last_token=%" PRIu64 "\n", (long)getpid(), n, token);
    return 0;
}
