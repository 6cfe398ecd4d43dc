//! Rectification: shape modifications as plain data ([`Op`]), applied in order by [`apply`].
//!
//! Each operation is simple enough to reason about and is tested alone:
//! - [`Op::UniformScale`] about a point; [`Op::RadialScale`] about an axis (socket reduction:
//!   every cross-section perpendicular to the axis scales by the factor, so circumferences do);
//! - [`Op::Displace`]: a regional build-up (relief, `depth > 0`, outward) or push (load,
//!   `depth < 0`) along the vertex normals, weighted by the C1 falloff
//!   `f(t) = 1 - 3t² + 2t³` of the distance to a landmark (or a segment, or a named foot
//!   region) over the radius: exactly `depth` at the centre (a vertex is inserted at a landmark
//!   so the surface there moves exactly), zero from the radius on, slope zero at both ends;
//! - foot operations, on a foot in the lab frame (heel at origin, toes +Y, floor Z = 0):
//!   [`Op::ArchFill`], [`Op::MetPad`] (a smooth dome pushed into the sole behind the metatarsal
//!   heads), [`Op::Post`] (rear- or forefoot rotated about the long axis, varus = medial up,
//!   blended into the midfoot), [`Op::TrimHeight`] (heel cup and flanges: everything above a
//!   height over the sole is cut away, exactly along the trim line);
//! - [`Op::Smooth`] (Taubin λ|μ, keeps volume), [`Op::Mirror`], [`Op::PlaneTrim`].
//!
//! Foot regions are fractions of foot length from the heel (domain.md): heel 0-0.25, arch
//! 0.3-0.6, metatarsal heads 0.65-0.75, toes beyond 0.8.

use nalgebra::{Point3, Vector3};

use crate::fasthash::{self, FastMap};
use crate::mesh::Mesh;
use crate::orient::FootSide;
use crate::{nearest, topology};

/// Where a regional displacement acts.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case", tag = "shape")]
pub enum Region {
    /// Within `radius` of a landmark (projected onto the surface).
    Sphere { centre: [f64; 3], radius: f64 },
    /// Within `radius` of a segment (a ridge such as the tibial crest).
    Capsule {
        from: [f64; 3],
        to: [f64; 3],
        radius: f64,
    },
    /// A named region of the sole of a foot in the lab frame.
    Foot { region: FootRegion, side: FootSide },
}

/// Named regions of the sole.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FootRegion {
    Heel,
    MedialArch,
    LateralMidfoot,
    MetHeads,
    Toes,
}

/// Rear- or forefoot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FootPart {
    Rearfoot,
    Forefoot,
}

/// One shape modification. Lengths in mm, angles in degrees.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case", tag = "op")]
pub enum Op {
    /// Scale by `factor` about `centre`.
    UniformScale { factor: f64, centre: [f64; 3] },
    /// Scale distances from the axis (through `point`, along `direction`) by `factor`;
    /// positions along the axis are kept. A 4 % reduction is `factor: 0.96`.
    RadialScale {
        factor: f64,
        point: [f64; 3],
        direction: [f64; 3],
    },
    /// Move the surface along its normals by `depth` (outward > 0) with a C1 falloff.
    Displace { region: Region, depth: f64 },
    /// Fill `fraction` (0-1) of the height of the medial arch (sole moves down toward Z = 0).
    ArchFill { side: FootSide, fraction: f64 },
    /// A dome `height` high pushed up into the sole just behind the metatarsal heads.
    MetPad { side: FootSide, height: f64 },
    /// Rotate the rear- or forefoot about the long axis by `degrees`; positive = varus
    /// (medial side up), negative = valgus.
    Post {
        part: FootPart,
        side: FootSide,
        degrees: f64,
    },
    /// Cut away everything higher than `heel_cup` over the sole at the heel, `medial` /
    /// `lateral` along the sides (flanges).
    TrimHeight {
        side: FootSide,
        heel_cup: f64,
        medial: f64,
        lateral: f64,
    },
    /// Taubin smoothing: `iterations` of a λ step then a μ step (μ < -λ < 0). Boundary
    /// vertices stay put.
    Smooth {
        iterations: usize,
        lambda: f64,
        mu: f64,
    },
    /// Mirror in the plane through `point` with normal `normal` (left <-> right with the lab
    /// plane X = 0).
    Mirror { point: [f64; 3], normal: [f64; 3] },
    /// Remove everything on the side of the plane that `normal` points to.
    PlaneTrim { point: [f64; 3], normal: [f64; 3] },
}

