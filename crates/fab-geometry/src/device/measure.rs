//! Reads a direct-milled orthosis back from its mesh: what the router will make, measured, not
//! the Rx's numbers echoed. Works on any placement of the device (a design STL in program
//! coordinates included) given the direction from heel to toes in XY and which foot it is for.

use nalgebra::{Matrix3, Vector3};

use crate::mesh::Mesh;
use crate::orient::FootSide;

/// Measurements of one device. Lengths in mm, angles in degrees.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DeviceMeasurements {
    /// Heel end to front end along the foot.
    pub length_mm: f64,
    /// That length over the foot's length.
    pub length_fraction: f64,
    /// The heel cup's depth on the heel's middle line: the rim's top behind the heel above the
    /// heel seat's middle (a post's tilt across the foot changes neither).
    pub heel_cup_depth_mm: f64,
    /// The heel cup's highest point above the flat bottom.
    pub heel_rim_mm: f64,
    /// Tilt of the heel seat across the foot relative to the bottom, positive medial side up
    /// (varus), negative lateral side up (valgus).
    pub rearfoot_tilt_deg: f64,
    /// The same under the forefoot (at 70 % of the foot's length), where the device reaches it.
    pub forefoot_tilt_deg: Option<f64>,
    /// Least thickness of the device, from the flat bottom to the foot side.
    pub least_thickness_mm: f64,
}

/// Measures the device `mesh` (flat bottom down, foot side up) whose heel-to-toe direction in XY
/// is `toe_dir` (need not be unit), for the `side` foot `foot_length` mm long.
pub fn measure(
    mesh: &Mesh,
    side: FootSide,
    toe_dir: [f64; 2],
    foot_length: f64,
) -> DeviceMeasurements {
    let l = toe_dir[0].hypot(toe_dir[1]).max(1e-12);
    let u = [toe_dir[0] / l, toe_dir[1] / l];
    // across: the lab frame's +X (toes +Y turned to +X is a quarter turn clockwise)
    let w = [u[1], -u[0]];
    let m = side.medial_sign();
    let local: Vec<[f64; 3]> = mesh
        .vertices
        .iter()
        .map(|p| [p.x * u[0] + p.y * u[1], p.x * w[0] + p.y * w[1], p.z])
        .collect();
    let bottom = local.iter().map(|p| p[2]).fold(f64::INFINITY, f64::min);
    let (a_min, a_max) = local
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |r, p| {
            (r.0.min(p[0]), r.1.max(p[0]))
        });
    let top: Vec<[f64; 3]> = local
        .iter()
        .copied()
        .filter(|p| p[2] > bottom + 1e-6)
        .collect();
    let length = a_max - a_min;
    let least = top.iter().map(|p| p[2]).fold(f64::INFINITY, f64::min) - bottom;
    let heel: Vec<&[f64; 3]> = top
        .iter()
        .filter(|p| p[0] < a_min + 0.25 * foot_length)
        .collect();
    let rim = heel.iter().map(|p| p[2]).fold(f64::NEG_INFINITY, f64::max);
    // the cup's depth on the heel's middle line, where a post's tilt across the foot changes
    // neither: the rim's top behind the heel over the seat's middle
    let ac = a_min + 0.15 * foot_length;
    let (b0, b1) = heel
        .iter()
        .filter(|p| (p[0] - ac).abs() <= 0.05 * foot_length)
        .fold((f64::INFINITY, f64::NEG_INFINITY), |r, p| {
            (r.0.min(p[1]), r.1.max(p[1]))
        });
    let bc = (b0 + b1) / 2.0;
    let near = |p: &&&[f64; 3], a: f64, da: f64| (p[0] - a).abs() <= da && (p[1] - bc).abs() <= 5.0;
    let seat_pts: Vec<f64> = heel
        .iter()
        .filter(|p| near(p, ac, 5.0))
        .map(|p| p[2])
        .collect();
    let seat = seat_pts.iter().sum::<f64>() / seat_pts.len().max(1) as f64;
    let back_rim = heel
        .iter()
        .filter(|p| near(p, a_min, 0.1 * foot_length))
        .map(|p| p[2])
        .fold(f64::NEG_INFINITY, f64::max);
    let tilt_at = |f: f64| -> Option<f64> {
        let ac = a_min + f * foot_length;
        let band: Vec<&[f64; 3]> = top
            .iter()
            .filter(|p| (p[0] - ac).abs() <= 0.05 * foot_length)
            .collect();
        let (b0, b1) = band
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |r, p| {
                (r.0.min(p[1]), r.1.max(p[1]))
            });
        let (bc, half) = ((b0 + b1) / 2.0, 0.2 * (b1 - b0));
        let pts: Vec<&&[f64; 3]> = band.iter().filter(|p| (p[1] - bc).abs() <= half).collect();
        if pts.len() < 10 || a_max < ac + 0.05 * foot_length {
            return None;
        }
        // least squares z = c0 + c1 (a - ac) + c2 (b - bc)
        let mut ata = Matrix3::zeros();
        let mut atz = Vector3::zeros();
        for p in pts {
            let r = Vector3::new(1.0, p[0] - ac, p[1] - bc);
            ata += r * r.transpose();
            atz += r * p[2];
        }
        let c = ata.lu().solve(&atz)?;
        Some((c[2] * m).atan().to_degrees())
    };
    DeviceMeasurements {
        length_mm: length,
        length_fraction: length / foot_length,
        heel_cup_depth_mm: back_rim - seat,
        heel_rim_mm: rim - bottom,
        rearfoot_tilt_deg: tilt_at(0.15).unwrap_or(f64::NAN),
        forefoot_tilt_deg: tilt_at(0.7),
        least_thickness_mm: least,
    }
}
