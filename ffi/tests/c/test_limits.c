/* Tests of the C API's bounds: rl_ring_limits (a few hostile bytes cannot ask
 * for gigabytes; raised limits load a big ring), one encoding per ring,
 * get_n with many replicas, get_many against get, the version macros, and
 * the errno in rl_last_error() for OS errors.
 * Prints "test_limits: N passed, N failed"; exits 1 on any failure. */

#define _POSIX_C_SOURCE 200809L

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ringlock.h"

#include "check.h"

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static uint8_t *serialize(const rl_ring *ring, size_t *len) {
    if (rl_ring_serialize(ring, NULL, 0, len) != RL_OK) abort();
    uint8_t *buf = malloc(*len);
    if (buf == NULL || rl_ring_serialize(ring, buf, *len, len) != RL_OK) abort();
    return buf;
}

/* The hostile inputs: valid 37-byte serialisations (one node "a",
 * checksum sealed, as core/tests/limits.rs's serialised() writes them) that
 * ask for 2^26 points (xxh3 and ketama, vnodes 2^26) or a maglev table of
 * 67,108,859 entries; building them took 5-14 s and 1.8 GiB. Each is refused
 * by the limit check, before any table is built (well under the 2 s bound
 * even under valgrind), and nothing is written to *out. */
static void test_hostile_37_bytes(void) {
    static const uint8_t xxh3[37] = {
        0x52, 0x4c, 0x52, 0x49, 0x4e, 0x47, 0x00, 0x0a, 0x01, 0x00, 0x02, 0x00, 0x00,
        0x00, 0x00, 0x04, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x61, 0x01,
        0x00, 0x00, 0x00, 0x2d, 0x7e, 0xd3, 0x50, 0x34, 0x66, 0x7a, 0x2b};
    static const uint8_t maglev[37] = {
        0x52, 0x4c, 0x52, 0x49, 0x4e, 0x47, 0x00, 0x0a, 0x01, 0x00, 0x04, 0x00, 0xfb,
        0xff, 0xff, 0x03, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x61, 0x01,
        0x00, 0x00, 0x00, 0xf8, 0x09, 0xfe, 0x0b, 0x86, 0x6a, 0xfd, 0xcc};
    static const uint8_t ketama[37] = {
        0x52, 0x4c, 0x52, 0x49, 0x4e, 0x47, 0x00, 0x0a, 0x01, 0x00, 0x01, 0x00, 0x00,
        0x00, 0x00, 0x04, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x61, 0x01,
        0x00, 0x00, 0x00, 0x91, 0x00, 0xe5, 0x59, 0xea, 0x35, 0x05, 0xa7};
    const uint8_t *const inputs[] = {xxh3, maglev, ketama};
    for (size_t i = 0; i < 3; i++) {
        rl_ring *back = NULL;
        double t0 = now_ms();
        EXPECT_FAIL(rl_ring_deserialize(inputs[i], 37, &back), RL_ERR_CORRUPT,
                    "rl_ring_deserialize");
        CHECK(now_ms() - t0 < 2000.0);
        CHECK(strstr(rl_last_error(), "limit") != NULL);
        CHECK(back == NULL);
        /* NULL limits are the defaults, and refuse them too. */
        EXPECT_FAIL(rl_ring_deserialize_with_limits(inputs[i], 37, NULL, &back), RL_ERR_CORRUPT,
                    "rl_ring_deserialize_with_limits");
        CHECK(back == NULL);
    }
    /* The same bytes with one payload byte changed fail the checksum instead:
     * the refusal above is the limit's, not a sealing mistake. */
    uint8_t altered[37];
    memcpy(altered, xxh3, sizeof altered);
    altered[24] = 'b';
    rl_ring *back = NULL;
    EXPECT_FAIL(rl_ring_deserialize(altered, 37, &back), RL_ERR_CORRUPT, "rl_ring_deserialize");
    CHECK(strstr(rl_last_error(), "limit") == NULL);
}

/* A ring past the default limits is refused unless asked for: building it,
 * and loading its 28 bytes (a maglev ring of 16,777,259 entries without
 * nodes); with raised limits the same bytes load, and a ring keeps its
 * limits. */
