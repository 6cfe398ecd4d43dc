//! An independent check of an offset surface against its input: exact distances at sample points
//! of every output triangle, which side of a closed input it lies on, closedness and
//! self-intersections. It shares nothing with the construction but the exact queries
//! ([`crate::query`]): its own tree over the input, its own sample points.

use rayon::prelude::*;

use crate::Mesh;
use crate::query::{MeshDistance, V3, check_closed, self_intersections};

/// Where an offset is measured on each output triangle: its corners, edge midpoints, centroid,
/// and the three points halfway from the centroid to the corners (barycentric weights).
const SAMPLES: [[f64; 3]; 8] = [
    [1.0, 0.0, 0.0],
    [0.5, 0.5, 0.0],
    [0.0, 0.5, 0.5],
    [0.5, 0.0, 0.5],
    [1.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0],
    [4.0 / 6.0, 1.0 / 6.0, 1.0 / 6.0],
    [1.0 / 6.0, 4.0 / 6.0, 1.0 / 6.0],
    [1.0 / 6.0, 1.0 / 6.0, 4.0 / 6.0],
];

/// What [`check`] measured.
#[derive(Clone, Debug, PartialEq)]
pub struct OffsetCheck {
    /// Points measured (8 per output triangle; corners shared between triangles count each
    /// time).
    pub samples: usize,
    /// 99th percentile of `| dist(p, input) - |D| |`, mm.
    pub p99: f64,
    /// Largest error, mm, and where.
    pub max: f64,
    pub worst_at: V3,
    /// Output vertices on the wrong side of a closed input (inside for `D > 0`, outside for
    /// `D < 0`); `None` for an open input (a two-sided sheet has no wrong side).
    pub wrong_side: Option<usize>,
    /// Every edge shared by exactly two triangles, in opposite directions.
    pub closed: bool,
    /// Pairs of output triangles that cross each other.
    pub crossing_pairs: usize,
}

/// Measures `output` as the offset of `input` by `distance` mm (see [`OffsetCheck`]).
pub fn check(input: &Mesh, output: &Mesh, distance: f64) -> OffsetCheck {
    let radius = distance.abs();
    let md = &MeshDistance::new(input);
    // Sample `i` is weight `i % 8` of triangle `i / 8`.
    let sample = |i: usize| -> V3 {
        let [a, b, c] = output.triangle(i / 8).map(|p| [p.x, p.y, p.z]);
        let w = SAMPLES[i % 8];
        [0, 1, 2].map(|k| w[0] * a[k] + w[1] * b[k] + w[2] * c[k])
    };
    let (mut errors, (closed, crossing_pairs)) = rayon::join(
        || {
            (0..8 * output.triangles.len())
                .into_par_iter()
                .map(|i| (md.unsigned(sample(i)) - radius).abs())
                .collect::<Vec<f64>>()
        },
        || {
            (
                check_closed(output).is_ok(),
                self_intersections(output).len(),
            )
        },
    );
    let (worst, max) = errors
        .iter()
        .copied()
        .enumerate()
        .fold((0, 0.0), |m, (i, e)| if e > m.1 { (i, e) } else { m });
    let worst_at = if errors.is_empty() {
        [0.0; 3]
    } else {
        sample(worst)
    };
    let samples = errors.len();
    let p99 = if errors.is_empty() {
        0.0
    } else {
        let k = (samples * 99 / 100).min(samples - 1);
        *errors.select_nth_unstable_by(k, f64::total_cmp).1
    };
    let wrong_side = md.is_closed().then(|| {
        output
            .vertices
            .par_iter()
            .filter(|p| {
                md.signed([p.x, p.y, p.z])
                    .is_some_and(|s| s * distance.signum() <= 0.0)
            })
            .count()
    });
    OffsetCheck {
        samples,
        p99,
        max,
        worst_at,
        wrong_side,
        closed,
        crossing_pairs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::Point3;

    fn tetra(s: f64) -> Mesh {
        let v = vec![
            Point3::new(0.0, 0.0, 0.0),
            Point3::new(s, 0.0, 0.0),
            Point3::new(0.0, s, 0.0),
            Point3::new(0.0, 0.0, s),
        ];
        Mesh::new(v, vec![[0, 2, 1], [0, 1, 3], [0, 3, 2], [1, 2, 3]])
    }

    #[test]
    fn the_input_itself_is_no_offset_and_the_check_says_how_far() {
        // The input itself as its own "offset" by 1 mm: every point is 0 from the input, so the
        // error is 1 mm everywhere, and its vertices lie on the input (the wrong side for D > 0).
        let t = tetra(10.0);
        let c = check(&t, &t, 1.0);
        assert_eq!(c.samples, 32);
        assert!((c.max - 1.0).abs() < 1e-12 && (c.p99 - 1.0).abs() < 1e-12);
        assert_eq!(c.wrong_side, Some(4));
        assert!(c.closed);
        assert_eq!(c.crossing_pairs, 0);
    }

    #[test]
    fn the_real_offset_of_a_tetrahedron_passes() {
        let t = tetra(10.0);
        let (out, _) = super::super::offset(&t, &super::super::OffsetOptions::new(1.5)).unwrap();
        let c = check(&t, &out, 1.5);
        assert!(c.max <= 0.05 && c.p99 <= 0.02, "{c:?}");
        assert_eq!(c.wrong_side, Some(0));
        assert!(c.closed);
        assert_eq!(c.crossing_pairs, 0);
        // An open input (one face removed) has no sides.
        let open = Mesh::new(t.vertices.clone(), t.triangles[..3].to_vec());
        assert_eq!(check(&open, &out, 1.5).wrong_side, None);
    }
}
