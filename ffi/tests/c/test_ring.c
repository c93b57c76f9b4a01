/* Tests of the C API of the ring: bad input at every entry point (status,
 * message, outputs untouched, ring unchanged), lookups, serialisation,
 * threads. Prints "test_ring: N passed, N failed"; exits 1 on any failure. */

#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ringlock.h"

#include "check.h"

/* Sentinels: outputs are preset to these and must be untouched on failure. */
static int sentinel_object;
#define SENTINEL_STR ((const char *)&sentinel_object)
#define SENTINEL_RING ((rl_ring *)&sentinel_object)
#define SENTINEL_SIZE ((size_t)0x5eed)
#define SENTINEL_U32 ((uint32_t)0x5eed)

/* A ring's serialisation, to compare before and after a failing call. */
typedef struct {
    uint8_t *bytes;
    size_t len;
} snapshot;

static snapshot snap(const rl_ring *ring) {
    snapshot s = {NULL, 0};
    if (rl_ring_serialize(ring, NULL, 0, &s.len) != RL_OK) abort();
    s.bytes = malloc(s.len);
    if (s.bytes == NULL || rl_ring_serialize(ring, s.bytes, s.len, &s.len) != RL_OK) abort();
    return s;
}

static bool same(snapshot a, const rl_ring *ring) {
    snapshot b = snap(ring);
    bool eq = a.len == b.len && memcmp(a.bytes, b.bytes, a.len) == 0;
    free(b.bytes);
    return eq;
}

static rl_ring *make_ring(rl_algorithm algorithm) {
    static const char *const nodes[] = {"alpha", "beta", "gamma", "delta", "cache-\xce\xb1"};
    static const uint32_t weights[] = {1, 2, 1, 3, 1};
    rl_ring *ring = NULL;
    if (rl_ring_new(algorithm, 0, &ring) != RL_OK) abort();
    if (rl_ring_add_many(ring, nodes, weights, 5) != RL_OK) abort();
    return ring;
}

static const rl_algorithm ALGORITHMS[] = {RL_ALGORITHM_KETAMA, RL_ALGORITHM_XXH3, RL_ALGORITHM_JUMP,
                                          RL_ALGORITHM_MAGLEV};

static void test_status_names(void) {
    static const char *const names[] = {
        "ok", "invalid argument", "empty ring", "not found", "already exists", "would block",
        "timeout", "deadlock", "i/o error", "corrupt data", "internal error", "unavailable",
        "lock lost",
    };
    CHECK(RL_OK == 0 && RL_ERR_INVALID_ARGUMENT == 1 && RL_ERR_EMPTY_RING == 2 &&
          RL_ERR_NOT_FOUND == 3 && RL_ERR_ALREADY_EXISTS == 4 && RL_ERR_WOULD_BLOCK == 5 &&
          RL_ERR_TIMEOUT == 6 && RL_ERR_DEADLOCK == 7 && RL_ERR_IO == 8 && RL_ERR_CORRUPT == 9 &&
          RL_ERR_INTERNAL == 10 && RL_ERR_UNAVAILABLE == 11 && RL_ERR_LOST == 12);
    for (rl_status s = 0; s <= RL_ERR_LOST; s++) {
        CHECK(strcmp(rl_status_str(s), names[s]) == 0);
    }
    CHECK(strcmp(rl_status_str(13), "unknown status") == 0);
    CHECK(strcmp(rl_status_str(UINT32_MAX), "unknown status") == 0);
    CHECK(rl_version() != NULL && strchr(rl_version(), '.') != NULL);
    CHECK(rl_jump_hash(42, 57) == 43);
    CHECK(rl_jump_hash(0xDEAD10CCu, 666) == 361);
    CHECK(rl_jump_hash(42, 0) == -1);
    CHECK(rl_jump_hash(42, -3) == -1);
}

