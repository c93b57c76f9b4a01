//! How requests reach etcd: the [`Transport`] trait (unary calls and watch
//! streams, each bounded by a deadline) and its one implementation, etcd's v3
//! JSON gateway over HTTP/1.1 with `ureq`. A gRPC transport would be a second
//! implementation of the same trait.
//!
//! Several endpoints: a call goes to the endpoint that answered last; when it
//! cannot be reached, does not answer in time, or answers that it has no
//! leader, the call moves on to the next, round after round with a short
//! pause, until its deadline. Every request of the lock recipe is idempotent
//! (guarded by a compare on the handle's own key), so a request that may have
//! been applied before its connection broke can be sent again.

use super::resolve::Resolve;
use crate::error::{Error, ErrorKind, Result};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// A way to send etcd v3 requests.
pub(crate) trait Transport: Send + Sync {
    /// Sends `body` to the v3 method at `path` (e.g. `/v3/kv/range`) and
    /// returns etcd's answer. `Unavailable` when no endpoint answered by
    /// `deadline`; etcd's own refusals map to their kinds.
    fn call(&self, path: &str, body: &Value, deadline: Instant) -> Result<Value>;

    /// Opens a watch stream carrying `requests` (create requests); it ends at
    /// `deadline` at the latest.
    fn watch(&self, requests: &[Value], deadline: Instant) -> Result<Box<dyn WatchStream>>;
}

/// The messages of one watch stream.
pub(crate) trait WatchStream {
    /// The next message (the `result` object); `None` when the stream ended,
    /// broke, or reached its deadline.
    fn next(&mut self) -> Option<Value>;
}

/// The largest answer read (a range over a lock's waiters stays far below).
const MAX_ANSWER: u64 = 64 << 20;
/// The pause between two rounds over the endpoints, doubled up to the cap.
const FIRST_PAUSE: Duration = Duration::from_millis(25);
const MAX_PAUSE: Duration = Duration::from_millis(400);

/// etcd's v3 JSON gateway (`/v3/...`) over HTTP/1.1.
pub(crate) struct Http {
    agent: ureq::Agent,
    endpoints: Vec<String>,
    /// The endpoint that answered last.
    current: AtomicUsize,
}

/// Why one attempt on one endpoint failed.
enum Failure {
    /// Not reached, no answer in time, or etcd without a leader: try another.
    Retry(String),
    /// It answered, but not as etcd does.
    NotEtcd(String),
    /// etcd answered with a refusal that another endpoint would repeat.
    Final(Error),
}

impl Http {
    /// A transport over `endpoints` (`http://host:port`, or `host:port`).
    pub(crate) fn new<S: AsRef<str>>(endpoints: &[S]) -> Result<Http> {
        if endpoints.is_empty() {
            return Err(Error::invalid("no etcd endpoint given"));
        }
        let endpoints = endpoints
            .iter()
            .map(|e| endpoint(e.as_ref()))
            .collect::<Result<Vec<_>>>()?;
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(concat!("ringlock/", env!("CARGO_PKG_VERSION")))
            .build();
        let connector = ureq::unversioned::transport::DefaultConnector::default();
        Ok(Http {
            agent: ureq::Agent::with_parts(config, connector, Resolve::default()),
            endpoints,
            current: AtomicUsize::new(0),
        })
    }

    /// The endpoints, as given (normalised).
    pub(crate) fn endpoints(&self) -> &[String] {
        &self.endpoints
    }

    /// One POST to one endpoint: the response, its status checked.
    fn post(
        &self,
        index: usize,
        path: &str,
        body: String,
        timeout: Duration,
    ) -> std::result::Result<ureq::Body, Failure> {
        let url = format!("{}{path}", self.endpoints[index]);
        let answer = self
            .agent
            .post(&url)
            .config()
            .timeout_global(Some(timeout))
            .build()
            .content_type("application/json")
            .send(body);
        let mut response = match answer {
            Ok(r) => r,
            Err(e) => return Err(Failure::Retry(format!("{}: {}", self.endpoints[index], e))),
        };
        let status = response.status().as_u16();
        if status == 200 {
            return Ok(response.into_body());
        }
        let text = response
            .body_mut()
            .with_config()
            .limit(1 << 16)
            .lossy_utf8(true)
            .read_to_string()
            .unwrap_or_default();
        Err(refusal(&self.endpoints[index], path, status, &text))
    }