static void test_tiny_input_huge_ring(void) {
    rl_ring_limits most = {67108864, 0};
    rl_ring_options xxh3_huge = {RL_ALGORITHM_XXH3, 1u << 26, 0};
    rl_ring *ring = NULL;
    EXPECT_OK(rl_ring_new_with_limits(&xxh3_huge, &most, &ring));
    /* Past the default limits without asking: refused. */
    rl_ring *plain = NULL;
    EXPECT_FAIL(rl_ring_new_with_options(&xxh3_huge, &plain), RL_ERR_INVALID_ARGUMENT,
                "rl_ring_new_with_options");
    CHECK(plain == NULL);
    rl_ring_free(ring);
    rl_ring_options maglev_big = {RL_ALGORITHM_MAGLEV, 0, 16777259};
    EXPECT_FAIL(rl_ring_new_with_options(&maglev_big, &plain), RL_ERR_INVALID_ARGUMENT,
                "rl_ring_new_with_options");
    CHECK(strstr(rl_last_error(), "limit") != NULL);
    rl_ring_limits more = {1u << 25, 0};
    EXPECT_OK(rl_ring_new_with_limits(&maglev_big, &more, &ring));
    CHECK(rl_ring_table_size(ring) == 16777259);
    size_t len = 0;
    uint8_t *bytes = serialize(ring, &len);
    CHECK(len == 28); /* header, no node, checksum */
    rl_ring *back = NULL;
    EXPECT_FAIL(rl_ring_deserialize(bytes, len, &back), RL_ERR_CORRUPT, "rl_ring_deserialize");
    CHECK(strstr(rl_last_error(), "limit") != NULL);
    CHECK(back == NULL);
    EXPECT_OK(rl_ring_deserialize_with_limits(bytes, len, &more, &back));
    CHECK(back != NULL && rl_ring_table_size(back) == 16777259);
    rl_ring_free(back);
    back = NULL;
    /* NULL limits are the defaults; limits past 2^26 are refused. */
    EXPECT_FAIL(rl_ring_deserialize_with_limits(bytes, len, NULL, &back), RL_ERR_CORRUPT,
                "rl_ring_deserialize_with_limits");
    rl_ring_limits past = {(1u << 26) + 1, 0};
    EXPECT_FAIL(rl_ring_deserialize_with_limits(bytes, len, &past, &back),
                RL_ERR_INVALID_ARGUMENT, "rl_ring_deserialize_with_limits");
    EXPECT_FAIL(rl_ring_new_with_limits(NULL, &past, &back), RL_ERR_INVALID_ARGUMENT,
                "rl_ring_new_with_limits");
    CHECK(back == NULL);
    free(bytes);
    rl_ring_free(ring);

    /* A ring keeps its limits: a node limit of 2 refuses a third node. */
    rl_ring_limits two = {0, 2};
    rl_ring_options jump = {RL_ALGORITHM_JUMP, 0, 0};
    EXPECT_OK(rl_ring_new_with_limits(&jump, &two, &ring));
    EXPECT_OK(rl_ring_add(ring, "a", 1));
    EXPECT_OK(rl_ring_add(ring, "b", 1));
    EXPECT_FAIL(rl_ring_add(ring, "c", 1), RL_ERR_INVALID_ARGUMENT, "rl_ring_add");
    rl_ring *copy = NULL;
    EXPECT_OK(rl_ring_clone(ring, &copy));
    EXPECT_FAIL(rl_ring_add(copy, "c", 1), RL_ERR_INVALID_ARGUMENT, "rl_ring_add");
    CHECK(rl_ring_len(copy) == 2);
    rl_ring_free(copy);
    rl_ring_free(ring);
}

/* Default vnodes are stored resolved: a serialisation never holds 0, and
 * patching one in (checksum aside) can only give a corrupt buffer. */
static void test_one_encoding(void) {
    rl_ring *ring = NULL;
    EXPECT_OK(rl_ring_new(RL_ALGORITHM_XXH3, 0, &ring));
    EXPECT_OK(rl_ring_add(ring, "a", 1));
    size_t len = 0;
    uint8_t *bytes = serialize(ring, &len);
    uint32_t vnodes;
    memcpy(&vnodes, bytes + 12, 4);
    CHECK(vnodes == 160);
    rl_ring *back = NULL;
    EXPECT_OK(rl_ring_deserialize(bytes, len, &back));
    size_t len2 = 0;
    uint8_t *again = serialize(back, &len2);
    CHECK(len2 == len && memcmp(again, bytes, len) == 0);
    free(again);
    rl_ring_free(back);
    back = NULL;
    memset(bytes + 12, 0, 4);
    EXPECT_FAIL(rl_ring_deserialize(bytes, len, &back), RL_ERR_CORRUPT, "rl_ring_deserialize");
    free(bytes);
    rl_ring_free(ring);
}

static void on_alarm(int sig) {
    (void)sig;
    static const char msg[] = "test_limits: rl_ring_get_n took over 10 s (quadratic?)\n";
    if (write(2, msg, sizeof msg - 1) < 0) _exit(1);
    _exit(1);
}

/* get_n for every node of a 200,000-node ring: each node once, the owner
 * first. Not a timing test but a bound: linear in the walk it takes
 * milliseconds (under valgrind well under a second); quadratic, as it was
 * (100,000 nodes took 12 s), it would take far longer than the 10 s alarm
 * that ends the test as a failure. */
