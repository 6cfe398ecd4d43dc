//! # fab-ticket: prescriptions, work orders and the job database
//!
//! A prosthetist's prescription (Rx) arrives as a small `key: value` text file. This crate parses
//! it (`rx::parse`), writes its canonical form (`rx::fmt`), turns it into a work order
//! (`order`: the lab's steps, the shape modifications as plain data, the blank and HCPCS
//! suggestions from editable tables) and keeps jobs in a SQLite database (`store`) with an
//! append-only history and a role-checked status workflow (`workflow`).
//!
//! It knows nothing of meshes or toolpaths: the `fab` binary composes it with `fab-geometry` and
//! `fab-toolpath`.

pub mod auth;
pub mod order;
pub mod rx;
pub mod store;
pub mod tables;
pub mod workflow;

pub use tables::Tables;
