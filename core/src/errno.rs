//! How an operating-system error reads in a message: its description, its
//! number and the number's symbolic name, e.g. `Permission denied (errno 13,
//! EACCES)`, so that a C caller who sees only `rl_last_error()` text knows
//! the `errno` without a table.

use std::io;

/// The symbolic name of `errno` (`"EACCES"` for `libc::EACCES`), or `None`
/// for a number this table does not know.
pub(crate) fn name(errno: i32) -> Option<&'static str> {
    const NAMES: &[(i32, &str)] = &[
        (libc::EPERM, "EPERM"),
        (libc::ENOENT, "ENOENT"),
        (libc::ESRCH, "ESRCH"),
        (libc::EINTR, "EINTR"),
        (libc::EIO, "EIO"),
        (libc::ENXIO, "ENXIO"),
        (libc::E2BIG, "E2BIG"),
        (libc::EBADF, "EBADF"),
        (libc::ECHILD, "ECHILD"),
        (libc::EAGAIN, "EAGAIN"),
        (libc::ENOMEM, "ENOMEM"),
        (libc::EACCES, "EACCES"),
        (libc::EFAULT, "EFAULT"),
        (libc::EBUSY, "EBUSY"),
        (libc::EEXIST, "EEXIST"),
        (libc::EXDEV, "EXDEV"),
        (libc::ENODEV, "ENODEV"),
        (libc::ENOTDIR, "ENOTDIR"),
        (libc::EISDIR, "EISDIR"),
        (libc::EINVAL, "EINVAL"),
        (libc::ENFILE, "ENFILE"),
        (libc::EMFILE, "EMFILE"),
        (libc::ETXTBSY, "ETXTBSY"),
        (libc::EFBIG, "EFBIG"),
        (libc::ENOSPC, "ENOSPC"),
        (libc::ESPIPE, "ESPIPE"),
        (libc::EROFS, "EROFS"),
        (libc::EMLINK, "EMLINK"),
        (libc::EPIPE, "EPIPE"),
        (libc::ERANGE, "ERANGE"),
        (libc::EDEADLK, "EDEADLK"),
        (libc::ENAMETOOLONG, "ENAMETOOLONG"),
        (libc::ENOLCK, "ENOLCK"),
        (libc::ENOSYS, "ENOSYS"),
        (libc::ENOTEMPTY, "ENOTEMPTY"),
        (libc::ELOOP, "ELOOP"),
        (libc::EOVERFLOW, "EOVERFLOW"),
        (libc::ENOTSUP, "ENOTSUP"),
        (libc::ETIMEDOUT, "ETIMEDOUT"),
        (libc::EDQUOT, "EDQUOT"),
        (libc::ESTALE, "ESTALE"),
        (libc::EOWNERDEAD, "EOWNERDEAD"),
        (libc::ENOTRECOVERABLE, "ENOTRECOVERABLE"),
    ];
    NAMES.iter().find(|&&(n, _)| n == errno).map(|&(_, s)| s)
}

/// `e` as a message names it: `Permission denied (errno 13, EACCES)` for an
/// OS error (the number alone when [`name`] does not know it), `e`'s own text
/// for any other.
pub(crate) fn describe(e: &io::Error) -> String {
    let text = e.to_string();
    let Some(n) = e.raw_os_error() else {
        return text;
    };
    let what = text
        .strip_suffix(&format!(" (os error {n})"))
        .unwrap_or(&text);
    match name(n) {
        Some(sym) => format!("{what} (errno {n}, {sym})"),
        None => format!("{what} (errno {n})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_os_error_reads_with_its_number_and_name() {
        let e = io::Error::from_raw_os_error(libc::EACCES);
        assert_eq!(describe(&e), "Permission denied (errno 13, EACCES)");
        let e = io::Error::from_raw_os_error(libc::ENOTDIR);
        assert_eq!(describe(&e), "Not a directory (errno 20, ENOTDIR)");
    }

    #[test]
    fn an_unknown_number_reads_with_the_number_alone() {
        assert_eq!(name(100_000), None);
        let d = describe(&io::Error::from_raw_os_error(100_000));
        assert!(d.ends_with("(errno 100000)"), "{d}");
    }

    #[test]
    fn a_non_os_error_keeps_its_text() {
        let e = io::Error::other("short read");
        assert_eq!(describe(&e), "short read");
    }

    #[test]
    fn one_name_per_number() {
        let names: Vec<&str> = (0..4096).filter_map(name).collect();
        let mut distinct = names.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(names.len(), distinct.len(), "{names:?}");
        assert_eq!(name(libc::EAGAIN), Some("EAGAIN"));
    }
}
