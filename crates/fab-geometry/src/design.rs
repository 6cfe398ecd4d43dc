//! The design surface of a foot orthosis positive: what the router is to carve.
//!
//! Input is the (modified) foot in the lab frame (heel at the origin, toes along +Y, plantar
//! surface facing -Z, floor at Z = 0). The positive is the foot's plantar surface, heel to toes,
//! up to the trim height (the shell is thermoformed over it and trimmed afterwards, so it covers
//! more than the orthosis), standing on a base that follows the foot's outline: the convex hull
//! of the foot seen from above, grown by the base margin with its corners rounded (a smooth,
//! convex, foot-shaped plinth that the cut-out follows), not a rectangular slab.
//!
//! The machine frame turns it plantar side up, the foot's length along the machine's X (its long
//! travel), heel towards -X: a proper rotation (no mirroring, a left foot stays a left foot),
//! `machine = (lab.y, lab.x, -lab.z) + offset`. Work zero is the top of the blank at its
//! front-left corner: the blank occupies `0..blank[0]` in X, `0..blank[1]` in Y and
//! `-blank[2]..0` in Z. The design's highest point is `top_margin` below the blank's top.
//!
//! Of the foot only what lies below the trim height is kept (triangles clipped at it); seen from
//! above in the machine frame that is exactly the plantar surface down to the base, which hides
//! everything else.

use nalgebra::{Isometry3, Point3, Translation3, UnitQuaternion, Vector3};

use crate::mesh::Mesh;

/// Sizes of the positive and its blank, mm.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DesignParams {
    /// Height above the floor (lab Z) up to which the foot is kept.
    pub trim_height: f64,
    /// Base beyond the foot's outline on every side (the radius of its rounded corners).
    pub base_margin: f64,
    /// Blank beyond the base block on every side (room for the cut-out tool).
    pub side_margin: f64,
    /// Blank above the design's highest point.
    pub top_margin: f64,
    /// Thickness of the base block under the trim plane.
    pub base_thickness: f64,
}

impl Default for DesignParams {
    fn default() -> Self {
        DesignParams {
            trim_height: 30.0,
            base_margin: 5.0,
            side_margin: 12.0,
            top_margin: 1.0,
            base_thickness: 8.0,
        }
    }
}

/// The positive in the machine frame.
#[derive(Clone, Debug)]
pub struct Design {
    /// Foot below the trim height plus the base block, machine frame, mm.
    pub mesh: Mesh,
    /// Lab frame -> machine frame.
    pub to_machine: Isometry3<f64>,
    /// Bounding rectangle of the base's outline in machine XY: `[xmin, ymin, xmax, ymax]`.
    pub base: [f64; 4],
    /// The base's outline in machine XY: a convex polygon, counter-clockwise seen from +Z, no
    /// repeated closing point. The base is this polygon extruded from `bottom_z` to `base_z`.
    pub outline: Vec<[f64; 2]>,
    /// Z of the base block's top (the trim plane).
    pub base_z: f64,
    /// Z of the design's highest point.
    pub top_z: f64,
    /// Z of the base block's bottom (the blank's bottom).
    pub bottom_z: f64,
    /// Blank size X, Y, Z; it occupies `0..X`, `0..Y`, `-Z..0`.
    pub blank: [f64; 3],
    pub params: DesignParams,
}

/// Why a design could not be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DesignError {
    #[error("design parameter {what} must be {expected}, got {found:?}")]
    Parameter {
        what: &'static str,
        expected: &'static str,
        found: f64,
    },
    #[error(
        "nothing of the foot lies below the trim height of {0} mm: is the scan oriented (floor at Z = 0)?"
    )]
    NothingBelowTrim(f64),
    #[error(
        "the foot below the trim height has no area seen from above: it cannot stand on a base"
    )]
    NoOutline,
}

/// Angle between the points of the base's rounded corners, degrees: with the default 5 mm
/// margin the outline's chords stay within 0.02 mm of the true round.
const CORNER_STEP_DEG: f64 = 5.0;

