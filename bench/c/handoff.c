/* Two processes ping-pong one lock: hand-offs per second, and the latency
 * from a release to the return of the waiter blocked behind it. Built by
 * bench/bench.mk against target/release/libringlock.so (`make bench-c`).
 *
 *   handoff [-n HANDOFFS] [-g GATED] [-r ROUNDS] [-u] [-t] [-d DIR] [shm|file|flock ...]
 *
 * Mechanisms, each in a fresh pair of processes (fork; each opens its own
 * handle): ringlock `shm`, ringlock `file` (rl_lock_acquire(RL_MODE_EXCLUSIVE,
 * -1) / rl_lock_release), and `flock`, a raw flock(LOCK_EX) / flock(LOCK_UN)
 * on a file that each process opens itself: the baseline. The lock directory
 * is a fresh one on /dev/shm (-d: another), removed at the end.
 *
 * The protocol, the same for all three: a shared anonymous mapping holds
 * t_release, a hand-off counter and one "about to acquire" flag per process.
 * The waiter sets its flag and calls acquire (blocking). The holder waits
 * for that flag, writes t_release = CLOCK_MONOTONIC just before release,
 * releases, then becomes the waiter: sets its own flag and acquires. The
 * waiter's acquire returns; it reads the clock, records now - t_release,
 * counts the hand-off, and is the holder. (The releaser calls acquire again
 * only once it has seen that count move: strict turns, so a release is never
 * followed by the releaser taking the lock straight back.) Waiting for a
 * flag or the count is a spin with `pause`, yielding the CPU every 256 turns.
 *
 * Two phases per mechanism:
 *   1. free-running (HANDOFFS hand-offs in all, default 30,000): the holder
 *      releases as soon as the other's flag is up, so the waiter may still be
 *      on its way into the kernel: hand-offs per second, the fastest two
 *      processes can take turns through the lock.
 *   2. gated (GATED hand-offs in all, default 3,000): before releasing, the
 *      holder also waits until the waiter is asleep in the kernel in the
 *      lock's own call (/proc/<pid>/stat state S and /proc/<pid>/syscall
 *      futex or flock), so every sample is a real wake-up: release ->
 *      blocked waiter's return, p50/p99.
 * ROUNDS rounds (default 3), interleaved: each round runs every mechanism's
 * two phases once (a burst of load from a neighbour then hits all alike);
 * hand-offs/s is the median of the rounds, latencies are pooled; the first 5%
 * of each phase's samples are a warm-up and dropped. The parent process runs
 * on the first allowed CPU and the child on the second (-u: not pinned).
 *
 * Prints a table (-t: TSV instead, one line per mechanism and phase with
 * the samples kept, hand-offs/s, p50/p90/p99 in us and the same-CPU share,
 * for bench/plots/);
 * exits 0 unless something fails outright (benchmarks are not timed tests). */

#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ringlock.h"

#define MAX_SAMPLES 200000

struct shared {
    _Atomic int64_t t_release; /* ns, CLOCK_MONOTONIC */
    _Atomic int ready[2];      /* process i is about to acquire / acquiring */
    _Atomic int started;       /* the child has opened its handle */
    _Atomic int done;          /* the last hand-off happened */
    _Atomic int64_t turns;     /* hand-offs so far, for the spinning side */
    int64_t count;             /* hand-offs so far: written under the lock */
    _Atomic int cpu_release;   /* the CPU the releaser ran on */
    int64_t lat[MAX_SAMPLES];  /* release -> return, ns, one per hand-off */
    unsigned char same_cpu[MAX_SAMPLES]; /* the waiter returned on that CPU */
};

enum mech { M_SHM, M_FILE, M_FLOCK };
static const char *mech_name[] = {"ringlock shm", "ringlock file", "raw flock"};

struct lock {
    enum mech mech;
    rl_lock *rl;
    int fd;
};

static void die(const char *what, const char *detail) {
    fprintf(stderr, "handoff: %s: %s\n", what, detail);
    exit(1);
}

static void check(rl_status s, const char *what) {
    if (s != RL_OK) {
        char detail[512];
        snprintf(detail, sizeof detail, "%s (%s)", rl_status_str(s), rl_last_error());
        die(what, detail);
    }
}

