/* Tests of the C API of locks on the etcd backend, against the real etcd
 * whose client URL is in RINGLOCK_ETCD_ENDPOINT (ffi/tests/run-c-tests.sh
 * starts one with tests/lib/etcd-server.sh): acquire / release / check /
 * status / waiters and token growth; two handles exclude each other (try, timeout,
 * deadlock, a blocked thread woken by the release); namespaces; several
 * processes incrementing one counter file, which fences by token; a holder
 * killed with SIGKILL replaced within TTL + 1 s; a SIGSTOPped holder resumed
 * after its TTL told RL_ERR_LOST; bad options and unreachable endpoints.
 * Shared mode: readers in several processes hold at once (a pipe barrier),
 * a writer waits for them, a reader behind a waiting writer waits, a read's
 * token is the last write's, a killed reader lets a writer in within
 * TTL + 1 s, readers and exclusive holders of one name exclude each other;
 * rl_lock_etcd_status / _waiters: host, lease time left, pid.
 * Prints "test_lock_etcd: N passed, N failed"; exits 1 on any failure, 2
 * without RINGLOCK_ETCD_ENDPOINT. */

#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "ringlock.h"

/* ---- fixtures ------------------------------------------------------------------ */

static const char *endpoint;   /* the etcd under test */
static char prefix[64];        /* of this run's lock names */
static int sentinel_object;
#define SENTINEL_LOCK ((rl_lock *)&sentinel_object)
static const rl_hold SENTINEL_HOLD = {0x5eed, true, 0x77};