impl Op {
    /// Taubin smoothing with the usual λ = 0.5, μ = -0.53.
    pub fn smooth(iterations: usize) -> Op {
        Op::Smooth {
            iterations,
            lambda: 0.5,
            mu: -0.53,
        }
    }

    /// One line saying what the op does.
    pub fn describe(&self) -> String {
        match self {
            Op::UniformScale { factor, .. } => format!("uniform scale x{factor}"),
            Op::RadialScale { factor, .. } => {
                format!(
                    "radial scale x{factor} about the axis ({:+.2} %)",
                    (factor - 1.0) * 100.0
                )
            }
            Op::Displace { region, depth } => {
                let what = if *depth >= 0.0 {
                    "build-up (relief)"
                } else {
                    "push (load)"
                };
                let r = match region {
                    Region::Sphere { centre, radius } => format!(
                        "within {radius} mm of ({:.1}, {:.1}, {:.1})",
                        centre[0], centre[1], centre[2]
                    ),
                    Region::Capsule { radius, .. } => format!("within {radius} mm of a ridge"),
                    Region::Foot { region, .. } => format!("under the {region:?}"),
                };
                format!("{what} {:.2} mm {r}", depth.abs())
            }
            Op::ArchFill { fraction, .. } => format!("arch fill {:.0} %", fraction * 100.0),
            Op::MetPad { height, .. } => format!("met pad {height} mm"),
            Op::Post { part, degrees, .. } => format!(
                "{} post {:.1} deg {}",
                match part {
                    FootPart::Rearfoot => "rearfoot",
                    FootPart::Forefoot => "forefoot",
                },
                degrees.abs(),
                if *degrees >= 0.0 { "varus" } else { "valgus" }
            ),
            Op::TrimHeight {
                heel_cup,
                medial,
                lateral,
                ..
            } => format!(
                "trim: heel cup {heel_cup} mm, medial flange {medial} mm, lateral {lateral} mm"
            ),
            Op::Smooth { iterations, .. } => format!("Taubin smoothing, {iterations} iterations"),
            Op::Mirror { .. } => "mirror".into(),
            Op::PlaneTrim { .. } => "plane trim".into(),
        }
    }
}

/// Why an operation could not be applied.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModifyError {
    #[error("operation {index} ({what}): {why}")]
    Invalid {
        index: usize,
        what: String,
        why: String,
    },
}

/// What [`apply`] did, one line per op.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Applied {
    pub lines: Vec<String>,
}

/// The C1 falloff: 1 at t = 0, 0 for t >= 1, zero slope at both ends.
#[inline]
pub fn falloff(t: f64) -> f64 {
    if t <= 0.0 {
        1.0
    } else if t >= 1.0 {
        0.0
    } else {
        1.0 - t * t * (3.0 - 2.0 * t)
    }
}

/// Applies `ops` in order.
pub fn apply(mesh: &mut Mesh, ops: &[Op]) -> Result<Applied, ModifyError> {
    let mut applied = Applied::default();
    for (index, op) in ops.iter().enumerate() {
        let bad = |why: String| ModifyError::Invalid {
            index,
            what: op.describe(),
            why,
        };
        let line = apply_one(mesh, op).map_err(bad)?;
        applied.lines.push(line);
    }
    Ok(applied)
}

fn finite(xs: &[f64]) -> bool {
    xs.iter().all(|x| x.is_finite())
}

