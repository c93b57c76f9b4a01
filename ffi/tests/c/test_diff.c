/* Tests of the C migration plans: rl_ring_diff is exact (100,000 random keys
 * move if and only if their rl_ring_position lies in a reported range, from
 * its old_node to its new_node), its array outlives the rings and is freed by
 * one rl_moves_free, and every bad input fails cleanly with outputs
 * untouched. Prints "test_diff: N passed, N failed"; exits 1 on any failure. */

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ringlock.h"

#include "check.h"

#define KEYS 100000

static uint64_t rng_state = 0x9e3779b97f4a7c15u;
static uint64_t next_random(void) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1du;
}

static rl_ring *ring_of(rl_algorithm algorithm, uint32_t vnodes, int nodes) {
    rl_ring *ring = NULL;
    if (rl_ring_new(algorithm, vnodes, &ring) != RL_OK) abort();
    for (int i = 0; i < nodes; i++) {
        char name[32];
        snprintf(name, sizeof name, "10.0.0.%d:11211", i);
        if (rl_ring_add(ring, name, 1) != RL_OK) abort();
    }
    return ring;
}

static bool same_name(const char *a, const char *b) {
    return (a == NULL || b == NULL) ? a == b : strcmp(a, b) == 0;
}

/* The range holding `pos`, or NULL. */
static const rl_move *range_of(const rl_move *moves, size_t count, uint64_t pos) {
    size_t lo = 0, hi = count; /* first range with first > pos */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (moves[mid].first <= pos) lo = mid + 1; else hi = mid;
    }
    if (lo == 0 || moves[lo - 1].last < pos) return NULL;
    return &moves[lo - 1];
}

/* Diffs `before` against `after`, frees both rings, then checks the ranges
 * against owners recorded before the free: exact on KEYS random keys. */
static void check_exact(const char *what, rl_ring *before, rl_ring *after, uint64_t space) {
    static uint8_t keys[KEYS][16];
    static uint64_t pos[KEYS];
    static char old_owner[KEYS][32], new_owner[KEYS][32];
    for (size_t i = 0; i < KEYS; i++) {
        uint64_t a = next_random(), b = next_random();
        memcpy(keys[i], &a, 8);
        memcpy(keys[i] + 8, &b, 8);
        const char *o = NULL, *n = NULL;
        uint64_t p2 = 0;
        if (rl_ring_position(before, keys[i], 16, &pos[i]) != RL_OK ||
            rl_ring_position(after, keys[i], 16, &p2) != RL_OK || p2 != pos[i] ||
            rl_ring_get(before, keys[i], 16, &o) != RL_OK ||
            rl_ring_get(after, keys[i], 16, &n) != RL_OK) {
            FAIL_AT_("%s: lookup of key %zu failed: %s", what, i, rl_last_error());
            return;
        }
        snprintf(old_owner[i], 32, "%s", o);
        snprintf(new_owner[i], 32, "%s", n);
    }
    rl_move *moves = NULL;
    size_t count = 0;
    double fraction = -1;
    EXPECT_OK(rl_ring_diff(before, after, &moves, &count, &fraction));
    rl_ring_free(before); /* the plan does not borrow from the rings */
    rl_ring_free(after);
    if (moves == NULL) return;

    /* Shape: sorted, disjoint, inside the space, lengths sum to fraction. */
    bool shape = true;
    double total = 0;
    for (size_t i = 0; i < count; i++) {
        const rl_move *m = &moves[i];
        if (m->first > m->last || (space != 0 && m->last >= space)) shape = false;
        if (i > 0 && moves[i - 1].last >= m->first) shape = false;
        if (same_name(m->old_node, m->new_node)) shape = false;
        total += (double)(m->last - m->first) + 1.0;
    }
    CHECK(shape);
    double space_f = space == 0 ? 18446744073709551616.0 : (double)space;
    CHECK(fabs(total / space_f - fraction) < 1e-9);

    size_t moved = 0, wrong = 0;
    for (size_t i = 0; i < KEYS; i++) {
        const rl_move *m = range_of(moves, count, pos[i]);
        bool changed = strcmp(old_owner[i], new_owner[i]) != 0;
        if (m != NULL) {
            moved++;
            if (!changed || !same_name(m->old_node, old_owner[i]) ||
                !same_name(m->new_node, new_owner[i])) wrong++;
        } else if (changed) {
            wrong++;
        }
    }
    if (wrong != 0) FAIL_AT_("%s: %zu of %d keys disagree with the ranges", what, wrong, KEYS);
    else passed++;
    double seen = (double)moved / KEYS;
    double sigma = sqrt(fraction * (1 - fraction) / KEYS);
    if (fabs(seen - fraction) > 5 * sigma + 1e-9 || fraction <= 0)
        FAIL_AT_("%s: fraction %f but %f of the keys moved", what, fraction, seen);
    else passed++;
    rl_moves_free(moves);
}

static void test_exact(void) {
    const rl_algorithm algs[] = {RL_ALGORITHM_KETAMA, RL_ALGORITHM_XXH3, RL_ALGORITHM_MAGLEV};
    const uint64_t spaces[] = {(uint64_t)1 << 32, 0 /* 2^64 */, 65537};
    const char *what[] = {"ketama add/remove/weight", "xxh3 add/remove/weight",
                          "maglev add/remove/weight"};
    for (int a = 0; a < 3; a++) {
        rl_ring *before = ring_of(algs[a], 0, 10), *after = NULL;
        EXPECT_OK(rl_ring_clone(before, &after));
        EXPECT_OK(rl_ring_add(after, "new-node", 2));
        EXPECT_OK(rl_ring_remove(after, "10.0.0.3:11211"));
        EXPECT_OK(rl_ring_set_weight(after, "10.0.0.5:11211", 3));
        check_exact(what[a], before, after, spaces[a]);
    }
    /* Different vnodes on each side. */
    check_exact("xxh3 40 vs 200 vnodes", ring_of(RL_ALGORITHM_XXH3, 40, 6),
                ring_of(RL_ALGORITHM_XXH3, 200, 7), 0);
}

