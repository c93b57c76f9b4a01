/*
 * ringlock.h — the C API of ringlock: consistent-hashing placement (rl_ring_*)
 * and named locks between processes (rl_lock_*): those of one host (shm, file
 * backends) or of every host that reaches one etcd cluster (etcd backend).
 *
 * Link with -lringlock (pkg-config --cflags --libs ringlock). C++: see ringlock.hpp.
 *
 * THREAD SAFETY
 *   - Functions taking `const rl_ring *` (lookups, enumeration, serialisation,
 *     clone) may be called concurrently from any number of threads on the same
 *     ring. Lookups take no lock and allocate nothing.
 *   - Functions taking `rl_ring *` (add, add_many, remove, set_weight, free) need
 *     exclusive access: no other call on the same ring may run at the same time.
 *     Distinct rings are independent.
 *   - An rl_tracker may be used by several threads at once: rl_tracker_acquire,
 *     rl_tracker_release and rl_tracker_load may run concurrently on one
 *     tracker (an acquire chooses and counts atomically). Only rl_tracker_free
 *     needs exclusive access.
 *   - An rl_lock may be used by several threads at once: rl_lock_acquire,
 *     rl_lock_release, rl_lock_check, rl_lock_status, rl_lock_waiters and
 *     rl_lock_etcd_status/_waiters may
 *     run concurrently on one handle (threads sharing a local handle take turns holding it; an
 *     etcd handle refuses a second acquisition with RL_ERR_DEADLOCK; any
 *     thread of the holding process may release). Only rl_lock_close needs
 *     exclusive access. Separate handles, in one process or many, contend
 *     through the lock exactly as processes do. The etcd handles of one
 *     process with the same configuration share one lease, renewed by one
 *     background thread.
 *   - rl_lock_acquire blocks: with timeout_ms -1 it may block for ever (behind
 *     a holder that never releases or is stopped). A holder that dies never
 *     blocks anyone. A lock belongs to the process, not to the thread; across
 *     fork() the child does not hold the parent's lock and cannot release it.
 *   - An rl_shared_ring is used by one thread at a time: every call on it may
 *     switch it to a newer generation (lookups included), so no two calls on
 *     one handle may overlap. Open one handle per thread; handles of one
 *     process or many map the same pages. rl_shared_ring_publish reads its
 *     rl_ring like a lookup and may run from any thread or process at once
 *     (publishers of one path are serialised by a ringlock lock).
 *   - An rl_member or rl_ring_watcher may be used by several threads at once:
 *     rl_member_check/_revision/_rejoins, and rl_ring_watcher_current/_wait/
 *     _revision/_addr may run concurrently on one handle. Only rl_member_leave,
 *     rl_member_free and rl_ring_watcher_close need exclusive access. Each
 *     handle runs a background thread (lease renewal, or etcd's watch).
 *     rl_ring_watcher_wait blocks the calling thread only. The callback of
 *     rl_ring_watcher_open_with_callback runs on the watcher's thread, one
 *     change at a time; it must not close the watcher nor block long.
 *   - rl_last_error() is per thread; rl_version(), rl_status_str() and
 *     rl_jump_hash() are pure.
 *
 * CONVENTIONS
 *   - Fallible functions return rl_status: RL_OK (0) or an RL_ERR_* value. On
 *     failure rl_last_error() gives the calling thread's detailed message, no
 *     output parameter has been written, the ring is unchanged and a failed
 *     rl_lock_acquire has acquired nothing (RL_ERR_INTERNAL, a bug in
 *     ringlock, makes no such promise).
 *   - Pointers are NULL or valid: a NULL where a value is required is
 *     RL_ERR_INVALID_ARGUMENT, never a crash; a dangling pointer is undefined
 *     behaviour. A pointer to an array or byte string may be NULL only when its
 *     length is 0. Node names are NUL-terminated UTF-8; keys are any bytes.
 *     Lock names are [A-Za-z0-9._-]{1,200}; lock directories are any bytes.
 *   - Handles: rl_ring_new / rl_ring_new_with_options / rl_ring_new_with_limits /
 *     rl_ring_clone / rl_ring_deserialize / rl_ring_deserialize_with_limits
 *     create, rl_ring_free releases; rl_tracker_new creates, rl_tracker_free
 *     releases; rl_lock_open creates, rl_lock_close releases;
 *     rl_shared_ring_open creates, rl_shared_ring_close releases (NULL is a
 *     no-op for all four). Whoever allocates frees.
 *   - Membership handles: rl_member_join creates, rl_member_leave (leaves,
 *     then frees) or rl_member_free releases; rl_ring_watcher_open creates,
 *     rl_ring_watcher_close releases. The rings rl_ring_watcher_current and
 *     rl_ring_watcher_wait store are copies the caller owns (rl_ring_free).
 *     Endpoints are passed as an array of strings and its length.
 *   - Structs passed in (rl_ring_options, rl_ring_limits, rl_lock_options) are
 *     read during the call only; zero-initialised means the defaults. Structs
 *     passed out (rl_hold, rl_holder) are caller-owned storage the library fills.
 *   - Borrowed strings: node names returned through `const char **` belong to
 *     the ring and stay valid until the next mutation of that ring (rl_ring_add,
 *     rl_ring_add_many, rl_ring_remove, rl_ring_set_weight) or rl_ring_free;
 *     those of rl_tracker_acquire belong to the tracker, valid until
 *     rl_tracker_free. Never free them.
 *   - Sizes: every ring has limits (rl_ring_limits; by default 2^24 points
 *     and 2^20 nodes), checked before a table is built, so that a few bytes
 *     of input cannot ask for gigabytes; running out of memory is RL_ERR_IO,
 *     never an abort.
 *
 * CONTENTS, in this order: the version, statuses and the last error; rings
 * (creation, changes, lookups, enumeration, serialisation, migration plans,
 * bounded loads, the load tracker); shared rings; jump hash; locks; rings that
 * follow membership in etcd (rl_member_*, rl_ring_watcher_*).
 */


#ifndef RINGLOCK_H
#define RINGLOCK_H

/* Generated by cbindgen from ffi/src — do not edit. Regenerate with `make header`. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/**
 * The major version of the header (`RINGLOCK_VERSION_MAJOR`): compare with
 * `rl_version()` to see which library a program runs against.
 */
#define RINGLOCK_VERSION_MAJOR 0

/**
 * The minor version of the header.
 */
#define RINGLOCK_VERSION_MINOR 1

/**
 * The patch version of the header.
 */
#define RINGLOCK_VERSION_PATCH 0

/**
 * The size of `rl_etcd_holder.host`, its terminating NUL included: a host
 * name of up to `RL_HOST_MAX - 1` bytes is stored whole (Linux's are at
 * most 64).
 */
#define RL_HOST_MAX 256

/**
 * The most holders `rl_lock_status` ever reports: an array of this many
 * `rl_holder` is always large enough (one exclusive record and 64 shared
 * ones).
 */
#define RL_LOCK_MAX_HOLDERS 65

/**
 * A handle on a named lock (opaque). Created by `rl_lock_open`, released by
 * `rl_lock_close`. A handle holds at most one acquisition at a time.
 *
 * Thread-safe: `rl_lock_acquire`, `rl_lock_release`, `rl_lock_check` and
 * `rl_lock_status` may run concurrently from any number of threads on one
 * handle (threads sharing a local handle take turns holding it; on etcd a
 * second acquisition through a handle that holds or is acquiring is
 * `RL_ERR_DEADLOCK`). Only `rl_lock_close` needs exclusive access. Separate
 * handles, in one process or many, contend through the lock exactly as
 * processes do.
 */
typedef struct rl_lock rl_lock;

/**
 * A node registered in a membership ring in etcd (opaque). Created by
 * `rl_member_join`; released by `rl_member_leave` (leaves, then frees) or
 * `rl_member_free` (frees; the member drops out as its lease is revoked).
 *
 * Thread-safe: `rl_member_check`, `rl_member_revision` and
 * `rl_member_rejoins` may run concurrently from any number of threads.
 * `rl_member_leave` and `rl_member_free` need exclusive access.
 */
typedef struct rl_member rl_member;

/**
 * A consistent-hashing ring (opaque). Created by `rl_ring_new`,
 * `rl_ring_clone` or `rl_ring_deserialize`; released by `rl_ring_free`.
 *
 * `const rl_ring *` calls (lookups, enumeration, serialisation) may run
 * concurrently from any number of threads. `rl_ring *` calls (mutations,
 * free) need exclusive access: no other call on the same ring at the same time.
 */
typedef struct rl_ring rl_ring;

/**
 * Follows one ring's members in etcd (opaque). Created by
 * `rl_ring_watcher_open`; released by `rl_ring_watcher_close`.
 *
 * A background thread lists the members, builds the ring (members sorted
 * by node id, so every watcher that has seen the same members holds an
 * identical ring), then follows etcd's watch and swaps in a new placement
 * after each change; a broken connection or a compacted history never
 * loses a change (it lists again). Each placement is stamped with its etcd
 * revision: two watchers that report the same revision hold the same ring.
 *
 * Thread-safe: `rl_ring_watcher_current`, `rl_ring_watcher_wait`,
 * `rl_ring_watcher_revision` and `rl_ring_watcher_addr` may run
 * concurrently from any number of threads. Only `rl_ring_watcher_close`
 * needs exclusive access (no call on the watcher may be running, a wait
 * included). A forked child's copy does not follow: it keeps the
 * placement it had at the fork.
 */
typedef struct rl_ring_watcher rl_ring_watcher;

/**
 * A handle on a published ring (opaque), mapped read-only. Created by
 * `rl_shared_ring_open`, released by `rl_shared_ring_close`.
 *
 * Every call on a handle may switch it to a newer generation, so a handle is
 * used by one thread at a time (no two calls on it at once); open one handle
 * per thread — handles of one process or many share the same pages.
 */
typedef struct rl_shared_ring rl_shared_ring;

/**
 * A load tracker (opaque): counts the work in flight on each node of a copy
 * of a ring, and places keys on nodes under bounded loads. Created by
 * `rl_tracker_new`, released by `rl_tracker_free`.
 *
 * Thread-safe: `rl_tracker_acquire`, `rl_tracker_release` and
 * `rl_tracker_load` may run concurrently from any number of threads on one
 * tracker; an acquire chooses and counts atomically, so no node ever takes a
 * slot above the cap. Only `rl_tracker_free` needs exclusive access.
 */
typedef struct rl_tracker rl_tracker;

/**
 * The result of a fallible call: `RL_OK` (0) on success, otherwise one
 * `RL_ERR_*` value per kind of failure. Values are never reused; an
 * application should treat any value it does not know as a failure.
 */
typedef uint32_t rl_status;

/**
 * A placement algorithm: one of the `RL_ALGORITHM_*` values. Any other value
 * is refused with `RL_ERR_INVALID_ARGUMENT`.
 */
typedef uint32_t rl_algorithm;

/**
 * How `rl_ring_new_with_options` makes a ring. A zero-initialised struct
 * (`rl_ring_options o = {0};`) means the defaults (an xxh3 ring with 160
 * vnodes), as does passing NULL.
 *
 * The library reads it during the call only and keeps no pointer into it.
 */
