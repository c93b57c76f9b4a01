//! Shared inputs of the ringlock benchmarks: the same keys and node names for
//! every implementation, so that every number in the report is about the same
//! work.

/// How many distinct keys a benchmark cycles through (a power of two).
pub const KEY_COUNT: usize = 4096;

/// The ring sizes measured.
pub const SIZES: [usize; 3] = [10, 100, 1000];

/// Virtual points per node given to every point ring (ringlock xxh3 and
/// ketama default: 160; libketama: 40 MD5 digests x 4 points = 160).
pub const VNODES: usize = 160;

/// Key count of the "spread" variant: too many keys for the branch
/// predictor to learn the lookups' branches or the caches to keep the touched
/// table lines, as with live traffic.
pub const SPREAD_KEY_COUNT: usize = 1 << 18;

/// `KEY_COUNT` short keys like `"user:123456"` (11 bytes), drawn from a fixed
/// xorshift sequence so every run and every implementation sees the same ones.
pub fn keys() -> Vec<String> {
    keys_n(KEY_COUNT)
}

/// The first `n` keys of the same sequence.
pub fn keys_n(n: usize) -> Vec<String> {
    let mut x = 0x2545_f491_4f6c_dd1du64;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            format!("user:{:06}", x % 1_000_000)
        })
        .collect()
}

/// `n` node names like `"10.0.3.17:11211"` (memcached-style addresses).
pub fn node_names(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("10.0.{}.{}:11211", i / 256, i % 256))
        .collect()
}

/// A cycling cursor over the keys; costs the same (about 1 ns) in every
/// benchmark, the floor included.
pub struct Cursor<'a> {
    keys: &'a [String],
    i: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(keys: &'a [String]) -> Self {
        assert!(keys.len().is_power_of_two());
        Cursor { keys, i: 0 }
    }

    #[inline(always)]
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> &'a str {
        let k = &self.keys[self.i & (self.keys.len() - 1)];
        self.i = self.i.wrapping_add(1);
        k
    }
}
