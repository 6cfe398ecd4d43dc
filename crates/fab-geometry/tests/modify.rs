//! Each rectification operation measured on the fixture scans.

mod common;

use fab_geometry::modify::{self, FootPart, FootRegion, Op, Region};
use fab_geometry::orient::{self, FootSide};
use fab_geometry::{Mesh, measure, nearest, topology};
use nalgebra::{Point3, Vector3};

fn lab_foot(name: &str) -> (Mesh, FootSide) {
    let m = common::load(name).mesh;
    let f = orient::foot(&m).unwrap();
    (f.apply(&m), f.side)
}

fn volume(m: &Mesh) -> f64 {
    (0..m.triangles.len())
        .map(|t| {
            let [a, b, c] = m.triangle(t);
            a.coords.dot(&b.coords.cross(&c.coords)) / 6.0
        })
        .sum()
}

#[test]
fn four_percent_reduction_makes_circumferences_four_percent_smaller() {
    let limb = common::load("limb-transtibial.stl").mesh;
    let before = measure::limb(&limb, &[], None).unwrap();
    let mut m = limb.clone();
    let op = Op::RadialScale {
        factor: 0.96,
        point: before.distal_end,
        direction: before.axis,
    };
    modify::apply(&mut m, &[op]).unwrap();
    let at: Vec<f64> = before.circumferences.iter().map(|c| c.0).collect();
    // measured along the original axis: the scaled limb keeps it
    let after = measure::limb(&m, &at, None).unwrap();
    assert!((after.length - before.length).abs() < 0.5);
    for ((d, c0), (_, c1)) in before.circumferences.iter().zip(&after.circumferences) {
        let ratio = c1 / c0;
        assert!(
            (ratio - 0.96).abs() < 0.002 * 0.96,
            "at {d} mm: {c0:.2} -> {c1:.2} ({ratio:.5})"
        );
    }
    let vr = after.volume / before.volume;
    assert!((vr - 0.96 * 0.96).abs() < 0.01, "volume ratio {vr}");
}

/// A point on the limb surface that is not a vertex: inside a triangle at mid-height, anterior.
fn landmark_on(limb: &Mesh) -> Point3<f64> {
    let lm = measure::limb(limb, &[], None).unwrap();
    let guess = lm.distal() + lm.axis() * (0.6 * lm.length) + lm.anterior() * 80.0;
    let (t, _, _, _) = nearest::on_mesh(limb, &guess).unwrap();
    let [a, b, c] = limb.triangle(t);
    Point3::from(a.coords * 0.2 + b.coords * 0.3 + c.coords * 0.5)
}

fn check_displacement(depth: f64) {
    let limb = common::load("limb-transtibial.stl").mesh;
    let centre = landmark_on(&limb);
    let radius = 25.0;
    let mut m = limb.clone();
    let op = Op::Displace {
        region: Region::Sphere {
            centre: centre.coords.into(),
            radius,
        },
        depth,
    };
    modify::apply(&mut m, &[op]).unwrap();
    // at the landmark the surface moved |depth|
    let moved = nearest::distance(&m, &centre);
    assert!(
        (moved - depth.abs()).abs() < 0.05,
        "moved {moved} at the landmark"
    );
    // and the right way: outward for a relief
    let normals = modify::vertex_normals(&limb);
    let (t, _, _, _) = nearest::on_mesh(&limb, &centre).unwrap();
    let n: Vector3<f64> = limb.triangles[t]
        .iter()
        .map(|&v| normals[v as usize])
        .sum::<Vector3<f64>>()
        .normalize();
    let probe = centre + n * depth;
    assert!(nearest::distance(&m, &probe) < 0.05);
    // outside the radius nothing moved (original surface points, sampled)
    let mut worst: f64 = 0.0;
    for (i, p) in limb.vertices.iter().enumerate().step_by(7) {
        if (p - centre).norm() > radius {
            worst = worst.max(nearest::distance(&m, p));
        }
        let _ = i;
    }
    assert!(worst < 0.05, "surface outside the radius moved {worst}");
    // inside, nothing moved more than the depth
    let max_move = limb
        .vertices
        .iter()
        .zip(&m.vertices)
        .map(|(a, b)| (a - b).norm())
        .fold(0.0, f64::max);
    assert!(max_move <= depth.abs() + 1e-9);
    assert!(topology::report(&m).inconsistent_edges == 0);
}

#[test]
fn three_mm_relief_moves_the_surface_three_mm_at_the_landmark_only() {
    check_displacement(3.0);
}

#[test]
fn three_mm_load_pushes_the_surface_in_three_mm() {
    check_displacement(-3.0);
}

