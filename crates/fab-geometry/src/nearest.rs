//! Exact closest points on triangles and on a mesh (brute force: for single queries such as
//! projecting a landmark, and for tests; bulk queries belong to an acceleration structure).

use nalgebra::Point3;

use crate::mesh::Mesh;

/// Closest point to `p` on triangle (a, b, c), with its barycentric coordinates.
/// Ericson, Real-Time Collision Detection, 5.1.5.
pub fn on_triangle(
    p: &Point3<f64>,
    a: &Point3<f64>,
    b: &Point3<f64>,
    c: &Point3<f64>,
) -> (Point3<f64>, [f64; 3]) {
    let ab = b - a;
    let ac = c - a;
    let ap = p - a;
    let d1 = ab.dot(&ap);
    let d2 = ac.dot(&ap);
    if d1 <= 0.0 && d2 <= 0.0 {
        return (*a, [1.0, 0.0, 0.0]);
    }
    let bp = p - b;
    let d3 = ab.dot(&bp);
    let d4 = ac.dot(&bp);
    if d3 >= 0.0 && d4 <= d3 {
        return (*b, [0.0, 1.0, 0.0]);
    }
    let vc = d1 * d4 - d3 * d2;
    if vc <= 0.0 && d1 >= 0.0 && d3 <= 0.0 {
        let v = d1 / (d1 - d3);
        return (a + ab * v, [1.0 - v, v, 0.0]);
    }
    let cp = p - c;
    let d5 = ab.dot(&cp);
    let d6 = ac.dot(&cp);
    if d6 >= 0.0 && d5 <= d6 {
        return (*c, [0.0, 0.0, 1.0]);
    }
    let vb = d5 * d2 - d1 * d6;
    if vb <= 0.0 && d2 >= 0.0 && d6 <= 0.0 {
        let w = d2 / (d2 - d6);
        return (a + ac * w, [1.0 - w, 0.0, w]);
    }
    let va = d3 * d6 - d5 * d4;
    if va <= 0.0 && (d4 - d3) >= 0.0 && (d5 - d6) >= 0.0 {
        let w = (d4 - d3) / ((d4 - d3) + (d5 - d6));
        return (b + (c - b) * w, [0.0, 1.0 - w, w]);
    }
    let denom = 1.0 / (va + vb + vc);
    let v = vb * denom;
    let w = vc * denom;
    (a + ab * v + ac * w, [1.0 - v - w, v, w])
}

/// The closest point of the mesh to `p`: (triangle, point, barycentrics, distance).
pub fn on_mesh(mesh: &Mesh, p: &Point3<f64>) -> Option<(usize, Point3<f64>, [f64; 3], f64)> {
    let mut best: Option<(usize, Point3<f64>, [f64; 3], f64)> = None;
    for t in 0..mesh.triangles.len() {
        let [a, b, c] = mesh.triangle(t);
        let (q, bary) = on_triangle(p, &a, &b, &c);
        let d = (q - p).norm();
        if best.as_ref().is_none_or(|b| d < b.3) {
            best = Some((t, q, bary, d));
        }
    }
    best
}

/// Distance from `p` to the mesh surface (infinite for an empty mesh).
pub fn distance(mesh: &Mesh, p: &Point3<f64>) -> f64 {
    on_mesh(mesh, p).map_or(f64::INFINITY, |r| r.3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_points_in_each_region() {
        let (a, b, c) = (
            Point3::new(0.0, 0.0, 0.0),
            Point3::new(10.0, 0.0, 0.0),
            Point3::new(0.0, 10.0, 0.0),
        );
        let cases = [
            (Point3::new(2.0, 3.0, 5.0), Point3::new(2.0, 3.0, 0.0)),
            (Point3::new(-5.0, -5.0, 1.0), a),
            (Point3::new(5.0, -3.0, 0.0), Point3::new(5.0, 0.0, 0.0)),
            (Point3::new(10.0, 10.0, 0.0), Point3::new(5.0, 5.0, 0.0)),
            (Point3::new(20.0, -1.0, 0.0), b),
        ];
        for (p, want) in cases {
            let (q, bary) = on_triangle(&p, &a, &b, &c);
            assert!((q - want).norm() < 1e-12, "{p:?} -> {q:?}");
            let back = a.coords * bary[0] + b.coords * bary[1] + c.coords * bary[2];
            assert!((back - q.coords).norm() < 1e-12);
        }
    }
}
