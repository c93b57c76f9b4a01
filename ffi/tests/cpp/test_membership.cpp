// The C++ wrapper of membership (ringlock::Member, ringlock::RingWatcher)
// against a real etcd started here (ffi/tests/c/etcd_server.h): join, a
// watcher's copy and its revision, addresses, wait with and without a
// timeout, leave, moves, a destroyed Member dropping out, errors as
// exceptions; the change callback's plan equal to the rings' diff. Skipped without etcd unless RINGLOCK_REQUIRE_ETCD is set.

#ifndef _GNU_SOURCE  // g++ defines it already
#define _GNU_SOURCE
#endif
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "check.hpp"
#include "etcd_server.h"

using namespace std::chrono_literals;

namespace {

std::string nodes_of(const ringlock::Ring &ring) {
    std::string s;
    for (const ringlock::Node &n : ring.nodes()) {
        s += (s.empty() ? "" : ",") + std::string(n.name) + ":" + std::to_string(n.weight);
    }
    return s;
}

// Waits at most `within` for the watcher's ring to hold exactly `want`.
bool wait_nodes(const ringlock::RingWatcher &w, const std::string &want,
                std::chrono::milliseconds within) {
    auto until = std::chrono::steady_clock::now() + within;
    ringlock::Placement p = w.current();
    while (nodes_of(p.ring) != want) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            until - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            std::fprintf(stderr, "still [%s], want [%s]\n", nodes_of(p.ring).c_str(), want.c_str());
            return false;
        }
        auto next = w.wait(p.revision, left);
        if (!next) {
            continue;
        }
        p = std::move(*next);
    }
    return true;
}

void test_wrapper(const std::vector<std::string> &etcd) {
    ringlock::MemberOptions mo;
    mo.ttl_s = 2;
    mo.etcd_namespace = "cpptest";
    ringlock::WatcherOptions wo;
    wo.etcd_namespace = "cpptest";

    ringlock::Member a(etcd, "cpp-ring", "a", 1, "10.0.0.1:1", mo);
    CHECK(a.valid() && a.revision() > 0 && a.rejoins() == 0);
    a.check();
    EXPECT_ERROR(ringlock::Member(etcd, "cpp-ring", "a", 1, "", mo), RL_ERR_ALREADY_EXISTS,
                 "rl_member_join: ");

    ringlock::RingWatcher w(etcd, "cpp-ring", ringlock::Algorithm::maglev, wo);
    ringlock::Placement p = w.current();
    CHECK(nodes_of(p.ring) == "a:1" && p.revision == w.revision() && p.revision >= a.revision());
    CHECK(p.ring.table_size() == 65537 && p.ring.get("user:42") == "a");
    CHECK(w.addr("a") == std::optional<std::string>("10.0.0.1:1"));
    CHECK(!w.addr("zz"));
    CHECK(!w.wait(p.revision, 0ms));
    CHECK(!w.wait(p.revision, 100ms));

    {
        ringlock::Member b(etcd, "cpp-ring", "b", 2, "", mo);
        ringlock::Member moved = std::move(b);
        CHECK(!b.valid() && moved.valid());
        CHECK(wait_nodes(w, "a:1,b:2", 5000ms));
        ringlock::Ring local(ringlock::Algorithm::maglev);
        local.add("a");
        local.add("b", 2);
        ringlock::Placement both = w.current();
        int differ = 0;
        for (int i = 0; i < 1000; i++) {
            std::string key = "key-" + std::to_string(i);
            differ += local.get(key) != both.ring.get(key);
        }
        CHECK(differ == 0);
        CHECK(w.addr("b") == std::optional<std::string>(""));
    }  // ~Member frees `moved`: its lease is revoked, it drops out
    CHECK(wait_nodes(w, "a:1", 5000ms));

    std::uint64_t before = w.revision();
    a.leave();
    CHECK(!a.valid());
    auto after = w.wait(before, 5000ms);
    CHECK(after && after->revision > before && after->ring.empty());
    CHECK(p.ring.size() == 1);  // the first copy is the caller's: unchanged

    ringlock::MemberOptions ttl1 = mo;
    ttl1.ttl_s = 1;
    EXPECT_ERROR(ringlock::Member(etcd, "cpp-ring", "n", 1, "", ttl1), RL_ERR_INVALID_ARGUMENT,
                 "rl_member_join: ");
    EXPECT_ERROR(ringlock::Member(etcd, "cpp-ring", "n", 0, "", mo), RL_ERR_INVALID_ARGUMENT,
                 "rl_member_join: ");
    EXPECT_ERROR(ringlock::Member({}, "cpp-ring", "n"), RL_ERR_INVALID_ARGUMENT, "rl_member_join: ");
    EXPECT_ERROR(ringlock::RingWatcher(etcd, "a b"), RL_ERR_INVALID_ARGUMENT, "rl_ring_watcher_open: ");
    EXPECT_ERROR(w.wait(0, -1ms), RL_ERR_INVALID_ARGUMENT, "timeout");

    std::vector<std::string> nowhere{"http://127.0.0.1:" + std::to_string(etcd_free_port())};
    ringlock::WatcherOptions quick = wo;
    quick.request_timeout_ms = 300;
    EXPECT_ERROR(ringlock::RingWatcher(nowhere, "cpp-ring", {}, quick), RL_ERR_UNAVAILABLE,
                 "rl_ring_watcher_open: ");
}

