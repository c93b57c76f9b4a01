/* The libmemcached profiles against the real libmemcached: for many server
 * lists (counts where its float shares drop a hash, weights, ports other
 * than 11211, long host names, IPv6), every one of KEYS keys goes to the
 * same server in libmemcached (MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED, servers
 * added in name order) and in a ringlock ring of RL_ALGORITHM_LIBMEMCACHED;
 * and on lists of 1 to 100 servers, the same for libmemcached's plain
 * ketama (MEMCACHED_BEHAVIOR_KETAMA, with its default key hash and with
 * MEMCACHED_HASH_MD5) and RL_ALGORITHM_LIBMEMCACHED_CONSISTENT(_MD5).
 * Exits non-zero and names the first disagreement otherwise.
 *
 * Built and run by tests/profiles/run.sh (make test-profiles). */
#include <libmemcached/memcached.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ringlock.h"

/* -DCONTROL builds the negative control: libketama's continuum in place of
 * every profile, which must disagree */
#ifdef CONTROL
#define PROFILE(algorithm) RL_ALGORITHM_KETAMA
#else
#define PROFILE(algorithm) (algorithm)
#endif

/* How libmemcached is set up, and the ringlock profile that must match it. */
struct mode {
    const char *name;
    rl_algorithm algorithm;
    memcached_behavior_t behavior; /* set to 1 */
    int md5;                       /* MEMCACHED_BEHAVIOR_HASH = MEMCACHED_HASH_MD5 */
};
static const struct mode WEIGHTED = {"weighted ketama", RL_ALGORITHM_LIBMEMCACHED,
                                     MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED, 0};
static const struct mode PLAIN[] = {
    {"plain ketama", RL_ALGORITHM_LIBMEMCACHED_CONSISTENT, MEMCACHED_BEHAVIOR_KETAMA, 0},
    {"plain ketama, md5", RL_ALGORITHM_LIBMEMCACHED_CONSISTENT_MD5, MEMCACHED_BEHAVIOR_KETAMA, 1},
};

#define KEYS 100000
#define MAX_SERVERS 128

struct server {
    char host[96];
    unsigned port;
    uint32_t weight;
    char name[128]; /* the ringlock node name: host:port, [v6]:port, or host */
};

static int by_name(const void *a, const void *b) {
    return strcmp(((const struct server *)a)->name, ((const struct server *)b)->name);
}

static int passed, failed;

/* Places KEYS keys on `servers` both ways; 1 if all agree. */
static int agree_in(const struct mode *m, const char *what, struct server *s, size_t n) {
    qsort(s, n, sizeof *s, by_name); /* libmemcached's list order = ringlock's name order */
    memcached_st *memc = memcached_create(NULL);
    rl_ring *ring = NULL;
    int ok = memc != NULL && rl_ring_new(PROFILE(m->algorithm), 0, &ring) == RL_OK;
    if (ok && memcached_behavior_set(memc, m->behavior, 1) != MEMCACHED_SUCCESS)
        ok = 0;
    if (ok && m->md5 && memcached_behavior_set(memc, MEMCACHED_BEHAVIOR_HASH, MEMCACHED_HASH_MD5)
                            != MEMCACHED_SUCCESS)
        ok = 0;
    for (size_t i = 0; ok && i < n; i++) {
        if (memcached_server_add_with_weight(memc, s[i].host, (in_port_t)s[i].port, s[i].weight)
            != MEMCACHED_SUCCESS) {
            fprintf(stderr, "%s: libmemcached refused %s\n", what, s[i].name);
            ok = 0;
        } else if (rl_ring_add(ring, s[i].name, s[i].weight) != RL_OK) {
            fprintf(stderr, "%s: ringlock refused %s: %s\n", what, s[i].name, rl_last_error());
            ok = 0;
        }
    }
    size_t differ = 0;
    char key[32], first[200] = "";
    for (int k = 0; ok && k < KEYS; k++) {
        int len = snprintf(key, sizeof key, "key-%d", k);
        uint32_t want = memcached_generate_hash(memc, key, (size_t)len);
        const char *got = NULL;
        if (rl_ring_get(ring, key, (size_t)len, &got) != RL_OK || want >= n) {
            fprintf(stderr, "%s: lookup of %s failed: %s\n", what, key, rl_last_error());
            ok = 0;
        } else if (strcmp(got, s[want].name) != 0) {
            if (differ++ == 0)
                snprintf(first, sizeof first, "%s: libmemcached %s, ringlock %s", key, s[want].name, got);
        }
    }
    if (differ) {
        fprintf(stderr, "%s: %zu of %d keys differ (first %s)\n", what, differ, KEYS, first);
        ok = 0;
    }
    rl_ring_free(ring);
    memcached_free(memc);
    if (ok) passed++; else failed++;
    printf("%s %s: %s (%zu servers)\n", ok ? "ok:" : "FAIL:", m->name, what, n);
    return ok;
}

