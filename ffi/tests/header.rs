//! include/ringlock.h must be exactly what cbindgen (pinned) makes of ffi/src.
//! `make header` (RINGLOCK_BLESS=1) rewrites it; never build.rs.

use std::path::Path;

#[test]
fn header_is_up_to_date() {
    let ffi = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(ffi.join("cbindgen.toml")).expect("ffi/cbindgen.toml");
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_config(config)
        .with_src(ffi.join("src/lib.rs"))
        .generate()
        .expect("cbindgen failed on ffi/src")
        .write(&mut generated);
    let generated = String::from_utf8(generated).expect("cbindgen wrote UTF-8");
    let path = ffi.join("../include/ringlock.h");
    if std::env::var_os("RINGLOCK_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &generated).expect("write include/ringlock.h");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != generated {
        let line = committed
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| committed.lines().count().min(generated.lines().count()))
            + 1;
        panic!(
            "include/ringlock.h differs from what cbindgen makes of ffi/src \
             (first difference at line {line}); run `make header` and commit the result"
        );
    }
}