static void test_new(void) {
    rl_ring *out = SENTINEL_RING;
    EXPECT_FAIL(rl_ring_new(RL_ALGORITHM_XXH3, 0, NULL), RL_ERR_INVALID_ARGUMENT, "rl_ring_new");
    EXPECT_FAIL(rl_ring_new(0, 0, &out), RL_ERR_INVALID_ARGUMENT, "rl_ring_new");
    EXPECT_FAIL(rl_ring_new(99, 0, &out), RL_ERR_INVALID_ARGUMENT, "rl_ring_new");
    EXPECT_FAIL(rl_ring_new(UINT32_MAX, 0, &out), RL_ERR_INVALID_ARGUMENT, "rl_ring_new");
    EXPECT_FAIL(rl_ring_new(RL_ALGORITHM_KETAMA, 161, &out), RL_ERR_INVALID_ARGUMENT, "rl_ring_new");
    EXPECT_FAIL(rl_ring_new(RL_ALGORITHM_JUMP, 5, &out), RL_ERR_INVALID_ARGUMENT, "rl_ring_new");
    CHECK(out == SENTINEL_RING);
    for (size_t a = 0; a < sizeof ALGORITHMS / sizeof *ALGORITHMS; a++) {
        rl_ring *ring = NULL;
        EXPECT_OK(rl_ring_new(ALGORITHMS[a], 0, &ring));
        CHECK(ring != NULL && rl_ring_algorithm(ring) == ALGORITHMS[a] && rl_ring_len(ring) == 0);
        rl_ring_free(ring);
    }
    rl_ring *ring = NULL;
    EXPECT_OK(rl_ring_new(RL_ALGORITHM_KETAMA, 40, &ring));
    rl_ring_free(ring);
    rl_ring_free(NULL);
    mark_last_error();
    CHECK(rl_ring_len(NULL) == 0 && strncmp(rl_last_error(), "rl_ring_len: ", 13) == 0);
    CHECK(rl_ring_algorithm(NULL) == 0);
}

