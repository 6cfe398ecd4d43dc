//! Exact proximity queries on triangle meshes: a flat-array BVH, the exact closest point and
//! point-to-mesh distance (also the nearest of a short list of triangles, four at a time with
//! AVX: `wide`), the inside/outside sign of closed meshes, and triangle-triangle intersection
//! (to prove a mesh free of self-intersections).
//!
//! Everything works on plain `[f64; 3]` arrays so the hot loops (offset, checks) run without
//! allocating per query. Distances are exact up to floating-point rounding: no sampling, no grid.

mod bvh;
mod closest;
mod intersect;
mod sign;
mod wide;

pub use bvh::{Bvh, Nearest};
pub use closest::{Feature, V3, closest_point_on_triangle};
pub use intersect::{self_intersections, triangles_intersect};
pub use sign::{NotClosed, PseudoNormals, check_closed};

pub(crate) use closest::{add, cross, dot, lerp, norm2, normalize, scale, sub};
pub(crate) use wide::nearest_of;

use crate::Mesh;

/// Distance from points to one mesh: its BVH plus, for a closed mesh, its pseudo-normals.
#[derive(Clone, Debug)]
pub struct MeshDistance {
    bvh: Bvh,
    normals: Option<PseudoNormals>,
}

impl MeshDistance {
    /// Prepares distance queries; signed queries are available when the mesh is closed.
    pub fn new(mesh: &Mesh) -> Self {
        let (bvh, normals) = rayon::join(|| Bvh::new(mesh), || PseudoNormals::new(mesh).ok());
        Self { bvh, normals }
    }

    /// The tree.
    pub fn bvh(&self) -> &Bvh {
        &self.bvh
    }

    /// Whether the mesh is closed, so that [`MeshDistance::signed`] is defined.
    pub fn is_closed(&self) -> bool {
        self.normals.is_some()
    }

    /// Pseudo-normals, for a closed mesh.
    pub fn pseudo_normals(&self) -> Option<&PseudoNormals> {
        self.normals.as_ref()
    }

    /// Exact unsigned distance from `p` to the mesh (infinite for an empty mesh).
    pub fn unsigned(&self, p: V3) -> f64 {
        self.bvh
            .nearest(p)
            .map_or(f64::INFINITY, |h| h.dist2.sqrt())
    }

    /// Exact signed distance (negative inside) for a closed mesh; `None` for an open one.
    pub fn signed(&self, p: V3) -> Option<f64> {
        let n = self.normals.as_ref()?;
        let hit = self.bvh.nearest(p)?;
        Some(n.sign(p, &hit) * hit.dist2.sqrt())
    }
}
