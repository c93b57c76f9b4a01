/* Tests of the C API of shared rings (rl_shared_ring_*): answers equal to the
 * in-process ring's for every algorithm (get, get_n, get_many, get_bounded),
 * generations taken up by the next lookup, the corrupt-file matrix at open
 * and at the switch, bad arguments (status, message, outputs untouched).
 * Prints "test_shared_ring: N passed, N failed"; exits 1 on any failure. */

#define _POSIX_C_SOURCE 200809L

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ringlock.h"

#include "check.h"

static int sentinel_object;
#define SENTINEL_STR ((const char *)&sentinel_object)

static char dir[64];
static char path[128];

static const rl_algorithm ALGORITHMS[] = {RL_ALGORITHM_KETAMA, RL_ALGORITHM_XXH3,
                                          RL_ALGORITHM_JUMP, RL_ALGORITHM_MAGLEV};

static rl_ring *make_ring(rl_algorithm algorithm, int nodes) {
    rl_ring *ring = NULL;
    if (rl_ring_new(algorithm, 0, &ring) != RL_OK) abort();
    for (int i = 0; i < nodes; i++) {
        char name[32];
        snprintf(name, sizeof name, "cache-%02d", i);
        if (rl_ring_add(ring, name, 1 + (uint32_t)i % 3) != RL_OK) abort();
    }
    return ring;
}

static void write_file(const char *p, const void *bytes, size_t len) {
    FILE *f = fopen(p, "wb");
    if (f == NULL || fwrite(bytes, 1, len, f) != len || fclose(f) != 0) abort();
}

static size_t read_file(const char *p, unsigned char **bytes) {
    FILE *f = fopen(p, "rb");
    if (f == NULL) abort();
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    *bytes = malloc((size_t)len);
    if (*bytes == NULL || fread(*bytes, 1, (size_t)len, f) != (size_t)len) abort();
    fclose(f);
    return (size_t)len;
}

static void test_answers_equal_the_ring(void) {
    for (size_t a = 0; a < 4; a++) {
        rl_ring *ring = make_ring(ALGORITHMS[a], 13);
        uint64_t g = 0;
        EXPECT_OK(rl_shared_ring_publish(ring, path, &g));
        CHECK(g >= 1);
        rl_shared_ring *s = NULL;
        EXPECT_OK(rl_shared_ring_open(path, &s));
        uint64_t held = 0;
        EXPECT_OK(rl_shared_ring_generation(s, &held));
        CHECK(held == g);
        size_t count = 0;
        EXPECT_OK(rl_shared_ring_node_count(s, &count));
        CHECK(count == 13);
        uint64_t loads[13];
        for (size_t i = 0; i < 13; i++) loads[i] = (i * 5) % 7;
        int same = 0;
        for (int i = 0; i < 20000; i++) {
            char key[32];
            int len = snprintf(key, sizeof key, "key:%d", i);
            const char *want = NULL, *got = NULL;
            if (rl_ring_get(ring, key, (size_t)len, &want) != RL_OK) abort();
            if (rl_shared_ring_get(s, key, (size_t)len, &got) == RL_OK && strcmp(want, got) == 0) {
                same++;
            }
            if (i % 100 == 0) {
                const char *wn[4], *gn[4];
                size_t wf = 0, gf = 0;
                EXPECT_OK(rl_ring_get_n(ring, key, (size_t)len, wn, 4, &wf));
                EXPECT_OK(rl_shared_ring_get_n(s, key, (size_t)len, gn, 4, &gf));
                CHECK(wf == gf);
                for (size_t k = 0; k < wf && k < gf; k++) CHECK(strcmp(wn[k], gn[k]) == 0);
                EXPECT_OK(rl_ring_get_bounded(ring, key, (size_t)len, loads, 13, 1.25, &want));
                EXPECT_OK(rl_shared_ring_get_bounded(s, key, (size_t)len, loads, 13, 1.25, &got));
                CHECK(strcmp(want, got) == 0);
            }
        }
        CHECK(same == 20000);
        const void *keys[3] = {"a", "bb", "ccc"};
        size_t lens[3] = {1, 2, 3};
        const char *wm[3], *gm[3];
        EXPECT_OK(rl_ring_get_many(ring, keys, lens, 3, wm));
        EXPECT_OK(rl_shared_ring_get_many(s, keys, lens, 3, gm));
        for (int k = 0; k < 3; k++) CHECK(strcmp(wm[k], gm[k]) == 0);
        /* the enumeration is the ring's */
        for (size_t i = 0; i < 13; i++) {
            const char *wn, *gn;
            uint32_t ww, gw;
            EXPECT_OK(rl_ring_node(ring, i, &wn, &ww));
            EXPECT_OK(rl_shared_ring_node(s, i, &gn, &gw));
            CHECK(strcmp(wn, gn) == 0 && ww == gw);
        }
        rl_shared_ring_close(s);
        rl_ring_free(ring);
    }
}

