//! Triangle-triangle intersection, and the self-intersections of a whole mesh through the BVH.

use rayon::prelude::*;

use super::bvh::Bvh;
use super::closest::{V3, cross, dot, sub};
use crate::Mesh;

#[inline]
fn orient(a: V3, b: V3, c: V3, d: V3) -> f64 {
    dot(cross(sub(b, a), sub(c, a)), sub(d, a))
}

/// Does the open segment `p`-`q` cross the triangle `abc` (strictly: touching does not count)?
#[inline]
fn segment_crosses(p: V3, q: V3, [a, b, c]: [V3; 3]) -> bool {
    let sp = orient(a, b, c, p);
    let sq = orient(a, b, c, q);
    if !(sp > 0.0 && sq < 0.0 || sp < 0.0 && sq > 0.0) {
        return false;
    }
    let u = orient(p, q, a, b);
    let v = orient(p, q, b, c);
    let w = orient(p, q, c, a);
    (u > 0.0 && v > 0.0 && w > 0.0) || (u < 0.0 && v < 0.0 && w < 0.0)
}

/// Do two triangles cross each other? True when an edge of one passes through the other's
/// interior; contacts that only touch, and coplanar overlaps, are not counted.
pub fn triangles_intersect(t: [V3; 3], u: [V3; 3]) -> bool {
    (0..3).any(|k| segment_crosses(t[k], t[(k + 1) % 3], u))
        || (0..3).any(|k| segment_crosses(u[k], u[(k + 1) % 3], t))
}

/// All pairs of triangles `(i, j)`, `i < j`, sharing no vertex, that cross each other.
pub fn self_intersections(mesh: &Mesh) -> Vec<(u32, u32)> {
    let bvh = Bvh::new(mesh);
    let tri = |t: u32| mesh.triangle(t as usize).map(|p| [p.x, p.y, p.z]);
    let mut pairs: Vec<(u32, u32)> = (0..mesh.triangles.len() as u32)
        .into_par_iter()
        .flat_map_iter(|i| {
            let ti = tri(i);
            let vi = mesh.triangles[i as usize];
            let mut lo = ti[0];
            let mut hi = ti[0];
            for p in &ti[1..] {
                for k in 0..3 {
                    lo[k] = lo[k].min(p[k]);
                    hi[k] = hi[k].max(p[k]);
                }
            }
            let mut found = Vec::new();
            bvh.for_each_overlapping(lo, hi, |j| {
                if j <= i {
                    return;
                }
                let vj = mesh.triangles[j as usize];
                if vi.iter().any(|v| vj.contains(v)) {
                    return;
                }
                if triangles_intersect(ti, tri(j)) {
                    found.push((i, j));
                }
            });
            found
        })
        .collect();
    pairs.sort_unstable();
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crossing_and_separate_triangles() {
        let t = [[0.0, 0.0, 0.0], [4.0, 0.0, 0.0], [0.0, 4.0, 0.0]];
        let through = [[1.0, 1.0, -1.0], [1.0, 1.0, 1.0], [3.0, 3.0, 1.0]];
        let above = [[1.0, 1.0, 0.5], [1.0, 1.0, 1.0], [3.0, 3.0, 1.0]];
        assert!(triangles_intersect(t, through));
        assert!(triangles_intersect(through, t));
        assert!(!triangles_intersect(t, above));
    }
}
