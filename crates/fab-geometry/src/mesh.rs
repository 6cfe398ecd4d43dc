//! The indexed triangle mesh every other module works on. Millimetres, right-handed, triangles
//! wound counter-clockwise seen from outside (outward normals).

use nalgebra::{Point3, Vector3};

/// An indexed triangle mesh in millimetres.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Mesh {
    pub vertices: Vec<Point3<f64>>,
    pub triangles: Vec<[u32; 3]>,
}

impl Mesh {
    pub fn new(vertices: Vec<Point3<f64>>, triangles: Vec<[u32; 3]>) -> Self {
        Self {
            vertices,
            triangles,
        }
    }

    /// The three corners of triangle `t`.
    #[inline]
    pub fn triangle(&self, t: usize) -> [Point3<f64>; 3] {
        let [a, b, c] = self.triangles[t];
        [
            self.vertices[a as usize],
            self.vertices[b as usize],
            self.vertices[c as usize],
        ]
    }

    /// Axis-aligned bounds (min, max); `None` for a mesh with no vertices.
    pub fn bounds(&self) -> Option<(Point3<f64>, Point3<f64>)> {
        let first = *self.vertices.first()?;
        Some(
            self.vertices
                .iter()
                .fold((first, first), |(lo, hi), p| (lo.inf(p), hi.sup(p))),
        )
    }

    /// Unnormalised normal of triangle `t` (twice its area in length).
    #[inline]
    pub fn triangle_normal(&self, t: usize) -> Vector3<f64> {
        let [a, b, c] = self.triangle(t);
        (b - a).cross(&(c - a))
    }

    /// Every triangle split into four at its edge midpoints, each midpoint shared by the
    /// triangles of its edge (so a closed mesh stays closed and oriented): the same surface with
    /// four times the triangles. Scale tests and benchmarks make large scans with it.
    pub fn split4(&self) -> Mesh {
        let mut vertices = self.vertices.clone();
        let mut mids = std::collections::HashMap::with_capacity(self.triangles.len() * 3 / 2);
        let mut triangles = Vec::with_capacity(self.triangles.len() * 4);
        for &[a, b, c] in &self.triangles {
            let [ab, bc, ca] = [(a, b), (b, c), (c, a)].map(|(p, q)| {
                *mids.entry((p.min(q), p.max(q))).or_insert_with(|| {
                    vertices.push(nalgebra::center(
                        &vertices[p as usize],
                        &vertices[q as usize],
                    ));
                    vertices.len() as u32 - 1
                })
            });
            triangles.extend([[a, ab, ca], [ab, b, bc], [ca, bc, c], [ab, bc, ca]]);
        }
        Mesh::new(vertices, triangles)
    }

    /// The triangles as plain arrays: the form `fab-toolpath` takes.
    pub fn to_soup(&self) -> Vec<[[f64; 3]; 3]> {
        (0..self.triangles.len())
            .map(|t| self.triangle(t).map(|p| [p.x, p.y, p.z]))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tetrahedron split into four twice: 64 triangles, the same area, and still closed and
    /// oriented (every directed edge once, its reverse once), the midpoints shared.
    #[test]
    fn split4_keeps_the_surface_closed() {
        let p = |x, y, z| Point3::new(x, y, z);
        let tet = Mesh::new(
            vec![
                p(0.0, 0.0, 0.0),
                p(1.0, 0.0, 0.0),
                p(0.0, 1.0, 0.0),
                p(0.0, 0.0, 1.0),
            ],
            vec![[0, 2, 1], [0, 1, 3], [1, 2, 3], [0, 3, 2]],
        );
        let area = |m: &Mesh| -> f64 {
            (0..m.triangles.len())
                .map(|t| m.triangle_normal(t).norm() / 2.0)
                .sum()
        };
        let fine = tet.split4().split4();
        assert_eq!(fine.triangles.len(), 64);
        // 4 corners + 6 edge midpoints, then + 24 midpoints of the 24 edges of the first split
        assert_eq!(fine.vertices.len(), 34);
        assert!((area(&fine) - area(&tet)).abs() < 1e-12);
        let mut directed: Vec<(u32, u32)> = fine
            .triangles
            .iter()
            .flat_map(|t| (0..3).map(move |k| (t[k], t[(k + 1) % 3])))
            .collect();
        directed.sort_unstable();
        assert!(directed.windows(2).all(|w| w[0] != w[1]));
        assert!(
            directed
                .iter()
                .all(|&(a, b)| directed.binary_search(&(b, a)).is_ok())
        );
    }
}
