// Tests of Ring::diff and Ring::position in ringlock.hpp: they agree with the
// lookups (keys move iff their position is in a range, to the range's new
// owner), the result owns its strings, and errors throw ringlock::Error.
// Prints "test_diff_cpp: N passed, N failed"; exits 1 on any failure.

#include <cstdio>
#include <cstring>
#include <string>

#include "check.hpp"
#include "ringlock.hpp"

namespace {




const ringlock::Move *range_of(const ringlock::Diff &d, std::uint64_t pos) {
    for (const auto &m : d.moves) {
        if (m.first <= pos && pos <= m.last) return &m;
    }
    return nullptr;
}

void test_exact(ringlock::Algorithm algorithm) {
    ringlock::Diff d{{}, 0.0};
    std::string keys[5000];
    std::string before_owner[5000], after_owner[5000];
    {
        ringlock::Ring before(algorithm);
        before.add_many({{"a", 1}, {"b", 2}, {"c", 1}});
        ringlock::Ring after = before.clone();
        after.add("d", 2);
        after.remove("a");
        for (int i = 0; i < 5000; i++) {
            keys[i] = "key:" + std::to_string(i);
            before_owner[i] = before.get(keys[i]);
            after_owner[i] = after.get(keys[i]);
            CHECK(before.position(keys[i]) == after.position(keys[i]));
        }
        d = before.diff(after);
        int wrong = 0, moved = 0;
        for (int i = 0; i < 5000; i++) {
            const ringlock::Move *m = range_of(d, before.position(keys[i]));
            if (m) {
                moved++;
                if (*m->old_node != before_owner[i] || *m->new_node != after_owner[i]) wrong++;
            } else if (before_owner[i] != after_owner[i]) {
                wrong++;
            }
        }
        CHECK(wrong == 0);
        CHECK(moved > 0);
        CHECK(d.fraction > 0.2 && d.fraction < 0.8);
    }
    // The rings are gone; the diff owns its strings.
    bool named = !d.moves.empty();
    for (const auto &m : d.moves) named = named && m.old_node && m.new_node && *m.old_node != *m.new_node;
    CHECK(named);
}

void test_edges_and_errors() {
    ringlock::Ring empty(ringlock::Algorithm::xxh3);
    ringlock::Ring one(ringlock::Algorithm::xxh3);
    one.add("x");
    ringlock::Diff d = empty.diff(one);
    CHECK(d.fraction == 1.0 && !d.moves.empty() && !d.moves[0].old_node && *d.moves[0].new_node == "x");
    CHECK(one.diff(one).moves.empty());
    ringlock::Ring k(ringlock::Algorithm::ketama);
    ringlock::Ring j(ringlock::Algorithm::jump);
    EXPECT_ERROR(one.diff(k), RL_ERR_INVALID_ARGUMENT, "rl_ring_diff: ");
    EXPECT_ERROR(j.diff(j), RL_ERR_INVALID_ARGUMENT, "rl_ring_diff: ");
    EXPECT_ERROR(j.position("k"), RL_ERR_INVALID_ARGUMENT, "rl_ring_position: ");
    CHECK(k.position("") == 0xd98c1dd4u);
}

}  // namespace

int main() {
    test_exact(ringlock::Algorithm::ketama);
    test_exact(ringlock::Algorithm::xxh3);
    test_edges_and_errors();
    return check_summary("test_diff_cpp");
}