static void test_generations(void) {
    rl_ring *ring = make_ring(RL_ALGORITHM_XXH3, 4);
    uint64_t g0 = 0, g = 0;
    EXPECT_OK(rl_shared_ring_publish(ring, path, &g0));
    rl_shared_ring *s = NULL;
    EXPECT_OK(rl_shared_ring_open(path, &s));
    for (int round = 1; round <= 10; round++) {
        char name[32];
        snprintf(name, sizeof name, "added-%d", round);
        EXPECT_OK(rl_ring_add(ring, name, 1));
        EXPECT_OK(rl_shared_ring_publish(ring, path, &g));
        CHECK(g == g0 + (uint64_t)round);
        /* the next lookup answers from the new generation: no reopen */
        int same = 0;
        for (int i = 0; i < 500; i++) {
            char key[16];
            int len = snprintf(key, sizeof key, "k%d", i);
            const char *want, *got;
            if (rl_ring_get(ring, key, (size_t)len, &want) != RL_OK) abort();
            if (rl_shared_ring_get(s, key, (size_t)len, &got) == RL_OK && strcmp(want, got) == 0) same++;
        }
        CHECK(same == 500);
        uint64_t held = 0;
        size_t count = 0;
        EXPECT_OK(rl_shared_ring_generation(s, &held));
        EXPECT_OK(rl_shared_ring_node_count(s, &count));
        CHECK(held == g && count == 4 + (size_t)round);
    }
    /* publish NULL path / NULL ring; the generation pointer may be NULL */
    EXPECT_OK(rl_shared_ring_publish(ring, path, NULL));
    EXPECT_FAIL(rl_shared_ring_publish(NULL, path, &g), RL_ERR_INVALID_ARGUMENT, "rl_shared_ring_publish");
    EXPECT_FAIL(rl_shared_ring_publish(ring, NULL, &g), RL_ERR_INVALID_ARGUMENT, "rl_shared_ring_publish");
    EXPECT_FAIL(rl_shared_ring_publish(ring, "", &g), RL_ERR_INVALID_ARGUMENT, "rl_shared_ring_publish");
    EXPECT_FAIL(rl_shared_ring_publish(ring, "bad name", &g), RL_ERR_INVALID_ARGUMENT, "rl_shared_ring_publish");

    /* a corrupt new generation: an error at the switch, the handle keeps
     * answering nothing wrong, and recovers at the next good publish */
    uint64_t before = 0;
    EXPECT_OK(rl_shared_ring_generation(s, &before));
    char tmp[160], gen[160];
    snprintf(tmp, sizeof tmp, "%s/.garbage", dir);
    snprintf(gen, sizeof gen, "%s.gen", path);
    write_file(tmp, "garbage", 7);
    if (rename(tmp, path) != 0) abort();
    unsigned char *ctl;
    size_t ctl_len = read_file(gen, &ctl);
    uint64_t word;
    memcpy(&word, ctl + 16, 8);
    word++;
    memcpy(ctl + 16, &word, 8);
    write_file(gen, ctl, ctl_len);
    free(ctl);
    const char *node = SENTINEL_STR;
    EXPECT_FAIL(rl_shared_ring_get(s, "k", 1, &node), RL_ERR_CORRUPT, "rl_shared_ring_get");
    CHECK(node == SENTINEL_STR);
    EXPECT_OK(rl_shared_ring_publish(ring, path, &g));
    CHECK(g == word + 1);
    EXPECT_OK(rl_shared_ring_get(s, "k", 1, &node));
    uint64_t after = 0;
    EXPECT_OK(rl_shared_ring_generation(s, &after));
    CHECK(after == g && after > before);
    rl_shared_ring_close(s);
    rl_ring_free(ring);
}

