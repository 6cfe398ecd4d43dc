//! Orienting a foot scan into the lab frame: heel at the origin, toes along +Y, plantar surface
//! facing -Z, floor at Z = 0, X to the subject's right (so a left foot's medial side is +X).
//!
//! How:
//! 1. **Floor.** Among directions roughly across the foot's long axis (area-weighted PCA), the
//!    floor is the support plane whose contact band (triangles within a few mm of it, facing
//!    it) has the largest area times length along the foot: the sole touches a plane over heel
//!    and forefoot; a flat cut at the top of the ankle touches it only over the cut.
//!    A finer search around the best direction then maximises the contact area.
//! 2. **Heel to toe.** 2D principal axis of the low part of the foot (below 40 % of its height)
//!    seen from above. The heel end is the one under the leg (the tall part of the scan); if the
//!    scan has no leg, the narrower end.
//! 3. **Left or right.** Under the midfoot (30-60 % of length) the medial side is raised (the
//!    arch) while the lateral column rests on the floor; and at the front the longest toe is
//!    medial. The arch decides; the toes confirm or break a tie.

use nalgebra::{Isometry3, Point3, Rotation3, Translation3, UnitQuaternion, Vector3};

use crate::mesh::Mesh;
use crate::principal;

/// Which foot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FootSide {
    Left,
    Right,
}

impl FootSide {
    /// The other foot.
    pub fn other(self) -> Self {
        match self {
            FootSide::Left => FootSide::Right,
            FootSide::Right => FootSide::Left,
        }
    }

    /// +1 when the medial side is +X in the lab frame (left foot), -1 otherwise.
    pub fn medial_sign(self) -> f64 {
        match self {
            FootSide::Left => 1.0,
            FootSide::Right => -1.0,
        }
    }
}

impl std::fmt::Display for FootSide {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FootSide::Left => "left",
            FootSide::Right => "right",
        })
    }
}

/// Where a foot scan sits: the rigid motion from scan to lab frame, and which foot it is.
#[derive(Clone, Debug)]
pub struct FootFrame {
    /// Scan (mm) -> lab frame (heel at origin, toes +Y, plantar -Z, floor Z = 0).
    pub to_lab: Isometry3<f64>,
    pub side: FootSide,
    /// How each decision was made, one line each (floor, heel, side).
    pub evidence: Vec<String>,
}

impl FootFrame {
    /// The mesh moved into the lab frame (a rigid motion: winding and outward normals keep).
    pub fn apply(&self, mesh: &Mesh) -> Mesh {
        Mesh::new(
            mesh.vertices.iter().map(|p| self.to_lab * p).collect(),
            mesh.triangles.clone(),
        )
    }
}

/// Why a mesh could not be oriented as a foot.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OrientError {
    #[error("too few triangles ({0}) to orient")]
    TooSmall(usize),
    #[error("does not look like a foot: {0}")]
    NotAFoot(String),
}

/// Band (mm) above the support plane counted as contact in the coarse floor search.
const CONTACT_BAND_MM: f64 = 4.0;