static void die(const char *what) {
    fprintf(stderr, "test_lock_etcd: %s: %s (%s)\n", what, strerror(errno), rl_last_error());
    exit(2);
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static bool same_hold(rl_hold a, rl_hold b) {
    return a.token == b.token && a.previous_owner_died == b.previous_owner_died && a.mode == b.mode;
}

/* Options for the etcd under test: `ttl_s` seconds (0: the default). The
 * endpoint array is static: the options stay valid while the test runs. */
static rl_lock_options etcd_options(uint32_t ttl_s) {
    static const char *endpoints[1];
    endpoints[0] = endpoint;
    rl_lock_options o;
    memset(&o, 0, sizeof o);
    o.backend = RL_BACKEND_ETCD;
    o.endpoints = endpoints;
    o.endpoint_count = 1;
    o.ttl_s = ttl_s;
    o.request_timeout_ms = 3000;
    return o;
}

/* This run's name for lock `what` (a fresh etcd each run, but be safe). */
static const char *lock_name(const char *what) {
    static char name[128];
    snprintf(name, sizeof name, "%s-%s", prefix, what);
    return name;
}

static rl_lock *open_etcd(const char *what, uint32_t ttl_s) {
    rl_lock_options o = etcd_options(ttl_s);
    rl_lock *l = NULL;
    if (rl_lock_open(lock_name(what), &o, &l) != RL_OK || l == NULL) die("rl_lock_open");
    return l;
}

static size_t holders_of(const rl_lock *l, rl_holder *h, uint64_t *token) {
    size_t n = 0;
    if (rl_lock_status(l, token, h, RL_LOCK_MAX_HOLDERS, &n) != RL_OK) die("rl_lock_status");
    return n;
}

/* ---- semantics -------------------------------------------------------------------- */

static void test_acquire_release_tokens(void) {
    rl_lock *a = open_etcd("basic", 0);
    rl_holder hs[RL_LOCK_MAX_HOLDERS];
    uint64_t token = 0;
    CHECK(holders_of(a, hs, &token) == 0 && token == 0);
    EXPECT_FAIL(rl_lock_check(a), RL_ERR_INVALID_ARGUMENT, "rl_lock_check");
    CHECK(strstr(rl_last_error(), "not held") != NULL);
    EXPECT_FAIL(rl_lock_release(a), RL_ERR_INVALID_ARGUMENT, "rl_lock_release");

    rl_hold h = SENTINEL_HOLD;
    EXPECT_OK(rl_lock_acquire(a, RL_MODE_EXCLUSIVE, -1, &h));
    CHECK(h.token > 0 && !h.previous_owner_died && h.mode == RL_MODE_EXCLUSIVE);
    uint64_t first = h.token;
    EXPECT_OK(rl_lock_check(a));
    CHECK(holders_of(a, hs, &token) == 1);
    CHECK(hs[0].pid == (uint32_t)getpid() && hs[0].token == first &&
          hs[0].mode == RL_MODE_EXCLUSIVE && hs[0].liveness == RL_LIVENESS_ALIVE &&
          hs[0].since_ms > 1600000000000ull);
    CHECK(token == first);
    EXPECT_OK(rl_lock_release(a));
    EXPECT_FAIL(rl_lock_check(a), RL_ERR_INVALID_ARGUMENT, "rl_lock_check");
    EXPECT_FAIL(rl_lock_release(a), RL_ERR_INVALID_ARGUMENT, "rl_lock_release");
    CHECK(holders_of(a, hs, &token) == 0 && token == first);

    /* tokens grow with every hold, through one handle or a new one */
    uint64_t last = first;
    int increasing = 0, clean = 0;
    for (int i = 0; i < 10; i++) {
        rl_lock *x = i % 2 ? a : open_etcd("basic", 0);
        h = SENTINEL_HOLD;
        if (rl_lock_acquire(x, RL_MODE_EXCLUSIVE, i % 3 ? 0 : 2000, &h) == RL_OK) {
            increasing += h.token > last;
            clean += !h.previous_owner_died;
            last = h.token;
            rl_lock_release(x);
        }
        if (x != a) rl_lock_close(x);
    }
    CHECK(increasing == 10 && clean == 10);
    /* closing a holding handle releases: the next one is not told of a death */
    EXPECT_OK(rl_lock_acquire(a, RL_MODE_EXCLUSIVE, 0, NULL));
    rl_lock_close(a);
    a = open_etcd("basic", 0);
    h = SENTINEL_HOLD;
    EXPECT_OK(rl_lock_acquire(a, RL_MODE_EXCLUSIVE, 0, &h));
    CHECK(h.token > last && !h.previous_owner_died);
    rl_lock_close(a);
}

struct waiter {
    rl_lock *lock;
    rl_status status;
    rl_hold hold;
    atomic_bool done;
};

static void *wait_for_lock(void *arg) {
    struct waiter *w = arg;
    w->status = rl_lock_acquire(w->lock, RL_MODE_EXCLUSIVE, -1, &w->hold);
    atomic_store(&w->done, true);
    return NULL;
}

static void test_two_handles(void) {
    rl_lock *a = open_etcd("two", 0);
    rl_lock *b = open_etcd("two", 0);
    rl_hold ha = SENTINEL_HOLD, h = SENTINEL_HOLD;
    EXPECT_OK(rl_lock_acquire(a, RL_MODE_EXCLUSIVE, -1, &ha));
    EXPECT_FAIL(rl_lock_acquire(b, RL_MODE_EXCLUSIVE, 0, &h), RL_ERR_WOULD_BLOCK, "rl_lock_acquire");
    double t0 = now_ms();
    EXPECT_FAIL(rl_lock_acquire(b, RL_MODE_EXCLUSIVE, 300, &h), RL_ERR_TIMEOUT, "rl_lock_acquire");
    double took = now_ms() - t0;
    CHECK(took >= 300.0 && took < 3000.0);
    EXPECT_FAIL(rl_lock_acquire(a, RL_MODE_EXCLUSIVE, -1, &h), RL_ERR_DEADLOCK, "rl_lock_acquire");
    EXPECT_FAIL(rl_lock_acquire(a, RL_MODE_EXCLUSIVE, 0, &h), RL_ERR_DEADLOCK, "rl_lock_acquire");
    EXPECT_FAIL(rl_lock_acquire(b, RL_MODE_EXCLUSIVE, -2, &h), RL_ERR_INVALID_ARGUMENT, "rl_lock_acquire");
    CHECK(same_hold(h, SENTINEL_HOLD));
    EXPECT_FAIL(rl_lock_check(b), RL_ERR_INVALID_ARGUMENT, "rl_lock_check");
    EXPECT_FAIL(rl_lock_release(b), RL_ERR_INVALID_ARGUMENT, "rl_lock_release");
    EXPECT_OK(rl_lock_check(a)); /* b's failures did not touch a's hold */

    /* a thread blocked for ever on b is woken by a's release */
    struct waiter w = {b, 0xffff, SENTINEL_HOLD, false};
    pthread_t t;
    if (pthread_create(&t, NULL, wait_for_lock, &w) != 0) die("pthread_create");
    struct timespec pause = {0, 300 * 1000 * 1000};
    nanosleep(&pause, NULL);
    CHECK(!atomic_load(&w.done)); /* still waiting while a holds */
    /* the waiting thread's acquisition is in the queue, after a */
    rl_holder q[4];
    size_t nq = 0;
    for (int i = 0; i < 300 && nq == 0; i++) {
        EXPECT_OK(rl_lock_waiters(a, NULL, 0, &nq));
        if (nq == 0) nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    }
    CHECK(nq == 1);
    EXPECT_FAIL(rl_lock_waiters(a, q, 0, &nq), RL_ERR_INVALID_ARGUMENT, "rl_lock_waiters");
    CHECK(strstr(rl_last_error(), "too small") != NULL);
    EXPECT_OK(rl_lock_waiters(b, q, 4, &nq));
    CHECK(nq == 1 && q[0].pid == (uint32_t)getpid() && q[0].token > ha.token &&
          q[0].mode == RL_MODE_EXCLUSIVE && q[0].liveness == RL_LIVENESS_ALIVE);
    rl_holder hs[RL_LOCK_MAX_HOLDERS];
    uint64_t last = 0;
    CHECK(holders_of(b, hs, &last) == 1 && hs[0].token == ha.token); /* the holder only */
    t0 = now_ms();
    EXPECT_OK(rl_lock_release(a));
    pthread_join(t, NULL);
    CHECK(w.status == RL_OK && now_ms() - t0 < 5000.0);
    CHECK(w.hold.token > ha.token && !w.hold.previous_owner_died);
    EXPECT_FAIL(rl_lock_acquire(a, RL_MODE_EXCLUSIVE, 0, NULL), RL_ERR_WOULD_BLOCK, "rl_lock_acquire");
    EXPECT_OK(rl_lock_waiters(b, q, 4, &nq));
    CHECK(nq == 0);
    EXPECT_OK(rl_lock_release(b));
    rl_lock_close(a);
    rl_lock_close(b);
}

static void test_namespaces(void) {
    rl_lock_options o = etcd_options(0);
    rl_lock *a = NULL, *b = NULL, *c = NULL;
    o.etcd_namespace = "ringlock-c/one";
    EXPECT_OK(rl_lock_open(lock_name("ns"), &o, &a));
    EXPECT_OK(rl_lock_open(lock_name("ns"), &o, &c));
    o.etcd_namespace = "ringlock-c/two";
    EXPECT_OK(rl_lock_open(lock_name("ns"), &o, &b));
    EXPECT_OK(rl_lock_acquire(a, RL_MODE_EXCLUSIVE, 0, NULL));
    EXPECT_OK(rl_lock_acquire(b, RL_MODE_EXCLUSIVE, 0, NULL)); /* another lock */
    EXPECT_FAIL(rl_lock_acquire(c, RL_MODE_EXCLUSIVE, 0, NULL), RL_ERR_WOULD_BLOCK, "rl_lock_acquire");
    rl_lock_close(a);
    rl_lock_close(b);
    rl_lock_close(c);
}

/* ---- processes -------------------------------------------------------------------- */

/* The store: "<value> <token>\n". It refuses (the child exits 3) a write
 * whose token is not greater than the last one it accepted: fencing. */
static int counter_child(const char *path, int increments) {
    rl_lock *l = open_etcd("counter", 0);
    for (int i = 0; i < increments; i++) {
        rl_hold h;
        if (rl_lock_acquire(l, RL_MODE_EXCLUSIVE, 30000, &h) != RL_OK) {
            fprintf(stderr, "counter child %ld: %s\n", (long)getpid(), rl_last_error());
            return 4;
        }
        long value = 0;
        uint64_t stored = 0;
        FILE *f = fopen(path, "r");
        if (f != NULL) {
            if (fscanf(f, "%ld %" SCNu64, &value, &stored) != 2) value = -1000000;
            fclose(f);
        }
        if (h.token <= stored) {
            fprintf(stderr, "fencing: token %" PRIu64 " after %" PRIu64 "\n", h.token, stored);
            return 3;
        }
        f = fopen(path, "w");
        if (f == NULL) return 5;
        fprintf(f, "%ld %" PRIu64 "\n", value + 1, h.token);
        fclose(f);
        if (rl_lock_release(l) != RL_OK) return 6;
    }
    rl_lock_close(l);
    return 0;
}

static void test_counter(void) {
    enum { PROCS = 4, EACH = 25 };
    char path[256];
    snprintf(path, sizeof path, "%s/ringlock-etcd-counter-%ld", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
             (long)getpid());
    unlink(path);
    pid_t pids[PROCS];
    for (int i = 0; i < PROCS; i++) {
        pids[i] = fork();
        if (pids[i] < 0) die("fork");
        if (pids[i] == 0) _exit(counter_child(path, EACH));
    }
    int clean = 0;
    for (int i = 0; i < PROCS; i++) {
        int st = 0;
        waitpid(pids[i], &st, 0);
        clean += WIFEXITED(st) && WEXITSTATUS(st) == 0;
        if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0)) fprintf(stderr, "child status %d\n", st);
    }
    CHECK(clean == PROCS);
    long value = 0;
    uint64_t token = 0;
    FILE *f = fopen(path, "r");
    CHECK(f != NULL && fscanf(f, "%ld %" SCNu64, &value, &token) == 2);
    if (f != NULL) fclose(f);
    CHECK(value == PROCS * EACH);
    if (value != PROCS * EACH) fprintf(stderr, "counter = %ld, want %d\n", value, PROCS * EACH);
    CHECK(token > 0);
    unlink(path);
}