static void test_add_moves_only_to_the_new_node(void) {
    rl_ring *before = ring_of(RL_ALGORITHM_XXH3, 0, 5), *after = NULL;
    EXPECT_OK(rl_ring_clone(before, &after));
    EXPECT_OK(rl_ring_add(after, "n", 1));
    rl_move *moves = NULL;
    size_t count = 0;
    double fraction = 0;
    EXPECT_OK(rl_ring_diff(before, after, &moves, &count, &fraction));
    bool to_new = count > 0;
    for (size_t i = 0; i < count; i++)
        to_new = to_new && moves[i].old_node != NULL && strcmp(moves[i].new_node, "n") == 0;
    CHECK(to_new);
    CHECK(fraction > 0.1 && fraction < 0.25);
    rl_moves_free(moves);

    /* Identical rings: no moves, but an array to free all the same. */
    EXPECT_OK(rl_ring_diff(before, before, &moves, &count, &fraction));
    CHECK(moves != NULL && count == 0 && fraction == 0.0);
    rl_moves_free(moves);

    /* Empty before: every range comes from nobody (old_node NULL). */
    rl_ring *empty = NULL;
    EXPECT_OK(rl_ring_new(RL_ALGORITHM_XXH3, 0, &empty));
    EXPECT_OK(rl_ring_diff(empty, after, &moves, &count, &fraction));
    bool from_nobody = count > 0 && moves[0].first == 0 && moves[count - 1].last == UINT64_MAX;
    for (size_t i = 0; i < count; i++)
        from_nobody = from_nobody && moves[i].old_node == NULL && moves[i].new_node != NULL;
    CHECK(from_nobody);
    CHECK(fraction == 1.0);
    rl_moves_free(moves);
    EXPECT_OK(rl_ring_diff(after, empty, &moves, &count, &fraction));
    CHECK(count > 0 && moves[0].new_node == NULL && moves[0].old_node != NULL);
    rl_moves_free(moves);
    rl_moves_free(NULL);
    rl_ring_free(empty);
    rl_ring_free(before);
    rl_ring_free(after);
}

static void test_bad_input(void) {
    rl_ring *k = ring_of(RL_ALGORITHM_KETAMA, 0, 3), *x = ring_of(RL_ALGORITHM_XXH3, 0, 3);
    rl_ring *j = ring_of(RL_ALGORITHM_JUMP, 0, 3);
    static int sentinel;
    rl_move *const SENTINEL_MOVES = (rl_move *)&sentinel;
    rl_move *moves = SENTINEL_MOVES;
    size_t count = 77;
    double fraction = 0.25;
    EXPECT_FAIL(rl_ring_diff(NULL, x, &moves, &count, &fraction), RL_ERR_INVALID_ARGUMENT, "rl_ring_diff");
    EXPECT_FAIL(rl_ring_diff(x, NULL, &moves, &count, &fraction), RL_ERR_INVALID_ARGUMENT, "rl_ring_diff");
    EXPECT_FAIL(rl_ring_diff(x, x, NULL, &count, &fraction), RL_ERR_INVALID_ARGUMENT, "rl_ring_diff");
    EXPECT_FAIL(rl_ring_diff(x, x, &moves, NULL, &fraction), RL_ERR_INVALID_ARGUMENT, "rl_ring_diff");
    EXPECT_FAIL(rl_ring_diff(x, x, &moves, &count, NULL), RL_ERR_INVALID_ARGUMENT, "rl_ring_diff");
    EXPECT_FAIL(rl_ring_diff(k, x, &moves, &count, &fraction), RL_ERR_INVALID_ARGUMENT, "rl_ring_diff");
    CHECK(strstr(rl_last_error(), "same algorithm") != NULL);
    EXPECT_FAIL(rl_ring_diff(j, j, &moves, &count, &fraction), RL_ERR_INVALID_ARGUMENT, "rl_ring_diff");
    CHECK(strstr(rl_last_error(), "jump") != NULL);
    CHECK(moves == SENTINEL_MOVES && count == 77 && fraction == 0.25);

    uint64_t pos = 5;
    EXPECT_FAIL(rl_ring_position(NULL, "k", 1, &pos), RL_ERR_INVALID_ARGUMENT, "rl_ring_position");
    EXPECT_FAIL(rl_ring_position(x, NULL, 1, &pos), RL_ERR_INVALID_ARGUMENT, "rl_ring_position");
    EXPECT_FAIL(rl_ring_position(x, "k", 1, NULL), RL_ERR_INVALID_ARGUMENT, "rl_ring_position");
    EXPECT_FAIL(rl_ring_position(j, "k", 1, &pos), RL_ERR_INVALID_ARGUMENT, "rl_ring_position");
    CHECK(pos == 5);
    /* ketama positions are libketama's 32-bit hashes: MD5("") starts d41d8cd9. */
    EXPECT_OK(rl_ring_position(k, NULL, 0, &pos));
    CHECK(pos == 0xd98c1dd4u);
    rl_ring_free(k);
    rl_ring_free(x);
    rl_ring_free(j);
}

int main(void) {
    test_exact();
    test_add_moves_only_to_the_new_node();
    test_bad_input();
    return check_report("test_diff");
}
