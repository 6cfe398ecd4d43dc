//! Measurements of a foot (in the lab frame) and of a residual limb (any pose).
//!
//! Foot, with regions as fractions of foot length from the heel (see domain.md): length, ball
//! width (widest footprint across 0.6-0.8), heel width (widest footprint across 0.05-0.2, below
//! 25 mm so the malleoli do not count), arch height (highest point of the sole under the
//! midfoot, 0.3-0.6, a fifth of the width in from either edge; the medial arch is the higher),
//! and the plantar outline (the footprint below [`OUTLINE_HEIGHT_MM`], CCW seen from above).
//!
//! Residual limb: long axis (principal axis, turned toward the open proximal cut and averaged
//! with the cut's normal), distal end, anterior direction (the tibial crest is the most
//! protruding part of the mid-limb cross-sections, or a landmark), circumferences at distances
//! from the distal end, volume closed off by a flat cap at the cut, surface area.

use nalgebra::{Point3, Vector3};

use crate::mesh::Mesh;
use crate::{principal, section, topology};

/// Height (mm above the floor) below which the foot's outline is taken.
pub const OUTLINE_HEIGHT_MM: f64 = 25.0;

/// Measurements of a foot in the lab frame, mm.
#[derive(Clone, Debug, serde::Serialize)]
pub struct FootMeasurements {
    pub length: f64,
    pub ball_width: f64,
    pub heel_width: f64,
    pub arch_height: f64,
    /// Footprint outline, CCW seen from above, lab X/Y in mm.
    pub outline: Vec<[f64; 2]>,
}

/// Footprint extent (min x, max x) of the slice at `y`, below `z_max`.
fn footprint_at(slicer: &section::Slicer, y: f64, z_max: f64) -> Option<(f64, f64)> {
    let segs = slicer.cut(y);
    let mut ext: Option<(f64, f64)> = None;
    for s in segs.iter().filter_map(|s| section::clip_below(s, z_max)) {
        for p in s {
            ext = Some(match ext {
                None => (p.x, p.x),
                Some((a, b)) => (a.min(p.x), b.max(p.x)),
            });
        }
    }
    ext
}

/// Lowest surface point (z) above (x, y) on the slice at `y`, from its segments.
fn sole_height(segs: &[[Point3<f64>; 2]], x: f64) -> Option<f64> {
    let mut best: Option<f64> = None;
    for [a, b] in segs {
        let (lo, hi) = if a.x <= b.x { (a, b) } else { (b, a) };
        if x < lo.x || x > hi.x {
            continue;
        }
        let z = if hi.x - lo.x < 1e-12 {
            lo.z.min(hi.z)
        } else {
            lo.z + (hi.z - lo.z) * (x - lo.x) / (hi.x - lo.x)
        };
        best = Some(best.map_or(z, |b: f64| b.min(z)));
    }
    best
}

/// Measures a foot already in the lab frame ([`crate::orient::FootFrame::apply`]).
pub fn foot(lab: &Mesh) -> FootMeasurements {
    let Some((lo, hi)) = lab.bounds() else {
        return FootMeasurements {
            length: 0.0,
            ball_width: 0.0,
            heel_width: 0.0,
            arch_height: 0.0,
            outline: Vec::new(),
        };
    };
    let length = hi.y - lo.y;
    let y_at = |f: f64| lo.y + f * length;
    let slicer = section::Slicer::new(lab, Vector3::y());
    let widest = |from: f64, to: f64, z_max: f64| {
        let n = 40;
        (0..=n)
            .filter_map(|i| {
                footprint_at(
                    &slicer,
                    y_at(from + (to - from) * i as f64 / n as f64),
                    z_max,
                )
            })
            .map(|(a, b)| b - a)
            .fold(0.0, f64::max)
    };
    let ball_width = widest(0.6, 0.8, f64::MAX);
    let heel_width = widest(0.05, 0.2, OUTLINE_HEIGHT_MM);
    let mut arch_height: f64 = 0.0;
    for i in 0..=30 {
        let y = y_at(0.3 + 0.3 * i as f64 / 30.0);
        let segs = slicer.cut(y);
        let Some((a, b)) = footprint_at(&slicer, y, OUTLINE_HEIGHT_MM) else {
            continue;
        };
        for x in [a + 0.2 * (b - a), b - 0.2 * (b - a)] {
            if let Some(z) = sole_height(&segs, x) {
                arch_height = arch_height.max(z - lo.z);
            }
        }
    }
    // Outline: footprint extents every ~1 % of length, up the +X side then down the -X side.
    let n = 100;
    let rows: Vec<(f64, f64, f64)> = (0..=n)
        .filter_map(|i| {
            let y = y_at((0.002 + 0.996 * i as f64 / n as f64).clamp(0.0, 1.0));
            footprint_at(&slicer, y, OUTLINE_HEIGHT_MM).map(|(a, b)| (y, a, b))
        })
        .collect();
    let mut outline: Vec<[f64; 2]> = rows.iter().map(|&(y, _, b)| [b, y]).collect();
    outline.extend(rows.iter().rev().map(|&(y, a, _)| [a, y]));
    FootMeasurements {
        length,
        ball_width,
        heel_width,
        arch_height,
        outline,
    }
}

