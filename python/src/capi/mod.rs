//! The CPython C API, used directly: every `unsafe` block of the Python face
//! is in this module.
//!
//! What is here and why: the calls users make millions of times (`Ring.get`,
//! `SharedRing.get`, `jump_hash`, `Ring.get_many`) spend more in PyO3's
//! generic machinery than in the lookup, so they are plain CPython functions
//! ([`ring_get`], [`shared_get`], [`jump_hash`], sharing [`method`]) whose hot
//! path reads its arguments in place and whose every other case runs the
//! ordinary PyO3 method body; `get_many` reads its keys in place from an
//! exact list or tuple ([`get_many`], [`seq`]); [`bytes`] reads the bytes of
//! `str`, `bytes`, `bytearray` and `memoryview` objects without copying.
//!
//! # The invariants every unsafe read relies on
//!
//! 1. **The GIL is held** wherever a Python object is touched: CPython calls
//!    the C functions here with it held, and nothing here releases it while
//!    a borrowed pointer, slice or length is in use. (The detached part of
//!    `get_many` holds a new reference to each key before it lets go.)
//! 2. **Objects outlive their borrowed insides**: a borrowed pointer (an
//!    argument of a C function, an item of a list) is used only while its
//!    owner is alive — for the call, or while a new reference is held — and a
//!    slice of a `str`'s UTF-8 form or of a `bytes` object only while the
//!    object is, both being immutable. (numpy's `str_` and `bytes_` and any
//!    other subclass are immutable too.)
//! 3. **No Python code runs between reading a size and using it**: the length
//!    of a list or tuple is read from the object (`PyList_Size`, never
//!    `len()`, which a subclass may make lie), only *exact* lists and tuples
//!    are read in place (anything else is copied by `list(keys)` first, which
//!    is where a subclass's `__iter__`, `__len__` or `__getitem__` runs), and
//!    between the read and the last use of an item or of a `bytearray`'s
//!    buffer nothing calls into Python (no `__eq__`, `__hash__`, `__index__`,
//!    no decref that could run a `__del__`, no error conversion). The
//!    closures given to [`bytes::with_buffer`] (through `keys::with_key`) are
//!    ringlock's own and call no Python API.
//! 4. **The type was checked before the cast**: a method descriptor checks
//!    `self`'s type before CPython calls us, so `cast_unchecked` to the
//!    pyclass is sound; every other object is type-checked (exact-type or
//!    `Py*_Check`) before a type-specific macro reads it.
//! 5. **References are counted as CPython's functions say**: a C function
//!    returns a new reference or NULL with an exception set; `PyList_SET_ITEM`
//!    steals its reference into a slot still NULL; every `*_New`/`*_From*`
//!    result is wrapped at once as owned (`from_owned_ptr_or_err`).
//! 6. **Nothing unwinds into CPython**: the slow paths run inside
//!    `catch_unwind` ([`method::slow_call`]) and the hot paths cannot panic
//!    or raise (they return `None` for anything they do not handle, leaving
//!    no exception set).
//!
//! Each `unsafe` block says in its `// SAFETY:` comment which of these it
//! relies on, and whatever else it needs.

pub(crate) mod bytes;
pub(crate) mod get_many;
pub(crate) mod jump_hash;
pub(crate) mod method;
pub(crate) mod ring_get;
pub(crate) mod seq;
pub(crate) mod shared_get;

#[cfg(test)]
mod tests {
    use std::path::Path;

    fn sources(dir: &Path, out: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                sources(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                out.push((path.display().to_string(), text));
            }
        }
    }

    /// Every `unsafe` block or function of the Python face is in this module,
    /// and every `unsafe` block (and `unsafe impl`) follows a `// SAFETY:`
    /// comment (at most a few lines above it: attributes and the start of a
    /// statement may come between).
    #[test]
    fn unsafe_lives_here_and_says_why() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        sources(&src, &mut files);
        assert!(
            files.len() > 10,
            "{} sources under {}",
            files.len(),
            src.display()
        );
        let mut problems = Vec::new();
        for (path, text) in &files {
            let here = path.contains("/src/capi/");
            let lines: Vec<&str> = text.lines().collect();
            for (i, line) in lines.iter().enumerate() {
                // the code before any comment or string literal
                let code = line.split(['/', '"']).next().unwrap_or("");
                if !code.contains("unsafe") {
                    continue;
                }
                if !here {
                    problems.push(format!("{path}:{}: unsafe outside capi/", i + 1));
                }
                let is_block = code.contains("unsafe {") || code.contains("unsafe impl");
                let commented = lines[i.saturating_sub(6)..=i]
                    .iter()
                    .any(|l| l.trim_start().starts_with("// SAFETY:"));
                if is_block && !commented {
                    problems.push(format!("{path}:{}: unsafe without SAFETY", i + 1));
                }
            }
        }
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }
}