/// Orients a foot scan (mm). Works on closed and open scans, whatever their pose.
pub fn foot(mesh: &Mesh) -> Result<FootFrame, OrientError> {
    if mesh.triangles.len() < 100 {
        return Err(OrientError::TooSmall(mesh.triangles.len()));
    }
    let mut evidence = Vec::new();
    // a coarse sample ranks the directions, a finer one refines the best
    let coarse = Sample::new(mesh, 4_000);
    let tris = Sample::new(mesh, 20_000);
    let pca = principal::of_surface(mesh);
    let long = pca.axes[0];

    // 1. Floor: coarse search over a sphere of directions across the long axis.
    let mut best = (f64::MIN, Vector3::z());
    for d in fibonacci_sphere(1200) {
        if d.dot(&long).abs() > 0.6 {
            continue;
        }
        let s = coarse.contact_score(&d, CONTACT_BAND_MM, &long, true);
        if s > best.0 {
            best = (s, d);
        }
    }
    if best.0 <= 0.0 {
        return Err(OrientError::NotAFoot(
            "no side of it rests on a plane".into(),
        ));
    }
    // Fine search: maximise the contact area within 1.5 mm, over +-6 degrees.
    let mut down = best.1;
    for step_deg in [2.0f64, 0.5, 0.125] {
        let (u, v) = perpendiculars(&down);
        let mut fine = (tris.contact_score(&down, 1.5, &long, false), down);
        for i in -3..=3 {
            for j in -3..=3 {
                let a = (i as f64 * step_deg).to_radians();
                let b = (j as f64 * step_deg).to_radians();
                let d = (down + a.tan() * u + b.tan() * v).normalize();
                let s = tris.contact_score(&d, 1.5, &long, false);
                if s > fine.0 + 1e-9 {
                    fine = (s, d);
                }
            }
        }
        down = fine.1;
    }
    let up = -down;
    let floor_level = mesh
        .vertices
        .iter()
        .map(|p| p.coords.dot(&down))
        .fold(f64::MIN, f64::max);
    let height_of = |p: &Point3<f64>| floor_level - p.coords.dot(&down);
    let max_height = mesh.vertices.iter().map(height_of).fold(0.0, f64::max);
    evidence.push(format!(
        "floor: support plane with the largest sole contact; scan up = ({:.3}, {:.3}, {:.3}), {:.0} mm tall",
        up.x, up.y, up.z, max_height
    ));

    // 2. Heel-to-toe axis in the floor plane, from the low part of the foot.
    let (u, v) = perpendiculars(&up);
    let low_cut = (0.4 * max_height).min(40.0);
    let low: Vec<[f64; 2]> = mesh
        .vertices
        .iter()
        .filter(|p| height_of(p) <= low_cut)
        .map(|p| [p.coords.dot(&u), p.coords.dot(&v)])
        .collect();
    if low.len() < 20 {
        return Err(OrientError::NotAFoot(
            "too little of it near the floor".into(),
        ));
    }
    let (c2, axis2, var2) = principal::of_points_2d(&low);
    if var2[0] < 1.5 * var2[1] {
        return Err(OrientError::NotAFoot(format!(
            "its footprint is not elongated (spreads {:.0} and {:.0} mm)",
            var2[0].sqrt(),
            var2[1].sqrt()
        )));
    }
    let mut fwd = axis2[0] * u + axis2[1] * v; // unit, in the floor plane
    let along = |p: &Point3<f64>| p.coords.dot(&fwd);
    let (lo, hi) = low
        .iter()
        .map(|q| (q[0] - c2[0]) * axis2[0] + (q[1] - c2[1]) * axis2[1])
        .fold((f64::MAX, f64::MIN), |(a, b), x| (a.min(x), b.max(x)));
    let length = hi - lo;
    let mid = c2[0] * axis2[0] + c2[1] * axis2[1] + (lo + hi) / 2.0;
    // The tall part (the leg) is over the heel.
    let tall: Vec<f64> = mesh
        .vertices
        .iter()
        .filter(|p| height_of(p) >= 0.6 * max_height && max_height > 50.0)
        .map(along)
        .collect();
    let tall_offset = if tall.is_empty() {
        0.0
    } else {
        tall.iter().sum::<f64>() / tall.len() as f64 - mid
    };
    if tall_offset.abs() > 0.1 * length {
        if tall_offset > 0.0 {
            fwd = -fwd;
        }
        evidence.push(format!(
            "heel: under the leg, the tall part of the scan ({:.0} mm from mid-foot)",
            tall_offset.abs()
        ));
    } else {
        // No leg: the forefoot is the wider end.
        let w = |from: f64, to: f64| {
            let xs: Vec<f64> = mesh
                .vertices
                .iter()
                .filter(|p| height_of(p) <= low_cut)
                .filter(|p| {
                    let t = (along(p) - mid) / length + 0.5;
                    (from..to).contains(&t)
                })
                .map(|p| p.coords.dot(&fwd.cross(&up)))
                .collect();
            xs.iter().cloned().fold(f64::MIN, f64::max)
                - xs.iter().cloned().fold(f64::MAX, f64::min)
        };
        let (first, last) = (w(0.0, 0.3), w(0.7, 1.0));
        if first > last {
            fwd = -fwd;
        }
        evidence.push(format!(
            "heel: no leg in the scan; the narrower end ({:.0} mm vs {:.0} mm wide)",
            first.min(last),
            first.max(last)
        ));
    }

    // Rotation: rows are the lab axes expressed in scan coordinates.
    let y = fwd;
    let z = up;
    let x = y.cross(&z);
    let rot = Rotation3::from_matrix_unchecked(nalgebra::Matrix3::from_rows(&[
        x.transpose(),
        y.transpose(),
        z.transpose(),
    ]));
    let rotated: Vec<Point3<f64>> = mesh.vertices.iter().map(|p| rot * p).collect();
    let min_y = rotated.iter().map(|p| p.y).fold(f64::MAX, f64::min);
    let min_z = rotated.iter().map(|p| p.z).fold(f64::MAX, f64::min);
    // Heel centre: middle of the footprint across the rear fifth.
    let (hx0, hx1) = rotated
        .iter()
        .filter(|p| p.y - min_y < 0.2 * length && p.z - min_z <= low_cut)
        .fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.x), b.max(p.x)));
    let heel_x = if hx0 <= hx1 { (hx0 + hx1) / 2.0 } else { 0.0 };
    let to_lab = Isometry3::from_parts(
        Translation3::new(-heel_x, -min_y, -min_z),
        UnitQuaternion::from_rotation_matrix(&rot),
    );

    // 3. Left or right, in the lab frame.
    let lab = Mesh::new(
        mesh.vertices.iter().map(|p| to_lab * p).collect(),
        mesh.triangles.clone(),
    );
    let (side, why) = side_of(&lab, length)?;
    evidence.push(why);
    Ok(FootFrame {
        to_lab,
        side,
        evidence,
    })
}

