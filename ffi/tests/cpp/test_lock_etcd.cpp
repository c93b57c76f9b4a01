// Tests of the etcd side of ringlock.hpp against the real etcd whose client
// URL is in RINGLOCK_ETCD_ENDPOINT: Options::etcd, Guard (check, release,
// the destructor's release), try_acquire, errors carrying their status
// (timeout, deadlock, bad options, an unreachable endpoint), status; shared
// mode (readers together, a writer waits, a read's token), etcd_status and
// etcd_waiters (host, lease time left). The lost-hold cases run in C
// (test_lock_etcd.c).
// Prints "test_lock_etcd_cpp: N passed, N failed"; exits 1 on any failure,
// 2 without RINGLOCK_ETCD_ENDPOINT.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "check.hpp"
#include "ringlock.hpp"

static_assert(static_cast<rl_backend>(ringlock::Backend::etcd) == RL_BACKEND_ETCD);

namespace {

using namespace std::chrono_literals;
using ringlock::Guard;
using ringlock::Lock;
using ringlock::Mode;
using ringlock::Options;

std::string endpoint;
std::string prefix;

std::string name(const char *what) { return prefix + "-" + what; }

void test_guard_and_check() {
    Lock a(name("guard"), Options::etcd({endpoint}));
    Lock b(name("guard"), Options::etcd({endpoint}));
    std::uint64_t first = 0;
    {
        Guard g(a);
        first = g.hold().token;
        CHECK(first > 0 && !g.hold().previous_owner_died && g.hold().mode == Mode::exclusive);
        g.check();
        a.check();
        CHECK(!b.try_acquire().has_value());
        EXPECT_ERROR(b.acquire(Mode::exclusive, 200ms), RL_ERR_TIMEOUT, "rl_lock_acquire");
        EXPECT_ERROR(a.acquire(), RL_ERR_DEADLOCK, "rl_lock_acquire");
        EXPECT_ERROR(b.check(), RL_ERR_INVALID_ARGUMENT, "rl_lock_check");
        CHECK(b.waiters().empty());
        ringlock::Status st = b.status();
        CHECK(st.holders.size() == 1 && st.holders[0].pid == static_cast<std::uint32_t>(getpid()) &&
              st.holders[0].token == first && st.holders[0].liveness == ringlock::Liveness::alive);
    }  // released here
    std::optional<ringlock::Hold> h = b.try_acquire();
    CHECK(h.has_value() && h->token > first);
    b.release();
    EXPECT_ERROR(b.release(), RL_ERR_INVALID_ARGUMENT, "rl_lock_release");
    {
        Guard g(b, Mode::exclusive, 1000ms);
        g.release();  // reported; the destructor does nothing more
        EXPECT_ERROR(g.check(), RL_ERR_INVALID_ARGUMENT, "rl_lock_check");
    }
    CHECK(a.try_acquire().has_value());
    a.release();
    CHECK(a.status().holders.empty());
}

void test_waiters() {
    Lock a(name("waiters"), Options::etcd({endpoint}));
    Lock b(name("waiters"), Options::etcd({endpoint}));
    Guard g(a);
    std::thread t([&] { Guard wait(b, Mode::exclusive, 10000ms); });
    std::vector<ringlock::Holder> q;
    for (int i = 0; i < 300 && q.empty(); i++) {
        q = a.waiters();
        if (q.empty()) std::this_thread::sleep_for(10ms);
    }
    CHECK(q.size() == 1 && q[0].pid == static_cast<std::uint32_t>(getpid()) && q[0].token > g.hold().token);
    g.release();
    t.join();
    CHECK(a.waiters().empty());
}

void test_errors() {
    Lock a(name("errors"), Options::etcd({endpoint}));
    {
        Guard g(a, Mode::shared);  // shared mode works on etcd
        EXPECT_ERROR(a.acquire(Mode::shared), RL_ERR_DEADLOCK, "rl_lock_acquire");
    }
    EXPECT_ERROR(Lock(name("e"), Options::etcd({endpoint}, 1)), RL_ERR_INVALID_ARGUMENT, "rl_lock_open");
    EXPECT_ERROR(Lock(name("e"), Options::etcd({})), RL_ERR_INVALID_ARGUMENT, "rl_lock_open");
    EXPECT_ERROR(Lock("a/b", Options::etcd({endpoint})), RL_ERR_INVALID_ARGUMENT, "rl_lock_open");
    EXPECT_ERROR(Lock(name("e"), Options::etcd({std::string("http://x\0y", 10)})),
                 RL_ERR_INVALID_ARGUMENT, "etcd endpoint");
    Options with_dir = Options::etcd({endpoint});
    with_dir.dir = "/tmp";
    EXPECT_ERROR(Lock(name("e"), with_dir), RL_ERR_INVALID_ARGUMENT, "rl_lock_open");
    Options local;
    local.endpoints = {endpoint};  // an etcd field with the shm backend
    EXPECT_ERROR(Lock(name("e"), local), RL_ERR_INVALID_ARGUMENT, "rl_lock_open");
    Options bad_ns = Options::etcd({endpoint});
    bad_ns.etcd_namespace = "a//b";
    EXPECT_ERROR(Lock(name("e"), bad_ns), RL_ERR_INVALID_ARGUMENT, "rl_lock_open");
    // port 1 on 127.0.0.1: nothing listens
    Options dead = Options::etcd({"http://127.0.0.1:1"});
    dead.request_timeout_ms = 500;
    EXPECT_ERROR(Lock(name("e"), dead), RL_ERR_UNAVAILABLE, "rl_lock_open");
    try {
        Lock l(name("e"), dead);
    } catch (const ringlock::Error &e) {
        CHECK(std::string(e.status_name()) == "unavailable");
    }
}

void test_namespaces() {
    Options one = Options::etcd({endpoint}, 3);
    one.etcd_namespace = "ringlock-cpp/one";
    Options two = one;
    two.etcd_namespace = "ringlock-cpp/two";
    Lock a(name("ns"), one), b(name("ns"), two), c(name("ns"), one);
    Guard ga(a);
    CHECK(b.try_acquire().has_value());  // another lock
    CHECK(!c.try_acquire().has_value());
    b.release();
}

void test_shared_and_etcd_status() {
    char host[RL_HOST_MAX];
    CHECK(gethostname(host, sizeof host) == 0);
    host[sizeof host - 1] = '\0';
    Lock a(name("shared"), Options::etcd({endpoint}, 4));
    Lock b(name("shared"), Options::etcd({endpoint}, 4));
    Lock w(name("shared"), Options::etcd({endpoint}, 4));
    Guard ga(a, Mode::shared);
    Guard gb(b, Mode::shared);  // readers share
    CHECK(ga.hold().mode == Mode::shared && gb.hold().mode == Mode::shared);
    CHECK(!w.try_acquire().has_value());  // a writer waits for them
    ringlock::Status st = w.status();
    CHECK(st.holders.size() == 2 && st.holders[0].mode == Mode::shared && st.holders[1].mode == Mode::shared);
    ringlock::EtcdStatus es = w.etcd_status();
    CHECK(es.holders.size() == 2 && es.token == st.token);
    for (const ringlock::EtcdHolder &h : es.holders) {
        CHECK(h.host == host && h.lease_left_ms > 0 && h.lease_left_ms <= 4000 &&
              h.holder.pid == static_cast<std::uint32_t>(getpid()) && h.holder.mode == Mode::shared);
    }
    CHECK(w.etcd_waiters().empty());
    ga.release();
    gb.release();
    std::optional<ringlock::Hold> wh = w.try_acquire();
    CHECK(wh.has_value() && wh->mode == Mode::exclusive);
    CHECK(!a.try_acquire(Mode::shared).has_value());
    w.release();
    std::optional<ringlock::Hold> rh = a.try_acquire(Mode::shared);
    CHECK(rh.has_value() && wh.has_value() && rh->token == wh->token);  // a read sees the last write's token
    a.release();

    Lock local(name("shared-local"));
    EXPECT_ERROR(local.etcd_status(), RL_ERR_INVALID_ARGUMENT, "rl_lock_etcd_status");
    EXPECT_ERROR(local.etcd_waiters(), RL_ERR_INVALID_ARGUMENT, "rl_lock_etcd_waiters");
}

}  // namespace

int main() {
    const char *e = std::getenv("RINGLOCK_ETCD_ENDPOINT");
    if (e == nullptr || *e == '\0') {
        std::fprintf(stderr, "test_lock_etcd_cpp: set RINGLOCK_ETCD_ENDPOINT to an etcd's client URL\n");
        return 2;
    }
    endpoint = e;
    prefix = "cpp-" + std::to_string(getpid());
    try {
        test_guard_and_check();
        test_waiters();
        test_errors();
        test_namespaces();
        test_shared_and_etcd_status();
    } catch (const ringlock::Error &err) {
        std::fprintf(stderr, "unexpected ringlock::Error (%s): %s\n", err.status_name(), err.what());
        failed++;
    }
    return check_summary("test_lock_etcd_cpp");
}
