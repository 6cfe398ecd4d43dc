//! # fab-geometry: scans in, the shape to mill out
//!
//! Loads the scans that arrive at an O&P lab (STL, binary or ASCII, in mm, m or inches), repairs
//! them into an indexed mesh, orients and measures feet and residual limbs, applies the
//! rectification a prescription asks for, and computes true offset surfaces.
//!
//! Everything inside is in millimetres. It knows nothing of prescriptions or toolpaths: the `fab`
//! binary composes it with `fab-ticket` and `fab-toolpath`.

pub mod design;
pub mod mesh;

pub use mesh::Mesh;
