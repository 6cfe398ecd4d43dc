//! The socket positive to carve on a rotary carver, in program coordinates.
//!
//! From a rectified residual limb (open at its proximal cut, in scan coordinates) and its axis:
//! - the axis is refined to the line through the centroids of the limb's cross-sections
//!   (10-90 % of its length), so every ray from it meets the surface once where the limb allows;
//! - the limb is laid along X with that axis on the rotation axis (Y = Z = 0), distal end toward
//!   +X, anterior up (+Z) at A = 0;
//! - the open proximal end is extended straight along the axis past the cut by a stem the
//!   carver's mandrel holds, and closed by a flat end face at `x = stem_face_x` (the chuck side);
//!   other holes are closed by a fan.
//!
//! The result is a closed, outward-oriented mesh; `SocketDesign` also says where its parts are.

use nalgebra::{Matrix3, Point3, Vector3};

use crate::mesh::Mesh;
use crate::section::{self, Slicer};
use crate::topology;

/// How the positive is laid out for the carver.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SocketParams {
    /// Stem beyond the highest point of the proximal cut, mm.
    pub stem_length: f64,
    /// X of the stem's end face (the chuck's face is X = 0), mm.
    pub stem_face_x: f64,
}

impl Default for SocketParams {
    fn default() -> Self {
        SocketParams {
            stem_length: 40.0,
            stem_face_x: 20.0,
        }
    }
}

/// The positive in program coordinates and where its parts are.
#[derive(Clone, Debug)]
pub struct SocketDesign {
    /// Closed, outward-oriented, mm, program coordinates (the part at A = 0).
    pub mesh: Mesh,
    /// Scan coordinates -> program coordinates: `p' = rotation * p + translation`.
    pub rotation: Matrix3<f64>,
    pub translation: Vector3<f64>,
    /// X of the stem's end face, of the lowest and highest point of the proximal cut, and of
    /// the distal end, mm.
    pub stem_face_x: f64,
    pub cut_x: (f64, f64),
    pub distal_x: f64,
    /// Largest distance of the design from the axis, mm.
    pub max_radius: f64,
    /// Holes other than the proximal cut that were closed.
    pub holes_closed: usize,
}

impl SocketDesign {
    /// A scan-coordinate point in program coordinates.
    pub fn to_program(&self, p: &Point3<f64>) -> Point3<f64> {
        Point3::from(self.rotation * p.coords + self.translation)
    }
}

/// Why a positive could not be laid out.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SocketError {
    #[error("the limb is closed: a socket positive needs the scan open at its proximal cut")]
    Closed,
    #[error("the limb's axis does not pass through its proximal cut: cannot hold it on a stem")]
    AxisOutsideCut,
    #[error("the stem length must be 5 to 200 mm, got {0}")]
    Stem(f64),
    #[error("the limb has too few cross-sections to find its axis")]
    NoSections,
}

