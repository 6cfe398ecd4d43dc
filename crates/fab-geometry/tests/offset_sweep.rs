//! The offset sweep issue 24 asks for: offsets from -5 to +5 mm of every closed fixture and of
//! stress variants made from them, each held to fab's own check (what `fab mesh offset --check`
//! requires: max distance error [`MAX_ERROR`] = 0.05 mm over 8 points of every output triangle,
//! no vertex on the wrong side, closed, no crossing triangles).
//!
//! The closed fixtures are the two feet (loaded from metres into mm) and the socket positive
//! laid out from the limb scan ([`fab_geometry::socket::socket_positive`]: the scan is open at
//! its cut, the positive closes it with a stem and a flat end face). Each foot is swept as
//! loaded and as eight variants ([`variants`]):
//! - turned: rotated about a skew axis and moved off the grid by a fraction of a cell;
//! - subdivided: every triangle split into four (a scan four times as dense);
//! - noise: every vertex moved by up to 0.1 mm along each axis (scanner noise);
//! - decimated: shortest edges collapsed until a quarter of the triangles are left (about
//!   3 200, mean edge ~8 mm: a coarse export of a phone scanning app, every facet a crease);
//! - toes apart: subdivided, then a cleft 10 mm deep pulled in between each two toes from the
//!   front (a bottom of 1.6 mm radius, 9 mm wide halfway down: the toes stand apart, and the
//!   offsets of a cleft's two walls meet in a valley sharper than a right angle from +3 mm);
//! - toes apart, narrow clefts: the same, 12 mm deep, narrowing to a bottom of about 1 mm
//!   radius (7.5 mm wide halfway down);
//! - toes sharpened: subdivided, then each toe tip drawn forward 8 mm into a point of ~1 mm
//!   radius (sharp convex ridges: creases and thin blades inward).
//!
//! Each deformation is a smooth map of space with a positive Jacobian, so the variants stay
//! closed and free of crossings (asserted before sweeping).
//!
//! Two tests:
//! - [`every_variant_in_a_reduced_sweep`] runs in CI (`cargo test --release`): every variant at
//!   one distance inward and one outward from 2 to 5 mm, taken in turn so that each falls to
//!   three or four variants, the decimated feet at -1 and +1 mm, and the sharpened toes where
//!   they once failed (38 offsets: 74 s on 2 cores with the whole sweep running beside it,
//!   2026-12-07).
//! - [`every_offset_from_minus_5_to_plus_5_of_every_closed_fixture`] is the whole sweep, every
//!   variant at every whole millimetre (170 offsets: 4 min 30 s the same way, 2026-12-07),
//!   ignored in CI:
//!   `cargo test --release -p fab-geometry --test offset_sweep -- --ignored --nocapture`.
//!
//! Both pass every offset.
//!
//! Both print every case, passing or not, with `--nocapture`.

mod sweep;

use std::time::Instant;

use fab_geometry::Mesh;
use fab_geometry::offset::{self, MAX_ERROR, OffsetOptions};
use sweep::variants;

/// Offsets `m` by `d` and checks the result: whether it passed, and how it came out, in a line.
fn one(name: &str, m: &Mesh, d: f64) -> (bool, String) {
    let t = Instant::now();
    let (out, report) = match offset::offset(m, &OffsetOptions::new(d)) {
        Ok(r) => r,
        Err(e) => return (false, format!("{name} D={d}: refused: {e}")),
    };
    let c = offset::check(m, &out, d);
    let ok =
        c.max <= MAX_ERROR && c.wrong_side.unwrap_or(0) == 0 && c.closed && c.crossing_pairs == 0;
    let flagged = report.needs_check(MAX_ERROR);
    let line = format!(
        "{name} D={d}: max {:.4} mm at {:.1?}, p99 {:.4}, wrong side {:?}, closed {}, crossing {}, \
         flagged for the check {flagged}, {} triangles ({:.1?})",
        c.max,
        c.worst_at,
        c.p99,
        c.wrong_side,
        c.closed,
        c.crossing_pairs,
        out.triangles.len(),
        t.elapsed()
    );
    (ok, line)
}

/// Runs every `(variant, distances)`; fails listing every case that fails the check.
fn sweep(cases: &[(String, Mesh, Vec<f64>)]) {
    let mut failed = Vec::new();
    let mut total = 0;
    let clock = Instant::now();
    for (name, m, ds) in cases {
        for &d in ds {
            total += 1;
            match one(name, m, d) {
                (true, line) => eprintln!("pass {line}"),
                (false, line) => {
                    eprintln!("FAIL {line}");
                    failed.push(line);
                }
            }
        }
    }
    eprintln!("{total} offsets in {:.1?}", clock.elapsed());
    assert!(
        failed.is_empty(),
        "{} of {total} offsets fail fab's own check:\n{}",
        failed.len(),
        failed.join("\n")
    );
}

/// The CI sweep: every variant at one distance inward and one outward, from 2 to 5 mm, taken in
/// turn so that each of those distances falls to three or four variants; and the two decimated
/// feet at -1 and +1 mm as well (a 1 mm offset is made on a 0.5 mm grid: some 800 000 triangles
/// whatever the input, so only two of them), and the sharpened toes where they once failed.
#[test]
fn every_variant_in_a_reduced_sweep() {
    let cases: Vec<(String, Mesh, Vec<f64>)> = variants()
        .into_iter()
        .enumerate()
        .map(|(i, (name, m))| {
            let mut ds = vec![-2.0 - (i % 4) as f64, 2.0 + ((i + 2) % 4) as f64];
            if name == "foot-left decimated" {
                ds.push(-1.0);
            }
            if name == "foot-right decimated" {
                ds.push(1.0);
            }
            // the offsets that once kept a crossing pair or a place 0.0502 mm off
            if name == "foot-left toes sharpened" {
                ds.extend([-4.0, -2.0]);
            }
            if name == "foot-right toes sharpened" {
                ds.push(-5.0);
            }
            ds.sort_by(f64::total_cmp);
            ds.dedup();
            (name, m, ds)
        })
        .collect();
    // every whole millimetre from -5 to +5 is taken
    for d in [-5.0, -4.0, -3.0, -2.0, -1.0, 1.0, 2.0, 3.0, 4.0, 5.0] {
        assert!(cases.iter().any(|c| c.2.contains(&d)), "{d}");
    }
    sweep(&cases);
}

#[test]
#[ignore = "the whole offset sweep of issue 24 (~7 minutes on 2 cores); run on demand"]
fn every_offset_from_minus_5_to_plus_5_of_every_closed_fixture() {
    let ds = vec![-5.0, -4.0, -3.0, -2.0, -1.0, 1.0, 2.0, 3.0, 4.0, 5.0];
    let cases: Vec<(String, Mesh, Vec<f64>)> = variants()
        .into_iter()
        .map(|(name, m)| (name, m, ds.clone()))
        .collect();
    sweep(&cases);
}
