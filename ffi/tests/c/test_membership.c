/* Membership from C against a real etcd (started here, killed at the end):
 * three members join (one from a forked child process), a watcher's ring
 * holds them and places 10,000 keys as a ring built locally from the same
 * nodes does; one leaves and rl_ring_watcher_wait returns a newer revision
 * without it (to a second thread waiting too); the child, killed with
 * SIGKILL, drops out within TTL + 1 s; a freed member drops out; bad
 * arguments; nothing listening on the endpoint is RL_ERR_UNAVAILABLE within
 * the request timeout; rl_ring_watcher_open_with_callback hands each change
 * to a callback on the watcher's thread, chained revision to revision, and
 * after a member leaves its plan is rl_ring_diff of the two rings it gives
 * (ketama, xxh3; jump has none). Skipped without etcd unless RINGLOCK_REQUIRE_ETCD is
 * set. */

#define _GNU_SOURCE
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/prctl.h>

#include "check.h"
#include "etcd_server.h"

#define TTL 2
#define RING "c-ring"
#define NS "ctest"

static const char *endpoint[1];
static rl_member_options member_options; /* TTL 2, namespace NS */
static rl_ring_watcher_options watcher_options; /* namespace NS */

/* "a,b,c": the ring's nodes in name order, with ":<weight>" after each. */
static void nodes_of(const rl_ring *ring, char *buf, size_t cap) {
    size_t n = rl_ring_len(ring), used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        const char *name = NULL;
        uint32_t weight = 0;
        if (rl_ring_node(ring, i, &name, &weight) != RL_OK) {
            snprintf(buf, cap, "<error>");
            return;
        }
        used += (size_t)snprintf(buf + used, cap - used, "%s%s:%u", i ? "," : "", name, weight);
        if (used >= cap) {
            return;
        }
    }
}

/* Waits at most `within_ms` until the watcher's ring holds exactly `want`
 * (as nodes_of writes it); the seconds it took, or -1. `*revision` gets the
 * revision of the ring that matched. */
static double wait_nodes(const rl_ring_watcher *w, const char *want, long within_ms,
                         uint64_t *revision) {
    double t0 = etcd_now();
    rl_ring *ring = NULL;
    uint64_t rev = 0;
    char got[256] = "";
    if (rl_ring_watcher_current(w, &ring, &rev) != RL_OK) {
        return -1;
    }
    for (;;) {
        nodes_of(ring, got, sizeof got);
        rl_ring_free(ring);
        ring = NULL;
        if (strcmp(got, want) == 0) {
            if (revision != NULL) {
                *revision = rev;
            }
            return etcd_now() - t0;
        }
        long left = within_ms - (long)((etcd_now() - t0) * 1000);
        if (left <= 0 || rl_ring_watcher_wait(w, rev, left, &ring, &rev) != RL_OK) {
            fprintf(stderr, "wait_nodes: still [%s] after %ld ms, want [%s]\n", got, within_ms, want);
            return -1;
        }
    }
}

/* The forked member: joins as "c", says so on `fd`, then waits to be killed. */
static void child_member(int fd) {
    rl_member *m = NULL;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    rl_status s = rl_member_join(endpoint, 1, &member_options, RING, "c", 1, "10.0.0.3:1", &m);
    char said = s == RL_OK ? 'j' : 'f';
    if (s != RL_OK) {
        fprintf(stderr, "child: rl_member_join: %s\n", rl_last_error());
    }
    if (write(fd, &said, 1) != 1) {
        _exit(2);
    }
    for (;;) {
        pause();
    }
}

/* A second thread waiting on the same watcher as the main one. */
typedef struct {
    const rl_ring_watcher *w;
    uint64_t after, got;
    rl_status status;
} waiter;

static void *wait_in_thread(void *arg) {
    waiter *x = arg;
    rl_ring *ring = NULL;
    x->status = rl_ring_watcher_wait(x->w, x->after, 5000, &ring, &x->got);
    if (x->status == RL_OK && rl_ring_len(ring) != 2) {
        x->status = RL_ERR_INTERNAL;
    }
    rl_ring_free(ring);
    return NULL;
}

