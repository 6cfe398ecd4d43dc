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
    mesh.triangles
        .iter()
        .filter_map(|tri| crossing(mesh, tri, &tri.map(|v| side[v as usize])))
        .collect()
}

/// Many parallel sections of one mesh, fast: triangles are binned once by their extent along
/// the planes' normal, so each cut looks only at the triangles that can cross it.
pub struct Slicer<'a> {
    mesh: &'a Mesh,
    normal: Vector3<f64>,
    lo: f64,
    width: f64,
    start: Vec<u32>,
    tris: Vec<u32>,
}

impl<'a> Slicer<'a> {
    /// Bins the triangles of `mesh` along unit `normal` into about sqrt(n) bins.
    pub fn new(mesh: &'a Mesh, normal: Vector3<f64>) -> Self {
        let h: Vec<f64> = mesh
            .vertices
            .iter()
            .map(|p| p.coords.dot(&normal))
            .collect();
        let (lo, hi) = h
            .iter()
            .fold((f64::MAX, f64::MIN), |(a, b), &x| (a.min(x), b.max(x)));
        let nbins = ((mesh.triangles.len() as f64).sqrt() as usize).clamp(1, 4096);
        let width = ((hi - lo) / nbins as f64).max(1e-9);
        let bin = |x: f64| (((x - lo) / width) as usize).min(nbins - 1);
        let range = |t: &[u32; 3]| {
            let v = t.map(|i| h[i as usize]);
            (bin(v[0].min(v[1]).min(v[2])), bin(v[0].max(v[1]).max(v[2])))
        };
        let mut start = vec![0u32; nbins + 1];
        for t in &mesh.triangles {
            let (a, b) = range(t);
            for k in a..=b {
                start[k + 1] += 1;
            }
        }
        for k in 0..nbins {
            start[k + 1] += start[k];
        }
        let mut fill = start[..nbins].to_vec();
        let mut tris = vec![0u32; start[nbins] as usize];
        for (i, t) in mesh.triangles.iter().enumerate() {
            let (a, b) = range(t);
            for k in a..=b {
                tris[fill[k] as usize] = i as u32;
                fill[k] += 1;
            }
        }
        Slicer {
            mesh,
            normal,
            lo,
            width,
            start,
            tris,
        }
    }

    /// The section at height `h` along the normal (the plane `p . normal = h`).
    pub fn cut(&self, h: f64) -> Vec<[Point3<f64>; 2]> {
        let nbins = self.start.len() - 1;
        let x = (h - self.lo) / self.width;
        if x < 0.0 || x > nbins as f64 {
            return Vec::new();
        }
        let k = (x as usize).min(nbins - 1);
        let mut out = Vec::new();
        let side = |v: u32| {
            let s = self.mesh.vertices[v as usize].coords.dot(&self.normal) - h;
            if s == 0.0 { f64::MIN_POSITIVE } else { s }
        };
        for &t in &self.tris[self.start[k] as usize..self.start[k + 1] as usize] {
            let tri = self.mesh.triangles[t as usize];
            let s = tri.map(side);
            if let Some(seg) = crossing(self.mesh, &tri, &s) {
                out.push(seg);
            }
        }
        out
    }
}

/// The segment where a triangle with signed distances `s` crosses zero, if it does.
fn crossing(mesh: &Mesh, tri: &[u32; 3], s: &[f64; 3]) -> Option<[Point3<f64>; 2]> {
    let neg = s.iter().filter(|&&x| x < 0.0).count();
    if neg == 0 || neg == 3 {
        return None;
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
    (k == 2).then_some(pts)
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
        let slicer = Slicer::new(&m, Vector3::z());
        for h in [0.5, 20.0, 49.0] {
            let s = slicer.cut(h);
            assert_eq!(s.len(), 128);
            assert!((length(&s) - expect).abs() < 1e-9);
        }
        assert!(slicer.cut(60.0).is_empty());
    }
}