static void test_mutation_errors(void) {
    rl_ring *ring = make_ring(RL_ALGORITHM_XXH3);
    snapshot before = snap(ring);

    EXPECT_FAIL(rl_ring_add(NULL, "x", 1), RL_ERR_INVALID_ARGUMENT, "rl_ring_add");
    EXPECT_FAIL(rl_ring_add(ring, NULL, 1), RL_ERR_INVALID_ARGUMENT, "rl_ring_add");
    EXPECT_FAIL(rl_ring_add(ring, "", 1), RL_ERR_INVALID_ARGUMENT, "rl_ring_add");
    EXPECT_FAIL(rl_ring_add(ring, "\xff", 1), RL_ERR_INVALID_ARGUMENT, "rl_ring_add");
    EXPECT_FAIL(rl_ring_add(ring, "x", 0), RL_ERR_INVALID_ARGUMENT, "rl_ring_add");
    EXPECT_FAIL(rl_ring_add(ring, "alpha", 1), RL_ERR_ALREADY_EXISTS, "rl_ring_add");
    EXPECT_FAIL(rl_ring_add(ring, "huge", UINT32_MAX), RL_ERR_INVALID_ARGUMENT, "rl_ring_add");
    CHECK(same(before, ring));

    const char *ok2[] = {"x", "y"};
    const char *with_null[] = {"x", NULL};
    const char *with_empty[] = {"x", ""};
    const char *with_bad[] = {"x", "\xff"};
    const char *twice[] = {"x", "x"};
    const char *existing[] = {"x", "beta"};
    const uint32_t zero[] = {1, 0};
    EXPECT_FAIL(rl_ring_add_many(NULL, ok2, NULL, 2), RL_ERR_INVALID_ARGUMENT, "rl_ring_add_many");
    EXPECT_FAIL(rl_ring_add_many(ring, NULL, NULL, 2), RL_ERR_INVALID_ARGUMENT, "rl_ring_add_many");
    EXPECT_FAIL(rl_ring_add_many(ring, with_null, NULL, 2), RL_ERR_INVALID_ARGUMENT, "rl_ring_add_many");
    EXPECT_FAIL(rl_ring_add_many(ring, with_empty, NULL, 2), RL_ERR_INVALID_ARGUMENT, "rl_ring_add_many");
    EXPECT_FAIL(rl_ring_add_many(ring, with_bad, NULL, 2), RL_ERR_INVALID_ARGUMENT, "rl_ring_add_many");
    EXPECT_FAIL(rl_ring_add_many(ring, ok2, zero, 2), RL_ERR_INVALID_ARGUMENT, "rl_ring_add_many");
    EXPECT_FAIL(rl_ring_add_many(ring, twice, NULL, 2), RL_ERR_ALREADY_EXISTS, "rl_ring_add_many");
    EXPECT_FAIL(rl_ring_add_many(ring, existing, NULL, 2), RL_ERR_ALREADY_EXISTS, "rl_ring_add_many");
    EXPECT_OK(rl_ring_add_many(ring, NULL, NULL, 0));
    CHECK(same(before, ring));

    EXPECT_FAIL(rl_ring_remove(NULL, "alpha"), RL_ERR_INVALID_ARGUMENT, "rl_ring_remove");
    EXPECT_FAIL(rl_ring_remove(ring, NULL), RL_ERR_INVALID_ARGUMENT, "rl_ring_remove");
    EXPECT_FAIL(rl_ring_remove(ring, "\xff"), RL_ERR_INVALID_ARGUMENT, "rl_ring_remove");
    EXPECT_FAIL(rl_ring_remove(ring, ""), RL_ERR_NOT_FOUND, "rl_ring_remove");
    EXPECT_FAIL(rl_ring_remove(ring, "zeta"), RL_ERR_NOT_FOUND, "rl_ring_remove");
    CHECK(same(before, ring));

    EXPECT_FAIL(rl_ring_set_weight(NULL, "alpha", 2), RL_ERR_INVALID_ARGUMENT, "rl_ring_set_weight");
    EXPECT_FAIL(rl_ring_set_weight(ring, NULL, 2), RL_ERR_INVALID_ARGUMENT, "rl_ring_set_weight");
    EXPECT_FAIL(rl_ring_set_weight(ring, "\xff", 2), RL_ERR_INVALID_ARGUMENT, "rl_ring_set_weight");
    EXPECT_FAIL(rl_ring_set_weight(ring, "alpha", 0), RL_ERR_INVALID_ARGUMENT, "rl_ring_set_weight");
    EXPECT_FAIL(rl_ring_set_weight(ring, "", 2), RL_ERR_NOT_FOUND, "rl_ring_set_weight");
    EXPECT_FAIL(rl_ring_set_weight(ring, "zeta", 2), RL_ERR_NOT_FOUND, "rl_ring_set_weight");
    EXPECT_FAIL(rl_ring_set_weight(ring, "alpha", UINT32_MAX), RL_ERR_INVALID_ARGUMENT, "rl_ring_set_weight");
    CHECK(same(before, ring));

    /* and the successful paths */
    EXPECT_OK(rl_ring_add_many(ring, ok2, NULL, 2));
    CHECK(rl_ring_len(ring) == 7);
    EXPECT_OK(rl_ring_set_weight(ring, "x", 4));
    EXPECT_OK(rl_ring_remove(ring, "y"));
    bool has = false;
    EXPECT_OK(rl_ring_contains(ring, "x", &has));
    CHECK(has);
    EXPECT_OK(rl_ring_contains(ring, "y", &has));
    CHECK(!has);
    EXPECT_OK(rl_ring_remove(ring, "x"));
    CHECK(same(before, ring));
    free(before.bytes);
    rl_ring_free(ring);
}