static void same_placement(const rl_ring *a, const rl_ring *b) {
    int differ = 0;
    char key[32];
    for (int i = 0; i < 10000; i++) {
        const char *x = NULL, *y = NULL;
        int len = snprintf(key, sizeof key, "key-%d", i);
        if (rl_ring_get(a, key, (size_t)len, &x) != RL_OK ||
            rl_ring_get(b, key, (size_t)len, &y) != RL_OK || strcmp(x, y) != 0) {
            differ++;
        }
    }
    CHECK(differ == 0);
    /* equal rings serialise to equal bytes */
    size_t na = 0, nb = 0;
    EXPECT_OK(rl_ring_serialize(a, NULL, 0, &na));
    EXPECT_OK(rl_ring_serialize(b, NULL, 0, &nb));
    uint8_t *ba = malloc(na), *bb = malloc(nb);
    CHECK(ba != NULL && bb != NULL && na == nb);
    if (ba != NULL && bb != NULL && na == nb) {
        EXPECT_OK(rl_ring_serialize(a, ba, na, &na));
        EXPECT_OK(rl_ring_serialize(b, bb, nb, &nb));
        CHECK(memcmp(ba, bb, na) == 0);
    }
    free(ba);
    free(bb);
}

static rl_ring *local_ring(const char *const *nodes, const uint32_t *weights, size_t n) {
    rl_ring *r = NULL;
    rl_ring_options o = {RL_ALGORITHM_KETAMA, 0, 0};
    EXPECT_OK(rl_ring_new_with_options(&o, &r));
    EXPECT_OK(rl_ring_add_many(r, nodes, weights, n));
    return r;
}

