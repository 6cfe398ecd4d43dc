use super::*;

/// A block foot: 240 long, 90 wide, sole flat at Z = 5 with the heel's back and sides rising.
fn block_foot() -> Mesh {
    let (x0, x1, y0, y1, z0, z1) = (-45.0, 45.0, 0.0, 240.0, 5.0, 80.0);
    let v = vec![
        Point3::new(x0, y0, z0),
        Point3::new(x1, y0, z0),
        Point3::new(x1, y1, z0),
        Point3::new(x0, y1, z0),
        Point3::new(x0, y0, z1),
        Point3::new(x1, y0, z1),
        Point3::new(x1, y1, z1),
        Point3::new(x0, y1, z1),
    ];
    let quads = [
        [0, 3, 2, 1],
        [4, 5, 6, 7],
        [0, 1, 5, 4],
        [1, 2, 6, 5],
        [2, 3, 7, 6],
        [3, 0, 4, 7],
    ];
    let mut t = Vec::new();
    for [a, b, c, d] in quads {
        t.push([a, b, c]);
        t.push([a, c, d]);
    }
    Mesh::new(v, t).split4().split4()
}

#[test]
fn a_flat_foot_makes_a_closed_even_device() {
    let foot = block_foot();
    let p = DeviceParams::new(FootSide::Left);
    let d = orthosis(&foot, &p).unwrap();
    let topo = crate::topology::report(&d.mesh);
    assert!(topo.watertight);
    // volume positive (outward), the flat sole 6 mm over the bottom
    let vol: f64 = (0..d.mesh.triangles.len())
        .map(|t| {
            let [a, b, c] = d.mesh.triangle(t);
            a.coords.dot(&b.coords.cross(&c.coords)) / 6.0
        })
        .sum();
    assert!(vol > 0.0);
    assert!((d.measured.least_thickness_mm - 6.0).abs() < 1e-9);
    // a flat sole: no tilt; the cup's rim 10 mm over the sole
    assert!(d.measured.rearfoot_tilt_deg.abs() < 0.2);
    assert!(
        (d.measured.heel_cup_depth_mm - 10.0).abs() < 0.3,
        "{:?}",
        d.measured
    );
    // to the sulcus: 0.8 of the length plus the heel wall, less the rounding
    assert!(
        (d.measured.length_fraction - 0.8).abs() < 0.04,
        "{:?}",
        d.measured
    );
    // the outline runs counter-clockwise
    let n = d.outline.len();
    let area: f64 = (0..n)
        .map(|i| {
            let (a, b) = (d.outline[i], d.outline[(i + 1) % n]);
            a[0] * b[1] - b[0] * a[1]
        })
        .sum::<f64>()
        / 2.0;
    assert!(area > 0.0);
}

#[test]
fn posts_tilt_a_flat_heel_by_their_angle() {
    let foot = block_foot();
    for deg in [-6.0, 4.0] {
        let mut p = DeviceParams::new(FootSide::Right);
        p.rearfoot_post = deg;
        let d = orthosis(&foot, &p).unwrap();
        assert!(
            (d.measured.rearfoot_tilt_deg - deg).abs() < 0.3,
            "{deg}: {:?}",
            d.measured
        );
        assert!(d.measured.least_thickness_mm >= 6.0 - 1e-9);
    }
}

#[test]
fn bad_parameters_are_refused() {
    let foot = block_foot();
    let mut p = DeviceParams::new(FootSide::Left);
    p.thickness = f64::NAN;
    assert!(matches!(
        orthosis(&foot, &p),
        Err(DeviceError::Parameter {
            what: "thickness",
            ..
        })
    ));
}
