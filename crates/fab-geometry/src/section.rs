//! Plane sections of a mesh: the segments where a plane cuts the surface, their total length
//! (a circumference), and clipped extents (widths of a footprint).

use nalgebra::{Point3, Vector3};

use crate::mesh::Mesh;

/// The segments where the plane through `origin` with unit `normal` cuts the mesh surface.
/// Vertices exactly on the plane are nudged to the positive side, so each crossing is counted
/// once.
pub fn cut(mesh: &Mesh, origin: &Point3<f64>, normal: &Vector3<f64>) -> Vec<[Point3<f64>; 2]> {
    let side: Vec<f64> = mesh
        .vertices
        .iter()
        .map(|p| {
            let s = (p - origin).dot(normal);
            if s == 0.0 { f64::MIN_POSITIVE } else { s }
        })
        .collect();
    let mut out = Vec::new();
    for tri in &mesh.triangles {
        let s = tri.map(|v| side[v as usize]);
        let neg = s.iter().filter(|&&x| x < 0.0).count();
        if neg == 0 || neg == 3 {
            continue;
        }
        let mut pts = [Point3::origin(); 2];
        let mut k = 0;
        for i in 0..3 {
            let (a, b) = (i, (i + 1) % 3);
            if (s[a] < 0.0) != (s[b] < 0.0) {
                let t = s[a] / (s[a] - s[b]);
                let pa = mesh.vertices[tri[a] as usize];
                let pb = mesh.vertices[tri[b] as usize];
                if k < 2 {
                    pts[k] = pa + (pb - pa) * t;
                }
                k += 1;
            }
        }
        if k == 2 {
            out.push(pts);
        }
    }
    out
}

/// Total length of the section: the circumference when the plane cuts a tube once.
pub fn length(segments: &[[Point3<f64>; 2]]) -> f64 {
    segments.iter().map(|[a, b]| (b - a).norm()).sum()
}

/// Clips a segment to `z <= z_max`; `None` when it lies wholly above.
pub fn clip_below(seg: &[Point3<f64>; 2], z_max: f64) -> Option<[Point3<f64>; 2]> {
    let [a, b] = *seg;
    match (a.z <= z_max, b.z <= z_max) {
        (true, true) => Some([a, b]),
        (false, false) => None,
        (true, false) => Some([a, a + (b - a) * ((z_max - a.z) / (b.z - a.z))]),
        (false, true) => Some([b + (a - b) * ((z_max - b.z) / (a.z - b.z)), b]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A closed cylinder of radius r, height h, n sides, axis Z.
    pub fn cylinder(r: f64, h: f64, n: usize) -> Mesh {
        let mut v = Vec::new();
        for k in 0..2 {
            for i in 0..n {
                let a = i as f64 / n as f64 * std::f64::consts::TAU;
                v.push(Point3::new(r * a.cos(), r * a.sin(), k as f64 * h));
            }
        }
        let mut t = Vec::new();
        for i in 0..n as u32 {
            let j = (i + 1) % n as u32;
            let n = n as u32;
            t.push([i, j, n + j]);
            t.push([i, n + j, n + i]);
        }
        Mesh::new(v, t)
    }

    #[test]
    fn section_of_a_prism_is_its_perimeter() {
        let m = cylinder(10.0, 50.0, 64);
        let segs = cut(&m, &Point3::new(0.0, 0.0, 20.0), &Vector3::z());
        let expect = 64.0 * 2.0 * 10.0 * (std::f64::consts::PI / 64.0).sin();
        assert_eq!(segs.len(), 128);
        assert!((length(&segs) - expect).abs() < 1e-9);
    }
}
