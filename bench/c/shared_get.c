/* rl_shared_ring_get beside rl_ring_get from C: rings of the same nodes
 * ("10.0.I/256.I%256:11211", weight 1), every algorithm, 10, 100 and 1,000
 * nodes, the same 4,096 keys as the Rust benches ("user:NNNNNN" from the
 * same xorshift). Each round times GETS lookups of each kind, interleaved;
 * prints the median ns per get of ROUNDS rounds and the ratio shared / ring.
 * The ring file is published in a scratch directory under /dev/shm.
 *
 * Then publish -> notice: 1, then 4 forked C reader processes look keys up
 * in a loop (rl_shared_ring_get, then rl_shared_ring_generation) on a
 * 100-node xxh3 ring while this process publishes PUBLISHES generations
 * (adding and removing a node, 2 ms apart); each reader stamps, in a shared
 * anonymous mapping, the monotonic time of its first lookup that saw each
 * new generation. Latency = reader stamp - the moment publish returned
 * (negative: the reader saw the generation before publish returned); p50,
 * p99 and max over every (publish, reader) pair. With more busy readers
 * than cores this includes waiting for the scheduler to run the reader.
 *
 *   shared_get [-n GETS] [-r ROUNDS] [-p PUBLISHES]   (defaults 2000000, 7, 200)
 *
 * A benchmark, not a test: it exits 0 whatever it measures. */

#define _DEFAULT_SOURCE

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ringlock.h"

#define KEYS 4096

static char keys[KEYS][16];
static size_t key_len[KEYS];

static void check(rl_status s, const char *what) {
    if (s != RL_OK) {
        fprintf(stderr, "shared_get: %s: %s (%s)\n", what, rl_status_str(s), rl_last_error());
        exit(1);
    }
}

static double now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static volatile uintptr_t sink;

static double time_ring(const rl_ring *r, long gets) {
    double t = now_ns();
    for (long i = 0; i < gets; i++) {
        const char *node = NULL;
        rl_ring_get(r, keys[i & (KEYS - 1)], key_len[i & (KEYS - 1)], &node);
        sink += (uintptr_t)node;
    }
    return (now_ns() - t) / (double)gets;
}

static double time_shared(rl_shared_ring *s, long gets) {
    double t = now_ns();
    for (long i = 0; i < gets; i++) {
        const char *node = NULL;
        rl_shared_ring_get(s, keys[i & (KEYS - 1)], key_len[i & (KEYS - 1)], &node);
        sink += (uintptr_t)node;
    }
    return (now_ns() - t) / (double)gets;
}

/* one reader's slot: the newest generation it saw and when */
struct stamp {
    volatile uint64_t generation;
    volatile int64_t at_ns;
};

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void reader(const char *path, struct stamp *slot, uint64_t final) {
    rl_shared_ring *s = NULL;
    check(rl_shared_ring_open(path, &s), "reader open");
    uint64_t last = 0;
    check(rl_shared_ring_generation(s, &last), "generation");
    for (unsigned long i = 0;; i++) {
        const char *node = NULL;
        check(rl_shared_ring_get(s, keys[i & (KEYS - 1)], key_len[i & (KEYS - 1)], &node),
              "reader get");
        sink += (uintptr_t)node;
        uint64_t g = 0;
        check(rl_shared_ring_generation(s, &g), "generation");
        if (g != last) {
            slot->at_ns = (int64_t)now_ns();
            __atomic_store_n(&slot->generation, g, __ATOMIC_RELEASE);
            last = g;
            if (g >= final) break;
        }
    }
    rl_shared_ring_close(s);
}

