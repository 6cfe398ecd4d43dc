//! The offset on the real fixture scans and on shapes with known answers: accuracy measured with
//! the exact point-to-mesh distance, watertightness, orientation, sides and self-intersections.

use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

use fab_geometry::Mesh;
use fab_geometry::offset::{
    BandSearch, DEFAULT_CELL, OUTWARD_CELL, OffsetError, OffsetMode, OffsetOptions, OffsetReport,
    offset,
};
use fab_geometry::query::{MeshDistance, self_intersections};
use nalgebra::Point3;

/// Loads a fixture scan with stl_io, scaled to mm.
fn fixture(name: &str, to_mm: f64) -> Mesh {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/scans")
        .join(name);
    let mut f = std::fs::File::open(&path).unwrap();
    let m = stl_io::read_stl(&mut f).unwrap();
    Mesh::new(
        m.vertices
            .iter()
            .map(|v| {
                Point3::new(
                    v[0] as f64 * to_mm,
                    v[1] as f64 * to_mm,
                    v[2] as f64 * to_mm,
                )
            })
            .collect(),
        m.faces
            .iter()
            .map(|t| t.vertices.map(|i| i as u32))
            .collect(),
    )
}

/// |dist(p, input) - |D|| at every vertex, every edge midpoint and four interior points of every
/// triangle of `out` (centroid and the three points halfway from it to the corners).
fn errors(input: &MeshDistance, out: &Mesh, d: f64) -> Vec<f64> {
    let r = d.abs();
    let mut pts: Vec<[f64; 3]> = out.vertices.iter().map(|p| [p.x, p.y, p.z]).collect();
    for t in 0..out.triangles.len() {
        let [a, b, c] = out.triangle(t).map(|p| [p.x, p.y, p.z]);
        let bary = |u: f64, v: f64, w: f64| [0, 1, 2].map(|k| u * a[k] + v * b[k] + w * c[k]);
        pts.push(bary(0.5, 0.5, 0.0));
        pts.push(bary(0.0, 0.5, 0.5));
        pts.push(bary(0.5, 0.0, 0.5));
        let third = 1.0 / 3.0;
        pts.push(bary(third, third, third));
        pts.push(bary(4.0 / 6.0, 1.0 / 6.0, 1.0 / 6.0));
        pts.push(bary(1.0 / 6.0, 4.0 / 6.0, 1.0 / 6.0));
        pts.push(bary(1.0 / 6.0, 1.0 / 6.0, 4.0 / 6.0));
    }
    use rayon::prelude::*;
    let mut e: Vec<f64> = pts
        .par_iter()
        .map(|&p| (input.unsigned(p) - r).abs())
        .collect();
    e.sort_by(f64::total_cmp);
    e
}

fn p99(e: &[f64]) -> f64 {
    e[(e.len() as f64 * 0.99) as usize]
}

/// Every edge used by exactly two triangles, in opposite directions.
fn assert_closed_oriented(m: &Mesh) {
    let mut directed: HashMap<(u32, u32), u32> = HashMap::new();
    for t in &m.triangles {
        for k in 0..3 {
            *directed.entry((t[k], t[(k + 1) % 3])).or_default() += 1;
        }
    }
    for (&(a, b), &n) in &directed {
        assert_eq!(n, 1, "edge {a}-{b} used twice in the same direction");
        assert_eq!(
            directed.get(&(b, a)),
            Some(&1),
            "edge {a}-{b} has no opposite"
        );
    }
}

fn volume(m: &Mesh) -> f64 {
    (0..m.triangles.len())
        .map(|t| {
            let [a, b, c] = m.triangle(t);
            a.coords.dot(&b.coords.cross(&c.coords)) / 6.0
        })
        .sum()
}

/// An offset at the default resolution and how far it is from the targets.
struct Measured {
    out: Mesh,
    p99: f64,
    max: f64,
    crossing_pairs: usize,
    /// The offset's own flag that the surface has features where the method can fail (creases
    /// sharper than a right angle, folds): `fab mesh offset` then checks it before writing.
    needs_check: bool,
    report: OffsetReport,
}

impl Measured {
    fn meets_targets(&self) -> bool {
        self.p99 <= 0.02 && self.max <= 0.05 && self.crossing_pairs == 0
    }
}

