// Tests of ringlock.hpp's bounded loads: Ring::get_bounded (agrees with get
// at zero load, passes a full owner's key on, throws on bad input) and
// LoadTracker (RAII slots, move semantics, errors, threads). Prints
// "test_bounded_cpp: N passed, N failed"; exits 1 on any failure.

#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "check.hpp"
#include "ringlock.hpp"

static_assert(!std::is_copy_constructible_v<ringlock::LoadTracker>);
static_assert(std::is_nothrow_move_constructible_v<ringlock::LoadTracker>);
static_assert(!std::is_copy_constructible_v<ringlock::LoadTracker::Slot>);

namespace {





const ringlock::Algorithm ALGORITHMS[] = {ringlock::Algorithm::ketama, ringlock::Algorithm::xxh3,
                                          ringlock::Algorithm::jump};

ringlock::Ring sample(ringlock::Algorithm algorithm) {
    ringlock::Ring ring(algorithm);
    ring.add_many({{"alpha", 1}, {"beta", 2}, {"gamma", 1}, {"delta", 1}});
    return ring;
}

std::size_t index_of(const ringlock::Ring &ring, std::string_view name) {
    auto nodes = ring.nodes();
    for (std::size_t i = 0; i < nodes.size(); i++) {
        if (nodes[i].name == name) return i;
    }
    return nodes.size();
}

// ceil(1.25 * (total + 1) / nodes), exactly: 1.25 = 5/4.
std::uint64_t cap_125(std::uint64_t total, std::uint64_t nodes) {
    return (5 * (total + 1) + 4 * nodes - 1) / (4 * nodes);
}

void test_get_bounded() {
    for (auto a : ALGORITHMS) {
        ringlock::Ring ring = sample(a);
        std::vector<std::uint64_t> zero(ring.size(), 0);
        int same = 0, passed_on = 0;
        for (int i = 0; i < 500; i++) {
            std::string key = "key-" + std::to_string(i);
            same += ring.get_bounded(key, zero) == ring.get(key);
            auto order = ring.get_n(key, 2);
            std::vector<std::uint64_t> loads(ring.size(), 1);
            loads[index_of(ring, order[0])] = 2;  // total 5, cap ceil(1.25 * 6 / 4) = 2
            loads[index_of(ring, order[1])] = 0;
            passed_on += ring.get_bounded(key, loads) == order[1];
        }
        CHECK(same == 500);
        CHECK(passed_on == 500);
    }
    ringlock::Ring ring = sample(ringlock::Algorithm::xxh3);
    std::vector<std::uint64_t> zero(ring.size(), 0);
    EXPECT_ERROR(ring.get_bounded("k", zero, 1.0), RL_ERR_INVALID_ARGUMENT, "rl_ring_get_bounded: ");
    EXPECT_ERROR(ring.get_bounded("k", zero, std::nan("")), RL_ERR_INVALID_ARGUMENT,
                 "rl_ring_get_bounded: ");
    EXPECT_ERROR(ring.get_bounded("k", std::vector<std::uint64_t>(3, 0)), RL_ERR_INVALID_ARGUMENT,
                 "rl_ring_get_bounded: ");
    ringlock::Ring empty(ringlock::Algorithm::jump);
    EXPECT_ERROR(empty.get_bounded("k", {}), RL_ERR_EMPTY_RING, "rl_ring_get_bounded: ");
}

void test_tracker() {
    ringlock::Ring ring = sample(ringlock::Algorithm::ketama);
    EXPECT_ERROR(ringlock::LoadTracker(ring, 0.9), RL_ERR_INVALID_ARGUMENT, "rl_tracker_new: ");
    EXPECT_ERROR(ringlock::LoadTracker(ringlock::Ring()), RL_ERR_EMPTY_RING, "rl_tracker_new: ");
    ringlock::LoadTracker tracker(ring);
    std::string owner(ring.get("job"));
    {
        ringlock::LoadTracker::Slot slot(tracker, "job");
        CHECK(slot.node() == owner);
        CHECK(tracker.load(owner) == 1);
    }
    CHECK(tracker.load(owner) == 0);
    EXPECT_ERROR(tracker.release(owner), RL_ERR_INVALID_ARGUMENT, "rl_tracker_release: ");
    EXPECT_ERROR(tracker.release("zeta"), RL_ERR_NOT_FOUND, "rl_tracker_release: ");
    EXPECT_ERROR(tracker.load("zeta"), RL_ERR_NOT_FOUND, "rl_tracker_load: ");
    std::string_view n = tracker.acquire("job");
    ringlock::LoadTracker moved(std::move(tracker));
    CHECK(!tracker.valid() && moved.valid());  // NOLINT(bugprone-use-after-move)
    CHECK(moved.load(n) == 1);  // names stay valid: the tracker object moved, not its state
    moved.release(n);
    CHECK(moved.load(n) == 0);
}

void test_threads() {
    ringlock::Ring ring = sample(ringlock::Algorithm::xxh3);
    ringlock::LoadTracker tracker(ring);
    std::atomic<std::uint64_t> started{0};
    std::atomic<bool> broken{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; t++) {
        threads.emplace_back([&, t] {
            std::vector<std::string_view> held;
            for (int i = 0; i < 1000; i++) {
                std::string key = "hot-" + std::to_string((i * 7 + t) % 3);
                started++;
                held.push_back(tracker.acquire(key));
                // acquisitions only: the load is within the cap of the
                // acquisitions started so far
                if (tracker.load(held.back()) > cap_125(started.load() - 1, 4)) broken = true;
            }
            for (auto n : held) tracker.release(n);
        });
    }
    for (auto &th : threads) th.join();
    CHECK(!broken.load());
    for (const auto &node : ring.nodes()) CHECK(tracker.load(node.name) == 0);
}

}  // namespace

int main() {
    test_get_bounded();
    test_tracker();
    test_threads();
    return check_summary("test_bounded_cpp");
}