fn unit(v: [f64; 3], what: &str) -> Result<Vector3<f64>, String> {
    let v = Vector3::from(v);
    if !finite(v.as_slice()) || v.norm() < 1e-12 {
        return Err(format!("{what} must be a non-zero finite vector"));
    }
    Ok(v.normalize())
}

fn apply_one(mesh: &mut Mesh, op: &Op) -> Result<String, String> {
    if mesh.triangles.is_empty() {
        return Err("the mesh is empty".into());
    }
    match op {
        Op::UniformScale { factor, centre } => {
            if !(factor.is_finite() && *factor > 0.0 && finite(centre)) {
                return Err("factor must be positive and finite".into());
            }
            let c = Point3::from(*centre);
            for p in mesh.vertices.iter_mut() {
                *p = c + (*p - c) * *factor;
            }
        }
        Op::RadialScale {
            factor,
            point,
            direction,
        } => {
            if !(factor.is_finite() && *factor > 0.0 && finite(point)) {
                return Err("factor must be positive and finite".into());
            }
            let a = unit(*direction, "direction")?;
            let o = Point3::from(*point);
            for p in mesh.vertices.iter_mut() {
                let r = *p - o;
                let along = a * r.dot(&a);
                *p = o + along + (r - along) * *factor;
            }
        }
        Op::Displace { region, depth } => {
            if !depth.is_finite() {
                return Err("depth must be finite".into());
            }
            displace(mesh, region, *depth)?;
        }
        Op::ArchFill { side, fraction } => {
            if !(0.0..=1.0).contains(fraction) {
                return Err(format!("fraction {fraction} is outside 0-1"));
            }
            arch_fill(mesh, *side, *fraction);
        }
        Op::MetPad { side, height } => {
            if !(height.is_finite() && *height >= 0.0) {
                return Err("height must be >= 0".into());
            }
            met_pad(mesh, *side, *height);
        }
        Op::Post {
            part,
            side,
            degrees,
        } => {
            if !(degrees.is_finite() && degrees.abs() <= 30.0) {
                return Err(format!("{degrees} degrees is outside -30..30"));
            }
            post(mesh, *part, *side, *degrees);
        }
        Op::TrimHeight {
            side,
            heel_cup,
            medial,
            lateral,
        } => {
            if ![heel_cup, medial, lateral]
                .iter()
                .all(|h| h.is_finite() && **h >= 0.0)
            {
                return Err("heights must be >= 0".into());
            }
            trim_height(mesh, *side, *heel_cup, *medial, *lateral)?;
        }
        Op::Smooth {
            iterations,
            lambda,
            mu,
        } => {
            if !(*lambda > 0.0 && *mu < -lambda && *iterations <= 1000) {
                return Err(
                    "Taubin smoothing needs 0 < lambda < -mu and at most 1000 iterations".into(),
                );
            }
            taubin(mesh, *iterations, *lambda, *mu);
        }
        Op::Mirror { point, normal } => {
            let n = unit(*normal, "normal")?;
            let o = Point3::from(*point);
            for p in mesh.vertices.iter_mut() {
                *p -= n * (2.0 * (*p - o).dot(&n));
            }
            for t in mesh.triangles.iter_mut() {
                t.swap(1, 2);
            }
        }
        Op::PlaneTrim { point, normal } => {
            let n = unit(*normal, "normal")?;
            let o = Point3::from(*point);
            clip(mesh, |p| (p - o).dot(&n));
            if mesh.triangles.is_empty() {
                return Err("the plane removes the whole mesh".into());
            }
        }
    }
    Ok(op.describe())
}

/// Area-weighted vertex normals (unit; zero for unused vertices).
pub fn vertex_normals(mesh: &Mesh) -> Vec<Vector3<f64>> {
    let mut n = vec![Vector3::zeros(); mesh.vertices.len()];
    for (t, tri) in mesh.triangles.iter().enumerate() {
        let fnorm = mesh.triangle_normal(t);
        for &v in tri {
            n[v as usize] += fnorm;
        }
    }
    for v in n.iter_mut() {
        let l = v.norm();
        if l > 0.0 {
            *v /= l;
        }
    }
    n
}