/// Offsets `input` by `d` at the default resolution and measures it: the error at every vertex,
/// edge midpoint and four interior points per triangle, and the self-intersecting pairs.
fn measure(input: &Mesh, d: f64) -> Measured {
    let t = Instant::now();
    let mut opts = OffsetOptions::new(d);
    // the limb is open: offset as a two-sided sheet (no effect on the closed feet)
    opts.two_sided = true;
    if let Some(c) = std::env::var("FAB_TEST_CELL")
        .ok()
        .and_then(|c| c.parse().ok())
    {
        opts.cell = Some(c);
    }
    if let Some(t) = std::env::var("FAB_TEST_TOL")
        .ok()
        .and_then(|c| c.parse().ok())
    {
        opts.tolerance = t;
    }
    let (out, report) = offset(input, &opts).unwrap();
    let took = t.elapsed();
    let md = MeshDistance::new(input);
    let e = errors(&md, &out, d);
    let (max, p) = (*e.last().unwrap(), p99(&e));
    eprintln!(
        "D={d}: {} triangles in {took:.2?}; error p99 {p:.4} max {max:.4} mm; {report:?}",
        out.triangles.len()
    );
    let x = self_intersections(&out);
    eprintln!(
        "D={d}: {} self-intersecting pairs {:?}",
        x.len(),
        &x[..x.len().min(5)]
    );
    Measured {
        out,
        p99: p,
        max,
        crossing_pairs: x.len(),
        needs_check: report.needs_check(0.05),
        report,
    }
}

/// Offsets `input` by `d` at the default resolution and checks it against the targets:
/// p99 error <= 0.02 mm, max error <= 0.05 mm, closed and consistently oriented, no
/// self-intersecting triangle pairs.
fn check(input: &Mesh, d: f64) -> Measured {
    let m = measure(input, d);
    assert!(m.p99 <= 0.02, "p99 error {} mm > 0.02", m.p99);
    assert!(m.max <= 0.05, "max error {} mm > 0.05", m.max);
    assert_closed_oriented(&m.out);
    assert_eq!(m.crossing_pairs, 0, "self-intersecting triangle pairs");
    m
}

#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "fixture-scale: run with --release (as CI does)"
)]
fn foot_left_outward_3mm() {
    let foot = fixture("foot-left-m.stl", 1000.0);
    let m = check(&foot, 3.0);
    // An ordinary offset: nothing for the command to check unasked, so nothing slows it.
    assert!(!m.needs_check);
    // Outward from a closed scan: made on the coarser default grid, and kept.
    assert_eq!(m.report.cell, OUTWARD_CELL.min(3.0 / 2.0));
    assert_eq!(m.report.coarse_refused, None);
    let c = m.out;
    let md = MeshDistance::new(&foot);
    // Outward: every vertex outside the foot, and the volume grows.
    assert!(
        c.vertices
            .iter()
            .all(|p| md.signed([p.x, p.y, p.z]).unwrap() > 0.0)
    );
    assert!(volume(&c) > volume(&foot));
}

/// An outward offset of a closed scan is first made on the coarser default grid; when that
/// surface is flagged (here: any place refinement could not mend counts, by a `max_error` of
/// 0.1 um), it is made again on the finer one, which meets the targets, and the report says so.
#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "fixture-scale: run with --release (as CI does)"
)]
fn a_flagged_coarse_surface_is_made_again_on_the_finer_grid() {
    let foot = fixture("foot-left-m.stl", 1000.0);
    let mut opts = OffsetOptions::new(3.0);
    let (_, coarse) = offset(&foot, &opts).unwrap();
    assert_eq!(coarse.cell, OUTWARD_CELL.min(3.0 / 2.0));
    assert!(coarse.unsplit_error > 1e-4, "{coarse:?}");
    opts.max_error = 1e-4;
    let (out, report) = offset(&foot, &opts).unwrap();
    assert_eq!(report.cell, DEFAULT_CELL);
    assert_eq!(report.coarse_refused, Some(coarse.cell));
    let e = errors(&MeshDistance::new(&foot), &out, 3.0);
    assert!(p99(&e) <= 0.02 && *e.last().unwrap() <= 0.05);
    assert_closed_oriented(&out);
    // A cell asked for is used as it is, with no second try.
    opts.cell = Some(1.5);
    let (_, report) = offset(&foot, &opts).unwrap();
    assert_eq!((report.cell, report.coarse_refused), (1.5, None));
}