static void test_members_and_watcher(pid_t child, int from_child) {
    char said = 0;
    CHECK(read(from_child, &said, 1) == 1 && said == 'j');

    rl_member *a = NULL, *b = NULL, *dup = (rl_member *)&said;
    EXPECT_OK(rl_member_join(endpoint, 1, &member_options, RING, "a", 1, "10.0.0.1:1", &a));
    EXPECT_OK(rl_member_join(endpoint, 1, &member_options, RING, "b", 2, NULL, &b));
    EXPECT_FAIL(rl_member_join(endpoint, 1, &member_options, RING, "a", 1, "x", &dup),
                RL_ERR_ALREADY_EXISTS, "rl_member_join");
    CHECK(dup == (rl_member *)&said);
    EXPECT_OK(rl_member_check(a));
    CHECK(rl_member_revision(a) > 0 && rl_member_revision(b) > rl_member_revision(a));
    CHECK(rl_member_rejoins(a) == 0);

    rl_ring_watcher *w = NULL;
    rl_ring_options ketama = {RL_ALGORITHM_KETAMA, 0, 0};
    EXPECT_OK(rl_ring_watcher_open(endpoint, 1, RING, &ketama, &watcher_options, &w));
    if (w == NULL) {
        return;
    }
    uint64_t rev = 0;
    CHECK(wait_nodes(w, "a:1,b:2,c:1", 5000, &rev) >= 0);
    CHECK(rev >= rl_member_revision(b));

    /* the watcher's ring places keys as a local ring of the same nodes */
    static const char *const abc[] = {"a", "b", "c"};
    static const uint32_t abc_w[] = {1, 2, 1};
    rl_ring *mine = local_ring(abc, abc_w, 3), *theirs = NULL;
    uint64_t cur = 0;
    EXPECT_OK(rl_ring_watcher_current(w, &theirs, &cur));
    CHECK(cur == rev && rl_ring_watcher_revision(w) == rev);
    CHECK(rl_ring_algorithm(theirs) == RL_ALGORITHM_KETAMA);
    if (theirs != NULL) {
        same_placement(mine, theirs);
    }
    rl_ring_free(mine);

    /* addresses */
    char addr[32];
    size_t need = 0;
    EXPECT_OK(rl_ring_watcher_addr(w, "a", NULL, 0, &need));
    CHECK(need == strlen("10.0.0.1:1") + 1);
    EXPECT_OK(rl_ring_watcher_addr(w, "a", addr, sizeof addr, &need));
    CHECK(strcmp(addr, "10.0.0.1:1") == 0);
    EXPECT_OK(rl_ring_watcher_addr(w, "b", addr, sizeof addr, &need));
    CHECK(strcmp(addr, "") == 0 && need == 1);
    strcpy(addr, "untouched");
    EXPECT_FAIL(rl_ring_watcher_addr(w, "a", addr, 4, &need), RL_ERR_INVALID_ARGUMENT,
                "rl_ring_watcher_addr");
    CHECK(strcmp(addr, "untouched") == 0);
    EXPECT_FAIL(rl_ring_watcher_addr(w, "zz", addr, sizeof addr, &need), RL_ERR_NOT_FOUND,
                "rl_ring_watcher_addr");

    /* nothing newer yet: a try and a bounded wait time out */
    rl_ring *none = NULL;
    EXPECT_FAIL(rl_ring_watcher_wait(w, rev, 0, &none, &cur), RL_ERR_TIMEOUT, "rl_ring_watcher_wait");
    double t0 = etcd_now();
    EXPECT_FAIL(rl_ring_watcher_wait(w, rev, 200, &none, &cur), RL_ERR_TIMEOUT, "rl_ring_watcher_wait");
    double waited = etcd_now() - t0;
    CHECK(waited >= 0.19 && waited < 2);
    CHECK(none == NULL && cur == rev);
    /* an older revision returns at once, whatever the bound */
    EXPECT_OK(rl_ring_watcher_wait(w, rev - 1, -1, NULL, &cur));
    CHECK(cur == rev);
    cur = 0;
    EXPECT_OK(rl_ring_watcher_wait(w, rev - 1, INT64_MAX, NULL, &cur));
    CHECK(cur == rev);

    /* a leaves: the next placement is newer and lacks it, for this thread
     * and for another one waiting on the same watcher */
    waiter other = {w, rev, 0, RL_ERR_INTERNAL};
    pthread_t thread;
    int started = pthread_create(&thread, NULL, wait_in_thread, &other) == 0;
    CHECK(started);
    EXPECT_OK(rl_member_leave(a));
    rl_ring *after = NULL;
    uint64_t newer = 0;
    EXPECT_OK(rl_ring_watcher_wait(w, rev, 5000, &after, &newer));
    CHECK(newer > rev);
    if (after != NULL) {
        char got[128];
        nodes_of(after, got, sizeof got);
        CHECK(strcmp(got, "b:2,c:1") == 0);
        static const char *const bc[] = {"b", "c"};
        static const uint32_t bc_w[] = {2, 1};
        rl_ring *local = local_ring(bc, bc_w, 2);
        same_placement(local, after);
        rl_ring_free(local);
    }
    if (started) {
        pthread_join(thread, NULL);
        CHECK(other.status == RL_OK && other.got > rev);
    }
    EXPECT_FAIL(rl_ring_watcher_addr(w, "a", addr, sizeof addr, &need), RL_ERR_NOT_FOUND,
                "rl_ring_watcher_addr");
    /* the copy taken before is the caller's: unchanged, still usable */
    if (theirs != NULL) {
        CHECK(rl_ring_len(theirs) == 3);
    }
    rl_ring_free(theirs);
    rl_ring_free(after);

    /* the child is killed: its member drops out within TTL + 1 s */
    kill(child, SIGKILL);
    double took = wait_nodes(w, "b:2", (TTL + 3) * 1000, NULL);
    printf("killed member dropped out after %.2f s (TTL %d s)\n", took, TTL);
    CHECK(took >= 0 && took <= TTL + 1);
    waitpid(child, NULL, 0);

    /* a freed member drops out too (its lease is revoked) */
    rl_member_free(b);
    CHECK(wait_nodes(w, "", 3000, NULL) >= 0);
    rl_ring_watcher_close(w);
}

