//! etcd's v3 JSON: keys and values in base64, 64-bit integers as decimal
//! strings, fields with zero values left out. Requests are built as
//! `serde_json` values; answers are read into the few shapes the lock recipe
//! needs, and anything that does not fit is `Corrupt`.

use crate::error::{Error, Result};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Value};

/// `bytes` in base64, as etcd's JSON carries keys and values.
pub(crate) fn b64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

fn unb64(field: &str, text: &str) -> Result<Vec<u8>> {
    STANDARD
        .decode(text)
        .map_err(|e| Error::corrupt(format!("etcd's {field} is not base64 ({e})")))
}

/// An int64 field: etcd writes them as strings, a missing field is 0.
pub(crate) fn int(v: &Value, field: &str) -> Result<i64> {
    match v.get(field) {
        None | Some(Value::Null) => Ok(0),
        Some(Value::String(s)) => s
            .parse()
            .map_err(|_| Error::corrupt(format!("etcd's {field} {s:?} is not an integer"))),
        Some(Value::Number(n)) => n
            .as_i64()
            .ok_or_else(|| Error::corrupt(format!("etcd's {field} {n} is not an int64"))),
        Some(other) => Err(Error::corrupt(format!(
            "etcd's {field} is {other}, not an integer"
        ))),
    }
}

/// A bool field (missing is false).
pub(crate) fn flag(v: &Value, field: &str) -> bool {
    v.get(field).and_then(Value::as_bool).unwrap_or(false)
}

/// The revision in an answer's header.
pub(crate) fn revision(v: &Value) -> Result<i64> {
    let header = v
        .get("header")
        .ok_or_else(|| Error::corrupt("etcd's answer has no header"))?;
    int(header, "revision")
}

/// One key and its value, as a range or a watch event carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Kv {
    pub key: Vec<u8>,
    pub value: Vec<u8>,
    pub create_revision: i64,
    pub mod_revision: i64,
    pub lease: i64,
}

fn kv(v: &Value) -> Result<Kv> {
    let text = |field: &str| match v.get(field) {
        None => Ok(Vec::new()),
        Some(Value::String(s)) => unb64(field, s),
        Some(other) => Err(Error::corrupt(format!(
            "etcd's {field} is {other}, not a string"
        ))),
    };
    Ok(Kv {
        key: text("key")?,
        value: text("value")?,
        create_revision: int(v, "create_revision")?,
        mod_revision: int(v, "mod_revision")?,
        lease: int(v, "lease")?,
    })
}

/// The pairs of a range answer (`kvs`, missing when empty).
pub(crate) fn kvs(range: &Value) -> Result<Vec<Kv>> {
    match range.get("kvs") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items.iter().map(kv).collect(),
        Some(other) => Err(Error::corrupt(format!("etcd's kvs is {other}, not a list"))),
    }
}

/// The range answer at position `i` of a transaction's responses.
pub(crate) fn txn_range(txn: &Value, i: usize) -> Result<Vec<Kv>> {
    let range = txn
        .get("responses")
        .and_then(|r| r.get(i))
        .and_then(|r| r.get("response_range"))
        .ok_or_else(|| Error::corrupt(format!("etcd's transaction answer has no range at {i}")))?;
    kvs(range)
}

/// The previous pair returned by the put at position `i` of a
/// transaction's responses (a put with `prev_kv`; empty when the key did
/// not exist).
pub(crate) fn txn_put_prev(txn: &Value, i: usize) -> Result<Vec<Kv>> {
    let put = txn
        .get("responses")
        .and_then(|r| r.get(i))
        .and_then(|r| r.get("response_put"))
        .ok_or_else(|| Error::corrupt(format!("etcd's transaction answer has no put at {i}")))?;
    match put.get("prev_kv") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(prev) => Ok(vec![kv(prev)?]),
    }
}

/// Whether a watch message reports any event (the messages that confirm a
/// watch's creation or report progress carry none).
pub(crate) fn has_events(msg: &Value) -> bool {
    msg.get("events")
        .and_then(Value::as_array)
        .is_some_and(|e| !e.is_empty())
}

// ---- requests -------------------------------------------------------------------

/// The compare `create_revision(key) == rev` (0: the key does not exist).
pub(crate) fn created_at(key: &[u8], rev: i64) -> Value {
    json!({"target": "CREATE", "result": "EQUAL", "key": b64(key), "create_revision": rev.to_string()})
}

/// The compare "no key in `[key, end)`" (etcd compares every key of a
/// range, and an empty range as one key that does not exist).
pub(crate) fn none_in(key: &[u8], end: &[u8]) -> Value {
    let mut c = created_at(key, 0);
    c["range_end"] = json!(b64(end));
    c
}

