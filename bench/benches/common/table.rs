//! The results table of the etcd benches (etcd.rs, etcd_membership.rs): a
//! title line with the etcd server's version, a header, and one row of p50,
//! p99 and sample count (microseconds) per measured thing.
//!
//! Included by each bench with `#[path = "common/table.rs"] mod table;`,
//! beside its `mod etcd_server` (core/tests/common/etcd.rs).

use crate::etcd_server::Etcd;

/// The value at fraction `p` (0 to 1) of `sorted`, nearest rank.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// A table being printed: its first column's width.
pub struct Table {
    width: usize,
}

impl Table {
    /// Prints `== {title} (etcd {version}) ==`, the version asked of
    /// `server`'s first member, then the header: `first` in a column
    /// `width` wide, then p50, p99 and samples.
    pub fn new(server: &Etcd, title: &str, first: &str, width: usize) -> Table {
        let version = server
            .http(0, "GET", "/version", "")
            .unwrap_or_default()
            .trim()
            .to_owned();
        println!("== {title} (etcd {version}) ==");
        println!(
            "{:<width$} {:>8} {:>8} {:>8}",
            first, "p50 us", "p99 us", "samples"
        );
        Table { width }
    }

    /// Sorts `samples` (microseconds), prints their row under `name`, and
    /// returns their p50.
    pub fn row(&self, name: &str, samples: &mut [f64]) -> f64 {
        samples.sort_by(f64::total_cmp);
        println!(
            "{:<width$} {:>8.0} {:>8.0} {:>8}",
            name,
            percentile(samples, 0.5),
            percentile(samples, 0.99),
            samples.len(),
            width = self.width
        );
        percentile(samples, 0.5)
    }
}
