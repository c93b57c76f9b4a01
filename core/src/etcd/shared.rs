//! One client per process and configuration: [`Client::shared`].
//!
//! The faces (C's `rl_lock_open`, Python's `Lock(backend="etcd")`) open one
//! handle per lock; each connecting on its own would grant a lease and start
//! a keep-alive thread per handle. They share instead: handles opened with
//! the same endpoints, TTL, namespace and request timeout use one client
//! (one lease, one thread) for as long as any of them lives.

use super::{Client, ClientOptions, Inner};
use crate::error::Result;
use parking_lot::Mutex;
use std::sync::{Arc, Weak};

/// What makes two clients interchangeable.
#[derive(PartialEq, Eq)]
struct Key {
    endpoints: Vec<String>,
    options: ClientOptions,
}

/// The live shared clients. Weak: the last handle's drop revokes the lease.
static SHARED: Mutex<Vec<(Key, Weak<Inner>)>> = Mutex::new(Vec::new());

impl Client {
    /// The process's client for these endpoints and options: the one
    /// already connected (and still referenced) with exactly the same
    /// endpoints and options, else a new one, as [`Client::connect`] makes
    /// (same errors). A client inherited across `fork` is never handed out
    /// in the child: the child connects its own.
    ///
    /// Two threads asking at once may both connect; the later one then
    /// drops its own client and uses the first.
    pub fn shared<S: AsRef<str>>(endpoints: &[S], options: &ClientOptions) -> Result<Client> {
        let key = Key {
            endpoints: endpoints.iter().map(|e| e.as_ref().to_owned()).collect(),
            options: options.clone(),
        };
        if let Some(client) = find(&key) {
            return Ok(client);
        }
        // Connect outside the registry's lock (a fork while another thread
        // holds it would leave the child's copy locked for ever); if another
        // thread connected meanwhile, use its client and drop this one.
        let client = Client::connect(endpoints, options)?;
        let mut shared = SHARED.lock();
        if let Some(inner) = live(&shared, &key) {
            drop(shared);
            return Ok(Client { inner });
        }
        shared.retain(|(_, weak)| weak.strong_count() > 0);
        shared.push((key, Arc::downgrade(&client.inner)));
        Ok(client)
    }
}

fn find(key: &Key) -> Option<Client> {
    live(&SHARED.lock(), key).map(|inner| Client { inner })
}

/// The registered client for `key` that is alive and was made in this
/// process (a forked child never uses its parent's).
fn live(shared: &[(Key, Weak<Inner>)], key: &Key) -> Option<Arc<Inner>> {
    shared.iter().find_map(|(k, weak)| {
        let inner = weak.upgrade().filter(|_| k == key)?;
        inner.session.in_own_process().then_some(inner)
    })
}