typedef struct {
    /**
     * An `RL_ALGORITHM_*` value; 0 means `RL_ALGORITHM_XXH3`.
     */
    rl_algorithm algorithm;
    /**
     * Virtual nodes per unit of weight; 0 means the algorithm's default
     * (160 for ketama and xxh3). Ketama needs a multiple of 4; jump and
     * maglev take only 0.
     */
    uint32_t vnodes;
    /**
     * Maglev's number of table entries: a prime, at most 2^26 (67108864;
     * the largest prime allowed is 67108859) and within the ring's limits
     * (by default 16777216, so at most 16777213; see `rl_ring_limits`); 0
     * means 65537. The other algorithms take only 0.
     */
    uint32_t table_size;
} rl_ring_options;

/**
 * How large a ring may grow: checked before any table is built, by every
 * change of the ring and by loading it. A zero-initialised struct
 * (`rl_ring_limits l = {0};`), or NULL where a `const rl_ring_limits *` is
 * taken, means the defaults; every other ring gets the defaults too
 * (`rl_ring_new`, `rl_ring_new_with_options`, `rl_ring_deserialize`; a
 * clone keeps its original's limits).
 *
 * The defaults allow every realistic ring and keep a few hostile bytes from
 * asking for gigabytes: 16,777,216 points (100,000 nodes of 160 vnodes;
 * a maglev table of up to 16,777,213 entries) and 1,048,576 nodes. Either
 * may be raised up to 67,108,864 (2^26); more is `RL_ERR_INVALID_ARGUMENT`.
 * See docs/placement.md.
 *
 * The library reads it during the call only and keeps no pointer into it.
 */
typedef struct {
    /**
     * The most points: ketama, nodes × vnodes (a bound of its points);
     * xxh3, total weight × vnodes; jump, total weight (buckets); maglev,
     * the table size. 0 means 16,777,216 (2^24).
     */
    uint64_t max_points;
    /**
     * The most nodes. 0 means 1,048,576 (2^20).
     */
    uint64_t max_nodes;
} rl_ring_limits;

/**
 * One range of key positions whose owner changes: positions `first` to
 * `last`, both included (a range that reaches the top of the 2^64 space has
 * no exclusive end in a `uint64_t`). Positions are those of
 * `rl_ring_position`. Rust's and C++'s `Move` name them `first` and `last`
 * too; Python's `Move(start, end)` is half-open, `start = first` and
 * `end = last + 1`.
 */
typedef struct {
    /**
     * The first position of the range.
     */
    uint64_t first;
    /**
     * The last position of the range (inclusive).
     */
    uint64_t last;
    /**
     * The owner in the `before` ring; NULL when that ring is empty.
     */
    const char *old_node;
    /**
     * The owner in the `after` ring; NULL when that ring is empty.
     */
    const char *new_node;
} rl_move;

/**
 * A lock backend: one of the `RL_BACKEND_*` values, or 0 in
 * `rl_lock_options` for the default (shm). Any other value is refused with
 * `RL_ERR_INVALID_ARGUMENT`.
 */
typedef uint32_t rl_backend;

/**
 * How `rl_lock_open` opens a lock. A zero-initialised struct
 * (`rl_lock_options o = {0};`) means the defaults (the shm backend), as does
 * passing NULL.
 *
 * The fields fall in two groups: `dir` and `file_mode` belong to the local
 * backends (shm, file), `endpoints` to `request_timeout_ms` to etcd. A field
 * of the other group must be left zero (NULL): setting it is refused with
 * `RL_ERR_INVALID_ARGUMENT`, so that a mistaken backend is not silently
 * ignored.
 *
 * The library reads it during `rl_lock_open` only and keeps no pointer into
 * it: it (and the strings it points to) may be freed once the call returns.
 *
 *     const char *endpoints[] = {"http://10.0.0.1:2379", "http://10.0.0.2:2379"};
 *     rl_lock_options o = {0};
 *     o.backend = RL_BACKEND_ETCD;
 *     o.endpoints = endpoints;
 *     o.endpoint_count = 2;
 *     o.ttl_s = 5;
 */
typedef struct {
    /**
     * `RL_BACKEND_SHM`, `RL_BACKEND_FILE` or `RL_BACKEND_ETCD`; 0 means
     * `RL_BACKEND_SHM`.
     */
    rl_backend backend;
    /**
     * Local backends. The lock directory, NUL-terminated; NULL means the default,
     * `/dev/shm/ringlock-<uid>/` (created 0700; it must belong to the caller
     * and be private). Any non-empty byte string (UTF-8 not required). A
     * missing directory is created 0700 (its parent must exist). The path is
     * opened one component at a time: a symlink anywhere in it is refused,
     * and so is a directory in it that belongs to another user (not root)
     * or that the group or others can write to without the sticky bit.
     */
    const char *dir;
    /**
     * Local backends. Permission bits of a lock file this call creates; 0
     * means 0600. Must include 0600 and stay within 0777; set exactly,
     * whatever the umask.
     * An existing file keeps its mode. An existing lock file that belongs to
     * another user is refused, unless this mode gives the group or others
     * access (the caller shares its locks between users).
     */
    uint32_t file_mode;
    /**
     * etcd: an array of `endpoint_count` NUL-terminated UTF-8 strings, the
     * cluster's client URLs (`http://host:port`; TLS is not supported). At
     * least one is required (NULL or a count of 0 is refused); when one
     * cannot be reached the next is tried.
     */
    const char *const *endpoints;
    /**
     * etcd: the number of strings in `endpoints`.
     */
    size_t endpoint_count;
    /**
     * etcd: the lease's time to live in seconds: how long after this
     * process stops renewing it (it died, is stopped, or lost etcd) its hold
     * ends and another may take the lock. 0 means 10; 1 is refused (etcd's
     * minimum is 2).
     */
    uint32_t ttl_s;
    /**
     * etcd: the prefix of every key, NUL-terminated: 1 to 200 of
     * `A-Z a-z 0-9 . _ - /`, not beginning or ending with `/`; NULL means
     * "ringlock". Locks of one name under two namespaces are two locks.
     */
    const char *etcd_namespace;
    /**
     * etcd: the bound of each request that has no deadline of its own
     * (connecting in `rl_lock_open`, `rl_lock_release`, `rl_lock_check`,
     * `rl_lock_status`, each step of an acquisition with `timeout_ms` -1),
     * in milliseconds; 0 means 5000. Past it a call fails with
     * `RL_ERR_UNAVAILABLE`.
     */
    uint32_t request_timeout_ms;
} rl_lock_options;

/**
 * A lock mode: one of the `RL_MODE_*` values. Any other value is refused
 * with `RL_ERR_INVALID_ARGUMENT`.
 */
typedef uint32_t rl_mode;

/**
 * What an acquisition gives.
 */
typedef struct {
    /**
     * Exclusive: the fencing token of this acquisition, strictly greater
     * than every token handed out before for this lock (across holders,
     * processes and crashes). Shared: the token of the last exclusive
     * acquisition (0 if none).
     */
    uint64_t token;
    /**
     * A holder died without releasing since the last exclusive acquisition.
     * Reported once, to the next exclusive acquirer (on the local backends
     * always false for shared; on etcd a shared hold says whether the last
     * exclusive holder's lease expired). What it was protecting may be half
     * written.
     */
    bool previous_owner_died;
    /**
     * The mode held (`RL_MODE_*`).
     */
    rl_mode mode;
} rl_hold;

/**
 * How a recorded holder's process is doing: one of the `RL_LIVENESS_*`
 * values.
 */
typedef uint32_t rl_liveness;

/**
 * One holder of a lock, as `rl_lock_status` sees it.
 */
typedef struct {
    /**
     * Its process id.
     */
    uint32_t pid;
    /**
     * The mode held (`RL_MODE_*`).
     */
    rl_mode mode;
    /**
     * When it acquired, in milliseconds since the Unix epoch (wall clock).
     */
    uint64_t since_ms;
    /**
     * Its token (see `rl_hold.token`).
     */
    uint64_t token;
    /**
     * Whether its process is alive, stopped or dead (`RL_LIVENESS_*`).
     */
    rl_liveness liveness;
} rl_holder;

/**
 * One holder or waiter of an etcd lock, as `rl_lock_etcd_status` and
 * `rl_lock_etcd_waiters` see it. A plain value the caller owns: nothing in
 * it points elsewhere.
 */
typedef struct {
    /**
     * What `rl_lock_status` (or `rl_lock_waiters`) reports of it: pid
     * (possibly on another host), mode, `since_ms` (when it began to wait),
     * token, and liveness (`RL_LIVENESS_ALIVE` while its lease runs,
     * `RL_LIVENESS_DEAD` once the lease is gone).
     */
    rl_holder holder;
    /**
     * The host name its process recorded, NUL-terminated; cut at the last
     * whole UTF-8 character that fits `RL_HOST_MAX - 1` bytes (or at a NUL
     * in the name); empty if none was recorded.
     */
    char host[RL_HOST_MAX];
    /**
     * Milliseconds left on its lease as etcd answered (at most its TTL
     * times 1000), or -1 when the lease is gone or unknown.
     */
    int64_t lease_left_ms;
} rl_etcd_holder;

/**
 * How `rl_member_join` registers a member. A zero-initialised struct
 * (`rl_member_options o = {0};`) means the defaults, as does passing NULL.
 *
 * The library reads it during the call only and keeps no pointer into it.
 */
typedef struct {
    /**
     * The member's lease's time to live, in seconds: how long after this
     * process stops renewing it (it died, is stopped, or lost etcd) the
     * member drops out of the ring. 0 means 10; 1 is refused (etcd's
     * minimum is 2).
     */
    uint32_t ttl_s;
    /**
     * The prefix of every key, NUL-terminated: 1 to 200 of
     * `A-Z a-z 0-9 . _ - /`, not beginning or ending with `/`; NULL means
     * "ringlock". Watchers must use the same one.
     */
    const char *etcd_namespace;
    /**
     * The bound of each request to etcd (joining, `rl_member_check`,
     * `rl_member_leave`), in milliseconds; 0 means 5000. Past it a call
     * fails with `RL_ERR_UNAVAILABLE`.
     */
    uint32_t request_timeout_ms;
} rl_member_options;

/**
 * How `rl_ring_watcher_open` reaches etcd. A zero-initialised struct
 * (`rl_ring_watcher_options o = {0};`) means the defaults, as does passing
 * NULL.
 *
 * The library reads it during the call only and keeps no pointer into it.
 */
typedef struct {
    /**
     * The key prefix the members registered under (their
     * `rl_member_options.etcd_namespace`), NUL-terminated; NULL means
     * "ringlock".
     */
    const char *etcd_namespace;
    /**
     * The bound of each list request (the first one, in
     * `rl_ring_watcher_open`, and those after a compaction), in
     * milliseconds; 0 means 5000.
     */
    uint32_t request_timeout_ms;
    /**
     * Watch events that follow each other within this many milliseconds
     * build one ring (for at most 10 times this after the first); 0 means
     * 10.
     */
    uint32_t coalesce_ms;
} rl_ring_watcher_options;