/// Inserts a vertex at the surface point closest to `p` (splitting the triangle, or the edge
/// it lies on) unless a vertex is already there; returns its index.
pub fn insert_vertex_at(mesh: &mut Mesh, p: &Point3<f64>) -> Option<u32> {
    let (t, q, bary, _) = nearest::on_mesh(mesh, p)?;
    let tri = mesh.triangles[t];
    const EPS: f64 = 1e-9;
    // at a corner already
    if let Some(k) = (0..3).find(|&k| bary[k] > 1.0 - EPS) {
        return Some(tri[k]);
    }
    let new = mesh.vertices.len() as u32;
    mesh.vertices.push(q);
    match (0..3).find(|&k| bary[k] < EPS) {
        None => {
            let [a, b, c] = tri;
            mesh.triangles[t] = [a, b, new];
            mesh.triangles.push([b, c, new]);
            mesh.triangles.push([c, a, new]);
        }
        Some(k) => {
            // on the edge opposite corner k: split both triangles using that edge
            let (ea, eb) = (tri[(k + 1) % 3], tri[(k + 2) % 3]);
            let users: Vec<usize> = mesh
                .triangles
                .iter()
                .enumerate()
                .filter(|(_, tr)| tr.contains(&ea) && tr.contains(&eb))
                .map(|(i, _)| i)
                .collect();
            for u in users {
                let tr = mesh.triangles[u];
                // rotate so that the edge is (tr[1], tr[2]) in the triangle's winding
                let i = (0..3)
                    .find(|&i| tr[i] != ea && tr[i] != eb)
                    .expect("triangle has the edge");
                let (o, x, y) = (tr[i], tr[(i + 1) % 3], tr[(i + 2) % 3]);
                mesh.triangles[u] = [o, x, new];
                mesh.triangles.push([o, new, y]);
            }
        }
    }
    Some(new)
}

/// Distance-based weight of a region at a point (0-1).
fn region_weight(region: &Region, p: &Point3<f64>, foot: Option<&FootGeometry>) -> f64 {
    match region {
        Region::Sphere { centre, radius } => falloff((p - Point3::from(*centre)).norm() / radius),
        Region::Capsule { from, to, radius } => {
            let (a, b) = (Point3::from(*from), Point3::from(*to));
            let ab = b - a;
            let t = ((p - a).dot(&ab) / ab.norm_squared().max(1e-300)).clamp(0.0, 1.0);
            falloff((p - (a + ab * t)).norm() / radius)
        }
        Region::Foot { region, side } => {
            let g = foot.expect("foot geometry computed for foot regions");
            let (cx, cy, rx, ry) = g.region_ellipse(*region, *side);
            let t = (((p.x - cx) / rx).powi(2) + ((p.y - cy) / ry).powi(2)).sqrt();
            falloff(t)
        }
    }
}

fn displace(mesh: &mut Mesh, region: &Region, depth: f64) -> Result<(), String> {
    let foot = match region {
        Region::Sphere { centre, radius } => {
            if !(radius.is_finite() && *radius > 0.0 && finite(centre)) {
                return Err("radius must be positive".into());
            }
            insert_vertex_at(mesh, &Point3::from(*centre));
            None
        }
        Region::Capsule { from, to, radius } => {
            if !(radius.is_finite() && *radius > 0.0 && finite(from) && finite(to)) {
                return Err("radius must be positive".into());
            }
            None
        }
        Region::Foot { .. } => Some(FootGeometry::of(mesh)),
    };
    // Centre of a sphere region: the surface point, so the weight there is exactly 1.
    let region = match region {
        Region::Sphere { centre, radius } => {
            let q = nearest::on_mesh(mesh, &Point3::from(*centre)).unwrap().1;
            Region::Sphere {
                centre: q.coords.into(),
                radius: *radius,
            }
        }
        r => r.clone(),
    };
    let normals = vertex_normals(mesh);
    for (v, p) in mesh.vertices.iter_mut().enumerate() {
        let mut w = region_weight(&region, p, foot.as_ref());
        if foot.is_some() {
            // foot regions act on the sole: fade out as the surface turns from facing down
            w *= falloff(1.0 + normals[v].z / 0.5);
        }
        if w > 0.0 {
            *p += normals[v] * (depth * w);
        }
    }
    Ok(())
}