/// A scan far finer than the grid (foot-left with each triangle split into 16, 0.37 mm² each
/// against 2.25 mm² cell faces on the 1.5 mm outward grid) has its band found by tree queries
/// rather than by scan conversion, with the same accuracy; the fixture itself is scan converted.
#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "fixture-scale: run with --release (as CI does)"
)]
fn a_scan_finer_than_the_grid_is_searched_by_the_tree() {
    let foot = fixture("foot-left-m.stl", 1000.0);
    let fine = foot.split4().split4();
    assert_eq!(fine.triangles.len(), 16 * foot.triangles.len());
    let m = check(&fine, 3.0);
    assert_eq!(m.report.band_search, BandSearch::Tree);
    assert!(!m.needs_check);
    let (_, report) = offset(&foot, &OffsetOptions::new(3.0)).unwrap();
    assert_eq!(report.band_search, BandSearch::Scan);
}

#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "fixture-scale: run with --release (as CI does)"
)]
fn foot_right_inward_3mm() {
    let foot = fixture("foot-right-m.stl", 1000.0);
    let m = check(&foot, -3.0);
    assert!(!m.needs_check);
    // Inward: creases along every convex ridge, so the finer default grid.
    assert_eq!(m.report.cell, DEFAULT_CELL);
    let c = m.out;
    let md = MeshDistance::new(&foot);
    assert!(
        c.vertices
            .iter()
            .all(|p| md.signed([p.x, p.y, p.z]).unwrap() < 0.0)
    );
    assert!(volume(&c) < volume(&foot) && volume(&c) > 0.0);
}

/// Inward by more than a feature is half thick: at 7 mm the toes thin to blades whose rims are
/// creases sharper than a right angle (the two faces' normals more than 90 degrees apart). A
/// naive offset folds over there; this one must follow the rims.
#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "fixture-scale: run with --release (as CI does)"
)]
fn inward_deeper_than_the_toes_are_half_thick() {
    let left = fixture("foot-left-m.stl", 1000.0);
    let right = fixture("foot-right-m.stl", 1000.0);
    for foot in [&left, &right] {
        let m = check(foot, -7.0);
        assert!(volume(&m.out) < volume(foot) && volume(&m.out) > 0.0);
        // The surface says it has sharp rims, so `fab mesh offset` measures it before writing.
        assert!(m.needs_check);
    }
}

/// Deeper still (8 and 10 mm in), the toes' blades get thinner than the triangles and the
/// surface can miss the targets there (a known limit, see the offset module's documentation).
/// Wherever it does, the offset must flag it, so that `fab mesh offset` checks it and refuses to
/// write it instead of handing on a surface that is off or crosses itself.
#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "fixture-scale: run with --release (as CI does)"
)]
fn a_surface_that_misses_the_targets_is_flagged() {
    let left = fixture("foot-left-m.stl", 1000.0);
    let right = fixture("foot-right-m.stl", 1000.0);
    let mut missed = 0;
    for foot in [&left, &right] {
        for d in [-8.0, -10.0] {
            let m = measure(foot, d);
            assert_closed_oriented(&m.out);
            if !m.meets_targets() {
                missed += 1;
                assert!(m.needs_check, "D = {d}: missed the targets, not flagged");
            }
        }
    }
    eprintln!("{missed} of 4 deep inward offsets missed the targets (all flagged)");
}

#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "fixture-scale: run with --release (as CI does)"
)]
fn open_limb_is_offset_as_a_two_sided_sheet() {
    let limb = fixture("limb-transtibial.stl", 1.0);
    let mut opts = OffsetOptions::new(3.0);
    opts.two_sided = true;
    let (_, report) = offset(&limb, &opts).unwrap();
    assert!(matches!(report.mode, OffsetMode::Sheet { boundary_edges } if boundary_edges > 0));
    // Open: the faceted rim needs the finer default grid, also outward.
    assert_eq!(report.cell, DEFAULT_CELL);
    // The targets, also at the creases of the jagged open rim.
    // An ordinary offset too (its rim creases are not sharper than a right angle).
    assert!(!check(&limb, 3.0).needs_check);
    // And at other distances, where other corners of the rim meet the grid.
    check(&limb, 2.0);
    check(&limb, 4.5);
}