/// Measurements of a residual limb, mm (volume mm³, area mm²).
#[derive(Clone, Debug, serde::Serialize)]
pub struct LimbMeasurements {
    /// Point on the axis level with the distal end.
    pub distal_end: [f64; 3],
    /// Unit axis from distal to proximal.
    pub axis: [f64; 3],
    /// Unit direction, perpendicular to the axis, toward the anterior (tibial crest).
    pub anterior: [f64; 3],
    /// How the anterior direction was found.
    pub anterior_from: String,
    /// Length along the axis from the distal end to the highest point of the cut.
    pub length: f64,
    /// Perimeter of the open proximal cut (0 for a closed scan).
    pub cut_perimeter: f64,
    /// (distance from the distal end, circumference).
    pub circumferences: Vec<(f64, f64)>,
    /// Volume closed off by a flat cap over the cut.
    pub volume: f64,
    /// Surface area of the scan (without the cap).
    pub area: f64,
}

impl LimbMeasurements {
    pub fn axis(&self) -> Vector3<f64> {
        Vector3::from(self.axis)
    }
    pub fn distal(&self) -> Point3<f64> {
        Point3::from(self.distal_end)
    }
    pub fn anterior(&self) -> Vector3<f64> {
        Vector3::from(self.anterior)
    }
}

/// Why a limb could not be measured.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MeasureError {
    #[error("too few triangles ({0}) to measure")]
    TooSmall(usize),
    #[error("circumference at {at} mm from the distal end is outside the limb (0-{length:.1} mm)")]
    OutsideLimb { at: f64, length: f64 },
}

/// A residual limb's long axis.
#[derive(Clone, Copy, Debug)]
pub struct LimbAxis {
    /// Point on the axis level with the distal end.
    pub distal: Point3<f64>,
    /// Unit direction distal -> proximal.
    pub direction: Vector3<f64>,
    /// From the distal end to the highest point, along the axis.
    pub length: f64,
    /// Centre of the open cut (the surface centroid for a closed scan); on the axis.
    pub cut_centre: Point3<f64>,
    /// Perimeter of the open cut (0 for a closed scan).
    pub cut_perimeter: f64,
}

/// The limb's long axis: principal axis turned toward the open cut and averaged with the
/// cut's normal when they are within 30 degrees, through the cut's centre.
pub fn limb_axis(mesh: &Mesh) -> Result<LimbAxis, MeasureError> {
    if mesh.triangles.len() < 20 {
        return Err(MeasureError::TooSmall(mesh.triangles.len()));
    }
    let pca = principal::of_surface(mesh);
    let mut axis = pca.axes[0];
    let topo = topology::report(mesh);
    let (centre, perimeter) = match topo.boundary_loops.first() {
        Some(l) => {
            let pts: Vec<Point3<f64>> = l
                .vertices
                .iter()
                .map(|&v| mesh.vertices[v as usize])
                .collect();
            let c = pts.iter().fold(Vector3::zeros(), |s, p| s + p.coords) / pts.len() as f64;
            // Newell normal of the loop
            let mut n = Vector3::zeros();
            for i in 0..pts.len() {
                let (a, b) = (pts[i].coords - c, pts[(i + 1) % pts.len()].coords - c);
                n += a.cross(&b);
            }
            if (c - pca.centroid.coords).dot(&axis) < 0.0 {
                axis = -axis;
            }
            if n.norm() > 0.0 {
                let mut n = n.normalize();
                if n.dot(&axis) < 0.0 {
                    n = -n;
                }
                if n.dot(&axis) > 30f64.to_radians().cos() {
                    axis = (axis + n).normalize();
                }
            }
            (Point3::from(c), l.perimeter)
        }
        None => {
            // Closed scan: take the distal end at the bottom (lower Z).
            if axis.z < 0.0 {
                axis = -axis;
            }
            (pca.centroid, 0.0)
        }
    };
    let (dmin, dmax) = mesh
        .vertices
        .iter()
        .map(|p| (p - centre).dot(&axis))
        .fold((f64::MAX, f64::MIN), |(a, b), x| (a.min(x), b.max(x)));
    Ok(LimbAxis {
        distal: centre + axis * dmin,
        direction: axis,
        length: dmax - dmin,
        cut_centre: centre,
        cut_perimeter: perimeter,
    })
}

