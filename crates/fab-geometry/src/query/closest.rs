//! Exact closest point on a triangle (Ericson, *Real-Time Collision Detection*, 5.1.5), reporting
//! which feature (face, edge or vertex) holds it: the sign test needs the feature.

/// A 3-vector as plain data: the hot loops work on flat arrays of these.
pub type V3 = [f64; 3];

#[inline(always)]
pub(crate) fn sub(a: V3, b: V3) -> V3 {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}
#[inline(always)]
pub(crate) fn add(a: V3, b: V3) -> V3 {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
}
#[inline(always)]
pub(crate) fn scale(a: V3, s: f64) -> V3 {
    [a[0] * s, a[1] * s, a[2] * s]
}
#[inline(always)]
pub(crate) fn dot(a: V3, b: V3) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}
#[inline(always)]
pub(crate) fn cross(a: V3, b: V3) -> V3 {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}
#[inline(always)]
pub(crate) fn norm2(a: V3) -> f64 {
    dot(a, a)
}
#[inline(always)]
pub(crate) fn lerp(a: V3, b: V3, t: f64) -> V3 {
    [
        a[0] + t * (b[0] - a[0]),
        a[1] + t * (b[1] - a[1]),
        a[2] + t * (b[2] - a[2]),
    ]
}
pub(crate) fn normalize(a: V3) -> V3 {
    let n = norm2(a).sqrt();
    if n > 0.0 { scale(a, 1.0 / n) } else { a }
}

/// Where on a triangle `(a, b, c)` the closest point lies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Feature {
    /// Inside the face.
    Face,
    /// On edge `k`: 0 = ab, 1 = bc, 2 = ca (endpoints excluded).
    Edge(u8),
    /// At corner `k`: 0 = a, 1 = b, 2 = c.
    Vertex(u8),
}

