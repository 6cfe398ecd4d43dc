//! Inside or outside: the sign of the distance from angle-weighted pseudo-normals
//! (Bærentzen & Aanæs 2005), exact for closed, consistently oriented, manifold meshes.

use std::collections::HashMap;

use super::bvh::Nearest;
use super::closest::{Feature, V3, add, cross, dot, normalize, scale, sub};
use crate::Mesh;

/// Why a mesh has no well-defined inside.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NotClosed {
    /// Some edge has one triangle only.
    #[error("the mesh is open: {0} boundary edges")]
    Boundary(usize),
    /// Some edge has more than two triangles, or two with the same direction.
    #[error("the mesh is not a consistently oriented manifold: {0} bad edges")]
    NonManifold(usize),
}

/// Checks that every edge has exactly two triangles using it in opposite directions: the mesh
/// then bounds a solid and its inside is well defined.
pub fn check_closed(mesh: &Mesh) -> Result<(), NotClosed> {
    let mut directed: HashMap<(u32, u32), u32> = HashMap::with_capacity(mesh.triangles.len() * 3);
    for t in &mesh.triangles {
        for k in 0..3 {
            *directed.entry((t[k], t[(k + 1) % 3])).or_default() += 1;
        }
    }
    let mut boundary = 0;
    let mut bad = 0;
    for (&(a, b), &n) in &directed {
        let back = directed.get(&(b, a)).copied().unwrap_or(0);
        if n > 1 || back > 1 {
            bad += 1;
        } else if back == 0 {
            boundary += 1;
        }
    }
    if bad > 0 {
        Err(NotClosed::NonManifold(bad))
    } else if boundary > 0 {
        Err(NotClosed::Boundary(boundary))
    } else {
        Ok(())
    }
}

/// Angle-weighted pseudo-normals of a closed mesh's faces, edges and vertices.
#[derive(Clone, Debug)]
pub struct PseudoNormals {
    triangles: Vec<[u32; 3]>,
    face: Vec<V3>,
    /// Per triangle, the pseudo-normal of its edges ab, bc, ca.
    edge: Vec<[V3; 3]>,
    vertex: Vec<V3>,
}

impl PseudoNormals {
    /// Computes the pseudo-normals; refuses meshes that are not closed manifolds.
    pub fn new(mesh: &Mesh) -> Result<Self, NotClosed> {
        check_closed(mesh)?;
        let v: Vec<V3> = mesh.vertices.iter().map(|p| [p.x, p.y, p.z]).collect();
        let face: Vec<V3> = mesh
            .triangles
            .iter()
            .map(|t| {
                let [a, b, c] = t.map(|i| v[i as usize]);
                normalize(cross(sub(b, a), sub(c, a)))
            })
            .collect();
        let mut vertex = vec![[0.0; 3]; v.len()];
        let mut by_edge: HashMap<(u32, u32), u32> =
            HashMap::with_capacity(mesh.triangles.len() * 3);
        for (ti, t) in mesh.triangles.iter().enumerate() {
            for k in 0..3 {
                let (i, j, l) = (t[k], t[(k + 1) % 3], t[(k + 2) % 3]);
                let e1 = normalize(sub(v[j as usize], v[i as usize]));
                let e2 = normalize(sub(v[l as usize], v[i as usize]));
                let angle = dot(e1, e2).clamp(-1.0, 1.0).acos();
                vertex[i as usize] = add(vertex[i as usize], scale(face[ti], angle));
                by_edge.insert((i, j), ti as u32);
            }
        }
        let edge = mesh
            .triangles
            .iter()
            .enumerate()
            .map(|(ti, t)| {
                [0, 1, 2].map(|k| {
                    let (i, j) = (t[k], t[(k + 1) % 3]);
                    let other = by_edge[&(j, i)] as usize;
                    add(face[ti], face[other])
                })
            })
            .collect();
        Ok(Self {
            triangles: mesh.triangles.clone(),
            face,
            edge,
            vertex,
        })
    }

    /// The pseudo-normal at the nearest point `hit` (unnormalised).
    #[inline]
    pub fn normal(&self, hit: &Nearest) -> V3 {
        let t = hit.triangle as usize;
        match hit.feature {
            Feature::Face => self.face[t],
            Feature::Edge(k) => self.edge[t][k as usize],
            Feature::Vertex(k) => self.vertex[self.triangles[t][k as usize] as usize],
        }
    }

    /// +1 outside, -1 inside, for the query point `p` whose nearest point is `hit`.
    #[inline]
    pub fn sign(&self, p: V3, hit: &Nearest) -> f64 {
        if dot(sub(p, hit.point), self.normal(hit)) >= 0.0 {
            1.0
        } else {
            -1.0
        }
    }
}
