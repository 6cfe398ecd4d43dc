//! Properties of the rectification operations over generated parameters, on the fixture limb:
//! scales undo, mirrors undo, a plane trim and its opposite partition the surface, a regional
//! displacement stays within its radius and depth.

mod common;

use std::sync::OnceLock;

use fab_geometry::modify::{self, Op, Region};
use fab_geometry::{Mesh, topology};
use proptest::prelude::*;

fn limb() -> &'static Mesh {
    static M: OnceLock<Mesh> = OnceLock::new();
    M.get_or_init(|| common::load("limb-transtibial.stl").mesh)
}

fn area(m: &Mesh) -> f64 {
    (0..m.triangles.len())
        .map(|t| m.triangle_normal(t).norm() / 2.0)
        .sum()
}

fn max_move(a: &Mesh, b: &Mesh) -> f64 {
    a.vertices
        .iter()
        .zip(&b.vertices)
        .map(|(p, q)| (p - q).norm())
        .fold(0.0, f64::max)
}

fn unit(v: [f64; 3]) -> [f64; 3] {
    let n = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt().max(1e-9);
    v.map(|x| x / n)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn scales_undo(k in 0.5f64..1.5, c in prop::array::uniform3(-50.0f64..50.0),
                   d in prop::array::uniform3(-1.0f64..1.0)) {
        prop_assume!(d.iter().map(|x| x * x).sum::<f64>() > 0.01);
        let mut m = limb().clone();
        modify::apply(&mut m, &[
            Op::UniformScale { factor: k, centre: c },
            Op::RadialScale { factor: 1.0 / k, point: c, direction: d },
            Op::RadialScale { factor: k, point: c, direction: d },
            Op::UniformScale { factor: 1.0 / k, centre: c },
        ]).unwrap();
        prop_assert!(max_move(limb(), &m) < 1e-9);
        prop_assert_eq!(&m.triangles, &limb().triangles);
    }

    #[test]
    fn mirror_twice_is_identity(p in prop::array::uniform3(-50.0f64..50.0),
                                n in prop::array::uniform3(-1.0f64..1.0)) {
        prop_assume!(n.iter().map(|x| x * x).sum::<f64>() > 0.01);
        let mut m = limb().clone();
        let op = Op::Mirror { point: p, normal: n };
        modify::apply(&mut m, std::slice::from_ref(&op)).unwrap();
        // mirrored: same area, still consistently wound
        prop_assert!((area(&m) - area(limb())).abs() < 1e-6 * area(limb()));
        prop_assert_eq!(topology::report(&m).inconsistent_edges, 0);
        modify::apply(&mut m, &[op]).unwrap();
        prop_assert!(max_move(limb(), &m) < 1e-9);
        prop_assert_eq!(&m.triangles, &limb().triangles);
    }

    #[test]
    fn plane_trim_and_its_opposite_partition_the_surface(
        h in -180.0f64..20.0, n in prop::array::uniform3(-0.3f64..0.3)) {
        let normal = unit([n[0], n[1], 1.0]);
        let point = [0.0, 0.0, h];
        let (mut below, mut above) = (limb().clone(), limb().clone());
        modify::apply(&mut below, &[Op::PlaneTrim { point, normal }]).unwrap();
        modify::apply(&mut above, &[Op::PlaneTrim { point, normal: normal.map(|x| -x) }]).unwrap();
        let total = area(limb());
        prop_assert!((area(&below) + area(&above) - total).abs() < 1e-6 * total);
        let g = |p: &fab_geometry::nalgebra::Point3<f64>| {
            (p.x - point[0]) * normal[0] + (p.y - point[1]) * normal[1] + (p.z - point[2]) * normal[2]
        };
        prop_assert!(below.vertices.iter().all(|p| g(p) <= 1e-9));
        prop_assert!(above.vertices.iter().all(|p| g(p) >= -1e-9));
        prop_assert_eq!(topology::report(&below).inconsistent_edges, 0);
    }

    #[test]
    fn displacement_stays_within_radius_and_depth(
        v in 0usize..7000, radius in 8.0f64..40.0, depth in -6.0f64..6.0) {
        let centre = limb().vertices[v % limb().vertices.len()];
        let mut m = limb().clone();
        let op = Op::Displace {
            region: Region::Sphere { centre: centre.coords.into(), radius },
            depth,
        };
        modify::apply(&mut m, &[op]).unwrap();
        // the landmark was a vertex: no vertex inserted, it moved exactly |depth|
        prop_assert_eq!(m.vertices.len(), limb().vertices.len());
        let moved: Vec<f64> =
            limb().vertices.iter().zip(&m.vertices).map(|(p, q)| (p - q).norm()).collect();
        prop_assert!((moved[v % moved.len()] - depth.abs()).abs() < 1e-9);
        for (p, d) in limb().vertices.iter().zip(&moved) {
            prop_assert!(*d <= depth.abs() + 1e-12);
            if (p - centre).norm() >= radius {
                prop_assert_eq!(*d, 0.0);
            }
        }
    }
}
