/* A counter in a file, shared by processes under one ringlock lock. The C
 * edition; examples/cpp/lock.cpp and examples/python/lock.py take the same
 * arguments and mix freely: N processes of M increments leave exactly N * M.
 *
 *   lock_c <lock-name> <counter-file> <increments> [shm|file] [lock-dir]
 *
 * Each increment: acquire exclusively (waiting for ever), read the decimal
 * counter from the file (missing or empty: 0), write counter + 1, release.
 * At the end prints one line:
 *
 *   c pid=<pid> increments=<n> last_token=<t> died_seen=<k>
 *
 * (k: acquisitions that found a previous holder dead). Exits 1 with a message
 * on any error. */

#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

int main(int argc, char **argv) {
    if (argc < 4 || argc > 6) {
        fprintf(stderr, "usage: %s <lock-name> <counter-file> <increments> [shm|file] [lock-dir]\n", argv[0]);
        return 2;
    }
    char *end;
    errno = 0;
    long long increments = strtoll(argv[3], &end, 10);
    if (errno != 0 || *end != '\0' || end == argv[3] || increments < 0) fail(argv[3], "not a count");

    rl_lock_options options = {0}; /* zeroes: the defaults */
    if (argc >= 5) {
        if (strcmp(argv[4], "shm") == 0) {
            options.backend = RL_BACKEND_SHM;
        } else if (strcmp(argv[4], "file") == 0) {
            options.backend = RL_BACKEND_FILE;
        } else {
            fail(argv[4], "the backend is shm or file");
        }
    }
    if (argc >= 6) options.dir = argv[5];

    rl_lock *lock;
    check(rl_lock_open(argv[1], &options, &lock), "rl_lock_open");
    uint64_t last_token = 0;
    long long died_seen = 0;
    for (long long i = 0; i < increments; i++) {
        rl_hold hold;
        check(rl_lock_acquire(lock, RL_MODE_EXCLUSIVE, -1, &hold), "rl_lock_acquire");
        if (hold.token <= last_token) fail("rl_lock_acquire", "the fencing token went backwards");
        last_token = hold.token;
        died_seen += hold.previous_owner_died;
        increment(argv[2]);
        check(rl_lock_release(lock), "rl_lock_release");
    }
    rl_lock_close(lock);
    printf("c pid=%ld increments=%lld last_token=%" PRIu64 " died_seen=%lld\n", (long)getpid(), increments,
           last_token, died_seen);
    return 0;
}
