/* Each client profile's get beside the real library's own lookup where it
 * has one callable in-process: libmemcached 1.1.4's memcached_generate_hash
 * (the server index of a key, no server needed) for the libmemcached
 * profiles; the other profiles' get alone. Built by bench/bench.mk against
 * target/release/libringlock.so and Debian's libmemcached (`make
 * bench-profiles`).
 *
 *   profiles [-k KEYS] [-r ROUNDS]
 *
 * The same KEYS keys ("key:<i>", default 200,000) on the same servers (8
 * and 100, named 10.0.0.<i>:11211, weight 1), ROUNDS rounds (default 9),
 * interleaved: each round times every contender once over all keys, so a
 * burst of load from a neighbour hits all alike. Prints the median ns per
 * key of each, and ringlock / libmemcached (below 1: ringlock faster). */
#define _POSIX_C_SOURCE 200809L
#include <libmemcached/memcached.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ringlock.h"

#define MAX_CONTENDERS 32

struct key {
    char text[24];
    size_t len;
};

struct contender {
    char name[64];
    rl_ring *ring;          /* ringlock, or NULL */
    memcached_st *memc;     /* libmemcached, or NULL */
    double ns[64];          /* per round */
    int pair;               /* index of the libmemcached contender, or -1 */
};

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int by_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(const double *v, int n) {
    double s[64];
    memcpy(s, v, sizeof(double) * (size_t)n);
    qsort(s, (size_t)n, sizeof(double), by_double);
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static void die(const char *what) {
    fprintf(stderr, "profiles: %s: %s\n", what, rl_last_error());
    exit(1);
}

static int by_string(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static rl_ring *ring_of(rl_algorithm algorithm, int servers) {
    rl_ring *ring = NULL;
    if (rl_ring_new(algorithm, 0, &ring) != RL_OK) die("rl_ring_new");
    char name[32];
    for (int i = 0; i < servers; i++) {
        snprintf(name, sizeof name, "10.0.0.%d:11211", i + 1);
        if (rl_ring_add(ring, name, 1) != RL_OK) die("rl_ring_add");
    }
    return ring;
}

/* servers named so that libmemcached's list order is ringlock's name order */
static memcached_st *memc_of(memcached_behavior_t behavior, int md5, int servers) {
    memcached_st *memc = memcached_create(NULL);
    if (memc == NULL || memcached_behavior_set(memc, behavior, 1) != MEMCACHED_SUCCESS
        || (md5 && memcached_behavior_set(memc, MEMCACHED_BEHAVIOR_HASH, MEMCACHED_HASH_MD5)
                       != MEMCACHED_SUCCESS)) {
        fprintf(stderr, "profiles: libmemcached setup failed\n");
        exit(1);
    }
    char *names[128];
    char host[32];
    for (int i = 0; i < servers; i++) {
        snprintf(host, sizeof host, "10.0.0.%d:11211", i + 1);
        names[i] = strdup(host);
        if (names[i] == NULL) exit(1);
    }
    qsort(names, (size_t)servers, sizeof *names, by_string);
    for (int i = 0; i < servers; i++) {
        *strrchr(names[i], ':') = '\0';
        if (memcached_server_add(memc, names[i], 11211) != MEMCACHED_SUCCESS) {
            fprintf(stderr, "profiles: memcached_server_add failed\n");
            exit(1);
        }
        free(names[i]);
    }
    return memc;
}

int main(int argc, char **argv) {
    size_t keys = 200000;
    int rounds = 9, opt;
    while ((opt = getopt(argc, argv, "k:r:")) != -1) {
        if (opt == 'k') keys = strtoul(optarg, NULL, 10);
        else if (opt == 'r') rounds = atoi(optarg);
        else {
            fprintf(stderr, "usage: profiles [-k KEYS] [-r ROUNDS]\n");
            return 2;
        }
    }
    if (keys == 0 || rounds < 1 || rounds > 64) {
        fprintf(stderr, "profiles: KEYS >= 1, ROUNDS 1 to 64\n");
        return 2;
    }
    struct key *k = malloc(keys * sizeof *k);
    if (k == NULL) return 1;
    for (size_t i = 0; i < keys; i++)
        k[i].len = (size_t)snprintf(k[i].text, sizeof k[i].text, "key:%zu", i);

    static const struct {
        const char *name;
        rl_algorithm algorithm;
        memcached_behavior_t behavior; /* 0: no libmemcached peer */
        int md5;
    } profiles[] = {
        {"libmemcached", RL_ALGORITHM_LIBMEMCACHED, MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED, 0},
        {"libmemcached-consistent", RL_ALGORITHM_LIBMEMCACHED_CONSISTENT, MEMCACHED_BEHAVIOR_KETAMA, 0},
        {"libmemcached-consistent-md5", RL_ALGORITHM_LIBMEMCACHED_CONSISTENT_MD5,
         MEMCACHED_BEHAVIOR_KETAMA, 1},
        {"twemproxy", RL_ALGORITHM_TWEMPROXY, 0, 0},
        {"nginx", RL_ALGORITHM_NGINX, 0, 0},
        {"haproxy", RL_ALGORITHM_HAPROXY, 0, 0},
        {"spymemcached", RL_ALGORITHM_SPYMEMCACHED, 0, 0},
        {"envoy-ring-hash", RL_ALGORITHM_ENVOY_RING_HASH, 0, 0},
        {"ketama", RL_ALGORITHM_KETAMA, 0, 0},
    };
    static const int counts[] = {8, 100};
    static struct contender c[MAX_CONTENDERS];
    int n = 0;
    for (size_t s = 0; s < sizeof counts / sizeof *counts; s++) {
        for (size_t p = 0; p < sizeof profiles / sizeof *profiles; p++) {
            if (profiles[p].behavior) {
                snprintf(c[n].name, sizeof c[n].name, "memcached_generate_hash %s, %d",
                         profiles[p].md5 ? "ketama md5" :
                         profiles[p].behavior == MEMCACHED_BEHAVIOR_KETAMA ? "ketama" : "weighted",
                         counts[s]);
                c[n].memc = memc_of(profiles[p].behavior, profiles[p].md5, counts[s]);
                c[n].pair = -1;
                n++;
            }
            snprintf(c[n].name, sizeof c[n].name, "ringlock %s, %d", profiles[p].name, counts[s]);
            c[n].ring = ring_of(profiles[p].algorithm, counts[s]);
            c[n].pair = profiles[p].behavior ? n - 1 : -1;
            n++;
        }
    }
    volatile uintptr_t sink = 0;
    for (int r = 0; r < rounds; r++) {
        for (int i = 0; i < n; i++) {
            uintptr_t acc = 0;
            double t0 = now();
            if (c[i].memc) {
                for (size_t j = 0; j < keys; j++)
                    acc += memcached_generate_hash(c[i].memc, k[j].text, k[j].len);
            } else {
                const char *node;
                for (size_t j = 0; j < keys; j++) {
                    if (rl_ring_get(c[i].ring, k[j].text, k[j].len, &node) != RL_OK) die("rl_ring_get");
                    acc += (uintptr_t)node;
                }
            }
            c[i].ns[r] = (now() - t0) / (double)keys;
            sink += acc;
        }
    }
    printf("%-48s %10s %16s\n", "lookup (servers)", "ns/key", "vs libmemcached");
    for (int i = 0; i < n; i++) {
        double m = median(c[i].ns, rounds);
        if (c[i].pair >= 0)
            printf("%-48s %10.1f %15.2fx\n", c[i].name, m, m / median(c[c[i].pair].ns, rounds));
        else
            printf("%-48s %10.1f %16s\n", c[i].name, m, "");
    }
    printf("(%zu keys, median of %d interleaved rounds; below 1x: ringlock faster)\n", keys, rounds);
    for (int i = 0; i < n; i++) {
        rl_ring_free(c[i].ring);
        if (c[i].memc) memcached_free(c[i].memc);
    }
    free(k);
    return sink == 1; /* never: keeps the loops */
}