/// What the foot ops need to know of a foot in the lab frame.
struct FootGeometry {
    length: f64,
    /// Footprint (min x, max x) per 1 % of length.
    rows: Vec<(f64, f64)>,
}

impl FootGeometry {
    fn of(mesh: &Mesh) -> Self {
        let (lo, hi) = mesh
            .bounds()
            .unwrap_or((Point3::origin(), Point3::origin()));
        let length = (hi.y - lo.y).max(1e-9);
        let mut rows = vec![(f64::MAX, f64::MIN); 101];
        for p in &mesh.vertices {
            if p.z > crate::measure::OUTLINE_HEIGHT_MM {
                continue;
            }
            let i = (((p.y - lo.y) / length) * 100.0).round().clamp(0.0, 100.0) as usize;
            rows[i].0 = rows[i].0.min(p.x);
            rows[i].1 = rows[i].1.max(p.x);
        }
        // fill empty rows from neighbours
        for i in 0..rows.len() {
            if rows[i].0 > rows[i].1 {
                let near = (1..101)
                    .flat_map(|d| [i.wrapping_sub(d), i + d])
                    .find(|&j| j < rows.len() && rows[j].0 <= rows[j].1);
                rows[i] = near.map_or((0.0, 0.0), |j| rows[j]);
            }
        }
        FootGeometry { length, rows }
    }

    /// (centre x, width) of the footprint at fraction `f` of the length.
    fn at(&self, f: f64) -> (f64, f64) {
        let (a, b) = self.rows[(f * 100.0).round().clamp(0.0, 100.0) as usize];
        ((a + b) / 2.0, b - a)
    }

    /// Centre and radii (x, y) of a named region's ellipse on the sole.
    fn region_ellipse(&self, r: FootRegion, side: FootSide) -> (f64, f64, f64, f64) {
        let m = side.medial_sign();
        let l = self.length;
        let (f, dx, ry) = match r {
            FootRegion::Heel => (0.13, 0.0, 0.13),
            FootRegion::MedialArch => (0.45, 0.25 * m, 0.15),
            FootRegion::LateralMidfoot => (0.45, -0.25 * m, 0.12),
            FootRegion::MetHeads => (0.7, 0.0, 0.07),
            FootRegion::Toes => (0.9, 0.0, 0.1),
        };
        let (cx, w) = self.at(f);
        let rx = match r {
            FootRegion::MedialArch | FootRegion::LateralMidfoot => 0.3 * w,
            _ => 0.45 * w,
        };
        (cx + dx * w, f * l, rx.max(1.0), (ry * l).max(1.0))
    }
}

/// Fades in over [a, b] (0 before a, 1 after b), C1.
fn ramp(x: f64, a: f64, b: f64) -> f64 {
    1.0 - falloff((x - a) / (b - a))
}

fn arch_fill(mesh: &mut Mesh, side: FootSide, fraction: f64) {
    let g = FootGeometry::of(mesh);
    let normals = vertex_normals(mesh);
    let m = side.medial_sign();
    for (v, p) in mesh.vertices.iter_mut().enumerate() {
        let f = p.y / g.length;
        let wy = ramp(f, 0.25, 0.32) * (1.0 - ramp(f, 0.58, 0.65));
        if wy == 0.0 {
            continue;
        }
        let (cx, w) = g.at(f.clamp(0.0, 1.0));
        // medial half, full from a tenth of the width medial of the centre line
        let wx = ramp((p.x - cx) * m / w.max(1.0), 0.0, 0.1);
        let wn = falloff(1.0 + normals[v].z / 0.5);
        let k = fraction * wy * wx * wn;
        if k > 0.0 && p.z > 0.0 {
            p.z -= k * p.z;
        }
    }
}