static void test_bad_arguments(void) {
    rl_member *m = (rl_member *)&m;
    rl_ring_watcher *w = (rl_ring_watcher *)&w;
    const char *none[] = {NULL};
    rl_member_options ttl1 = member_options, bad_ns = member_options;
    ttl1.ttl_s = 1;
    bad_ns.etcd_namespace = "/ns";
    EXPECT_FAIL(rl_member_join(NULL, 1, NULL, RING, "n", 1, NULL, &m), RL_ERR_INVALID_ARGUMENT,
                "rl_member_join");
    EXPECT_FAIL(rl_member_join(endpoint, 0, NULL, RING, "n", 1, NULL, &m), RL_ERR_INVALID_ARGUMENT,
                "rl_member_join");
    EXPECT_FAIL(rl_member_join(none, 1, NULL, RING, "n", 1, NULL, &m), RL_ERR_INVALID_ARGUMENT,
                "rl_member_join");
    EXPECT_FAIL(rl_member_join(endpoint, 1, &ttl1, RING, "n", 1, NULL, &m), RL_ERR_INVALID_ARGUMENT,
                "rl_member_join");
    EXPECT_FAIL(rl_member_join(endpoint, 1, &bad_ns, RING, "n", 1, NULL, &m),
                RL_ERR_INVALID_ARGUMENT, "rl_member_join");
    EXPECT_FAIL(rl_member_join(endpoint, 1, NULL, RING, "n", 0, NULL, &m), RL_ERR_INVALID_ARGUMENT,
                "rl_member_join");
    EXPECT_FAIL(rl_member_join(endpoint, 1, NULL, "a b", "n", 1, NULL, &m), RL_ERR_INVALID_ARGUMENT,
                "rl_member_join");
    EXPECT_FAIL(rl_member_join(endpoint, 1, NULL, NULL, "n", 1, NULL, &m), RL_ERR_INVALID_ARGUMENT,
                "rl_member_join");
    EXPECT_FAIL(rl_member_join(endpoint, 1, NULL, RING, "", 1, NULL, &m), RL_ERR_INVALID_ARGUMENT,
                "rl_member_join");
    EXPECT_FAIL(rl_member_join(endpoint, 1, NULL, RING, NULL, 1, NULL, &m), RL_ERR_INVALID_ARGUMENT,
                "rl_member_join");
    EXPECT_FAIL(rl_member_join(endpoint, 1, NULL, RING, "n", 1, NULL, NULL), RL_ERR_INVALID_ARGUMENT,
                "rl_member_join");
    CHECK(m == (rl_member *)&m);
    EXPECT_FAIL(rl_member_check(NULL), RL_ERR_INVALID_ARGUMENT, "rl_member_check");
    EXPECT_FAIL(rl_member_leave(NULL), RL_ERR_INVALID_ARGUMENT, "rl_member_leave");
    CHECK(rl_member_revision(NULL) == 0);
    rl_member_free(NULL);

    rl_ring_options bad_algo = {99, 0, 0}, bad_size = {RL_ALGORITHM_MAGLEV, 0, 100};
    EXPECT_FAIL(rl_ring_watcher_open(endpoint, 1, RING, &bad_algo, NULL, &w),
                RL_ERR_INVALID_ARGUMENT, "rl_ring_watcher_open");
    EXPECT_FAIL(rl_ring_watcher_open(endpoint, 1, RING, &bad_size, NULL, &w),
                RL_ERR_INVALID_ARGUMENT, "rl_ring_watcher_open");
    EXPECT_FAIL(rl_ring_watcher_open(endpoint, 1, "a/b", NULL, NULL, &w), RL_ERR_INVALID_ARGUMENT,
                "rl_ring_watcher_open");
    EXPECT_FAIL(rl_ring_watcher_open(endpoint, 0, RING, NULL, NULL, &w), RL_ERR_INVALID_ARGUMENT,
                "rl_ring_watcher_open");
    EXPECT_FAIL(rl_ring_watcher_open(endpoint, 1, RING, NULL, NULL, NULL), RL_ERR_INVALID_ARGUMENT,
                "rl_ring_watcher_open");
    CHECK(w == (rl_ring_watcher *)&w);

    rl_ring_watcher *ok = NULL;
    EXPECT_OK(rl_ring_watcher_open(endpoint, 1, "c-empty", NULL, &watcher_options, &ok));
    EXPECT_FAIL(rl_ring_watcher_wait(ok, 0, -2, NULL, NULL), RL_ERR_INVALID_ARGUMENT,
                "rl_ring_watcher_wait");
    EXPECT_FAIL(rl_ring_watcher_addr(ok, "n", NULL, 8, NULL), RL_ERR_INVALID_ARGUMENT,
                "rl_ring_watcher_addr");
    EXPECT_FAIL(rl_ring_watcher_addr(ok, NULL, NULL, 0, NULL), RL_ERR_INVALID_ARGUMENT,
                "rl_ring_watcher_addr");
    rl_ring *empty = NULL;
    EXPECT_OK(rl_ring_watcher_current(ok, &empty, NULL));
    CHECK(empty != NULL && rl_ring_len(empty) == 0 && rl_ring_watcher_revision(ok) > 0);
    rl_ring_free(empty);
    rl_ring_watcher_close(ok);
    EXPECT_FAIL(rl_ring_watcher_current(NULL, NULL, NULL), RL_ERR_INVALID_ARGUMENT,
                "rl_ring_watcher_current");
    rl_ring_watcher_close(NULL);
}

