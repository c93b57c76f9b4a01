//! The other arguments: node lists, weights, vnodes, counts, the
//! algorithm and etcd endpoints, converted to what the core takes. A value of the wrong type is
//! a `TypeError`; an integer out of range an `InvalidArgumentError`. What the
//! core checks itself (weight 0, empty names, vnodes per algorithm) is left
//! to the core.

use crate::errors::invalid;
use crate::keys::{as_str, type_name};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyMapping, PyString, PyTuple};
use ringlock::Algorithm;

pub(crate) use crate::capi::seq::index;

/// A node weight: an integer from 1 to 2**32-1 (0 is refused by the core).
pub(crate) fn weight(name: &str, obj: &Bound<'_, PyAny>) -> PyResult<u32> {
    let int = index(obj)?;
    int.extract::<u32>().map_err(|_| {
        invalid(format!(
            "weight of node {name:?} is {int}; weights are integers from 1 to {}",
            u32::MAX
        ))
    })
}

/// Virtual nodes: 0 (the default) to 2**32-1; the core checks the rest.
pub(crate) fn vnodes(obj: Option<&Bound<'_, PyAny>>) -> PyResult<u32> {
    let Some(obj) = obj else { return Ok(0) };
    let int = index(obj)?;
    int.extract::<u32>().map_err(|_| {
        invalid(format!(
            "vnodes is {int}; expected an integer from 0 to {}",
            u32::MAX
        ))
    })
}

/// maglev's `table_size` (None: 0, the default): an integer in u32 range;
/// the core says whether it is prime and allowed.
pub(crate) fn table_size(obj: Option<&Bound<'_, PyAny>>) -> PyResult<u32> {
    let Some(obj) = obj else { return Ok(0) };
    let int = index(obj)?;
    int.extract::<u32>().map_err(|_| {
        invalid(format!(
            "table_size is {int}; expected a prime from 2 to {}",
            ringlock::ring::MAX_TABLE_SIZE
        ))
    })
}

/// A size limit (`max_points`, `max_nodes`; `what` names it): None for the
/// default, else an integer from 1 to 2**26.
pub(crate) fn limit(obj: Option<&Bound<'_, PyAny>>, what: &str) -> PyResult<u64> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(0);
    };
    let int = index(obj)?;
    match int.extract::<u64>() {
        Ok(v) if (1..=ringlock::ring::MAX_POINTS).contains(&v) => Ok(v),
        _ => Err(invalid(format!(
            "{what} limit is {int}; expected None (the default) or an integer from 1 to {} (2**26)",
            ringlock::ring::MAX_POINTS
        ))),
    }
}

/// The limits a ring is made or loaded within (None: the default).
pub(crate) fn limits(
    max_points: Option<&Bound<'_, PyAny>>,
    max_nodes: Option<&Bound<'_, PyAny>>,
) -> PyResult<ringlock::ring::Limits> {
    Ok(ringlock::ring::Limits {
        max_points: limit(max_points, "max_points")?,
        max_nodes: limit(max_nodes, "max_nodes")?,
    })
}

/// A count (`get_n`'s n): >= 0; counts past usize are as good as usize::MAX.
pub(crate) fn count(obj: &Bound<'_, PyAny>) -> PyResult<usize> {
    let int = index(obj)?;
    if int.lt(0)? {
        return Err(invalid(format!("n must be >= 0, not {int}")));
    }
    Ok(int.extract::<usize>().unwrap_or(usize::MAX))
}

/// An algorithm or profile name: "ketama", "xxh3", "jump", "maglev",
/// "libmemcached", "nginx", "twemproxy", "twemproxy-<hash>", "haproxy",
/// "libmemcached-consistent", "libmemcached-consistent-md5", "spymemcached",
/// "envoy-ring-hash".
pub(crate) fn algorithm(name: &str) -> PyResult<Algorithm> {
    name.parse::<Algorithm>().map_err(crate::errors::to_py)
}

/// The constructor's `nodes`: an iterable of names or (name, weight) pairs,
/// or a mapping name -> weight.
pub(crate) fn nodes(obj: &Bound<'_, PyAny>) -> PyResult<Vec<(String, u32)>> {
    if obj.is_instance_of::<PyString>() || obj.is_instance_of::<PyBytes>() {
        return Err(PyTypeError::new_err(format!(
            "nodes must be an iterable of names or (name, weight) pairs, or a dict; \
             for a single node pass [name], not a bare {}",
            type_name(obj)
        )));
    }
    let mut out = Vec::new();
    if let Ok(dict) = obj.cast_exact::<PyDict>() {
        // a snapshot of the items: a weight's __index__ may change the dict
        for item in dict.items().iter() {
            let (name, w) = item.extract::<(Bound<'_, PyAny>, Bound<'_, PyAny>)>()?;
            out.push(node(&name, Some(&w))?);
        }
    } else if let Ok(mapping) = obj.cast::<PyMapping>() {
        for item in mapping.items()?.iter() {
            let (name, w) = item.extract::<(Bound<'_, PyAny>, Bound<'_, PyAny>)>()?;
            out.push(node(&name, Some(&w))?);
        }
    } else {
        for item in obj.try_iter()? {
            let item = item?;
            if item.is_instance_of::<PyString>() {
                out.push(node(&item, None)?);
            } else if item.is_instance_of::<PyTuple>() || item.is_instance_of::<PyList>() {
                if item.len()? != 2 {
                    return Err(PyTypeError::new_err(format!(
                        "a node pair must be (name, weight), got {} items",
                        item.len()?
                    )));
                }
                out.push(node(&item.get_item(0)?, Some(&item.get_item(1)?))?);
            } else {
                return Err(PyTypeError::new_err(format!(
                    "each node must be a name (str) or a (name, weight) pair, not {}",
                    type_name(&item)
                )));
            }
        }
    }
    Ok(out)
}

fn node(name: &Bound<'_, PyAny>, w: Option<&Bound<'_, PyAny>>) -> PyResult<(String, u32)> {
    let name = as_str(name, "node name")?;
    let w = match w {
        Some(w) => weight(name, w)?,
        None => 1,
    };
    Ok((name.to_owned(), w))
}

/// etcd endpoints: a list (or tuple) of `str`, or one `str` with commas
/// between endpoints. The core checks each (`http://host:port`) and refuses
/// an empty list.
pub(crate) fn endpoints(obj: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(s.to_str()?.split(',').map(str::to_owned).collect());
    }
    let items = obj
        .cast::<PyList>()
        .map(|l| l.iter().collect::<Vec<_>>())
        .or_else(|_| obj.cast::<PyTuple>().map(|t| t.iter().collect()))
        .map_err(|_| {
            PyTypeError::new_err(format!(
                "endpoints must be a str or a list of str, not {}",
                type_name(obj)
            ))
        })?;
    items
        .iter()
        .map(|e| as_str(e, "endpoint").map(str::to_owned))
        .collect()
}
