//! One or two devices laid out on one blank, in the machine frame: each turned so the foot's
//! length runs along the machine's X (a proper rotation: a left device stays a left device),
//! a pair side by side in Y, the second turned end for end where that makes the blank smaller
//! (the wide forefoot of one beside the narrow heel of the other) and slid along X to the
//! smallest blank that keeps the parts `gap` apart everywhere. Work zero is the top of the blank
//! at its front-left corner: the blank occupies `0..X`, `0..Y`, `-Z..0`, the devices' bottoms
//! on the blank's bottom.

use nalgebra::{Isometry3, Point3, Translation3, UnitQuaternion, Vector3};

use super::{Device, DeviceMeasurements};
use crate::mesh::Mesh;
use crate::orient::FootSide;

/// Room round the devices, mm.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LayoutParams {
    /// Blank beyond the devices' outlines on every side.
    pub side_margin: f64,
    /// Least distance between two devices' outlines.
    pub gap: f64,
    /// Blank above the highest point.
    pub top_margin: f64,
}

/// One device on the blank.
#[derive(Clone, Debug)]
pub struct Placed {
    pub side: FootSide,
    /// The closed solid and its top alone, machine frame.
    pub mesh: Mesh,
    pub top: Mesh,
    /// Outline in machine XY, counter-clockwise.
    pub outline: Vec<[f64; 2]>,
    /// Height of the top at each outline point.
    pub outline_z: Vec<f64>,
    /// Direction from heel to toes in machine XY (+X or -X).
    pub toe_dir: [f64; 2],
    /// Lab frame of the device -> machine frame.
    pub to_machine: Isometry3<f64>,
    pub foot_length: f64,
    pub measured: DeviceMeasurements,
}

/// The devices on their blank.
#[derive(Clone, Debug)]
pub struct Layout {
    pub parts: Vec<Placed>,
    /// Blank size X, Y, Z: it occupies `0..X`, `0..Y`, `-Z..0`.
    pub blank: [f64; 3],
    /// Z of the highest point of any device.
    pub top_z: f64,
    /// Z of the devices' bottoms (the blank's bottom).
    pub bottom_z: f64,
    /// Z of the highest point of any outline (the top of the highest wall).
    pub rim_z: f64,
    /// Z of the lowest point of any outline (the lowest edge).
    pub edge_z: f64,
}

impl Layout {
    /// Every device's solid in one mesh.
    pub fn mesh(&self) -> Mesh {
        merge(self.parts.iter().map(|p| &p.mesh))
    }

    /// Every device's top in one mesh.
    pub fn tops(&self) -> Mesh {
        merge(self.parts.iter().map(|p| &p.top))
    }

    /// The rectangle of every outline, `[xmin, ymin, xmax, ymax]`.
    pub fn extent(&self) -> [f64; 4] {
        extent(self.parts.iter().flat_map(|p| p.outline.iter()))
    }
}

fn merge<'a>(meshes: impl Iterator<Item = &'a Mesh>) -> Mesh {
    let mut out = Mesh::new(Vec::new(), Vec::new());
    for m in meshes {
        let o = out.vertices.len() as u32;
        out.vertices.extend(m.vertices.iter().copied());
        out.triangles
            .extend(m.triangles.iter().map(|t| t.map(|v| v + o)));
    }
    out
}

fn extent<'a>(pts: impl Iterator<Item = &'a [f64; 2]>) -> [f64; 4] {
    pts.fold(
        [
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ],
        |r, p| {
            [
                r[0].min(p[0]),
                r[1].min(p[1]),
                r[2].max(p[0]),
                r[3].max(p[1]),
            ]
        },
    )
}

/// Turn of the lab frame into the machine's: toes (+Y) to +X, or to -X when `flipped`.
fn turn(flipped: bool) -> UnitQuaternion<f64> {
    let a = if flipped {
        std::f64::consts::FRAC_PI_2
    } else {
        -std::f64::consts::FRAC_PI_2
    };
    UnitQuaternion::from_axis_angle(&Vector3::z_axis(), a)
}