    /// Tries the endpoints, round after round, until one answers or the
    /// deadline passes.
    fn each_endpoint<T>(
        &self,
        path: &str,
        deadline: Instant,
        mut attempt: impl FnMut(usize, Duration) -> std::result::Result<T, Failure>,
    ) -> Result<T> {
        let n = self.endpoints.len();
        let start = self.current.load(Relaxed) % n;
        let began = Instant::now();
        let mut pause = FIRST_PAUSE;
        let mut last = Vec::new();
        loop {
            let mut retry = false;
            let mut round = Vec::new();
            for i in 0..n {
                let index = (start + i) % n;
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                match attempt(index, left) {
                    Ok(v) => {
                        self.current.store(index, Relaxed);
                        return Ok(v);
                    }
                    Err(Failure::Retry(why)) => {
                        retry = true;
                        round.push(why);
                    }
                    Err(Failure::NotEtcd(why)) => round.push(why),
                    Err(Failure::Final(e)) => return Err(e),
                }
            }
            if !round.is_empty() {
                last = round;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if !retry || left.is_zero() {
                let waited = began.elapsed().as_secs_f64();
                let why = if last.is_empty() {
                    "no time left to try".to_owned()
                } else {
                    last.join("; ")
                };
                return Err(Error::new(
                    ErrorKind::Unavailable,
                    format!("etcd did not answer {path} within {waited:.3} s ({why})"),
                ));
            }
            std::thread::sleep(pause.min(left));
            pause = (pause * 2).min(MAX_PAUSE);
        }
    }
}

impl Transport for Http {
    fn call(&self, path: &str, body: &Value, deadline: Instant) -> Result<Value> {
        let text = body.to_string();
        self.each_endpoint(path, deadline, |index, left| {
            let mut body = self.post(index, path, text.clone(), left)?;
            let bytes = body
                .with_config()
                .limit(MAX_ANSWER)
                .read_to_vec()
                .map_err(|e| Failure::Retry(format!("{}: {e}", self.endpoints[index])))?;
            serde_json::from_slice(&bytes).map_err(|e| {
                Failure::NotEtcd(format!(
                    "{} answered {path} with something that is not JSON ({e}): not etcd's v3 gateway?",
                    self.endpoints[index]
                ))
            })
        })
    }

    fn watch(&self, requests: &[Value], deadline: Instant) -> Result<Box<dyn WatchStream>> {
        let text = requests
            .iter()
            .map(Value::to_string)
            .collect::<Vec<_>>()
            .join("\n");
        let body = self.each_endpoint("/v3/watch", deadline, |index, left| {
            self.post(index, "/v3/watch", text.clone(), left)
        })?;
        Ok(Box::new(Lines {
            reader: BufReader::new(body.into_with_config().limit(u64::MAX).reader()),
            deadline,
        }))
    }
}

/// A watch answer: one JSON object per line.
struct Lines<R> {
    reader: BufReader<R>,
    deadline: Instant,
}

impl<R: Read> WatchStream for Lines<R> {
    fn next(&mut self) -> Option<Value> {
        let mut line = String::new();
        loop {
            if Instant::now() >= self.deadline {
                return None;
            }
            line.clear();
            match self.reader.read_line(&mut line) {
                Ok(0) | Err(_) => return None,
                Ok(_) if line.trim().is_empty() => continue,
                Ok(_) => {}
            }
            let msg: Value = serde_json::from_str(&line).ok()?;
            // {"result": {...}} or, when the stream fails, {"error": {...}}
            return msg.get("result").cloned();
        }
    }
}

/// `http://host:port` from what the caller gave.
fn endpoint(given: &str) -> Result<String> {
    let trimmed = given.trim_end_matches('/');
    let rest = if let Some(rest) = trimmed.strip_prefix("http://") {
        rest
    } else if trimmed.starts_with("https://") {
        return Err(Error::invalid(format!(
            "etcd endpoint {given:?}: TLS (https) is not supported yet; use http://"
        )));
    } else if trimmed.contains("://") {
        return Err(Error::invalid(format!(
            "etcd endpoint {given:?}: only http:// endpoints are supported"
        )));
    } else {
        trimmed
    };
    let valid = !rest.is_empty()
        && !rest.contains(['/', '?', '#', '@', ' '])
        && rest.rsplit_once(':').is_some_and(|(host, port)| {
            !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0)
        });
    if !valid {
        return Err(Error::invalid(format!(
            "etcd endpoint {given:?} is not http://host:port"
        )));
    }
    Ok(format!("http://{rest}"))
}