static void test_lookup_errors(void) {
    rl_ring *empty = NULL;
    EXPECT_OK(rl_ring_new(RL_ALGORITHM_KETAMA, 0, &empty));
    rl_ring *ring = make_ring(RL_ALGORITHM_KETAMA);
    snapshot before = snap(ring);
    const char *node = SENTINEL_STR;
    const char *nodes[4] = {SENTINEL_STR, SENTINEL_STR, SENTINEL_STR, SENTINEL_STR};
    size_t found = SENTINEL_SIZE;

    EXPECT_FAIL(rl_ring_get(NULL, "k", 1, &node), RL_ERR_INVALID_ARGUMENT, "rl_ring_get");
    EXPECT_FAIL(rl_ring_get(ring, NULL, 1, &node), RL_ERR_INVALID_ARGUMENT, "rl_ring_get");
    EXPECT_FAIL(rl_ring_get(ring, "k", 1, NULL), RL_ERR_INVALID_ARGUMENT, "rl_ring_get");
    EXPECT_FAIL(rl_ring_get(empty, "k", 1, &node), RL_ERR_EMPTY_RING, "rl_ring_get");
    CHECK(node == SENTINEL_STR);
    EXPECT_OK(rl_ring_get(ring, NULL, 0, &node)); /* the empty key */
    CHECK(node != SENTINEL_STR);

    EXPECT_FAIL(rl_ring_get_n(NULL, "k", 1, nodes, 2, &found), RL_ERR_INVALID_ARGUMENT, "rl_ring_get_n");
    EXPECT_FAIL(rl_ring_get_n(ring, NULL, 1, nodes, 2, &found), RL_ERR_INVALID_ARGUMENT, "rl_ring_get_n");
    EXPECT_FAIL(rl_ring_get_n(ring, "k", 1, NULL, 2, &found), RL_ERR_INVALID_ARGUMENT, "rl_ring_get_n");
    EXPECT_FAIL(rl_ring_get_n(ring, "k", 1, nodes, 2, NULL), RL_ERR_INVALID_ARGUMENT, "rl_ring_get_n");
    EXPECT_FAIL(rl_ring_get_n(empty, "k", 1, nodes, 2, &found), RL_ERR_EMPTY_RING, "rl_ring_get_n");
    EXPECT_FAIL(rl_ring_get_n(empty, "k", 1, NULL, 0, &found), RL_ERR_EMPTY_RING, "rl_ring_get_n");
    CHECK(found == SENTINEL_SIZE);
    for (int i = 0; i < 4; i++) CHECK(nodes[i] == SENTINEL_STR);
    EXPECT_OK(rl_ring_get_n(ring, "k", 1, NULL, 0, &found)); /* n = 0: nodes may be NULL */
    CHECK(found == 0);
    found = SENTINEL_SIZE;
    EXPECT_OK(rl_ring_get_n(ring, "k", 1, nodes, 0, &found));
    CHECK(found == 0 && nodes[0] == SENTINEL_STR);

    const void *keys[3] = {"a", NULL, "c"};
    size_t lens[3] = {1, 1, 1};
    EXPECT_FAIL(rl_ring_get_many(NULL, keys, lens, 3, nodes), RL_ERR_INVALID_ARGUMENT, "rl_ring_get_many");
    EXPECT_FAIL(rl_ring_get_many(ring, NULL, lens, 3, nodes), RL_ERR_INVALID_ARGUMENT, "rl_ring_get_many");
    EXPECT_FAIL(rl_ring_get_many(ring, keys, NULL, 3, nodes), RL_ERR_INVALID_ARGUMENT, "rl_ring_get_many");
    EXPECT_FAIL(rl_ring_get_many(ring, keys, lens, 3, NULL), RL_ERR_INVALID_ARGUMENT, "rl_ring_get_many");
    EXPECT_FAIL(rl_ring_get_many(ring, keys, lens, 3, nodes), RL_ERR_INVALID_ARGUMENT, "rl_ring_get_many");
    lens[1] = 0; /* a NULL key of length 0 is the empty key */
    EXPECT_FAIL(rl_ring_get_many(empty, keys, lens, 3, nodes), RL_ERR_EMPTY_RING, "rl_ring_get_many");
    EXPECT_FAIL(rl_ring_get_many(empty, NULL, NULL, 0, NULL), RL_ERR_EMPTY_RING, "rl_ring_get_many");
    for (int i = 0; i < 4; i++) CHECK(nodes[i] == SENTINEL_STR);
    EXPECT_OK(rl_ring_get_many(ring, NULL, NULL, 0, NULL));
    EXPECT_OK(rl_ring_get_many(ring, keys, lens, 3, nodes));
    CHECK(nodes[3] == SENTINEL_STR);

    uint32_t weight = SENTINEL_U32;
    node = SENTINEL_STR;
    EXPECT_FAIL(rl_ring_node(NULL, 0, &node, &weight), RL_ERR_INVALID_ARGUMENT, "rl_ring_node");
    EXPECT_FAIL(rl_ring_node(ring, 0, NULL, &weight), RL_ERR_INVALID_ARGUMENT, "rl_ring_node");
    EXPECT_FAIL(rl_ring_node(ring, 0, &node, NULL), RL_ERR_INVALID_ARGUMENT, "rl_ring_node");
    EXPECT_FAIL(rl_ring_node(ring, 5, &node, &weight), RL_ERR_NOT_FOUND, "rl_ring_node");
    EXPECT_FAIL(rl_ring_node(ring, SIZE_MAX, &node, &weight), RL_ERR_NOT_FOUND, "rl_ring_node");
    EXPECT_FAIL(rl_ring_node(empty, 0, &node, &weight), RL_ERR_NOT_FOUND, "rl_ring_node");
    CHECK(node == SENTINEL_STR && weight == SENTINEL_U32);

    bool has = true;
    EXPECT_FAIL(rl_ring_contains(NULL, "alpha", &has), RL_ERR_INVALID_ARGUMENT, "rl_ring_contains");
    EXPECT_FAIL(rl_ring_contains(ring, NULL, &has), RL_ERR_INVALID_ARGUMENT, "rl_ring_contains");
    EXPECT_FAIL(rl_ring_contains(ring, "alpha", NULL), RL_ERR_INVALID_ARGUMENT, "rl_ring_contains");
    EXPECT_FAIL(rl_ring_contains(ring, "\xff", &has), RL_ERR_INVALID_ARGUMENT, "rl_ring_contains");
    CHECK(has);
    EXPECT_OK(rl_ring_contains(ring, "", &has));
    CHECK(!has);

    rl_ring *out = SENTINEL_RING;
    EXPECT_FAIL(rl_ring_clone(NULL, &out), RL_ERR_INVALID_ARGUMENT, "rl_ring_clone");
    EXPECT_FAIL(rl_ring_clone(ring, NULL), RL_ERR_INVALID_ARGUMENT, "rl_ring_clone");
    CHECK(out == SENTINEL_RING);

    CHECK(same(before, ring));
    free(before.bytes);
    rl_ring_free(ring);
    rl_ring_free(empty);
}