#[test]
fn arch_fill_lowers_the_medial_arch_by_its_fraction() {
    let (lab, side) = lab_foot("foot-left-m.stl");
    let before = measure::foot(&lab).arch_height;
    let mut m = lab.clone();
    modify::apply(
        &mut m,
        &[Op::ArchFill {
            side,
            fraction: 0.5,
        }],
    )
    .unwrap();
    let after = measure::foot(&m).arch_height;
    eprintln!("arch {before:.2} -> {after:.2}");
    assert!(
        after < 0.65 * before && after > 0.35 * before,
        "{before} -> {after}"
    );
    // nothing moves up, nothing below the floor, the heel and toes untouched
    for (a, b) in lab.vertices.iter().zip(&m.vertices) {
        assert!(b.z <= a.z + 1e-12 && b.z >= a.z.min(0.0));
        if a.y < 0.2 * 275.0 || a.y > 0.7 * 275.0 {
            assert_eq!(a, b);
        }
    }
}

#[test]
fn met_pad_is_a_dome_of_the_given_height() {
    let (lab, side) = lab_foot("foot-right-m.stl");
    let mut m = lab.clone();
    modify::apply(&mut m, &[Op::MetPad { side, height: 5.0 }]).unwrap();
    let c = modify::met_pad_centre(&lab, side);
    let rise: Vec<(f64, f64)> = lab
        .vertices
        .iter()
        .zip(&m.vertices)
        .map(|(a, b)| {
            (
                ((a.x - c[0]).powi(2) + (a.y - c[1]).powi(2)).sqrt(),
                b.z - a.z,
            )
        })
        .collect();
    let top = rise.iter().map(|r| r.1).fold(0.0, f64::max);
    assert!(top <= 5.0 + 1e-9 && top > 4.8, "dome top {top}");
    // it rises only near the centre and only upward
    for (r, dz) in &rise {
        assert!(*dz >= 0.0);
        if *r > 40.0 {
            assert_eq!(*dz, 0.0);
        }
    }
}

/// Roll of the heel's sole: slope dz/dx of a plane fitted to sole vertices in the rear 15 %,
/// expressed so that positive = medial side up.
fn heel_roll_deg(m: &Mesh, side: FootSide) -> f64 {
    let normals = modify::vertex_normals(m);
    let pts: Vec<&Point3<f64>> = m
        .vertices
        .iter()
        .zip(&normals)
        .filter(|(p, n)| p.y > 15.0 && p.y < 45.0 && n.z < -0.95)
        .map(|(p, _)| p)
        .collect();
    let n = pts.len() as f64;
    let mx = pts.iter().map(|p| p.x).sum::<f64>() / n;
    let mz = pts.iter().map(|p| p.z).sum::<f64>() / n;
    let sxz: f64 = pts.iter().map(|p| (p.x - mx) * (p.z - mz)).sum();
    let sxx: f64 = pts.iter().map(|p| (p.x - mx).powi(2)).sum();
    (sxz / sxx).atan().to_degrees() * side.medial_sign()
}

#[test]
fn rearfoot_varus_post_raises_the_medial_heel_by_its_angle() {
    for name in ["foot-left-m.stl", "foot-right-m.stl"] {
        let (lab, side) = lab_foot(name);
        let before = heel_roll_deg(&lab, side);
        for degrees in [4.0, -3.0] {
            let mut m = lab.clone();
            let op = Op::Post {
                part: FootPart::Rearfoot,
                side,
                degrees,
            };
            modify::apply(&mut m, &[op]).unwrap();
            let after = heel_roll_deg(&m, side);
            assert!(
                (after - before - degrees).abs() < 0.1,
                "{name}: {degrees} deg post turned the heel {:.3} deg",
                after - before
            );
            // the forefoot stays where it was
            for (a, b) in lab.vertices.iter().zip(&m.vertices) {
                if a.y > 0.5 * 275.0 {
                    assert_eq!(a, b);
                }
            }
        }
    }
}