/* Pin the two processes to two CPUs (-u: not). */
static bool pin_cpus = true;
/* -t: TSV output. */
static bool tsv = false;

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void relax(unsigned *spins) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
    /* not pinned, both processes may share a CPU: do not starve the other */
    if (!pin_cpus && ++*spins % 256 == 0) sched_yield();
}

static void lock_open(struct lock *l, enum mech m, const char *dir) {
    l->mech = m;
    l->rl = NULL;
    l->fd = -1;
    if (m == M_FLOCK) {
        char path[4096];
        snprintf(path, sizeof path, "%s/raw.flock", dir);
        l->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (l->fd < 0) die(path, strerror(errno));
        return;
    }
    rl_lock_options o = {0};
    o.backend = m == M_SHM ? RL_BACKEND_SHM : RL_BACKEND_FILE;
    o.dir = dir;
    check(rl_lock_open("handoff", &o, &l->rl), "rl_lock_open");
}

static void lock_acquire(struct lock *l) {
    if (l->mech == M_FLOCK) {
        while (flock(l->fd, LOCK_EX) != 0)
            if (errno != EINTR) die("flock(LOCK_EX)", strerror(errno));
        return;
    }
    check(rl_lock_acquire(l->rl, RL_MODE_EXCLUSIVE, -1, NULL), "rl_lock_acquire");
}

static void lock_release(struct lock *l) {
    if (l->mech == M_FLOCK) {
        if (flock(l->fd, LOCK_UN) != 0) die("flock(LOCK_UN)", strerror(errno));
        return;
    }
    check(rl_lock_release(l->rl), "rl_lock_release");
}

static void lock_close(struct lock *l) {
    if (l->mech == M_FLOCK)
        close(l->fd);
    else
        rl_lock_close(l->rl);
}

/* Waits until the other process sleeps in the kernel inside the lock's
 * blocking call: its /proc/<pid>/stat state is S (interruptible sleep) and
 * /proc/<pid>/syscall names futex or flock (not, say, the read of a /proc
 * file: ringlock's shm waiter checks the holder's liveness first). `fd`:
 * those two files, opened once. */
static void wait_asleep(const int fd[2]) {
    char buf[512];
    unsigned spins = 0;
    for (;;) {
        ssize_t n = pread(fd[0], buf, sizeof buf - 1, 0);
        if (n <= 0) die("/proc/<pid>/stat", n < 0 ? strerror(errno) : "empty");
        buf[n] = '\0';
        char *close_paren = strrchr(buf, ')');
        if (close_paren && close_paren[1] == ' ' && close_paren[2] == 'S') {
            n = pread(fd[1], buf, sizeof buf - 1, 0);
            if (n <= 0) die("/proc/<pid>/syscall", n < 0 ? strerror(errno) : "empty");
            buf[n] = '\0';
            long nr = strtol(buf, NULL, 10); /* "running" parses as 0 (read) */
            if (nr == SYS_futex || nr == SYS_flock) return;
        }
        relax(&spins);
    }
}