/// Lays out the rectified limb `limb` (scan coordinates) as a positive to carve. `axis` is the
/// limb's axis (unit, distal -> proximal) through `through`; `anterior` the direction to turn up.
pub fn socket_positive(
    limb: &Mesh,
    through: &Point3<f64>,
    axis: &Vector3<f64>,
    anterior: &Vector3<f64>,
    p: &SocketParams,
) -> Result<SocketDesign, SocketError> {
    if !(p.stem_length.is_finite() && (5.0..=200.0).contains(&p.stem_length)) {
        return Err(SocketError::Stem(p.stem_length));
    }
    let topo = topology::report(limb);
    let Some(cut) = topo
        .boundary_loops
        .iter()
        .max_by(|a, b| a.perimeter.total_cmp(&b.perimeter))
    else {
        return Err(SocketError::Closed);
    };
    let (origin, axis) = refine_axis(limb, through, &axis.normalize())?;
    // the frame: X toward the distal end, Z anterior, Y = Z x X
    let ex = -axis;
    let mut ez = anterior - axis * anterior.dot(&axis);
    if ez.norm() < 1e-9 {
        ez = any_perpendicular(&axis);
    }
    let ez = ez.normalize();
    let ey = ez.cross(&ex);
    let rotation = Matrix3::from_rows(&[ex.transpose(), ey.transpose(), ez.transpose()]);
    // heights of the cut along the axis (distal -> proximal)
    let h = |q: &Point3<f64>| (q - origin).dot(&axis);
    let cut_h_max = cut
        .vertices
        .iter()
        .map(|&v| h(&limb.vertices[v as usize]))
        .fold(f64::NEG_INFINITY, f64::max);
    let cut_h_min = cut
        .vertices
        .iter()
        .map(|&v| h(&limb.vertices[v as usize]))
        .fold(f64::INFINITY, f64::min);
    let face_h = cut_h_max + p.stem_length;
    // program x = stem_face_x + (face_h - h)
    let translation = Vector3::new(p.stem_face_x + face_h, 0.0, 0.0) - rotation * origin.coords;
    // rotation * (q - origin) has x = -(h), so x = stem_face_x + face_h - h
    let mut vertices: Vec<Point3<f64>> = limb
        .vertices
        .iter()
        .map(|q| Point3::from(rotation * q.coords + translation))
        .collect();
    let mut triangles = limb.triangles.clone();

    // the stem: the cut's loop, each vertex carried along the axis to the end face
    let lp: Vec<u32> = oriented_loop(limb, &cut.vertices);
    let n = lp.len();
    let base = vertices.len() as u32;
    for &v in &lp {
        let q = vertices[v as usize];
        vertices.push(Point3::new(p.stem_face_x, q.y, q.z));
    }
    let centre = vertices.len() as u32;
    vertices.push(Point3::new(p.stem_face_x, 0.0, 0.0));
    // the axis must pass inside the cut (seen along X) for the end face's fan
    let poly: Vec<[f64; 2]> = lp
        .iter()
        .map(|&v| [vertices[v as usize].y, vertices[v as usize].z])
        .collect();
    if !contains_origin(&poly) {
        return Err(SocketError::AxisOutsideCut);
    }
    for i in 0..n {
        let j = (i + 1) % n;
        let (li, lj) = (lp[i], lp[j]);
        let (si, sj) = (base + i as u32, base + j as u32);
        // the mesh holds li -> lj; the stem's triangles hold lj -> li
        triangles.push([lj, li, si]);
        triangles.push([lj, si, sj]);
        triangles.push([centre, sj, si]);
    }
    // other holes: closed by a fan round their centroid
    let mut holes_closed = 0;
    for l in topo
        .boundary_loops
        .iter()
        .filter(|l| !std::ptr::eq(*l, cut))
    {
        let lv = oriented_loop(limb, &l.vertices);
        let c = lv
            .iter()
            .fold(Vector3::zeros(), |s, &v| s + vertices[v as usize].coords)
            / lv.len() as f64;
        let ci = vertices.len() as u32;
        vertices.push(Point3::from(c));
        for i in 0..lv.len() {
            let j = (i + 1) % lv.len();
            triangles.push([lv[j], lv[i], ci]);
        }
        holes_closed += 1;
    }
    let mut mesh = Mesh::new(vertices, triangles);
    // outward: positive volume
    let vol: f64 = (0..mesh.triangles.len())
        .map(|t| {
            let [a, b, c] = mesh.triangle(t);
            a.coords.dot(&b.coords.cross(&c.coords)) / 6.0
        })
        .sum();
    if vol < 0.0 {
        for t in &mut mesh.triangles {
            t.swap(1, 2);
        }
    }
    let max_radius = mesh
        .vertices
        .iter()
        .map(|q| q.y.hypot(q.z))
        .fold(0.0, f64::max);
    let distal_x = mesh.vertices.iter().map(|q| q.x).fold(f64::MIN, f64::max);
    Ok(SocketDesign {
        mesh,
        rotation,
        translation,
        stem_face_x: p.stem_face_x,
        cut_x: (
            p.stem_face_x + face_h - cut_h_max,
            p.stem_face_x + face_h - cut_h_min,
        ),
        distal_x,
        max_radius,
        holes_closed,
    })
}