/* A child that takes lock `what` with a 2 s TTL, writes its token to
 * `report`, then waits for a byte on `go` (or for ever), then writes the
 * statuses of rl_lock_check and rl_lock_release. */
static void holder_child(const char *what, int report, int go) {
    rl_lock *l = open_etcd(what, 2);
    rl_hold h;
    if (rl_lock_acquire(l, RL_MODE_EXCLUSIVE, 5000, &h) != RL_OK) _exit(4);
    if (write(report, &h.token, sizeof h.token) != (ssize_t)sizeof h.token) _exit(5);
    char byte;
    if (read(go, &byte, 1) != 1) {
        for (;;) pause();
    }
    rl_status got[2] = {rl_lock_check(l), rl_lock_release(l)};
    if (write(report, got, sizeof got) != (ssize_t)sizeof got) _exit(5);
    rl_lock_close(l);
    _exit(0);
}

static pid_t start_holder(const char *what, int *report, int *go, uint64_t *token) {
    int up[2], down[2];
    if (pipe(up) != 0 || pipe(down) != 0) die("pipe");
    pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
        close(up[0]);
        close(down[1]);
        holder_child(what, up[1], down[0]);
    }
    close(up[1]);
    close(down[0]);
    *report = up[0];
    *go = down[1];
    if (read(*report, token, sizeof *token) != (ssize_t)sizeof *token) die("read token");
    return pid;
}

