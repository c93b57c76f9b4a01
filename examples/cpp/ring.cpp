// The cross-language placement check, C++ edition (through ringlock.hpp):
// prints exactly what core/examples/ring.rs prints.

#include <cinttypes>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "ringlock.hpp"

namespace {

const std::pair<const char *, std::uint32_t> NODES[] = {
    {"10.0.1.1:11211", 1},
    {"10.0.1.2:11211", 2},
    {"10.0.1.3:11211", 1},
    {"cache-\xce\xb1", 1},  // cache-α
    {"node-with-a-rather-long-name-01", 3},
};

// FNV-1a 64 over each owner of "key-0".."key-9999", each followed by '\n'.
std::uint64_t digest(const ringlock::Ring &ring) {
    std::uint64_t h = 0xcbf29ce484222325u;
    for (int i = 0; i < 10000; i++) {
        std::string owner(ring.get("key-" + std::to_string(i)));
        owner += '\n';
        for (unsigned char b : owner) {
            h ^= b;
            h *= 0x00000100000001b3u;
        }
    }
    return h;
}

}  // namespace

int main() {
    try {
        std::printf("# ringlock %s placement check\n", std::string(ringlock::version()).c_str());
        const std::pair<ringlock::Algorithm, const char *> algorithms[] = {
            {ringlock::Algorithm::ketama, "ketama"},
            {ringlock::Algorithm::xxh3, "xxh3"},
            {ringlock::Algorithm::jump, "jump"},
            {ringlock::Algorithm::maglev, "maglev"},
        };
        std::vector<std::pair<ringlock::Ring, const char *>> rings;
        for (const auto &[algorithm, name] : algorithms) {
            rings.emplace_back(ringlock::Ring(algorithm), name);
        }
        rings.emplace_back(ringlock::Ring(rl_ring_options{RL_ALGORITHM_MAGLEV, 0, 1009}), "maglev-1009");
        rings.emplace_back(ringlock::Ring(ringlock::Algorithm::libmemcached), "libmemcached");
        rings.emplace_back(ringlock::Ring(ringlock::Algorithm::nginx), "nginx");
        rings.emplace_back(ringlock::Ring(ringlock::Algorithm::haproxy), "haproxy");
        rings.emplace_back(ringlock::Ring(ringlock::Algorithm::libmemcached_consistent),
                           "libmemcached-consistent");
        rings.emplace_back(ringlock::Ring(ringlock::Algorithm::spymemcached), "spymemcached");
        rings.emplace_back(ringlock::Ring(ringlock::Algorithm::envoy_ring_hash), "envoy-ring-hash");
        for (auto &[ring, name] : rings) {
            for (const auto &[node, weight] : NODES) {
                ring.add(node, weight);
            }
            for (int i = 0; i < 8; i++) {
                std::string key = "user:" + std::to_string(i);
                std::string line = std::string(name) + " " + key + " " + std::string(ring.get(key)) + " ";
                bool first = true;
                for (std::string_view r : ring.get_n(key, 3)) {
                    line += (first ? "" : ",") + std::string(r);
                    first = false;
                }
                std::printf("%s\n", line.c_str());
            }
            std::printf("%s digest keys=10000 fnv1a64=%016" PRIx64 "\n", name, digest(ring));
            ring.remove("10.0.1.2:11211");
            ring.set_weight("10.0.1.3:11211", 2);
            std::printf("%s digest-after keys=10000 fnv1a64=%016" PRIx64 "\n", name, digest(ring));
        }
        std::printf("jump_hash 42 57 %" PRId32 "\n", ringlock::jump_hash(42, 57));
        std::printf("jump_hash 3735883980 666 %" PRId32 "\n", ringlock::jump_hash(0xDEAD10CCu, 666));
    } catch (const ringlock::Error &e) {
        std::fprintf(stderr, "ring_cpp: %s (%s)\n", e.what(), e.status_name());
        return 1;
    }
    return 0;
}
