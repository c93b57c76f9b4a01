//! Hostile sizes: a few bytes that ask for a huge ring are refused before
//! anything is built, a failed allocation is an error (never an abort), and
//! raised limits let a big but legitimate ring load.

use ringlock::ring::{Limits, MAX_POINTS};
use ringlock::{Algorithm, ErrorKind, Ring};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::process::Command;
use xxhash_rust::xxh3::xxh3_64;

/// The system allocator, noting the largest single request made by the
/// current thread: "refused before anything is built" is checked by what
/// was allocated, not by how long it took.
struct Largest;

thread_local! {
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded unchanged to `System`, which upholds the
// `GlobalAlloc` contract; the thread-local `Cell` is const-initialised and
// has no destructor, so touching it never allocates or re-enters.
unsafe impl GlobalAlloc for Largest {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = LARGEST.try_with(|l| l.set(l.get().max(layout.size())));
        // SAFETY: the caller's `layout` obligations pass through unchanged.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this `layout` (above).
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Largest = Largest;

/// The largest single allocation `f` made on this thread, and its result.
fn largest_allocation<T>(f: impl FnOnce() -> T) -> (usize, T) {
    LARGEST.with(|l| l.set(0));
    let out = f();
    (LARGEST.with(|l| l.get()), out)
}

/// A serialised ring (format 1) with the given header fields and nodes,
/// sealed with its checksum.
fn serialised(algorithm: u8, vnodes: u32, nodes: &[(&str, u32)]) -> Vec<u8> {
    let mut b = b"RLRING\0\n".to_vec();
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&[algorithm, 0]);
    b.extend_from_slice(&vnodes.to_le_bytes());
    b.extend_from_slice(&(nodes.len() as u32).to_le_bytes());
    for (name, weight) in nodes {
        b.extend_from_slice(&(name.len() as u32).to_le_bytes());
        b.extend_from_slice(name.as_bytes());
        b.extend_from_slice(&weight.to_le_bytes());
    }
    let sum = xxh3_64(&b);
    b.extend_from_slice(&sum.to_le_bytes());
    b
}

/// 37 bytes: one xxh3 node with 2^26 virtual nodes (1 GiB of table).
fn huge_xxh3() -> Vec<u8> {
    serialised(2, 1 << 26, &[("a", 1)])
}

/// 37 bytes: one node in a Maglev table of 67,108,859 entries.
fn huge_maglev() -> Vec<u8> {
    serialised(4, 67_108_859, &[("a", 1)])
}

#[test]
fn tiny_inputs_asking_for_huge_rings_are_refused_at_once() {
    for (what, bytes) in [("xxh3", huge_xxh3()), ("maglev", huge_maglev())] {
        assert_eq!(bytes.len(), 37);
        let (largest, e) = largest_allocation(|| Ring::from_bytes(&bytes).unwrap_err());
        assert_eq!(e.kind(), ErrorKind::Corrupt, "{what}: {e}");
        assert!(e.message().contains("limit"), "{what}: {e}");
        assert!(
            largest < 1 << 16,
            "{what}: allocated {largest} bytes at once"
        );
    }
    // The measure sees a table being built: 2^14 virtual nodes of one node.
    let (largest, built) = largest_allocation(|| {
        let mut r = Ring::with_vnodes(Algorithm::Xxh3, 1 << 14).unwrap();
        r.add("a", 1).map(|_| r)
    });
    assert!(
        built.is_ok() && largest >= 1 << 16,
        "a real build allocated only {largest} bytes"
    );
    // A node count past the limit is refused before reading a node.
    let mut many = serialised(2, 160, &[]);
    many[16..20].copy_from_slice(&(1u32 << 21).to_le_bytes());
    let body = many.len() - 8;
    let sum = xxh3_64(&many[..body]);
    many[body..].copy_from_slice(&sum.to_le_bytes());
    let e = Ring::from_bytes(&many).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Corrupt);
    assert!(e.message().contains("nodes, more than the limit"), "{e}");
}