static void test_sigkill(void) {
    int report, go;
    uint64_t dead_token = 0;
    pid_t pid = start_holder("killed", &report, &go, &dead_token);
    rl_lock *b = open_etcd("killed", 2);
    rl_holder hs[RL_LOCK_MAX_HOLDERS];
    uint64_t token = 0;
    CHECK(holders_of(b, hs, &token) == 1 && hs[0].pid == (uint32_t)pid && hs[0].token == dead_token);
    EXPECT_FAIL(rl_lock_acquire(b, RL_MODE_EXCLUSIVE, 0, NULL), RL_ERR_WOULD_BLOCK, "rl_lock_acquire");
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    double t0 = now_ms();
    rl_hold h = SENTINEL_HOLD;
    EXPECT_OK(rl_lock_acquire(b, RL_MODE_EXCLUSIVE, 3000, &h)); /* TTL + 1 s */
    double took = now_ms() - t0;
    CHECK(h.previous_owner_died && h.token > dead_token && took <= 3000.0);
    printf("test_lock_etcd: a holder killed with SIGKILL (TTL 2 s) was replaced in %.0f ms\n", took);
    EXPECT_OK(rl_lock_release(b));
    /* reported once: the next holder is not told again */
    EXPECT_OK(rl_lock_acquire(b, RL_MODE_EXCLUSIVE, 0, &h));
    CHECK(!h.previous_owner_died);
    rl_lock_close(b);
    close(report);
    close(go);
}

static void test_sigstop(void) {
    int report, go;
    uint64_t stopped_token = 0;
    pid_t pid = start_holder("stopped", &report, &go, &stopped_token);
    kill(pid, SIGSTOP);
    rl_lock *b = open_etcd("stopped", 2);
    rl_hold h = SENTINEL_HOLD;
    double t0 = now_ms();
    EXPECT_OK(rl_lock_acquire(b, RL_MODE_EXCLUSIVE, 6000, &h));
    CHECK(h.previous_owner_died && h.token > stopped_token);
    printf("test_lock_etcd: a SIGSTOPped holder (TTL 2 s) was replaced in %.0f ms\n", now_ms() - t0);
    kill(pid, SIGCONT);
    if (write(go, "x", 1) != 1) die("write");
    rl_status got[2] = {0xffff, 0xffff};
    CHECK(read(report, got, sizeof got) == (ssize_t)sizeof got);
    CHECK(got[0] == RL_ERR_LOST);
    CHECK(got[1] == RL_ERR_LOST);
    if (got[0] != RL_ERR_LOST || got[1] != RL_ERR_LOST) {
        fprintf(stderr, "resumed holder: check %s, release %s\n", rl_status_str(got[0]), rl_status_str(got[1]));
    }
    int st = 0;
    waitpid(pid, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    EXPECT_OK(rl_lock_check(b)); /* the resumed one did not disturb the new holder */
    EXPECT_OK(rl_lock_release(b));
    rl_lock_close(b);
    close(report);
    close(go);
}

/* ---- bad conditions ------------------------------------------------------------ */

/* A 127.0.0.1 port with a listening socket (`listening`) or none. */
static int local_port(bool listening, int *fd) {
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(s, (struct sockaddr *)&a, &len) != 0)
        die("socket");
    if (listening && listen(s, 16) != 0) die("listen");
    if (!listening) {
        close(s);
        s = -1;
    }
    *fd = s;
    return ntohs(a.sin_port);
}

static void test_unavailable(void) {
    char url[64];
    const char *eps[1] = {url};
    rl_lock_options o = etcd_options(0);
    o.endpoints = eps;
    o.request_timeout_ms = 1000;
    rl_lock *out = SENTINEL_LOCK;
    int fd;
    /* nothing listens: refused at once */
    snprintf(url, sizeof url, "http://127.0.0.1:%d", local_port(false, &fd));
    double t0 = now_ms();
    EXPECT_FAIL(rl_lock_open(lock_name("u"), &o, &out), RL_ERR_UNAVAILABLE, "rl_lock_open");
    double took = now_ms() - t0;
    CHECK(took < 2500.0);
    /* a socket that accepts but never answers: the request timeout */
    snprintf(url, sizeof url, "http://127.0.0.1:%d", local_port(true, &fd));
    t0 = now_ms();
    EXPECT_FAIL(rl_lock_open(lock_name("u"), &o, &out), RL_ERR_UNAVAILABLE, "rl_lock_open");
    took = now_ms() - t0;
    CHECK(took >= 900.0 && took < 2500.0);
    printf("test_lock_etcd: a silent endpoint failed after %.0f ms (request timeout 1000)\n", took);
    close(fd);
    CHECK(out == SENTINEL_LOCK);
    CHECK(strcmp(rl_status_str(RL_ERR_UNAVAILABLE), "unavailable") == 0);
    CHECK(strcmp(rl_status_str(RL_ERR_LOST), "lock lost") == 0);
}