static void test_get_n_many_replicas(void) {
    enum { N = 200000 };
    rl_ring *ring = NULL;
    EXPECT_OK(rl_ring_new(RL_ALGORITHM_JUMP, 0, &ring));
    char (*names)[24] = malloc(sizeof(char[24]) * N);
    const char **ptrs = malloc(sizeof(char *) * N);
    const char **out = malloc(sizeof(char *) * N);
    if (names == NULL || ptrs == NULL || out == NULL) abort();
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], "node-%06d", i);
        ptrs[i] = names[i];
    }
    EXPECT_OK(rl_ring_add_many(ring, ptrs, NULL, N));
    size_t found = 0;
    signal(SIGALRM, on_alarm);
    alarm(10);
    EXPECT_OK(rl_ring_get_n(ring, "user:42", 7, out, N, &found));
    alarm(0);
    CHECK(found == N);
    const char *owner = NULL;
    EXPECT_OK(rl_ring_get(ring, "user:42", 7, &owner));
    CHECK(found > 0 && out[0] == owner);
    /* every name once: mark each by its number */
    bool *seen = calloc(N, 1);
    if (seen == NULL) abort();
    size_t distinct = 0;
    for (size_t i = 0; i < found; i++) {
        int k = atoi(out[i] + 5);
        if (k >= 0 && k < N && !seen[k]) {
            seen[k] = true;
            distinct++;
        }
    }
    CHECK(distinct == N);
    free(seen);
    free(out);
    free(ptrs);
    free(names);
    rl_ring_free(ring);
}

/* get_many (batched, blocks of 32) gives get's answer for every key, for
 * counts around the block size, on every algorithm. */
static void test_get_many_agrees_with_get(void) {
    static const rl_algorithm algorithms[] = {RL_ALGORITHM_KETAMA, RL_ALGORITHM_XXH3,
                                              RL_ALGORITHM_JUMP, RL_ALGORITHM_MAGLEV};
    static const char *const nodes[] = {"a", "b", "c", "d", "e"};
    enum { KEYS = 1000 };
    char text[KEYS][12];
    const void *keys[KEYS];
    size_t lens[KEYS];
    const char *many[KEYS];
    for (int i = 0; i < KEYS; i++) {
        lens[i] = (size_t)snprintf(text[i], sizeof text[i], "k%d", i);
        keys[i] = text[i];
    }
    keys[7] = NULL; /* an empty key may be NULL */
    lens[7] = 0;
    for (size_t a = 0; a < sizeof algorithms / sizeof algorithms[0]; a++) {
        rl_ring *ring = NULL;
        EXPECT_OK(rl_ring_new(algorithms[a], 0, &ring));
        EXPECT_OK(rl_ring_add_many(ring, nodes, NULL, 5));
        static const size_t counts[] = {0, 1, 31, 32, 33, 64, 65, KEYS};
        for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
            size_t n = counts[c];
            EXPECT_OK(rl_ring_get_many(ring, keys, lens, n, many));
            bool agree = true;
            for (size_t i = 0; i < n; i++) {
                const char *one = NULL;
                if (rl_ring_get(ring, keys[i], lens[i], &one) != RL_OK || one != many[i]) {
                    agree = false;
                }
            }
            CHECK(agree);
        }
        rl_ring_free(ring);
    }
}

/* The macros name the header's version; rl_version() the library's: here,
 * the same. */
static void test_version_macros(void) {
    char want[64];
    snprintf(want, sizeof want, "%d.%d.%d", RINGLOCK_VERSION_MAJOR, RINGLOCK_VERSION_MINOR,
             RINGLOCK_VERSION_PATCH);
    CHECK(strcmp(rl_version(), want) == 0);
}

/* An OS error names its errno, number and symbol: a shared ring under a
 * regular file is ENOTDIR (20). */
static void test_os_errors_name_the_errno(void) {
    char file[] = "/tmp/rl-test-limits-XXXXXX";
    int fd = mkstemp(file);
    CHECK(fd >= 0);
    char path[64];
    snprintf(path, sizeof path, "%s/ring", file);
    rl_shared_ring *shared = NULL;
    EXPECT_FAIL(rl_shared_ring_open(path, &shared), RL_ERR_IO, "rl_shared_ring_open");
    CHECK(strstr(rl_last_error(), "Not a directory (errno 20, ENOTDIR)") != NULL);
    CHECK(shared == NULL);
    close(fd);
    remove(file);
}

int main(void) {
    test_version_macros();
    test_hostile_37_bytes();
    test_tiny_input_huge_ring();
    test_one_encoding();
    test_get_n_many_replicas();
    test_get_many_agrees_with_get();
    test_os_errors_name_the_errno();
    return check_report("test_limits");
}
