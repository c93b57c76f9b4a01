/* A counter in a file, shared by processes under one ringlock lock. The C
 * edition; examples/cpp/lock.cpp and examples/python/lock.py take the same
 * arguments and mix freely: N processes of M increments leave exactly N * M.
 *
 *   lock_c <lock-name> <counter-file> <increments> [shm|file] [lock-dir]
 *   lock_c <lock-name> <counter-file> <increments> etcd <endpoint,...>
 *
 * Each increment: acquire exclusively (waiting for ever), read the decimal
 * counter from the file (missing or empty: 0), write counter + 1, release.
 * At the end prints one line:
 *
 *   c pid=<pid> increments=<n> last_token=<t> died_seen=<k>
 *
 * (k: acquisitions that found a previous holder dead). Exits 1 with a message
 * on any error.
 *
 * With etcd (TTL 10 s, namespace "ringlock-demo") the counter file is a
 * fenced store, "<value> <highest token> <rejected>": each increment takes
 * the file's own flock and is written only if the hold's token is not below
 * the highest the file has seen (else the file counts a rejected write), as
 * a store must use the token: a lease lock alone is not mutual exclusion
 * (docs/distributed.md). The line then ends " rejected=<r>". */

#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/types.h>
#include <unistd.h>

#include "ringlock.h"

static void fail(const char *what, const char *detail) {
    fprintf(stderr, "lock_c: %s: %s\n", what, detail);
    exit(1);
}

static void check(rl_status status, const char *what) {
    if (status != RL_OK) {
        char detail[512];
        snprintf(detail, sizeof detail, "%s (%s)", rl_status_str(status), rl_last_error());
        fail(what, detail);
    }
}

/* Reads the counter (a missing or empty file is 0) and writes it plus one.
 * The new value is written over the old one, which it never is shorter than,
 * so a reader sees one or the other, never an empty file. */
static void increment(const char *path) {
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) fail(path, strerror(errno));
    char buf[32];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n < 0) fail(path, strerror(errno));
    buf[n] = '\0';
    char *end = buf;
    uint64_t value = 0;
    while (*end == ' ' || *end == '\n') end++;
    if (*end != '\0') {
        errno = 0;
        value = strtoull(buf, &end, 10);
        while (*end == ' ' || *end == '\n') end++;
        if (errno != 0 || *end != '\0') fail(path, "does not hold a decimal counter");
    }
    int len = snprintf(buf, sizeof buf, "%" PRIu64, value + 1);
    if (pwrite(fd, buf, (size_t)len, 0) != len || ftruncate(fd, len) != 0) fail(path, strerror(errno));
    if (close(fd) != 0) fail(path, strerror(errno));
}

/* One increment of the fenced store; 0 (and the file's rejected count + 1)
 * when `token` is below the highest the file has seen. */
static int fenced_increment(const char *path, uint64_t token) {
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 || flock(fd, LOCK_EX) != 0) fail(path, strerror(errno));
    char buf[96];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n < 0) fail(path, strerror(errno));
    buf[n] = '\0';
    uint64_t value = 0, highest = 0, rejected = 0;
    if (n > 0 && sscanf(buf, "%" SCNu64 " %" SCNu64 " %" SCNu64, &value, &highest, &rejected) != 3)
        fail(path, "does not hold a fenced counter");
    int ok = token >= highest;
    if (ok) {
        value++;
        highest = token;
    } else {
        rejected++;
    }
    int len = snprintf(buf, sizeof buf, "%" PRIu64 " %" PRIu64 " %" PRIu64, value, highest, rejected);
    if (pwrite(fd, buf, (size_t)len, 0) != len || ftruncate(fd, len) != 0) fail(path, strerror(errno));
    if (close(fd) != 0) fail(path, strerror(errno)); /* closing drops the flock */
    return ok;
}

/* "a,b,c" -> up to 16 pointers into `list` (which it cuts at the commas). */
static size_t split_endpoints(char *list, const char **out, size_t cap) {
    size_t n = 0;
    for (char *save = NULL, *e = strtok_r(list, ",", &save); e && n < cap; e = strtok_r(NULL, ",", &save))
        out[n++] = e;
    return n;
}

int main(int argc, char **argv) {
    if (argc < 4 || argc > 6) {
        fprintf(stderr,
                "usage: %s <lock-name> <counter-file> <increments> [shm|file] [lock-dir]"
                " | etcd <endpoint,...>\n",
                argv[0]);
        return 2;
    }
    char *end;
    errno = 0;
    long long increments = strtoll(argv[3], &end, 10);
    if (errno != 0 || *end != '\0' || end == argv[3] || increments < 0) fail(argv[3], "not a count");

    rl_lock_options options = {0}; /* zeroes: the defaults */
    const char *endpoints[16];
    int etcd = 0;
    if (argc >= 5) {
        if (strcmp(argv[4], "shm") == 0) {
            options.backend = RL_BACKEND_SHM;
        } else if (strcmp(argv[4], "file") == 0) {
            options.backend = RL_BACKEND_FILE;
        } else if (strcmp(argv[4], "etcd") == 0) {
            etcd = 1;
        } else {
            fail(argv[4], "the backend is shm, file or etcd");
        }
    }
    if (etcd) {
        if (argc < 6) fail("etcd", "give the endpoints, e.g. http://127.0.0.1:2379");
        options.backend = RL_BACKEND_ETCD;
        options.endpoints = endpoints;
        options.endpoint_count = split_endpoints(argv[5], endpoints, 16);
        options.etcd_namespace = "ringlock-demo";
    } else if (argc >= 6) {
        options.dir = argv[5];
    }

    rl_lock *lock;
    check(rl_lock_open(argv[1], &options, &lock), "rl_lock_open");
    uint64_t last_token = 0;
    long long died_seen = 0, rejected = 0;
    for (long long i = 0; i < increments; i++) {
        rl_hold hold;
        check(rl_lock_acquire(lock, RL_MODE_EXCLUSIVE, -1, &hold), "rl_lock_acquire");
        if (hold.token <= last_token) fail("rl_lock_acquire", "the fencing token went backwards");
        last_token = hold.token;
        died_seen += hold.previous_owner_died;
        if (etcd) {
            rejected += !fenced_increment(argv[2], hold.token);
        } else {
            increment(argv[2]);
        }
        check(rl_lock_release(lock), "rl_lock_release");
    }
    rl_lock_close(lock);
    printf("c pid=%ld increments=%lld last_token=%" PRIu64 " died_seen=%lld", (long)getpid(), increments,
           last_token, died_seen);
    if (etcd) printf(" rejected=%lld", rejected);
    printf("\n");
    return 0;
}