static int agree(const char *what, struct server *s, size_t n) {
    return agree_in(&WEIGHTED, what, s, n);
}

static void server(struct server *s, const char *host, unsigned port, uint32_t weight, int v6) {
    snprintf(s->host, sizeof s->host, "%s", host);
    s->port = port;
    s->weight = weight;
    if (v6)
        snprintf(s->name, sizeof s->name, "[%s]:%u", host, port);
    else if (port == 11211 && (weight & 1)) /* odd weights: the bare host form */
        snprintf(s->name, sizeof s->name, "%s", host);
    else
        snprintf(s->name, sizeof s->name, "%s:%u", host, port);
}

int main(void) {
    static struct server s[MAX_SERVERS];
    char what[96], host[96];
    /* equal weights at every count up to 100 (25, 47, 50, 55, 71, 94, 100
     * are where libmemcached's float share gives 39 hashes, not 40) */
    for (size_t n = 1; n <= 100; n += (n < 12 ? 1 : 1 + n / 8)) {
        for (size_t i = 0; i < n; i++) {
            snprintf(host, sizeof host, "10.0.%zu.%zu", i / 200, i % 200 + 1);
            server(&s[i], host, 11211, 2, 0);
        }
        snprintf(what, sizeof what, "equal weights, port 11211, n=%zu", n);
        agree(what, s, n);
    }
    static const size_t drops[] = {25, 47, 50, 55, 71, 94, 100};
    for (size_t d = 0; d < sizeof drops / sizeof *drops; d++) {
        for (size_t i = 0; i < drops[d]; i++) {
            snprintf(host, sizeof host, "cache-%03zu.example.internal", i);
            server(&s[i], host, 11211, 1, 0);
        }
        snprintf(what, sizeof what, "float shares, bare names, n=%zu", drops[d]);
        agree(what, s, drops[d]);
    }
    /* other ports: the point names carry them */
    for (size_t i = 0; i < 20; i++) {
        snprintf(host, sizeof host, "127.0.0.%zu", i % 4 + 1);
        server(&s[i], host, 11211 + (unsigned)(i / 4) * 7, 1 + (uint32_t)(i % 3), 0);
    }
    agree("mixed ports and weights", s, 20);
    /* long host names: libmemcached never cuts them (libketama cuts at 29) */
    for (size_t i = 0; i < 12; i++) {
        snprintf(host, sizeof host, "memcached-node-%02zu.a-rather-long-domain.example.com", i);
        server(&s[i], host, 11211 + (unsigned)(i % 2), 1, 0);
    }
    agree("long host names", s, 12);
    /* weights from 1 to 9 */
    for (size_t i = 0; i < 30; i++) {
        snprintf(host, sizeof host, "w%zu.cache", i);
        server(&s[i], host, 11211, 1 + (uint32_t)(i * 7 % 9), 0);
    }
    agree("weights 1..9", s, 30);
    /* IPv6 literals, bracketed in ringlock's node names */
    for (size_t i = 0; i < 6; i++) {
        snprintf(host, sizeof host, "fd00::%zx", i + 1);
        server(&s[i], host, i % 2 ? 11211 : 11300, 1, 1);
    }
    agree("ipv6 hosts", s, 6);
    /* plain ketama: 1 to 100 servers (libmemcached asserts that a continuum
     * holds at most 100 x 100 points: it aborts above 100 servers), port
     * 11211 and others, short and 40-byte host names, weights 1 (its own
     * continuum) and 1 to 5 (a weight above 1 switches it to the weighted
     * continuum, still with its key hash) */
    static const size_t counts[] = {1, 3, 8, 25, 61, 100};
    for (size_t m = 0; m < sizeof PLAIN / sizeof *PLAIN; m++) {
        for (size_t c = 0; c < sizeof counts / sizeof *counts; c++) {
            size_t n = counts[c];
            for (int shape = 0; shape < 3; shape++) {
                for (size_t i = 0; i < n; i++) {
                    if (shape == 1) /* 40 bytes */
                        snprintf(host, sizeof host, "memcached-%03zu.cluster-a.example.internal", i);
                    else
                        snprintf(host, sizeof host, "10.1.%zu.%zu", i / 100, i % 100 + 1);
                    server(&s[i], host, shape == 0 ? 11211 : 11211 + (unsigned)(i % 3),
                           shape == 2 ? 1 + (uint32_t)(i % 5) : 1, 0);
                }
                static const char *const shapes[] = {"short names, port 11211, weight 1",
                                                     "40-byte names, ports 11211-11213, weight 1",
                                                     "short names, ports 11211-11213, weights 1-5"};
                snprintf(what, sizeof what, "%s, n=%zu", shapes[shape], n);
                agree_in(&PLAIN[m], what, s, n);
            }
        }
    }
    printf("libmemcached profile: %d passed, %d failed\n", passed, failed);
    return failed != 0;
}