/// A put of `key` = `value`, attached to `lease` (0: none).
pub(crate) fn put(key: &[u8], value: &[u8], lease: i64) -> Value {
    let mut put = json!({"key": b64(key), "value": b64(value)});
    if lease != 0 {
        put["lease"] = json!(lease.to_string());
    }
    json!({ "request_put": put })
}

/// A put as [`put`] that also returns the key's previous pair (read it
/// with [`txn_put_prev`]).
pub(crate) fn put_prev(key: &[u8], value: &[u8], lease: i64) -> Value {
    let mut p = put(key, value, lease);
    p["request_put"]["prev_kv"] = json!(true);
    p
}

/// The delete of one key.
pub(crate) fn delete(key: &[u8]) -> Value {
    json!({"request_delete_range": {"key": b64(key)}})
}

/// A range request over `[key, end)` (`end` empty: just `key`).
pub(crate) fn range(key: &[u8], end: &[u8]) -> Value {
    let mut r = json!({"key": b64(key)});
    if !end.is_empty() {
        r["range_end"] = json!(b64(end));
    }
    r
}

/// The keys of `[key, end)` created before revision `rev`, newest first,
/// at most one: the predecessor of a waiter whose key was created at `rev`.
pub(crate) fn last_created_before(key: &[u8], end: &[u8], rev: i64) -> Value {
    let mut r = range(key, end);
    r["sort_order"] = json!("DESCEND");
    r["sort_target"] = json!("CREATE");
    r["max_create_revision"] = json!((rev - 1).to_string());
    r["limit"] = json!("1");
    r
}

/// The keys of `[key, end)` in the order they were created.
pub(crate) fn by_creation(key: &[u8], end: &[u8]) -> Value {
    let mut r = range(key, end);
    r["sort_order"] = json!("ASCEND");
    r["sort_target"] = json!("CREATE");
    r
}

/// A range request as a transaction operation.
pub(crate) fn op_range(range: Value) -> Value {
    json!({ "request_range": range })
}

/// A transaction.
pub(crate) fn txn(compare: Vec<Value>, success: Vec<Value>, failure: Vec<Value>) -> Value {
    json!({"compare": compare, "success": success, "failure": failure})
}

/// A watch of `key` from revision `from` that reports deletions only.
pub(crate) fn watch_deletes(key: &[u8], from: i64) -> Value {
    json!({"create_request": {
        "key": b64(key),
        "start_revision": from.to_string(),
        "filters": ["NOPUT"],
    }})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_etcd_shapes() {
        let answer: Value = serde_json::from_str(
            r#"{"header":{"revision":"7"},"kvs":[{"key":"YQ==","create_revision":"5",
                "mod_revision":"6","version":"2","value":"dg==","lease":"12"}],"count":"1"}"#,
        )
        .unwrap();
        assert_eq!(revision(&answer).unwrap(), 7);
        let kvs = kvs(&answer).unwrap();
        assert_eq!(
            kvs,
            vec![Kv {
                key: b"a".to_vec(),
                value: b"v".to_vec(),
                create_revision: 5,
                mod_revision: 6,
                lease: 12
            }]
        );
        // zero values are left out
        let empty: Value = serde_json::from_str(r#"{"header":{"revision":"3"}}"#).unwrap();
        assert!(super::kvs(&empty).unwrap().is_empty());
        assert_eq!(int(&empty, "count").unwrap(), 0);
        assert!(!flag(&empty, "succeeded"));
    }

    #[test]
    fn refuses_what_does_not_parse() {
        for bad in [
            r#"{"kvs":[{"key":"not base64!"}]}"#,
            r#"{"kvs":[{"key":"YQ==","create_revision":"x"}]}"#,
            r#"{"kvs":{"key":"YQ=="}}"#,
            r#"{"kvs":[{"key":5}]}"#,
        ] {
            let v: Value = serde_json::from_str(bad).unwrap();
            let e = kvs(&v).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::Corrupt, "{bad}");
        }
        let no_header: Value = serde_json::from_str("{}").unwrap();
        assert_eq!(
            revision(&no_header).unwrap_err().kind(),
            crate::ErrorKind::Corrupt
        );
    }

    #[test]
    fn builds_requests() {
        assert_eq!(b64(b"ringlock/a"), "cmluZ2xvY2svYQ==");
        let p = put(b"k", b"v", 0x10);
        assert_eq!(p["request_put"]["lease"], "16");
        assert!(put(b"k", b"v", 0)["request_put"].get("lease").is_none());
        let r = last_created_before(b"a/", b"a/~", 10);
        assert_eq!(r["max_create_revision"], "9");
        assert_eq!(r["limit"], "1");
        assert_eq!(created_at(b"k", 0)["create_revision"], "0");
    }
}