// The change callback: after a member leaves, the last change removes it
// and its plan is Ring::diff of the two rings it was given.
void test_on_change(const std::vector<std::string> &etcd) {
    ringlock::MemberOptions mo;
    mo.ttl_s = 2;
    mo.etcd_namespace = "cpptest";
    ringlock::WatcherOptions wo;
    wo.etcd_namespace = "cpptest";
    struct Seen {
        std::uint64_t revision = 0;
        std::string before, after;
        std::size_t moves = 0, same = 0;
        double fraction = 0;
    };
    std::mutex mu;
    std::vector<Seen> seen;
    ringlock::RingWatcher w(etcd, "cpp-cb-ring", rl_ring_options{RL_ALGORITHM_XXH3, 0, 0}, wo,
                            [&](const rl_ring_change &c) {
                                rl_move *moves = nullptr;
                                std::size_t n = 0;
                                double fraction = -1;
                                Seen s;
                                s.revision = c.revision;
                                if (rl_ring_diff(c.before, c.after, &moves, &n, &fraction) == RL_OK) {
                                    s.moves = c.move_count;
                                    s.fraction = c.fraction;
                                    for (std::size_t i = 0; i < n && i < c.move_count; i++) {
                                        s.same += moves[i].first == c.moves[i].first &&
                                                  moves[i].last == c.moves[i].last;
                                    }
                                    s.same = n == c.move_count && fraction == c.fraction ? s.same : 0;
                                    rl_moves_free(moves);
                                }
                                for (std::size_t i = 0; i < rl_ring_len(c.after); i++) {
                                    const char *name = nullptr;
                                    std::uint32_t weight = 0;
                                    rl_ring_node(c.after, i, &name, &weight);
                                    s.after += std::string(i ? "," : "") + name;
                                }
                                std::lock_guard<std::mutex> g(mu);
                                seen.push_back(s);
                            });
    ringlock::Member x(etcd, "cpp-cb-ring", "x", 1, "", mo);
    {
        ringlock::Member y(etcd, "cpp-cb-ring", "y", 1, "", mo);
        CHECK(wait_nodes(w, "x:1,y:1", 5000ms));
        y.leave();
    }
    CHECK(wait_nodes(w, "x:1", 5000ms));
    std::uint64_t rev = w.revision();
    for (int i = 0; i < 200; i++) {
        {
            std::lock_guard<std::mutex> g(mu);
            if (!seen.empty() && seen.back().revision == rev) break;
        }
        std::this_thread::sleep_for(10ms);
    }
    std::lock_guard<std::mutex> g(mu);
    CHECK(seen.size() >= 2);
    if (!seen.empty()) {
        const Seen &last = seen.back();
        CHECK(last.revision == rev && last.after == "x");
        CHECK(last.moves > 0 && last.same == last.moves && last.fraction > 0.2 && last.fraction < 0.8);
    }
}

}  // namespace

int main() {
    int want = etcd_wanted("test_membership_cpp");
    if (want <= 0) {
        failed += want < 0;
        return check_summary("test_membership_cpp");
    }
    etcd_server etcd;
    if (!etcd_start(&etcd)) {
        failed++;
        return check_summary("test_membership_cpp");
    }
    try {
        test_wrapper({etcd.endpoint});
        test_on_change({etcd.endpoint});
    } catch (const ringlock::Error &e) {
        check_fail(__FILE__, __LINE__, e.what());
    }
    etcd_stop(&etcd);
    return check_summary("test_membership_cpp");
}
