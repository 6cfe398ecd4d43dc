//! What a scan is: a foot or a residual limb, decided once for every command.
//!
//! A residual limb is open at its proximal cut: a loop longer than 100 mm across the end of the
//! scan's long axis (the loop faces along that axis and sits in its last 30 %). A foot scan may
//! be open too, at the ankle, but that cut faces up, across the foot's long axis (heel to toe);
//! a closed scan is taken as a foot.

use nalgebra::Vector3;

use crate::mesh::Mesh;
use crate::principal;
use crate::topology::TopologyReport;

/// A foot or a residual limb.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScanKind {
    Foot,
    Limb,
}

impl std::fmt::Display for ScanKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ScanKind::Foot => "foot",
            ScanKind::Limb => "residual limb",
        })
    }
}

/// The kind and why, in words.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Classified {
    pub kind: ScanKind,
    pub reason: String,
}

/// Classifies `mesh` (mm) with its topology.
pub fn classify(mesh: &Mesh, topo: &TopologyReport) -> Classified {
    let Some(cut) = topo
        .boundary_loops
        .iter()
        .max_by(|a, b| a.perimeter.total_cmp(&b.perimeter))
        .filter(|l| l.perimeter > 100.0)
    else {
        return Classified {
            kind: ScanKind::Foot,
            reason: "no open cut longer than 100 mm: taken as a foot".into(),
        };
    };
    let pca = principal::of_surface(mesh);
    let axis = pca.axes[0];
    let pts: Vec<Vector3<f64>> = cut
        .vertices
        .iter()
        .map(|&v| mesh.vertices[v as usize].coords)
        .collect();
    let c = pts.iter().fold(Vector3::zeros(), |s, p| s + p) / pts.len().max(1) as f64;
    let mut n = Vector3::zeros();
    for i in 0..pts.len() {
        n += (pts[i] - c).cross(&(pts[(i + 1) % pts.len()] - c));
    }
    let facing = if n.norm() > 0.0 {
        n.normalize().dot(&axis).abs()
    } else {
        0.0
    };
    let (lo, hi) = mesh
        .vertices
        .iter()
        .map(|p| (p - pca.centroid).dot(&axis))
        .fold((f64::MAX, f64::MIN), |(a, b), x| (a.min(x), b.max(x)));
    let at = (c - pca.centroid.coords).dot(&axis);
    let at_end = at > lo + 0.7 * (hi - lo) || at < lo + 0.3 * (hi - lo);
    if facing > std::f64::consts::FRAC_1_SQRT_2 && at_end {
        Classified {
            kind: ScanKind::Limb,
            reason: format!(
                "open at a {:.0} mm cut across the end of its long axis: a residual limb",
                cut.perimeter
            ),
        }
    } else {
        Classified {
            kind: ScanKind::Foot,
            reason: format!(
                "open at a {:.0} mm cut along its side (an ankle), not across the end of its long axis: taken as a foot",
                cut.perimeter
            ),
        }
    }
}