fn met_pad(mesh: &mut Mesh, side: FootSide, height: f64) {
    let g = FootGeometry::of(mesh);
    let normals = vertex_normals(mesh);
    let (cx, w) = g.at(0.62);
    // 2nd-4th metatarsal heads are a little medial of the footprint's centre line
    let cx = cx + 0.05 * w * side.medial_sign();
    let (cy, rx, ry) = (0.62 * g.length, 0.22 * w, 0.08 * g.length);
    for (v, p) in mesh.vertices.iter_mut().enumerate() {
        let t = (((p.x - cx) / rx).powi(2) + ((p.y - cy) / ry).powi(2)).sqrt();
        let k = falloff(t) * falloff(1.0 + normals[v].z / 0.5);
        if k > 0.0 {
            p.z += height * k;
        }
    }
}

/// The met pad's centre in the lab frame (x, y), for tests and reports.
pub fn met_pad_centre(mesh: &Mesh, side: FootSide) -> [f64; 2] {
    let g = FootGeometry::of(mesh);
    let (cx, w) = g.at(0.62);
    [cx + 0.05 * w * side.medial_sign(), 0.62 * g.length]
}

fn post(mesh: &mut Mesh, part: FootPart, side: FootSide, degrees: f64) {
    let g = FootGeometry::of(mesh);
    // varus: medial up. Rotation about +Y by phi: z' = -x sin(phi) + z cos(phi); medial up
    // means z grows on the medial side (x * medial_sign > 0), so phi = -medial_sign * degrees.
    let phi = -side.medial_sign() * degrees.to_radians();
    for p in mesh.vertices.iter_mut() {
        let f = p.y / g.length;
        let w = match part {
            FootPart::Rearfoot => 1.0 - ramp(f, 0.3, 0.45),
            FootPart::Forefoot => ramp(f, 0.5, 0.65),
        };
        if w == 0.0 {
            continue;
        }
        let axis_f = match part {
            FootPart::Rearfoot => 0.13,
            FootPart::Forefoot => 0.7,
        };
        let (cx, _) = g.at(axis_f);
        let a = phi * w;
        let (s, c) = a.sin_cos();
        let (x, z) = (p.x - cx, p.z);
        p.x = cx + x * c + z * s;
        p.z = -x * s + z * c;
    }
}

fn trim_height(
    mesh: &mut Mesh,
    side: FootSide,
    heel_cup: f64,
    medial: f64,
    lateral: f64,
) -> Result<(), String> {
    let g = FootGeometry::of(mesh);
    let m = side.medial_sign();
    // Sole height at a fifth of the width in from each edge, per 1 % of length: the trim is
    // measured from there (so a flange is its height above the sole beside it).
    let slicer = crate::section::Slicer::new(mesh, Vector3::y());
    let sole: Vec<(f64, f64)> = (0..=100)
        .map(|i| {
            let f = i as f64 / 100.0;
            let (cx, w) = g.at(f);
            let y = f * g.length;
            let segs = slicer.cut(y);
            let at = |x: f64| {
                segs.iter()
                    .filter_map(|[a, b]| {
                        let (lo, hi) = if a.x <= b.x { (a, b) } else { (b, a) };
                        (x >= lo.x && x <= hi.x && hi.x > lo.x)
                            .then(|| lo.z + (hi.z - lo.z) * (x - lo.x) / (hi.x - lo.x))
                    })
                    .fold(f64::MAX, f64::min)
            };
            let med = at(cx + 0.3 * w * m);
            let lat = at(cx - 0.3 * w * m);
            (
                if med < f64::MAX { med } else { 0.0 },
                if lat < f64::MAX { lat } else { 0.0 },
            )
        })
        .collect();
    // The heel cup is measured from the lowest point under the heel.
    let heel_base = mesh
        .vertices
        .iter()
        .filter(|p| p.y < 0.25 * g.length)
        .map(|p| p.z)
        .fold(f64::MAX, f64::min);
    let height = |p: &Point3<f64>| {
        let f = (p.y / g.length).clamp(0.0, 1.0);
        let i = (f * 100.0).round() as usize;
        let (cx, w) = g.at(f);
        let wm = ramp((p.x - cx) * m / w.max(1.0), -0.15, 0.15); // 1 on the medial side
        let side_base = wm * sole[i].0 + (1.0 - wm) * sole[i].1;
        let flange = wm * medial + (1.0 - wm) * lateral;
        let wh = 1.0 - ramp(f, 0.2, 0.35); // heel cup over the rear of the foot
        wh * (heel_base + heel_cup) + (1.0 - wh) * (side_base + flange)
    };
    clip(mesh, |p| p.z - height(p));
    if mesh.triangles.is_empty() {
        return Err("the trim removes the whole mesh".into());
    }
    Ok(())
}

