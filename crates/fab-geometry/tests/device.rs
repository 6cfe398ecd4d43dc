//! The direct-milled orthosis on the fixture feet and on a mirrored foot: measured on its mesh,
//! the extension, heel cup, posts and least thickness are what the parameters ask.

mod common;

use fab_geometry::device::{self, Device, DeviceParams, nest};
use fab_geometry::modify::{self, Op};
use fab_geometry::orient::{self, FootSide};
use fab_geometry::{Mesh, topology};

fn lab_foot(name: &str) -> (Mesh, FootSide) {
    let m = common::load(name).mesh;
    let f = orient::foot(&m).unwrap();
    (f.apply(&m), f.side)
}

/// The left fixture foot mirrored into a right foot (a foot the tests never saw), reoriented.
fn mirrored_left() -> (Mesh, FootSide) {
    let mut m = common::load("foot-left-m.stl").mesh;
    for v in &mut m.vertices {
        v.x = -v.x;
    }
    for t in &mut m.triangles {
        t.swap(1, 2);
    }
    let f = orient::foot(&m).unwrap();
    (f.apply(&m), f.side)
}

fn feet() -> Vec<(&'static str, Mesh, FootSide)> {
    let (l, ls) = lab_foot("foot-left-m.stl");
    let (r, rs) = lab_foot("foot-right-m.stl");
    let (mr, ms) = mirrored_left();
    assert_eq!(
        (ls, rs, ms),
        (FootSide::Left, FootSide::Right, FootSide::Right)
    );
    vec![("left", l, ls), ("right", r, rs), ("mirrored left", mr, ms)]
}

fn make(foot: &Mesh, side: FootSide, f: impl Fn(&mut DeviceParams)) -> Device {
    let mut p = DeviceParams::new(side);
    f(&mut p);
    device::orthosis(foot, &p).unwrap_or_else(|e| panic!("{e}"))
}

fn closed(m: &Mesh) {
    let t = topology::report(m);
    assert!(t.watertight, "not closed");
}

#[test]
fn extension_sets_the_length() {
    for (name, foot, side) in feet() {
        for (ext, lo, hi) in [(0.8, 0.72, 0.88), (1.0, 0.93, 1.04), (0.62, 0.55, 0.70)] {
            let d = make(&foot, side, |p| p.extension = ext);
            closed(&d.mesh);
            let f = d.measured.length_fraction;
            assert!(
                (lo..=hi).contains(&f),
                "{name} extension {ext}: length {:.1} mm = {f:.3} of {:.1}",
                d.measured.length_mm,
                d.foot_length
            );
        }
    }
}

#[test]
fn heel_cup_depth_raises_the_rim() {
    for (name, foot, side) in feet() {
        let a = make(&foot, side, |p| p.heel_cup = 10.0);
        let b = make(&foot, side, |p| p.heel_cup = 20.0);
        let d = b.measured.heel_rim_mm - a.measured.heel_rim_mm;
        assert!((d - 10.0).abs() <= 1.5, "{name}: rim {d:.2} mm higher");
        assert!(
            (b.measured.heel_cup_depth_mm - 20.0).abs() <= 2.0,
            "{name}: cup {:.2}",
            b.measured.heel_cup_depth_mm
        );
    }
}

#[test]
fn rearfoot_posts_tilt_the_heel_seat() {
    for (name, foot, side) in feet() {
        let varus = make(&foot, side, |p| p.rearfoot_post = 4.0);
        let valgus = make(&foot, side, |p| p.rearfoot_post = -4.0);
        let none = make(&foot, side, |_| {});
        let (v, g, n) = (
            varus.measured.rearfoot_tilt_deg,
            valgus.measured.rearfoot_tilt_deg,
            none.measured.rearfoot_tilt_deg,
        );
        assert!(
            (v - g - 8.0).abs() <= 1.0,
            "{name}: varus {v:.2}, valgus {g:.2}"
        );
        assert!(g < n && n < v, "{name}: unposted {n:.2} not between");
        for d in [&varus, &valgus, &none] {
            assert!(d.measured.least_thickness_mm >= 6.0 - 1e-9);
            // the cup's depth on the heel's middle line is the 10 mm asked, posted or not
            assert!(
                (d.measured.heel_cup_depth_mm - 10.0).abs() <= 1.5,
                "{name}: cup {:.2}",
                d.measured.heel_cup_depth_mm
            );
            closed(&d.mesh);
        }
    }
}

