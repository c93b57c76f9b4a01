// ringlock.hpp — header-only C++17 RAII wrapper over the C API in ringlock.h.
// Hand-written. Link with -lringlock, like the C API.
//
//   ringlock::Ring ring(ringlock::Algorithm::ketama);
//   ring.add("10.0.1.1:11211");
//   ring.add("10.0.1.2:11211", 2);
//   std::string_view owner = ring.get("user:42");       // borrowed, see below
//   std::vector<std::string_view> replicas = ring.get_n("user:42", 2);
//
// Errors throw ringlock::Error (a std::runtime_error) carrying the rl_status
// and the message of rl_last_error().
//
// Borrowed names: the std::string_view values returned by get, get_n,
// get_many and nodes point into the ring; they stay valid until the next
// mutation of that ring (add, add_many, remove, set_weight), its destruction
// or its being moved-from. Copy them into std::string to keep them longer.
//
// Thread safety: as the C API. const member functions may run concurrently
// from any number of threads; the others need exclusive access.

#ifndef RINGLOCK_HPP
#define RINGLOCK_HPP

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ringlock.h"

namespace ringlock {

/// The placement algorithms (values are the RL_ALGORITHM_* codes).
enum class Algorithm : rl_algorithm {
    ketama = RL_ALGORITHM_KETAMA,
    xxh3 = RL_ALGORITHM_XXH3,
    jump = RL_ALGORITHM_JUMP,
};

/// A failed call: the rl_status and the detailed message.
class Error : public std::runtime_error {
public:
    Error(rl_status status, const std::string &message)
        : std::runtime_error(message), status_(status) {}

    /// The RL_ERR_* value.
    rl_status status() const noexcept { return status_; }

    /// The name of the status ("empty ring", ...).
    const char *status_name() const noexcept { return rl_status_str(status_); }

private:
    rl_status status_;
};

namespace detail {

inline void check(rl_status status) {
    if (status != RL_OK) {
        throw Error(status, rl_last_error());
    }
}

/// A NUL-terminated copy of a node name; a NUL inside is refused as the C API
/// would refuse it, rather than silently cutting the name.
inline std::string c_name(std::string_view name) {
    if (name.find('\0') != std::string_view::npos) {
        throw Error(RL_ERR_INVALID_ARGUMENT, "node name contains a NUL byte");
    }
    return std::string(name);
}

}  // namespace detail

/// A node of a ring: its name (borrowed from the ring) and weight.
struct Node {
    std::string_view name;
    std::uint32_t weight;
};

/// The library version, e.g. "0.1.0".
inline std::string_view version() noexcept { return rl_version(); }

/// Jump consistent hash: the bucket in [0, buckets) of key; -1 if buckets <= 0.
inline std::int32_t jump_hash(std::uint64_t key, std::int32_t buckets) noexcept {
    return rl_jump_hash(key, buckets);
}

/// A consistent-hashing ring owning an rl_ring. Move-only; copy with clone().
class Ring {
public:
    /// An empty ring; vnodes 0 means the algorithm's default.
    explicit Ring(Algorithm algorithm = Algorithm::xxh3, std::uint32_t vnodes = 0) {
        detail::check(rl_ring_new(static_cast<rl_algorithm>(algorithm), vnodes, &ring_));
    }

    /// Takes ownership of a ring made by the C API (not NULL).
    static Ring adopt(rl_ring *ring) {
        if (ring == nullptr) {
            throw Error(RL_ERR_INVALID_ARGUMENT, "adopt: ring is NULL");
        }
        return Ring(ring);
    }

    ~Ring() { rl_ring_free(ring_); }

    Ring(const Ring &) = delete;
    Ring &operator=(const Ring &) = delete;

    /// Moves the ring; `other` is left empty-handed (only destruction,
    /// assignment and valid() are allowed on it).
    Ring(Ring &&other) noexcept : ring_(std::exchange(other.ring_, nullptr)) {}

    Ring &operator=(Ring &&other) noexcept {
        if (this != &other) {
            rl_ring_free(ring_);
            ring_ = std::exchange(other.ring_, nullptr);
        }
        return *this;
    }

    /// An independent copy.
    Ring clone() const {
        rl_ring *copy = nullptr;
        detail::check(rl_ring_clone(ring_, &copy));
        return Ring(copy);
    }

    void add(std::string_view name, std::uint32_t weight = 1) {
        detail::check(rl_ring_add(ring_, detail::c_name(name).c_str(), weight));
    }

