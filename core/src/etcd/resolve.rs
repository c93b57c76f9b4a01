//! Host names to socket addresses for the HTTP client, without a thread per
//! request.
//!
//! ureq resolves the URL's host before every request, pooled connection or
//! not, and its default resolver, asked for a deadline (every etcd call has
//! one), resolves in a new thread so that it can give up in time: a thread
//! start per request, measured at about 40% of an uncontended acquire +
//! release on this kind of machine (docs/distributed.md, "Measured"). Here an
//! IP address (what etcd endpoints usually are) is its own answer, and a host
//! name is resolved by ureq's resolver (within the deadline, in a thread) at
//! most once per [`FRESH`].
//!
//! This uses ureq's `unversioned` resolver API: ureq may change it in a
//! minor release, so the lock file pins ureq, and a ureq update must be
//! checked against it.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};
use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

/// How long a host name's addresses are reused.
const FRESH: Duration = Duration::from_secs(10);

#[derive(Debug, Default)]
pub(crate) struct Resolve {
    names: DefaultResolver,
    /// `host:port` -> when resolved, the addresses.
    cache: Mutex<HashMap<String, (Instant, Vec<SocketAddr>)>>,
}

impl Resolve {
    fn answer(&self, addrs: &[SocketAddr]) -> ResolvedSocketAddrs {
        let mut out = self.empty();
        for a in addrs.iter().take(16) {
            out.push(*a);
        }
        out
    }
}

/// The address of an IP literal host (`127.0.0.1`, `[::1]`), with the URL's
/// port (80 when it has none).
fn literal(uri: &Uri) -> Option<SocketAddr> {
    let authority = uri.authority()?;
    let host = authority.host();
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let ip: IpAddr = host.parse().ok()?;
    Some(SocketAddr::new(ip, authority.port_u16().unwrap_or(80)))
}

impl Resolver for Resolve {
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        if let Some(addr) = literal(uri) {
            return Ok(self.answer(&[addr]));
        }
        let key = uri.authority().map(|a| a.as_str().to_owned());
        if let Some(key) = &key {
            if let Some((at, addrs)) = self.cache.lock().get(key) {
                if at.elapsed() < FRESH {
                    return Ok(self.answer(addrs));
                }
            }
        }
        let resolved = self.names.resolve(uri, config, timeout)?;
        if let Some(key) = key {
            let mut cache = self.cache.lock();
            cache.retain(|_, (at, _)| at.elapsed() < FRESH);
            cache.insert(key, (Instant::now(), resolved.to_vec()));
        }
        Ok(resolved)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_literals_are_their_own_answer() {
        let cases = [
            ("http://127.0.0.1:2379/v3/kv/range", "127.0.0.1:2379"),
            ("http://[::1]:2380/", "[::1]:2380"),
            ("http://10.0.0.7/", "10.0.0.7:80"),
        ];
        for (url, want) in cases {
            let uri: Uri = url.parse().unwrap();
            assert_eq!(literal(&uri), Some(want.parse().unwrap()), "{url}");
        }
        for url in ["http://localhost:2379/", "http://etcd-1.example:2379/"] {
            assert_eq!(literal(&url.parse().unwrap()), None, "{url}");
        }
    }

    #[test]
    fn names_are_resolved_and_reused() {
        let r = Resolve::default();
        let uri: Uri = "http://localhost:2379/".parse().unwrap();
        let timeout = NextTimeout {
            after: ureq::unversioned::transport::time::Duration::Exact(Duration::from_secs(5)),
            reason: ureq::Timeout::Global,
        };
        let first = r.resolve(&uri, &Config::default(), timeout).unwrap();
        assert!(!first.is_empty() && first.iter().all(|a| a.port() == 2379));
        assert!(r.cache.lock().contains_key("localhost:2379"));
        let again = r.resolve(&uri, &Config::default(), timeout).unwrap();
        assert_eq!(first.to_vec(), again.to_vec());
    }
}
