//! The job page's 3D view: a design as attached to its job, with each vertex's depth against the
//! scan it was planned from, in mm: positive where the design is built up outside the scan,
//! negative where it is pushed in, none (NaN) where the scan has nothing (the base).
//!
//! A foot positive is the scan turned into fab's lab frame (`orient::foot`, exactly as `fab plan`
//! turns it), modified, clipped at the trim height, turned into program coordinates
//! (`design::lab_to_machine_rotation`) and shifted onto the blank. The view repeats the first and
//! the turn on the scan, and finds the shift from the design itself: first by lining up the
//! heel, the medial or lateral edge and the floor (exact where the modifications leave those
//! where they were), then by a robust closest-point iteration (translation only, each step the
//! per-axis median of the closest-point offsets, so the modified minority does not pull it).
//! Depths are then exact closest-point distances (fab-geometry's BVH), signed by the scan's
//! outward side.
//!
//! Other designs (a socket positive, a mesh attached by hand with no scan) are shown without
//! depth, and the view says why.

use fab_geometry::Mesh;
use fab_geometry::nalgebra::{Point3, Vector3};
use fab_geometry::query::{Bvh, PseudoNormals, V3};

/// A design ready to draw.
#[derive(Debug, Clone)]
pub struct View {
    pub positions: Vec<[f32; 3]>,
    pub triangles: Vec<[u32; 3]>,
    /// Per vertex, mm; NaN where there is no scan under it.
    pub depth: Option<Vec<f32>>,
    /// One line for the reader: what the colours mean, or why there are none.
    pub note: String,
}

/// Why a design's depth against its scan could not be found.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DepthError {
    #[error("the scan is not a foot fab can orient ({0}): shown without depth")]
    NotAFoot(String),
    #[error("the design has no base below the foot, as a foot positive has: shown without depth")]
    NoBase,
    #[error(
        "the design does not lie on its scan as a foot positive does (typical distance {0:.1} mm \
         after alignment; an orthosis milled directly, or a scan planned in other units): shown \
         without depth"
    )]
    NoFit(f64),
    #[error(
        "the design is nowhere near its scan as a foot positive is (an orthosis milled \
         directly, or a scan planned in other units): shown without depth"
    )]
    NotNear,
}

/// Design vertices farther than this from the scan have no depth (mm).
const FAR: f64 = 40.0;

/// The view of `design` without depth, saying why.
pub fn plain(design: &Mesh, why: &str) -> View {
    View {
        positions: positions(design),
        triangles: design.triangles.clone(),
        depth: None,
        note: why.to_string(),
    }
}

fn positions(m: &Mesh) -> Vec<[f32; 3]> {
    m.vertices
        .iter()
        .map(|p| [p.x as f32, p.y as f32, p.z as f32])
        .collect()
}