/* Nothing listens on the endpoint: RL_ERR_UNAVAILABLE within the timeout. */
static void test_unavailable(void) {
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", etcd_free_port());
    const char *nowhere[] = {url};
    rl_member_options mo = member_options;
    rl_ring_watcher_options wo = watcher_options;
    mo.request_timeout_ms = 300;
    wo.request_timeout_ms = 300;
    rl_member *m = NULL;
    rl_ring_watcher *w = NULL;
    double t0 = etcd_now();
    EXPECT_FAIL(rl_member_join(nowhere, 1, &mo, RING, "n", 1, NULL, &m), RL_ERR_UNAVAILABLE,
                "rl_member_join");
    EXPECT_FAIL(rl_ring_watcher_open(nowhere, 1, RING, NULL, &wo, &w), RL_ERR_UNAVAILABLE,
                "rl_ring_watcher_open");
    double took = etcd_now() - t0;
    CHECK(took < 2);
    CHECK(m == NULL && w == NULL);
}

/* ---- the change callback ------------------------------------------------------ */

#define MAX_CHANGES 32
#define MAX_MOVES 4096

/* One change as the callback saw it, copied (what it points to is borrowed
 * for the callback only). */
struct seen_change {
    uint64_t before_revision, revision;
    rl_ring *before, *after;
    bool has_plan, moves_null, relisted;
    size_t move_count;
    double fraction;
    uint64_t *firsts, *lasts;
    char **olds, **news;
};

struct changes {
    pthread_mutex_t mu;
    size_t n;
    struct seen_change c[MAX_CHANGES];
    int calls_off_thread; /* the callback ran on the caller's thread */
    pthread_t caller;
};

static char *dup_or_null(const char *s) { return s != NULL ? strdup(s) : NULL; }