/// The rotation from the lab frame to the machine frame: `(x, y, z) -> (y, x, -z)`.
pub fn lab_to_machine_rotation() -> UnitQuaternion<f64> {
    // 180 degrees about (1, 1, 0) / sqrt 2
    UnitQuaternion::from_axis_angle(
        &nalgebra::Unit::new_normalize(Vector3::new(1.0, 1.0, 0.0)),
        std::f64::consts::PI,
    )
}

/// The foot orthosis positive of `lab` (a foot in the lab frame).
pub fn foot_positive(lab: &Mesh, p: &DesignParams) -> Result<Design, DesignError> {
    for (what, v, min) in [
        ("trim_height", p.trim_height, 1.0),
        ("base_margin", p.base_margin, 0.0),
        ("side_margin", p.side_margin, 0.0),
        ("top_margin", p.top_margin, 0.0),
        ("base_thickness", p.base_thickness, 0.0),
    ] {
        if !(v.is_finite() && v >= min && v <= 1000.0) {
            return Err(DesignError::Parameter {
                what,
                expected: "a number of mm between its minimum and 1000",
                found: v,
            });
        }
    }
    let rot = lab_to_machine_rotation();
    let t = p.trim_height;
    // clip every triangle to the half-space z <= t (lab frame), rotated into the machine frame
    let mut verts: Vec<Point3<f64>> = Vec::new();
    let mut tris: Vec<[u32; 3]> = Vec::new();
    let mut poly: Vec<Point3<f64>> = Vec::with_capacity(4);
    for tri in 0..lab.triangles.len() {
        let c = lab.triangle(tri);
        if c.iter().all(|q| q.z >= t) {
            continue;
        }
        poly.clear();
        for k in 0..3 {
            let (a, b) = (c[k], c[(k + 1) % 3]);
            if a.z < t {
                poly.push(a);
            }
            if (a.z < t) != (b.z < t) {
                let s = (t - a.z) / (b.z - a.z);
                poly.push(a + (b - a) * s);
            }
        }
        if poly.len() < 3 {
            continue;
        }
        let base = verts.len() as u32;
        verts.extend(poly.iter().map(|q| rot * q));
        for k in 1..poly.len() as u32 - 1 {
            tris.push([base, base + k, base + k + 1]);
        }
    }
    if tris.is_empty() {
        return Err(DesignError::NothingBelowTrim(t));
    }
    let foot = Mesh::new(verts, tris);
    let (lo, hi) = foot.bounds().expect("non-empty");
    // lab floor (min lab z) is the machine's max z; the trim plane is at machine z = -t
    let base_w = hi.x - lo.x + 2.0 * p.base_margin;
    let base_h = hi.y - lo.y + 2.0 * p.base_margin;
    let blank = [
        base_w + 2.0 * p.side_margin,
        base_h + 2.0 * p.side_margin,
        p.top_margin + (hi.z - (-t)) + p.base_thickness,
    ];
    let shift = Vector3::new(
        p.side_margin + p.base_margin - lo.x,
        p.side_margin + p.base_margin - lo.y,
        -p.top_margin - hi.z,
    );
    let to_machine = Isometry3::from_parts(Translation3::from(shift), rot);
    let mut mesh = foot;
    for v in &mut mesh.vertices {
        *v += shift;
    }
    let base_z = -t + shift.z;
    let top_z = hi.z + shift.z;
    let bottom_z = -blank[2];
    let base = [
        p.side_margin,
        p.side_margin,
        p.side_margin + base_w,
        p.side_margin + base_h,
    ];
    let hull = convex_hull(mesh.vertices.iter().map(|v| [v.x, v.y]).collect());
    let outline = rounded_offset(&hull, p.base_margin, CORNER_STEP_DEG.to_radians());
    if outline.len() < 3 {
        return Err(DesignError::NoOutline);
    }
    add_prism(&mut mesh, &outline, base_z, bottom_z);
    Ok(Design {
        mesh,
        to_machine,
        base,
        outline,
        base_z,
        top_z,
        bottom_z,
        blank,
        params: *p,
    })
}