/// The line through the perimeter centroids of cross-sections from 10 to 90 % of the limb's
/// length (least squares), as a point at the distal end's level and a unit direction distal ->
/// proximal.
fn refine_axis(
    limb: &Mesh,
    through: &Point3<f64>,
    axis: &Vector3<f64>,
) -> Result<(Point3<f64>, Vector3<f64>), SocketError> {
    let mut axis = *axis;
    let mut point = *through;
    for _ in 0..2 {
        let slicer = Slicer::new(limb, axis);
        let (lo, hi) = limb
            .vertices
            .iter()
            .map(|q| q.coords.dot(&axis))
            .fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(v), b.max(v)));
        let mut samples: Vec<(f64, Point3<f64>)> = Vec::new();
        for k in 0..=16 {
            let hh = lo + (hi - lo) * (0.1 + 0.8 * k as f64 / 16.0);
            let segs = slicer.cut(hh);
            let len = section::length(&segs);
            if len <= 0.0 {
                continue;
            }
            let c = segs.iter().fold(Vector3::zeros(), |s, sg| {
                s + (sg[0].coords + sg[1].coords) * 0.5 * (sg[1] - sg[0]).norm()
            }) / len;
            samples.push((hh, Point3::from(c)));
        }
        if samples.len() < 3 {
            return Err(SocketError::NoSections);
        }
        // fit c(h) = c0 + h * d by least squares per coordinate
        let m = samples.len() as f64;
        let hm = samples.iter().map(|s| s.0).sum::<f64>() / m;
        let cm = samples.iter().fold(Vector3::zeros(), |s, x| s + x.1.coords) / m;
        let mut num = Vector3::zeros();
        let mut den = 0.0;
        for (hh, c) in &samples {
            num += (c.coords - cm) * (hh - hm);
            den += (hh - hm) * (hh - hm);
        }
        let slope = num / den.max(1e-12);
        let d = slope.normalize();
        axis = if d.dot(&axis) < 0.0 { -d } else { d };
        // the point on the line level with the lowest vertex (distal)
        let lowest = limb
            .vertices
            .iter()
            .map(|q| (q - Point3::from(cm)).dot(&axis))
            .fold(f64::MAX, f64::min);
        point = Point3::from(cm + axis * lowest);
    }
    Ok((point, axis))
}

/// The loop's vertices in the direction the mesh's own triangles run along it (each edge
/// `l[i] -> l[i+1]` appears in a triangle).
fn oriented_loop(mesh: &Mesh, l: &[u32]) -> Vec<u32> {
    if l.len() < 2 {
        return l.to_vec();
    }
    let (a, b) = (l[0], l[1]);
    let forward = mesh
        .triangles
        .iter()
        .any(|t| (0..3).any(|k| t[k] == a && t[(k + 1) % 3] == b));
    if forward {
        l.to_vec()
    } else {
        l.iter().rev().copied().collect()
    }
}

fn contains_origin(poly: &[[f64; 2]]) -> bool {
    // winding number about (0, 0)
    let mut wind = 0.0;
    for i in 0..poly.len() {
        let a = poly[i];
        let b = poly[(i + 1) % poly.len()];
        let cross = a[0] * b[1] - a[1] * b[0];
        let dot = a[0] * b[0] + a[1] * b[1];
        wind += cross.atan2(dot);
    }
    wind.abs() > std::f64::consts::PI
}

