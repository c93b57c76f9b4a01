//! The published ring file: its layout ([`layout`]), how a [`Ring`](crate::Ring)
//! is written into it ([`encode`]) and how keys are looked up in it in place
//! ([`view`]). Mapping, publishing and generations are `crate::shared_ring`'s.

pub mod encode;
pub mod layout;
pub mod view;