/**
 * One change of a watched ring, as the callback of
 * `rl_ring_watcher_open_with_callback` gets it.
 *
 * Everything it points to is borrowed for the duration of the callback
 * only: the rings and the moves are freed when the callback returns. To
 * keep a ring, copy it (`rl_ring_clone`); to keep the plan, copy the
 * records and the names they point to, or compute it again later with
 * `rl_ring_diff` on rings you kept. Do not free or mutate anything here.
 */
typedef struct {
    /**
     * The etcd revision of the ring before.
     */
    uint64_t before_revision;
    /**
     * The etcd revision of the ring now current.
     */
    uint64_t revision;
    /**
     * The ring before the change (read-only, borrowed).
     */
    const rl_ring *before;
    /**
     * The ring now current (read-only, borrowed): what
     * `rl_ring_watcher_current` returns from now on.
     */
    const rl_ring *after;
    /**
     * Whether a plan is given: false for jump rings, which place keys by
     * bucket number and have no key positions (`rl_ring_diff` refuses
     * them too); compare the rings' nodes instead.
     */
    bool has_plan;
    /**
     * The migration plan, exactly `rl_ring_diff(before, after)`: the ranges
     * of key positions whose owner changed, with the old and new owner;
     * `move_count` records. NULL when `has_plan` is false.
     */
    const rl_move *moves;
    /**
     * The number of records in `moves` (0 without a plan).
     */
    size_t move_count;
    /**
     * The share of the key space that moves (0 to 1; 0 without a plan).
     */
    double fraction;
    /**
     * Whether the change was found by listing the members again (after a
     * compacted history or a broken watch) rather than from watch events.
     */
    bool relisted;
} rl_ring_change;

/**
 * The callback of `rl_ring_watcher_open_with_callback`: `change` and what
 * it points to are valid until the callback returns; `user_data` is the
 * pointer given at open.
 */
typedef void (*rl_ring_change_fn)(const rl_ring_change *change, void *user_data);

/**
 * Success.
 */
#define RL_OK 0

/**
 * A bad argument: NULL pointer, empty or non-UTF-8 name, zero weight, unknown
 * algorithm, bad vnodes, a buffer too small, a length that does not fit; for
 * locks also a bad lock name, mode, backend, file mode or timeout, a
 * symlinked lock path, and releasing a lock the handle does not hold.
 */
#define RL_ERR_INVALID_ARGUMENT 1

/**
 * A lookup on a ring that has no nodes.
 */
#define RL_ERR_EMPTY_RING 2

/**
 * The named node (or index) does not exist.
 */
#define RL_ERR_NOT_FOUND 3

/**
 * The named node exists already.
 */
#define RL_ERR_ALREADY_EXISTS 4

/**
 * A non-blocking operation could not proceed (locks).
 */
#define RL_ERR_WOULD_BLOCK 5

/**
 * A timed operation ran out of time (locks).
 */
#define RL_ERR_TIMEOUT 6

/**
 * The operation would deadlock (locks).
 */
#define RL_ERR_DEADLOCK 7

/**
 * An operating-system error.
 */
#define RL_ERR_IO 8

/**
 * Serialised or stored data (a ring's bytes, a lock file) is malformed,
 * truncated or of an unknown version.
 */
#define RL_ERR_CORRUPT 9

/**
 * A bug in ringlock (a caught panic included).
 */
#define RL_ERR_INTERNAL 10

/**
 * A remote service (etcd) could not be reached, did not answer within the
 * time allowed, or answered with something that is not etcd's JSON gateway
 * (etcd-backend locks).
 */
#define RL_ERR_UNAVAILABLE 11

/**
 * A lock hold was lost: its etcd lease expired (the process was paused, or
 * cut off from etcd, past its TTL) or its key is gone, so another holder may
 * have taken the lock since (etcd-backend locks).
 */
#define RL_ERR_LOST 12

/**
 * libketama-compatible MD5 continuum (default 160 vnodes, a multiple of 4).
 */
#define RL_ALGORITHM_KETAMA 1

/**
 * Virtual-node ring on XXH3-64, seed 0: the fast default (default 160 vnodes).
 */
#define RL_ALGORITHM_XXH3 2

/**
 * Jump consistent hash over buckets numbered in name order (vnodes must be 0).
 */
#define RL_ALGORITHM_JUMP 3

/**
 * Maglev lookup table of a prime size (vnodes must be 0; table size 65537
 * unless `rl_ring_new_with_options` says otherwise).
 */
#define RL_ALGORITHM_MAGLEV 4

/**
 * libmemcached 1.1.4's weighted ketama (`MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED`):
 * every key on the server libmemcached picks for nodes named `host:port`
 * (vnodes must be 0; docs/placement.md gives the exact function).
 */
#define RL_ALGORITHM_LIBMEMCACHED 5

/**
 * nginx 1.22's `hash $key consistent`: every key on the upstream server
 * nginx picks, for nodes named by their `server` address as nginx's
 * configuration writes it (vnodes must be 0; docs/placement.md).
 */
#define RL_ALGORITHM_NGINX 6

/**
 * twemproxy 0.5's ketama (`distribution: ketama`) with its default key hash,
 * `hash: fnv1a_64`; nodes are named `host:port`, or by the server's name
 * when the configuration gives one (vnodes must be 0; docs/placement.md).
 */
#define RL_ALGORITHM_TWEMPROXY 7

/**
 * twemproxy's ketama with `hash: md5`.
 */
#define RL_ALGORITHM_TWEMPROXY_MD5 8

/**
 * twemproxy's ketama with `hash: one_at_a_time`.
 */
#define RL_ALGORITHM_TWEMPROXY_ONE_AT_A_TIME 9

/**
 * twemproxy's ketama with `hash: murmur`.
 */
#define RL_ALGORITHM_TWEMPROXY_MURMUR 10

/**
 * twemproxy's ketama with `hash: crc32` (its 15-bit crc32).
 */
#define RL_ALGORITHM_TWEMPROXY_CRC32 11

/**
 * twemproxy's ketama with `hash: crc32a`.
 */
#define RL_ALGORITHM_TWEMPROXY_CRC32A 12

/**
 * HAProxy 2.6's `hash-type consistent`: every key on the server HAProxy
 * picks, the server lines written in the nodes' name order (server `i` is
 * the `i`-th node by name; weights 1 to 256; vnodes must be 0;
 * docs/placement.md).
 */
#define RL_ALGORITHM_HAPROXY 13

/**
 * libmemcached 1.1.4's plain ketama (`MEMCACHED_BEHAVIOR_KETAMA`, not
 * weighted): 100 points per server whatever its weight, one per hash, with
 * its default key hash, one-at-a-time; nodes named `host:port` (vnodes must
 * be 0; docs/placement.md).
 */
#define RL_ALGORITHM_LIBMEMCACHED_CONSISTENT 14

/**
 * libmemcached's plain ketama with `MEMCACHED_HASH_MD5`.
 */
#define RL_ALGORITHM_LIBMEMCACHED_CONSISTENT_MD5 15

/**
 * spymemcached 2.12.3's `KetamaNodeLocator` with `KETAMA_HASH`: every key on
 * the server spymemcached picks, for nodes named by the string spymemcached
 * hashes for their socket address (`10.0.0.1:11211`,
 * `host/10.0.0.1:11211`); weighted as with a weight map when a weight is
 * not 1 (vnodes must be 0; docs/placement.md).
 */
#define RL_ALGORITHM_SPYMEMCACHED 16

/**
 * Envoy's `ring_hash` load balancer (XXH64 of `"<host>_<i>"`, its running
 * weight shares): every key on the host Envoy's ring picks for the hash
 * XXH64(key), for nodes named by the text Envoy hashes (the host's address
 * `10.0.0.1:80`, or its hostname or `hash_key`). The table size of
 * `rl_ring_new_with_options` is Envoy's `minimum_ring_size` (0: 1024);
 * vnodes must be 0 (docs/placement.md).
 */
#define RL_ALGORITHM_ENVOY_RING_HASH 17

/**
 * Exclusive (write): one holder at a time; every acquisition gets a new
 * fencing token.
 */
#define RL_MODE_EXCLUSIVE 1

/**
 * Shared (read): any number of holders at once, none exclusive.
 */
#define RL_MODE_SHARED 2

/**
 * Atomics and a futex in a mapped page, `<dir>/<name>.shm`: the fast one
 * (the default). Processes sharing it must share a pid namespace.
 */
#define RL_BACKEND_SHM 1

/**
 * flock(2) on `<dir>/<name>.lock`: freed by the kernel when a holder dies;
 * works across containers that mount the same directory.
 */
#define RL_BACKEND_FILE 2

/**
 * etcd v3 (through its JSON gateway): a lock shared by the processes of
 * every host that reaches the same etcd cluster. Exclusive mode only, for
 * now. docs/distributed.md describes the recipe.
 */
#define RL_BACKEND_ETCD 3

/**
 * Running or sleeping.
 */
#define RL_LIVENESS_ALIVE 1

/**
 * Stopped (SIGSTOP, a debugger): alive, but it will not release meanwhile.
 */
#define RL_LIVENESS_STOPPED 2

/**
 * Gone, a zombie, or its pid now belongs to another process: a holder that
 * died and has not been reaped yet (the next acquirer takes over).
 */
#define RL_LIVENESS_DEAD 3

