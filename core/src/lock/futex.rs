//! Waiting in the kernel on a 32-bit word of shared memory (Linux futex, not
//! private: the word lives in a mapping shared between processes).

use std::sync::atomic::AtomicU32;
use std::time::Duration;

/// Sleeps while `*word == expected`, at most `timeout`. Returns on a wake-up,
/// a changed word, a signal or the timeout; the caller re-checks its condition.
pub fn wait(word: &AtomicU32, expected: u32, timeout: Duration) {
    let ts = libc::timespec {
        tv_sec: timeout.as_secs().min(i64::MAX as u64) as libc::time_t,
        tv_nsec: timeout.subsec_nanos() as libc::c_long,
    };
    // SAFETY: `word` is a valid, aligned AtomicU32 that outlives the call
    // (it lives in a mapping held by the caller); FUTEX_WAIT only reads it;
    // `ts` is a valid relative timeout; the unused arguments are null/0.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT,
            expected,
            &ts as *const libc::timespec,
            std::ptr::null::<u32>(),
            0u32,
        );
    }
}

/// Wakes every waiter sleeping on `word`.
pub fn wake_all(word: &AtomicU32) {
    // SAFETY: `word` is a valid AtomicU32; FUTEX_WAKE does not access memory
    // beyond using the address as a key.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAKE,
            i32::MAX,
            std::ptr::null::<libc::timespec>(),
            std::ptr::null::<u32>(),
            0u32,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::Ordering;
    use std::sync::Arc;
    use std::time::Instant;

    #[test]
    fn wait_times_out_and_returns_at_once_on_a_changed_word() {
        let w = AtomicU32::new(1);
        let t = Instant::now();
        wait(&w, 0, Duration::from_secs(5));
        assert!(t.elapsed() < Duration::from_secs(1));
        let t = Instant::now();
        wait(&w, 1, Duration::from_millis(30));
        assert!(t.elapsed() >= Duration::from_millis(25));
    }

    #[test]
    fn wake_wakes_a_sleeper() {
        let w = Arc::new(AtomicU32::new(0));
        let w2 = w.clone();
        let t = Instant::now();
        let h = std::thread::spawn(move || {
            while w2.load(Ordering::SeqCst) == 0 {
                wait(&w2, 0, Duration::from_secs(10));
            }
        });
        std::thread::sleep(Duration::from_millis(20));
        w.store(1, Ordering::SeqCst);
        wake_all(&w);
        h.join().unwrap();
        assert!(t.elapsed() < Duration::from_secs(5));
    }
}
