//! Exact closest points on a mesh with where they lie on their triangle (barycentrics), by a
//! linear scan with a bounding-box early-out: for single queries such as projecting a landmark,
//! and for tests. Bulk queries belong to [`crate::query`]'s BVH, whose closest-point kernel
//! this uses.

use nalgebra::Point3;

use crate::mesh::Mesh;
use crate::query::{self, Feature};

/// Closest point to `p` on triangle (a, b, c), with its barycentric coordinates. The closest
/// point itself is [`query::closest_point_on_triangle`]'s; this adds where on the triangle it is.
pub fn on_triangle(
    p: &Point3<f64>,
    a: &Point3<f64>,
    b: &Point3<f64>,
    c: &Point3<f64>,
) -> (Point3<f64>, [f64; 3]) {
    let (q, feature) =
        query::closest_point_on_triangle((*p).into(), (*a).into(), (*b).into(), (*c).into());
    let q = Point3::from(q);
    // parameter of q along the segment s-e
    let along = |s: &Point3<f64>, e: &Point3<f64>| {
        let d = e - s;
        let l2 = d.norm_squared();
        if l2 > 0.0 {
            ((q - s).dot(&d) / l2).clamp(0.0, 1.0)
        } else {
            0.0
        }
    };
    let bary = match feature {
        Feature::Vertex(k) => {
            let mut w = [0.0; 3];
            w[usize::from(k)] = 1.0;
            w
        }
        Feature::Edge(0) => {
            let t = along(a, b);
            [1.0 - t, t, 0.0]
        }
        Feature::Edge(1) => {
            let t = along(b, c);
            [0.0, 1.0 - t, t]
        }
        Feature::Edge(_) => {
            let t = along(c, a);
            [t, 0.0, 1.0 - t]
        }
        Feature::Face => {
            // areas of the sub-triangles opposite each corner, over the whole
            let n = (b - a).cross(&(c - a));
            let n2 = n.norm_squared();
            let wb = (q - a).cross(&(c - a)).dot(&n) / n2;
            let wc = (b - a).cross(&(q - a)).dot(&n) / n2;
            [1.0 - wb - wc, wb, wc]
        }
    };
    (q, bary)
}

/// The closest point of the mesh to `p`: (triangle, point, barycentrics, distance).
pub fn on_mesh(mesh: &Mesh, p: &Point3<f64>) -> Option<(usize, Point3<f64>, [f64; 3], f64)> {
    let mut best: Option<(usize, Point3<f64>, [f64; 3], f64)> = None;
    let mut best_d2 = f64::INFINITY;
    for t in 0..mesh.triangles.len() {
        let [a, b, c] = mesh.triangle(t);
        // skip triangles whose bounding box is farther than the best so far
        let mut box_d2 = 0.0;
        for k in 0..3 {
            let lo = a[k].min(b[k]).min(c[k]);
            let hi = a[k].max(b[k]).max(c[k]);
            let d = (lo - p[k]).max(p[k] - hi).max(0.0);
            box_d2 += d * d;
        }
        if box_d2 >= best_d2 {
            continue;
        }
        let (q, bary) = on_triangle(p, &a, &b, &c);
        let d2 = (q - p).norm_squared();
        if d2 < best_d2 {
            best_d2 = d2;
            best = Some((t, q, bary, d2.sqrt()));
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

    #[test]
    fn mesh_query_with_early_out_equals_the_plain_minimum() {
        // a bumpy 12 x 12 grid surface
        let n = 12;
        let mut v = Vec::new();
        for j in 0..=n {
            for i in 0..=n {
                let (x, y) = (i as f64 * 5.0, j as f64 * 5.0);
                v.push(Point3::new(
                    x,
                    y,
                    (x * 0.3).sin() * 3.0 + (y * 0.2).cos() * 2.0,
                ));
            }
        }
        let w = (n + 1) as u32;
        let mut t = Vec::new();
        for j in 0..n as u32 {
            for i in 0..n as u32 {
                let a = j * w + i;
                t.push([a, a + 1, a + w + 1]);
                t.push([a, a + w + 1, a + w]);
            }
        }
        let m = Mesh::new(v, t);
        let mut s: u64 = 0x9E3779B97F4A7C15;
        for _ in 0..500 {
            let mut r = || {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (s % 10_000) as f64 / 10_000.0
            };
            let p = Point3::new(r() * 80.0 - 10.0, r() * 80.0 - 10.0, r() * 30.0 - 15.0);
            let plain = (0..m.triangles.len())
                .map(|i| {
                    let [a, b, c] = m.triangle(i);
                    (on_triangle(&p, &a, &b, &c).0 - p).norm()
                })
                .fold(f64::INFINITY, f64::min);
            assert!((distance(&m, &p) - plain).abs() < 1e-12);
        }
    }
}