/// Measures a residual limb: circumferences at `at` (mm from the distal end; every 20 mm when
/// empty), volume, area; `anterior_landmark` (a point on the tibial crest or tubercle, scan
/// coordinates) fixes the anterior direction, else it is found from the cross-sections.
pub fn limb(
    mesh: &Mesh,
    at: &[f64],
    anterior_landmark: Option<Point3<f64>>,
) -> Result<LimbMeasurements, MeasureError> {
    let LimbAxis {
        distal,
        direction: axis,
        length,
        cut_centre: centre,
        cut_perimeter,
    } = limb_axis(mesh)?;
    let distances: Vec<f64> = if at.is_empty() {
        (1..)
            .map(|i| i as f64 * 20.0)
            .take_while(|&d| d < length - 5.0)
            .collect()
    } else {
        at.to_vec()
    };
    let slicer = section::Slicer::new(mesh, axis);
    let h0 = distal.coords.dot(&axis);
    let mut circumferences = Vec::new();
    for &d in &distances {
        if !(d > 0.0 && d < length) {
            return Err(MeasureError::OutsideLimb { at: d, length });
        }
        let segs = slicer.cut(h0 + d);
        circumferences.push((d, section::length(&segs)));
    }
    let (anterior, anterior_from) = match anterior_landmark {
        Some(p) => {
            let r = p - distal;
            let r = r - axis * r.dot(&axis);
            (r.normalize(), "the landmark given".to_string())
        }
        None => anterior_from_sections(&slicer, &distal, &axis, length),
    };
    let mut volume = 0.0;
    let mut area = 0.0;
    for t in 0..mesh.triangles.len() {
        let [a, b, c] = mesh.triangle(t);
        let (a, b, c) = (a - centre, b - centre, c - centre);
        volume += a.dot(&b.cross(&c)) / 6.0;
        area += (b - a).cross(&(c - a)).norm() / 2.0;
    }
    Ok(LimbMeasurements {
        distal_end: distal.coords.into(),
        axis: axis.into(),
        anterior: anterior.into(),
        anterior_from,
        length,
        cut_perimeter,
        circumferences,
        volume,
        area,
    })
}

/// The tibial crest: in cross-sections from 30 % to 80 % of the length, the direction of the
/// point farthest from the section's centroid; averaged over the sections.
fn anterior_from_sections(
    slicer: &section::Slicer,
    distal: &Point3<f64>,
    axis: &Vector3<f64>,
    length: f64,
) -> (Vector3<f64>, String) {
    let mut sum = Vector3::zeros();
    let mut n = 0;
    for i in 0..=10 {
        let o = distal + axis * (length * (0.3 + 0.05 * i as f64));
        let segs = slicer.cut(o.coords.dot(axis));
        if segs.is_empty() {
            continue;
        }
        let mut c = Vector3::zeros();
        let mut w = 0.0;
        for [a, b] in &segs {
            let l = (b - a).norm();
            c += l * (a.coords + b.coords) / 2.0;
            w += l;
        }
        if w == 0.0 {
            continue;
        }
        c /= w;
        let far = segs
            .iter()
            .flat_map(|s| s.iter())
            .max_by(|p, q| (p.coords - c).norm().total_cmp(&(q.coords - c).norm()))
            .unwrap();
        let r = far.coords - c;
        let r = r - axis * r.dot(axis);
        if r.norm() > 0.0 {
            sum += r.normalize();
            n += 1;
        }
    }
    if n == 0 || sum.norm() == 0.0 {
        let (u, _) = crate::orient::perpendiculars(axis);
        return (u, "no cross-sections; an arbitrary perpendicular".into());
    }
    let agreement = sum.norm() / n as f64;
    (
        sum.normalize(),
        format!(
            "the most protruding ridge of {n} mid-limb cross-sections (tibial crest), agreement {:.0} %",
            agreement * 100.0
        ),
    )
}