/* One process's side of a phase. `me` 0 (parent) starts as the holder. */
static void run(struct shared *sh, struct lock *l, int me, pid_t other, int64_t handoffs,
                bool gated) {
    int fd[2] = {-1, -1};
    if (gated) {
        const char *files[2] = {"stat", "syscall"};
        for (int i = 0; i < 2; i++) {
            char path[64];
            snprintf(path, sizeof path, "/proc/%d/%s", (int)other, files[i]);
            fd[i] = open(path, O_RDONLY | O_CLOEXEC);
            if (fd[i] < 0) die(path, strerror(errno));
        }
    }
    bool holding = me == 0;
    for (;;) {
        if (!holding) {
            atomic_store(&sh->ready[me], 1);
            lock_acquire(l);
            int64_t t = now_ns();
            if (atomic_load(&sh->done)) { /* the other gave us the lock to quit */
                lock_release(l);
                break;
            }
            int64_t k = sh->count;
            if (k < MAX_SAMPLES) {
                sh->lat[k] = t - atomic_load(&sh->t_release);
                sh->same_cpu[k] = sched_getcpu() == atomic_load(&sh->cpu_release);
            }
            atomic_store(&sh->turns, k + 1);
            sh->count = k + 1;
            if (k + 1 >= handoffs) {
                atomic_store(&sh->done, 1);
                /* let the other in (it is blocked, or about to be) and leave */
                unsigned spins = 0;
                while (!atomic_load(&sh->ready[1 - me])) relax(&spins);
                atomic_store(&sh->ready[1 - me], 0);
                lock_release(l);
                break;
            }
        }
        holding = false;
        unsigned spins = 0;
        while (!atomic_load(&sh->ready[1 - me])) relax(&spins);
        if (gated) wait_asleep(fd);
        atomic_store(&sh->ready[1 - me], 0);
        int64_t seen = atomic_load(&sh->turns);
        atomic_store(&sh->cpu_release, sched_getcpu());
        atomic_store(&sh->t_release, now_ns());
        lock_release(l);
        /* Strict turns: acquire again only once the other has the lock
         * (a release followed at once by our own acquire could take the lock
         * straight back). */
        while (atomic_load(&sh->turns) == seen) relax(&spins);
    }
    if (gated) {
        close(fd[0]);
        close(fd[1]);
    }
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The q-quantile of n samples (sorted in place), nearest rank. */
static double quantile(int64_t *v, int64_t n, double q) {
    if (n <= 0) return 0;
    qsort(v, (size_t)n, sizeof *v, cmp_i64);
    return (double)v[(int64_t)(q * (double)(n - 1) + 0.5)];
}

static double median_d(double *v, int n) {
    for (int i = 1; i < n; i++) /* insertion sort: a handful of rounds */
        for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
            double t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Samples pooled over the rounds, the first 5% of each phase dropped. */
struct pool {
    int64_t *v;
    int64_t n;
    int64_t same_cpu; /* of which the waiter returned on the releaser's CPU */
};

static void keep(struct pool *p, const struct shared *sh) {
    int64_t k = sh->count < MAX_SAMPLES ? sh->count : MAX_SAMPLES;
    for (int64_t i = k / 20; i < k; i++) {
        p->v[p->n++] = sh->lat[i];
        p->same_cpu += sh->same_cpu[i];
    }
}

/* The CPUs to pin to: the first two the process may use at start (-1: no
 * pinning, with -u or fewer than two CPUs). */
static int cpu_of[2] = {-1, -1};

static void choose_cpus(void) {
    cpu_set_t all;
    if (!pin_cpus || sched_getaffinity(0, sizeof all, &all) != 0) return;
    int seen = 0;
    for (int c = 0; c < CPU_SETSIZE && seen < 2; c++)
        if (CPU_ISSET(c, &all)) cpu_of[seen++] = c;
    if (seen < 2) {
        cpu_of[0] = cpu_of[1] = -1;
        pin_cpus = false;
    }
}

/* The parent on the first CPU, the child on the second: every hand-off
 * crosses CPUs, and neither process's spinning competes with the other. */
static void pin(int which) {
    if (cpu_of[which] < 0) return;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu_of[which], &one);
    if (sched_setaffinity(0, sizeof one, &one) != 0) die("sched_setaffinity", strerror(errno));
}

/* One phase: fork a partner, ping-pong, return elapsed ns; samples in sh. */
static int64_t phase(struct shared *sh, enum mech m, const char *dir, int64_t handoffs,
                     bool gated) {
    memset(sh, 0, offsetof(struct shared, lat));
    struct lock l;
    lock_open(&l, m, dir);
    lock_acquire(&l); /* the parent holds first */
    pid_t parent = getpid();
    pid_t child = fork();
    if (child < 0) die("fork", strerror(errno));
    if (child == 0) {
        pin(1);
        /* our own handle (and, for flock, our own open file description) */
        struct lock cl;
        lock_open(&cl, m, dir);
        atomic_store(&sh->started, 1);
        run(sh, &cl, 1, parent, handoffs, gated);
        lock_close(&cl);
        _exit(0);
    }
    pin(0);
    unsigned spins = 0;
    while (!atomic_load(&sh->started)) relax(&spins);
    int64_t t0 = now_ns();
    run(sh, &l, 0, child, handoffs, gated);
    int status;
    if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        die("partner process", "failed");
    int64_t elapsed = now_ns() - t0;
    lock_close(&l);
    return elapsed;
}

static int64_t count_arg(const char *s) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < 20 || v > 10 * MAX_SAMPLES) die(s, "not a count in 20..2000000");
    return v;
}