/// Closest point to `p` on segment `a`-`b`, with the parameter along it.
#[inline]
fn closest_on_segment(p: V3, a: V3, b: V3) -> (V3, f64) {
    let ab = sub(b, a);
    let l2 = norm2(ab);
    let t = if l2 > 0.0 {
        (dot(sub(p, a), ab) / l2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    (lerp(a, b, t), t)
}

/// Exact closest point to `p` on triangle `(a, b, c)` and the feature that holds it.
/// Degenerate (zero-area) triangles are handled as their edges.
#[inline]
pub fn closest_point_on_triangle(p: V3, a: V3, b: V3, c: V3) -> (V3, Feature) {
    closest_inline(p, a, b, c)
}

/// [`closest_point_on_triangle`], always inlined: the BVH's inner loop. (Edges `b - a`, `c - a`
/// precomputed per triangle, flat or paired per axis so that two dot products share a vector
/// operation, measured no faster: the loads cost what the subtractions did.)
#[inline(always)]
pub(crate) fn closest_inline(p: V3, a: V3, b: V3, c: V3) -> (V3, Feature) {
    let ab = sub(b, a);
    let ac = sub(c, a);
    let ap = sub(p, a);
    let d1 = dot(ab, ap);
    let d2 = dot(ac, ap);
    if d1 <= 0.0 && d2 <= 0.0 {
        return (a, Feature::Vertex(0));
    }
    let bp = sub(p, b);
    let d3 = dot(ab, bp);
    let d4 = dot(ac, bp);
    if d3 >= 0.0 && d4 <= d3 {
        return (b, Feature::Vertex(1));
    }
    let vc = d1 * d4 - d3 * d2;
    if vc <= 0.0 && d1 >= 0.0 && d3 <= 0.0 {
        let v = d1 / (d1 - d3);
        return (add(a, scale(ab, v)), Feature::Edge(0));
    }
    let cp = sub(p, c);
    let d5 = dot(ab, cp);
    let d6 = dot(ac, cp);
    if d6 >= 0.0 && d5 <= d6 {
        return (c, Feature::Vertex(2));
    }
    let vb = d5 * d2 - d1 * d6;
    if vb <= 0.0 && d2 >= 0.0 && d6 <= 0.0 {
        let w = d2 / (d2 - d6);
        return (add(a, scale(ac, w)), Feature::Edge(2));
    }
    let va = d3 * d6 - d5 * d4;
    if va <= 0.0 && (d4 - d3) >= 0.0 && (d5 - d6) >= 0.0 {
        let w = (d4 - d3) / ((d4 - d3) + (d5 - d6));
        return (add(b, scale(sub(c, b), w)), Feature::Edge(1));
    }
    let sum = va + vb + vc;
    if sum > 0.0 && sum.is_finite() {
        let denom = 1.0 / sum;
        let v = vb * denom;
        let w = vc * denom;
        return (add(a, add(scale(ab, v), scale(ac, w))), Feature::Face);
    }
    // Degenerate triangle: the closest of its three edges.
    let mut best = (a, Feature::Vertex(0));
    let mut best_d = f64::INFINITY;
    for (k, (s, e)) in [(a, b), (b, c), (c, a)].into_iter().enumerate() {
        let (q, t) = closest_on_segment(p, s, e);
        let d = norm2(sub(p, q));
        if d < best_d {
            best_d = d;
            let f = if t <= 0.0 {
                Feature::Vertex(k as u8)
            } else if t >= 1.0 {
                Feature::Vertex(((k + 1) % 3) as u8)
            } else {
                Feature::Edge(k as u8)
            };
            best = (q, f);
        }
    }
    best
}

#[cfg(test)]
pub(in crate::query) mod tests {
    use super::*;

    fn brute(p: V3, a: V3, b: V3, c: V3) -> f64 {
        // Dense barycentric sampling: an upper bound within a small tolerance of the truth.
        let n = 400;
        let mut best = f64::INFINITY;
        for i in 0..=n {
            for j in 0..=(n - i) {
                let u = i as f64 / n as f64;
                let v = j as f64 / n as f64;
                let q = add(a, add(scale(sub(b, a), u), scale(sub(c, a), v)));
                best = best.min(norm2(sub(p, q)).sqrt());
            }
        }
        best
    }

    /// A triangle and points whose closest points on it lie in each of its regions (the corners,
    /// the edges, the face from either side).
    pub(in crate::query) const REGIONS: ([V3; 3], [V3; 8]) = (
        [[0.0, 0.0, 0.0], [4.0, 0.0, 0.0], [1.0, 3.0, 0.0]],
        [
            [-1.0, -1.0, 0.5],
            [5.0, -1.0, 0.2],
            [1.0, 4.0, -0.3],
            [2.0, -2.0, 1.0],
            [3.5, 2.5, 0.0],
            [-1.0, 1.5, 2.0],
            [1.5, 1.0, 1.0],
            [1.5, 1.0, -2.0],
        ],
    );

    #[test]
    fn every_region_matches_dense_sampling() {
        let ([a, b, c], probes) = REGIONS;
        for p in probes {
            let (q, _) = closest_point_on_triangle(p, a, b, c);
            let d = norm2(sub(p, q)).sqrt();
            let bd = brute(p, a, b, c);
            assert!(d <= bd + 1e-12 && bd - d < 0.02, "{p:?}: {d} vs {bd}");
        }
    }

    #[test]
    fn features_are_reported() {
        let (a, b, c) = ([0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]);
        assert_eq!(
            closest_point_on_triangle([0.2, 0.2, 1.0], a, b, c).1,
            Feature::Face
        );
        assert_eq!(
            closest_point_on_triangle([-1.0, -1.0, 0.0], a, b, c).1,
            Feature::Vertex(0)
        );
        assert_eq!(
            closest_point_on_triangle([0.5, -1.0, 0.0], a, b, c).1,
            Feature::Edge(0)
        );
        assert_eq!(
            closest_point_on_triangle([1.0, 1.0, 0.0], a, b, c).1,
            Feature::Edge(1)
        );
        assert_eq!(
            closest_point_on_triangle([-1.0, 0.5, 0.0], a, b, c).1,
            Feature::Edge(2)
        );
        assert_eq!(
            closest_point_on_triangle([0.0, 3.0, 0.0], a, b, c).1,
            Feature::Vertex(2)
        );
    }

    #[test]
    fn degenerate_triangle_is_its_edges() {
        let (a, b, c) = ([0.0, 0.0, 0.0], [2.0, 0.0, 0.0], [1.0, 0.0, 0.0]);
        let (q, _) = closest_point_on_triangle([1.5, 1.0, 0.0], a, b, c);
        assert!((q[0] - 1.5).abs() < 1e-12 && q[1].abs() < 1e-12);
    }
}