/// An open mesh has no inside: an outward or inward offset of it is refused, and a two-sided
/// sheet takes a positive distance only, so `+D` and `-D` never give the same surface.
#[test]
fn an_open_mesh_is_refused_unless_a_two_sided_sheet_is_asked_for() {
    // a cube without its top: open along four edges
    let mut open = cube(10.0);
    open.triangles.truncate(open.triangles.len() - 2);
    for d in [2.0, -2.0] {
        let e = offset(&open, &OffsetOptions::new(d)).unwrap_err();
        assert!(matches!(e, OffsetError::Open(_)), "{e}");
        let text = e.to_string();
        assert!(
            text.contains("open") && text.contains("close the scan first"),
            "{text}"
        );
    }
    let mut opts = OffsetOptions::new(-2.0);
    opts.two_sided = true;
    assert_eq!(
        offset(&open, &opts).unwrap_err(),
        OffsetError::TwoSidedInward(-2.0)
    );
    opts.distance = 2.0;
    let (sheet, report) = offset(&open, &opts).unwrap();
    assert!(matches!(
        report.mode,
        OffsetMode::Sheet { boundary_edges: 4 }
    ));
    assert!(!sheet.triangles.is_empty());
    // no effect on a closed mesh: +D and -D are the outward and inward solids
    let mut o = OffsetOptions::new(2.0);
    o.two_sided = true;
    let out = offset(&cube(10.0), &o).unwrap().0;
    o.distance = -2.0;
    let inn = offset(&cube(10.0), &o).unwrap().0;
    assert!(volume(&out) > 1000.0 && volume(&inn) < 1000.0);
}

#[test]
fn a_tolerance_refinement_cannot_meet_is_refused() {
    let c = cube(10.0);
    for t in [0.0, 1e-9, -0.01, f64::NAN, f64::INFINITY, 2.0] {
        let mut o = OffsetOptions::new(1.0);
        o.tolerance = t;
        let e = offset(&c, &o).unwrap_err();
        assert!(matches!(e, OffsetError::BadTolerance(_)), "{t}: {e}");
        assert!(e.to_string().contains("from 0.001 to 1 mm"), "{e}");
    }
    for m in [0.0, -1.0, f64::NAN] {
        let mut o = OffsetOptions::new(1.0);
        o.max_error = m;
        assert!(matches!(offset(&c, &o), Err(OffsetError::BadMaxError(_))));
    }
    // the ends of the range are taken
    for t in [0.001, 1.0] {
        let mut o = OffsetOptions::new(1.0);
        o.tolerance = t;
        assert!(offset(&c, &o).is_ok(), "{t}");
    }
}

/// An axis-aligned cube of side `s` at the origin, outward triangles.
fn cube(s: f64) -> Mesh {
    let v = (0..8)
        .map(|i| {
            Point3::new(
                (i & 1) as f64 * s,
                ((i >> 1) & 1) as f64 * s,
                ((i >> 2) & 1) as f64 * s,
            )
        })
        .collect();
    let quads = [
        [0, 2, 3, 1],
        [4, 5, 7, 6],
        [0, 1, 5, 4],
        [2, 6, 7, 3],
        [0, 4, 6, 2],
        [1, 3, 7, 5],
    ];
    let t = quads
        .iter()
        .flat_map(|q: &[u32; 4]| [[q[0], q[1], q[2]], [q[0], q[2], q[3]]])
        .collect();
    Mesh::new(v, t)
}

#[test]
fn cube_outward_is_the_rounded_minkowski_sum() {
    let (s, r) = (20.0, 2.0);
    let c = check(&cube(s), r).out;
    let pi = std::f64::consts::PI;
    let exact = s * s * s + 6.0 * s * s * r + 3.0 * pi * s * r * r + 4.0 / 3.0 * pi * r * r * r;
    let v = volume(&c);
    assert!((v - exact).abs() / exact < 2e-3, "volume {v} vs {exact}");
}

#[test]
fn cube_inward_keeps_sharp_edges_and_thin_parts_vanish() {
    let (s, r) = (20.0, 2.0);
    // Sharp 90-degree edges and corners, where three faces meet.
    let c = check(&cube(s), -r).out;
    let inner = s - 2.0 * r;
    let v = volume(&c);
    assert!(
        (v - inner.powi(3)).abs() / inner.powi(3) < 2e-3,
        "volume {v}"
    );
    // Inward by more than half the thickness: nothing is left, and the error says so.
    assert!(matches!(
        offset(&cube(4.0), &OffsetOptions::new(-2.5)),
        Err(OffsetError::Vanished(_))
    ));
}