#define MAX_ROUNDS 50

/* The human-readable table. */
static void print_table(const bool want[3], double rate[3][MAX_ROUNDS], int rounds,
                        int64_t n_round, int64_t g_round, struct pool free_lat[3],
                        struct pool gated_lat[3], const char *dir) {
    printf("== C: two processes ping-pong one lock (ringlock %s, lock dir on %s, %s) ==\n",
           rl_version(), strncmp(dir, "/dev/shm", 8) == 0 ? "/dev/shm" : dir,
           pin_cpus ? "one process per CPU" : "not pinned");
    if (pin_cpus) printf("(parent on CPU %d, child on CPU %d)\n", cpu_of[0], cpu_of[1]);
    printf("%d interleaved rounds; free-running: %" PRId64 " hand-offs, gated: %" PRId64
           " (first 5%% of each round dropped)\n",
           rounds, n_round * rounds, g_round * rounds);
    printf("%-13s  %11s  %11s  %11s  %12s  %12s  %14s\n", "mechanism", "hand-offs/s",
           "us/hand-off", "free p50 us", "gated p50 us", "gated p99 us", "gated same CPU");
    printf("%-13s  %11s  %11s  %11s  %12s  %12s  %14s\n", "-------------", "-----------",
           "-----------", "-----------", "------------", "------------", "--------------");
    for (int m = 0; m < 3; m++) {
        if (!want[m]) continue;
        double hz = median_d(rate[m], rounds);
        double free50 = quantile(free_lat[m].v, free_lat[m].n, 0.5);
        double p50 = quantile(gated_lat[m].v, gated_lat[m].n, 0.5);
        double p99 = quantile(gated_lat[m].v, gated_lat[m].n, 0.99);
        double same = gated_lat[m].n ? 100.0 * (double)gated_lat[m].same_cpu / (double)gated_lat[m].n : 0;
        printf("%-13s  %11.0f  %11.2f  %11.2f  %12.2f  %12.2f  %13.0f%%\n", mech_name[m], hz,
               1e6 / hz, free50 / 1e3, p50 / 1e3, p99 / 1e3, same);
    }
    printf("hand-offs/s: median of the rounds, free-running (the holder releases as soon as the "
           "other is about\nto acquire); free p50: release -> the other's return then; gated "
           "p50/p99: release -> return\nof a waiter verified asleep in the kernel (futex or "
           "flock) before each release;\nsame CPU: share of those where the waiter returned on "
           "the CPU the releaser ran on\n");
}

/* -t: one line per mechanism and phase, times in us; hand-offs/s is the
 * free-running rate, repeated on the gated line; same_cpu_pct: the share of
 * hand-offs where the waiter returned on the CPU the releaser ran on. */
static void print_tsv(const bool want[3], double rate[3][MAX_ROUNDS], int rounds,
                      struct pool free_lat[3], struct pool gated_lat[3]) {
    printf("# ringlock %s hand-off, %d rounds, %s\n", rl_version(), rounds,
           pin_cpus ? "pinned" : "not pinned");
    printf("mechanism\tpinned\tphase\tsamples\thandoffs_per_s\tp50_us\tp90_us\tp99_us\t"
           "same_cpu_pct\n");
    for (int m = 0; m < 3; m++) {
        if (!want[m]) continue;
        double hz = median_d(rate[m], rounds);
        struct pool *p[2] = {&free_lat[m], &gated_lat[m]};
        const char *phase_name[2] = {"free", "gated"};
        for (int i = 0; i < 2; i++) {
            double q[3] = {quantile(p[i]->v, p[i]->n, 0.5), quantile(p[i]->v, p[i]->n, 0.9),
                           quantile(p[i]->v, p[i]->n, 0.99)};
            double same = p[i]->n ? 100.0 * (double)p[i]->same_cpu / (double)p[i]->n : 0;
            printf("%s\t%s\t%s\t%" PRId64 "\t%.0f\t%.3f\t%.3f\t%.3f\t%.0f\n", mech_name[m],
                   pin_cpus ? "yes" : "no", phase_name[i], p[i]->n, hz, q[0] / 1e3, q[1] / 1e3,
                   q[2] / 1e3, same);
        }
    }
}