#[test]
fn least_thickness_holds_with_lift_and_cover() {
    let (foot, side) = lab_foot("foot-left-m.stl");
    let plain = make(&foot, side, |p| p.thickness = 8.0);
    let lifted = make(&foot, side, |p| {
        p.thickness = 8.0;
        p.heel_lift = 6.0;
        p.top_cover = 3.0;
        p.forefoot_post = 3.0;
    });
    for d in [&plain, &lifted] {
        assert!((d.measured.least_thickness_mm - 8.0).abs() < 1e-6);
    }
    // the heel seat stands higher over the forefoot with the lift than without
    let seat = |d: &Device| d.measured.heel_rim_mm - d.measured.heel_cup_depth_mm;
    assert!(seat(&lifted) > seat(&plain) + 3.0);
    assert!(
        lifted.measured.forefoot_tilt_deg.unwrap()
            > plain.measured.forefoot_tilt_deg.unwrap() + 2.0
    );
}

#[test]
fn arch_fill_shows_on_the_device() {
    let (foot, side) = lab_foot("foot-right-m.stl");
    let mut filled = foot.clone();
    modify::apply(
        &mut filled,
        &[Op::ArchFill {
            side,
            fraction: 0.75,
        }],
    )
    .unwrap();
    let a = make(&foot, side, |_| {});
    let b = make(&filled, side, |_| {});
    // across the foot at 45 % of its length (the arch): the filled device's top is lower on the
    // medial side, by more than a millimetre somewhere, and nowhere higher
    let (lo, hi) = foot.bounds().unwrap();
    let y = lo.y + 0.45 * (hi.y - lo.y);
    let top_at = |d: &Device, x: f64| -> Option<f64> {
        d.top
            .vertices
            .iter()
            .filter(|v| (v.x - x).hypot(v.y - y) < 1.0)
            .map(|v| v.z)
            .reduce(f64::max)
    };
    let mut deepest: f64 = 0.0;
    let mut highest: f64 = f64::MIN;
    let m = side.medial_sign();
    for k in 0..60 {
        let x = (lo.x + hi.x) / 2.0 + m * k as f64;
        if let (Some(za), Some(zb)) = (top_at(&a, x), top_at(&b, x)) {
            deepest = deepest.max(za - zb);
            highest = highest.max(zb - za);
        }
    }
    assert!(
        deepest > 1.0,
        "the fill lowers the arch by {deepest:.2} mm at most"
    );
    assert!(highest < 0.05, "the fill raises the top by {highest:.2} mm");
}

#[test]
fn a_pair_nests_on_one_blank_apart() {
    let (l, ls) = lab_foot("foot-left-m.stl");
    let (r, rs) = lab_foot("foot-right-m.stl");
    let a = make(&l, ls, |_| {});
    let b = make(&r, rs, |_| {});
    let lp = nest::LayoutParams {
        side_margin: 12.0,
        gap: 11.0,
        top_margin: 1.0,
    };
    let lay = nest::layout(&[a.clone(), b.clone()], &lp);
    assert_eq!(lay.parts.len(), 2);
    // every outline inside the blank by the margin, the two at least the gap apart
    for p in &lay.parts {
        for o in &p.outline {
            assert!(o[0] >= 12.0 - 1e-6 && o[0] <= lay.blank[0] - 12.0 + 1e-6);
            assert!(o[1] >= 12.0 - 1e-6 && o[1] <= lay.blank[1] - 12.0 + 1e-6);
        }
        let z = p
            .mesh
            .vertices
            .iter()
            .map(|v| v.z)
            .fold(f64::INFINITY, f64::min);
        assert!((z - -lay.blank[2]).abs() < 1e-9);
        // measured again in place: the same device
        let m = device::measure::measure(&p.mesh, p.side, p.toe_dir, p.foot_length);
        assert!((m.length_mm - p.measured.length_mm).abs() < 1e-6);
        assert!((m.rearfoot_tilt_deg - p.measured.rearfoot_tilt_deg).abs() < 1e-6);
    }
    let mut least = f64::INFINITY;
    for qa in &lay.parts[0].outline {
        for qb in &lay.parts[1].outline {
            least = least.min((qa[0] - qb[0]).hypot(qa[1] - qb[1]));
        }
    }
    assert!(least >= 11.0 - 0.05, "parts {least:.2} mm apart");
    // nesting saves blank over the two side by side
    let single = nest::layout(&[a], &lp);
    let one = single.blank[0] * single.blank[1];
    assert!(
        lay.blank[0] * lay.blank[1] < 2.0 * one,
        "pair blank {:?}",
        lay.blank
    );
}