/// Convex hull of `pts` (Andrew's monotone chain), counter-clockwise, without collinear points.
pub fn convex_hull(mut pts: Vec<[f64; 2]>) -> Vec<[f64; 2]> {
    pts.sort_by(|a, b| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1])));
    pts.dedup();
    if pts.len() < 3 {
        return pts;
    }
    let cross = |o: [f64; 2], a: [f64; 2], b: [f64; 2]| {
        (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])
    };
    let mut hull: Vec<[f64; 2]> = Vec::with_capacity(2 * pts.len());
    for pass in 0..2 {
        let start = hull.len();
        let iter: Box<dyn Iterator<Item = &[f64; 2]>> = if pass == 0 {
            Box::new(pts.iter())
        } else {
            Box::new(pts.iter().rev())
        };
        for &q in iter {
            while hull.len() >= start + 2
                && cross(hull[hull.len() - 2], hull[hull.len() - 1], q) <= 0.0
            {
                hull.pop();
            }
            hull.push(q);
        }
        hull.pop();
    }
    hull
}

/// The convex polygon `hull` (counter-clockwise) grown by `d`: its edges moved out by `d`, joined
/// by arcs of radius `d` round each corner, sampled every `step` radians or finer (the arc points
/// lie on the true round). Counter-clockwise; with `d = 0`, the hull itself.
pub fn rounded_offset(hull: &[[f64; 2]], d: f64, step: f64) -> Vec<[f64; 2]> {
    let n = hull.len();
    if n < 3 || d <= 0.0 {
        return hull.to_vec();
    }
    let normal = |a: [f64; 2], b: [f64; 2]| {
        let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
        let l = dx.hypot(dy);
        // outward for a counter-clockwise polygon: the edge direction turned clockwise
        [dy / l, -dx / l]
    };
    let mut out = Vec::new();
    for i in 0..n {
        let v = hull[i];
        let n_in = normal(hull[(i + n - 1) % n], v);
        let n_out = normal(v, hull[(i + 1) % n]);
        let a0 = n_in[1].atan2(n_in[0]);
        let mut turn = n_out[1].atan2(n_out[0]) - a0;
        if turn < 0.0 {
            turn += std::f64::consts::TAU;
        }
        let k = (turn / step).ceil().max(1.0) as usize;
        for j in 0..=k {
            let a = a0 + turn * j as f64 / k as f64;
            let q = [v[0] + d * a.cos(), v[1] + d * a.sin()];
            if out
                .last()
                .is_none_or(|l: &[f64; 2]| (l[0] - q[0]).hypot(l[1] - q[1]) > 1e-9)
            {
                out.push(q);
            }
        }
    }
    if out.len() > 1
        && (out[0][0] - out[out.len() - 1][0]).hypot(out[0][1] - out[out.len() - 1][1]) <= 1e-9
    {
        out.pop();
    }
    out
}

/// Appends the convex prism `outline` (counter-clockwise) x `bottom..top`, outward normals.
fn add_prism(mesh: &mut Mesh, outline: &[[f64; 2]], top: f64, bottom: f64) {
    let n = outline.len() as u32;
    let o = mesh.vertices.len() as u32;
    for z in [bottom, top] {
        for p in outline {
            mesh.vertices.push(Point3::new(p[0], p[1], z));
        }
    }
    // caps as fans (the outline is convex): the top counter-clockwise, the bottom reversed
    for k in 1..n - 1 {
        mesh.triangles.push([o + n, o + n + k, o + n + k + 1]);
        mesh.triangles.push([o, o + k + 1, o + k]);
    }
    for k in 0..n {
        let k1 = (k + 1) % n;
        mesh.triangles.push([o + k, o + k1, o + n + k1]);
        mesh.triangles.push([o + k, o + n + k1, o + n + k]);
    }
}