static void test_bad_options(void) {
    rl_lock *out = SENTINEL_LOCK;
    rl_lock_options o = etcd_options(1);
    EXPECT_FAIL(rl_lock_open(lock_name("b"), &o, &out), RL_ERR_INVALID_ARGUMENT, "rl_lock_open");
    CHECK(strstr(rl_last_error(), "ttl_s") != NULL);
    o = etcd_options(0);
    EXPECT_FAIL(rl_lock_open("a/b", &o, &out), RL_ERR_INVALID_ARGUMENT, "rl_lock_open");
    EXPECT_FAIL(rl_lock_open("", &o, &out), RL_ERR_INVALID_ARGUMENT, "rl_lock_open");
    o.endpoints = NULL;
    EXPECT_FAIL(rl_lock_open(lock_name("b"), &o, &out), RL_ERR_INVALID_ARGUMENT, "rl_lock_open");
    o.endpoint_count = 0;
    EXPECT_FAIL(rl_lock_open(lock_name("b"), &o, &out), RL_ERR_INVALID_ARGUMENT, "rl_lock_open");
    CHECK(strstr(rl_last_error(), "endpoints") != NULL);
    const char *null_entry[2] = {endpoint, NULL};
    o = etcd_options(0);
    o.endpoints = null_entry;
    o.endpoint_count = 2;
    EXPECT_FAIL(rl_lock_open(lock_name("b"), &o, &out), RL_ERR_INVALID_ARGUMENT, "rl_lock_open");
    CHECK(strstr(rl_last_error(), "endpoints[1]") != NULL);
    const char *malformed[1] = {"ftp://127.0.0.1:2379"};
    o.endpoints = malformed;
    o.endpoint_count = 1;
    EXPECT_FAIL(rl_lock_open(lock_name("b"), &o, &out), RL_ERR_INVALID_ARGUMENT, "rl_lock_open");
    o = etcd_options(0);
    o.etcd_namespace = "/bad";
    EXPECT_FAIL(rl_lock_open(lock_name("b"), &o, &out), RL_ERR_INVALID_ARGUMENT, "rl_lock_open");
    o = etcd_options(0);
    o.dir = "/tmp";
    EXPECT_FAIL(rl_lock_open(lock_name("b"), &o, &out), RL_ERR_INVALID_ARGUMENT, "rl_lock_open");
    o = etcd_options(0);
    o.file_mode = 0600;
    EXPECT_FAIL(rl_lock_open(lock_name("b"), &o, &out), RL_ERR_INVALID_ARGUMENT, "rl_lock_open");
    CHECK(out == SENTINEL_LOCK);

    /* an unknown mode is refused, and acquires nothing */
    rl_lock *l = open_etcd("mode", 0);
    rl_hold h = SENTINEL_HOLD;
    EXPECT_FAIL(rl_lock_acquire(l, 7, -1, &h), RL_ERR_INVALID_ARGUMENT, "rl_lock_acquire");
    EXPECT_FAIL(rl_lock_acquire(l, 0, 0, &h), RL_ERR_INVALID_ARGUMENT, "rl_lock_acquire");
    CHECK(same_hold(h, SENTINEL_HOLD));
    rl_holder hs[RL_LOCK_MAX_HOLDERS];
    uint64_t token = 0;
    CHECK(holders_of(l, hs, &token) == 0);
    EXPECT_OK(rl_lock_acquire(l, RL_MODE_EXCLUSIVE, 0, NULL));
    EXPECT_OK(rl_lock_release(l));
    rl_lock_close(l);
}

/* ---- shared mode ------------------------------------------------------------------ */

struct moded_waiter {
    rl_lock *lock;
    rl_mode mode;
    int64_t timeout_ms;
    rl_status status;
    rl_hold hold;
    atomic_bool done;
};

static void *wait_in_mode(void *arg) {
    struct moded_waiter *w = arg;
    w->status = rl_lock_acquire(w->lock, w->mode, w->timeout_ms, &w->hold);
    atomic_store(&w->done, true);
    return NULL;
}

/* Waits until lock `l` has `n` waiters (at most 5 s); their number. */
static size_t await_waiters(const rl_lock *l, size_t n) {
    size_t got = 0;
    for (int i = 0; i < 500; i++) {
        if (rl_lock_waiters(l, NULL, 0, &got) != RL_OK) die("rl_lock_waiters");
        if (got == n) break;
        nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    }
    return got;
}

