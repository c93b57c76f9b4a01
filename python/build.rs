//! Passes pyo3's interpreter cfgs (`Py_LIMITED_API` under the `abi3`
//! feature, `PyPy`, ...) to this crate, which reads lists and str keys in
//! place when the full C API is there.

fn main() {
    pyo3_build_config::use_pyo3_cfgs();
}
