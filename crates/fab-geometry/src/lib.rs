//! # fab-geometry: scans in, the shape to mill out
//!
//! Loads the scans that arrive at an O&P lab (STL binary or ASCII, OBJ, PLY; in mm, cm, m or
//! inches), repairs them into an indexed mesh, orients and measures feet and residual limbs, applies the
//! rectification a prescription asks for, and computes true offset surfaces.
//!
//! Everything inside is in millimetres. It knows nothing of prescriptions or toolpaths: the `fab`
//! binary composes it with `fab-ticket` and `fab-toolpath`.
//!
//! - [`load`]: file -> repaired mesh in mm, with a report ([`stl`], [`obj`], [`ply`],
//!   [`units`], [`repair`]).
//! - [`kind`]: what a scan is, a foot or a residual limb (one rule for every command).
//! - [`orient`]: a foot into the lab frame, left or right.
//! - [`measure`]: foot length, widths, arch, outline; limb axis, circumferences, volume.
//! - [`design`]: the foot orthosis positive to mill, in the machine frame (for `fab plan`).
//! - [`device`]: the foot orthosis itself, milled directly from a block; pairs nested on a blank.
//! - [`socket`]: the socket positive to carve on a rotary carver, along X with a stem.
//! - [`modify`]: rectification operations as plain data, applied in order.
//! - [`topology`]: watertight or not, holes, non-manifold edges, components, fragments.
//! - [`offset`]: true offset surfaces (exact distance, sparse narrow band, refinement).
//! - [`query`]: BVH, exact closest point and point-to-mesh distance, inside/outside sign,
//!   self-intersection check.

pub mod design;
pub mod device;
pub mod fasthash;
pub mod kind;
pub mod load;
pub mod measure;
pub mod mesh;
pub mod modify;
pub mod nearest;
pub mod obj;
pub mod offset;
pub mod orient;
pub mod ply;
pub mod principal;
pub mod query;
pub mod repair;
pub mod section;
pub mod socket;
pub mod stl;
pub mod topology;
pub mod units;

pub use load::{Loaded, load_bytes, load_path};
pub use mesh::Mesh;
/// The linear algebra crate the API speaks (points, vectors, isometries).
pub use nalgebra;
pub use stl::write_stl;
pub use units::Units;