/* Damages a copy of a good ring file at `at` and expects open to say `want`. */
static void expect_open_fails(const unsigned char *good, size_t len, size_t cut, long at,
                              unsigned char value, rl_status want) {
    char bad[160];
    snprintf(bad, sizeof bad, "%s/bad", dir);
    unsigned char *copy = malloc(len);
    if (copy == NULL) abort();
    memcpy(copy, good, len);
    if (at >= 0) copy[at] = value;
    write_file(bad, copy, cut);
    char badgen[170];
    snprintf(badgen, sizeof badgen, "%s.gen", path);
    char dst[170];
    snprintf(dst, sizeof dst, "%s/bad.gen", dir);
    unsigned char *ctl;
    size_t ctl_len = read_file(badgen, &ctl);
    write_file(dst, ctl, ctl_len);
    free(ctl);
    rl_shared_ring *s = (rl_shared_ring *)&sentinel_object;
    EXPECT_FAIL(rl_shared_ring_open(bad, &s), want, "rl_shared_ring_open");
    CHECK(s == (rl_shared_ring *)&sentinel_object);
    free(copy);
}

static void test_corrupt_files(void) {
    rl_ring *ring = make_ring(RL_ALGORITHM_KETAMA, 5);
    EXPECT_OK(rl_shared_ring_publish(ring, path, NULL));
    unsigned char *good;
    size_t len = read_file(path, &good);
    expect_open_fails(good, len, 0, -1, 0, RL_ERR_CORRUPT);          /* empty */
    expect_open_fails(good, len, 50, -1, 0, RL_ERR_CORRUPT);         /* shorter than the header */
    expect_open_fails(good, len, len - 8, -1, 0, RL_ERR_CORRUPT);    /* truncated */
    expect_open_fails(good, len, len, 0, 'X', RL_ERR_CORRUPT);       /* magic */
    expect_open_fails(good, len, len, 8, 2, RL_ERR_CORRUPT);         /* version */
    expect_open_fails(good, len, len, 44, 200, RL_ERR_CORRUPT);      /* node count */
    expect_open_fails(good, len, len, (long)len - 3, 0x5a, RL_ERR_CORRUPT); /* checksum */
    unsigned char *garbage = malloc(len);
    if (garbage == NULL) abort();
    for (size_t i = 0; i < len; i++) garbage[i] = (unsigned char)(i * 37 + 11);
    expect_open_fails(garbage, len, len, -1, 0, RL_ERR_CORRUPT);
    free(garbage);

    char other[170], link[170], linkgen[180], gen[180];
    rl_shared_ring *s = (rl_shared_ring *)&sentinel_object;
    snprintf(other, sizeof other, "%s/nothing", dir);
    EXPECT_FAIL(rl_shared_ring_open(other, &s), RL_ERR_NOT_FOUND, "rl_shared_ring_open");
    snprintf(link, sizeof link, "%s/link", dir);
    snprintf(linkgen, sizeof linkgen, "%s/link.gen", dir);
    snprintf(gen, sizeof gen, "%s.gen", path);
    if (symlink(path, link) != 0 || symlink(gen, linkgen) != 0) abort();
    EXPECT_FAIL(rl_shared_ring_open(link, &s), RL_ERR_INVALID_ARGUMENT, "rl_shared_ring_open");
    EXPECT_FAIL(rl_shared_ring_open(NULL, &s), RL_ERR_INVALID_ARGUMENT, "rl_shared_ring_open");
    EXPECT_FAIL(rl_shared_ring_open(path, NULL), RL_ERR_INVALID_ARGUMENT, "rl_shared_ring_open");
    CHECK(s == (rl_shared_ring *)&sentinel_object);
    /* a generation file that is not one */
    char badgen[180], badring[170];
    snprintf(badring, sizeof badring, "%s/badgen", dir);
    snprintf(badgen, sizeof badgen, "%s/badgen.gen", dir);
    write_file(badring, good, len);
    write_file(badgen, "short", 5);
    EXPECT_FAIL(rl_shared_ring_open(badring, &s), RL_ERR_CORRUPT, "rl_shared_ring_open");
    EXPECT_FAIL(rl_shared_ring_publish(ring, badring, NULL), RL_ERR_CORRUPT, "rl_shared_ring_publish");
    free(good);
    rl_ring_free(ring);
}

