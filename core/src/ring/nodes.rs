//! The node set of a ring: names and weights, validated, kept in byte order of
//! the names. A node's id is its position in that order, so ids — and
//! everything built from them — do not depend on the order of insertion.

use crate::error::{Error, Result};

/// A validated node: non-empty UTF-8 name without NUL, weight >= 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Node {
    pub name: Box<str>,
    pub weight: u32,
}

/// Checks a node name against the placement contract.
pub fn validate_name(name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(Error::invalid("node name is empty"));
    }
    if name.as_bytes().contains(&0) {
        return Err(Error::invalid(format!(
            "node name {name:?} contains a NUL byte"
        )));
    }
    Ok(())
}

/// Checks a weight: an integer >= 1 (0 is an error, not "remove").
pub fn validate_weight(name: &str, weight: u32) -> Result<()> {
    if weight == 0 {
        return Err(Error::invalid(format!(
            "weight of node {name:?} is 0; weights are integers >= 1 (use remove to take a node out)"
        )));
    }
    Ok(())
}

/// Nodes sorted by name bytes; no duplicates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct NodeSet {
    nodes: Vec<Node>,
}

impl NodeSet {
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn as_slice(&self) -> &[Node] {
        &self.nodes
    }

    pub fn get(&self, id: usize) -> Option<&Node> {
        self.nodes.get(id)
    }

    /// The id of `name`, or where it would be inserted.
    pub fn find(&self, name: &str) -> std::result::Result<usize, usize> {
        self.nodes
            .binary_search_by(|n| n.name.as_bytes().cmp(name.as_bytes()))
    }

    pub fn total_weight(&self) -> u64 {
        self.nodes.iter().map(|n| u64::from(n.weight)).sum()
    }

    /// Adds a new node; `AlreadyExists` if the name is taken.
    pub fn insert(&mut self, name: &str, weight: u32) -> Result<()> {
        validate_name(name)?;
        validate_weight(name, weight)?;
        match self.find(name) {
            Ok(_) => Err(Error::new(
                crate::ErrorKind::AlreadyExists,
                format!("node {name:?} is already in the ring"),
            )),
            Err(at) => {
                self.nodes.insert(
                    at,
                    Node {
                        name: name.into(),
                        weight,
                    },
                );
                Ok(())
            }
        }
    }

    /// Removes a node; `NotFound` if absent.
    pub fn remove(&mut self, name: &str) -> Result<Node> {
        let id = self.require(name)?;
        Ok(self.nodes.remove(id))
    }

    /// Changes a node's weight; `NotFound` if absent. Returns the old weight.
    pub fn set_weight(&mut self, name: &str, weight: u32) -> Result<u32> {
        validate_weight(name, weight)?;
        let id = self.require(name)?;
        Ok(std::mem::replace(&mut self.nodes[id].weight, weight))
    }

    fn require(&self, name: &str) -> Result<usize> {
        self.find(name).map_err(|_| {
            Error::new(
                crate::ErrorKind::NotFound,
                format!("node {name:?} is not in the ring"),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn keeps_name_order_whatever_the_insertion_order() {
        let mut a = NodeSet::default();
        let mut b = NodeSet::default();
        for n in ["c", "a", "b"] {
            a.insert(n, 1).unwrap();
        }
        for n in ["b", "c", "a"] {
            b.insert(n, 1).unwrap();
        }
        assert_eq!(a, b);
        assert_eq!(a.find("b"), Ok(1));
    }

    #[test]
    fn rejects_bad_input_and_changes_nothing() {
        let mut s = NodeSet::default();
        s.insert("a", 1).unwrap();
        let before = s.clone();
        assert_eq!(
            s.insert("", 1).unwrap_err().kind(),
            ErrorKind::InvalidArgument
        );
        assert_eq!(
            s.insert("x\0y", 1).unwrap_err().kind(),
            ErrorKind::InvalidArgument
        );
        assert_eq!(
            s.insert("b", 0).unwrap_err().kind(),
            ErrorKind::InvalidArgument
        );
        assert_eq!(
            s.insert("a", 1).unwrap_err().kind(),
            ErrorKind::AlreadyExists
        );
        assert_eq!(s.remove("zz").unwrap_err().kind(), ErrorKind::NotFound);
        assert_eq!(
            s.set_weight("a", 0).unwrap_err().kind(),
            ErrorKind::InvalidArgument
        );
        assert_eq!(
            s.set_weight("q", 2).unwrap_err().kind(),
            ErrorKind::NotFound
        );
        assert_eq!(s, before);
    }
}