static void notice(const char *dir, int readers, int publishes) {
    char path[128];
    snprintf(path, sizeof path, "%s/notice-%d", dir, readers);
    rl_ring *r = NULL;
    check(rl_ring_new(RL_ALGORITHM_XXH3, 0, &r), "rl_ring_new");
    for (int i = 0; i < 100; i++) {
        char node[32];
        snprintf(node, sizeof node, "10.0.%d.%d:11211", i / 256, i % 256);
        check(rl_ring_add(r, node, 1), "rl_ring_add");
    }
    uint64_t first = 0;
    check(rl_shared_ring_publish(r, path, &first), "publish");
    uint64_t final = first + (uint64_t)publishes;
    struct stamp *st = mmap(NULL, sizeof *st * (size_t)readers, PROT_READ | PROT_WRITE,
                            MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (st == MAP_FAILED) {
        perror("mmap");
        exit(1);
    }
    pid_t pids[8];
    for (int k = 0; k < readers; k++) {
        st[k].generation = first;
        pids[k] = fork();
        if (pids[k] < 0) {
            perror("fork");
            exit(1);
        }
        if (pids[k] == 0) {
            reader(path, &st[k], final);
            _exit(0);
        }
    }
    usleep(500 * 1000); /* the readers are looking up */
    int64_t *lat = malloc(sizeof *lat * (size_t)(publishes * readers));
    size_t nlat = 0;
    for (int k = 0; k < publishes; k++) {
        char extra[32];
        snprintf(extra, sizeof extra, "extra-%d", k - k % 2);
        check(k % 2 == 0 ? rl_ring_add(r, extra, 1) : rl_ring_remove(r, extra), "membership");
        uint64_t g = 0;
        check(rl_shared_ring_publish(r, path, &g), "publish");
        int64_t done = (int64_t)now_ns();
        for (int q = 0; q < readers; q++) {
            while (__atomic_load_n(&st[q].generation, __ATOMIC_ACQUIRE) < g) usleep(50);
            lat[nlat++] = st[q].at_ns - done;
        }
        usleep(2000);
    }
    for (int k = 0; k < readers; k++) waitpid(pids[k], NULL, 0);
    qsort(lat, nlat, sizeof lat[0], cmp_i64);
    printf("== publish -> first lookup that sees it: %d busy C reader processes, %d publishes "
           "of a 100-node xxh3 ring, %ld CPUs ==\n",
           readers, publishes, sysconf(_SC_NPROCESSORS_ONLN));
    printf("%10s %10s %10s %8s\n", "p50 us", "p99 us", "max us", "pairs");
    printf("%10.1f %10.1f %10.1f %8zu\n", (double)lat[nlat / 2] / 1e3,
           (double)lat[nlat * 99 / 100 < nlat ? nlat * 99 / 100 : nlat - 1] / 1e3,
           (double)lat[nlat - 1] / 1e3, nlat);
    free(lat);
    munmap(st, sizeof *st * (size_t)readers);
    rl_ring_free(r);
    const char *suffix[] = {"", ".gen", ".publish.shm"};
    for (int q = 0; q < 3; q++) {
        char f[160];
        snprintf(f, sizeof f, "%s%s", path, suffix[q]);
        unlink(f);
    }
}

int main(int argc, char **argv) {
    long gets = 2000000;
    int rounds = 7;
    int publishes = 200;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "-n") == 0) gets = atol(argv[i + 1]);
        if (strcmp(argv[i], "-r") == 0) rounds = atoi(argv[i + 1]);
        if (strcmp(argv[i], "-p") == 0) publishes = atoi(argv[i + 1]);
    }
    if (rounds < 1 || rounds > 99 || gets < 1 || publishes < 1 || publishes > 100000) {
        fprintf(stderr, "usage: shared_get [-n GETS] [-r ROUNDS] [-p PUBLISHES]\n");
        return 1;
    }
    uint64_t x = 0x2545f4914f6cdd1dULL;
    for (int i = 0; i < KEYS; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        key_len[i] = (size_t)snprintf(keys[i], sizeof keys[i], "user:%06" PRIu64, x % 1000000);
    }
    char dir[64];
    snprintf(dir, sizeof dir, "/dev/shm/ringlock-bench-c-%ld", (long)getpid());
    const rl_algorithm algos[] = {RL_ALGORITHM_XXH3, RL_ALGORITHM_KETAMA, RL_ALGORITHM_JUMP,
                                  RL_ALGORITHM_MAGLEV};
    const char *names[] = {"xxh3", "ketama", "jump", "maglev"};
    const int sizes[] = {10, 100, 1000};
    printf("== C: ns per get, median of %d rounds of %ld gets, same 4,096 keys ==\n", rounds, gets);
    printf("%-16s %10s %18s %12s\n", "algorithm nodes", "rl_ring_get", "rl_shared_ring_get", "shared/ring");
    for (int a = 0; a < 4; a++) {
        for (int z = 0; z < 3; z++) {
            rl_ring *r = NULL;
            check(rl_ring_new(algos[a], 0, &r), "rl_ring_new");
            for (int i = 0; i < sizes[z]; i++) {
                char node[32];
                snprintf(node, sizeof node, "10.0.%d.%d:11211", i / 256, i % 256);
                check(rl_ring_add(r, node, 1), "rl_ring_add");
            }
            char path[128];
            snprintf(path, sizeof path, "%s/%s-%d", dir, names[a], sizes[z]);
            check(rl_shared_ring_publish(r, path, NULL), "publish");
            rl_shared_ring *s = NULL;
            check(rl_shared_ring_open(path, &s), "open");
            double tr[99], ts[99];
            time_ring(r, gets / 10);
            time_shared(s, gets / 10);
            for (int k = 0; k < rounds; k++) {
                tr[k] = time_ring(r, gets);
                ts[k] = time_shared(s, gets);
            }
            qsort(tr, (size_t)rounds, sizeof tr[0], cmp);
            qsort(ts, (size_t)rounds, sizeof ts[0], cmp);
            double mr = tr[rounds / 2], ms = ts[rounds / 2];
            char label[32];
            snprintf(label, sizeof label, "%s %d", names[a], sizes[z]);
            printf("%-16s %10.1f %18.1f %11.2fx\n", label, mr, ms, ms / mr);
            rl_shared_ring_close(s);
            rl_ring_free(r);
            char f[160];
            const char *suffix[] = {"", ".gen", ".publish.shm"};
            for (int q = 0; q < 3; q++) {
                snprintf(f, sizeof f, "%s%s", path, suffix[q]);
                unlink(f);
            }
        }
    }
    const int reader_counts[] = {1, 4};
    for (int k = 0; k < 2; k++) {
        printf("\n");
        fflush(stdout);
        notice(dir, reader_counts[k], publishes);
    }
    rmdir(dir);
    return 0;
}
