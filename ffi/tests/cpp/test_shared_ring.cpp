// Tests of ringlock.hpp's SharedRing: publish and open, answers equal to
// Ring's, a new generation taken up by the next lookup, move semantics,
// errors as ringlock::Error. Prints "test_shared_ring_cpp: N passed,
// N failed"; exits 1 on any failure.

#include <cstdio>
#include <cstdlib>
#include <string>
#include <type_traits>
#include <unistd.h>
#include <vector>

#include "check.hpp"
#include "ringlock.hpp"

static_assert(!std::is_copy_constructible_v<ringlock::SharedRing>);
static_assert(std::is_nothrow_move_constructible_v<ringlock::SharedRing>);

int main() {
    const std::string dir = "/tmp/rl-shared-cpp-" + std::to_string(getpid());
    const std::string path = dir + "/ring";
    for (auto algorithm : {ringlock::Algorithm::ketama, ringlock::Algorithm::xxh3,
                           ringlock::Algorithm::jump, ringlock::Algorithm::maglev}) {
        ringlock::Ring ring(algorithm);
        ring.add_many({{"a", 1}, {"b", 2}, {"c", 1}, {"d", 3}});
        std::uint64_t g = ringlock::SharedRing::publish(ring, path);
        ringlock::SharedRing shared(path);
        CHECK(shared.generation() == g);
        CHECK(shared.size() == 4);
        int same = 0;
        std::vector<std::uint64_t> loads{3, 0, 1, 2};
        for (int i = 0; i < 5000; i++) {
            std::string key = "key:" + std::to_string(i);
            same += shared.get(key) == ring.get(key);
            if (i % 50 == 0) {
                CHECK(shared.get_n(key, 3) == ring.get_n(key, 3));
                CHECK(shared.get_bounded(key, loads) == ring.get_bounded(key, loads));
            }
        }
        CHECK(same == 5000);
        std::vector<std::string_view> keys{"x", "y", "z"};
        CHECK(shared.get_many(keys) == ring.get_many(keys));
        auto nodes = shared.nodes();
        auto want = ring.nodes();
        CHECK(nodes.size() == want.size());
        for (std::size_t i = 0; i < nodes.size() && i < want.size(); i++) {
            CHECK(nodes[i].name == want[i].name && nodes[i].weight == want[i].weight);
        }
        // a new generation: the next lookup answers from it
        ring.add("e", 5);
        CHECK(ringlock::SharedRing::publish(ring, path) == g + 1);
        same = 0;
        for (int i = 0; i < 1000; i++) {
            std::string key = "k" + std::to_string(i);
            same += shared.get(key) == ring.get(key);
        }
        CHECK(same == 1000);
        CHECK(shared.generation() == g + 1 && shared.size() == 5);
        // moves
        ringlock::SharedRing moved(std::move(shared));
        CHECK(moved.valid() && !shared.valid());
        CHECK(moved.get("k") == ring.get("k"));
        shared = std::move(moved);
        CHECK(shared.valid() && !moved.valid());
    }
    EXPECT_ERROR(ringlock::SharedRing(dir + "/nothing"), RL_ERR_NOT_FOUND, "rl_shared_ring_open: ");
    EXPECT_ERROR(ringlock::SharedRing(std::string("a\0b", 3)), RL_ERR_INVALID_ARGUMENT, "path contains");
    {
        ringlock::Ring empty;
        ringlock::SharedRing::publish(empty, path);
        ringlock::SharedRing shared(path);
        EXPECT_ERROR(shared.get("k"), RL_ERR_EMPTY_RING, "rl_shared_ring_get: ");
    }
    std::string cmd = "rm -rf " + dir;
    if (std::system(cmd.c_str()) != 0) failed++;
    return check_summary("test_shared_ring_cpp");
}
