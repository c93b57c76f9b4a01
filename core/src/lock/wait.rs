//! Deadlines and the sleeping side of the futex protocol shared by both
//! backends.

use super::futex;
use crate::error::{Error, ErrorKind, Result};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// How long a waiter sleeps before it re-checks that the holder is alive.
/// A release wakes waiters at once; this bounds only the detection of a
/// holder that died (the kernel wakes nobody then).
pub const LIVENESS_SLICE: Duration = Duration::from_millis(20);

/// When an acquisition gives up: never, at once (try), or at an instant.
#[derive(Debug, Clone, Copy)]
pub enum Deadline {
    Never,
    Now,
    At(Instant),
}

impl Deadline {
    pub fn after(timeout: Option<Duration>) -> Deadline {
        match timeout {
            None => Deadline::Never,
            Some(d) if d.is_zero() => Deadline::Now,
            Some(d) => Instant::now()
                .checked_add(d)
                .map_or(Deadline::Never, Deadline::At),
        }
    }

    /// Time left, capped at `cap`; `None` when the deadline has passed.
    pub fn remaining(self, cap: Duration) -> Option<Duration> {
        match self {
            Deadline::Never => Some(cap),
            Deadline::Now => None,
            Deadline::At(t) => {
                let left = t.saturating_duration_since(Instant::now());
                (!left.is_zero()).then(|| left.min(cap))
            }
        }
    }

    /// The error for running out of time.
    pub fn expired(self, name: &str) -> Error {
        match self {
            Deadline::Now => Error::new(
                ErrorKind::WouldBlock,
                format!("lock {name:?} is held by another holder"),
            ),
            _ => Error::new(
                ErrorKind::Timeout,
                format!("timed out waiting for lock {name:?}"),
            ),
        }
    }
}

/// How an acquisition may wait: its [`Deadline`], and an optional hook that
/// is called at least every `every` while it waits. A waiter calls
/// [`Budget::remaining`] before each sleep and sleeps at most what it gives,
/// so the hook runs between sleeps without the waiter giving up its place
/// (an shm writer keeps the lock word, a file writer its announcement).
pub struct Budget<'a> {
    pub deadline: Deadline,
    hook: Option<Hook<'a>>,
}

struct Hook<'a> {
    call: &'a mut dyn FnMut() -> Result<()>,
    every: Duration,
    /// When the hook is due; set at the first sleep.
    next: Option<Instant>,
}

impl<'a> Budget<'a> {
    /// A wait until `deadline`, without a hook.
    #[inline(always)]
    pub fn new(deadline: Deadline) -> Budget<'static> {
        Budget {
            deadline,
            hook: None,
        }
    }

    /// A wait until `deadline` that calls `hook` at least every `every`
    /// (not zero) while it waits.
    pub fn with_hook(
        deadline: Deadline,
        every: Duration,
        hook: &'a mut dyn FnMut() -> Result<()>,
    ) -> Budget<'a> {
        Budget {
            deadline,
            hook: Some(Hook {
                call: hook,
                every,
                next: None,
            }),
        }
    }

    /// Whether there is a hook to call while waiting (so a waiter must not
    /// block in the kernel without a bound).
    pub fn has_hook(&self) -> bool {
        self.hook.is_some()
    }

    /// How long the waiter may sleep now, at most `cap`: `Ok(None)` when the
    /// deadline has passed, the hook's error when the hook (called here when
    /// it is due) fails. The waiter then withdraws as on a timeout.
    pub fn remaining(&mut self, cap: Duration) -> Result<Option<Duration>> {
        let Some(left) = self.deadline.remaining(cap) else {
            return Ok(None);
        };
        let Some(h) = &mut self.hook else {
            return Ok(Some(left));
        };
        let now = Instant::now();
        let next = match h.next {
            Some(next) if next <= now => {
                (h.call)()?;
                // measured after the hook: a slow hook does not make the
                // next call due at once
                let after = Instant::now();
                after.checked_add(h.every).unwrap_or(after)
            }
            Some(next) => next,
            None => now.checked_add(h.every).unwrap_or(now),
        };
        h.next = Some(next);
        let until = next.saturating_duration_since(Instant::now());
        // a hook due now sleeps at least a moment rather than not at all
        Ok(Some(left.min(until.max(Duration::from_micros(100)))))
    }

    /// The error for running out of time.
    pub fn expired(&self, name: &str) -> Error {
        self.deadline.expired(name)
    }

    /// Whether this is a single try.
    pub fn is_try(&self) -> bool {
        matches!(self.deadline, Deadline::Now)
    }
}

/// Sleeps on `word` (if it still holds `seen`) for at most `slice`, counting
/// ourselves in `waiters` so that releasers know to wake us. The caller must
/// have registered in `waiters` *before* re-checking its condition and
/// reading `seen`; see [`Waiting`].
pub struct Waiting<'a> {
    word: &'a AtomicU32,
    waiters: &'a AtomicU32,
}

impl<'a> Waiting<'a> {
    /// Registers as a waiter on `word`.
    pub fn new(word: &'a AtomicU32, waiters: &'a AtomicU32) -> Self {
        waiters.fetch_add(1, Ordering::SeqCst);
        Waiting { word, waiters }
    }

    /// The current value of the word, to be read before checking the
    /// condition one last time.
    pub fn seen(&self) -> u32 {
        self.word.load(Ordering::SeqCst)
    }

    /// Sleeps while the word is still `seen`, for at most `slice`.
    pub fn sleep(&self, seen: u32, slice: Duration) {
        futex::wait(self.word, seen, slice);
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.waiters.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The waking side: bump the word and wake sleepers, if there are any.
#[inline]
pub fn wake(word: &AtomicU32, waiters: &AtomicU32) {
    if waiters.load(Ordering::SeqCst) > 0 {
        word.fetch_add(1, Ordering::SeqCst);
        futex::wake_all(word);
    }
}