static void test_enumeration(void) {
    rl_ring *ring = make_ring(RL_ALGORITHM_JUMP);
    static const char *const sorted[] = {"alpha", "beta", "cache-\xce\xb1", "delta", "gamma"};
    static const uint32_t weights[] = {1, 2, 1, 3, 1};
    CHECK(rl_ring_len(ring) == 5);
    for (size_t i = 0; i < 5; i++) {
        const char *name = NULL;
        uint32_t weight = 0;
        EXPECT_OK(rl_ring_node(ring, i, &name, &weight));
        CHECK(name != NULL && strcmp(name, sorted[i]) == 0 && weight == weights[i]);
    }
    rl_ring_free(ring);
}

static void test_lookups(void) {
    for (size_t a = 0; a < sizeof ALGORITHMS / sizeof *ALGORITHMS; a++) {
        rl_ring *ring = make_ring(ALGORITHMS[a]);
        enum { KEYS = 1000 };
        static char text[KEYS][16];
        const void *keys[KEYS];
        size_t lens[KEYS];
        const char *many[KEYS];
        for (int i = 0; i < KEYS; i++) {
            lens[i] = (size_t)snprintf(text[i], sizeof text[i], "key-%d", i);
            keys[i] = text[i];
        }
        EXPECT_OK(rl_ring_get_many(ring, keys, lens, KEYS, many));
        int agree = 0, distinct = 0, owner_first = 0, all = 0, prefix = 0;
        for (int i = 0; i < KEYS; i++) {
            const char *one = NULL;
            const char *n[8];
            size_t found = 0;
            if (rl_ring_get(ring, keys[i], lens[i], &one) != RL_OK) break;
            agree += one == many[i];
            if (rl_ring_get_n(ring, keys[i], lens[i], n, 8, &found) != RL_OK) break;
            all += found == 5;
            owner_first += found > 0 && n[0] == one;
            int dup = 0;
            for (size_t x = 0; x < found; x++)
                for (size_t y = x + 1; y < found; y++) dup += strcmp(n[x], n[y]) == 0;
            distinct += dup == 0;
            /* a shorter request is a prefix of the longer one */
            const char *two[2];
            size_t found2 = 0;
            prefix += rl_ring_get_n(ring, keys[i], lens[i], two, 2, &found2) == RL_OK &&
                      found2 == 2 && two[0] == n[0] && two[1] == n[1];
        }
        CHECK(agree == KEYS);
        CHECK(all == KEYS);
        CHECK(owner_first == KEYS);
        CHECK(distinct == KEYS);
        CHECK(prefix == KEYS);
        rl_ring_free(ring);
    }
}