    /// Adds (name, weight) pairs, all or nothing, with one rebuild.
    template <class Range>
    void add_many(const Range &nodes) {
        std::vector<std::string> names;
        std::vector<std::uint32_t> weights;
        for (const auto &[name, weight] : nodes) {
            names.push_back(detail::c_name(name));
            weights.push_back(weight);
        }
        std::vector<const char *> ptrs;
        ptrs.reserve(names.size());
        for (const auto &n : names) {
            ptrs.push_back(n.c_str());
        }
        detail::check(rl_ring_add_many(ring_, ptrs.data(), weights.data(), ptrs.size()));
    }

    void add_many(std::initializer_list<std::pair<std::string_view, std::uint32_t>> nodes) {
        add_many<decltype(nodes)>(nodes);
    }

    void remove(std::string_view name) {
        detail::check(rl_ring_remove(ring_, detail::c_name(name).c_str()));
    }

    void set_weight(std::string_view name, std::uint32_t weight) {
        detail::check(rl_ring_set_weight(ring_, detail::c_name(name).c_str(), weight));
    }

    /// The owner of `key` (borrowed: valid until the next mutation).
    std::string_view get(std::string_view key) const {
        const char *node = nullptr;
        detail::check(rl_ring_get(ring_, key.data(), key.size(), &node));
        return node;
    }

    /// Up to n distinct nodes for `key`, owner first (borrowed).
    std::vector<std::string_view> get_n(std::string_view key, std::size_t n) const {
        n = n < size() ? n : size();  // never more answers than nodes
        std::vector<const char *> nodes(n);
        std::size_t found = 0;
        detail::check(rl_ring_get_n(ring_, key.data(), key.size(), nodes.data(), n, &found));
        return std::vector<std::string_view>(nodes.begin(), nodes.begin() + found);
    }

    /// The owner of each key, in order (borrowed).
    std::vector<std::string_view> get_many(const std::vector<std::string_view> &keys) const {
        std::vector<const void *> ptrs;
        std::vector<std::size_t> lens;
        ptrs.reserve(keys.size());
        lens.reserve(keys.size());
        for (const auto &k : keys) {
            ptrs.push_back(k.data());
            lens.push_back(k.size());
        }
        std::vector<const char *> nodes(keys.size());
        detail::check(rl_ring_get_many(ring_, ptrs.data(), lens.data(), keys.size(), nodes.data()));
        return std::vector<std::string_view>(nodes.begin(), nodes.end());
    }

    /// The number of nodes.
    std::size_t size() const noexcept { return rl_ring_len(ring_); }

    bool empty() const noexcept { return size() == 0; }

    bool contains(std::string_view name) const {
        if (name.find('\0') != std::string_view::npos) {
            return false;  // no node name holds a NUL
        }
        bool found = false;
        detail::check(rl_ring_contains(ring_, std::string(name).c_str(), &found));
        return found;
    }

    Algorithm algorithm() const noexcept { return static_cast<Algorithm>(rl_ring_algorithm(ring_)); }

    /// The nodes in byte order of their names (names borrowed).
    std::vector<Node> nodes() const {
        std::vector<Node> out;
        std::size_t n = size();
        out.reserve(n);
        for (std::size_t i = 0; i < n; i++) {
            const char *name = nullptr;
            std::uint32_t weight = 0;
            detail::check(rl_ring_node(ring_, i, &name, &weight));
            out.push_back(Node{name, weight});
        }
        return out;
    }

    /// The ring as portable bytes (see rl_ring_serialize).
    std::vector<std::uint8_t> serialize() const {
        std::size_t need = 0;
        detail::check(rl_ring_serialize(ring_, nullptr, 0, &need));
        std::vector<std::uint8_t> bytes(need);
        std::size_t len = 0;
        detail::check(rl_ring_serialize(ring_, bytes.data(), bytes.size(), &len));
        bytes.resize(len);
        return bytes;
    }

    /// A ring from serialize() output; throws Error (RL_ERR_CORRUPT) otherwise.
    static Ring deserialize(const void *data, std::size_t len) {
        rl_ring *ring = nullptr;
        detail::check(rl_ring_deserialize(data, len, &ring));
        return Ring(ring);
    }

    static Ring deserialize(const std::vector<std::uint8_t> &bytes) {
        return deserialize(bytes.data(), bytes.size());
    }

    /// Whether this object holds a ring (false once moved from).
    bool valid() const noexcept { return ring_ != nullptr; }

    /// The C handle, still owned by this object.
    const rl_ring *handle() const noexcept { return ring_; }
    rl_ring *handle() noexcept { return ring_; }

    /// Gives up ownership of the C handle (free it with rl_ring_free).
    rl_ring *release() noexcept { return std::exchange(ring_, nullptr); }

private:
    explicit Ring(rl_ring *ring) noexcept : ring_(ring) {}

    rl_ring *ring_ = nullptr;
};

}  // namespace ringlock

#endif  // RINGLOCK_HPP