/// Keeps the part of the mesh where `g <= 0`, cutting triangles exactly along `g = 0`
/// (linear interpolation on edges; the new vertices are shared between neighbours).
pub fn clip(mesh: &mut Mesh, g: impl Fn(&Point3<f64>) -> f64) {
    let val: Vec<f64> = mesh.vertices.iter().map(&g).collect();
    let mut cuts: FastMap<(u32, u32), u32> = fasthash::map_with_capacity(64);
    let mut out = Vec::with_capacity(mesh.triangles.len());
    let vertices = &mut mesh.vertices;
    let mut cut = |a: u32, b: u32, vertices: &mut Vec<Point3<f64>>| -> u32 {
        let key = (a.min(b), a.max(b));
        *cuts.entry(key).or_insert_with(|| {
            let (pa, pb) = (vertices[key.0 as usize], vertices[key.1 as usize]);
            let (ga, gb) = (val[key.0 as usize], val[key.1 as usize]);
            let t = ga / (ga - gb);
            vertices.push(pa + (pb - pa) * t);
            (vertices.len() - 1) as u32
        })
    };
    for &tri in &mesh.triangles {
        let inside = tri.map(|v| val[v as usize] <= 0.0);
        match inside.iter().filter(|&&x| x).count() {
            3 => out.push(tri),
            0 => {}
            n => {
                // rotate so the odd one out is first
                let odd = (0..3).find(|&k| (inside[k]) == (n == 1)).unwrap();
                let (a, b, c) = (tri[odd], tri[(odd + 1) % 3], tri[(odd + 2) % 3]);
                let ab = cut(a, b, vertices);
                let ac = cut(a, c, vertices);
                if n == 1 {
                    out.push([a, ab, ac]);
                } else {
                    out.push([ab, b, c]);
                    out.push([ab, c, ac]);
                }
            }
        }
    }
    mesh.triangles = out;
    // unused vertices go; slivers where the cut passes near a vertex stay (they keep the
    // surface closed along the cut)
    topology::compact_vertices(mesh);
}

