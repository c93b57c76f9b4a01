/* The cross-language placement check, loaded at run time: dlopen() the
 * library named by argv[1] and look every function up with dlsym(). No
 * link-time dependency on ringlock (only -ldl); ringlock.h is included for
 * the types and constants only. Prints exactly what core/examples/ring.rs
 * prints. */

#define _POSIX_C_SOURCE 200809L

#include <dlfcn.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ringlock.h"

static struct {
    const char *(*version)(void);
    const char *(*last_error)(void);
    const char *(*status_str)(rl_status);
    rl_status (*ring_new)(rl_algorithm, uint32_t, rl_ring **);
    rl_status (*ring_new_with_options)(const rl_ring_options *, rl_ring **);
    rl_status (*ring_add)(rl_ring *, const char *, uint32_t);
    rl_status (*ring_remove)(rl_ring *, const char *);
    rl_status (*ring_set_weight)(rl_ring *, const char *, uint32_t);
    rl_status (*ring_get)(const rl_ring *, const void *, size_t, const char **);
    rl_status (*ring_get_n)(const rl_ring *, const void *, size_t, const char **, size_t, size_t *);
    void (*ring_free)(rl_ring *);
    int32_t (*jump_hash)(uint64_t, int32_t);
} rl;

/* dlsym() returns an object pointer; copying its bytes into a function
 * pointer is the POSIX way that ISO C (-Wpedantic) accepts. */
static void load(void *lib, const char *symbol, void *fn, size_t size) {
    void *p = dlsym(lib, symbol);
    if (p == NULL || size != sizeof p) {
        fprintf(stderr, "ring_dlopen: cannot find %s: %s\n", symbol, dlerror());
        exit(1);
    }
    memcpy(fn, &p, size);
}

#define LOAD(lib, field, symbol) load(lib, symbol, &rl.field, sizeof rl.field)

static void check(rl_status status, const char *what) {
    if (status != RL_OK) {
        fprintf(stderr, "ring_dlopen: %s: %s (%s)\n", what, rl.status_str(status), rl.last_error());
        exit(1);
    }
}

static const char *const NODES[] = {
    "10.0.1.1:11211", "10.0.1.2:11211", "10.0.1.3:11211",
    "cache-\xce\xb1", /* cache-α */
    "node-with-a-rather-long-name-01",
};
static const uint32_t WEIGHTS[] = {1, 2, 1, 1, 3};

/* FNV-1a 64 over each owner of "key-0".."key-9999", each followed by '\n'. */
static uint64_t digest(const rl_ring *ring) {
    uint64_t h = 0xcbf29ce484222325u;
    char key[32];
    for (int i = 0; i < 10000; i++) {
        int len = snprintf(key, sizeof key, "key-%d", i);
        const char *owner;
        check(rl.ring_get(ring, key, (size_t)len, &owner), "rl_ring_get");
        for (const unsigned char *p = (const unsigned char *)owner;; p++) {
            unsigned char b = *p ? *p : '\n';
            h ^= b;
            h *= 0x00000100000001b3u;
            if (!*p) break;
        }
    }
    return h;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s /path/to/libringlock.so\n", argv[0]);
        return 2;
    }
    void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) {
        fprintf(stderr, "ring_dlopen: %s\n", dlerror());
        return 1;
    }
    LOAD(lib, version, "rl_version");
    LOAD(lib, last_error, "rl_last_error");
    LOAD(lib, status_str, "rl_status_str");
    LOAD(lib, ring_new, "rl_ring_new");
    LOAD(lib, ring_new_with_options, "rl_ring_new_with_options");
    LOAD(lib, ring_add, "rl_ring_add");
    LOAD(lib, ring_remove, "rl_ring_remove");
    LOAD(lib, ring_set_weight, "rl_ring_set_weight");
    LOAD(lib, ring_get, "rl_ring_get");
    LOAD(lib, ring_get_n, "rl_ring_get_n");
    LOAD(lib, ring_free, "rl_ring_free");
    LOAD(lib, jump_hash, "rl_jump_hash");

    static const struct {
        rl_algorithm algorithm;
        const char *name;
        uint32_t table_size; /* maglev only; 0: the default (65537) */
    } algorithms[] = {
        {RL_ALGORITHM_KETAMA, "ketama", 0},   {RL_ALGORITHM_XXH3, "xxh3", 0},
        {RL_ALGORITHM_JUMP, "jump", 0},       {RL_ALGORITHM_MAGLEV, "maglev", 0},
        {RL_ALGORITHM_MAGLEV, "maglev-1009", 1009},
        {RL_ALGORITHM_LIBMEMCACHED, "libmemcached", 0},
        {RL_ALGORITHM_NGINX, "nginx", 0},
        {RL_ALGORITHM_HAPROXY, "haproxy", 0},
        {RL_ALGORITHM_LIBMEMCACHED_CONSISTENT, "libmemcached-consistent", 0},
        {RL_ALGORITHM_SPYMEMCACHED, "spymemcached", 0},
        {RL_ALGORITHM_ENVOY_RING_HASH, "envoy-ring-hash", 0},
    };
    printf("# ringlock %s placement check\n", rl.version());
    for (size_t a = 0; a < sizeof algorithms / sizeof algorithms[0]; a++) {
        const char *name = algorithms[a].name;
        rl_ring *ring;
        if (algorithms[a].table_size == 0) {
            check(rl.ring_new(algorithms[a].algorithm, 0, &ring), "rl_ring_new");
        } else {
            rl_ring_options options = {algorithms[a].algorithm, 0, algorithms[a].table_size};
            check(rl.ring_new_with_options(&options, &ring), "rl_ring_new_with_options");
        }
        for (size_t n = 0; n < sizeof NODES / sizeof NODES[0]; n++) {
            check(rl.ring_add(ring, NODES[n], WEIGHTS[n]), "rl_ring_add");
        }
        for (int i = 0; i < 8; i++) {
            char key[32];
            int len = snprintf(key, sizeof key, "user:%d", i);
            const char *owner;
            const char *replicas[3];
            size_t found;
            check(rl.ring_get(ring, key, (size_t)len, &owner), "rl_ring_get");
            check(rl.ring_get_n(ring, key, (size_t)len, replicas, 3, &found), "rl_ring_get_n");
            printf("%s %s %s ", name, key, owner);
            for (size_t r = 0; r < found; r++) {
                printf("%s%s", r ? "," : "", replicas[r]);
            }
            printf("\n");
        }
        printf("%s digest keys=10000 fnv1a64=%016" PRIx64 "\n", name, digest(ring));
        check(rl.ring_remove(ring, "10.0.1.2:11211"), "rl_ring_remove");
        check(rl.ring_set_weight(ring, "10.0.1.3:11211", 2), "rl_ring_set_weight");
        printf("%s digest-after keys=10000 fnv1a64=%016" PRIx64 "\n", name, digest(ring));
        rl.ring_free(ring);
    }
    printf("jump_hash 42 57 %" PRId32 "\n", rl.jump_hash(42, 57));
    printf("jump_hash 3735883980 666 %" PRId32 "\n", rl.jump_hash(0xDEAD10CCu, 666));
    if (dlclose(lib) != 0) {
        fprintf(stderr, "ring_dlopen: dlclose: %s\n", dlerror());
        return 1;
    }
    return 0;
}
