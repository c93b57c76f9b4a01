//! Deadlines and the sleeping side of the futex protocol shared by both
//! backends.

use super::futex;
use crate::error::{Error, ErrorKind};
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