static void on_change(const rl_ring_change *change, void *user_data) {
    struct changes *cs = user_data;
    pthread_mutex_lock(&cs->mu);
    if (pthread_equal(pthread_self(), cs->caller)) cs->calls_off_thread++;
    if (cs->n < MAX_CHANGES) {
        struct seen_change *c = &cs->c[cs->n++];
        memset(c, 0, sizeof *c);
        c->before_revision = change->before_revision;
        c->revision = change->revision;
        rl_ring_clone(change->before, &c->before);
        rl_ring_clone(change->after, &c->after);
        c->has_plan = change->has_plan;
        c->moves_null = change->moves == NULL;
        c->relisted = change->relisted;
        c->move_count = change->move_count;
        c->fraction = change->fraction;
        size_t n = change->move_count < MAX_MOVES ? change->move_count : MAX_MOVES;
        c->firsts = calloc(n + 1, sizeof *c->firsts);
        c->lasts = calloc(n + 1, sizeof *c->lasts);
        c->olds = calloc(n + 1, sizeof *c->olds);
        c->news = calloc(n + 1, sizeof *c->news);
        for (size_t i = 0; i < n; i++) {
            c->firsts[i] = change->moves[i].first;
            c->lasts[i] = change->moves[i].last;
            c->olds[i] = dup_or_null(change->moves[i].old_node);
            c->news[i] = dup_or_null(change->moves[i].new_node);
        }
    }
    pthread_mutex_unlock(&cs->mu);
}

static void free_changes(struct changes *cs) {
    for (size_t i = 0; i < cs->n && i < MAX_CHANGES; i++) {
        struct seen_change *c = &cs->c[i];
        size_t n = c->move_count < MAX_MOVES ? c->move_count : MAX_MOVES;
        for (size_t j = 0; j < n; j++) {
            free(c->olds[j]);
            free(c->news[j]);
        }
        free(c->firsts);
        free(c->lasts);
        free(c->olds);
        free(c->news);
        rl_ring_free(c->before);
        rl_ring_free(c->after);
    }
    cs->n = 0;
}