fn any_perpendicular(v: &Vector3<f64>) -> Vector3<f64> {
    let t = if v.x.abs() < 0.9 {
        Vector3::x()
    } else {
        Vector3::y()
    };
    v.cross(&t).normalize()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An open cup: a cylinder of radius r about Z from z = 0 (closed by a cone tip at z = -10)
    /// to z = h (open), centred at (cx, cy).
    fn cup(r: f64, h: f64, cx: f64, cy: f64) -> Mesh {
        let n = 48;
        let rings = 20;
        let mut v = Vec::new();
        for k in 0..=rings {
            let z = h * k as f64 / rings as f64;
            for i in 0..n {
                let a = std::f64::consts::TAU * i as f64 / n as f64;
                v.push(Point3::new(cx + r * a.cos(), cy + r * a.sin(), z));
            }
        }
        let tip = v.len() as u32;
        v.push(Point3::new(cx, cy, -10.0));
        let mut t = Vec::new();
        for k in 0..rings {
            for i in 0..n {
                let j = (i + 1) % n;
                let a = (k * n + i) as u32;
                let b = (k * n + j) as u32;
                let c = ((k + 1) * n + j) as u32;
                let d = ((k + 1) * n + i) as u32;
                t.push([a, b, c]);
                t.push([a, c, d]);
            }
        }
        for i in 0..n {
            let j = (i + 1) % n;
            t.push([tip, j as u32, i as u32]);
        }
        Mesh::new(v, t)
    }

    #[test]
    fn a_cup_is_laid_along_x_with_a_stem_and_closed() {
        let m = cup(40.0, 200.0, 5.0, -3.0);
        let d = socket_positive(
            &m,
            &Point3::new(0.0, 0.0, -10.0),
            &Vector3::new(0.02, 0.0, 1.0),
            &Vector3::new(0.0, -1.0, 0.0),
            &SocketParams::default(),
        )
        .unwrap();
        let topo = topology::report(&d.mesh);
        assert!(topo.watertight, "{topo:?}");
        // the axis is found on the cup's centre line: every ring at radius 40 from it
        for q in &d.mesh.vertices {
            let r = q.y.hypot(q.z);
            assert!(r < 40.0 + 1e-6, "{r}");
        }
        assert!((d.max_radius - 40.0).abs() < 1e-6);
        // stem face at x = 20, the cut 40 mm further, the tip 210 mm beyond the cut
        assert!((d.cut_x.0 - 60.0).abs() < 1e-6, "{:?}", d.cut_x);
        assert!((d.distal_x - 270.0).abs() < 1e-6, "{}", d.distal_x);
        let xmin = d.mesh.vertices.iter().map(|q| q.x).fold(f64::MAX, f64::min);
        assert!((xmin - 20.0).abs() < 1e-9);
        // anterior (-Y in the scan) is +Z in the program
        let front = d.to_program(&Point3::new(5.0, -50.0, 100.0));
        assert!(
            (front.z - 47.0).abs() < 1e-6 && front.y.abs() < 1e-6,
            "{front:?}"
        );
        // outward: positive volume, about pi r^2 L
        let vol: f64 = (0..d.mesh.triangles.len())
            .map(|t| {
                let [a, b, c] = d.mesh.triangle(t);
                a.coords.dot(&b.coords.cross(&c.coords)) / 6.0
            })
            .sum();
        assert!(vol > 0.9 * std::f64::consts::PI * 1600.0 * 240.0, "{vol}");
    }

    #[test]
    fn a_closed_limb_is_refused() {
        let m = Mesh::new(
            vec![
                Point3::new(0.0, 0.0, 0.0),
                Point3::new(10.0, 0.0, 0.0),
                Point3::new(0.0, 10.0, 0.0),
                Point3::new(0.0, 0.0, 10.0),
            ],
            vec![[0, 2, 1], [0, 1, 3], [1, 2, 3], [0, 3, 2]],
        );
        let e = socket_positive(
            &m,
            &Point3::origin(),
            &Vector3::z(),
            &Vector3::y(),
            &SocketParams::default(),
        )
        .unwrap_err();
        assert_eq!(e, SocketError::Closed);
    }
}
