// ringlock.hpp — header-only C++17 RAII wrapper over the C API in ringlock.h.
// Hand-written. Link with -lringlock, like the C API.
//
// Placement:
//
//   ringlock::Ring ring(ringlock::Algorithm::ketama);
//   ring.add("10.0.1.1:11211");
//   ring.add("10.0.1.2:11211", 2);
//   std::string_view owner = ring.get("user:42");       // borrowed, see below
//   std::vector<std::string_view> replicas = ring.get_n("user:42", 2);
//   ring.get_bounded("user:42", loads);                  // loads[i]: nodes()[i]'s
//   ringlock::LoadTracker tracker(ring);                 // or let it count them
//   ringlock::Diff plan = ring.diff(bigger);             // ranges whose owner changes
//
// Named locks between processes (docs/locks.md), on this host or on etcd
// (docs/distributed.md):
//
//   ringlock::Lock lock("jobs");                           // shm, /dev/shm/ringlock-<uid>/
//   {
//       ringlock::Guard guard(lock);                       // exclusive, waits for ever
//       write_with_fence(guard.hold().token);
//   }                                                      // released here
//   if (auto hold = lock.try_acquire(ringlock::Mode::shared)) { ...; lock.release(); }
//   lock.acquire(ringlock::Mode::exclusive, std::chrono::milliseconds(50));  // or throws
//
//   ringlock::Lock jobs("jobs", ringlock::Options::etcd({"http://10.0.0.1:2379"}, 5));
//   {
//       ringlock::Guard guard(jobs);                       // exclusive only on etcd
//       guard.check();                                     // throws RL_ERR_LOST once lost
//       write_with_fence(guard.hold().token);
//       guard.release();                                   // reports RL_ERR_LOST too
//   }
//
// Errors throw ringlock::Error (a std::runtime_error) carrying the rl_status
// and the message of rl_last_error(): a timeout is status() == RL_ERR_TIMEOUT,
// a failed try RL_ERR_WOULD_BLOCK (try_acquire returns std::nullopt instead);
// on etcd also RL_ERR_UNAVAILABLE (etcd not answering in time) and
// RL_ERR_LOST (the hold's lease expired: another may hold the lock now).
//
// Borrowed names: the std::string_view values returned by get, get_n,
// get_many and nodes point into the ring; they stay valid until the next
// mutation of that ring (add, add_many, remove, set_weight), its destruction
// or its being moved-from. Copy them into std::string to keep them longer.
//
// Thread safety: as the C API. Ring: const member functions may run
// concurrently from any number of threads; the others need exclusive access.
// Lock: acquire, try_acquire, release, check, status and waiters may run
// concurrently from any number of threads on one Lock (threads sharing a
// local Lock take turns holding it; an etcd Lock refuses a second acquisition
// with RL_ERR_DEADLOCK); moving, assigning and destroying need exclusive
// access.

#ifndef RINGLOCK_HPP
#define RINGLOCK_HPP

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
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
    maglev = RL_ALGORITHM_MAGLEV,
    /// Client profile: libmemcached's weighted ketama (docs/placement.md).
    libmemcached = RL_ALGORITHM_LIBMEMCACHED,
    /// Client profile: nginx's `hash $key consistent` (docs/placement.md).
    nginx = RL_ALGORITHM_NGINX,
    /// Client profiles: twemproxy's ketama with each of its key hashes.
    twemproxy = RL_ALGORITHM_TWEMPROXY,
    twemproxy_md5 = RL_ALGORITHM_TWEMPROXY_MD5,
    twemproxy_one_at_a_time = RL_ALGORITHM_TWEMPROXY_ONE_AT_A_TIME,
    twemproxy_murmur = RL_ALGORITHM_TWEMPROXY_MURMUR,
    twemproxy_crc32 = RL_ALGORITHM_TWEMPROXY_CRC32,
    twemproxy_crc32a = RL_ALGORITHM_TWEMPROXY_CRC32A,
    /// Client profile: HAProxy's `hash-type consistent` (docs/placement.md).
    haproxy = RL_ALGORITHM_HAPROXY,
    /// Client profiles: libmemcached's plain ketama, one-at-a-time or MD5 keys.
    libmemcached_consistent = RL_ALGORITHM_LIBMEMCACHED_CONSISTENT,
    libmemcached_consistent_md5 = RL_ALGORITHM_LIBMEMCACHED_CONSISTENT_MD5,
    /// Client profile: spymemcached's `KetamaNodeLocator` (docs/placement.md).
    spymemcached = RL_ALGORITHM_SPYMEMCACHED,
    /// Client profile: Envoy's `ring_hash` (docs/placement.md).
    envoy_ring_hash = RL_ALGORITHM_ENVOY_RING_HASH,
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

/// A range of key positions [first, last] (last included) whose owner
/// changes, named as rl_move and Rust's Move name them (Python's Move is
/// half-open: start = first, end = last + 1); old_node / new_node are empty
/// when that ring is empty. See Ring::diff and rl_ring_diff.
struct Move {
    std::uint64_t first;
    std::uint64_t last;
    std::optional<std::string> old_node;
    std::optional<std::string> new_node;
};