/// Left or right of a foot already in the lab frame, with the reason.
fn side_of(lab: &Mesh, length: f64) -> Result<(FootSide, String), OrientError> {
    // Arch: mean height of the downward-facing surface under the midfoot, each side of its
    // centre line. The medial side is higher.
    let mut xs = Vec::new();
    for t in 0..lab.triangles.len() {
        let [a, b, c] = lab.triangle(t);
        let m = (a.coords + b.coords + c.coords) / 3.0;
        if (0.3 * length..0.6 * length).contains(&m.y) && m.z < 40.0 {
            xs.push(m.x);
        }
    }
    if xs.is_empty() {
        return Err(OrientError::NotAFoot("no midfoot found".into()));
    }
    let centre = (xs.iter().cloned().fold(f64::MAX, f64::min)
        + xs.iter().cloned().fold(f64::MIN, f64::max))
        / 2.0;
    let (mut hp, mut ap, mut hm, mut am) = (0.0, 0.0, 0.0, 0.0);
    for t in 0..lab.triangles.len() {
        let [a, b, c] = lab.triangle(t);
        let m = (a.coords + b.coords + c.coords) / 3.0;
        let n = (b - a).cross(&(c - a));
        let area = n.norm() / 2.0;
        if area == 0.0 || !(0.3 * length..0.6 * length).contains(&m.y) || n.z / (2.0 * area) > -0.5
        {
            continue;
        }
        if m.x > centre {
            hp += m.z * area;
            ap += area;
        } else {
            hm += m.z * area;
            am += area;
        }
    }
    let arch = if ap > 0.0 && am > 0.0 {
        hp / ap - hm / am
    } else {
        0.0
    };
    // Toes: the front-most point lies medial of the forefoot's centre.
    let front = lab
        .vertices
        .iter()
        .max_by(|a, b| a.y.total_cmp(&b.y))
        .unwrap();
    let (fx0, fx1) = lab
        .vertices
        .iter()
        .filter(|p| (0.6 * length..0.8 * length).contains(&p.y))
        .fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.x), b.max(p.x)));
    let toe = if fx0 < fx1 {
        (front.x - (fx0 + fx1) / 2.0) / (fx1 - fx0)
    } else {
        0.0
    };
    // +X medial => left. Arch difference in mm, toe offset as a fraction of ball width.
    let score = arch / 2.0 + toe / 0.1;
    let side = if score > 0.0 {
        FootSide::Left
    } else {
        FootSide::Right
    };
    let medial = if side == FootSide::Left { "+X" } else { "-X" };
    Ok((
        side,
        format!(
            "side: {side} (medial is {medial}): the sole under the midfoot is {:.1} mm higher on +X than -X (arch), the longest toe is {:.0} % of ball width towards {}",
            arch,
            toe.abs() * 100.0,
            if toe > 0.0 { "+X" } else { "-X" }
        ),
    ))
}