/// Lays `devices` (one or two) out on a blank.
pub fn layout(devices: &[Device], p: &LayoutParams) -> Layout {
    // each outline turned; the second's placement searched
    let turned = |d: &Device, flipped: bool| -> Vec<[f64; 2]> {
        let q = turn(flipped);
        d.outline
            .iter()
            .map(|o| {
                let v = q * Point3::new(o[0], o[1], 0.0);
                [v.x, v.y]
            })
            .collect()
    };
    let mut shifts: Vec<(bool, [f64; 2])> = vec![(false, [0.0, 0.0])];
    if devices.len() >= 2 {
        let a = turned(&devices[0], false);
        let ea = extent(a.iter());
        let mut best: Option<(f64, bool, [f64; 2])> = None;
        for flipped in [false, true] {
            let b = turned(&devices[1], flipped);
            let eb = extent(b.iter());
            // slide B along X (its heel end against A's, and steps of 5 mm round that)
            let base_dx = ea[0] - eb[0];
            for step in -12..=12 {
                let dx = base_dx + step as f64 * 5.0;
                // the least dy putting B above A at least `gap` away everywhere
                let mut dy = ea[3] - eb[1] + p.gap; // bounding boxes apart: always enough
                let mut need = f64::NEG_INFINITY;
                for qa in &a {
                    for qb in &b {
                        let ddx = qb[0] + dx - qa[0];
                        if ddx.abs() < p.gap {
                            need = need.max(qa[1] - qb[1] + (p.gap * p.gap - ddx * ddx).sqrt());
                        }
                    }
                }
                if need.is_finite() {
                    dy = dy.min(need);
                }
                let e = extent(
                    a.iter().chain(
                        b.iter()
                            .map(|q| [q[0] + dx, q[1] + dy])
                            .collect::<Vec<_>>()
                            .iter(),
                    ),
                );
                let area = (e[2] - e[0]) * (e[3] - e[1]);
                if best.is_none_or(|(ba, _, _)| area < ba - 1e-9) {
                    best = Some((area, flipped, [dx, dy]));
                }
            }
        }
        let (_, flipped, d) = best.expect("searched");
        shifts.push((flipped, d));
    }
    // everything placed, then moved so the outlines start side_margin from the origin
    let mut parts: Vec<Placed> = devices
        .iter()
        .zip(&shifts)
        .map(|(d, &(flipped, s))| {
            let iso = Isometry3::from_parts(Translation3::new(s[0], s[1], 0.0), turn(flipped));
            place(d, iso, flipped)
        })
        .collect();
    let e = extent(parts.iter().flat_map(|q| q.outline.iter()));
    let top = parts
        .iter()
        .flat_map(|q| q.mesh.vertices.iter())
        .map(|v| v.z)
        .fold(0.0, f64::max);
    let blank = [
        e[2] - e[0] + 2.0 * p.side_margin,
        e[3] - e[1] + 2.0 * p.side_margin,
        top + p.top_margin,
    ];
    let shift = Vector3::new(p.side_margin - e[0], p.side_margin - e[1], -blank[2]);
    for q in &mut parts {
        for v in q.mesh.vertices.iter_mut().chain(q.top.vertices.iter_mut()) {
            *v += shift;
        }
        for o in &mut q.outline {
            o[0] += shift.x;
            o[1] += shift.y;
        }
        for z in &mut q.outline_z {
            *z += shift.z;
        }
        q.to_machine = Isometry3::from_parts(Translation3::from(shift), UnitQuaternion::identity())
            * q.to_machine;
    }
    let rim_z = parts
        .iter()
        .flat_map(|q| q.outline_z.iter())
        .fold(f64::NEG_INFINITY, |a, &b| a.max(b));
    let edge_z = parts
        .iter()
        .flat_map(|q| q.outline_z.iter())
        .fold(f64::INFINITY, |a, &b| a.min(b));
    Layout {
        parts,
        blank,
        top_z: top - blank[2],
        bottom_z: -blank[2],
        rim_z,
        edge_z,
    }
}

fn place(d: &Device, iso: Isometry3<f64>, flipped: bool) -> Placed {
    let mv = |m: &Mesh| {
        let mut m = m.clone();
        for v in &mut m.vertices {
            *v = iso * *v;
        }
        m
    };
    let outline = d
        .outline
        .iter()
        .map(|o| {
            let v = iso * Point3::new(o[0], o[1], 0.0);
            [v.x, v.y]
        })
        .collect();
    Placed {
        side: d.params.side,
        mesh: mv(&d.mesh),
        top: mv(&d.top),
        outline,
        outline_z: d.outline_z.clone(),
        toe_dir: if flipped { [-1.0, 0.0] } else { [1.0, 0.0] },
        to_machine: iso,
        foot_length: d.foot_length,
        measured: d.measured,
    }
}
