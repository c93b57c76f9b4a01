/* Tests of maglev through the C API: rl_ring_options, rl_ring_new_with_options,
 * rl_ring_table_size; every bad option gives a status and a message and
 * writes nothing; a full table refuses a node and stays unchanged.
 * Prints "test_maglev: N passed, N failed"; exits 1 on any failure. */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ringlock.h"

#include "check.h"

static int sentinel_object;
#define SENTINEL_RING ((rl_ring *)&sentinel_object)

static rl_ring *with(rl_algorithm algorithm, uint32_t vnodes, uint32_t table_size) {
    rl_ring_options o = {algorithm, vnodes, table_size};
    rl_ring *ring = NULL;
    if (rl_ring_new_with_options(&o, &ring) != RL_OK) abort();
    return ring;
}

static void test_defaults(void) {
    rl_ring *ring = NULL;
    EXPECT_OK(rl_ring_new_with_options(NULL, &ring));
    CHECK(ring != NULL && rl_ring_algorithm(ring) == RL_ALGORITHM_XXH3 && rl_ring_table_size(ring) == 0);
    rl_ring_free(ring);

    rl_ring_options zero;
    memset(&zero, 0, sizeof zero);
    ring = NULL;
    EXPECT_OK(rl_ring_new_with_options(&zero, &ring));
    CHECK(ring != NULL && rl_ring_algorithm(ring) == RL_ALGORITHM_XXH3 && rl_ring_table_size(ring) == 0);
    rl_ring_free(ring);

    ring = NULL;
    EXPECT_OK(rl_ring_new(RL_ALGORITHM_MAGLEV, 0, &ring));
    CHECK(rl_ring_algorithm(ring) == RL_ALGORITHM_MAGLEV && rl_ring_table_size(ring) == 65537);
    rl_ring_free(ring);

    ring = with(RL_ALGORITHM_MAGLEV, 0, 0);
    CHECK(rl_ring_table_size(ring) == 65537);
    rl_ring_free(ring);
    ring = with(RL_ALGORITHM_MAGLEV, 0, 101);
    CHECK(rl_ring_table_size(ring) == 101);
    rl_ring_free(ring);
    ring = with(RL_ALGORITHM_KETAMA, 40, 0);
    CHECK(rl_ring_algorithm(ring) == RL_ALGORITHM_KETAMA && rl_ring_table_size(ring) == 0);
    rl_ring_free(ring);

    mark_last_error();
    CHECK(rl_ring_table_size(NULL) == 0 && strstr(rl_last_error(), "rl_ring_table_size") != NULL);
}

static void test_bad_options(void) {
    static const struct {
        rl_ring_options o;
        const char *says;
    } bad[] = {
        {{RL_ALGORITHM_MAGLEV, 0, 65536}, "not prime"},
        {{RL_ALGORITHM_MAGLEV, 0, 1}, "not prime"},
        {{RL_ALGORITHM_MAGLEV, 0, 67108879}, "larger"},
        {{RL_ALGORITHM_MAGLEV, 0, UINT32_MAX}, "larger"},
        {{RL_ALGORITHM_MAGLEV, 160, 0}, "vnodes"},
        {{RL_ALGORITHM_XXH3, 0, 101}, "only maglev"},
        {{RL_ALGORITHM_JUMP, 0, 65537}, "only maglev"},
        {{99, 0, 0}, "unknown algorithm"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        rl_ring *out = SENTINEL_RING;
        EXPECT_FAIL(rl_ring_new_with_options(&bad[i].o, &out), RL_ERR_INVALID_ARGUMENT,
                    "rl_ring_new_with_options");
        CHECK(strstr(rl_last_error(), bad[i].says) != NULL);
        CHECK(out == SENTINEL_RING);
    }
    rl_ring_options ok = {RL_ALGORITHM_MAGLEV, 0, 0};
    EXPECT_FAIL(rl_ring_new_with_options(&ok, NULL), RL_ERR_INVALID_ARGUMENT, "rl_ring_new_with_options");
    rl_ring *out = SENTINEL_RING;
    EXPECT_FAIL(rl_ring_new(RL_ALGORITHM_MAGLEV, 4, &out), RL_ERR_INVALID_ARGUMENT, "rl_ring_new");
    CHECK(out == SENTINEL_RING);
}

static void test_full_table_and_lookups(void) {
    rl_ring *ring = with(RL_ALGORITHM_MAGLEV, 0, 3);
    static const char *const nodes[] = {"a", "b", "c"};
    static const uint32_t weights[] = {1, 2, 1};
    EXPECT_OK(rl_ring_add_many(ring, nodes, weights, 3));
    EXPECT_FAIL(rl_ring_add(ring, "d", 1), RL_ERR_INVALID_ARGUMENT, "rl_ring_add");
    CHECK(strstr(rl_last_error(), "at most 3 nodes") != NULL);
    CHECK(rl_ring_len(ring) == 3 && rl_ring_table_size(ring) == 3);

    /* a table of 3 and 3 nodes: each owns one entry, so get_n reaches all */
    int all = 0;
    for (int i = 0; i < 100; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", i);
        const char *got[3] = {NULL, NULL, NULL};
        size_t found = 0;
        const char *owner = NULL;
        if (rl_ring_get_n(ring, key, strlen(key), got, 3, &found) == RL_OK &&
            rl_ring_get(ring, key, strlen(key), &owner) == RL_OK)
            all += found == 3 && got[0] == owner && got[0] != got[1] && got[1] != got[2] &&
                   got[0] != got[2];
    }
    CHECK(all == 100);

    /* the serialisation carries the table size */
    size_t len = 0;
    EXPECT_OK(rl_ring_serialize(ring, NULL, 0, &len));
    uint8_t *buf = malloc(len);
    EXPECT_OK(rl_ring_serialize(ring, buf, len, &len));
    rl_ring *back = NULL;
    EXPECT_OK(rl_ring_deserialize(buf, len, &back));
    CHECK(back != NULL && rl_ring_table_size(back) == 3 && rl_ring_len(back) == 3);
    rl_ring *copy = NULL;
    EXPECT_OK(rl_ring_clone(ring, &copy));
    CHECK(copy != NULL && rl_ring_table_size(copy) == 3);
    free(buf);
    rl_ring_free(copy);
    rl_ring_free(back);
    rl_ring_free(ring);
}

int main(void) {
    test_defaults();
    test_bad_options();
    test_full_table_and_lookups();
    return check_report("test_maglev");
}