/// A subsample of triangles with centroid, unit normal and area, for searches.
struct Sample {
    centroid: Vec<Vector3<f64>>,
    normal: Vec<Vector3<f64>>,
    area: Vec<f64>,
    verts: Vec<Vector3<f64>>,
}

impl Sample {
    fn new(mesh: &Mesh, max: usize) -> Self {
        let stride = mesh.triangles.len().div_ceil(max).max(1);
        let mut s = Sample {
            centroid: Vec::new(),
            normal: Vec::new(),
            area: Vec::new(),
            verts: Vec::new(),
        };
        for t in (0..mesh.triangles.len()).step_by(stride) {
            let [a, b, c] = mesh.triangle(t);
            let n = (b - a).cross(&(c - a));
            let area = n.norm() / 2.0;
            if area == 0.0 {
                continue;
            }
            s.centroid.push((a.coords + b.coords + c.coords) / 3.0);
            s.normal.push(n / (2.0 * area));
            s.area.push(area * stride as f64);
        }
        let vstride = mesh.vertices.len().div_ceil(max).max(1);
        s.verts = mesh
            .vertices
            .iter()
            .step_by(vstride)
            .map(|p| p.coords)
            .collect();
        s
    }

    /// Area of triangles within `band` of the support plane in direction `d` (outward, "down")
    /// and facing it; times their extent along `long` when `spread` is set.
    fn contact_score(&self, d: &Vector3<f64>, band: f64, long: &Vector3<f64>, spread: bool) -> f64 {
        let support = self.verts.iter().map(|p| p.dot(d)).fold(f64::MIN, f64::max);
        let mut area = 0.0;
        let (mut lo, mut hi) = (f64::MAX, f64::MIN);
        for i in 0..self.centroid.len() {
            if self.normal[i].dot(d) < 0.8 || self.centroid[i].dot(d) < support - band {
                continue;
            }
            area += self.area[i];
            let x = self.centroid[i].dot(long);
            lo = lo.min(x);
            hi = hi.max(x);
        }
        if spread && area > 0.0 {
            area * (hi - lo).max(1.0)
        } else {
            area
        }
    }
}

/// `n` roughly even unit directions over the sphere.
fn fibonacci_sphere(n: usize) -> impl Iterator<Item = Vector3<f64>> {
    let golden = std::f64::consts::PI * (3.0 - 5.0f64.sqrt());
    (0..n).map(move |i| {
        let z = 1.0 - 2.0 * (i as f64 + 0.5) / n as f64;
        let r = (1.0 - z * z).sqrt();
        let th = golden * i as f64;
        Vector3::new(r * th.cos(), r * th.sin(), z)
    })
}

/// Two unit vectors completing `n` (unit) to a right-handed frame (u, v, n).
pub fn perpendiculars(n: &Vector3<f64>) -> (Vector3<f64>, Vector3<f64>) {
    let helper = if n.x.abs() < 0.9 {
        Vector3::x()
    } else {
        Vector3::y()
    };
    let u = helper.cross(n).normalize();
    let v = n.cross(&u);
    (u, v)
}