static bool same_name(const char *a, const char *b) {
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Members x, y, z join ring `ring`; y leaves. The callback's last change
 * removes y, and its plan is rl_ring_diff of the two rings it was given
 * (jump: no plan, and rl_ring_diff refuses jump rings too). */
static void test_change_callback(rl_algorithm algorithm, const char *ring) {
    struct changes *cs = calloc(1, sizeof *cs);
    pthread_mutex_init(&cs->mu, NULL);
    cs->caller = pthread_self();
    rl_ring_options ro = {algorithm, 0, 0};
    rl_ring_watcher *w = NULL, *sentinel = (rl_ring_watcher *)cs;
    EXPECT_FAIL(rl_ring_watcher_open_with_callback(endpoint, 1, ring, &ro, &watcher_options, NULL,
                                                   cs, &sentinel),
                RL_ERR_INVALID_ARGUMENT, "rl_ring_watcher_open_with_callback");
    CHECK(sentinel == (rl_ring_watcher *)cs);
    EXPECT_OK(rl_ring_watcher_open_with_callback(endpoint, 1, ring, &ro, &watcher_options,
                                                 on_change, cs, &w));
    if (w == NULL) {
        free(cs);
        return;
    }
    rl_member *x = NULL, *y = NULL, *z = NULL;
    EXPECT_OK(rl_member_join(endpoint, 1, &member_options, ring, "x", 1, NULL, &x));
    EXPECT_OK(rl_member_join(endpoint, 1, &member_options, ring, "y", 1, NULL, &y));
    EXPECT_OK(rl_member_join(endpoint, 1, &member_options, ring, "z", 1, NULL, &z));
    CHECK(wait_nodes(w, "x:1,y:1,z:1", 5000, NULL) >= 0);
    EXPECT_OK(rl_member_leave(y));
    uint64_t rev = 0;
    CHECK(wait_nodes(w, "x:1,z:1", 5000, &rev) >= 0);
    /* the callback runs after the swap: give it a moment to have run */
    for (int i = 0; i < 200; i++) {
        pthread_mutex_lock(&cs->mu);
        bool done = cs->n > 0 && cs->c[cs->n - 1].revision == rev;
        pthread_mutex_unlock(&cs->mu);
        if (done) break;
        etcd_sleep_ms(10);
    }
    pthread_mutex_lock(&cs->mu);
    CHECK(cs->n >= 2 && cs->n < MAX_CHANGES && cs->calls_off_thread == 0);
    /* a chain: each change starts from the ring the previous one ended with */
    int chained = 0;
    for (size_t i = 1; i < cs->n; i++) {
        chained += cs->c[i].before_revision == cs->c[i - 1].revision &&
                   cs->c[i].revision > cs->c[i].before_revision;
    }
    CHECK(chained == (int)cs->n - 1);
    if (cs->n >= 1) {
        struct seen_change *last = &cs->c[cs->n - 1];
        char before[256], after[256];
        nodes_of(last->before, before, sizeof before);
        nodes_of(last->after, after, sizeof after);
        CHECK(last->revision == rev && strcmp(before, "x:1,y:1,z:1") == 0 &&
              strcmp(after, "x:1,z:1") == 0);
        rl_move *moves = NULL;
        size_t count = 0;
        double fraction = -1;
        if (algorithm == RL_ALGORITHM_JUMP) {
            CHECK(!last->has_plan && last->moves_null && last->move_count == 0 &&
                  last->fraction == 0.0);
            EXPECT_FAIL(rl_ring_diff(last->before, last->after, &moves, &count, &fraction),
                        RL_ERR_INVALID_ARGUMENT, "rl_ring_diff");
        } else {
            CHECK(last->has_plan && !last->moves_null && last->move_count > 0);
            EXPECT_OK(rl_ring_diff(last->before, last->after, &moves, &count, &fraction));
            CHECK(count == last->move_count && fraction == last->fraction);
            int same = 0, from_y = 0;
            for (size_t i = 0; i < count && i < last->move_count && i < MAX_MOVES; i++) {
                same += moves[i].first == last->firsts[i] && moves[i].last == last->lasts[i] &&
                        same_name(moves[i].old_node, last->olds[i]) &&
                        same_name(moves[i].new_node, last->news[i]);
                from_y += same_name(last->olds[i], "y");
            }
            CHECK(same == (int)count && from_y == (int)count); /* only y's keys move */
            CHECK(last->fraction > 0.1 && last->fraction < 0.6);
            rl_moves_free(moves);
        }
    }
    pthread_mutex_unlock(&cs->mu);
    rl_ring_watcher_close(w); /* no callback after this */
    size_t n = cs->n;
    rl_member_free(x); /* y's rl_member_leave freed it */
    rl_member_free(z);
    etcd_sleep_ms(200);
    CHECK(cs->n == n);
    free_changes(cs);
    pthread_mutex_destroy(&cs->mu);
    free(cs);
}

int main(void) {
    int want = etcd_wanted("test_membership");
    if (want <= 0) {
        if (want < 0) {
            failed++;
        }
        return check_report("test_membership");
    }
    etcd_server etcd;
    if (!etcd_start(&etcd)) {
        failed++;
        fprintf(stderr, "could not start etcd\n");
        return check_report("test_membership");
    }
    endpoint[0] = etcd.endpoint;
    member_options.ttl_s = TTL;
    member_options.etcd_namespace = NS;
    watcher_options.etcd_namespace = NS;

    /* fork before this process starts any thread of ringlock's */
    int pipefd[2];
    pid_t child = -1;
    if (pipe(pipefd) == 0) {
        child = fork();
        if (child == 0) {
            close(pipefd[0]);
            child_member(pipefd[1]);
        }
        close(pipefd[1]);
    }
    CHECK(child > 0);
    if (child > 0) {
        test_members_and_watcher(child, pipefd[0]);
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
        close(pipefd[0]);
    }
    test_bad_arguments();
    test_unavailable();
    test_change_callback(RL_ALGORITHM_KETAMA, "c-cb-ketama");
    test_change_callback(RL_ALGORITHM_XXH3, "c-cb-xxh3");
    test_change_callback(RL_ALGORITHM_JUMP, "c-cb-jump");
    etcd_stop(&etcd);
    return check_report("test_membership");
}
