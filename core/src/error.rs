//! The one error type of the crate: a kind (what went wrong, stable, mapped to
//! C statuses and Python exceptions) and a message (for humans).

use std::fmt;

/// What kind of failure an [`Error`] is. Stable: the C and Python faces map
/// each kind to one status / exception class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A bad argument: empty or malformed name, zero weight, bad parameter.
    InvalidArgument,
    /// A lookup on a ring that has no nodes.
    EmptyRing,
    /// The named node (or object) does not exist.
    NotFound,
    /// The named node (or object) exists already.
    AlreadyExists,
    /// A non-blocking operation could not proceed.
    WouldBlock,
    /// A timed operation ran out of time.
    Timeout,
    /// The operation would deadlock (e.g. re-acquiring a held lock).
    Deadlock,
    /// An operating-system error.
    Io,
    /// Stored or serialised data is malformed.
    Corrupt,
    /// A bug in ringlock.
    Internal,
    /// A remote service (etcd) could not be reached, or did not answer,
    /// within the time allowed.
    Unavailable,
    /// A lock hold was lost: its lease expired (or its key is gone), so
    /// another holder may have taken the lock.
    Lost,
}

impl ErrorKind {
    /// Every kind, in the order of their C status values (1 to 12).
    pub const ALL: [ErrorKind; 12] = [
        ErrorKind::InvalidArgument,
        ErrorKind::EmptyRing,
        ErrorKind::NotFound,
        ErrorKind::AlreadyExists,
        ErrorKind::WouldBlock,
        ErrorKind::Timeout,
        ErrorKind::Deadlock,
        ErrorKind::Io,
        ErrorKind::Corrupt,
        ErrorKind::Internal,
        ErrorKind::Unavailable,
        ErrorKind::Lost,
    ];

    /// A short, stable, lower-case name of the kind.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidArgument => "invalid argument",
            ErrorKind::EmptyRing => "empty ring",
            ErrorKind::NotFound => "not found",
            ErrorKind::AlreadyExists => "already exists",
            ErrorKind::WouldBlock => "would block",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Deadlock => "deadlock",
            ErrorKind::Io => "i/o error",
            ErrorKind::Corrupt => "corrupt data",
            ErrorKind::Internal => "internal error",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Lost => "lock lost",
        }
    }
}

/// A failure: its [`ErrorKind`] and a message that says what and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    errno: Option<i32>,
}

impl Error {
    /// A new error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            errno: None,
        }
    }

    /// An operating-system error of `kind` (usually [`ErrorKind::Io`]):
    /// the message is `context: description (errno N, ENAME)`, e.g.
    /// `cannot open /x: Permission denied (errno 13, EACCES)`, and
    /// [`Error::errno`] keeps the number.
    pub fn os(kind: ErrorKind, context: impl fmt::Display, e: &std::io::Error) -> Self {
        Error {
            kind,
            message: format!("{context}: {}", crate::errno::describe(e)),
            errno: e.raw_os_error(),
        }
    }

    /// [`Error::os`] of kind [`ErrorKind::Io`].
    pub(crate) fn io(context: impl fmt::Display, e: &std::io::Error) -> Self {
        Error::os(ErrorKind::Io, context, e)
    }

    /// The [`ErrorKind::EmptyRing`] error of a lookup on a ring without
    /// nodes: the one wording every face reports ("the ring has no nodes").
    pub fn empty_ring() -> Self {
        Error::new(ErrorKind::EmptyRing, "the ring has no nodes")
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::InvalidArgument, message)
    }

    pub(crate) fn corrupt(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Corrupt, message)
    }

    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The detailed message (without the kind).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The operating system's error number (`errno`) of an OS error; `None`
    /// for every other error.
    pub fn errno(&self) -> Option<i32> {
        self.errno
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.as_str(), self.message)
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error {
            kind: ErrorKind::Io,
            message: crate::errno::describe(&e),
            errno: e.raw_os_error(),
        }
    }
}

/// `Result` with the crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_kind_and_message() {
        let e = Error::new(ErrorKind::NotFound, "node \"a\" is not in the ring");
        assert_eq!(e.to_string(), "not found: node \"a\" is not in the ring");
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert_eq!(e.message(), "node \"a\" is not in the ring");
    }

    #[test]
    fn the_empty_ring_error_has_one_wording() {
        let e = Error::empty_ring();
        assert_eq!(e.kind(), ErrorKind::EmptyRing);
        assert_eq!(e.to_string(), "empty ring: the ring has no nodes");
    }

    #[test]
    fn io_errors_map_to_io() {
        let e: Error = std::io::Error::from(std::io::ErrorKind::PermissionDenied).into();
        assert_eq!(e.kind(), ErrorKind::Io);
        assert_eq!(e.errno(), None);
    }

    #[test]
    fn os_errors_keep_and_name_their_errno() {
        let os = std::io::Error::from_raw_os_error(libc::EACCES);
        let e = Error::io("open /x", &os);
        assert_eq!(e.kind(), ErrorKind::Io);
        assert_eq!(e.errno(), Some(libc::EACCES));
        assert_eq!(e.message(), "open /x: Permission denied (errno 13, EACCES)");
        let e: Error = os.into();
        assert_eq!(e.errno(), Some(libc::EACCES));
        assert_eq!(e.message(), "Permission denied (errno 13, EACCES)");
        assert_eq!(Error::new(ErrorKind::Io, "x").errno(), None);
    }
}
