// Tests of the lock half of ringlock.hpp, on both backends: RAII (Guard
// releases on scope exit and on exception, Lock releases when destroyed),
// move semantics, try_acquire, errors carrying their status (timeout, would
// block, deadlock, bad names), status, threads. Prints
// "test_lock_cpp: N passed, N failed"; exits 1 on any failure.

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include <unistd.h>

#include "check.hpp"
#include "ringlock.hpp"

static_assert(!std::is_copy_constructible_v<ringlock::Lock>);
static_assert(!std::is_copy_assignable_v<ringlock::Lock>);
static_assert(std::is_nothrow_move_constructible_v<ringlock::Lock>);
static_assert(std::is_nothrow_move_assignable_v<ringlock::Lock>);
static_assert(!std::is_copy_constructible_v<ringlock::Guard>);
static_assert(!std::is_move_constructible_v<ringlock::Guard>);
static_assert(static_cast<rl_mode>(ringlock::Mode::exclusive) == RL_MODE_EXCLUSIVE);
static_assert(static_cast<rl_mode>(ringlock::Mode::shared) == RL_MODE_SHARED);
static_assert(static_cast<rl_backend>(ringlock::Backend::file) == RL_BACKEND_FILE);

namespace {

using namespace std::chrono_literals;
using ringlock::Backend;
using ringlock::Guard;
using ringlock::Lock;
using ringlock::Mode;





// A fresh lock directory, removed with its contents at the end of the scope.
struct TempDir {
    std::string path;
    TempDir() {
        std::string tmpl = std::filesystem::temp_directory_path() / "ringlock-test-lock-cpp-XXXXXX";
        if (mkdtemp(tmpl.data()) == nullptr) {
            std::perror("mkdtemp");
            std::exit(2);
        }
        path = tmpl;
    }
    ~TempDir() { std::filesystem::remove_all(path); }
    TempDir(const TempDir &) = delete;
    TempDir &operator=(const TempDir &) = delete;
};

ringlock::Options options(Backend backend, const TempDir &dir) {
    ringlock::Options o;
    o.backend = backend;
    o.dir = dir.path;
    return o;
}

// Whether another handle could take the lock in `mode` now (released at once).
bool free_for(const std::string &name, const ringlock::Options &o, Mode mode = Mode::exclusive) {
    Lock probe(name, o);
    if (auto h = probe.try_acquire(mode)) {
        probe.release();
        return true;
    }
    return false;
}

void test_raii(Backend backend) {
    TempDir dir;
    auto o = options(backend, dir);
    Lock lock("raii", o);
    std::uint64_t token = 0;
    {
        Guard guard(lock);
        token = guard.hold().token;
        CHECK(token >= 1 && guard.hold().mode == Mode::exclusive && !guard.hold().previous_owner_died);
        CHECK(!free_for("raii", o, Mode::shared));
    }
    CHECK(free_for("raii", o));  // released on scope exit
    bool caught = false;
    try {
        Guard guard(lock);
        CHECK(guard.hold().token > token);
        throw std::runtime_error("boom");
    } catch (const std::runtime_error &e) {
        caught = std::strcmp(e.what(), "boom") == 0;
    }
    CHECK(caught);
    CHECK(free_for("raii", o));  // released on exception
    {
        Guard reader(lock, Mode::shared);
        CHECK(reader.hold().mode == Mode::shared);
        CHECK(free_for("raii", o, Mode::shared));
        CHECK(!free_for("raii", o, Mode::exclusive));
        // a Guard that cannot acquire throws and holds nothing
        Lock other("raii", o);
        EXPECT_ERROR(Guard g(other, Mode::exclusive, 20ms), RL_ERR_TIMEOUT, "rl_lock_acquire: ");
        EXPECT_ERROR(Guard g(lock), RL_ERR_DEADLOCK, "rl_lock_acquire: ");
    }
    CHECK(free_for("raii", o));
    {
        Lock scoped("raii", o);
        scoped.acquire();
        CHECK(!free_for("raii", o, Mode::shared));
    }  // destroying a Lock releases its hold
    CHECK(free_for("raii", o));
}

void test_move(Backend backend) {
    TempDir dir;
    auto o = options(backend, dir);
    Lock a("m", o);
    a.acquire();
    Lock b(std::move(a));  // the hold moves with the handle
    CHECK(!a.valid() && b.valid());
    CHECK(!free_for("m", o, Mode::shared));
    EXPECT_ERROR(a.release(), RL_ERR_INVALID_ARGUMENT, "rl_lock_release: ");
    EXPECT_ERROR(a.acquire(), RL_ERR_INVALID_ARGUMENT, "rl_lock_acquire: ");
    EXPECT_ERROR(a.status(), RL_ERR_INVALID_ARGUMENT, "rl_lock_status: ");
    b.release();
    CHECK(free_for("m", o));

    Lock c("m2", o);
    c.acquire();
    CHECK(!free_for("m2", o, Mode::shared));
    c = std::move(b);  // closes c's handle: its hold on m2 goes
    CHECK(free_for("m2", o));
    CHECK(c.valid() && !b.valid());
    c.acquire();
    CHECK(!free_for("m", o, Mode::shared));
    Lock &self = c;
    c = std::move(self);  // self-move keeps the handle
    CHECK(c.valid() && !free_for("m", o, Mode::shared));
    // a Guard keeps working when its Lock moves
    c.release();
    {
        Guard g(c);
        Lock moved(std::move(c));
        CHECK(!free_for("m", o, Mode::shared));
        c = std::move(moved);
    }
    CHECK(free_for("m", o));
    b = Lock("m3", o);  // assigning into a moved-from Lock
    CHECK(b.valid());
}

void test_try_and_errors(Backend backend) {
    TempDir dir;
    auto o = options(backend, dir);
    Lock a("t", o);
    Lock b("t", o);
    auto first = a.try_acquire();
    CHECK(first.has_value() && first->mode == Mode::exclusive);
    CHECK(!b.try_acquire().has_value());
    CHECK(!b.try_acquire(Mode::shared).has_value());
    EXPECT_ERROR(a.try_acquire(), RL_ERR_DEADLOCK, "rl_lock_acquire: ");
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_ERROR(b.acquire(Mode::exclusive, 50ms), RL_ERR_TIMEOUT, "rl_lock_acquire: ");
    auto took = std::chrono::steady_clock::now() - t0;
    CHECK(took >= 50ms && took < 2s);
    EXPECT_ERROR(b.acquire(Mode::shared, 0ms), RL_ERR_WOULD_BLOCK, "rl_lock_acquire: ");
    EXPECT_ERROR(b.acquire(Mode::exclusive, -5ms), RL_ERR_INVALID_ARGUMENT, "timeout is negative");
    EXPECT_ERROR(b.acquire(Mode::exclusive, std::chrono::seconds(-1)), RL_ERR_INVALID_ARGUMENT, "timeout");
    EXPECT_ERROR(b.acquire(static_cast<Mode>(7)), RL_ERR_INVALID_ARGUMENT, "rl_lock_acquire: ");
    try {
        b.acquire(Mode::exclusive, 10ms);
        CHECK(false);
    } catch (const ringlock::Error &e) {
        CHECK(e.status() == RL_ERR_TIMEOUT && std::strcmp(e.status_name(), "timeout") == 0);
        CHECK(dynamic_cast<const std::runtime_error *>(&e) != nullptr);
    }
    ringlock::Status st = b.status();
    CHECK(st.token == first->token && st.holders.size() == 1);
    if (st.holders.size() == 1) {
        const ringlock::Holder &h = st.holders[0];
        CHECK(h.pid == static_cast<std::uint32_t>(getpid()) && h.mode == Mode::exclusive &&
              h.token == first->token && h.liveness == ringlock::Liveness::alive && h.since_ms > 0);
    }
    a.release();
    EXPECT_ERROR(a.release(), RL_ERR_INVALID_ARGUMENT, "rl_lock_release: ");
    auto second = b.acquire(Mode::exclusive, std::chrono::seconds(1));  // seconds convert
    CHECK(second.token == first->token + 1);
    b.release();
    CHECK(b.status().holders.empty());
    // shared: two at once
    auto ra = a.acquire(Mode::shared);
    auto rb = b.acquire(Mode::shared, 0ms);
    CHECK(ra.mode == Mode::shared && rb.token == second.token && b.status().holders.size() == 2);
    CHECK(!free_for("t", o));
    a.release();
    b.release();

    EXPECT_ERROR(Lock("a/b", o), RL_ERR_INVALID_ARGUMENT, "rl_lock_open: ");
    EXPECT_ERROR(Lock("", o), RL_ERR_INVALID_ARGUMENT, "rl_lock_open: ");
    EXPECT_ERROR(Lock(std::string(201, 'x'), o), RL_ERR_INVALID_ARGUMENT, "rl_lock_open: ");
    EXPECT_ERROR(Lock(std::string("a\0b", 3), o), RL_ERR_INVALID_ARGUMENT, "lock name contains a NUL");
    auto bad = o;
    bad.dir = std::string("x\0y", 3);
    EXPECT_ERROR(Lock("ok", bad), RL_ERR_INVALID_ARGUMENT, "lock directory contains a NUL");
    bad = o;
    bad.file_mode = 0400;
    EXPECT_ERROR(Lock("ok", bad), RL_ERR_INVALID_ARGUMENT, "rl_lock_open: ");
    bad = o;
    bad.backend = static_cast<Backend>(9);
    EXPECT_ERROR(Lock("ok", bad), RL_ERR_INVALID_ARGUMENT, "rl_lock_open: ");
    std::string path = dir.path + "/junk." + (backend == Backend::shm ? "shm" : "lock");
    std::ofstream(path) << "not a lock file";
    EXPECT_ERROR(Lock("junk", o), RL_ERR_CORRUPT, "rl_lock_open: ");
}

void test_threads(Backend backend) {
    TempDir dir;
    auto o = options(backend, dir);
    Lock shared("count", o);
    long counter = 0;  // plain: only the lock protects it
    std::atomic<int> errors{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; t++) {
        threads.emplace_back([&, t] {
            try {
                std::optional<Lock> own;
                if (t % 2 == 1) {
                    own.emplace("count", o);
                }
                Lock &lock = own ? *own : shared;
                for (int i = 0; i < 5000; i++) {
                    Guard g(lock);
                    counter = counter + 1;
                }
            } catch (const ringlock::Error &) {
                errors++;
            }
        });
    }
    for (auto &th : threads) {
        th.join();
    }
    CHECK(errors == 0);
    CHECK(counter == 8 * 5000);
}

}  // namespace

int main() {
    for (Backend backend : {Backend::shm, Backend::file}) {
        check_context = backend == Backend::shm ? "shm" : "file";
        try {
            test_raii(backend);
            test_move(backend);
            test_try_and_errors(backend);
            test_threads(backend);
        } catch (const ringlock::Error &e) {
            failed++;
            std::fprintf(stderr, "FAIL [%s]: unexpected ringlock::Error %s (%s)\n", check_context, e.what(),
                         e.status_name());
        }
    }
    return check_summary("test_lock_cpp");
}