/* A child that takes lock `what` shared (TTL `ttl_s`), writes a byte to
 * `report` once it holds, waits for a byte on `go` (or for ever: to be
 * killed), releases and exits 0. */
static void reader_child(const char *what, uint32_t ttl_s, int report, int go) {
    rl_lock *l = open_etcd(what, ttl_s);
    rl_hold h;
    if (rl_lock_acquire(l, RL_MODE_SHARED, 10000, &h) != RL_OK || h.mode != RL_MODE_SHARED) _exit(4);
    if (write(report, "r", 1) != 1) _exit(5);
    char byte;
    if (read(go, &byte, 1) != 1) {
        for (;;) pause();
    }
    if (rl_lock_release(l) != RL_OK) _exit(6);
    rl_lock_close(l);
    _exit(0);
}

enum { READERS = 3, READER_TTL = 5 };

static void test_shared_readers(void) {
    char host[RL_HOST_MAX];
    if (gethostname(host, sizeof host) != 0) die("gethostname");
    host[sizeof host - 1] = '\0';
    /* a writer before the readers: its token is what they read */
    rl_lock *w = open_etcd("rw", 0);
    rl_hold wh = SENTINEL_HOLD;
    EXPECT_OK(rl_lock_acquire(w, RL_MODE_EXCLUSIVE, 0, &wh));
    EXPECT_OK(rl_lock_release(w));

    /* READERS processes hold at once: each says so, and none releases
     * before every one has said so (the barrier is the parent) */
    int up[2], down[2];
    if (pipe(up) != 0 || pipe(down) != 0) die("pipe");
    pid_t pids[READERS];
    for (int i = 0; i < READERS; i++) {
        pids[i] = fork();
        if (pids[i] < 0) die("fork");
        if (pids[i] == 0) {
            close(up[0]);
            close(down[1]);
            reader_child("rw", READER_TTL, up[1], down[0]);
        }
    }
    close(up[1]);
    close(down[0]);
    int holding = 0;
    char byte;
    while (holding < READERS && read(up[0], &byte, 1) == 1) holding++;
    CHECK(holding == READERS); /* all READERS hold at the same moment */

    rl_holder hs[RL_LOCK_MAX_HOLDERS];
    uint64_t token = 0;
    size_t n = holders_of(w, hs, &token);
    CHECK(n == READERS && token == wh.token);
    int shared = 0;
    for (size_t i = 0; i < n; i++) shared += hs[i].mode == RL_MODE_SHARED && hs[i].liveness == RL_LIVENESS_ALIVE;
    CHECK(shared == READERS);

    /* the etcd records: host, lease left, the readers' pids */
    rl_etcd_holder eh[READERS + 1];
    size_t en = 0;
    uint64_t etoken = 0;
    EXPECT_OK(rl_lock_etcd_status(w, NULL, NULL, 0, &en));
    CHECK(en == READERS);
    EXPECT_FAIL(rl_lock_etcd_status(w, &etoken, eh, 1, &en), RL_ERR_INVALID_ARGUMENT, "rl_lock_etcd_status");
    CHECK(strstr(rl_last_error(), "too small") != NULL && etoken == 0);
    EXPECT_OK(rl_lock_etcd_status(w, &etoken, eh, READERS + 1, &en));
    CHECK(en == READERS && etoken == wh.token);
    int good = 0;
    for (size_t i = 0; i < en; i++) {
        bool ours = false;
        for (int j = 0; j < READERS; j++) ours |= eh[i].holder.pid == (uint32_t)pids[j];
        good += ours && strcmp(eh[i].host, host) == 0 && eh[i].lease_left_ms > 0 &&
                eh[i].lease_left_ms <= READER_TTL * 1000 && eh[i].holder.mode == RL_MODE_SHARED &&
                eh[i].holder.liveness == RL_LIVENESS_ALIVE;
    }
    CHECK(good == READERS);
    if (good != READERS && en > 0) {
        fprintf(stderr, "etcd holder: pid %u host %s (want %s) lease_left_ms %" PRId64 "\n",
                eh[0].holder.pid, eh[0].host, host, eh[0].lease_left_ms);
    }
    EXPECT_OK(rl_lock_etcd_waiters(w, NULL, 0, &en));
    CHECK(en == 0);

    /* a writer excludes itself from readers: a try fails, a wait waits */
    EXPECT_FAIL(rl_lock_acquire(w, RL_MODE_EXCLUSIVE, 0, NULL), RL_ERR_WOULD_BLOCK, "rl_lock_acquire");
    struct moded_waiter wt = {w, RL_MODE_EXCLUSIVE, 20000, 0xffff, SENTINEL_HOLD, false};
    pthread_t t;
    if (pthread_create(&t, NULL, wait_in_mode, &wt) != 0) die("pthread_create");
    CHECK(await_waiters(w, 1) == 1);
    CHECK(!atomic_load(&wt.done));
    rl_etcd_holder q[2];
    EXPECT_OK(rl_lock_etcd_waiters(w, q, 2, &en));
    CHECK(en == 1 && q[0].holder.mode == RL_MODE_EXCLUSIVE && q[0].holder.pid == (uint32_t)getpid() &&
          strcmp(q[0].host, host) == 0 && q[0].lease_left_ms > 0 && q[0].lease_left_ms <= 10000);

    /* a reader behind the waiting writer waits too */
    rl_lock *r = open_etcd("rw", 0);
    EXPECT_FAIL(rl_lock_acquire(r, RL_MODE_SHARED, 0, NULL), RL_ERR_WOULD_BLOCK, "rl_lock_acquire");
    EXPECT_FAIL(rl_lock_acquire(r, RL_MODE_SHARED, 300, NULL), RL_ERR_TIMEOUT, "rl_lock_acquire");
    struct moded_waiter rt = {r, RL_MODE_SHARED, 20000, 0xffff, SENTINEL_HOLD, false};
    pthread_t t2;
    if (pthread_create(&t2, NULL, wait_in_mode, &rt) != 0) die("pthread_create");
    CHECK(await_waiters(w, 2) == 2);
    rl_holder wq[2];
    EXPECT_OK(rl_lock_waiters(w, wq, 2, &en));
    CHECK(en == 2 && wq[0].mode == RL_MODE_EXCLUSIVE && wq[1].mode == RL_MODE_SHARED);

    /* the readers release: the writer holds, then the reader after it */
    CHECK(write(down[1], "gogo", READERS) == READERS);
    int clean = 0;
    for (int i = 0; i < READERS; i++) {
        int st = 0;
        waitpid(pids[i], &st, 0);
        clean += WIFEXITED(st) && WEXITSTATUS(st) == 0;
    }
    CHECK(clean == READERS);
    close(up[0]);
    close(down[1]);
    pthread_join(t, NULL);
    CHECK(wt.status == RL_OK && wt.hold.mode == RL_MODE_EXCLUSIVE && wt.hold.token > wh.token);
    CHECK(!atomic_load(&rt.done)); /* the reader waits for the writer */
    nanosleep(&(struct timespec){0, 200 * 1000 * 1000}, NULL);
    CHECK(!atomic_load(&rt.done));
    EXPECT_OK(rl_lock_release(w));
    pthread_join(t2, NULL);
    /* a read's token is the last write's */
    CHECK(rt.status == RL_OK && rt.hold.mode == RL_MODE_SHARED && rt.hold.token == wt.hold.token);
    CHECK(!rt.hold.previous_owner_died);
    EXPECT_OK(rl_lock_check(r));
    EXPECT_OK(rl_lock_release(r));
    rl_lock_close(r);
    rl_lock_close(w);
}

