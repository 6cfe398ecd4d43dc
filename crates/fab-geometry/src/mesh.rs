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

    /// The triangles as plain arrays: the form `fab-toolpath` takes.
    pub fn to_soup(&self) -> Vec<[[f64; 3]; 3]> {
        (0..self.triangles.len())
            .map(|t| self.triangle(t).map(|p| [p.x, p.y, p.z]))
            .collect()
    }
}
