//! Lock names: `[A-Za-z0-9._-]{1,200}`, never a path.

use crate::error::{Error, Result};

/// The longest lock name accepted.
pub const MAX_NAME_LEN: usize = 200;

/// Checks a lock name: 1 to 200 characters from `A-Z a-z 0-9 . _ -`, and not
/// `.` or `..`. Anything else is `InvalidArgument`.
pub fn validate_lock_name(name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(Error::invalid("lock name is empty"));
    }
    if name.len() > MAX_NAME_LEN {
        return Err(Error::invalid(format!(
            "lock name is {} bytes long; the limit is {MAX_NAME_LEN}",
            name.len()
        )));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(Error::invalid(format!(
            "lock name {name:?} contains {c:?}; names use only A-Z a-z 0-9 . _ -"
        )));
    }
    if name == "." || name == ".." {
        return Err(Error::invalid(format!("lock name {name:?} is not allowed")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_documented_alphabet() {
        for ok in ["a", "jobs", "A.b_c-9", &"x".repeat(200), "..a", ".hidden"] {
            assert!(validate_lock_name(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn refuses_everything_else() {
        for bad in [
            "",
            ".",
            "..",
            "a/b",
            "../x",
            "a b",
            "é",
            "a\0b",
            &"x".repeat(201),
            "a:b",
        ] {
            let e = validate_lock_name(bad).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::InvalidArgument, "{bad:?}");
            assert!(!e.message().is_empty());
        }
    }
}