/* A reader and an exclusive acquisition of one name exclude each other,
 * whichever comes first; two readers share. */
static void test_shared_and_exclusive(void) {
    rl_lock *a = open_etcd("mixed", 0), *b = open_etcd("mixed", 0), *c = open_etcd("mixed", 0);
    rl_hold h = SENTINEL_HOLD;
    EXPECT_OK(rl_lock_acquire(a, RL_MODE_SHARED, 0, &h));
    CHECK(h.mode == RL_MODE_SHARED && h.token == 0 && !h.previous_owner_died);
    EXPECT_FAIL(rl_lock_acquire(a, RL_MODE_SHARED, 0, NULL), RL_ERR_DEADLOCK, "rl_lock_acquire");
    EXPECT_OK(rl_lock_acquire(c, RL_MODE_SHARED, 0, NULL));
    EXPECT_FAIL(rl_lock_acquire(b, RL_MODE_EXCLUSIVE, 0, NULL), RL_ERR_WOULD_BLOCK, "rl_lock_acquire");
    EXPECT_FAIL(rl_lock_acquire(b, RL_MODE_EXCLUSIVE, 200, NULL), RL_ERR_TIMEOUT, "rl_lock_acquire");
    EXPECT_OK(rl_lock_release(a));
    EXPECT_FAIL(rl_lock_acquire(b, RL_MODE_EXCLUSIVE, 0, NULL), RL_ERR_WOULD_BLOCK, "rl_lock_acquire");
    EXPECT_OK(rl_lock_release(c));
    EXPECT_OK(rl_lock_acquire(b, RL_MODE_EXCLUSIVE, 0, &h));
    uint64_t wrote = h.token;
    CHECK(h.mode == RL_MODE_EXCLUSIVE && wrote > 0);
    EXPECT_FAIL(rl_lock_acquire(a, RL_MODE_SHARED, 0, NULL), RL_ERR_WOULD_BLOCK, "rl_lock_acquire");
    EXPECT_FAIL(rl_lock_acquire(a, RL_MODE_SHARED, 200, NULL), RL_ERR_TIMEOUT, "rl_lock_acquire");
    rl_holder hs[RL_LOCK_MAX_HOLDERS];
    uint64_t token = 0;
    CHECK(holders_of(a, hs, &token) == 1 && hs[0].mode == RL_MODE_EXCLUSIVE && token == wrote);
    EXPECT_OK(rl_lock_release(b));
    EXPECT_OK(rl_lock_acquire(a, RL_MODE_SHARED, 0, &h));
    CHECK(h.token == wrote);
    rl_lock_close(a); /* releases */
    rl_lock_close(b);
    rl_lock_close(c);
}