/// A migration plan: the ranges sorted by first, and the share of the
/// position space that moves.
struct Diff {
    std::vector<Move> moves;
    double fraction;
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

    /// An empty ring as `options` says (algorithm, vnodes, maglev's table
    /// size; zeros mean defaults), e.g. `Ring({RL_ALGORITHM_MAGLEV, 0, 101})`.
    explicit Ring(const rl_ring_options &options) {
        detail::check(rl_ring_new_with_options(&options, &ring_));
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

    /// The node that takes `key` under bounded loads (borrowed): the first
    /// node in the key's ring order whose load is below
    /// ceil(factor * (sum of loads + 1) / size()); loads[i] is the load of
    /// nodes()[i]. See rl_ring_get_bounded.
    std::string_view get_bounded(std::string_view key, const std::vector<std::uint64_t> &loads,
                                 double factor = 1.25) const {
        const char *node = nullptr;
        detail::check(rl_ring_get_bounded(ring_, key.data(), key.size(), loads.data(),
                                          loads.size(), factor, &node));
        return node;
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

    /// Maglev's number of table entries (a prime); 0 for the other algorithms.
    std::uint32_t table_size() const noexcept { return rl_ring_table_size(ring_); }

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

    /// The key's position in the space of diff() (see rl_ring_position);
    /// throws Error (RL_ERR_INVALID_ARGUMENT) for jump.
    std::uint64_t position(std::string_view key) const {
        std::uint64_t pos = 0;
        detail::check(rl_ring_position(ring_, key.data(), key.size(), &pos));
        return pos;
    }

    /// The ranges whose owner changes from this ring to `after` (see
    /// rl_ring_diff); owns its strings. Throws Error (RL_ERR_INVALID_ARGUMENT)
    /// when the algorithms differ or for jump.
    Diff diff(const Ring &after) const {
        rl_move *moves = nullptr;
        std::size_t count = 0;
        Diff out{{}, 0.0};
        detail::check(rl_ring_diff(ring_, after.ring_, &moves, &count, &out.fraction));
        struct Free {
            rl_move *p;
            ~Free() { rl_moves_free(p); }
        } guard{moves};
        out.moves.reserve(count);
        auto str = [](const char *s) { return s ? std::optional<std::string>(s) : std::nullopt; };
        for (std::size_t i = 0; i < count; i++) {
            out.moves.push_back(
                Move{moves[i].first, moves[i].last, str(moves[i].old_node), str(moves[i].new_node)});
        }
        return out;
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

/// A load tracker owning an rl_tracker: bounded-load placement with the
/// loads counted for you, over a copy of a ring taken at construction.
/// Move-only. acquire, release and load may run concurrently from any number
/// of threads on one tracker; moving and destroying need exclusive access.
/// Names it returns are borrowed from the tracker: valid until it is
/// destroyed or moved from.
///
///   ringlock::LoadTracker tracker(ring);          // factor 1.25
///   {
///       ringlock::LoadTracker::Slot slot(tracker, "job:42");
///       run_on(slot.node());
///   }                                             // released here
class LoadTracker {
public:
    explicit LoadTracker(const Ring &ring, double factor = 1.25) {
        detail::check(rl_tracker_new(ring.handle(), factor, &tracker_));
    }

    LoadTracker(const LoadTracker &) = delete;
    LoadTracker &operator=(const LoadTracker &) = delete;
    LoadTracker(LoadTracker &&other) noexcept : tracker_(std::exchange(other.tracker_, nullptr)) {}
    LoadTracker &operator=(LoadTracker &&other) noexcept {
        if (this != &other) {
            rl_tracker_free(tracker_);
            tracker_ = std::exchange(other.tracker_, nullptr);
        }
        return *this;
    }
    ~LoadTracker() { rl_tracker_free(tracker_); }

    /// Takes a slot for `key` on the node bounded-load placement chooses and
    /// returns that node (borrowed). Pair with release(node).
    std::string_view acquire(std::string_view key) {
        const char *node = nullptr;
        detail::check(rl_tracker_acquire(tracker_, key.data(), key.size(), &node));
        return node;
    }

    /// Gives back a slot of `node`; throws Error (RL_ERR_NOT_FOUND for an
    /// unknown node, RL_ERR_INVALID_ARGUMENT if it holds no slot).
    void release(std::string_view node) {
        detail::check(rl_tracker_release(tracker_, detail::c_name(node).c_str()));
    }

    /// The slots `node` holds now.
    std::uint64_t load(std::string_view node) const {
        std::uint64_t load = 0;
        detail::check(rl_tracker_load(tracker_, detail::c_name(node).c_str(), &load));
        return load;
    }

    /// A slot held for the lifetime of the object (RAII): acquired by the
    /// constructor, released by the destructor. Neither copied nor moved.
    class Slot {
    public:
        Slot(LoadTracker &tracker, std::string_view key)
            : tracker_(tracker), node_(tracker.acquire(key)) {}
        Slot(const Slot &) = delete;
        Slot &operator=(const Slot &) = delete;
        ~Slot() { (void)rl_tracker_release(tracker_.tracker_, node_.data()); }

        /// The node holding the slot (borrowed from the tracker; NUL-terminated).
        std::string_view node() const noexcept { return node_; }

    private:
        LoadTracker &tracker_;
        std::string_view node_;
    };

    /// Whether this object holds a tracker (false once moved from).
    bool valid() const noexcept { return tracker_ != nullptr; }

private:
    rl_tracker *tracker_ = nullptr;
};

// ---- locks ----------------------------------------------------------------------

/// Exclusive (write) or shared (read); values are the RL_MODE_* codes.
enum class Mode : rl_mode {
    exclusive = RL_MODE_EXCLUSIVE,
    shared = RL_MODE_SHARED,
};

/// Where a lock's state lives; values are the RL_BACKEND_* codes.
enum class Backend : rl_backend {
    shm = RL_BACKEND_SHM,    ///< atomics + futex in a mapped page (the default)
    file = RL_BACKEND_FILE,  ///< flock(2): freed by the kernel, works across containers
    etcd = RL_BACKEND_ETCD,  ///< etcd v3: across hosts; exclusive only for now
};

/// How a recorded holder's process is doing; values are RL_LIVENESS_*.
enum class Liveness : rl_liveness {
    alive = RL_LIVENESS_ALIVE,
    stopped = RL_LIVENESS_STOPPED,
    dead = RL_LIVENESS_DEAD,
};

/// How to open a lock (see rl_lock_options). dir and file_mode are for the
/// local backends, the rest for etcd; a field of the other group left at its
/// default is fine, one set is refused (RL_ERR_INVALID_ARGUMENT).
struct Options {
    Backend backend = Backend::shm;
    /// The lock directory; std::nullopt for /dev/shm/ringlock-<uid>/.
    std::optional<std::string> dir;
    /// Permission bits of a lock file the open creates; 0 means 0600.
    std::uint32_t file_mode = 0;
    /// etcd: the client URLs, http://host:port (at least one).
    std::vector<std::string> endpoints;
    /// etcd: the lease TTL in seconds; 0 means 10, 1 is refused.
    std::uint32_t ttl_s = 0;
    /// etcd: the key prefix; std::nullopt for "ringlock".
    std::optional<std::string> etcd_namespace;
    /// etcd: the bound of each request in milliseconds; 0 means 5000.
    std::uint32_t request_timeout_ms = 0;

    /// The etcd backend at `endpoints`, with a TTL of `ttl_s` (0: 10 s).
    static Options etcd(std::vector<std::string> endpoints, std::uint32_t ttl_s = 0) {
        Options o;
        o.backend = Backend::etcd;
        o.endpoints = std::move(endpoints);
        o.ttl_s = ttl_s;
        return o;
    }
};

/// What an acquisition gives (see rl_hold).
struct Hold {
    /// Exclusive: this acquisition's fencing token. Shared: the last one's.
    std::uint64_t token = 0;
    /// A holder died without releasing since the last exclusive acquisition.
    bool previous_owner_died = false;
    Mode mode = Mode::exclusive;
};

/// One holder, as status() sees it (see rl_holder).
struct Holder {
    std::uint32_t pid = 0;
    Mode mode = Mode::exclusive;
    std::uint64_t since_ms = 0;  ///< milliseconds since the Unix epoch
    std::uint64_t token = 0;
    Liveness liveness = Liveness::alive;
};

/// Who holds a lock (see rl_lock_status).
struct Status {
    std::uint64_t token = 0;  ///< the last fencing token handed out
    std::vector<Holder> holders;
};

/// A holder or waiter of an etcd lock, with what only etcd knows (see
/// rl_etcd_holder).
struct EtcdHolder {
    Holder holder;
    std::string host;                 ///< the host name its process recorded
    std::int64_t lease_left_ms = -1;  ///< its lease's time left; -1: gone or unknown
};

/// Who holds an etcd lock, with hosts and leases (see rl_lock_etcd_status).
struct EtcdStatus {
    std::uint64_t token = 0;  ///< the last confirmed exclusive hold's token
    std::vector<EtcdHolder> holders;
};

namespace detail {

inline Hold hold_of(const rl_hold &h) noexcept {
    return Hold{h.token, h.previous_owner_died, static_cast<Mode>(h.mode)};
}

inline Holder holder_of(const rl_holder &h) noexcept {
    return Holder{h.pid, static_cast<Mode>(h.mode), h.since_ms, h.token, static_cast<Liveness>(h.liveness)};
}

inline EtcdHolder holder_of(const rl_etcd_holder &h) {
    return EtcdHolder{holder_of(h.holder), std::string(h.host), h.lease_left_ms};
}

/// A size query, then a read into a buffer with room for a few newcomers,
/// asked again while the list outgrew it meanwhile. `read(buf, cap, &n)` is
/// one call of the C function; `R` is its record type.
template <typename R, typename Read>
std::vector<R> read_list(Read read) {
    for (int attempt = 0;; attempt++) {
        std::size_t n = 0;
        check(read(nullptr, 0, &n));
        std::vector<R> buf(n + 4);
        rl_status s = read(buf.data(), buf.size(), &n);
        if (s == RL_ERR_INVALID_ARGUMENT && attempt < 10) {
            continue;  // the list outgrew the buffer meanwhile: ask again
        }
        check(s);
        buf.resize(n);
        return buf;
    }
}

/// A C string without an inner NUL, which the C API could not see.
inline std::string c_string(std::string s, const char *what) {
    if (s.find('\0') != std::string::npos) {
        throw Error(RL_ERR_INVALID_ARGUMENT, std::string(what) + " contains a NUL byte");
    }
    return s;
}

/// timeout_ms of rl_lock_acquire: -1 for std::nullopt; a negative duration
/// is refused rather than read as "for ever".
inline std::int64_t timeout_ms(std::optional<std::chrono::milliseconds> timeout) {
    if (!timeout) {
        return -1;
    }
    if (timeout->count() < 0) {
        throw Error(RL_ERR_INVALID_ARGUMENT, "timeout is negative");
    }
    return static_cast<std::int64_t>(timeout->count());
}

}  // namespace detail

/// A handle on a ring published into a file (rl_shared_ring), mapped
/// read-only and looked up in place. Move-only; closes on destruction.
///
/// Every call may switch the handle to a newer generation (the first lookup
/// after a publish does), so one thread at a time uses a SharedRing; open one
/// per thread. Names returned (string_view) live in the mapping: valid until
/// the next call on the same SharedRing or its destruction. Copy them
/// (std::string) to keep them longer.
class SharedRing {
public:
    /// Publishes `ring` at `path` (a bare name: in /dev/shm/ringlock-<uid>/);
    /// returns the new generation. Throws Error (see rl_shared_ring_publish).
    static std::uint64_t publish(const Ring &ring, const std::string &path) {
        std::uint64_t generation = 0;
        detail::check(rl_shared_ring_publish(ring.handle(),
                                             detail::c_string(path, "path").c_str(), &generation));
        return generation;
    }

    /// Opens the ring published at `path`. Throws Error: RL_ERR_NOT_FOUND,
    /// RL_ERR_CORRUPT, RL_ERR_INVALID_ARGUMENT, RL_ERR_IO.
    explicit SharedRing(const std::string &path) {
        detail::check(rl_shared_ring_open(detail::c_string(path, "path").c_str(), &ring_));
    }

    ~SharedRing() { rl_shared_ring_close(ring_); }

    SharedRing(const SharedRing &) = delete;
    SharedRing &operator=(const SharedRing &) = delete;

    /// Moves the handle; `other` is left empty-handed.
    SharedRing(SharedRing &&other) noexcept : ring_(std::exchange(other.ring_, nullptr)) {}

    SharedRing &operator=(SharedRing &&other) noexcept {
        if (this != &other) {
            rl_shared_ring_close(ring_);
            ring_ = std::exchange(other.ring_, nullptr);
        }
        return *this;
    }

    /// The owner of `key` in the newest generation (valid until the next call).
    std::string_view get(std::string_view key) {
        const char *node = nullptr;
        detail::check(rl_shared_ring_get(ring_, key.data(), key.size(), &node));
        return node;
    }

    /// Up to n distinct nodes for `key`, owner first (valid until the next call).
    std::vector<std::string_view> get_n(std::string_view key, std::size_t n) {
        std::size_t count = size();
        n = n < count ? n : count;
        std::vector<const char *> nodes(n);
        std::size_t found = 0;
        detail::check(rl_shared_ring_get_n(ring_, key.data(), key.size(), nodes.data(), n, &found));
        return std::vector<std::string_view>(nodes.begin(), nodes.begin() + found);
    }

    /// The owner of each key, all from one generation (valid until the next call).
    std::vector<std::string_view> get_many(const std::vector<std::string_view> &keys) {
        std::vector<const void *> ptrs;
        std::vector<std::size_t> lens;
        ptrs.reserve(keys.size());
        lens.reserve(keys.size());
        for (const auto &k : keys) {
            ptrs.push_back(k.data());
            lens.push_back(k.size());
        }
        std::vector<const char *> nodes(keys.size());
        detail::check(
            rl_shared_ring_get_many(ring_, ptrs.data(), lens.data(), keys.size(), nodes.data()));
        return std::vector<std::string_view>(nodes.begin(), nodes.end());
    }

    /// The node that takes `key` under bounded loads; loads[i] is the load of
    /// nodes()[i] (valid until the next call). See rl_shared_ring_get_bounded.
    std::string_view get_bounded(std::string_view key, const std::vector<std::uint64_t> &loads,
                                 double factor = 1.25) {
        const char *node = nullptr;
        detail::check(rl_shared_ring_get_bounded(ring_, key.data(), key.size(), loads.data(),
                                                 loads.size(), factor, &node));
        return node;
    }

    /// The generation the handle answers from (taking up a newer one first).
    std::uint64_t generation() {
        std::uint64_t g = 0;
        detail::check(rl_shared_ring_generation(ring_, &g));
        return g;
    }

    /// The number of nodes (taking up a newer generation first).
    std::size_t size() {
        std::size_t n = 0;
        detail::check(rl_shared_ring_node_count(ring_, &n));
        return n;
    }

    /// The nodes of the generation held, in byte order of the names (valid
    /// until the next call).
    std::vector<Node> nodes() {
        std::size_t n = size();
        std::vector<Node> out;
        out.reserve(n);
        for (std::size_t i = 0; i < n; i++) {
            const char *name = nullptr;
            std::uint32_t weight = 0;
            detail::check(rl_shared_ring_node(ring_, i, &name, &weight));
            out.push_back(Node{name, weight});
        }
        return out;
    }

    /// Whether this object holds a handle (false once moved from).
    bool valid() const noexcept { return ring_ != nullptr; }

    /// The C handle, still owned by this object.
    rl_shared_ring *handle() noexcept { return ring_; }

private:
    rl_shared_ring *ring_ = nullptr;
};

/// A handle on a named lock, owning an rl_lock. Move-only. Destroying it
/// releases a hold of this process (rl_lock_close).
///
/// acquire, try_acquire, release and status may run concurrently from several
/// threads on one Lock; moving, assigning and destroying need exclusive access.
class Lock {
public:
    /// Opens (creating if needed) the lock `name`: [A-Za-z0-9._-]{1,200}.
    /// On etcd this connects (or joins the process's connection with the same
    /// options); throws Error with RL_ERR_UNAVAILABLE when etcd does not answer.
    explicit Lock(std::string name, const Options &options = {}) {
        name = detail::c_string(std::move(name), "lock name");
        std::optional<std::string> dir, ns;
        if (options.dir) {
            dir = detail::c_string(*options.dir, "lock directory");
        }
        if (options.etcd_namespace) {
            ns = detail::c_string(*options.etcd_namespace, "etcd namespace");
        }
        std::vector<std::string> endpoints;
        std::vector<const char *> endpoint_ptrs;
        endpoints.reserve(options.endpoints.size());
        for (const std::string &e : options.endpoints) {
            endpoints.push_back(detail::c_string(e, "etcd endpoint"));
            endpoint_ptrs.push_back(endpoints.back().c_str());
        }
        rl_lock_options o{};
        o.backend = static_cast<rl_backend>(options.backend);
        o.dir = dir ? dir->c_str() : nullptr;
        o.file_mode = options.file_mode;
        o.endpoints = endpoint_ptrs.empty() ? nullptr : endpoint_ptrs.data();
        o.endpoint_count = endpoint_ptrs.size();
        o.ttl_s = options.ttl_s;
        o.etcd_namespace = ns ? ns->c_str() : nullptr;
        o.request_timeout_ms = options.request_timeout_ms;
        detail::check(rl_lock_open(name.c_str(), &o, &lock_));
    }

    ~Lock() { rl_lock_close(lock_); }

    Lock(const Lock &) = delete;
    Lock &operator=(const Lock &) = delete;

    /// Moves the handle (and a hold through it); `other` is left empty-handed
    /// (only destruction, assignment and valid() are allowed on it).
    Lock(Lock &&other) noexcept : lock_(std::exchange(other.lock_, nullptr)) {}

    Lock &operator=(Lock &&other) noexcept {
        if (this != &other) {
            rl_lock_close(lock_);
            lock_ = std::exchange(other.lock_, nullptr);
        }
        return *this;
    }

    /// Acquires in `mode`; waits for ever with std::nullopt, else at most
    /// `timeout` (0: a single try). Throws Error: RL_ERR_TIMEOUT,
    /// RL_ERR_WOULD_BLOCK (timeout 0), RL_ERR_DEADLOCK (this thread holds it
    /// through this Lock already; on etcd: any thread), RL_ERR_INVALID_ARGUMENT
    /// (negative timeout; shared mode on etcd), on etcd RL_ERR_UNAVAILABLE and
    /// RL_ERR_LOST (the lease expired while waiting).
    Hold acquire(Mode mode = Mode::exclusive,
                 std::optional<std::chrono::milliseconds> timeout = std::nullopt) {
        rl_hold h{};
        detail::check(rl_lock_acquire(lock_, static_cast<rl_mode>(mode), detail::timeout_ms(timeout), &h));
        return detail::hold_of(h);
    }

    /// A single try: std::nullopt if the lock is held elsewhere; throws Error
    /// on anything else (RL_ERR_DEADLOCK included).
    std::optional<Hold> try_acquire(Mode mode = Mode::exclusive) {
        rl_hold h{};
        rl_status s = rl_lock_acquire(lock_, static_cast<rl_mode>(mode), 0, &h);
        if (s == RL_ERR_WOULD_BLOCK) {
            return std::nullopt;
        }
        detail::check(s);
        return detail::hold_of(h);
    }

    /// Releases the hold (from any thread of this process); throws Error
    /// (RL_ERR_INVALID_ARGUMENT) when nothing is held through this Lock, on
    /// etcd RL_ERR_LOST when the hold had been lost (nothing is held after).
    void release() { detail::check(rl_lock_release(lock_)); }

    /// Returns if this Lock holds and the hold is not known lost (rl_lock_check);
    /// throws Error: RL_ERR_INVALID_ARGUMENT (not held), on etcd RL_ERR_LOST
    /// (lost for good: release, then acquire again) or RL_ERR_UNAVAILABLE.
    void check() const { detail::check(rl_lock_check(lock_)); }

    /// Who holds the lock, read without taking it (on etcd any number of
    /// readers).
    Status status() const {
        Status st;
        std::uint64_t token = 0;
        auto read = [&](rl_holder *buf, std::size_t cap, std::size_t *n) {
            return rl_lock_status(lock_, &token, buf, cap, n);
        };
        for (const rl_holder &h : detail::read_list<rl_holder>(read)) {
            st.holders.push_back(detail::holder_of(h));
        }
        st.token = token;
        return st;
    }

    /// The acquisitions waiting, in the order they will hold (etcd; always
    /// empty for the local backends, which do not record waiters).
    std::vector<Holder> waiters() const {
        std::vector<Holder> out;
        auto read = [&](rl_holder *buf, std::size_t cap, std::size_t *n) {
            return rl_lock_waiters(lock_, buf, cap, n);
        };
        for (const rl_holder &h : detail::read_list<rl_holder>(read)) {
            out.push_back(detail::holder_of(h));
        }
        return out;
    }

    /// etcd only: the holders with their hosts and leases' time left
    /// (rl_lock_etcd_status); throws Error RL_ERR_INVALID_ARGUMENT on a
    /// local lock.
    EtcdStatus etcd_status() const {
        EtcdStatus st;
        std::uint64_t token = 0;
        auto read = [&](rl_etcd_holder *buf, std::size_t cap, std::size_t *n) {
            return rl_lock_etcd_status(lock_, &token, buf, cap, n);
        };
        for (const rl_etcd_holder &h : detail::read_list<rl_etcd_holder>(read)) {
            st.holders.push_back(detail::holder_of(h));
        }
        st.token = token;
        return st;
    }

    /// etcd only: the waiters, in order, with their hosts and leases' time
    /// left (rl_lock_etcd_waiters); throws as etcd_status().
    std::vector<EtcdHolder> etcd_waiters() const {
        std::vector<EtcdHolder> out;
        auto read = [&](rl_etcd_holder *buf, std::size_t cap, std::size_t *n) {
            return rl_lock_etcd_waiters(lock_, buf, cap, n);
        };
        for (const rl_etcd_holder &h : detail::read_list<rl_etcd_holder>(read)) {
            out.push_back(detail::holder_of(h));
        }
        return out;
    }

    /// Whether this object holds a handle (false once moved from).
    bool valid() const noexcept { return lock_ != nullptr; }

    /// The C handle, still owned by this object.
    const rl_lock *handle() const noexcept { return lock_; }
    rl_lock *handle() noexcept { return lock_; }

private:
    rl_lock *lock_ = nullptr;
};

/// Holds a lock for a scope: acquires in the constructor (throwing Error as
/// Lock::acquire does, in which case nothing is held), releases in the
/// destructor — on scope exit and on exception alike. The Lock must outlive
/// the Guard; it may be moved meanwhile (the Guard keeps the C handle).
/// Neither copyable nor movable, like std::lock_guard.
class Guard {
public:
    explicit Guard(Lock &lock, Mode mode = Mode::exclusive,
                   std::optional<std::chrono::milliseconds> timeout = std::nullopt)
        : handle_(lock.handle()), hold_(lock.acquire(mode, timeout)) {}

    /// Releases unless release() did; a failure cannot be reported from a
    /// destructor and is ignored.
    ~Guard() {
        if (!released_) {
            (void)rl_lock_release(handle_);
        }
    }

    Guard(const Guard &) = delete;
    Guard &operator=(const Guard &) = delete;

    /// What the acquisition gave (token, previous_owner_died, mode).
    const Hold &hold() const noexcept { return hold_; }

    /// Throws Error (RL_ERR_LOST on etcd) unless the hold is intact: see
    /// Lock::check.
    void check() const { detail::check(rl_lock_check(handle_)); }

    /// Releases now, reporting a failure (RL_ERR_LOST: the hold had been lost
    /// before); the destructor then does nothing. Call it at most once.
    void release() {
        released_ = true;
        detail::check(rl_lock_release(handle_));
    }

private:
    rl_lock *handle_;
    Hold hold_;
    bool released_ = false;
};


// ---- membership rings in etcd (docs/distributed.md, "Membership") ----------
//
//   std::vector<std::string> etcd{"http://10.0.0.1:2379"};
//   ringlock::Member me(etcd, "cache", "node-1", 1, "10.0.0.1:11211");  // joins
//   ringlock::RingWatcher watcher(etcd, "cache", ringlock::Algorithm::ketama);
//   ringlock::Placement p = watcher.current();           // a copy: p.ring, p.revision
//   std::string_view owner = p.ring.get("user:42");
//   if (auto next = watcher.wait(p.revision, std::chrono::seconds(5))) { ... }
//   std::optional<std::string> where = watcher.addr(owner);
//   me.leave();                                          // or let ~Member free it
//
// Member: check, revision and rejoins may run concurrently from any number of
// threads; leave, moving and destroying need exclusive access. RingWatcher:
// current, revision, wait and addr may run concurrently (wait blocks only its
// thread); moving and destroying need exclusive access (no wait running).
// Errors throw Error: RL_ERR_INVALID_ARGUMENT, RL_ERR_ALREADY_EXISTS (the node
// is a member already), RL_ERR_UNAVAILABLE (etcd did not answer in time),
// RL_ERR_LOST (Member::check: the lease expired).

/// How a Member joins (see rl_member_options).
struct MemberOptions {
    /// The lease TTL in seconds; 0 means 10, 1 is refused.
    std::uint32_t ttl_s = 0;
    /// The key prefix; std::nullopt for "ringlock".
    std::optional<std::string> etcd_namespace;
    /// The bound of each request in milliseconds; 0 means 5000.
    std::uint32_t request_timeout_ms = 0;
};

/// How a RingWatcher reaches etcd (see rl_ring_watcher_options).
struct WatcherOptions {
    /// The members' key prefix; std::nullopt for "ringlock".
    std::optional<std::string> etcd_namespace;
    /// The bound of each list request in milliseconds; 0 means 5000.
    std::uint32_t request_timeout_ms = 0;
    /// Events this close together (ms) build one ring; 0 means 10.
    std::uint32_t coalesce_ms = 0;
};

namespace detail {

/// The endpoints as the C API takes them: an array of C strings, alive as
/// long as this object.
class Endpoints {
public:
    explicit Endpoints(std::vector<std::string> endpoints) : strings_(std::move(endpoints)) {
        for (std::string &e : strings_) {
            e = c_string(std::move(e), "endpoint");
            pointers_.push_back(e.c_str());
        }
    }
    const char *const *data() const noexcept { return pointers_.data(); }
    std::size_t size() const noexcept { return pointers_.size(); }

private:
    std::vector<std::string> strings_;
    std::vector<const char *> pointers_;
};

}  // namespace detail

/// A node registered in a membership ring in etcd, owning an rl_member.
/// Move-only. The constructor joins; leave() leaves; destroying a Member
/// that has not left frees it, which revokes its lease (it drops out).
class Member {
public:
    /// Joins `node` with `weight` and `addr` to `ring` (rl_member_join).
    Member(std::vector<std::string> endpoints, std::string ring, std::string node,
           std::uint32_t weight = 1, std::string addr = "", const MemberOptions &options = {}) {
        detail::Endpoints eps(std::move(endpoints));
        ring = detail::c_string(std::move(ring), "ring name");
        node = detail::c_name(node);
        addr = detail::c_string(std::move(addr), "address");
        std::optional<std::string> ns;
        if (options.etcd_namespace) {
            ns = detail::c_string(*options.etcd_namespace, "etcd namespace");
        }
        rl_member_options o{};
        o.ttl_s = options.ttl_s;
        o.etcd_namespace = ns ? ns->c_str() : nullptr;
        o.request_timeout_ms = options.request_timeout_ms;
        detail::check(rl_member_join(eps.data(), eps.size(), &o, ring.c_str(), node.c_str(), weight,
                                     addr.c_str(), &member_));
    }

    ~Member() { rl_member_free(member_); }

    Member(const Member &) = delete;
    Member &operator=(const Member &) = delete;

    Member(Member &&other) noexcept : member_(std::exchange(other.member_, nullptr)) {}

    Member &operator=(Member &&other) noexcept {
        if (this != &other) {
            rl_member_free(member_);
            member_ = std::exchange(other.member_, nullptr);
        }
        return *this;
    }

    /// Throws Error unless registered now: RL_ERR_LOST (the lease expired or
    /// the key is gone; it rejoins by itself), RL_ERR_UNAVAILABLE.
    void check() const { detail::check(rl_member_check(member_)); }

    /// The etcd revision at which the member (last) joined.
    std::uint64_t revision() const noexcept { return rl_member_revision(member_); }

    /// How many times it joined again by itself after losing its lease.
    std::uint64_t rejoins() const noexcept { return rl_member_rejoins(member_); }

    /// Leaves the ring (rl_member_leave). The Member is empty afterwards,
    /// whether it throws (RL_ERR_LOST, RL_ERR_UNAVAILABLE) or not.
    void leave() { detail::check(rl_member_leave(std::exchange(member_, nullptr))); }

    /// Whether this object holds a member (false once left or moved from).
    bool valid() const noexcept { return member_ != nullptr; }

    /// The C handle, still owned by this object.
    const rl_member *handle() const noexcept { return member_; }

private:
    rl_member *member_ = nullptr;
};

/// A ring of the members at one etcd revision: the ring is a copy owned
/// here, independent of the watcher.
struct Placement {
    Ring ring;
    std::uint64_t revision;
};

/// Follows a membership ring in etcd, owning an rl_ring_watcher. Move-only.
class RingWatcher {
public:
    /// What the change callback gets (see rl_ring_change): the rings and the
    /// plan are borrowed for the call only (copy a ring with Ring's
    /// rl_ring_clone, or keep the revision and ask current() later).
    using OnChange = std::function<void(const rl_ring_change &)>;

    /// Lists the members of `ring` and starts following them
    /// (rl_ring_watcher_open); `ring_options` as for Ring (zeros: xxh3).
    RingWatcher(std::vector<std::string> endpoints, std::string ring,
                const rl_ring_options &ring_options = {}, const WatcherOptions &options = {})
        : RingWatcher(std::move(endpoints), std::move(ring), ring_options, options, OnChange{}) {}

    /// The same, and `on_change` called on the watcher's thread after each
    /// change with the new ring and the migration plan from the one before
    /// (rl_ring_watcher_open_with_callback): it must not destroy this
    /// watcher nor block long; an exception it throws is swallowed (it
    /// cannot cross the C library). An empty `on_change` means none.
    RingWatcher(std::vector<std::string> endpoints, std::string ring,
                const rl_ring_options &ring_options, const WatcherOptions &options,
                OnChange on_change) {
        detail::Endpoints eps(std::move(endpoints));
        ring = detail::c_string(std::move(ring), "ring name");
        std::optional<std::string> ns;
        if (options.etcd_namespace) {
            ns = detail::c_string(*options.etcd_namespace, "etcd namespace");
        }
        rl_ring_watcher_options o{};
        o.etcd_namespace = ns ? ns->c_str() : nullptr;
        o.request_timeout_ms = options.request_timeout_ms;
        o.coalesce_ms = options.coalesce_ms;
        if (!on_change) {
            detail::check(rl_ring_watcher_open(eps.data(), eps.size(), ring.c_str(), &ring_options, &o,
                                               &watcher_));
            return;
        }
        auto callback = std::make_unique<OnChange>(std::move(on_change));
        detail::check(rl_ring_watcher_open_with_callback(eps.data(), eps.size(), ring.c_str(),
                                                         &ring_options, &o, &RingWatcher::call,
                                                         callback.get(), &watcher_));
        on_change_ = std::move(callback);  // its address stays the same: user_data
    }

    /// The same, with `algorithm` and its default parameters.
    RingWatcher(std::vector<std::string> endpoints, std::string ring, Algorithm algorithm,
                const WatcherOptions &options = {})
        : RingWatcher(std::move(endpoints), std::move(ring),
                      rl_ring_options{static_cast<rl_algorithm>(algorithm), 0, 0}, options) {}

    ~RingWatcher() { rl_ring_watcher_close(watcher_); }

    RingWatcher(const RingWatcher &) = delete;
    RingWatcher &operator=(const RingWatcher &) = delete;

    RingWatcher(RingWatcher &&other) noexcept
        : on_change_(std::move(other.on_change_)), watcher_(std::exchange(other.watcher_, nullptr)) {}

    RingWatcher &operator=(RingWatcher &&other) noexcept {
        if (this != &other) {
            rl_ring_watcher_close(watcher_);  // before its callback goes
            watcher_ = std::exchange(other.watcher_, nullptr);
            on_change_ = std::move(other.on_change_);
        }
        return *this;
    }

    /// A copy of the current ring and its revision.
    Placement current() const {
        rl_ring *ring = nullptr;
        std::uint64_t revision = 0;
        detail::check(rl_ring_watcher_current(watcher_, &ring, &revision));
        return Placement{Ring::adopt(ring), revision};
    }

    /// The current placement's revision.
    std::uint64_t revision() const noexcept { return rl_ring_watcher_revision(watcher_); }

    /// Waits for a placement newer than `after` (for ever with std::nullopt,
    /// else at most `timeout`; 0 does not wait); std::nullopt on timeout.
    std::optional<Placement> wait(std::uint64_t after,
                                  std::optional<std::chrono::milliseconds> timeout = std::nullopt) const {
        rl_ring *ring = nullptr;
        std::uint64_t revision = 0;
        rl_status s = rl_ring_watcher_wait(watcher_, after, detail::timeout_ms(timeout), &ring, &revision);
        if (s == RL_ERR_TIMEOUT) {
            return std::nullopt;
        }
        detail::check(s);
        return Placement{Ring::adopt(ring), revision};
    }

    /// The address `node` registered; std::nullopt when it is not a member now.
    std::optional<std::string> addr(std::string_view node) const {
        char buf[1025];  // addresses are at most 1024 bytes
        std::size_t len = 0;
        rl_status s = rl_ring_watcher_addr(watcher_, detail::c_name(node).c_str(), buf, sizeof buf, &len);
        if (s == RL_ERR_NOT_FOUND) {
            return std::nullopt;
        }
        detail::check(s);
        return std::string(buf, len - 1);
    }

    /// Whether this object holds a watcher (false once moved from).
    bool valid() const noexcept { return watcher_ != nullptr; }

    /// The C handle, still owned by this object.
    const rl_ring_watcher *handle() const noexcept { return watcher_; }

private:
    static void call(const rl_ring_change *change, void *user_data) noexcept {
        try {
            (*static_cast<OnChange *>(user_data))(*change);
        } catch (...) {
            // nothing may unwind into the C library's thread
        }
    }

    std::unique_ptr<OnChange> on_change_;  // user_data of the C callback
    rl_ring_watcher *watcher_ = nullptr;
};

}  // namespace ringlock

#endif  // RINGLOCK_HPP