#ifdef __cplusplus
extern "C" {
#endif // __cplusplus

/**
 * The library version, "MAJOR.MINOR.PATCH" (e.g. "0.1.0"): that of the
 * library loaded at run time, where `RINGLOCK_VERSION_*` are those of the
 * header compiled against. Static: never free it. Never fails.
 * Thread-safe.
 */
const char *rl_version(void);

/**
 * The name of a status: "ok", "invalid argument", "empty ring", "not found",
 * "already exists", "would block", "timeout", "deadlock", "i/o error",
 * "corrupt data", "internal error", "unavailable", "lock lost"; "unknown
 * status" for any other value.
 *
 * The string is static: never free it. Thread-safe.
 */
const char *rl_status_str(rl_status status);

/**
 * The detailed message of the calling thread's last failure, e.g.
 * "rl_ring_add: node \"a\" is already in the ring"; "" if no call has failed
 * on this thread yet.
 *
 * Successful calls do not clear it. The string belongs to the library and to
 * the calling thread: it stays valid until the next failing ringlock call on
 * the same thread (or the thread's exit). Copy it to keep it. Never NULL.
 */
const char *rl_last_error(void);

/**
 * Creates an empty ring and stores it in `*out`; free it with `rl_ring_free`.
 *
 * `vnodes` is the number of virtual nodes per unit of weight; 0 means the
 * algorithm's default (160 for ketama and xxh3). Ketama needs a multiple of
 * 4; jump and maglev take only 0. A maglev ring gets the default table size
 * (65537); `rl_ring_new_with_options` chooses another.
 *
 * Returns `RL_OK`, or `RL_ERR_INVALID_ARGUMENT` (`out` NULL, unknown
 * algorithm, vnodes not allowed). `*out` is written only on success.
 * Thread-safe: the new ring is the caller's alone.
 */
rl_status rl_ring_new(rl_algorithm algorithm, uint32_t vnodes, rl_ring **out);

/**
 * Copies `ring` (same algorithm, vnodes, table size and nodes) into a new ring stored in
 * `*out`; free it with `rl_ring_free`. The copy is independent: names
 * borrowed from it live as long as the copy.
 *
 * Returns `RL_OK`, or `RL_ERR_INVALID_ARGUMENT` (`ring` or `out` NULL).
 * `*out` is written only on success. Safe concurrently with other
 * `const rl_ring *` calls on `ring`.
 */
rl_status rl_ring_clone(const rl_ring *ring, rl_ring **out);

/**
 * Frees a ring made by `rl_ring_new`, `rl_ring_clone` or
 * `rl_ring_deserialize`. NULL is a no-op. Every name borrowed from the ring
 * becomes invalid. Needs exclusive access; do not free a ring twice.
 */
void rl_ring_free(rl_ring *ring);

/**
 * Creates an empty ring as `options` says (NULL: the defaults) and stores
 * it in `*out`; free it with `rl_ring_free`.
 *
 * `rl_ring_new(a, v, &r)` is `rl_ring_new_with_options` with
 * `{a, v, 0}`: use this function to choose maglev's table size. A maglev
 * ring refuses (`rl_ring_add`) more nodes than table entries.
 *
 * Returns `RL_OK`, or `RL_ERR_INVALID_ARGUMENT` (`out` NULL, unknown
 * algorithm, vnodes not allowed, table size not prime, too big or given to
 * an algorithm other than maglev; vnodes or table size alone past the
 * default limits). `*out` is written only on success. Thread-safe: the
 * new ring is the caller's alone.
 */
rl_status rl_ring_new_with_options(const rl_ring_options *options, rl_ring **out);

/**
 * `rl_ring_new_with_options` with `limits` (NULL: the defaults) in place of
 * the default limits: for rings larger than the defaults allow. The ring
 * keeps them: every later change is checked against them (its clones
 * keep them too).
 *
 * Returns `RL_OK`, or `RL_ERR_INVALID_ARGUMENT` (as
 * `rl_ring_new_with_options`, a limit above 2^26, or vnodes or table size
 * alone past `limits`). `*out` is written only on success. Thread-safe:
 * the new ring is the caller's alone.
 */
rl_status rl_ring_new_with_limits(const rl_ring_options *options,
                                  const rl_ring_limits *limits,
                                  rl_ring **out);

/**
 * Maglev's number of table entries (a prime) of `ring`; 0 for the other
 * algorithms, and 0 if `ring` is NULL (recorded as a failure for
 * `rl_last_error`). Safe concurrently with other `const rl_ring *` calls.
 */
uint32_t rl_ring_table_size(const rl_ring *ring);

/**
 * Adds node `node` (a non-empty UTF-8 string) with weight `weight` (>= 1).
 *
 * Invalidates every name previously borrowed from `ring`. Needs exclusive
 * access to `ring`.
 *
 * Returns `RL_OK`, `RL_ERR_ALREADY_EXISTS` (`node` is in the ring),
 * `RL_ERR_INVALID_ARGUMENT` (a pointer NULL, `node` empty or not UTF-8,
 * `weight` 0, the ring would pass its limits: see `rl_ring_limits`) or
 * `RL_ERR_IO` (out of memory for the new table). On failure the ring is
 * unchanged.
 */
rl_status rl_ring_add(rl_ring *ring, const char *node, uint32_t weight);

/**
 * Adds `count` nodes at once, all or nothing, with one rebuild: `nodes[i]`
 * with weight `weights[i]`, or weight 1 for every node when `weights` is
 * NULL. `nodes` (and `weights`) may be NULL only when `count` is 0.
 *
 * Invalidates every name previously borrowed from `ring`. Needs exclusive
 * access to `ring`.
 *
 * Returns `RL_OK`, `RL_ERR_ALREADY_EXISTS` (a node is in the ring or given
 * twice), `RL_ERR_INVALID_ARGUMENT` (as `rl_ring_add`, or an array NULL
 * with `count` > 0) or `RL_ERR_IO` (out of memory). On failure the ring is
 * unchanged.
 */
rl_status rl_ring_add_many(rl_ring *ring,
                           const char *const *nodes,
                           const uint32_t *weights,
                           size_t count);

/**
 * Removes node `node`. Only the keys it owned move.
 *
 * Invalidates every name previously borrowed from `ring`. Needs exclusive
 * access to `ring`.
 *
 * Returns `RL_OK`, `RL_ERR_NOT_FOUND` (`node` is not in the ring; "" never
 * is), `RL_ERR_INVALID_ARGUMENT` (a pointer NULL, `node` not UTF-8) or
 * `RL_ERR_IO` (out of memory for the new table). On failure the ring is
 * unchanged.
 */
rl_status rl_ring_remove(rl_ring *ring, const char *node);

/**
 * Sets the weight of node `node` to `weight` (>= 1).
 *
 * Invalidates every name previously borrowed from `ring`. Needs exclusive
 * access to `ring`.
 *
 * Returns `RL_OK`, `RL_ERR_NOT_FOUND` (`node` is not in the ring) or
 * `RL_ERR_INVALID_ARGUMENT` (a pointer NULL, `node` not UTF-8, `weight` 0,
 * the ring would pass its limits: see `rl_ring_limits`) or `RL_ERR_IO` (out
 * of memory). On failure the ring is unchanged.
 */
rl_status rl_ring_set_weight(rl_ring *ring, const char *node, uint32_t weight);

/**
 * Stores in `*node` the name of the node that owns the key `key[0..key_len]`
 * (any bytes). `key` may be NULL only when `key_len` is 0.
 *
 * `*node` is borrowed from `ring`: valid until the next mutation of `ring`
 * (`rl_ring_add`, `rl_ring_add_many`, `rl_ring_remove`, `rl_ring_set_weight`)
 * or `rl_ring_free`. Do not free it.
 *
 * Returns `RL_OK`, `RL_ERR_EMPTY_RING` or `RL_ERR_INVALID_ARGUMENT` (`ring`
 * or `node` NULL, `key` NULL with `key_len` > 0). `*node` is written only on
 * success. Allocates nothing; safe concurrently with other
 * `const rl_ring *` calls.
 */
rl_status rl_ring_get(const rl_ring *ring, const void *key, size_t key_len, const char **node);

/**
 * Stores up to `n` distinct node names for the key `key[0..key_len]` in
 * `nodes[0..n]`: the owner first, then the next distinct nodes in ring
 * order (ketama, xxh3 and the client profiles: the continuum's points
 * clockwise; jump: the next buckets; maglev: the next table entries;
 * wrapping); `*found` gets how many, `min(n, rl_ring_len)` (fewer only for a
 * node whose weight earns it no point, as a light ketama node). Entries past
 * `*found` are left untouched.
 *
 * O(points + n) time. Up to 16 names it allocates nothing; above, it
 * allocates `n` ids, and above 32 a bitset of the nodes seen (nodes / 8
 * bytes, on the stack up to 4,096 nodes).
 *
 * `n` = 0 is allowed (finds 0), and then `nodes` may be NULL. `key` may be
 * NULL only when `key_len` is 0.
 *
 * The names are borrowed from `ring`: valid until the next mutation of `ring`
 * (`rl_ring_add`, `rl_ring_add_many`, `rl_ring_remove`, `rl_ring_set_weight`)
 * or `rl_ring_free`. Do not free them.
 *
 * Returns `RL_OK`, `RL_ERR_EMPTY_RING` (whatever `n`) or
 * `RL_ERR_INVALID_ARGUMENT` (`ring` or `found` NULL, `nodes` NULL with
 * `n` > 0, `key` NULL with `key_len` > 0). Outputs are written only on
 * success. Safe concurrently with other `const rl_ring *` calls.
 */
rl_status rl_ring_get_n(const rl_ring *ring,
                        const void *key,
                        size_t key_len,
                        const char **nodes,
                        size_t n,
                        size_t *found);

/**
 * Stores in `nodes[i]` the owner of key `i`, `keys[i][0..key_lens[i]]`, for
 * each of the `count` keys: the same answers as `count` calls of
 * `rl_ring_get`, found by the batched lookup (blocks of 32 keys whose table
 * reads overlap). `keys[i]` may be NULL only when `key_lens[i]` is 0; the
 * three arrays may be NULL only when `count` is 0.
 *
 * The names are borrowed from `ring`: valid until the next mutation of `ring`
 * (`rl_ring_add`, `rl_ring_add_many`, `rl_ring_remove`, `rl_ring_set_weight`)
 * or `rl_ring_free`. Do not free them.
 *
 * Returns `RL_OK`, `RL_ERR_EMPTY_RING` (whatever `count`) or
 * `RL_ERR_INVALID_ARGUMENT` (`ring` NULL, an array NULL with `count` > 0, a
 * key NULL with its length > 0). `nodes` is written only on success.
 * Allocates nothing; safe concurrently with other `const rl_ring *` calls.
 */
rl_status rl_ring_get_many(const rl_ring *ring,
                           const void *const *keys,
                           const size_t *key_lens,
                           size_t count,
                           const char **nodes);

/**
 * The number of nodes in `ring`; 0 if `ring` is NULL (recorded as a failure
 * for `rl_last_error`). Safe concurrently with other `const rl_ring *` calls.
 */
size_t rl_ring_len(const rl_ring *ring);

/**
 * The algorithm of `ring` (an `RL_ALGORITHM_*` value); 0 if `ring` is NULL
 * (recorded as a failure for `rl_last_error`). Safe concurrently with other
 * `const rl_ring *` calls.
 */
rl_algorithm rl_ring_algorithm(const rl_ring *ring);

/**
 * Enumerates the nodes: node `index` (0 <= `index` < `rl_ring_len(ring)`) in byte
 * order of the names. Stores its name in `*name` and its weight in
 * `*weight`.
 *
 * `*name` is borrowed from `ring`: valid until the next mutation of `ring`
 * (`rl_ring_add`, `rl_ring_add_many`, `rl_ring_remove`, `rl_ring_set_weight`)
 * or `rl_ring_free`. Do not free it.
 *
 * Returns `RL_OK`, `RL_ERR_NOT_FOUND` (`index` past the end) or
 * `RL_ERR_INVALID_ARGUMENT` (a pointer NULL). Outputs are written only on
 * success. Safe concurrently with other `const rl_ring *` calls.
 */
rl_status rl_ring_node(const rl_ring *ring, size_t index, const char **name, uint32_t *weight);

/**
 * Stores in `*contains` whether `node` is a node of `ring` (false for "").
 *
 * Returns `RL_OK` or `RL_ERR_INVALID_ARGUMENT` (a pointer NULL, `node` not
 * UTF-8). `*contains` is written only on success. Safe concurrently with
 * other `const rl_ring *` calls.
 */
rl_status rl_ring_contains(const rl_ring *ring, const char *node, bool *contains);

/**
 * Serialises `ring` (algorithm, vnodes or table size, nodes and weights; no table) into a
 * buffer the caller owns. The bytes are portable (little-endian,
 * checksummed, versioned) and equal rings give equal bytes.
 *
 * Size query: with `buf` NULL and `cap` 0, stores the number of bytes needed
 * in `*len` and returns `RL_OK`. Then, with `cap` >= that size, writes the
 * bytes to `buf[0..*len]` and stores their number in `*len`:
 *
 *     size_t need;
 *     rl_ring_serialize(ring, NULL, 0, &need);
 *     uint8_t *buf = malloc(need);
 *     rl_ring_serialize(ring, buf, need, &need);
 *
 * Returns `RL_OK` or `RL_ERR_INVALID_ARGUMENT` (`ring` or `len` NULL, `buf`
 * NULL with `cap` > 0, or `cap` smaller than the size needed: nothing is
 * written then and `rl_last_error` says how many bytes are needed). `buf`
 * and `*len` are written only on success. Safe concurrently with other
 * `const rl_ring *` calls.
 */
rl_status rl_ring_serialize(const rl_ring *ring, uint8_t *buf, size_t cap, size_t *len);

/**
 * Rebuilds a ring from `buf[0..len]` (bytes made by `rl_ring_serialize`, in
 * any process or version that writes format 1) and stores it in `*out`; free
 * it with `rl_ring_free`. Every field is checked: a buffer that loads is a
 * ring that could have been built, and its serialisation is `buf` again
 * (one ring, one encoding). `buf` may be NULL only when `len` is 0.
 *
 * The ring is loaded within the default limits (`rl_ring_limits`), checked
 * before any table is built: a few bytes cannot ask for gigabytes. Use
 * `rl_ring_deserialize_with_limits` for a larger ring.
 *
 * Returns `RL_OK`, `RL_ERR_CORRUPT` (truncated, altered, unknown version,
 * invalid content, past the limits), `RL_ERR_IO` (out of memory) or
 * `RL_ERR_INVALID_ARGUMENT` (`out` NULL, `buf` NULL with `len` > 0).
 * `*out` is written only on success. Thread-safe: the new ring is the
 * caller's alone.
 */
rl_status rl_ring_deserialize(const void *buf, size_t len, rl_ring **out);

/**
 * `rl_ring_deserialize` within `limits` (NULL: the defaults) instead of
 * the default limits; the ring keeps them. For rings larger than the
 * defaults allow, from a source you trust that much.
 *
 * Returns as `rl_ring_deserialize`, and `RL_ERR_INVALID_ARGUMENT` for a
 * limit above 2^26. `*out` is written only on success. Thread-safe: the
 * new ring is the caller's alone.
 */
rl_status rl_ring_deserialize_with_limits(const void *buf,
                                          size_t len,
                                          const rl_ring_limits *limits,
                                          rl_ring **out);

/**
 * Stores in `*position` the position of the key `key[0..key_len]` (any
 * bytes) in the space whose ranges `rl_ring_diff` reports: ketama, the key's
 * 32-bit MD5 hash (0 to 2^32 - 1); a client profile, its 32-bit key hash;
 * xxh3, its XXH3-64 hash (0 to 2^64 - 1); maglev, its table entry, XXH3-64
 * mod the table size. A key moves between two rings exactly when its
 * position lies in one of their diff's ranges. `key` may be NULL only when
 * `key_len` is 0. Works on an empty ring (the position does not depend on
 * the nodes).
 *
 * Returns `RL_OK` or `RL_ERR_INVALID_ARGUMENT` (`ring` or `position` NULL,
 * `key` NULL with `key_len` > 0, or a jump ring: jump places keys by bucket
 * number and has no positions). `*position` is written only on success.
 * Allocates nothing; safe concurrently with other `const rl_ring *` calls.
 */
rl_status rl_ring_position(const rl_ring *ring,
                           const void *key,
                           size_t key_len,
                           uint64_t *position);

/**
 * The migration plan from `before` to `after`: every range of key positions
 * (see `rl_ring_position`) whose owner differs between the two rings, with
 * the old and the new owner. Exact: a key's owner differs if and only if its
 * position lies in one of the ranges. The rings must use the same algorithm
 * (any but jump); their nodes, weights and vnodes may differ, but
 * two maglev tables must have the same size (the ranges are then runs of
 * table entries).
 *
 * On success `*moves` points to `*count` `rl_move` records sorted by `first`,
 * disjoint, never wrapping past the top of the space (such a range is split
 * in two); adjacent ranges with the same old and new owner are merged.
 * `*fraction` gets the share of the position space that moves (0 to 1):
 * the expected share of keys that move.
 *
 * Ownership and lifetime: the array and the node names it points to are ONE
 * allocation owned by the caller, to be freed with one `rl_moves_free(*moves)`
 * (also when `*count` is 0: `*moves` is never NULL on success). It does not
 * borrow from the rings: it stays valid after they change or are freed.
 *
 * Returns `RL_OK` or `RL_ERR_INVALID_ARGUMENT` (`before`, `after`, `moves`,
 * `count` or `fraction` NULL; the algorithms differ; maglev tables of
 * different sizes; jump rings, which have no positions). Outputs are written
 * only on success. Takes O(points of both rings) time and memory (maglev:
 * O(table size)); safe concurrently with other `const rl_ring *` calls on
 * either ring.
 */
rl_status rl_ring_diff(const rl_ring *before,
                       const rl_ring *after,
                       rl_move **moves,
                       size_t *count,
                       double *fraction);

/**
 * Frees an array made by `rl_ring_diff`, with the names it points to. NULL
 * is a no-op. Do not free an array twice or use it afterwards; no other
 * thread may be reading it.
 */
void rl_moves_free(rl_move *moves);

/**
 * Stores in `*node` the node that takes the key `key[0..key_len]` under
 * bounded loads (consistent hashing with bounded loads, Mirrokni, Thorup and
 * Zadimoghaddam): the first node in the key's ring order (the order of
 * `rl_ring_get_n`) whose load is below the cap
 * `ceil(factor * (sum of loads + 1) / rl_ring_len(ring))`, computed exactly.
 * Such a node always exists. With every load 0 the answer is
 * `rl_ring_get`'s. See docs/placement.md, "Bounded loads".
 *
 * `loads[i]` is the current load of node `i` of the enumeration
 * (`rl_ring_node(ring, i, ...)`, byte order of the names); `loads_len` must
 * be `rl_ring_len(ring)`. `factor` (the balance factor; 1.25 is the usual
 * choice) must be finite and above 1. `key` may be NULL only when `key_len`
 * is 0; `loads` only when `loads_len` is 0.
 *
 * `*node` is borrowed from `ring`: valid until the next mutation of `ring`
 * (`rl_ring_add`, `rl_ring_add_many`, `rl_ring_remove`, `rl_ring_set_weight`)
 * or `rl_ring_free`. Do not free it.
 *
 * Returns `RL_OK`, `RL_ERR_EMPTY_RING` or `RL_ERR_INVALID_ARGUMENT` (`ring`
 * or `node` NULL, `key` or `loads` NULL with a length > 0, `factor` NaN,
 * infinite or <= 1, `loads_len` not the number of nodes, loads summing past
 * 2^64 - 1). `*node` is written only on success. Allocates nothing; O(nodes)
 * plus the walk; safe concurrently with other `const rl_ring *` calls.
 */
rl_status rl_ring_get_bounded(const rl_ring *ring,
                              const void *key,
                              size_t key_len,
                              const uint64_t *loads,
                              size_t loads_len,
                              double factor,
                              const char **node);

/**
 * Creates a load tracker over a copy of `ring` (later changes to `ring` do
 * not reach it: make a new tracker after a change of membership), with the
 * balance factor `factor` (finite and above 1; 1.25 is the usual choice) and
 * every load 0; stores it in `*out`. Free it with `rl_tracker_free`.
 *
 * Returns `RL_OK`, `RL_ERR_EMPTY_RING` (`ring` has no nodes) or
 * `RL_ERR_INVALID_ARGUMENT` (`ring` or `out` NULL, `factor` NaN, infinite or
 * <= 1). `*out` is written only on success. Safe concurrently with other
 * `const rl_ring *` calls on `ring`.
 */
rl_status rl_tracker_new(const rl_ring *ring, double factor, rl_tracker **out);

/**
 * Takes a slot for the key `key[0..key_len]` on the node chosen by
 * bounded-load placement over the tracker's current loads (as
 * `rl_ring_get_bounded` would choose), and stores that node's name in
 * `*node`. Release the slot with `rl_tracker_release(tracker, *node)` when
 * the work is done. `key` may be NULL only when `key_len` is 0.
 *
 * `*node` is borrowed from the tracker: valid until `rl_tracker_free`. Do
 * not free it.
 *
 * Returns `RL_OK` or `RL_ERR_INVALID_ARGUMENT` (`tracker` or `node` NULL,
 * `key` NULL with `key_len` > 0, 2^64 - 1 slots held already). `*node` is
 * written, and a slot taken, only on success. Thread-safe.
 */
rl_status rl_tracker_acquire(rl_tracker *tracker,
                             const void *key,
                             size_t key_len,
                             const char **node);

/**
 * Gives back one slot of node `node` (a name, NUL-terminated UTF-8; any
 * pointer to an equal string will do, not only one `rl_tracker_acquire`
 * gave).
 *
 * Returns `RL_OK`, `RL_ERR_NOT_FOUND` (not a node of the tracker's ring) or
 * `RL_ERR_INVALID_ARGUMENT` (`tracker` or `node` NULL, `node` not UTF-8, the
 * node holds no slot). Nothing changes on failure. Thread-safe.
 */
rl_status rl_tracker_release(rl_tracker *tracker, const char *node);

/**
 * Stores in `*load` the number of slots node `node` holds now (a snapshot:
 * other threads may change it at once).
 *
 * Returns `RL_OK`, `RL_ERR_NOT_FOUND` (not a node of the tracker's ring) or
 * `RL_ERR_INVALID_ARGUMENT` (a pointer NULL, `node` not UTF-8). `*load` is
 * written only on success. Thread-safe.
 */
rl_status rl_tracker_load(const rl_tracker *tracker, const char *node, uint64_t *load);

/**
 * Frees a tracker made by `rl_tracker_new`; NULL is a no-op. Every name
 * borrowed from it becomes invalid. Needs exclusive access; do not free a
 * tracker twice. The ring it was made from is not affected.
 */
void rl_tracker_free(rl_tracker *tracker);

/**
 * Publishes `ring` at `path` as a new generation of the shared ring there;
 * stores the generation's number in `*generation` if it is not NULL.
 *
 * `path` without a `/` is a name in the calling user's default directory
 * (`/dev/shm/ringlock-<uid>/`, tmpfs, 0700); any other path names the ring
 * file itself, whose directory is created 0700 if missing. Beside it sit
 * `path.gen` (the generation word) and the publishers' lock
 * `path.publish.shm`; all three are 0600 and symlinks are never followed.
 * The first publish to a path is generation 1, each later one the next
 * number, whichever process publishes: publishers of one path are
 * serialised by a ringlock lock (this call blocks while another publishes).
 * Readers never see a partly written generation, and a publisher killed at
 * any point leaves the last complete generation readable.
 *
 * Returns `RL_OK`, `RL_ERR_INVALID_ARGUMENT` (`ring` or `path` NULL, `path`
 * empty, not UTF-8 or a bad name, a symlink), `RL_ERR_CORRUPT` (`path.gen`
 * is not a generation file) or `RL_ERR_IO`. Reads `ring` only: safe
 * concurrently with other `const rl_ring *` calls.
 */
rl_status rl_shared_ring_publish(const rl_ring *ring, const char *path, uint64_t *generation);

/**
 * Opens the shared ring published at `path` (as for
 * `rl_shared_ring_publish`) and stores a handle in `*out`; close it with
 * `rl_shared_ring_close`. The ring file is validated once (header,
 * checksum, every section) and mapped read-only; lookups read it in place.
 *
 * Returns `RL_OK`, `RL_ERR_NOT_FOUND` (nothing published there),
 * `RL_ERR_INVALID_ARGUMENT` (`path` or `out` NULL, a bad name, a symlink),
 * `RL_ERR_CORRUPT` (truncated, garbage, another version, a bad checksum,
 * inconsistent contents) or `RL_ERR_IO`. `*out` is written only on success.
 * Thread-safe: each handle is the caller's alone (open one per thread).
 */
rl_status rl_shared_ring_open(const char *path, rl_shared_ring **out);

/**
 * Stores in `*generation` the generation the handle answers from, after
 * taking up a newer one if it was published (as every lookup does). A
 * handle's generation never goes backwards.
 *
 * Names returned by earlier calls on `ring` may be invalid after this call
 * (see `rl_shared_ring_get`).
 *
 * Returns `RL_OK`, `RL_ERR_INVALID_ARGUMENT` (a pointer NULL), or the error
 * of a failed switch (`RL_ERR_CORRUPT`, `RL_ERR_NOT_FOUND`, `RL_ERR_IO`:
 * the handle keeps its generation). Not concurrently with other calls on
 * the same handle.
 */
rl_status rl_shared_ring_generation(rl_shared_ring *ring, uint64_t *generation);

/**
 * Stores in `*count` the number of nodes of the generation the handle
 * answers from (after taking up a newer one, as `rl_shared_ring_generation`).
 *
 * Returns `RL_OK`, `RL_ERR_INVALID_ARGUMENT` (a pointer NULL), or the error
 * of a failed switch. Not concurrently with other calls on the same handle.
 */
rl_status rl_shared_ring_node_count(rl_shared_ring *ring, size_t *count);

/**
 * Enumerates the nodes of the generation the handle holds, without looking
 * for a newer one: node `index` (0 <= `index` < the node count) in byte
 * order of the names — the order of the loads of `rl_shared_ring_get_bounded`.
 * Stores its name in `*name` and its weight in `*weight`.
 *
 * `*name` lives in the mapping: valid until the next call on `ring` or
 * `rl_shared_ring_close` (see `rl_shared_ring_get`). Do not free it.
 *
 * Returns `RL_OK`, `RL_ERR_NOT_FOUND` (`index` past the end) or
 * `RL_ERR_INVALID_ARGUMENT` (a pointer NULL). Outputs are written only on
 * success. Not concurrently with other calls on the same handle.
 */
rl_status rl_shared_ring_node(rl_shared_ring *ring,
                              size_t index,
                              const char **name,
                              uint32_t *weight);

/**
 * Closes a handle: unmaps its generation and frees it. Names it returned
 * become invalid. NULL is a no-op. Not concurrently with other calls on
 * the same handle.
 */
void rl_shared_ring_close(rl_shared_ring *ring);

/**
 * Stores in `*node` the name of the node that owns the key `key[0..key_len]`
 * in the newest generation published (taken up by this call if it is new):
 * the answer `rl_ring_get` gives on the ring that was published, byte for
 * byte. `key` may be NULL only when `key_len` is 0.
 *
 * Lifetime: `*node` points into the mapping of the generation that
 * answered. It stays valid until the next call on the same handle (any
 * `rl_shared_ring_*` call taking `ring`, which may switch to a newer
 * generation and unmap this one) or `rl_shared_ring_close`. Copy it to keep
 * it longer. Do not free it.
 *
 * Returns `RL_OK`, `RL_ERR_EMPTY_RING`, `RL_ERR_INVALID_ARGUMENT` (`ring`
 * or `node` NULL, `key` NULL with `key_len` > 0), or the error of a failed
 * switch (`RL_ERR_CORRUPT`, `RL_ERR_NOT_FOUND`, `RL_ERR_IO`: the handle
 * keeps its generation). `*node` is written only on success. No syscall
 * and no allocation unless the generation changed; not concurrently with
 * other calls on the same handle.
 */
rl_status rl_shared_ring_get(rl_shared_ring *ring,
                             const void *key,
                             size_t key_len,
                             const char **node);

/**
 * Stores up to `n` distinct node names for the key `key[0..key_len]` in
 * `nodes[0..n]`, owner first: `rl_ring_get_n`'s answer on the published
 * ring. `*found` gets how many. `n` = 0 is allowed (then `nodes` may be
 * NULL). Entries past `*found` are left untouched.
 *
 * The names live in the mapping, as for `rl_shared_ring_get`: valid until
 * the next call on `ring` or `rl_shared_ring_close`.
 *
 * Returns `RL_OK`, `RL_ERR_EMPTY_RING` (whatever `n`),
 * `RL_ERR_INVALID_ARGUMENT` (`ring` or `found` NULL, `nodes` NULL with
 * `n` > 0, `key` NULL with `key_len` > 0), or the error of a failed switch.
 * Outputs are written only on success. Not concurrently with other calls on
 * the same handle.
 */
rl_status rl_shared_ring_get_n(rl_shared_ring *ring,
                               const void *key,
                               size_t key_len,
                               const char **nodes,
                               size_t n,
                               size_t *found);

/**
 * Stores in `nodes[i]` the owner of key `i`, `keys[i][0..key_lens[i]]`, for
 * each of the `count` keys, all answered from one generation: the answers
 * of `rl_ring_get_many` on the published ring. `keys[i]` may be NULL only
 * when `key_lens[i]` is 0; the arrays may be NULL only when `count` is 0.
 *
 * The names live in the mapping, as for `rl_shared_ring_get`: valid until
 * the next call on `ring` or `rl_shared_ring_close`.
 *
 * Returns `RL_OK`, `RL_ERR_EMPTY_RING` (whatever `count`),
 * `RL_ERR_INVALID_ARGUMENT` (`ring` NULL, an array NULL with `count` > 0, a
 * key NULL with its length > 0), or the error of a failed switch. `nodes`
 * is written only on success. Not concurrently with other calls on the same
 * handle.
 */
rl_status rl_shared_ring_get_many(rl_shared_ring *ring,
                                  const void *const *keys,
                                  const size_t *key_lens,
                                  size_t count,
                                  const char **nodes);

/**
 * Stores in `*node` the node that takes the key `key[0..key_len]` under
 * bounded loads in the newest generation published: `rl_ring_get_bounded`'s
 * answer on the published ring (same cap, same order, same errors).
 * `loads[i]` is the load of node `i` of `rl_shared_ring_node`'s order;
 * `loads_len` must be the node count of the generation that answers — check
 * `rl_shared_ring_generation` when the membership may have changed. `key`
 * may be NULL only when `key_len` is 0; `loads` only when `loads_len` is 0.
 *
 * `*node` lives in the mapping, as for `rl_shared_ring_get`: valid until the
 * next call on `ring` or `rl_shared_ring_close`.
 *
 * Returns `RL_OK`, `RL_ERR_EMPTY_RING`, `RL_ERR_INVALID_ARGUMENT` (`ring`
 * or `node` NULL, `key` or `loads` NULL with a length > 0, `factor` NaN,
 * infinite or <= 1, `loads_len` not the number of nodes, loads summing past
 * 2^64 - 1), or the error of a failed switch. `*node` is written only on
 * success. Not concurrently with other calls on the same handle.
 */
rl_status rl_shared_ring_get_bounded(rl_shared_ring *ring,
                                     const void *key,
                                     size_t key_len,
                                     const uint64_t *loads,
                                     size_t loads_len,
                                     double factor,
                                     const char **node);

/**
 * Lamping and Veach's jump consistent hash: the bucket in `[0, buckets)` of
 * `key`, the published algorithm bit for bit. Returns -1 when `buckets` <= 0.
 * Pure and thread-safe.
 */
int32_t rl_jump_hash(uint64_t key, int32_t buckets);

/**
 * Opens (creating it if needed) the lock `name` and stores a new handle in
 * `*out`; close it with `rl_lock_close`. Opening does not acquire.
 *
 * `name`: 1 to 200 characters from `A-Z a-z 0-9 . _ -`, not "." or "..";
 * never a path. `options` may be NULL for the defaults (the shm backend in
 * `/dev/shm/ringlock-<uid>/`, files 0600); see `rl_lock_options`. The same
 * name with another backend is another lock.
 *
 * etcd (`RL_BACKEND_ETCD`): opening connects. The handles of one process
 * opened with the same endpoints, `ttl_s`, `etcd_namespace` and
 * `request_timeout_ms` share one connection and one lease, kept alive by one
 * background thread while any of them is open; the first open grants the
 * lease (bounded by `request_timeout_ms`), the later ones make no request.
 * No key is written until `rl_lock_acquire`.
 *
 * Returns `RL_OK`, `RL_ERR_INVALID_ARGUMENT` (`name` or `out` NULL, a bad
 * name, an unknown backend, a bad `file_mode`, an empty `dir`, a symlink in
 * the lock path, a directory other users could write to, another user's lock
 * file; for etcd no endpoint, a NULL or malformed one, `ttl_s` 1, a bad
 * `etcd_namespace`, a local-backend field set (or an etcd field set with a
 * local backend): see `rl_lock_options`; nothing is created or changed then),
 * `RL_ERR_CORRUPT` (the lock file exists but is not an intact lock file of
 * this backend and layout version, or its page was made for another file:
 * it is left untouched, remove it yourself if you know it is stale),
 * `RL_ERR_IO`, or for etcd `RL_ERR_UNAVAILABLE` (no endpoint answered as
 * etcd within `request_timeout_ms`; the message says what each answered).
 * `*out` is written only on success. Thread-safe.
 */
rl_status rl_lock_open(const char *name, const rl_lock_options *options, rl_lock **out);

/**
 * Closes a handle made by `rl_lock_open`; NULL is a no-op. If the handle
 * holds the lock in this process, the hold is released first (etcd: within
 * `request_timeout_ms`; a failure is not reported, and the key then expires
 * with the lease). Closing the last etcd handle of a connection stops its
 * keep-alive thread and revokes its lease (bounded by 1 s). In a forked
 * child, closing an inherited handle never releases the parent's hold.
 *
 * Needs exclusive access: no other call on the handle may run at the same
 * time (a thread blocked in `rl_lock_acquire` on it included), and the
 * handle must not be used afterwards. Do not close a handle twice.
 */
void rl_lock_close(rl_lock *lock);

/**
 * Acquires the lock through `lock` in `mode` (`RL_MODE_EXCLUSIVE` or
 * `RL_MODE_SHARED`) and, if `hold` is not NULL, stores what the acquisition
 * gives in `*hold` (fencing token, whether a previous holder died).
 *
 * `timeout_ms`: -1 waits for ever (the call may then block indefinitely,
 * e.g. behind a holder that is stopped or that never releases); 0 tries
 * once (`RL_ERR_WOULD_BLOCK` if the lock is held); > 0 waits at most that
 * many milliseconds on the monotonic clock (`RL_ERR_TIMEOUT`). A waiter
 * sleeps in the kernel, is woken by the release, and takes over from a
 * holder that died (kill -9 included) within about 20 ms.
 *
 * A lock belongs to the process: it stays held until `rl_lock_release` (from
 * any thread of this process), `rl_lock_close` or the process's death — not
 * the calling thread's exit. Not reentrant: acquiring again through the same
 * handle from the thread that holds it is `RL_ERR_DEADLOCK`, never a hang.
 * Other threads using the same handle wait their turn (within `timeout_ms`).
 *
 * etcd (`RL_BACKEND_ETCD`): both modes, queued in one order of arrival. An
 * exclusive acquisition holds when nothing came before it; a shared one
 * when no exclusive acquisition came before it (readers hold together; a
 * reader that comes after a waiting writer waits for it). The handle is the
 * same lock as an exclusive-only etcd lock of the same name in any
 * language. Exclusive: the token is the create revision of the hold's key
 * in etcd; `previous_owner_died` says that the previous exclusive holder's
 * lease expired (it died, was stopped, or lost etcd) instead of releasing,
 * which happens within the TTL of its death. Shared: the token is the last
 * exclusive hold's (0 if none), and `previous_owner_died` says whether that
 * holder's lease expired (a reader that dies is not reported). A try (0)
 * fails with `RL_ERR_WOULD_BLOCK` when it would wait: exclusive, when the
 * lock is held or waited for; shared, when an exclusive acquisition holds
 * or waits. Any
 * acquisition through a handle that holds or is acquiring is
 * `RL_ERR_DEADLOCK`, from whichever thread (open a handle per thread).
 * While held, the hold lasts as long as the process's lease is renewed:
 * see `rl_lock_check`. A failed acquisition leaves no key behind.
 *
 * Returns `RL_OK`, `RL_ERR_WOULD_BLOCK`, `RL_ERR_TIMEOUT`, `RL_ERR_DEADLOCK`,
 * `RL_ERR_INVALID_ARGUMENT` (`lock` NULL, an unknown mode, `timeout_ms`
 * < -1, a handle inherited across fork() on etcd;
 * nothing is acquired then), `RL_ERR_CORRUPT` (the lock file was
 * truncated, rewritten or reset while in use: nothing is acquired, and the
 * handle stays unusable), `RL_ERR_IO`, or for etcd `RL_ERR_UNAVAILABLE`
 * (etcd did not answer within `timeout_ms`, or within `request_timeout_ms`
 * for one step) and `RL_ERR_LOST` (this process's lease expired while it
 * waited: it does not hold the lock). `*hold` is written only on success.
 * Thread-safe: may run concurrently with `rl_lock_acquire`,
 * `rl_lock_release`, `rl_lock_check` and `rl_lock_status` on the same
 * handle.
 */
rl_status rl_lock_acquire(rl_lock *lock, rl_mode mode, int64_t timeout_ms, rl_hold *hold);

/**
 * Releases the hold of `lock`. May be called from any thread of the process
 * that acquired.
 *
 * Returns `RL_OK`, `RL_ERR_INVALID_ARGUMENT` (`lock` NULL, nothing held
 * through this handle, or a handle inherited across fork(): the child does
 * not hold the parent's lock and cannot release it), `RL_ERR_CORRUPT` (the
 * lock file was truncated or rewritten while held: the hold is gone),
 * `RL_ERR_IO` (the hold is gone all the same), or for etcd `RL_ERR_LOST`
 * (the hold had been lost before: the lease expired or the key was gone, so
 * another may have held the lock meanwhile; what it protected may have been
 * changed by that other holder) and `RL_ERR_UNAVAILABLE` (etcd did not
 * answer within `request_timeout_ms`: the key is deleted later, or expires
 * with the lease). After any of these but `RL_ERR_INVALID_ARGUMENT` the
 * handle holds nothing. Thread-safe: may run concurrently with other calls
 * on the same handle except `rl_lock_close`.
 */
rl_status rl_lock_release(rl_lock *lock);

/**
 * Checks that `lock` still holds: `RL_OK` while this handle holds the lock
 * (in this process) and the hold is not known to be lost. Changes nothing.
 *
 * shm and file: `RL_OK` if held through this handle (a local hold cannot be
 * lost while the process lives). etcd: asks etcd that the hold's key still
 * exists and checks that the lease's deadline has not passed — call it
 * before acting on the hold after a long pause, or pass the token to a
 * store that fences.
 *
 * Returns `RL_OK`, `RL_ERR_INVALID_ARGUMENT` (`lock` NULL, nothing held
 * through this handle, a handle inherited across fork()), `RL_ERR_LOST`
 * (etcd: the hold was lost, for good — the lease expired or the key is
 * gone; another may hold the lock now. The handle still counts as holding
 * until `rl_lock_release`, which then returns `RL_ERR_LOST` too) or
 * `RL_ERR_UNAVAILABLE` (etcd did not answer within `request_timeout_ms`; the
 * hold may be intact). Thread-safe: may run concurrently with other calls
 * on the same handle except `rl_lock_close`.
 */
rl_status rl_lock_check(const rl_lock *lock);

/**
 * `rl_lock_status` for an etcd lock, each holder with its host and its
 * lease's time left: the last confirmed exclusive hold's token (0 if never
 * held exclusively) into `*token` (may be NULL), and the holders — one
 * exclusive, or every shared one — into `holders[0..*count]`, a buffer the
 * caller owns (nothing written keeps pointing into the library).
 *
 * Size convention as `rl_lock_status`: with `holders` NULL and `cap` 0,
 * stores the number of holders in `*count`. There are at most as many
 * shared holders as processes reading the lock: if they grew between two
 * calls, the second fails with `RL_ERR_INVALID_ARGUMENT` ("too small") and
 * the caller asks again. One request (or a few) to etcd; a snapshot,
 * possibly stale on return.
 *
 * Returns `RL_OK`, `RL_ERR_INVALID_ARGUMENT` (`lock` or `count` NULL,
 * `holders` NULL with `cap` > 0, `cap` too small, or a local (shm, file)
 * lock: these records exist only on etcd) or `RL_ERR_UNAVAILABLE` (etcd did
 * not answer within `request_timeout_ms`). Outputs are written only on
 * success. Thread-safe: may run concurrently with other calls on the same
 * handle except `rl_lock_close`.
 */
rl_status rl_lock_etcd_status(const rl_lock *lock,
                              uint64_t *token,
                              rl_etcd_holder *holders,
                              size_t cap,
                              size_t *count);

/**
 * `rl_lock_waiters` for an etcd lock, each waiter with its host and its
 * lease's time left: the acquisitions waiting, in the order they will hold,
 * with their modes, into `waiters[0..*count]`, a buffer the caller owns.
 * Size convention, errors and thread-safety as `rl_lock_etcd_status`
 * (`RL_ERR_INVALID_ARGUMENT` on a local lock).
 */
rl_status rl_lock_etcd_waiters(const rl_lock *lock,
                               rl_etcd_holder *waiters,
                               size_t cap,
                               size_t *count);

/**
 * Reads who holds the lock, without taking it: the last fencing token
 * handed out (0 if never acquired exclusively) into `*token` (may be NULL),
 * and the recorded holders (an exclusive one, or shared ones; a dead one
 * until it is reaped) into a buffer the caller owns, with their number in
 * `*count`.
 *
 * Size convention (as `rl_ring_serialize`): with `holders` NULL and `cap` 0,
 * stores the number of holders in `*count` and returns `RL_OK`. With
 * `holders` pointing to `cap` entries, writes `holders[0..*count]` if
 * `cap` >= the number of holders. The holders may change between two calls:
 * a buffer of `RL_LOCK_MAX_HOLDERS` entries is always large enough.
 *
 *     rl_holder holders[RL_LOCK_MAX_HOLDERS];
 *     size_t n;
 *     uint64_t token;
 *     rl_lock_status(lock, &token, holders, RL_LOCK_MAX_HOLDERS, &n);
 *
 * The answer is a snapshot: it may be stale by the time the call returns.
 *
 * etcd: one request (or a few) to etcd. `*token` is the token of the last
 * confirmed exclusive hold; the holders are one exclusive holder or every
 * shared one (the waiters: `rl_lock_waiters`; hosts and leases' time left:
 * `rl_lock_etcd_status`), each with its pid (possibly on another host), its
 * mode, `since_ms` (when it began to wait), its token (a shared holder's is
 * the last exclusive token when it took its hold), and `RL_LIVENESS_ALIVE`
 * while its lease runs, `RL_LIVENESS_DEAD` once the lease is gone. Shared
 * holders on etcd are not bounded by `RL_LOCK_MAX_HOLDERS`: if the buffer is
 * too small the call fails (nothing written) and `rl_last_error` says how
 * many there are.
 *
 * Returns `RL_OK`, `RL_ERR_INVALID_ARGUMENT` (`lock` or `count` NULL,
 * `holders` NULL with `cap` > 0, or `cap` smaller than the number of
 * holders: nothing is written then and `rl_last_error` says how many there
 * are) or, for etcd, `RL_ERR_UNAVAILABLE` (no answer within
 * `request_timeout_ms`). Outputs are written only on success. Thread-safe: may run
 * concurrently with other calls on the same handle except `rl_lock_close`.
 */
rl_status rl_lock_status(const rl_lock *lock,
                         uint64_t *token,
                         rl_holder *holders,
                         size_t cap,
                         size_t *count);

/**
 * Reads the acquisitions waiting for the lock, in the order they will hold
 * it, into a buffer the caller owns, with their number in `*count`. etcd
 * only: the local backends do not record their waiters (the count is 0).
 * Each entry is as `rl_lock_status` reports a holder (pid, possibly on
 * another host; the mode it waits for; `since_ms`, when it began to wait;
 * the token it will hold (exclusive) or its key's revision (shared);
 * `RL_LIVENESS_ALIVE` while its lease runs, `RL_LIVENESS_DEAD` once gone).
 *
 * Size convention as `rl_lock_status`: with `waiters` NULL and `cap` 0,
 * stores the number in `*count`. There is no upper bound on etcd waiters:
 * if the queue grew between the two calls the second fails with
 * `RL_ERR_INVALID_ARGUMENT` ("too small"), and the caller asks again.
 * One request (or a few) to etcd; a snapshot, possibly stale on return.
 *
 * Returns `RL_OK`, `RL_ERR_INVALID_ARGUMENT` (`lock` or `count` NULL,
 * `waiters` NULL with `cap` > 0, `cap` too small: nothing is written) or
 * `RL_ERR_UNAVAILABLE` (etcd did not answer within `request_timeout_ms`).
 * Outputs are written only on success. Thread-safe: may run concurrently
 * with other calls on the same handle except `rl_lock_close`.
 */
rl_status rl_lock_waiters(const rl_lock *lock, rl_holder *waiters, size_t cap, size_t *count);

/**
 * Registers node `node` with weight `weight` (>= 1) and address `addr` in
 * ring `ring` in the etcd cluster at `endpoints`, and stores the new member
 * in `*out`; release it with `rl_member_leave` or `rl_member_free`.
 *
 * `endpoints` is an array of `endpoint_count` (at least 1) NUL-terminated
 * URLs, `http://host:port` (TLS is not supported); when one cannot be
 * reached the next is tried. `ring`: 1 to 200 characters from
 * `A-Z a-z 0-9 . _ -`. `node`: the ring's node name (non-empty UTF-8, at
 * most 1024 bytes). `addr`: free text for the ring's users, e.g.
 * `host:port`, at most 1024 bytes; NULL means "". `options` may be NULL
 * for the defaults (see `rl_member_options`).
 *
 * The member stays in the ring while this process keeps its lease alive
 * (a background thread renews it): a process that dies, hangs or loses
 * etcd drops out within the TTL (plus etcd's 500 ms tick). A member whose
 * lease was lost while its process lives joins again by itself, under a
 * new lease, once etcd answers (`rl_member_rejoins`). A forked child does
 * not inherit the membership: its calls on the handle fail.
 *
 * Blocks for up to `request_timeout_ms` (each endpoint tried in turn).
 * Returns `RL_OK`, `RL_ERR_INVALID_ARGUMENT` (a pointer NULL, no endpoint,
 * a malformed endpoint, a bad ring name, node, weight 0, address, TTL or
 * namespace), `RL_ERR_ALREADY_EXISTS` (a live member of the ring has this
 * node id) or `RL_ERR_UNAVAILABLE` (no endpoint answered as etcd in time).
 * `*out` is written only on success. Thread-safe.
 */
rl_status rl_member_join(const char *const *endpoints,
                         size_t endpoint_count,
                         const rl_member_options *options,
                         const char *ring,
                         const char *node,
                         uint32_t weight,
                         const char *addr,
                         rl_member **out);

/**
 * Checks that `member` is registered now: its lease's local deadline has
 * not passed and its key is still in etcd (one request).
 *
 * Returns `RL_OK`, `RL_ERR_LOST` (the lease expired or the key is gone:
 * watchers have dropped the node, or will; it joins again by itself once
 * etcd answers, unless another member took its node id meanwhile),
 * `RL_ERR_UNAVAILABLE` (etcd did not answer within the request timeout) or
 * `RL_ERR_INVALID_ARGUMENT` (`member` NULL, or called in a forked child).
 * Thread-safe.
 */
rl_status rl_member_check(const rl_member *member);

/**
 * The etcd revision at which `member` (last) joined: its key's create
 * revision, the revision of the first placement that holds it (see
 * `rl_ring_watcher_wait`). 0 if `member` is NULL (recorded for
 * `rl_last_error`). Thread-safe.
 */
uint64_t rl_member_revision(const rl_member *member);

/**
 * How many times `member` joined again by itself after its lease was
 * lost. 0 if `member` is NULL (recorded for `rl_last_error`). Thread-safe.
 */
uint64_t rl_member_rejoins(const rl_member *member);

/**
 * Leaves the ring and frees `member`: stops rejoining, deletes the
 * member's key (only this member's, never a newer member of the same node
 * id) and revokes its lease. The handle is freed whatever the status;
 * never use it again.
 *
 * Blocks for up to twice the request timeout. Returns `RL_OK`,
 * `RL_ERR_LOST` (the key was gone already: the lease had expired),
 * `RL_ERR_UNAVAILABLE` (etcd did not answer; the key then expires with the
 * lease, within the TTL) or `RL_ERR_INVALID_ARGUMENT` (`member` NULL:
 * nothing is freed; or called in a forked child: the parent's member
 * stays). Needs exclusive access.
 */
rl_status rl_member_leave(rl_member *member);

/**
 * Frees `member` without waiting for an answer: its lease is revoked
 * (best effort, at most 1 s), which deletes its key, so the node drops out
 * of the ring at once, or within the TTL if etcd cannot be reached. In a
 * forked child it only frees the memory (the parent's member stays). NULL
 * is a no-op. Needs exclusive access; do not free a member twice.
 */
void rl_member_free(rl_member *member);

/**
 * Lists the members of ring `ring` in the etcd cluster at `endpoints`,
 * builds their ring and starts following them; stores the new watcher in
 * `*out`. Close it with `rl_ring_watcher_close`.
 *
 * `endpoints`, `endpoint_count` and `ring` as for `rl_member_join`.
 * `ring_options` chooses the algorithm, vnodes and maglev's table size as
 * for `rl_ring_new_with_options` (NULL: xxh3 with 160 vnodes); every
 * watcher of one ring should use the same, so that they place keys alike.
 * `options` may be NULL for the defaults (see `rl_ring_watcher_options`).
 *
 * When this returns `RL_OK` the watcher holds the ring of the members at
 * the list's revision (possibly empty). Blocks for up to
 * `request_timeout_ms`. Returns `RL_OK`, `RL_ERR_INVALID_ARGUMENT` (a
 * pointer NULL, no endpoint, a malformed endpoint, a bad ring name, ring
 * options or namespace) or `RL_ERR_UNAVAILABLE` (etcd did not answer the
 * list in time). `*out` is written only on success. Thread-safe.
 */
rl_status rl_ring_watcher_open(const char *const *endpoints,
                               size_t endpoint_count,
                               const char *ring,
                               const rl_ring_options *ring_options,
                               const rl_ring_watcher_options *options,
                               rl_ring_watcher **out);

/**
 * Stores a copy of the watcher's current ring in `*ring` and its revision
 * (the etcd revision whose members built it) in `*revision`.
 *
 * The ring is a new, independent `rl_ring` that the caller owns: free it
 * with `rl_ring_free`. It does not follow later changes (call again, or
 * `rl_ring_watcher_wait`, for a newer one); it may be used after the
 * watcher is closed. Copying costs one copy of the ring's table: keep it
 * for a run of lookups rather than copying per key. `revision` may be
 * NULL; `ring` may be NULL to read the revision alone.
 *
 * Returns `RL_OK`, `RL_ERR_INVALID_ARGUMENT` (`watcher` NULL) or
 * `RL_ERR_IO` (out of memory). Outputs are written only on success.
 * Thread-safe.
 */
rl_status rl_ring_watcher_current(const rl_ring_watcher *watcher,
                                  rl_ring **ring,
                                  uint64_t *revision);

/**
 * The revision of the watcher's current placement; 0 if `watcher` is NULL
 * (recorded for `rl_last_error`). Thread-safe.
 */
uint64_t rl_ring_watcher_revision(const rl_ring_watcher *watcher);

/**
 * Waits until the watcher's placement has a revision above
 * `after_revision`, then stores a copy of its ring in `*ring` and its
 * revision in `*revision`, as `rl_ring_watcher_current` does (both may be
 * NULL). Pass the revision of the ring you hold to wait for the next one.
 *
 * `timeout_ms`: -1 waits for ever, 0 does not wait (returns at once), a
 * positive value waits at most that many milliseconds (one too large for
 * the clock waits for ever). A newer placement present already returns at
 * once.
 *
 * Returns `RL_OK`, `RL_ERR_TIMEOUT` (no newer placement in time),
 * `RL_ERR_INVALID_ARGUMENT` (`watcher` NULL, `timeout_ms` below -1) or
 * `RL_ERR_IO` (out of memory). Outputs are written only on success.
 * Thread-safe; blocks only the calling thread.
 */
rl_status rl_ring_watcher_wait(const rl_ring_watcher *watcher,
                               uint64_t after_revision,
                               int64_t timeout_ms,
                               rl_ring **ring,
                               uint64_t *revision);

/**
 * Copies the address that member `node` registered (its `addr` in
 * `rl_member_join`), NUL-terminated, into `buf`, a buffer of `cap` bytes
 * the caller owns, and stores the size written (the NUL included) in
 * `*len`. Addresses are at most 1024 bytes: a buffer of 1025 always
 * suffices. The address is read from the watcher's current placement: a node
 * that left since a ring was copied is not found.
 *
 * Size query: with `buf` NULL and `cap` 0, stores the size needed (the
 * NUL included) in `*len` and returns `RL_OK`:
 *
 *     size_t need;
 *     rl_ring_watcher_addr(w, "node-1", NULL, 0, &need);
 *     char *addr = malloc(need);
 *     rl_ring_watcher_addr(w, "node-1", addr, need, &need);
 *
 * Returns `RL_OK`, `RL_ERR_NOT_FOUND` (`node` is not a member now) or
 * `RL_ERR_INVALID_ARGUMENT` (`watcher`, `node` or `len` NULL, `node` not
 * UTF-8, `buf` NULL with `cap` > 0, or `cap` smaller than the size needed:
 * `rl_last_error` says how many bytes are needed). `buf` and `*len` are
 * written only on success. Thread-safe.
 */
rl_status rl_ring_watcher_addr(const rl_ring_watcher *watcher,
                               const char *node,
                               char *buf,
                               size_t cap,
                               size_t *len);

/**
 * Stops the watcher's thread (within 100 ms, or the list request under
 * way) and frees it. Rings copied from it stay valid (they are the
 * caller's). NULL is a no-op. Needs exclusive access: no call on the
 * watcher may be running (a wait included); do not close a watcher twice.
 */
void rl_ring_watcher_close(rl_ring_watcher *watcher);

/**
 * `rl_ring_watcher_open`, and `on_change(change, user_data)` called after
 * each change of the ring (not for the first ring, which the open returns
 * with): each new ring comes with the migration plan from the ring before
 * it, `rl_ring_change`. The watcher's other calls are as for
 * `rl_ring_watcher_open`; close it with `rl_ring_watcher_close`, after
 * which the callback is never called again.
 *
 * The callback runs on the watcher's background thread, one change at a
 * time, in revision order, after the swap: `rl_ring_watcher_current` from
 * another thread already returns the new ring, and a thread blocked in
 * `rl_ring_watcher_wait` may wake before or while it runs. Every change the
 * watcher applies is handed over: when events follow each other within
 * `coalesce_ms` they make one change. Constraints: the callback must not
 * call `rl_ring_watcher_close` on this watcher (a deadlock: close waits for
 * the thread) and should not call back into it at all; it must not block
 * long — the watcher waits for it, so the next ring is delayed meanwhile
 * (the changes in between coalesce into one); it must not unwind (a C++
 * exception escaping it aborts the process). `user_data` (may be NULL) is
 * passed as given; the caller keeps it valid, and usable from that thread,
 * until `rl_ring_watcher_close` returns. Each call allocates a copy of both
 * rings and the plan (freed when it returns); if that fails (out of
 * memory) that change's callback is skipped.
 *
 * Returns as `rl_ring_watcher_open`, and `RL_ERR_INVALID_ARGUMENT` when
 * `on_change` is NULL. `*out` is written only on success. Thread-safe.
 */
rl_status rl_ring_watcher_open_with_callback(const char *const *endpoints,
                                             size_t endpoint_count,
                                             const char *ring,
                                             const rl_ring_options *ring_options,
                                             const rl_ring_watcher_options *options,
                                             rl_ring_change_fn on_change,
                                             void *user_data,
                                             rl_ring_watcher **out);

#ifdef __cplusplus
}  // extern "C"
#endif  // __cplusplus

#endif  /* RINGLOCK_H */
