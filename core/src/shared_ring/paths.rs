//! Where a shared ring's files live. A bare name (no `/`) is a file in the
//! calling user's default directory, `/dev/shm/ringlock-<uid>/` (tmpfs,
//! 0700, the locks' directory); any other path is used as it is, its
//! directory created 0700 if missing and refused if it is a symlink.
//!
//! Beside the ring file `F` sit `F.gen` (the generation word) and the
//! publishers' lock `F.publish` (a ringlock shm lock, file `F.publish.shm`).

use crate::error::{Error, Result};
use crate::lock::{dir, validate_lock_name};
use std::path::{Path, PathBuf};

/// The files of one shared ring.
#[derive(Debug, Clone)]
pub(crate) struct Paths {
    /// The directory.
    pub dir: PathBuf,
    /// Whether it is the default directory (ownership and mode checked).
    pub is_default: bool,
    /// The ring file's name in `dir`.
    pub file: String,
    /// The ring file.
    pub ring: PathBuf,
    /// The generation word's file.
    pub control: PathBuf,
}

impl Paths {
    /// Resolves `path` (see the module docs).
    pub fn resolve(path: &Path) -> Result<Paths> {
        let text = path
            .to_str()
            .ok_or_else(|| Error::invalid(format!("shared ring path {path:?} is not UTF-8")))?;
        let (dir, is_default, file) = if !text.contains('/') {
            validate_lock_name(text).map_err(|e| {
                Error::invalid(format!(
                    "shared ring name {text:?} (a name without '/' lives in the default \
                     directory): {}",
                    e.message()
                ))
            })?;
            (dir::default_dir(), true, text.to_owned())
        } else {
            let file = path
                .file_name()
                .and_then(|f| f.to_str())
                .filter(|f| !text.ends_with('/') && *f != "." && *f != "..")
                .ok_or_else(|| Error::invalid(format!("shared ring path {text:?} names no file")))?
                .to_owned();
            let dir = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                _ => PathBuf::from("."),
            };
            (dir, false, file)
        };
        Ok(Paths {
            ring: dir.join(&file),
            control: dir.join(format!("{file}.gen")),
            dir,
            is_default,
            file,
        })
    }

    /// The name of the publishers' lock: the file name with every byte
    /// outside `[A-Za-z0-9._-]` as `_`, cut to fit, then `.publish`.
    pub fn lock_name(&self) -> String {
        let mut s: String = self
            .file
            .chars()
            .map(|c| match c {
                'A'..='Z' | 'a'..='z' | '0'..='9' | '.' | '_' | '-' => c,
                _ => '_',
            })
            .take(180)
            .collect();
        s.push_str(".publish");
        s
    }

    /// The directory as a lock directory option (`None` for the default).
    pub fn lock_dir(&self) -> Option<PathBuf> {
        (!self.is_default).then(|| self.dir.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_names_go_to_the_default_dir_paths_stay() {
        let p = Paths::resolve(Path::new("routes")).unwrap();
        assert!(p.is_default && p.ring == dir::default_dir().join("routes"));
        assert_eq!(p.control, dir::default_dir().join("routes.gen"));
        let p = Paths::resolve(Path::new("/tmp/x/ring file")).unwrap();
        assert!(!p.is_default);
        assert_eq!(p.dir, Path::new("/tmp/x"));
        assert_eq!(p.lock_name(), "ring_file.publish");
        let p = Paths::resolve(Path::new("./r")).unwrap();
        assert_eq!(p.dir, Path::new("."));
        assert!(Paths::resolve(Path::new("bad name")).is_err());
        assert!(Paths::resolve(Path::new("/tmp/")).is_err());
        assert!(Paths::resolve(Path::new("/tmp/..")).is_err());
    }
}
