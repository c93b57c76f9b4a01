/* Tests of the C API of bounded-load placement: rl_ring_get_bounded and the
 * load tracker (rl_tracker_*): answers, bad input at every entry point
 * (status, message, outputs untouched), and 8 threads sharing one tracker
 * that never let a node pass the cap. Prints "test_bounded: N passed,
 * N failed"; exits 1 on any failure. */

#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ringlock.h"

#include "check.h"

static int sentinel_object;
#define SENTINEL_STR ((const char *)&sentinel_object)
#define SENTINEL_TRACKER ((rl_tracker *)&sentinel_object)
#define SENTINEL_U64 ((uint64_t)0x5eed)

#define NODES 5
static const char *const NAMES[NODES] = {"alpha", "beta", "gamma", "delta", "epsilon"};
static const rl_algorithm ALGORITHMS[] = {RL_ALGORITHM_KETAMA, RL_ALGORITHM_XXH3, RL_ALGORITHM_JUMP};

static rl_ring *make_ring(rl_algorithm algorithm) {
    rl_ring *ring = NULL;
    if (rl_ring_new(algorithm, 0, &ring) != RL_OK) abort();
    if (rl_ring_add_many(ring, NAMES, NULL, NODES) != RL_OK) abort();
    return ring;
}

/* The enumeration index of `name` in `ring`. */
static size_t index_of(const rl_ring *ring, const char *name) {
    for (size_t i = 0; i < rl_ring_len(ring); i++) {
        const char *n;
        uint32_t w;
        if (rl_ring_node(ring, i, &n, &w) != RL_OK) abort();
        if (strcmp(n, name) == 0) return i;
    }
    abort();
}

/* ceil(1.25 * (total + 1) / nodes), exactly: 1.25 = 5/4. */
static uint64_t cap_125(uint64_t total, uint64_t nodes) {
    return (5 * (total + 1) + 4 * nodes - 1) / (4 * nodes);
}

static void test_lookup(void) {
    for (size_t a = 0; a < 3; a++) {
        rl_ring *ring = make_ring(ALGORITHMS[a]);
        uint64_t loads[NODES] = {0};
        int same = 0, passed_on = 0;
        for (int i = 0; i < 1000; i++) {
            char key[32];
            int len = snprintf(key, sizeof key, "key-%d", i);
            const char *plain = NULL, *bounded = NULL;
            EXPECT_OK(rl_ring_get(ring, key, (size_t)len, &plain));
            EXPECT_OK(rl_ring_get_bounded(ring, key, (size_t)len, loads, NODES, 1.25, &bounded));
            same += plain == bounded; /* the same borrowed pointer */
            /* a full owner passes the key to the next node of get_n's order:
             * the owner 2, the next 0, the others 1: total 5, cap
             * ceil(1.25 * 6 / 5) = 2 */
            const char *order[2];
            size_t found = 0;
            EXPECT_OK(rl_ring_get_n(ring, key, (size_t)len, order, 2, &found));
            uint64_t full[NODES] = {0};
            full[index_of(ring, order[0])] = 2;
            size_t first = index_of(ring, order[0]), second = index_of(ring, order[1]);
            for (size_t j = 0; j < NODES; j++) full[j] += j != first && j != second;
            EXPECT_OK(rl_ring_get_bounded(ring, key, (size_t)len, full, NODES, 1.25, &bounded));
            passed_on += bounded == order[1];
        }
        CHECK(same == 1000);
        CHECK(passed_on == 1000);
        rl_ring_free(ring);
    }
}