static void test_bad_arguments(void) {
    rl_ring *ring = make_ring(RL_ALGORITHM_MAGLEV, 3);
    EXPECT_OK(rl_shared_ring_publish(ring, path, NULL));
    rl_shared_ring *s = NULL;
    EXPECT_OK(rl_shared_ring_open(path, &s));
    const char *node = SENTINEL_STR;
    const char *nodes[2] = {SENTINEL_STR, SENTINEL_STR};
    size_t found = 77;
    uint64_t g = 77;
    uint32_t w = 77;
    uint64_t loads[3] = {0, 0, 0};
    EXPECT_FAIL(rl_shared_ring_get(NULL, "k", 1, &node), RL_ERR_INVALID_ARGUMENT, "rl_shared_ring_get");
    EXPECT_FAIL(rl_shared_ring_get(s, NULL, 1, &node), RL_ERR_INVALID_ARGUMENT, "rl_shared_ring_get");
    EXPECT_FAIL(rl_shared_ring_get(s, "k", 1, NULL), RL_ERR_INVALID_ARGUMENT, "rl_shared_ring_get");
    EXPECT_OK(rl_shared_ring_get(s, NULL, 0, &node));
    CHECK(node != SENTINEL_STR);
    node = SENTINEL_STR;
    EXPECT_FAIL(rl_shared_ring_get_n(s, "k", 1, NULL, 2, &found), RL_ERR_INVALID_ARGUMENT, "rl_shared_ring_get_n");
    EXPECT_FAIL(rl_shared_ring_get_n(s, "k", 1, nodes, 2, NULL), RL_ERR_INVALID_ARGUMENT, "rl_shared_ring_get_n");
    EXPECT_OK(rl_shared_ring_get_n(s, "k", 1, NULL, 0, &found));
    CHECK(found == 0);
    EXPECT_FAIL(rl_shared_ring_get_many(s, NULL, NULL, 2, nodes), RL_ERR_INVALID_ARGUMENT, "rl_shared_ring_get_many");
    EXPECT_OK(rl_shared_ring_get_many(s, NULL, NULL, 0, NULL));
    EXPECT_FAIL(rl_shared_ring_get_bounded(s, "k", 1, loads, 3, 1.0, &node), RL_ERR_INVALID_ARGUMENT, "rl_shared_ring_get_bounded");
    EXPECT_FAIL(rl_shared_ring_get_bounded(s, "k", 1, loads, 2, 1.25, &node), RL_ERR_INVALID_ARGUMENT, "rl_shared_ring_get_bounded");
    EXPECT_FAIL(rl_shared_ring_node(s, 3, &node, &w), RL_ERR_NOT_FOUND, "rl_shared_ring_node");
    EXPECT_FAIL(rl_shared_ring_generation(s, NULL), RL_ERR_INVALID_ARGUMENT, "rl_shared_ring_generation");
    EXPECT_FAIL(rl_shared_ring_generation(NULL, &g), RL_ERR_INVALID_ARGUMENT, "rl_shared_ring_generation");
    EXPECT_FAIL(rl_shared_ring_node_count(s, NULL), RL_ERR_INVALID_ARGUMENT, "rl_shared_ring_node_count");
    CHECK(node == SENTINEL_STR && nodes[0] == SENTINEL_STR && g == 77 && w == 77);
    rl_shared_ring_close(s);
    rl_shared_ring_close(NULL);

    /* an empty ring publishes; lookups say so */
    rl_ring *empty = NULL;
    EXPECT_OK(rl_ring_new(RL_ALGORITHM_XXH3, 0, &empty));
    EXPECT_OK(rl_shared_ring_publish(empty, path, NULL));
    EXPECT_OK(rl_shared_ring_open(path, &s));
    EXPECT_FAIL(rl_shared_ring_get(s, "k", 1, &node), RL_ERR_EMPTY_RING, "rl_shared_ring_get");
    EXPECT_FAIL(rl_shared_ring_get_n(s, "k", 1, nodes, 2, &found), RL_ERR_EMPTY_RING, "rl_shared_ring_get_n");
    EXPECT_FAIL(rl_shared_ring_get_many(s, NULL, NULL, 0, NULL), RL_ERR_EMPTY_RING, "rl_shared_ring_get_many");
    rl_shared_ring_close(s);
    rl_ring_free(empty);
    rl_ring_free(ring);
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/rl-shared-c-%ld", (long)getpid());
    snprintf(path, sizeof path, "%s/ring", dir);
    test_answers_equal_the_ring();
    test_generations();
    test_corrupt_files();
    test_bad_arguments();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) failed++;
    return check_report("test_shared_ring");
}