#[test]
fn bad_options_are_refused() {
    let c = cube(10.0);
    assert!(matches!(
        offset(&c, &OffsetOptions::new(0.0)),
        Err(OffsetError::BadDistance(_))
    ));
    assert!(matches!(
        offset(&c, &OffsetOptions::new(f64::NAN)),
        Err(OffsetError::BadDistance(_))
    ));
    for d in [f64::INFINITY, -201.0, 1e300] {
        let e = offset(&c, &OffsetOptions::new(d)).unwrap_err();
        assert!(e.to_string().contains("from -200 to 200"), "{e}");
    }
    assert!(matches!(
        offset(&Mesh::default(), &OffsetOptions::new(1.0)),
        Err(OffsetError::Empty)
    ));
    let mut o = OffsetOptions::new(1.0);
    o.cell = Some(0.0001);
    assert!(matches!(offset(&c, &o), Err(OffsetError::TooFine { .. })));
    for cell in [0.0, -1.0, f64::NAN, 5.5, 1e300] {
        o.cell = Some(cell);
        assert!(
            matches!(offset(&c, &o), Err(OffsetError::BadCell(_))),
            "{cell}"
        );
    }
}

/// `mesh` turned by `angle` (radians) about `axis` and moved off the grid by a fraction of a
/// cell.
fn turned(mesh: &Mesh, axis: [f64; 3], angle: f64) -> Mesh {
    let r = nalgebra::Rotation3::from_axis_angle(
        &nalgebra::Unit::new_normalize(nalgebra::Vector3::new(axis[0], axis[1], axis[2])),
        angle,
    );
    Mesh::new(
        mesh.vertices
            .iter()
            .map(|p| r * p + nalgebra::Vector3::new(0.37, -0.21, 0.13))
            .collect(),
        mesh.triangles.clone(),
    )
}

/// The grid is axis-aligned, so the same foot in other poses meets other cells, creases and
/// ambiguous cases; a scan arrives in any pose. Every pose meets the targets.
#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "fixture-scale: run with --release (as CI does)"
)]
fn foot_in_other_poses() {
    let left = fixture("foot-left-m.stl", 1000.0);
    let right = fixture("foot-right-m.stl", 1000.0);
    for (foot, axis, angle, d) in [
        (&left, [1.0, 2.0, 3.0], 0.7, 3.0),
        (&left, [-2.0, 1.0, 0.5], 2.1, -3.0),
        (&left, [0.3, -1.0, 1.0], 4.0, 2.0),
        (&left, [0.0, 1.0, 0.0], 0.3, -2.0),
        (&left, [1.0, 1.0, 1.0], 0.5, -2.0),
        (&right, [-0.3, 0.2, 1.0], 2.6, -4.0),
    ] {
        check(&turned(foot, axis, angle), d);
    }
}

/// A scan arrives in any pose: both feet and the limb turned seven ways, at distances from 1.5 to
/// 8 mm out and 2 to 4 mm in, 90 offsets, each held to the targets. Slow (minutes): run it on
/// demand with `cargo test --release -p fab-geometry --test offset -- --ignored`.
#[test]
#[ignore = "a slow sweep (90 offsets), run on demand"]
fn sweep_of_poses_and_distances() {
    let left = fixture("foot-left-m.stl", 1000.0);
    let right = fixture("foot-right-m.stl", 1000.0);
    let limb = fixture("limb-transtibial.stl", 1.0);
    let poses: [([f64; 3], f64); 7] = [
        ([0.1, 0.7, -0.4], 1.1),
        ([1.0, 1.0, 1.0], 0.5),
        ([-0.3, 0.2, 1.0], 2.6),
        ([0.8, -0.5, 0.1], 3.3),
        ([0.2, 0.9, 0.3], 5.1),
        ([1.0, 0.0, 0.0], std::f64::consts::FRAC_PI_2),
        ([0.0, 0.0, 1.0], std::f64::consts::FRAC_PI_4),
    ];
    let mut cases = Vec::new();
    for &(axis, angle) in &poses {
        for d in [2.0, -2.0, 3.5, -4.0, 6.0] {
            cases.push(("foot-left", &left, axis, angle, d));
            cases.push(("foot-right", &right, axis, angle, d));
        }
    }
    for &(axis, angle) in &poses[..4] {
        for d in [1.5, 2.5, 3.0, 5.0, 8.0] {
            cases.push(("limb", &limb, axis, angle, d));
        }
    }
    let mut failed = Vec::new();
    for (name, mesh, axis, angle, d) in cases {
        let m = measure(&turned(mesh, axis, angle), d);
        assert_closed_oriented(&m.out);
        // Whatever misses the targets must at least be flagged (so the command checks it).
        if m.p99 > 0.02
            || m.max > 0.05
            || m.crossing_pairs > 0
            || (!m.meets_targets() && !m.needs_check)
        {
            failed.push(format!(
                "{name} turned {angle} about {axis:?}, D = {d}: p99 {:.4} max {:.4} mm, {} crossing pairs, flagged {}",
                m.p99, m.max, m.crossing_pairs, m.needs_check
            ));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}