static void test_lookup_errors(void) {
    rl_ring *ring = make_ring(RL_ALGORITHM_XXH3);
    uint64_t loads[NODES] = {0};
    uint64_t overflow[NODES] = {UINT64_MAX, 1, 0, 0, 0};
    const char *out = SENTINEL_STR;
#define GB(r, k, kl, l, ll, f, o) rl_ring_get_bounded(r, k, kl, l, ll, f, o)
    EXPECT_FAIL(GB(NULL, "k", 1, loads, NODES, 1.25, &out), RL_ERR_INVALID_ARGUMENT, "rl_ring_get_bounded");
    EXPECT_FAIL(GB(ring, NULL, 1, loads, NODES, 1.25, &out), RL_ERR_INVALID_ARGUMENT, "rl_ring_get_bounded");
    EXPECT_FAIL(GB(ring, "k", 1, NULL, NODES, 1.25, &out), RL_ERR_INVALID_ARGUMENT, "rl_ring_get_bounded");
    EXPECT_FAIL(GB(ring, "k", 1, loads, NODES - 1, 1.25, &out), RL_ERR_INVALID_ARGUMENT, "rl_ring_get_bounded");
    EXPECT_FAIL(GB(ring, "k", 1, loads, 0, 1.25, &out), RL_ERR_INVALID_ARGUMENT, "rl_ring_get_bounded");
    EXPECT_FAIL(GB(ring, "k", 1, loads, NODES, 1.0, &out), RL_ERR_INVALID_ARGUMENT, "rl_ring_get_bounded");
    EXPECT_FAIL(GB(ring, "k", 1, loads, NODES, 0.5, &out), RL_ERR_INVALID_ARGUMENT, "rl_ring_get_bounded");
    EXPECT_FAIL(GB(ring, "k", 1, loads, NODES, -2.0, &out), RL_ERR_INVALID_ARGUMENT, "rl_ring_get_bounded");
    EXPECT_FAIL(GB(ring, "k", 1, loads, NODES, NAN, &out), RL_ERR_INVALID_ARGUMENT, "rl_ring_get_bounded");
    EXPECT_FAIL(GB(ring, "k", 1, loads, NODES, INFINITY, &out), RL_ERR_INVALID_ARGUMENT, "rl_ring_get_bounded");
    EXPECT_FAIL(GB(ring, "k", 1, overflow, NODES, 1.25, &out), RL_ERR_INVALID_ARGUMENT, "rl_ring_get_bounded");
    EXPECT_FAIL(GB(ring, "k", 1, loads, NODES, 1.25, NULL), RL_ERR_INVALID_ARGUMENT, "rl_ring_get_bounded");
    CHECK(out == SENTINEL_STR);
    EXPECT_OK(GB(ring, NULL, 0, loads, NODES, 1.25, &out)); /* empty key */
    CHECK(out != SENTINEL_STR);
    rl_ring *empty = NULL;
    EXPECT_OK(rl_ring_new(RL_ALGORITHM_JUMP, 0, &empty));
    out = SENTINEL_STR;
    EXPECT_FAIL(GB(empty, "k", 1, NULL, 0, 1.25, &out), RL_ERR_EMPTY_RING, "rl_ring_get_bounded");
    CHECK(out == SENTINEL_STR);
#undef GB
    rl_ring_free(empty);
    rl_ring_free(ring);
}

static void test_tracker(void) {
    rl_ring *ring = make_ring(RL_ALGORITHM_KETAMA);
    rl_tracker *t = SENTINEL_TRACKER;
    EXPECT_FAIL(rl_tracker_new(NULL, 1.25, &t), RL_ERR_INVALID_ARGUMENT, "rl_tracker_new");
    EXPECT_FAIL(rl_tracker_new(ring, 1.25, NULL), RL_ERR_INVALID_ARGUMENT, "rl_tracker_new");
    EXPECT_FAIL(rl_tracker_new(ring, 1.0, &t), RL_ERR_INVALID_ARGUMENT, "rl_tracker_new");
    EXPECT_FAIL(rl_tracker_new(ring, NAN, &t), RL_ERR_INVALID_ARGUMENT, "rl_tracker_new");
    rl_ring *empty = NULL;
    EXPECT_OK(rl_ring_new(RL_ALGORITHM_XXH3, 0, &empty));
    EXPECT_FAIL(rl_tracker_new(empty, 1.25, &t), RL_ERR_EMPTY_RING, "rl_tracker_new");
    rl_ring_free(empty);
    CHECK(t == SENTINEL_TRACKER);
    EXPECT_OK(rl_tracker_new(ring, 1.25, &t));
    const char *owner = NULL;
    EXPECT_OK(rl_ring_get(ring, "job-1", 5, &owner));
    char owner_copy[32];
    snprintf(owner_copy, sizeof owner_copy, "%s", owner);
    rl_ring_free(ring); /* the tracker holds its own copy */

    const char *node = SENTINEL_STR;
    EXPECT_FAIL(rl_tracker_acquire(NULL, "k", 1, &node), RL_ERR_INVALID_ARGUMENT, "rl_tracker_acquire");
    EXPECT_FAIL(rl_tracker_acquire(t, NULL, 1, &node), RL_ERR_INVALID_ARGUMENT, "rl_tracker_acquire");
    EXPECT_FAIL(rl_tracker_acquire(t, "k", 1, NULL), RL_ERR_INVALID_ARGUMENT, "rl_tracker_acquire");
    CHECK(node == SENTINEL_STR);
    EXPECT_OK(rl_tracker_acquire(t, "job-1", 5, &node));
    CHECK(strcmp(node, owner_copy) == 0); /* no load yet: get's answer */
    uint64_t load = SENTINEL_U64;
    EXPECT_FAIL(rl_tracker_load(NULL, node, &load), RL_ERR_INVALID_ARGUMENT, "rl_tracker_load");
    EXPECT_FAIL(rl_tracker_load(t, NULL, &load), RL_ERR_INVALID_ARGUMENT, "rl_tracker_load");
    EXPECT_FAIL(rl_tracker_load(t, node, NULL), RL_ERR_INVALID_ARGUMENT, "rl_tracker_load");
    EXPECT_FAIL(rl_tracker_load(t, "zeta", &load), RL_ERR_NOT_FOUND, "rl_tracker_load");
    EXPECT_FAIL(rl_tracker_load(t, "\xff", &load), RL_ERR_INVALID_ARGUMENT, "rl_tracker_load");
    CHECK(load == SENTINEL_U64);
    EXPECT_OK(rl_tracker_load(t, node, &load));
    CHECK(load == 1);
    EXPECT_FAIL(rl_tracker_release(NULL, node), RL_ERR_INVALID_ARGUMENT, "rl_tracker_release");
    EXPECT_FAIL(rl_tracker_release(t, NULL), RL_ERR_INVALID_ARGUMENT, "rl_tracker_release");
    EXPECT_FAIL(rl_tracker_release(t, "zeta"), RL_ERR_NOT_FOUND, "rl_tracker_release");
    EXPECT_OK(rl_tracker_release(t, owner_copy)); /* an equal string will do */
    EXPECT_FAIL(rl_tracker_release(t, node), RL_ERR_INVALID_ARGUMENT, "rl_tracker_release");
    EXPECT_OK(rl_tracker_load(t, node, &load));
    CHECK(load == 0);

    /* one hot key: the slots spread, none above the cap of its moment */
    bool within = true;
    for (uint64_t total = 0; total < 100; total++) {
        EXPECT_OK(rl_tracker_acquire(t, "hot", 3, &node));
        EXPECT_OK(rl_tracker_load(t, node, &load));
        within = within && load <= cap_125(total, NODES);
    }
    CHECK(within);
    /* at most cap(99) = 25 each, so the 100 slots went to 4 nodes or more */
    uint64_t sum = 0;
    int used = 0;
    for (size_t i = 0; i < NODES; i++) {
        EXPECT_OK(rl_tracker_load(t, NAMES[i], &load));
        CHECK(load <= cap_125(99, NODES));
        used += load > 0;
        sum += load;
    }
    CHECK(sum == 100 && used >= 4);
    rl_tracker_free(t);
    rl_tracker_free(NULL);
}