#[test]
fn trim_height_cuts_the_heel_cup_at_its_depth() {
    let (lab, side) = lab_foot("foot-left-m.stl");
    let mut m = lab.clone();
    modify::apply(
        &mut m,
        &[Op::TrimHeight {
            side,
            heel_cup: 15.0,
            medial: 12.0,
            lateral: 6.0,
        }],
    )
    .unwrap();
    let t = topology::report(&m);
    assert_eq!(t.boundary_loops.len(), 1, "one trim line");
    assert_eq!(t.inconsistent_edges, 0);
    let heel_top = m
        .vertices
        .iter()
        .filter(|p| p.y < 30.0)
        .map(|p| p.z)
        .fold(0.0, f64::max);
    assert!((heel_top - 15.0).abs() < 1.5, "heel cup reaches {heel_top}");
    let top = m.vertices.iter().map(|p| p.z).fold(0.0, f64::max);
    assert!(top < 15.0 + 10.0, "nothing much above the cup: {top}");
    // the sole is all still there
    let sole = |m: &Mesh| {
        (0..m.triangles.len())
            .filter(|&t| m.triangle_normal(t).z < 0.0 && m.triangle(t).iter().all(|p| p.z < 3.0))
            .map(|t| m.triangle_normal(t).norm() / 2.0)
            .sum::<f64>()
    };
    assert!((sole(&m) - sole(&lab)).abs() < 1e-6 * sole(&lab));
}

#[test]
fn taubin_smoothing_removes_noise_and_keeps_volume() {
    let (lab, _) = lab_foot("foot-right-m.stl");
    let v0 = volume(&lab);
    // deterministic pseudo-random noise of +-0.3 mm along the normals
    let normals = modify::vertex_normals(&lab);
    let mut noisy = lab.clone();
    let mut s: u64 = 0x9E3779B97F4A7C15;
    for (p, n) in noisy.vertices.iter_mut().zip(&normals) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        let r = (s % 2001) as f64 / 1000.0 - 1.0;
        *p += n * (0.3 * r);
    }
    let rms_diff = |a: &Mesh, b: &Mesh| {
        (a.vertices
            .iter()
            .zip(&b.vertices)
            .map(|(p, q)| (p - q).norm_squared())
            .sum::<f64>()
            / a.vertices.len() as f64)
            .sqrt()
    };
    let noise_before = rms_diff(&noisy, &lab);
    let (mut smooth_noisy, mut smooth_clean) = (noisy.clone(), lab.clone());
    modify::apply(&mut smooth_noisy, &[Op::smooth(10)]).unwrap();
    modify::apply(&mut smooth_clean, &[Op::smooth(10)]).unwrap();
    // Taubin smoothing is linear in the positions: what is left of the noise is the difference
    let noise_after = rms_diff(&smooth_noisy, &smooth_clean);
    // how far smoothing moved the clean surface (median over sampled vertices)
    let mut dev: Vec<f64> = smooth_clean
        .vertices
        .iter()
        .step_by(5)
        .map(|p| nearest::distance(&lab, p))
        .collect();
    dev.sort_by(f64::total_cmp);
    let median_dev = dev[dev.len() / 2];
    let dv = volume(&smooth_clean) / v0 - 1.0;
    eprintln!(
        "noise rms {noise_before:.3} -> {noise_after:.3}; shape moved median {median_dev:.3} mm; volume {:+.3} %",
        dv * 100.0
    );
    assert!(
        noise_after < 0.5 * noise_before,
        "{noise_before} -> {noise_after}"
    );
    assert!(median_dev < 0.1, "{median_dev}");
    assert!(dv.abs() < 0.005, "{dv}");
}

#[test]
fn mirrored_left_foot_orients_as_right() {
    let (lab, side) = lab_foot("foot-left-m.stl");
    assert_eq!(side, FootSide::Left);
    let mut m = lab.clone();
    modify::apply(
        &mut m,
        &[Op::Mirror {
            point: [0.0; 3],
            normal: [1.0, 0.0, 0.0],
        }],
    )
    .unwrap();
    assert!(
        (volume(&m) - volume(&lab)).abs() < 1e-6 * volume(&lab),
        "still outward"
    );
    assert_eq!(orient::foot(&m).unwrap().side, FootSide::Right);
}

#[test]
fn named_foot_region_build_up_has_its_depth_under_the_heel() {
    let (lab, side) = lab_foot("foot-left-m.stl");
    let mut m = lab.clone();
    let op = Op::Displace {
        region: Region::Foot {
            region: FootRegion::Heel,
            side,
        },
        depth: 2.0,
    };
    modify::apply(&mut m, &[op]).unwrap();
    let moves: Vec<f64> = lab
        .vertices
        .iter()
        .zip(&m.vertices)
        .map(|(a, b)| (a - b).norm())
        .collect();
    let top = moves.iter().cloned().fold(0.0, f64::max);
    assert!(top > 1.9 && top <= 2.0 + 1e-9, "{top}");
    for (p, d) in lab.vertices.iter().zip(&moves) {
        if p.y > 0.3 * 275.0 {
            assert_eq!(*d, 0.0);
        }
    }
}