/* A reader killed with SIGKILL blocks a writer no longer than TTL + 1 s. */
static void test_killed_reader(void) {
    int up[2], down[2];
    if (pipe(up) != 0 || pipe(down) != 0) die("pipe");
    pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
        close(up[0]);
        close(down[1]);
        reader_child("killed-reader", 2, up[1], down[0]);
    }
    close(up[1]);
    close(down[0]);
    char byte;
    CHECK(read(up[0], &byte, 1) == 1);
    rl_lock *w = open_etcd("killed-reader", 2);
    EXPECT_FAIL(rl_lock_acquire(w, RL_MODE_EXCLUSIVE, 0, NULL), RL_ERR_WOULD_BLOCK, "rl_lock_acquire");
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    double t0 = now_ms();
    rl_hold h = SENTINEL_HOLD;
    EXPECT_OK(rl_lock_acquire(w, RL_MODE_EXCLUSIVE, 3000, &h)); /* TTL + 1 s */
    double took = now_ms() - t0;
    CHECK(h.mode == RL_MODE_EXCLUSIVE && took <= 3000.0);
    printf("test_lock_etcd: a reader killed with SIGKILL (TTL 2 s) let a writer in after %.0f ms\n", took);
    EXPECT_OK(rl_lock_release(w));
    rl_lock_close(w);
    close(up[0]);
    close(down[1]);
}

/* The etcd records on a lock nobody holds, and their arguments. */
static void test_etcd_status_arguments(void) {
    rl_lock *l = open_etcd("estatus", 0);
    size_t n = 7;
    uint64_t token = 9;
    rl_etcd_holder eh[1];
    EXPECT_OK(rl_lock_etcd_status(l, &token, eh, 1, &n));
    CHECK(n == 0 && token == 0);
    n = 7;
    EXPECT_FAIL(rl_lock_etcd_status(l, &token, NULL, 1, &n), RL_ERR_INVALID_ARGUMENT, "rl_lock_etcd_status");
    EXPECT_FAIL(rl_lock_etcd_status(l, &token, eh, 1, NULL), RL_ERR_INVALID_ARGUMENT, "rl_lock_etcd_status");
    EXPECT_FAIL(rl_lock_etcd_status(NULL, &token, eh, 1, &n), RL_ERR_INVALID_ARGUMENT, "rl_lock_etcd_status");
    EXPECT_FAIL(rl_lock_etcd_waiters(l, NULL, 1, &n), RL_ERR_INVALID_ARGUMENT, "rl_lock_etcd_waiters");
    CHECK(n == 7);
    rl_hold h;
    EXPECT_OK(rl_lock_acquire(l, RL_MODE_EXCLUSIVE, 0, &h));
    EXPECT_OK(rl_lock_etcd_status(l, &token, eh, 1, &n));
    CHECK(n == 1 && token == h.token && eh[0].holder.token == h.token &&
          eh[0].holder.pid == (uint32_t)getpid() && eh[0].lease_left_ms > 0 &&
          eh[0].lease_left_ms <= 10000);
    EXPECT_OK(rl_lock_release(l));
    rl_lock_close(l);

    /* a local lock has no etcd records */
    rl_lock_options o;
    memset(&o, 0, sizeof o);
    o.backend = RL_BACKEND_FILE;
    rl_lock *local = NULL;
    EXPECT_OK(rl_lock_open(lock_name("estatus-local"), &o, &local));
    EXPECT_FAIL(rl_lock_etcd_status(local, NULL, NULL, 0, &n), RL_ERR_INVALID_ARGUMENT, "rl_lock_etcd_status");
    CHECK(strstr(rl_last_error(), "RL_BACKEND_ETCD") != NULL);
    EXPECT_FAIL(rl_lock_etcd_waiters(local, NULL, 0, &n), RL_ERR_INVALID_ARGUMENT, "rl_lock_etcd_waiters");
    rl_lock_close(local);
}

int main(void) {
    endpoint = getenv("RINGLOCK_ETCD_ENDPOINT");
    if (endpoint == NULL || *endpoint == '\0') {
        fprintf(stderr, "test_lock_etcd: set RINGLOCK_ETCD_ENDPOINT to an etcd's client URL\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IONBF, 0); /* forked children inherit no buffered output */
    snprintf(prefix, sizeof prefix, "c-%ld-%ld", (long)getpid(), (long)time(NULL));
    test_bad_options();
    test_unavailable();
    test_acquire_release_tokens();
    test_two_handles();
    test_namespaces();
    test_counter();
    test_sigkill();
    test_sigstop();
    test_shared_and_exclusive();
    test_shared_readers();
    test_killed_reader();
    test_etcd_status_arguments();
    return check_report("test_lock_etcd");
}