static void test_serialization(void) {
    for (size_t a = 0; a < sizeof ALGORITHMS / sizeof *ALGORITHMS; a++) {
        rl_ring *ring = make_ring(ALGORITHMS[a]);
        snapshot s = snap(ring);
        size_t len = SENTINEL_SIZE;
        EXPECT_FAIL(rl_ring_serialize(NULL, NULL, 0, &len), RL_ERR_INVALID_ARGUMENT, "rl_ring_serialize");
        EXPECT_FAIL(rl_ring_serialize(ring, NULL, 0, NULL), RL_ERR_INVALID_ARGUMENT, "rl_ring_serialize");
        EXPECT_FAIL(rl_ring_serialize(ring, NULL, 8, &len), RL_ERR_INVALID_ARGUMENT, "rl_ring_serialize");
        uint8_t *small = malloc(s.len);
        memset(small, 0xAA, s.len);
        EXPECT_FAIL(rl_ring_serialize(ring, small, s.len - 1, &len), RL_ERR_INVALID_ARGUMENT, "rl_ring_serialize");
        CHECK(strstr(rl_last_error(), "needs") != NULL);
        size_t untouched = 0;
        for (size_t i = 0; i < s.len; i++) untouched += small[i] == 0xAA;
        CHECK(untouched == s.len && len == SENTINEL_SIZE);
        free(small);
        EXPECT_OK(rl_ring_serialize(ring, NULL, 0, &len));
        CHECK(len == s.len);

        rl_ring *out = SENTINEL_RING;
        EXPECT_FAIL(rl_ring_deserialize(s.bytes, s.len, NULL), RL_ERR_INVALID_ARGUMENT, "rl_ring_deserialize");
        EXPECT_FAIL(rl_ring_deserialize(NULL, s.len, &out), RL_ERR_INVALID_ARGUMENT, "rl_ring_deserialize");
        EXPECT_FAIL(rl_ring_deserialize(NULL, 0, &out), RL_ERR_CORRUPT, "rl_ring_deserialize");
        int corrupt = 0;
        for (size_t cut = 0; cut < s.len; cut++) {
            mark_last_error();
            corrupt += rl_ring_deserialize(s.bytes, cut, &out) == RL_ERR_CORRUPT &&
                       strncmp(rl_last_error(), "rl_ring_deserialize: ", 21) == 0;
        }
        CHECK(corrupt == (int)s.len);
        corrupt = 0;
        for (size_t i = 0; i < s.len; i++) {
            s.bytes[i] ^= 0x10;
            corrupt += rl_ring_deserialize(s.bytes, s.len, &out) == RL_ERR_CORRUPT;
            s.bytes[i] ^= 0x10;
        }
        CHECK(corrupt == (int)s.len);
        CHECK(out == SENTINEL_RING);

        rl_ring *back = NULL;
        EXPECT_OK(rl_ring_deserialize(s.bytes, s.len, &back));
        CHECK(back != NULL && same(s, back) && rl_ring_algorithm(back) == ALGORITHMS[a]);
        rl_ring *copy = NULL;
        EXPECT_OK(rl_ring_clone(ring, &copy));
        CHECK(copy != NULL && same(s, copy));
        int agree = 0;
        for (int i = 0; i < 200; i++) {
            char key[16];
            int n = snprintf(key, sizeof key, "k%d", i);
            const char *x = NULL, *y = NULL, *z = NULL;
            if (rl_ring_get(ring, key, (size_t)n, &x) == RL_OK &&
                rl_ring_get(back, key, (size_t)n, &y) == RL_OK &&
                rl_ring_get(copy, key, (size_t)n, &z) == RL_OK)
                agree += strcmp(x, y) == 0 && strcmp(x, z) == 0 && x != z;
        }
        CHECK(agree == 200);
        /* the copy is independent */
        EXPECT_OK(rl_ring_remove(copy, "alpha"));
        CHECK(same(s, ring) && !same(s, copy));
        rl_ring_free(copy);
        rl_ring_free(back);
        free(s.bytes);
        rl_ring_free(ring);
    }
}

