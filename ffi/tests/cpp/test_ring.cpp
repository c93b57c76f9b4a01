// Tests of ringlock.hpp: RAII, exceptions carrying status and message, move
// semantics, and agreement with the C API. Prints
// "test_ring_cpp: N passed, N failed"; exits 1 on any failure.

#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "check.hpp"
#include "ringlock.hpp"

static_assert(!std::is_copy_constructible_v<ringlock::Ring>);
static_assert(!std::is_copy_assignable_v<ringlock::Ring>);
static_assert(std::is_nothrow_move_constructible_v<ringlock::Ring>);
static_assert(std::is_nothrow_move_assignable_v<ringlock::Ring>);
static_assert(std::is_base_of_v<std::runtime_error, ringlock::Error>);

namespace {





ringlock::Ring sample(ringlock::Algorithm algorithm = ringlock::Algorithm::xxh3) {
    ringlock::Ring ring(algorithm);
    ring.add_many({{"alpha", 1}, {"beta", 2}, {"gamma", 1}});
    return ring;  // moved out
}

void test_errors() {
    ringlock::Ring empty(ringlock::Algorithm::ketama);
    EXPECT_ERROR(empty.get("k"), RL_ERR_EMPTY_RING, "rl_ring_get: ");
    EXPECT_ERROR(empty.get_n("k", 2), RL_ERR_EMPTY_RING, "rl_ring_get_n: ");
    EXPECT_ERROR(ringlock::Ring(ringlock::Algorithm::ketama, 5), RL_ERR_INVALID_ARGUMENT, "rl_ring_new: ");
    EXPECT_ERROR(ringlock::Ring(static_cast<ringlock::Algorithm>(99)), RL_ERR_INVALID_ARGUMENT, "rl_ring_new: ");
    ringlock::Ring ring = sample();
    std::vector<std::uint8_t> before = ring.serialize();
    EXPECT_ERROR(ring.add("alpha"), RL_ERR_ALREADY_EXISTS, "rl_ring_add: ");
    EXPECT_ERROR(ring.add(""), RL_ERR_INVALID_ARGUMENT, "rl_ring_add: ");
    EXPECT_ERROR(ring.add("x", 0), RL_ERR_INVALID_ARGUMENT, "rl_ring_add: ");
    EXPECT_ERROR(ring.add(std::string("a\0b", 3)), RL_ERR_INVALID_ARGUMENT, "node name contains a NUL");
    EXPECT_ERROR(ring.add("\xff"), RL_ERR_INVALID_ARGUMENT, "rl_ring_add: ");
    EXPECT_ERROR(ring.remove("zeta"), RL_ERR_NOT_FOUND, "rl_ring_remove: ");
    EXPECT_ERROR(ring.set_weight("alpha", 0), RL_ERR_INVALID_ARGUMENT, "rl_ring_set_weight: ");
    EXPECT_ERROR(ring.add_many({{"x", 1}, {"x", 1}}), RL_ERR_ALREADY_EXISTS, "rl_ring_add_many: ");
    CHECK(ring.serialize() == before);
    std::vector<std::uint8_t> bad = before;
    bad.pop_back();
    EXPECT_ERROR(ringlock::Ring::deserialize(bad), RL_ERR_CORRUPT, "rl_ring_deserialize: ");
    EXPECT_ERROR(ringlock::Ring::adopt(nullptr), RL_ERR_INVALID_ARGUMENT, "adopt: ");
}

void test_move_and_raii() {
    ringlock::Ring a = sample();
    const rl_ring *handle = a.handle();
    ringlock::Ring b(std::move(a));
    CHECK(!a.valid() && b.valid() && b.handle() == handle);  // NOLINT(bugprone-use-after-move)
    CHECK(b.size() == 3);
    ringlock::Ring c(ringlock::Algorithm::jump);
    c = std::move(b);  // frees c's first ring
    CHECK(!b.valid() && c.handle() == handle);  // NOLINT(bugprone-use-after-move)
    c = std::move(c);  // self-move keeps the ring
    CHECK(c.valid() && c.size() == 3);
    ringlock::Ring d = c.clone();
    CHECK(d.handle() != c.handle() && d.serialize() == c.serialize());
    d.remove("alpha");
    CHECK(c.size() == 3 && d.size() == 2 && c.contains("alpha") && !d.contains("alpha"));
    rl_ring *raw = d.release();
    CHECK(!d.valid() && rl_ring_len(raw) == 2);
    ringlock::Ring e = ringlock::Ring::adopt(raw);
    CHECK(e.size() == 2);
    for (int i = 0; i < 1000; i++) {  // no leak (valgrind, ASAN)
        ringlock::Ring r = sample(ringlock::Algorithm::ketama);
        ringlock::Ring s = r.clone();
        r = std::move(s);
    }
}

void test_lookups() {
    for (auto algorithm : {ringlock::Algorithm::ketama, ringlock::Algorithm::xxh3, ringlock::Algorithm::jump,
                           ringlock::Algorithm::maglev}) {
        ringlock::Ring ring = sample(algorithm);
        CHECK(ring.algorithm() == algorithm);
        std::vector<std::string> keys;
        for (int i = 0; i < 500; i++) keys.push_back("key-" + std::to_string(i));
        std::vector<std::string_view> views(keys.begin(), keys.end());
        std::vector<std::string_view> many = ring.get_many(views);
        int agree = 0;
        for (std::size_t i = 0; i < keys.size(); i++) {
            const char *c_owner = nullptr;
            rl_ring_get(ring.handle(), keys[i].data(), keys[i].size(), &c_owner);
            auto n = ring.get_n(keys[i], 10);
            agree += many[i] == ring.get(keys[i]) && many[i].data() == c_owner && n.size() == 3 &&
                     n[0] == many[i] && n[1] != n[0] && n[2] != n[0] && n[2] != n[1];
        }
        CHECK(agree == 500);
        CHECK(ring.get_n("k", 0).empty());
        CHECK(ring.get_many({}).empty());
        ringlock::Ring back = ringlock::Ring::deserialize(ring.serialize());
        CHECK(back.serialize() == ring.serialize() && back.get("user:1") == ring.get("user:1"));
    }
    ringlock::Ring ring(ringlock::Algorithm::xxh3);
    CHECK(ring.empty());
    std::map<std::string, int> m{{"b", 2}, {"a", 1}};
    ring.add_many(m);
    std::vector<std::pair<std::string, std::uint32_t>> v{{"c", 3}};
    ring.add_many(v);
    ring.set_weight("a", 5);
    auto nodes = ring.nodes();
    CHECK(nodes.size() == 3 && nodes[0].name == "a" && nodes[0].weight == 5 && nodes[1].name == "b" &&
          nodes[1].weight == 2 && nodes[2].name == "c" && nodes[2].weight == 3);
    CHECK(!ring.contains(std::string("a\0", 2)) && ring.contains("a"));
    CHECK(ringlock::jump_hash(42, 57) == 43 && ringlock::jump_hash(1, 0) == -1);
    CHECK(ringlock::version() == rl_version());
}

void test_maglev() {
    ringlock::Ring dflt(ringlock::Algorithm::maglev);
    CHECK(dflt.table_size() == 65537 && dflt.algorithm() == ringlock::Algorithm::maglev);
    CHECK(ringlock::Ring().table_size() == 0);
    ringlock::Ring small(rl_ring_options{RL_ALGORITHM_MAGLEV, 0, 101});
    CHECK(small.table_size() == 101 && small.algorithm() == ringlock::Algorithm::maglev);
    small.add_many({{"a", 1}, {"b", 2}});
    ringlock::Ring copy = small.clone();
    ringlock::Ring back = ringlock::Ring::deserialize(small.serialize());
    CHECK(copy.table_size() == 101 && back.table_size() == 101 && back.get("k") == small.get("k"));
    CHECK(ringlock::Ring(rl_ring_options{0, 0, 0}).algorithm() == ringlock::Algorithm::xxh3);
    EXPECT_ERROR(ringlock::Ring(rl_ring_options{RL_ALGORITHM_MAGLEV, 0, 100}), RL_ERR_INVALID_ARGUMENT,
                 "rl_ring_new_with_options: maglev table size 100 is not prime");
    EXPECT_ERROR(ringlock::Ring(rl_ring_options{RL_ALGORITHM_XXH3, 0, 101}), RL_ERR_INVALID_ARGUMENT,
                 "rl_ring_new_with_options: ");
    EXPECT_ERROR(ringlock::Ring(ringlock::Algorithm::maglev, 8), RL_ERR_INVALID_ARGUMENT, "rl_ring_new: ");
    ringlock::Ring full(rl_ring_options{RL_ALGORITHM_MAGLEV, 0, 2});
    full.add_many({{"a", 1}, {"b", 1}});
    EXPECT_ERROR(full.add("c", 1), RL_ERR_INVALID_ARGUMENT, "rl_ring_add: ");
    CHECK(full.size() == 2 && !full.contains("c"));
}

}  // namespace

int main() {
    try {
        test_errors();
        test_move_and_raii();
        test_lookups();
        test_maglev();
    } catch (const std::exception &e) {
        failed++;
        std::fprintf(stderr, "FAIL: unexpected exception: %s\n", e.what());
    }
    return check_summary("test_ring_cpp");
}