#[cfg(test)]
/// Appends the closed box `base` x `bottom..top` with outward normals.
fn add_block(mesh: &mut Mesh, base: [f64; 4], top: f64, bottom: f64) {
    let [x0, y0, x1, y1] = base;
    let o = mesh.vertices.len() as u32;
    for z in [bottom, top] {
        for (x, y) in [(x0, y0), (x1, y0), (x1, y1), (x0, y1)] {
            mesh.vertices.push(Point3::new(x, y, z));
        }
    }
    // bottom 0..4, top 4..8 (counter-clockwise seen from +Z)
    let quads = [
        [0, 3, 2, 1], // bottom, facing -Z
        [4, 5, 6, 7], // top, facing +Z
        [0, 1, 5, 4], // front (-Y)
        [1, 2, 6, 5], // right (+X)
        [2, 3, 7, 6], // back (+Y)
        [3, 0, 4, 7], // left (-X)
    ];
    for [a, b, c, d] in quads {
        mesh.triangles.push([o + a, o + b, o + c]);
        mesh.triangles.push([o + a, o + c, o + d]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A "foot": a closed box 250 long (lab Y), 90 wide (lab X), 80 tall, on the floor.
    fn boxy_foot() -> Mesh {
        let (w, l, h) = (90.0, 250.0, 80.0);
        let mut m = Mesh::default();
        add_block(&mut m, [0.0, 0.0, w, l], h, 0.0);
        m
    }

    #[test]
    fn trims_flips_and_places_the_foot_on_its_base() {
        let p = DesignParams::default();
        let d = foot_positive(&boxy_foot(), &p).unwrap();
        let (lo, hi) = d.mesh.bounds().unwrap();
        // length along machine X: 250 + 2 * 5 base margin + 2 * 12 side margin
        assert!(
            (d.blank[0] - (250.0 + 10.0 + 24.0)).abs() < 1e-9,
            "{:?}",
            d.blank
        );
        assert!((d.blank[1] - (90.0 + 10.0 + 24.0)).abs() < 1e-9);
        // top of design 1 mm under the blank top, base 30 mm under the design top
        assert!((d.top_z - -1.0).abs() < 1e-9 && (hi.z - -1.0).abs() < 1e-9);
        assert!((d.base_z - -31.0).abs() < 1e-9);
        assert!((d.bottom_z - -(1.0 + 30.0 + 8.0)).abs() < 1e-9);
        assert!((lo.z - d.bottom_z).abs() < 1e-9);
        assert!(lo.x >= 0.0 && lo.y >= 0.0 && hi.x <= d.blank[0] && hi.y <= d.blank[1]);
        // the foot's sole (lab z = 0) is the design's top; the clipped walls end at the base
        let sole = d.to_machine * Point3::new(45.0, 100.0, 0.0);
        assert!((sole.z - d.top_z).abs() < 1e-9);
        assert!((sole.x - (12.0 + 5.0 + 100.0)).abs() < 1e-9, "{sole}");
        // the heel (lab y = 0) is at machine -X side
        let heel = d.to_machine * Point3::new(45.0, 0.0, 0.0);
        let toe = d.to_machine * Point3::new(45.0, 250.0, 0.0);
        assert!(heel.x < toe.x);
        assert!(
            d.mesh
                .vertices
                .iter()
                .all(|v| v.z <= d.top_z + 1e-9 && v.z >= d.bottom_z - 1e-9)
        );
    }

    #[test]
    fn machine_frame_is_a_rotation_not_a_mirror() {
        let r = lab_to_machine_rotation();
        let m = r.to_rotation_matrix();
        assert!((m.matrix().determinant() - 1.0).abs() < 1e-12);
        let v = r * Vector3::new(1.0, 2.0, 3.0);
        assert!((v - Vector3::new(2.0, 1.0, -3.0)).norm() < 1e-12, "{v}");
    }

    #[test]
    fn refuses_a_foot_above_the_trim_height() {
        let mut m = boxy_foot();
        for v in &mut m.vertices {
            v.z += 100.0;
        }
        assert_eq!(
            foot_positive(&m, &DesignParams::default()).unwrap_err(),
            DesignError::NothingBelowTrim(30.0)
        );
        let p = DesignParams {
            trim_height: f64::NAN,
            ..Default::default()
        };
        assert!(matches!(
            foot_positive(&boxy_foot(), &p),
            Err(DesignError::Parameter { .. })
        ));
    }

    /// The fixture feet: the positive is the foot's plantar surface, length along X, the
    /// blank just holds it.
    #[test]
    fn fixture_feet_become_positives_in_their_blanks() {
        for (file, left) in [("foot-left-m.stl", true), ("foot-right-m.stl", false)] {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../fixtures/scans")
                .join(file);
            let mesh = crate::load::load_path(&path, crate::Units::Auto)
                .unwrap()
                .mesh;
            let frame = crate::orient::foot(&mesh).unwrap();
            let lab = frame.apply(&mesh);
            let (llo, lhi) = lab.bounds().unwrap();
            let d = foot_positive(&lab, &DesignParams::default()).unwrap();
            let p = d.params;
            // the foot's length (lab Y) runs along machine X, plus margins
            let length = lhi.y - llo.y;
            assert!((200.0..320.0).contains(&length), "{file}: length {length}");
            let along = d.base[2] - d.base[0] - 2.0 * p.base_margin;
            assert!((along - length).abs() < 1.0, "{file}: {along} vs {length}");
            assert!((d.blank[0] - (along + 2.0 * (p.base_margin + p.side_margin))).abs() < 1e-9);
            // design top 1 mm under the blank top, the trim plane 30 mm under the sole
            assert!((d.top_z + p.top_margin).abs() < 1e-9);
            assert!((d.top_z - d.base_z - (p.trim_height - llo.z)).abs() < 1e-6);
            assert_eq!(frame.side == crate::orient::FootSide::Left, left);
            // the base follows the foot: a convex, counter-clockwise outline, every foot point
            // at least the margin inside it, and nowhere much more than that
            let o = &d.outline;
            let n = o.len();
            assert!(n > 20, "{file}: {n} outline points");
            let edge = |i: usize, q: [f64; 2]| {
                let (a, b) = (o[i], o[(i + 1) % n]);
                let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
                // distance inside the edge's line (positive inside)
                (dx * (q[1] - a[1]) - dy * (q[0] - a[0])) / dx.hypot(dy)
            };
            for i in 0..n {
                let c = o[(i + 2) % n];
                assert!(edge(i, c) >= -1e-9, "{file}: outline not convex at {i}");
            }
            let foot_xy: Vec<[f64; 2]> = d
                .mesh
                .vertices
                .iter()
                .filter(|v| v.z > d.base_z + 1e-6)
                .map(|v| [v.x, v.y])
                .collect();
            let inset = |q: [f64; 2]| (0..n).map(|i| edge(i, q)).fold(f64::INFINITY, f64::min);
            let tightest = foot_xy
                .iter()
                .map(|&q| inset(q))
                .fold(f64::INFINITY, f64::min);
            assert!(
                (tightest - p.base_margin).abs() < 0.05,
                "{file}: the foot comes {tightest} mm from the base's edge"
            );
            // far smaller than the rectangle around it: the corners are cut away
            let rect = (d.base[2] - d.base[0]) * (d.base[3] - d.base[1]);
            let area: f64 = (0..n)
                .map(|i| o[i][0] * o[(i + 1) % n][1] - o[(i + 1) % n][0] * o[i][1])
                .sum::<f64>()
                / 2.0;
            assert!(area > 0.0 && area < 0.9 * rect, "{file}: {area} of {rect}");
            let (blo, bhi) = (d.base, d.base);
            assert!(o.iter().all(|q| q[0] >= blo[0] - 1e-9
                && q[0] <= bhi[2] + 1e-9
                && q[1] >= blo[1] - 1e-9
                && q[1] <= bhi[3] + 1e-9));
            // every design vertex lies in the blank
            for v in &d.mesh.vertices {
                assert!(v.x >= 0.0 && v.x <= d.blank[0] && v.y >= 0.0 && v.y <= d.blank[1]);
                assert!(v.z <= d.top_z + 1e-9 && v.z >= -d.blank[2] - 1e-9);
            }
        }
    }
}