/* ---- threads ---------------------------------------------------------------- */

enum { THREAD_KEYS = 20000, THREADS = 4 };

typedef struct {
    const rl_ring *ring;
    const char **owners; /* THREAD_KEYS answers */
    const char **second; /* second replica of each key */
    int ok;
} lookup_job;

static void *lookups(void *arg) {
    lookup_job *job = arg;
    job->ok = 1;
    for (int i = 0; i < THREAD_KEYS; i++) {
        char key[24];
        int len = snprintf(key, sizeof key, "thread-key-%d", i);
        const char *n[2];
        size_t found = 0;
        if (rl_ring_get(job->ring, key, (size_t)len, &job->owners[i]) != RL_OK ||
            rl_ring_get_n(job->ring, key, (size_t)len, n, 2, &found) != RL_OK || found != 2 ||
            n[0] != job->owners[i]) {
            job->ok = 0;
            return NULL;
        }
        job->second[i] = n[1];
    }
    return NULL;
}

static void test_threads(void) {
    rl_ring *ring = make_ring(RL_ALGORITHM_XXH3);
    lookup_job jobs[THREADS + 1];
    for (int t = 0; t <= THREADS; t++) {
        jobs[t].ring = ring;
        jobs[t].owners = calloc(THREAD_KEYS, sizeof(const char *));
        jobs[t].second = calloc(THREAD_KEYS, sizeof(const char *));
    }
    lookups(&jobs[THREADS]); /* single-threaded reference */
    CHECK(jobs[THREADS].ok);
    pthread_t threads[THREADS];
    for (int t = 0; t < THREADS; t++) CHECK(pthread_create(&threads[t], NULL, lookups, &jobs[t]) == 0);
    for (int t = 0; t < THREADS; t++) CHECK(pthread_join(threads[t], NULL) == 0);
    for (int t = 0; t < THREADS; t++) {
        CHECK(jobs[t].ok);
        CHECK(memcmp(jobs[t].owners, jobs[THREADS].owners, THREAD_KEYS * sizeof(const char *)) == 0);
        CHECK(memcmp(jobs[t].second, jobs[THREADS].second, THREAD_KEYS * sizeof(const char *)) == 0);
    }
    for (int t = 0; t <= THREADS; t++) {
        free(jobs[t].owners);
        free(jobs[t].second);
    }
    rl_ring_free(ring);
}

typedef struct {
    char before[64];
    char after[64];
} error_job;

static void *fail_in_thread(void *arg) {
    error_job *job = arg;
    snprintf(job->before, sizeof job->before, "%s", rl_last_error());
    (void)rl_ring_remove(NULL, "x");
    snprintf(job->after, sizeof job->after, "%s", rl_last_error());
    return NULL;
}

static void test_last_error_is_per_thread(void) {
    (void)rl_ring_add(NULL, "x", 1);
    char mine[64];
    snprintf(mine, sizeof mine, "%s", rl_last_error());
    error_job job;
    pthread_t thread;
    CHECK(pthread_create(&thread, NULL, fail_in_thread, &job) == 0);
    CHECK(pthread_join(thread, NULL) == 0);
    CHECK(job.before[0] == '\0');
    CHECK(strncmp(job.after, "rl_ring_remove: ", 16) == 0);
    CHECK(strncmp(mine, "rl_ring_add: ", 13) == 0);
    CHECK(strcmp(rl_last_error(), mine) == 0);
    /* a successful call leaves the message in place */
    CHECK(rl_jump_hash(1, 1) == 0 && strcmp(rl_last_error(), mine) == 0);
}

int main(void) {
    test_status_names();
    test_new();
    test_mutation_errors();
    test_lookup_errors();
    test_enumeration();
    test_lookups();
    test_serialization();
    test_threads();
    test_last_error_is_per_thread();
    return check_report("test_ring");
}
