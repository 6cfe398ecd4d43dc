//! The distance field the offset surface is a level set of, and the exact projection onto it.

use super::lists::Lists;
use super::scan::Level;
use crate::query::{Bvh, Nearest, PseudoNormals, V3, add, normalize, scale, sub};

/// Distance to the input mesh: signed (negative inside) for a closed mesh, unsigned for an open
/// one. The offset surface is `value == level`.
pub(crate) struct Field<'a> {
    pub bvh: &'a Bvh,
    pub normals: Option<&'a PseudoNormals>,
    /// The level: `D` for a closed mesh, `|D|` for an open one (a two-sided sheet).
    pub level: f64,
    /// `|D|`: every output point lies at this unsigned distance from the input.
    pub radius: f64,
    /// Candidate lists of the crossed cells, once there are some: queries in those cells test
    /// their lists instead of searching the tree.
    pub lists: Option<&'a Lists>,
}

impl Field<'_> {
    /// The level set this field's surface is.
    pub fn level_set(&self) -> Level {
        Level {
            level: self.level,
            radius: self.radius,
            signed: self.normals.is_some(),
        }
    }

    /// Nearest point of the input to `p`, searching within `bound` (a valid upper bound on the
    /// distance, e.g. the distance to a neighbour's nearest point) first.
    #[inline]
    pub fn nearest(&self, p: V3, bound: f64) -> Nearest {
        if let Some(l) = self.lists
            && let Some(h) = l.nearest(self.bvh, p)
        {
            return h;
        }
        let b2 = bound * bound * (1.0 + 1e-9) + 1e-18;
        if bound.is_finite()
            && let Some(h) = self.bvh.nearest_within(p, b2)
        {
            return h;
        }
        self.bvh.nearest(p).expect("offset: the mesh has triangles")
    }

    /// Nearest point of the input to `p`, starting from triangle `slot` (a neighbour's).
    #[inline]
    pub fn nearest_from(&self, p: V3, slot: u32) -> Nearest {
        if let Some(l) = self.lists
            && let Some(h) = l.nearest(self.bvh, p)
        {
            return h;
        }
        self.bvh
            .nearest_from(p, slot)
            .expect("offset: the mesh has triangles")
    }

    /// Field value at `p` given its nearest input point `hit`.
    #[inline]
    pub fn value_of(&self, p: V3, hit: &Nearest) -> f64 {
        let d = hit.dist2.sqrt();
        match self.normals {
            Some(n) => n.sign(p, hit) * d,
            None => d,
        }
    }

    /// Error of `p` as an offset point: `| dist(p, input) - |D| |`, with the nearest point.
    #[inline]
    pub fn error(&self, p: V3, bound: f64) -> (f64, Nearest) {
        let hit = self.nearest(p, bound);
        ((hit.dist2.sqrt() - self.radius).abs(), hit)
    }

    /// Moves `p` onto the offset surface: `c + |D| (p - c) / |p - c|` with `c` the nearest input
    /// point, repeated with the new nearest point while the result is still inside the level set.
    /// From outside (`dist(p) >= |D|`) one step is exact: `c` stays the nearest point all along the
    /// segment from `c` to `p`. Returns the point and the surface normal there (the unit vector
    /// from its nearest input point, pointing away from the input).
    #[inline]
    pub fn project(&self, mut p: V3, mut hit: Nearest) -> (V3, V3) {
        let mut dir = [0.0; 3];
        for _ in 0..12 {
            let d = hit.dist2.sqrt();
            dir = if d > 1e-12 {
                scale(sub(p, hit.point), 1.0 / d)
            } else {
                match self.normals {
                    Some(n) => normalize(n.normal(&hit)),
                    None => return (p, dir),
                }
            };
            if (d - self.radius).abs() <= 1e-9 {
                break;
            }
            p = add(hit.point, scale(dir, self.radius));
            if d > self.radius {
                break;
            }
            hit = self.nearest_from(p, hit.slot);
        }
        (p, dir)
    }
}
