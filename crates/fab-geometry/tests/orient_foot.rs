//! Orienting the fixture feet: the right side, floor, heel and toes, whatever pose they arrive in.

mod common;

use fab_geometry::Mesh;
use fab_geometry::orient::{self, FootSide};
use nalgebra::{Isometry3, Point3, Vector3};

fn mirror_x(m: &Mesh) -> Mesh {
    Mesh::new(
        m.vertices
            .iter()
            .map(|p| Point3::new(-p.x, p.y, p.z))
            .collect(),
        m.triangles.iter().map(|t| [t[0], t[2], t[1]]).collect(),
    )
}

fn check_lab_frame(name: &str, lab: &Mesh) {
    let (lo, hi) = lab.bounds().unwrap();
    eprintln!("{name}: lab bounds {lo:?} {hi:?}");
    assert!(
        lo.z.abs() < 1e-9 && lo.y.abs() < 1e-9,
        "{name}: floor and heel at 0"
    );
    let len = hi.y - lo.y;
    assert!((240.0..300.0).contains(&len), "{name}: length {len}");
    assert!(hi.x - lo.x < 0.5 * len, "{name}: narrow across X");
    // the leg (cut 100 mm above the floor) is over the heel: the tall points are in the rear third
    let tall: Vec<&Point3<f64>> = lab.vertices.iter().filter(|p| p.z > 80.0).collect();
    assert!(!tall.is_empty());
    let mean_y = tall.iter().map(|p| p.y).sum::<f64>() / tall.len() as f64;
    assert!(
        mean_y < 0.4 * len,
        "{name}: leg at y {mean_y}, expected near the heel"
    );
    // the sole faces down: the lowest 2 mm are mostly downward-facing area
    let mut down = 0.0;
    let mut other = 0.0;
    for t in 0..lab.triangles.len() {
        let [a, b, c] = lab.triangle(t);
        if (a.z + b.z + c.z) / 3.0 < 2.0 {
            let n = lab.triangle_normal(t);
            if n.z < 0.0 {
                down += n.norm()
            } else {
                other += n.norm()
            }
        }
    }
    assert!(
        down > 10.0 * other,
        "{name}: sole faces -Z ({down} vs {other})"
    );
}

#[test]
fn left_foot_is_left_and_right_is_right() {
    for (name, side) in [
        ("foot-left-m.stl", FootSide::Left),
        ("foot-right-m.stl", FootSide::Right),
    ] {
        let m = common::load(name).mesh;
        let f = orient::foot(&m).unwrap();
        eprintln!("{name}: {:#?}", f.evidence);
        assert_eq!(f.side, side, "{name}");
        check_lab_frame(name, &f.apply(&m));
    }
}

#[test]
fn mirrored_left_foot_is_right() {
    let m = mirror_x(&common::load("foot-left-m.stl").mesh);
    let f = orient::foot(&m).unwrap();
    eprintln!("{:#?}", f.evidence);
    assert_eq!(f.side, FootSide::Right);
    check_lab_frame("mirrored left", &f.apply(&m));
}

#[test]
fn any_pose_gives_the_same_lab_frame() {
    let m = common::load("foot-right-m.stl").mesh;
    let base = orient::foot(&m).unwrap().apply(&m);
    for (axis, angle) in [
        (Vector3::x(), 2.0),
        (Vector3::new(1.0, 1.0, 0.3), 3.5),
        (Vector3::z(), -1.2),
        (Vector3::y(), 3.0),
    ] {
        let pose = Isometry3::new(Vector3::new(120.0, -40.0, 300.0), axis.normalize() * angle);
        let moved = Mesh::new(
            m.vertices.iter().map(|p| pose * p).collect(),
            m.triangles.clone(),
        );
        let f = orient::foot(&moved).unwrap();
        assert_eq!(f.side, FootSide::Right, "pose {axis:?} {angle}");
        let lab = f.apply(&moved);
        let worst = lab
            .vertices
            .iter()
            .zip(&base.vertices)
            .map(|(a, b)| (a - b).norm())
            .fold(0.0, f64::max);
        assert!(
            worst < 1.0,
            "pose {axis:?} {angle}: vertices move {worst} mm"
        );
    }
}

#[test]
fn plantar_only_open_scan_without_a_leg_is_oriented_too() {
    // keep only the bottom 30 mm of each foot (an open, leg-less plantar scan), then move it
    for (name, side) in [
        ("foot-left-m.stl", FootSide::Left),
        ("foot-right-m.stl", FootSide::Right),
    ] {
        let m = common::load(name).mesh;
        let mut lab = orient::foot(&m).unwrap().apply(&m);
        fab_geometry::modify::apply(
            &mut lab,
            &[fab_geometry::modify::Op::PlaneTrim {
                point: [0.0, 0.0, 30.0],
                normal: [0.0, 0.0, 1.0],
            }],
        )
        .unwrap();
        let pose = Isometry3::new(
            Vector3::new(-50.0, 70.0, 10.0),
            Vector3::new(0.4, 2.0, -0.7),
        );
        let moved = Mesh::new(
            lab.vertices.iter().map(|p| pose * p).collect(),
            lab.triangles.clone(),
        );
        let f = orient::foot(&moved).unwrap();
        eprintln!("{name}: {:#?}", f.evidence);
        assert_eq!(f.side, side, "{name}");
        assert!(f.evidence[1].contains("no leg"), "{:?}", f.evidence[1]);
        // back in (nearly) the same lab frame: the frame is found from less of the foot, so
        // its long axis may turn a little
        let round_trip = f.to_lab * pose;
        let angle = round_trip.rotation.angle().to_degrees();
        assert!(angle < 1.0, "{name}: lab frame turned {angle} degrees");
        let again = f.apply(&moved);
        let (lo, _) = again.bounds().unwrap();
        assert!(lo.z.abs() < 1e-9 && lo.y.abs() < 1e-9);
    }
}
