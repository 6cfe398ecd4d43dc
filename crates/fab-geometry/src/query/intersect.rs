//! Triangle-triangle intersection, and the self-intersections of a whole mesh through the BVH.

use rayon::prelude::*;

use super::bvh::Bvh;
use super::closest::{V3, cross, dot, sub};
use crate::Mesh;

#[inline]
fn orient(a: V3, b: V3, c: V3, d: V3) -> f64 {
    dot(cross(sub(b, a), sub(c, a)), sub(d, a))
}

/// Orientations smaller than this, relative to the product of the lengths involved, are
/// rounding noise: the points are coplanar.
const FLAT: f64 = 1e-10;

#[inline]
fn len(a: V3) -> f64 {
    dot(a, a).sqrt()
}

/// Does the open segment `p`-`q` cross the triangle `abc` (strictly: touching does not count)?
#[inline]
fn segment_crosses(p: V3, q: V3, [a, b, c]: [V3; 3]) -> bool {
    let n = cross(sub(b, a), sub(c, a));
    let scale = len(n);
    let sp = orient(a, b, c, p);
    let sq = orient(a, b, c, q);
    let eps = FLAT * scale * (len(sub(p, a)) + len(sub(q, a)));
    if !(sp > eps && sq < -eps || sp < -eps && sq > eps) {
        return false;
    }
    let u = orient(p, q, a, b);
    let v = orient(p, q, b, c);
    let w = orient(p, q, c, a);
    (u > 0.0 && v > 0.0 && w > 0.0) || (u < 0.0 && v < 0.0 && w < 0.0)
}

/// Do two coplanar triangles overlap with their interiors (separating axis test in their plane,
/// touching along an edge or at a point does not count)?
fn coplanar_overlap(t: [V3; 3], u: [V3; 3]) -> bool {
    let n = cross(sub(t[1], t[0]), sub(t[2], t[0]));
    let pts = t.iter().chain(u.iter());
    let size = pts.clone().map(|p| len(sub(*p, t[0]))).fold(0.0, f64::max);
    for tri in [t, u] {
        for k in 0..3 {
            let axis = cross(n, sub(tri[(k + 1) % 3], tri[k]));
            let eps = FLAT * len(axis) * size.max(1.0) * 1e3;
            let span = |s: [V3; 3]| {
                let d = s.map(|p| dot(axis, p));
                (d[0].min(d[1]).min(d[2]), d[0].max(d[1]).max(d[2]))
            };
            let ((a0, a1), (b0, b1)) = (span(t), span(u));
            if a1 <= b0 + eps || b1 <= a0 + eps {
                return false;
            }
        }
    }
    true
}

/// Do two triangles cross each other? True when an edge of one passes through the other's
/// interior, or when coplanar triangles overlap; contacts that only touch are not counted.
pub fn triangles_intersect(t: [V3; 3], u: [V3; 3]) -> bool {
    let n = cross(sub(t[1], t[0]), sub(t[2], t[0]));
    let flat =
        |p: V3| orient(t[0], t[1], t[2], p).abs() <= FLAT * len(n) * len(sub(p, t[0])).max(1e-300);
    if u.iter().all(|&p| flat(p)) {
        return coplanar_overlap(t, u);
    }
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
        // Coplanar: overlapping counts, side by side does not.
        let over = [[1.0, 1.0, 0.0], [5.0, 1.0, 0.0], [1.0, 5.0, 0.0]];
        let beside = [[4.0, 0.0, 0.0], [8.0, 0.0, 0.0], [4.0, 4.0, 0.0]];
        assert!(triangles_intersect(t, over));
        assert!(!triangles_intersect(t, beside));
    }
}