fn taubin(mesh: &mut Mesh, iterations: usize, lambda: f64, mu: f64) {
    let n = mesh.vertices.len();
    // vertex adjacency from edges, in flat arrays
    let es = topology::edges(mesh);
    let mut boundary = vec![false; n];
    let mut deg = vec![0u32; n + 1];
    for e in &es {
        deg[e.key.0 as usize] += 1;
        deg[e.key.1 as usize] += 1;
        if e.count == 1 {
            boundary[e.key.0 as usize] = true;
            boundary[e.key.1 as usize] = true;
        }
    }
    let mut start = vec![0usize; n + 1];
    for v in 0..n {
        start[v + 1] = start[v] + deg[v] as usize;
    }
    let mut fill = start.clone();
    let mut nb = vec![0u32; start[n]];
    for e in &es {
        let (a, b) = (e.key.0 as usize, e.key.1 as usize);
        nb[fill[a]] = b as u32;
        fill[a] += 1;
        nb[fill[b]] = a as u32;
        fill[b] += 1;
    }
    let mut next = mesh.vertices.clone();
    for _ in 0..iterations {
        for factor in [lambda, mu] {
            for v in 0..n {
                if boundary[v] || start[v] == start[v + 1] {
                    next[v] = mesh.vertices[v];
                    continue;
                }
                let mut s = Vector3::zeros();
                for &u in &nb[start[v]..start[v + 1]] {
                    s += mesh.vertices[u as usize].coords;
                }
                let avg = s / (start[v + 1] - start[v]) as f64;
                let p = mesh.vertices[v];
                next[v] = p + (avg - p.coords) * factor;
            }
            std::mem::swap(&mut mesh.vertices, &mut next);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn falloff_is_c1_and_hits_its_ends() {
        assert_eq!(falloff(0.0), 1.0);
        assert_eq!(falloff(1.0), 0.0);
        let h = 1e-6;
        assert!(((falloff(h) - falloff(0.0)) / h).abs() < 1e-5);
        assert!(((falloff(1.0) - falloff(1.0 - h)) / h).abs() < 1e-5);
        assert!((falloff(0.5) - 0.5).abs() < 1e-12);
    }

    fn square(n: usize, size: f64) -> Mesh {
        let mut v = Vec::new();
        for j in 0..=n {
            for i in 0..=n {
                v.push(Point3::new(
                    i as f64 * size / n as f64,
                    j as f64 * size / n as f64,
                    0.0,
                ));
            }
        }
        let mut t = Vec::new();
        let w = (n + 1) as u32;
        for j in 0..n as u32 {
            for i in 0..n as u32 {
                let a = j * w + i;
                t.push([a, a + 1, a + w + 1]);
                t.push([a, a + w + 1, a + w]);
            }
        }
        Mesh::new(v, t)
    }

    #[test]
    fn insert_vertex_inside_and_on_edge_keeps_area() {
        let mut m = square(4, 40.0);
        let area = |m: &Mesh| {
            (0..m.triangles.len())
                .map(|t| m.triangle_normal(t).norm() / 2.0)
                .sum::<f64>()
        };
        let a0 = area(&m);
        let v = insert_vertex_at(&mut m, &Point3::new(13.0, 4.0, 2.0)).unwrap();
        assert_eq!(m.vertices[v as usize], Point3::new(13.0, 4.0, 0.0));
        assert!((area(&m) - a0).abs() < 1e-9);
        // on the diagonal edge of a cell
        let v = insert_vertex_at(&mut m, &Point3::new(25.0, 25.0, 0.0)).unwrap();
        assert_eq!(m.vertices[v as usize], Point3::new(25.0, 25.0, 0.0));
        assert!((area(&m) - a0).abs() < 1e-9);
        assert_eq!(topology::report(&m).boundary_loops.len(), 1);
        assert_eq!(topology::report(&m).inconsistent_edges, 0);
        // at an existing corner: nothing new
        let before = m.vertices.len();
        insert_vertex_at(&mut m, &Point3::new(10.0, 10.0, 0.0));
        assert_eq!(m.vertices.len(), before);
    }

    #[test]
    fn plane_trim_cuts_exactly_on_the_plane() {
        let mut m = square(10, 100.0);
        apply(
            &mut m,
            &[Op::PlaneTrim {
                point: [0.0, 33.3, 0.0],
                normal: [0.0, 1.0, 0.0],
            }],
        )
        .unwrap();
        let (_, hi) = m.bounds().unwrap();
        assert!((hi.y - 33.3).abs() < 1e-12);
        let area: f64 = (0..m.triangles.len())
            .map(|t| m.triangle_normal(t).norm() / 2.0)
            .sum();
        assert!((area - 3330.0).abs() < 1e-9, "{area}");
    }

    #[test]
    fn bad_parameters_are_refused_with_the_op_named() {
        let mut m = square(2, 10.0);
        let e = apply(
            &mut m,
            &[
                Op::UniformScale {
                    factor: 2.0,
                    centre: [0.0; 3],
                },
                Op::UniformScale {
                    factor: -1.0,
                    centre: [0.0; 3],
                },
            ],
        )
        .unwrap_err();
        assert!(
            e.to_string().starts_with("operation 1 (uniform scale x-1)"),
            "{e}"
        );
    }
}