int main(int argc, char **argv) {
    int64_t n = 30000, gated = 3000;
    int rounds = 3;
    const char *dir_arg = NULL;
    int opt;
    while ((opt = getopt(argc, argv, "n:g:r:d:ut")) != -1) {
        switch (opt) {
        case 'n': n = count_arg(optarg); break;
        case 'g': gated = count_arg(optarg); break;
        case 'r':
            rounds = atoi(optarg);
            if (rounds < 1 || rounds > MAX_ROUNDS) die(optarg, "rounds: 1..50");
            break;
        case 'd': dir_arg = optarg; break;
        case 'u': pin_cpus = false; break;
        case 't': tsv = true; break;
        default:
            fprintf(stderr,
                    "usage: %s [-n HANDOFFS] [-g GATED] [-r ROUNDS] [-u] [-t] [-d DIR] "
                    "[shm|file|flock ...]\n",
                    argv[0]);
            return 2;
        }
    }
    bool want[3] = {optind == argc, optind == argc, optind == argc};
    for (int i = optind; i < argc; i++) {
        if (strcmp(argv[i], "shm") == 0) want[M_SHM] = true;
        else if (strcmp(argv[i], "file") == 0) want[M_FILE] = true;
        else if (strcmp(argv[i], "flock") == 0) want[M_FLOCK] = true;
        else die(argv[i], "unknown mechanism (shm, file, flock)");
    }
    choose_cpus();
    int64_t n_round = n / rounds, g_round = gated / rounds;
    if (n_round < 20 || g_round < 20) die("counts", "at least 20 hand-offs per round and phase");

    char dir[4096];
    if (dir_arg) {
        snprintf(dir, sizeof dir, "%s", dir_arg);
    } else {
        snprintf(dir, sizeof dir, "%s/ringlock-bench-handoff-XXXXXX",
                 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
        if (!mkdtemp(dir)) die("mkdtemp", strerror(errno));
    }

    struct shared *sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                             -1, 0);
    if (sh == MAP_FAILED) die("mmap", strerror(errno));
    struct pool free_lat[3], gated_lat[3];
    double rate[3][MAX_ROUNDS];
    for (int m = 0; m < 3; m++) {
        free_lat[m] = (struct pool){malloc(sizeof(int64_t) * (size_t)n), 0, 0};
        gated_lat[m] = (struct pool){malloc(sizeof(int64_t) * (size_t)gated), 0, 0};
        if (!free_lat[m].v || !gated_lat[m].v) die("malloc", "out of memory");
    }

    /* Interleaved: each round runs every mechanism once, so a burst of load
     * from a neighbour hits them alike. */
    for (int r = 0; r < rounds; r++) {
        for (int m = 0; m < 3; m++) {
            if (!want[m]) continue;
            int64_t ns = phase(sh, (enum mech)m, dir, n_round, false);
            rate[m][r] = (double)sh->count / ((double)ns / 1e9);
            keep(&free_lat[m], sh);
            phase(sh, (enum mech)m, dir, g_round, true);
            keep(&gated_lat[m], sh);
        }
    }

    if (tsv) print_tsv(want, rate, rounds, free_lat, gated_lat);
    else print_table(want, rate, rounds, n_round, g_round, free_lat, gated_lat, dir);

    if (!dir_arg) {
        const char *names[] = {"handoff.shm", "handoff.lock", "raw.flock"};
        char path[4200];
        for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
            snprintf(path, sizeof path, "%s/%s", dir, names[i]);
            unlink(path);
        }
        rmdir(dir);
    }
    return 0;
}
