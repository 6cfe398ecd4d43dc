//! Inside or outside: the sign of the distance from angle-weighted pseudo-normals
//! (Bærentzen & Aanæs 2005), exact for closed, consistently oriented, manifold meshes.

use rayon::prelude::*;
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

use super::bvh::Nearest;
use super::closest::{Feature, V3, add, cross, dot, normalize, scale, sub};
use crate::Mesh;
use crate::topology::{self, EdgeUse};

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
/// then bounds a solid and its inside is well defined. Counts are per directed edge: a directed
/// edge used more than once, or whose reverse is, is bad; one whose reverse is unused is a
/// boundary edge.
pub fn check_closed(mesh: &Mesh) -> Result<(), NotClosed> {
    check_edges(&topology::edges(mesh))
}

/// [`check_closed`] on the undirected edges of the mesh (from [`topology::edges`]).
fn check_edges(edges: &[EdgeUse]) -> Result<(), NotClosed> {
    let (boundary, bad) = edges
        .par_iter()
        .map(|e| {
            if e.key.0 == e.key.1 {
                // a triangle with a repeated corner: the directed edge is its own reverse
                return (0, (e.count > 1) as usize);
            }
            let (fwd, back) = (e.forward, e.count - e.forward);
            let mut out = (0, 0);
            for (n, rev) in [(fwd, back), (back, fwd)] {
                if n == 0 {
                    continue;
                }
                if n > 1 || rev > 1 {
                    out.1 += 1;
                } else if rev == 0 {
                    out.0 += 1;
                }
            }
            out
        })
        .reduce(|| (0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
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
    /// Computes the pseudo-normals; refuses meshes that are not closed manifolds. The edges come
    /// from one O(n) pass ([`topology::edges`]); faces, corner angles and edge normals are
    /// computed in parallel, and each vertex sums its corners in triangle order, so the result
    /// does not depend on the number of threads.
    pub fn new(mesh: &Mesh) -> Result<Self, NotClosed> {
        let edges = topology::edges(mesh);
        check_edges(&edges)?;
        let v: Vec<V3> = mesh.vertices.par_iter().map(|p| [p.x, p.y, p.z]).collect();
        let face: Vec<V3> = mesh
            .triangles
            .par_iter()
            .map(|t| {
                let [a, b, c] = t.map(|i| v[i as usize]);
                normalize(cross(sub(b, a), sub(c, a)))
            })
            .collect();
        // each corner's angle; its vertex gains the face normal times it, in triangle order
        let angles: Vec<[f64; 3]> = mesh
            .triangles
            .par_iter()
            .map(|t| {
                [0, 1, 2].map(|k| {
                    let (i, j, l) = (t[k], t[(k + 1) % 3], t[(k + 2) % 3]);
                    let e1 = normalize(sub(v[j as usize], v[i as usize]));
                    let e2 = normalize(sub(v[l as usize], v[i as usize]));
                    dot(e1, e2).clamp(-1.0, 1.0).acos()
                })
            })
            .collect();
        let mut vertex = vec![[0.0; 3]; v.len()];
        for ((t, a), &f) in mesh.triangles.iter().zip(&angles).zip(&face) {
            for k in 0..3 {
                let i = t[k] as usize;
                vertex[i] = add(vertex[i], scale(f, a[k]));
            }
        }
        drop(angles);
        // across each edge k of each triangle, the triangle walking it the other way (closed:
        // exactly one; a repeated corner's edge is its own); each slot is written once
        let across: Vec<[AtomicU32; 3]> = (0..mesh.triangles.len() as u32)
            .into_par_iter()
            .map(|t| [0, 1, 2].map(|_| AtomicU32::new(t)))
            .collect();
        let slot = |t: u32, from: u32, to: u32| -> &AtomicU32 {
            let tri = mesh.triangles[t as usize];
            let k = (0..3)
                .find(|&k| tri[k] == from && tri[(k + 1) % 3] == to)
                .expect("the edge belongs to the triangle");
            &across[t as usize][k]
        };
        edges.par_iter().for_each(|e| {
            if let Some(((t1, f1), (t2, _))) = e.pair() {
                let (a, b) = e.key;
                let (from, to) = if f1 { (a, b) } else { (b, a) };
                slot(t1, from, to).store(t2, Relaxed);
                slot(t2, to, from).store(t1, Relaxed);
            }
        });
        let edge = across
            .par_iter()
            .enumerate()
            .map(|(ti, o)| [0, 1, 2].map(|k| add(face[ti], face[o[k].load(Relaxed) as usize])))
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// The direct definition: a map of directed edges (the former implementation), as the oracle.
    fn check_closed_by_map(mesh: &Mesh) -> Result<(), NotClosed> {
        let mut directed: HashMap<(u32, u32), u32> = HashMap::new();
        for t in &mesh.triangles {
            for k in 0..3 {
                *directed.entry((t[k], t[(k + 1) % 3])).or_default() += 1;
            }
        }
        let (mut boundary, mut bad) = (0, 0);
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

    fn foot() -> Mesh {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fixtures/scans/foot-left-m.stl"
        );
        crate::load::load_path(std::path::Path::new(path), crate::Units::Auto)
            .unwrap()
            .mesh
    }

    #[test]
    fn check_closed_agrees_with_the_directed_edge_map() {
        let closed = foot();
        assert_eq!(check_closed(&closed), Ok(()));
        let mut variants = Vec::new();
        let mut open = closed.clone();
        open.triangles.truncate(open.triangles.len() - 5);
        variants.push(open);
        let mut doubled = closed.clone();
        doubled.triangles.push(doubled.triangles[7]);
        variants.push(doubled);
        let mut fan = closed.clone();
        let [a, b, _] = fan.triangles[3];
        fan.triangles.push([b, a, 0]);
        variants.push(fan);
        let mut flipped = closed.clone();
        flipped.triangles[11].swap(1, 2);
        variants.push(flipped);
        let mut repeated = closed.clone();
        let [a, b, _] = repeated.triangles[0];
        repeated.triangles.push([a, a, b]);
        repeated.triangles.push([a, a, a]);
        variants.push(repeated);
        for (i, m) in variants.iter().enumerate() {
            let got = check_closed(m);
            assert!(got.is_err(), "variant {i}");
            assert_eq!(got, check_closed_by_map(m), "variant {i}");
        }
    }

    #[test]
    fn pseudo_normals_match_the_edge_map_construction() {
        let m = foot();
        let p = PseudoNormals::new(&m).unwrap();
        let v: Vec<V3> = m.vertices.iter().map(|p| [p.x, p.y, p.z]).collect();
        let mut by_edge = HashMap::new();
        let mut vertex = vec![[0.0; 3]; v.len()];
        for (ti, t) in m.triangles.iter().enumerate() {
            for k in 0..3 {
                let (i, j, l) = (t[k], t[(k + 1) % 3], t[(k + 2) % 3]);
                let e1 = normalize(sub(v[j as usize], v[i as usize]));
                let e2 = normalize(sub(v[l as usize], v[i as usize]));
                let angle = dot(e1, e2).clamp(-1.0, 1.0).acos();
                vertex[i as usize] = add(vertex[i as usize], scale(p.face[ti], angle));
                by_edge.insert((i, j), ti);
            }
        }
        assert_eq!(p.vertex, vertex);
        for (ti, t) in m.triangles.iter().enumerate() {
            let [a, b, c] = t.map(|i| v[i as usize]);
            assert_eq!(p.face[ti], normalize(cross(sub(b, a), sub(c, a))));
            for k in 0..3 {
                let other = by_edge[&(t[(k + 1) % 3], t[k])];
                assert_eq!(p.edge[ti][k], add(p.face[ti], p.face[other]));
            }
        }
    }
}
