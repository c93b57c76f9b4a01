//! Surviving a lock file that is truncated while it is mapped.
//!
//! Touching a shared file mapping past the file's end raises SIGBUS, whose
//! default action kills the process, and any process that may write to a
//! lock file can truncate it. So the first mapping ringlock makes installs a
//! SIGBUS handler (SA_SIGINFO | SA_ONSTACK) that knows every page ringlock has
//! mapped: for a fault inside one it maps a private zero page over it
//! (`mmap(MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS)`), notes the hit and
//! returns, so the faulting access is retried on that page. A zero page holds
//! no page identity, so the next check of the handle (see
//! `page::Mapped::check`) fails with `Corrupt` instead of trusting it. Every
//! other SIGBUS goes to the handler that was installed before ours, or gets
//! the default action (death, with a core dump).
//!
//! The registry is a list of fixed-size chunks of atomics that only grows:
//! the handler reads it without locks or allocation.

use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize};
use std::sync::{Once, OnceLock};

const CHUNK: usize = 64;
/// A slot's `base` while its registrant fills it in.
const RESERVED: usize = 1;

struct Slot {
    /// The mapping's address; 0 free, [`RESERVED`] being filled in.
    base: AtomicUsize,
    len: AtomicUsize,
    /// The handler replaced this mapping by a private zero page.
    hit: AtomicBool,
}

struct Chunk {
    slots: [Slot; CHUNK],
    /// The chunk registered before this one; set before this one is
    /// published and never changed.
    next: *const Chunk,
}

// SAFETY: `next` points to a leaked (never freed) chunk that is only read;
// all the rest are atomics.
unsafe impl Sync for Chunk {}

static HEAD: AtomicPtr<Chunk> = AtomicPtr::new(std::ptr::null_mut());
static INSTALL: Once = Once::new();
static PREVIOUS: OnceLock<libc::sigaction> = OnceLock::new();

/// A registered mapping; dropping it unregisters the mapping (drop it before
/// the mapping is unmapped).
pub struct Guard {
    slot: &'static Slot,
}

impl Guard {
    /// Whether the handler replaced the mapping (the file was truncated).
    pub fn hit(&self) -> bool {
        self.slot.hit.load(Acquire)
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.slot.base.store(0, Release);
    }
}

fn chunks() -> impl Iterator<Item = &'static Chunk> {
    // SAFETY: every pointer in the list is a leaked Box<Chunk>, never freed.
    let mut at = HEAD.load(Acquire) as *const Chunk;
    std::iter::from_fn(move || {
        // SAFETY: see above; null ends the list.
        let c = unsafe { at.as_ref() }?;
        at = c.next;
        Some(c)
    })
}

/// Registers the mapping `[base, base + len)` with the SIGBUS handler
/// (installing it on first use).
pub fn register(base: *const u8, len: usize) -> Guard {
    INSTALL.call_once(install);
    loop {
        for c in chunks() {
            for slot in &c.slots {
                if slot.base.load(Relaxed) == 0
                    && slot
                        .base
                        .compare_exchange(0, RESERVED, Acquire, Relaxed)
                        .is_ok()
                {
                    slot.len.store(len, Relaxed);
                    slot.hit.store(false, Relaxed);
                    slot.base.store(base as usize, Release);
                    return Guard { slot };
                }
            }
        }
        let head = HEAD.load(Acquire);
        let c = Box::leak(Box::new(Chunk {
            slots: std::array::from_fn(|_| Slot {
                base: AtomicUsize::new(0),
                len: AtomicUsize::new(0),
                hit: AtomicBool::new(false),
            }),
            next: head,
        }));
        if HEAD.compare_exchange(head, c, AcqRel, Acquire).is_err() {
            // SAFETY: `c` was never published; we own it alone.
            drop(unsafe { Box::from_raw(c as *mut Chunk) });
        }
    }
}

fn install() {
    // SAFETY: sigaction with a null new action only reads the current one
    // into `old`, a valid out-pointer; a zeroed sigaction is a valid value.
    let old = unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(libc::SIGBUS, std::ptr::null(), &mut old);
        old
    };
    let _ = PREVIOUS.set(old);
    // SAFETY: installs `on_sigbus`, an extern "C" function with the
    // SA_SIGINFO signature that lives for the whole program; the mask is
    // initialised by sigemptyset before use.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_sigbus as *const () as usize;
        sa.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
        libc::sigemptyset(&mut sa.sa_mask);
        libc::sigaction(libc::SIGBUS, &sa, std::ptr::null_mut());
    }
}

extern "C" fn on_sigbus(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo_t to an SA_SIGINFO handler;
    // si_addr is meaningful for the fault codes (si_code > 0), which are the
    // only ones we read it for.
    let (code, addr) = unsafe {
        let code = (*info).si_code;
        (
            code,
            if code > 0 {
                (*info).si_addr() as usize
            } else {
                0
            },
        )
    };
    if code > 0 {
        for c in chunks() {
            for slot in &c.slots {
                let base = slot.base.load(Acquire);
                let len = slot.len.load(Relaxed);
                if base <= RESERVED || addr < base || addr - base >= len {
                    continue;
                }
                // SAFETY: [base, base + len) is a live ringlock mapping: the
                // faulting access comes from a handle that is in use, so its
                // mapping (and its registration) outlive this handler. A
                // private anonymous mapping replaces it in place; mmap is a
                // plain system call, safe in a signal handler.
                let p = unsafe {
                    libc::mmap(
                        base as *mut libc::c_void,
                        len,
                        libc::PROT_READ | libc::PROT_WRITE,
                        libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                        -1,
                        0,
                    )
                };
                if p != libc::MAP_FAILED {
                    slot.hit.store(true, Release);
                    return;
                }
            }
        }
    }
    previous(sig, info, ctx, code);
}

/// Hands a SIGBUS that is not ours to the handler installed before ours.
fn previous(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void, code: i32) {
    let Some(old) = PREVIOUS.get() else { return };
    match old.sa_sigaction {
        libc::SIG_IGN if code <= 0 => {} // a sent SIGBUS that was ignored
        libc::SIG_DFL | libc::SIG_IGN => {
            // SAFETY: restores the default action (a valid, zeroed-then-set
            // sigaction). A fault then recurs when we return and kills the
            // process as it would have without us; a sent signal is raised
            // again and delivered once this handler returns.
            unsafe {
                let mut sa: libc::sigaction = std::mem::zeroed();
                sa.sa_sigaction = libc::SIG_DFL;
                libc::sigemptyset(&mut sa.sa_mask);
                libc::sigaction(sig, &sa, std::ptr::null_mut());
                if code <= 0 {
                    libc::raise(sig);
                }
            }
        }
        f if old.sa_flags & libc::SA_SIGINFO != 0 => {
            // SAFETY: the previous action was installed with SA_SIGINFO, so
            // `f` is a handler of this signature; we pass on our arguments.
            let h: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                unsafe { std::mem::transmute(f) };
            h(sig, info, ctx);
        }
        f => {
            // SAFETY: without SA_SIGINFO the previous action is a plain
            // `void (*)(int)` handler.
            let h: extern "C" fn(libc::c_int) = unsafe { std::mem::transmute(f) };
            h(sig);
        }
    }
}