/* ---- 8 threads, one tracker --------------------------------------------------- */

#define THREADS 8
#define PER_THREAD 2000

static rl_tracker *shared;
static atomic_uint_fast64_t started;
static atomic_int broken;

static void *worker(void *arg) {
    unsigned seed = (unsigned)(uintptr_t)arg;
    const char *held[PER_THREAD];
    for (int i = 0; i < PER_THREAD; i++) {
        /* skewed: half the keys are one of 4 hot ones */
        char key[32];
        seed = seed * 1103515245u + 12345u;
        unsigned r = (seed >> 16) & 0x7fff;
        int len = snprintf(key, sizeof key, "key-%u", r % 2 ? r % 4 : r);
        atomic_fetch_add(&started, 1);
        if (rl_tracker_acquire(shared, key, (size_t)len, &held[i]) != RL_OK) {
            atomic_store(&broken, 1);
            return NULL;
        }
        /* Only acquisitions: loads and the total only grow. The node's last
         * slot was taken at a total below the acquisitions started by the
         * time its load is read, so its load is within that cap. */
        uint64_t load;
        if (rl_tracker_load(shared, held[i], &load) != RL_OK) atomic_store(&broken, 1);
        uint64_t s = atomic_load(&started);
        if (load > cap_125(s - 1, NODES)) atomic_store(&broken, 2);
    }
    for (int i = 0; i < PER_THREAD; i++) {
        if (rl_tracker_release(shared, held[i]) != RL_OK) atomic_store(&broken, 3);
    }
    return NULL;
}

static void test_tracker_threads(void) {
    for (size_t a = 0; a < 3; a++) {
        rl_ring *ring = make_ring(ALGORITHMS[a]);
        EXPECT_OK(rl_tracker_new(ring, 1.25, &shared));
        rl_ring_free(ring);
        atomic_store(&started, 0);
        atomic_store(&broken, 0);
        pthread_t threads[THREADS];
        for (uintptr_t i = 0; i < THREADS; i++) {
            CHECK(pthread_create(&threads[i], NULL, worker, (void *)(i + 1)) == 0);
        }
        for (int i = 0; i < THREADS; i++) CHECK(pthread_join(threads[i], NULL) == 0);
        CHECK(atomic_load(&broken) == 0);
        for (size_t i = 0; i < NODES; i++) {
            uint64_t load = SENTINEL_U64;
            EXPECT_OK(rl_tracker_load(shared, NAMES[i], &load));
            CHECK(load == 0);
        }
        rl_tracker_free(shared);
    }
}

int main(void) {
    test_lookup();
    test_lookup_errors();
    test_tracker();
    test_tracker_threads();
    return check_report("test_bounded");
}
