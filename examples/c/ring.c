/* The cross-language placement check, C edition: prints exactly what
 * core/examples/ring.rs prints. Built against the shared library (ring_c) and
 * the static one (ring_c_static); `make test-cross` compares the outputs. */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "ringlock.h"

static const char *const NODES[] = {
    "10.0.1.1:11211", "10.0.1.2:11211", "10.0.1.3:11211",
    "cache-\xce\xb1", /* cache-α */
    "node-with-a-rather-long-name-01",
};
static const uint32_t WEIGHTS[] = {1, 2, 1, 1, 3};

static const struct {
    rl_algorithm algorithm;
    const char *name;
    uint32_t table_size; /* maglev only; 0: the default (65537) */
} ALGORITHMS[] = {
    {RL_ALGORITHM_KETAMA, "ketama", 0},   {RL_ALGORITHM_XXH3, "xxh3", 0},
    {RL_ALGORITHM_JUMP, "jump", 0},       {RL_ALGORITHM_MAGLEV, "maglev", 0},
    {RL_ALGORITHM_MAGLEV, "maglev-1009", 1009}, {RL_ALGORITHM_LIBMEMCACHED, "libmemcached", 0},
    {RL_ALGORITHM_NGINX, "nginx", 0},         {RL_ALGORITHM_HAPROXY, "haproxy", 0},
    {RL_ALGORITHM_LIBMEMCACHED_CONSISTENT, "libmemcached-consistent", 0},
    {RL_ALGORITHM_SPYMEMCACHED, "spymemcached", 0},
    {RL_ALGORITHM_ENVOY_RING_HASH, "envoy-ring-hash", 0},
};

/* Exits with a message unless `status` is RL_OK. */
static void check(rl_status status, const char *what) {
    if (status != RL_OK) {
        fprintf(stderr, "ring_c: %s: %s (%s)\n", what, rl_status_str(status), rl_last_error());
        exit(1);
    }
}

/* FNV-1a 64 over each owner of "key-0".."key-9999", each followed by '\n'. */
static uint64_t digest(const rl_ring *ring) {
    uint64_t h = 0xcbf29ce484222325u;
    char key[32];
    for (int i = 0; i < 10000; i++) {
        int len = snprintf(key, sizeof key, "key-%d", i);
        const char *owner;
        check(rl_ring_get(ring, key, (size_t)len, &owner), "rl_ring_get");
        for (const unsigned char *p = (const unsigned char *)owner;; p++) {
            unsigned char b = *p ? *p : '\n';
            h ^= b;
            h *= 0x00000100000001b3u;
            if (!*p) break;
        }
    }
    return h;
}

int main(void) {
    printf("# ringlock %s placement check\n", rl_version());
    for (size_t a = 0; a < sizeof ALGORITHMS / sizeof ALGORITHMS[0]; a++) {
        const char *name = ALGORITHMS[a].name;
        rl_ring *ring;
        if (ALGORITHMS[a].table_size == 0) {
            check(rl_ring_new(ALGORITHMS[a].algorithm, 0, &ring), "rl_ring_new");
        } else {
            rl_ring_options options = {ALGORITHMS[a].algorithm, 0, ALGORITHMS[a].table_size};
            check(rl_ring_new_with_options(&options, &ring), "rl_ring_new_with_options");
        }
        for (size_t n = 0; n < sizeof NODES / sizeof NODES[0]; n++) {
            check(rl_ring_add(ring, NODES[n], WEIGHTS[n]), "rl_ring_add");
        }
        for (int i = 0; i < 8; i++) {
            char key[32];
            int len = snprintf(key, sizeof key, "user:%d", i);
            const char *owner;
            const char *replicas[3];
            size_t found;
            check(rl_ring_get(ring, key, (size_t)len, &owner), "rl_ring_get");
            check(rl_ring_get_n(ring, key, (size_t)len, replicas, 3, &found), "rl_ring_get_n");
            printf("%s %s %s ", name, key, owner);
            for (size_t r = 0; r < found; r++) {
                printf("%s%s", r ? "," : "", replicas[r]);
            }
            printf("\n");
        }
        printf("%s digest keys=10000 fnv1a64=%016" PRIx64 "\n", name, digest(ring));
        check(rl_ring_remove(ring, "10.0.1.2:11211"), "rl_ring_remove");
        check(rl_ring_set_weight(ring, "10.0.1.3:11211", 2), "rl_ring_set_weight");
        printf("%s digest-after keys=10000 fnv1a64=%016" PRIx64 "\n", name, digest(ring));
        rl_ring_free(ring);
    }
    printf("jump_hash 42 57 %" PRId32 "\n", rl_jump_hash(42, 57));
    printf("jump_hash 3735883980 666 %" PRId32 "\n", rl_jump_hash(0xDEAD10CCu, 666));
    return 0;
}