/// The view of a foot positive `design` (program coordinates) coloured by its depth against
/// `scan` (the scan as loaded, mm).
pub fn foot(design: &Mesh, scan: &Mesh) -> Result<View, DepthError> {
    let frame =
        fab_geometry::orient::foot(scan).map_err(|e| DepthError::NotAFoot(e.to_string()))?;
    let rot = fab_geometry::design::lab_to_machine_rotation();
    let lab = frame.apply(scan);

    // the base: every vertex of a triangle that reaches the blank's bottom (the prism's walls
    // and, through them, its whole outline)
    let bottom = design
        .vertices
        .iter()
        .map(|p| p.z)
        .fold(f64::INFINITY, f64::min);
    let mut base = vec![false; design.vertices.len()];
    for t in &design.triangles {
        if t.iter()
            .any(|&i| design.vertices[i as usize].z <= bottom + 1e-6)
        {
            for &i in t {
                base[i as usize] = true;
            }
        }
    }
    let foot: Vec<Point3<f64>> = design
        .vertices
        .iter()
        .zip(&base)
        .filter(|(_, b)| !**b)
        .map(|(p, _)| *p)
        .collect();
    let base_z = design
        .vertices
        .iter()
        .zip(&base)
        .filter(|(_, b)| **b)
        .map(|(p, _)| p.z)
        .fold(f64::NEG_INFINITY, f64::max);
    if foot.is_empty() || !base_z.is_finite() {
        return Err(DepthError::NoBase);
    }
    let bounds = |pts: &mut dyn Iterator<Item = Point3<f64>>| {
        pts.fold(
            (
                Point3::from([f64::INFINITY; 3]),
                Point3::from([f64::NEG_INFINITY; 3]),
            ),
            |(lo, hi), p| (lo.inf(&p), hi.sup(&p)),
        )
    };
    let (dlo, dhi) = bounds(&mut foot.iter().copied());
    // the trim height: the design's foot spans the floor (its top) down to the trim plane
    let trim = dhi.z - base_z;
    let (slo, shi) = bounds(&mut lab.vertices.iter().filter(|p| p.z <= trim).map(|p| rot * p));
    if !slo.x.is_finite() {
        return Err(DepthError::NotNear);
    }
    // heel (min X), the edge at min Y, and the floor (max Z) lined up
    let shift = Vector3::new(dlo.x - slo.x, dlo.y - slo.y, dhi.z - shi.z);
    let placed = Mesh::new(
        lab.vertices.iter().map(|p| rot * p + shift).collect(),
        lab.triangles.clone(),
    );
    let bvh = Bvh::new(&placed);
    let v3 = |p: &Point3<f64>| -> V3 { [p.x, p.y, p.z] };

    // the design sits at `delta` from the placed scan: find it
    let mut delta = Vector3::zeros();
    let mut cut = 10.0f64;
    for _ in 0..40 {
        let mut off: [Vec<f64>; 3] = Default::default();
        for p in &foot {
            let q = p - delta;
            let Some(h) = bvh.nearest_within(v3(&q), cut * cut) else {
                continue;
            };
            for k in 0..3 {
                off[k].push(h.point[k] - q[k]);
            }
        }
        if off[0].len() < foot.len() / 4 {
            // too little of the design near the scan: widen the search once more
            cut *= 2.0;
            if cut > FAR {
                return Err(DepthError::NotNear);
            }
            continue;
        }
        let step = Vector3::new(
            median(&mut off[0]),
            median(&mut off[1]),
            median(&mut off[2]),
        );
        delta -= step;
        cut = (cut * 0.7).max(3.0);
        if step.norm() < 1e-4 {
            break;
        }
    }

    // signed by the scan's outward side: pseudo-normals where it is closed, else the nearest
    // face's normal, turned if the scan is wound inside out
    let normals = PseudoNormals::new(&placed).ok();
    let outward = if volume(&placed) < 0.0 { -1.0 } else { 1.0 };
    let mut depth = Vec::with_capacity(design.vertices.len());
    let mut typical = Vec::with_capacity(foot.len());
    for (p, &b) in design.vertices.iter().zip(&base) {
        if b {
            depth.push(f32::NAN);
            continue;
        }
        let q = v3(&(p - delta));
        let Some(h) = bvh.nearest(q) else {
            depth.push(f32::NAN);
            continue;
        };
        let d = h.dist2.sqrt();
        if d > FAR {
            depth.push(f32::NAN);
            continue;
        }
        let n = match &normals {
            Some(n) => n.normal(&h),
            None => {
                let [a, b, c] = placed.triangle(h.triangle as usize);
                let n = (b - a).cross(&(c - a)) * outward;
                [n.x, n.y, n.z]
            }
        };
        let along =
            (q[0] - h.point[0]) * n[0] + (q[1] - h.point[1]) * n[1] + (q[2] - h.point[2]) * n[2];
        typical.push(d);
        depth.push(if along < 0.0 { -d } else { d } as f32);
    }
    let typical = median(&mut typical);
    if typical > 1.0 {
        return Err(DepthError::NoFit(typical));
    }
    let at_scan = depth
        .iter()
        .filter(|d| d.is_finite() && d.abs() <= 0.1)
        .count();
    let with_depth = depth.iter().filter(|d| d.is_finite()).count().max(1);
    Ok(View {
        positions: positions(design),
        triangles: design.triangles.clone(),
        depth: Some(depth),
        note: format!(
            "Colour: the design's depth against the scan it was planned from, in mm (blue pushed \
             in, red built up; grey: the base). {:.0} % of the foot lies within 0.1 mm of the scan.",
            100.0 * at_scan as f64 / with_depth as f64
        ),
    })
}

