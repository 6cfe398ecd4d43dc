//! Drop-cutter: the cutter-location (CL) surface of a triangle soup for a ball, flat or
//! bull-nose cutter, exact to the contact (facet, edge, vertex) as OpenCAMLib computes it.
//!
//! - [`drop_grid`]: a whole regular [`Grid`] at once, by rasterising each triangle's contact into
//!   the grid points it can reach, tile by tile in parallel ([`raster`]).
//! - [`DropIndex`]: single points, for refining a path between grid points ([`index`]).
//! - [`contact`]: the exact primitives both use ([`vertex_drop`], [`facet_drop`], [`edge_drop`],
//!   [`triangle_drop`]).
//!
//! Triangles are `[[x, y, z]; 3]` in mm; the tool axis is vertical, Z of a CL point is the tool
//! tip. A point with no triangle under the cutter gets `f64::NEG_INFINITY` (grid) or `None`.

pub mod contact;
pub mod grid;
pub mod index;
pub mod raster;

pub use contact::{edge_drop, facet_drop, triangle_drop, vertex_drop};
pub use grid::{Grid, GridError, MAX_GRID_POINTS};
pub use index::DropIndex;
pub use raster::drop_grid;