#[test]
fn building_past_the_default_limits_is_refused_unless_asked_for() {
    let too_many_vnodes = Ring::with_vnodes(Algorithm::Xxh3, 1 << 25).unwrap_err();
    assert_eq!(too_many_vnodes.kind(), ErrorKind::InvalidArgument);
    let big_table = Ring::with_config(Algorithm::Maglev, 0, 16_777_259).unwrap_err();
    assert!(big_table.message().contains("limit"), "{big_table}");
    assert!(Ring::with_config(Algorithm::Maglev, 0, 16_777_213).is_ok());
    let mut r = Ring::with_vnodes(Algorithm::Xxh3, 1 << 20).unwrap();
    let e = r.add("heavy", 17).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert!(e.message().contains("limit of 16777216"), "{e}");
    assert!(r.is_empty());
    // The caller may ask for more, up to MAX_POINTS, never past it.
    let more = Limits {
        max_points: 1 << 25,
        max_nodes: 0,
    };
    let r = Ring::with_limits(Algorithm::Xxh3, 1 << 25, 0, more).unwrap();
    assert_eq!(r.limits().max_points, 1 << 25);
    assert_eq!(r.limits().max_nodes, Limits::DEFAULT_MAX_NODES);
    let past = Limits {
        max_points: MAX_POINTS + 1,
        max_nodes: 0,
    };
    let e = Ring::with_limits(Algorithm::Xxh3, 0, 0, past).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    // A node limit.
    let few = Limits {
        max_points: 0,
        max_nodes: 2,
    };
    let mut r = Ring::with_limits(Algorithm::Jump, 0, 0, few).unwrap();
    r.add_many([("a", 1), ("b", 1)]).unwrap();
    assert_eq!(
        r.add("c", 1).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    assert_eq!(r.clone().limits(), r.limits());
}

#[test]
fn raised_limits_load_a_big_but_legitimate_ring() {
    // A jump ring of 2^24 + 1 buckets: past the default, within 2^25.
    let bytes = serialised(3, 0, &[("a", 1 << 23), ("b", (1 << 23) + 1)]);
    let e = Ring::from_bytes(&bytes).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Corrupt);
    assert!(e.message().contains("limit"), "{e}");
    let limits = Limits {
        max_points: 1 << 25,
        max_nodes: 0,
    };
    let r = Ring::from_bytes_with_limits(&bytes, limits).unwrap();
    assert_eq!(r.point_count(), (1 << 24) + 1);
    assert_eq!(r.to_bytes(), bytes);
    assert_eq!(r.limits().max_points, 1 << 25);
}

/// Runs this test binary again as `test` with `env` set, under `ulimit -v
/// kib`; returns its output (the child must exit 0).
fn run_under_ulimit(test: &str, kib: u64) -> String {
    let exe = std::env::current_exe().unwrap();
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -v {kib} && exec \"$0\" --exact {test} --nocapture --test-threads=1"
        ))
        .arg(&exe)
        .env("RINGLOCK_LIMITS_CHILD", "1")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "child {test} failed: {:?}\n{text}",
        out.status
    );
    text
}

#[test]
fn a_hostile_ring_under_a_memory_limit_is_an_error_not_an_abort() {
    if std::env::var_os("RINGLOCK_LIMITS_CHILD").is_some() {
        // In the child, under `ulimit -v` (512 MiB): the default limits
        // refuse the ring; the largest limits let it ask for 1 GiB of
        // points, which the allocator refuses.
        let e = Ring::from_bytes(&huge_xxh3()).unwrap_err();
        println!("default limits: {:?}: {}", e.kind(), e.message());
        let e = Ring::from_bytes_with_limits(&huge_xxh3(), Limits::MAX).unwrap_err();
        println!("largest limits: {:?}: {}", e.kind(), e.message());
        let mut r = Ring::with_limits(Algorithm::Xxh3, 1 << 26, 0, Limits::MAX).unwrap();
        let e = r.add("a", 1).unwrap_err();
        println!("add: {:?}: {}", e.kind(), e.message());
        assert!(r.is_empty());
        return;
    }
    let out = run_under_ulimit(
        "a_hostile_ring_under_a_memory_limit_is_an_error_not_an_abort",
        512 * 1024,
    );
    assert!(out.contains("default limits: Corrupt"), "{out}");
    assert!(out.contains("largest limits: Io: out of memory"), "{out}");
    assert!(out.contains("add: Io: out of memory"), "{out}");
}