/// What a non-200 answer means: etcd's error JSON, or not etcd at all.
fn refusal(endpoint: &str, path: &str, status: u16, text: &str) -> Failure {
    let etcd: Option<Value> = serde_json::from_str(text).ok();
    let code = etcd
        .as_ref()
        .and_then(|v| v.get("code"))
        .and_then(Value::as_i64);
    let message = etcd
        .as_ref()
        .and_then(|v| v.get("error").or_else(|| v.get("message")))
        .and_then(Value::as_str);
    let (Some(code), Some(message)) = (code, message) else {
        let excerpt: String = text.chars().take(80).collect();
        return Failure::NotEtcd(format!(
            "{endpoint} answered {path} with HTTP {status} ({excerpt:?}): not etcd's v3 gateway?"
        ));
    };
    let detail = format!("{endpoint}: etcd: {message} (code {code})");
    // gRPC codes: 4 deadline exceeded, 8 resource exhausted, 14 unavailable
    // (no leader, leader changed, request timed out).
    match code {
        4 | 8 | 14 => Failure::Retry(detail),
        5 => Failure::Final(Error::new(ErrorKind::NotFound, detail)),
        3 => Failure::Final(Error::new(ErrorKind::InvalidArgument, detail)),
        _ => Failure::Final(Error::new(ErrorKind::Io, detail)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_http_host_port() {
        assert_eq!(
            endpoint("http://127.0.0.1:2379/").unwrap(),
            "http://127.0.0.1:2379"
        );
        assert_eq!(endpoint("localhost:2379").unwrap(), "http://localhost:2379");
        assert_eq!(endpoint("http://[::1]:2379").unwrap(), "http://[::1]:2379");
        for bad in [
            "",
            "http://",
            "https://127.0.0.1:2379",
            "unix:///run/etcd.sock",
            "127.0.0.1",
            "127.0.0.1:0",
            "127.0.0.1:99999",
            "http://h:2379/v3",
            "http://u@h:2379",
        ] {
            let e = endpoint(bad).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{bad:?}");
        }
        assert!(Http::new::<&str>(&[]).is_err());
    }

    #[test]
    fn refusals_are_classified() {
        let no_leader = r#"{"error":"etcdserver: no leader","code":14}"#;
        assert!(matches!(
            refusal("e", "/p", 503, no_leader),
            Failure::Retry(_)
        ));
        let lease = r#"{"error":"etcdserver: requested lease not found","code":5}"#;
        match refusal("e", "/p", 404, lease) {
            Failure::Final(e) => assert_eq!(e.kind(), ErrorKind::NotFound),
            _ => panic!("lease not found is final"),
        }
        assert!(matches!(
            refusal("e", "/p", 404, "Not Found"),
            Failure::NotEtcd(_)
        ));
        assert!(matches!(
            refusal("e", "/p", 500, "<html>"),
            Failure::NotEtcd(_)
        ));
    }

    #[test]
    fn an_unreachable_endpoint_is_unavailable_by_the_deadline() {
        // a port nobody listens on: bind one, learn it, close it
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let http = Http::new(&[format!("127.0.0.1:{port}")]).unwrap();
        let t = Instant::now();
        let e = http
            .call(
                "/v3/kv/range",
                &serde_json::json!({}),
                t + Duration::from_millis(300),
            )
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unavailable, "{e}");
        assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
        assert!(e.message().contains(&port.to_string()), "{e}");
    }
}
