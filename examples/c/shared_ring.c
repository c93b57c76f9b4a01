/* A reader of a shared ring, C edition (the Python edition is
 * examples/python/shared_ring.py; the two print the same lines).
 *
 *   shared_ring_c show  PATH KEY...          placements of the newest generation
 *   shared_ring_c watch PATH GEN KEY...      placements now, then again once
 *                                            generation GEN or newer is published
 *   shared_ring_c read  PATH UNTIL OUT [MAX] look keys k0..k999 up in a loop until
 *                                            generation UNTIL; write up to MAX
 *                                            (default 50000) samples "g1 g2 key node"
 *                                            (g1, g2: the generation before and
 *                                            after the lookup) to OUT
 *   shared_ring_c hold  PATH                 touch every page of the ring with
 *                                            lookups (and one get_n of every
 *                                            node), print "ready", wait for EOF
 *                                            on stdin (the memory test)
 *
 * Placement lines are "generation G: KEY -> NODE". Exits 1 with a message on
 * any error, 2 if a generation went backwards. */

#define _POSIX_C_SOURCE 200809L

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ringlock.h"

static void check(rl_status status, const char *what) {
    if (status != RL_OK) {
        fprintf(stderr, "shared_ring_c: %s: %s (%s)\n", what, rl_status_str(status), rl_last_error());
        exit(1);
    }
}

static uint64_t generation(rl_shared_ring *ring) {
    uint64_t g = 0;
    check(rl_shared_ring_generation(ring, &g), "generation");
    return g;
}

static void show(rl_shared_ring *ring, int nkeys, char **keys) {
    uint64_t g = generation(ring);
    for (int i = 0; i < nkeys; i++) {
        const char *node = NULL;
        check(rl_shared_ring_get(ring, keys[i], strlen(keys[i]), &node), "get");
        printf("generation %" PRIu64 ": %s -> %s\n", g, keys[i], node);
    }
    fflush(stdout);
}

static void nap_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

static int read_loop(rl_shared_ring *ring, uint64_t until, const char *out, long max) {
    FILE *f = fopen(out, "w");
    if (f == NULL) {
        perror(out);
        return 1;
    }
    uint64_t last = 0;
    long written = 0, lookups = 0;
    for (unsigned i = 0;; i++) {
        char key[16];
        int len = snprintf(key, sizeof key, "k%u", i % 1000);
        uint64_t g1 = generation(ring);
        const char *node = NULL;
        rl_status s = rl_shared_ring_get(ring, key, (size_t)len, &node);
        if (s != RL_OK) check(s, "get"); /* an empty generation is an error here */
        /* the name lives until the next call on the handle, which may switch
         * generations and unmap it: copy it before asking again */
        char name[256];
        snprintf(name, sizeof name, "%s", node);
        uint64_t g2 = generation(ring);
        lookups++;
        if (g1 < last || g2 < g1) {
            fprintf(stderr, "shared_ring_c: generation went backwards: %" PRIu64 " then %" PRIu64
                            " %" PRIu64 "\n", last, g1, g2);
            return 2;
        }
        last = g2;
        /* every lookup is checked for order; every 7th is written, and every
         * first one of a generation */
        if (written < max && (i % 7 == 0 || g1 != g2)) {
            fprintf(f, "%" PRIu64 " %" PRIu64 " %s %s\n", g1, g2, key, name);
            written++;
        }
        if (g2 >= until) break;
    }
    fclose(f);
    printf("c reader: %ld lookups, last generation %" PRIu64 "\n", lookups, last);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: shared_ring_c show|watch|read|hold PATH ...\n");
        return 1;
    }
    const char *mode = argv[1];
    rl_shared_ring *ring = NULL;
    check(rl_shared_ring_open(argv[2], &ring), "open");
    int rc = 0;
    if (strcmp(mode, "show") == 0) {
        show(ring, argc - 3, argv + 3);
    } else if (strcmp(mode, "watch") == 0 && argc >= 4) {
        uint64_t want = strtoull(argv[3], NULL, 10);
        show(ring, argc - 4, argv + 4);
        for (int waited = 0; generation(ring) < want; waited++) {
            if (waited > 30000) {
                fprintf(stderr, "shared_ring_c: generation %" PRIu64 " never came\n", want);
                return 1;
            }
            nap_ms(1);
        }
        show(ring, argc - 4, argv + 4);
    } else if (strcmp(mode, "read") == 0 && argc >= 5) {
        long max = argc >= 6 ? strtol(argv[5], NULL, 10) : 50000;
        rc = read_loop(ring, strtoull(argv[3], NULL, 10), argv[4], max);
    } else if (strcmp(mode, "hold") == 0) {
        size_t count = 0;
        check(rl_shared_ring_node_count(ring, &count), "node_count");
        const char **nodes = calloc(count ? count : 1, sizeof *nodes);
        size_t found = 0;
        for (unsigned i = 0; i < 200000; i++) {
            char key[16];
            int len = snprintf(key, sizeof key, "m%u", i);
            const char *node = NULL;
            check(rl_shared_ring_get(ring, key, (size_t)len, &node), "get");
            if (i == 0) check(rl_shared_ring_get_n(ring, key, (size_t)len, nodes, count, &found), "get_n");
        }
        free(nodes);
        printf("ready\n");
        fflush(stdout);
        while (getchar() != EOF) {
        }
    } else {
        fprintf(stderr, "shared_ring_c: unknown mode or missing arguments: %s\n", mode);
        rc = 1;
    }
    rl_shared_ring_close(ring);
    return rc;
}
