//! Measurements on the fixture feet and limb, and on shapes whose answers are known exactly.

mod common;

use fab_geometry::Mesh;
use fab_geometry::measure;
use fab_geometry::orient;
use nalgebra::{Isometry3, Point3, Vector3};

/// An open tube of radius r, from z = 0 (closed by a flat bottom) to z = h (open), n sides.
fn cup(r: f64, h: f64, n: usize, rings: usize) -> Mesh {
    let mut v = vec![Point3::new(0.0, 0.0, 0.0)];
    for k in 0..=rings {
        for i in 0..n {
            let a = i as f64 / n as f64 * std::f64::consts::TAU;
            v.push(Point3::new(
                r * a.cos(),
                r * a.sin(),
                h * k as f64 / rings as f64,
            ));
        }
    }
    let n32 = n as u32;
    let idx = |k: u32, i: u32| 1 + k * n32 + (i % n32);
    let mut t = Vec::new();
    for i in 0..n32 {
        t.push([0, idx(0, i + 1), idx(0, i)]); // bottom, facing -Z
    }
    for k in 0..rings as u32 {
        for i in 0..n32 {
            t.push([idx(k, i), idx(k, i + 1), idx(k + 1, i + 1)]);
            t.push([idx(k, i), idx(k + 1, i + 1), idx(k + 1, i)]);
        }
    }
    Mesh::new(v, t)
}

#[test]
fn limb_measures_of_an_open_cup_are_exact() {
    let (r, h, n) = (50.0, 200.0, 72);
    let m = cup(r, h, n, 20);
    let polygon_area = n as f64 / 2.0 * r * r * (std::f64::consts::TAU / n as f64).sin();
    let polygon_perimeter = n as f64 * 2.0 * r * (std::f64::consts::PI / n as f64).sin();
    let lm = measure::limb(&m, &[25.0, 100.0, 190.0], None).unwrap();
    assert!(
        (Vector3::from(lm.axis) - Vector3::z()).norm() < 1e-9,
        "{:?}",
        lm.axis
    );
    assert!((lm.length - h).abs() < 1e-9);
    assert!((lm.distal_end[2]).abs() < 1e-9);
    for (d, c) in &lm.circumferences {
        assert!(
            (c - polygon_perimeter).abs() < 1e-6,
            "at {d}: {c} vs {polygon_perimeter}"
        );
    }
    assert!(
        (lm.volume - polygon_area * h).abs() < 1e-6 * polygon_area * h,
        "{}",
        lm.volume
    );
    assert!((lm.cut_perimeter - polygon_perimeter).abs() < 1e-6);
    let side = polygon_perimeter * h;
    assert!((lm.area - side - polygon_area).abs() < 1e-6 * side);
    assert!(measure::limb(&m, &[250.0], None).is_err());
}

#[test]
fn fixture_limb_is_plausible_and_pose_independent() {
    let m = common::load("limb-transtibial.stl").mesh;
    let lm = measure::limb(&m, &[], None).unwrap();
    eprintln!("{lm:#?}");
    // long axis ~ +Z (distal end at the bottom, the cut at the top)
    assert!(lm.axis[2] > 0.95, "{:?}", lm.axis);
    assert!((200.0..300.0).contains(&lm.length), "{}", lm.length);
    assert!(lm.circumferences.len() >= 10);
    for (d, c) in &lm.circumferences {
        assert!((100.0..450.0).contains(c), "circumference {c} at {d}");
    }
    // a below-knee limb of ~26 cm: between 0.7 and 3 litres
    assert!((0.7e6..3.0e6).contains(&lm.volume), "{}", lm.volume);
    assert!(
        Vector3::from(lm.anterior)
            .dot(&Vector3::from(lm.axis))
            .abs()
            < 1e-9
    );

    // Move the limb: the same numbers, the anterior moves with it.
    let pose = Isometry3::new(
        Vector3::new(10.0, 20.0, -30.0),
        Vector3::new(0.3, -0.2, 1.1),
    );
    let moved = Mesh::new(
        m.vertices.iter().map(|p| pose * p).collect(),
        m.triangles.clone(),
    );
    let lm2 = measure::limb(&moved, &[], None).unwrap();
    assert!((lm2.volume - lm.volume).abs() < 1e-6 * lm.volume);
    assert!((lm2.length - lm.length).abs() < 1e-6);
    for ((_, a), (_, b)) in lm.circumferences.iter().zip(&lm2.circumferences) {
        assert!((a - b).abs() < 1e-6);
    }
    let ant = pose.rotation * Vector3::from(lm.anterior);
    assert!((ant - Vector3::from(lm2.anterior)).norm() < 1e-6);
}

#[test]
fn feet_measure_alike_and_plausibly() {
    let mut all = Vec::new();
    for name in ["foot-left-m.stl", "foot-right-m.stl"] {
        let m = common::load(name).mesh;
        let f = orient::foot(&m).unwrap();
        let fm = measure::foot(&f.apply(&m));
        eprintln!(
            "{name}: length {:.1} ball {:.1} heel {:.1} arch {:.1} outline {} points",
            fm.length,
            fm.ball_width,
            fm.heel_width,
            fm.arch_height,
            fm.outline.len()
        );
        assert!((250.0..290.0).contains(&fm.length));
        assert!((85.0..125.0).contains(&fm.ball_width));
        assert!((50.0..90.0).contains(&fm.heel_width));
        assert!(fm.heel_width < fm.ball_width);
        assert!((3.0..35.0).contains(&fm.arch_height));
        // the outline is a CCW polygon whose area is a sensible footprint (~ 0.6-0.85 of the
        // bounding rectangle)
        let o = &fm.outline;
        let area: f64 = (0..o.len())
            .map(|i| {
                let (a, b) = (o[i], o[(i + 1) % o.len()]);
                a[0] * b[1] - b[0] * a[1]
            })
            .sum::<f64>()
            / 2.0;
        let fill = area / (fm.length * fm.ball_width);
        assert!((0.55..0.9).contains(&fill), "{name}: footprint fill {fill}");
        all.push(fm);
    }
    // the same person's two feet
    assert!((all[0].length - all[1].length).abs() < 8.0);
    assert!((all[0].ball_width - all[1].ball_width).abs() < 8.0);
}
