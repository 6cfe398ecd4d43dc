//! The offset sweep issue 24 asks for: every offset from -5 to +5 mm of every closed fixture, and
//! of stress variants made from them (turned, subdivided, noisy), held to fab's own check (what
//! `fab mesh offset --check` requires: max distance error 0.05 mm, no vertex on the wrong side,
//! closed, no crossing triangles). Not yet met everywhere, so it runs on demand and prints every
//! case, passing or not:
//! `cargo test --release -p fab-geometry --test offset_sweep -- --ignored --nocapture`
//! (about 4 minutes on 2 cores).
//!
//! At 5a05d8b: 78 of 80 pass (both feet as loaded, turned, subdivided, with 0.1 mm noise, at
//! +-1..5 mm; the limb is open and left out). Failing: foot-left turned D=-4 (max 0.054 mm) and
//! foot-right with noise D=-2 (max 0.067 mm), both inward, both single places over the 0.05 mm
//! target with p99 near 0.015 mm and nothing crossing; both flagged
//! ([`fab_geometry::offset::OffsetReport::needs_check`]), so `fab mesh offset` checks and refuses
//! them rather than writing them. The subdivided feet give the same
//! surfaces as the feet (midpoint subdivision leaves the distance field as it was).
//! Variants still to add: decimated to phone-scan density, toes pulled apart or sharpened (the
//! scan issue 24 reports, with toes apart, failing at +3, -3 and +5 mm, is not a fixture).

use std::path::Path;
use std::time::Instant;

use fab_geometry::Mesh;
use fab_geometry::load::{Units, load_path};
use fab_geometry::offset::{self, MAX_ERROR, OffsetOptions};
use nalgebra::{Point3, Rotation3, Unit, Vector3};

fn fixture(name: &str) -> Mesh {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/scans")
        .join(name);
    load_path(&path, Units::Auto).unwrap().mesh
}

/// `mesh` turned by `angle` radians about `axis`, moved off the grid by a fraction of a cell.
fn turned(mesh: &Mesh, axis: [f64; 3], angle: f64) -> Mesh {
    let r = Rotation3::from_axis_angle(
        &Unit::new_normalize(Vector3::new(axis[0], axis[1], axis[2])),
        angle,
    );
    Mesh::new(
        mesh.vertices
            .iter()
            .map(|p| r * p + Vector3::new(0.37, -0.21, 0.13))
            .collect(),
        mesh.triangles.clone(),
    )
}

/// Each triangle split into four at its edge midpoints (shared, so the mesh stays closed): a
/// scan four times as dense, its triangles much smaller than the grid's cells.
fn subdivided(mesh: &Mesh) -> Mesh {
    let mut v = mesh.vertices.clone();
    let mut mid = std::collections::HashMap::new();
    let mut at = |a: u32, b: u32, v: &mut Vec<Point3<f64>>| -> u32 {
        *mid.entry((a.min(b), a.max(b))).or_insert_with(|| {
            let p = nalgebra::center(&v[a as usize], &v[b as usize]);
            v.push(p);
            (v.len() - 1) as u32
        })
    };
    let mut t = Vec::with_capacity(mesh.triangles.len() * 4);
    for &[a, b, c] in &mesh.triangles {
        let (ab, bc, ca) = (at(a, b, &mut v), at(b, c, &mut v), at(c, a, &mut v));
        t.extend([[a, ab, ca], [ab, b, bc], [ca, bc, c], [ab, bc, ca]]);
    }
    Mesh::new(v, t)
}

/// Every vertex moved by up to `amp` mm along each axis (a fixed pseudo-random sequence): scanner
/// noise.
fn noisy(mesh: &Mesh, amp: f64) -> Mesh {
    let mut s: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    };
    Mesh::new(
        mesh.vertices
            .iter()
            .map(|p| p + Vector3::new(next(), next(), next()) * amp)
            .collect(),
        mesh.triangles.clone(),
    )
}

#[test]
#[ignore = "the offset sweep of issue 24: not yet met on every variant; run on demand"]
fn every_offset_from_minus_5_to_plus_5_of_every_closed_fixture() {
    let mut scans = Vec::new();
    for name in [
        "foot-left-m.stl",
        "foot-right-m.stl",
        "limb-transtibial.stl",
    ] {
        let m = fixture(name);
        if fab_geometry::query::check_closed(&m).is_err() {
            eprintln!("{name}: open, left out (an open scan has no outward or inward offset)");
            continue;
        }
        scans.push((name.to_string(), m));
    }
    let mut cases = Vec::new();
    for (name, m) in &scans {
        cases.push((name.clone(), m.clone()));
        cases.push((format!("{name} turned"), turned(m, [0.3, 0.8, -0.5], 2.2)));
        cases.push((format!("{name} subdivided"), subdivided(m)));
        cases.push((format!("{name} noise 0.1 mm"), noisy(m, 0.1)));
    }
    let mut failed = Vec::new();
    let mut total = 0;
    for (name, m) in &cases {
        for d in [-5.0, -4.0, -3.0, -2.0, -1.0, 1.0, 2.0, 3.0, 4.0, 5.0] {
            total += 1;
            let t = Instant::now();
            let line = match offset::offset(m, &OffsetOptions::new(d)) {
                Err(e) => format!("refused: {e}"),
                Ok((out, report)) => {
                    let c = offset::check(m, &out, d);
                    let ok = c.max <= MAX_ERROR
                        && c.wrong_side.unwrap_or(0) == 0
                        && c.closed
                        && c.crossing_pairs == 0;
                    let line = format!(
                        "max {:.4} mm at {:.1?}, p99 {:.4}, wrong side {:?}, closed {}, crossing {}, \
                         flagged for the check {}",
                        c.max,
                        c.worst_at,
                        c.p99,
                        c.wrong_side,
                        c.closed,
                        c.crossing_pairs,
                        report.needs_check(MAX_ERROR)
                    );
                    if ok {
                        eprintln!("pass {name} D={d}: {line} ({:.1?})", t.elapsed());
                        continue;
                    }
                    line
                }
            };
            eprintln!("FAIL {name} D={d}: {line} ({:.1?})", t.elapsed());
            failed.push(format!("{name} D={d}: {line}"));
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {total} offsets fail fab's own check:\n{}",
        failed.len(),
        failed.join("\n")
    );
}