/// The median (the values are reordered); 0 for none.
fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let mid = v.len() / 2;
    *v.select_nth_unstable_by(mid, f64::total_cmp).1
}

/// Six times the signed volume about the centroid: positive for a closed mesh wound outward,
/// and for an open scan wound so (its opening aside).
fn volume(m: &Mesh) -> f64 {
    let n = m.vertices.len().max(1) as f64;
    let c = m
        .vertices
        .iter()
        .fold(Vector3::zeros(), |s, p| s + p.coords)
        / n;
    m.triangles
        .iter()
        .map(|&[a, b, e]| {
            let [a, b, e] = [a, b, e].map(|i| m.vertices[i as usize].coords - c);
            a.dot(&b.cross(&e))
        })
        .sum()
}

/// The view as sent to the page (see `assets/serve/view3d.js`): "FABV", version 1, the JSON
/// head's length and the head, zero padding to 4 bytes, f32 positions, f32 depths (if any),
/// u32 triangle corners; little-endian.
pub fn encode(v: &View) -> Vec<u8> {
    let head = serde_json::json!({
        "vertices": v.positions.len(),
        "triangles": v.triangles.len(),
        "depth": v.depth.is_some(),
        "note": v.note,
    })
    .to_string();
    let mut out =
        Vec::with_capacity(16 + head.len() + 16 * v.positions.len() + 12 * v.triangles.len());
    out.extend_from_slice(b"FABV");
    out.extend_from_slice(&1u32.to_le_bytes());
    out.extend_from_slice(&(head.len() as u32).to_le_bytes());
    out.extend_from_slice(head.as_bytes());
    while out.len() % 4 != 0 {
        out.push(0);
    }
    for p in &v.positions {
        for c in p {
            out.extend_from_slice(&c.to_le_bytes());
        }
    }
    if let Some(d) = &v.depth {
        for x in d {
            out.extend_from_slice(&x.to_le_bytes());
        }
    }
    for t in &v.triangles {
        for i in t {
            out.extend_from_slice(&i.to_le_bytes());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tetra() -> Mesh {
        Mesh::new(
            vec![
                Point3::new(0.0, 0.0, 0.0),
                Point3::new(1.0, 0.0, 0.0),
                Point3::new(0.0, 1.0, 0.0),
                Point3::new(0.0, 0.0, 1.0),
            ],
            vec![[0, 2, 1], [0, 1, 3], [0, 3, 2], [1, 2, 3]],
        )
    }

    #[test]
    fn the_encoding_is_what_the_viewer_reads() {
        let mut v = plain(&tetra(), "no scan");
        v.depth = Some(vec![0.5, -1.0, f32::NAN, 2.0]);
        let b = encode(&v);
        assert_eq!(&b[..4], b"FABV");
        assert_eq!(u32::from_le_bytes(b[4..8].try_into().unwrap()), 1);
        let len = u32::from_le_bytes(b[8..12].try_into().unwrap()) as usize;
        let head: serde_json::Value = serde_json::from_slice(&b[12..12 + len]).unwrap();
        assert_eq!(head["vertices"], 4);
        assert_eq!(head["triangles"], 4);
        assert_eq!(head["depth"], true);
        let at = (12 + len).div_ceil(4) * 4;
        assert_eq!(b.len(), at + 4 * 3 * 4 + 4 * 4 + 4 * 3 * 4);
        let f = |k: usize| f32::from_le_bytes(b[at + 4 * k..at + 4 * k + 4].try_into().unwrap());
        assert_eq!(f(3), 1.0); // the second vertex's x
        assert_eq!(f(12 + 1), -1.0); // its depth
        assert!(f(12 + 2).is_nan());
    }

    #[test]
    fn the_median_and_the_winding() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut []), 0.0);
        assert!(volume(&tetra()) > 0.0);
        let mut inside_out = tetra();
        for t in &mut inside_out.triangles {
            t.swap(1, 2);
        }
        assert!(volume(&inside_out) < 0.0);
    }
}
