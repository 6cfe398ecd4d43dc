//! A fixture scan made dirty the way scans arrive (ASCII, every corner repeated and jittered
//! below the weld tolerance, triangles flipped, duplicated and degenerate, a stray fragment, the
//! whole thing in inches) loads back to the clean mesh, and the report counts each repair.

mod common;

use std::fmt::Write;

use fab_geometry::load::{Units, load_bytes};
use fab_geometry::topology;

#[test]
fn dirty_ascii_scan_in_inches_is_repaired_and_reported() {
    let clean = common::load("foot-right-m.stl").mesh;
    let n = clean.triangles.len();
    let inch = 25.4;
    let mut s: u64 = 0x243F6A8885A308D3;
    let mut jitter = || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        // +-0.0003 mm per axis: well inside the 0.001 mm weld tolerance
        ((s % 2001) as f64 / 1000.0 - 1.0) * 0.0003
    };
    let mut text = String::from("solid dirty scan\n");
    let facet = |text: &mut String, p: [[f64; 3]; 3]| {
        text.push_str("  facet normal 0 0 0\n    outer loop\n");
        for v in p {
            writeln!(text, "      vertex {:.9} {:.9} {:.9}", v[0], v[1], v[2]).unwrap();
        }
        text.push_str("    endloop\n  endfacet\n");
    };
    let (mut flipped, mut dups) = (0, 0);
    for t in 0..n {
        let mut c = clean.triangle(t).map(|p| {
            [
                p.x / inch + jitter() / inch,
                p.y / inch + jitter() / inch,
                p.z / inch + jitter() / inch,
            ]
        });
        if t % 97 == 5 {
            c.swap(1, 2);
            flipped += 1;
        }
        facet(&mut text, c);
        if t % 211 == 7 {
            facet(&mut text, c);
            dups += 1;
        }
    }
    // three degenerate triangles: a repeated corner, a collinear sliver, a point
    let p = clean.vertices[0].coords / inch;
    let q = clean.vertices[1].coords / inch;
    let pa = [p.x, p.y, p.z];
    let qa = [q.x, q.y, q.z];
    let mid = [(p.x + q.x) / 2.0, (p.y + q.y) / 2.0, (p.z + q.z) / 2.0];
    facet(&mut text, [pa, pa, qa]);
    facet(&mut text, [pa, mid, qa]);
    facet(&mut text, [pa, pa, pa]);
    // a stray fragment: a 2 mm tetrahedron 20 mm from the foot (inches)
    let o = [p.x + 20.0 / inch, p.y, p.z];
    let e = 2.0 / inch;
    let tet = [
        o,
        [o[0] + e, o[1], o[2]],
        [o[0], o[1] + e, o[2]],
        [o[0], o[1], o[2] + e],
    ];
    for [a, b, c] in [[0, 2, 1], [0, 1, 3], [0, 3, 2], [1, 2, 3]] {
        facet(&mut text, [tet[a], tet[b], tet[c]]);
    }
    text.push_str("endsolid dirty scan\n");

    let l = load_bytes(text.as_bytes(), Units::Auto).unwrap();
    let r = &l.report;
    eprintln!("{r}");
    assert_eq!(r.units.units, Units::In, "{}", r.units.reason);
    assert_eq!(r.triangles_read, n + dups + 3 + 4);
    assert_eq!(r.dropped.duplicate, dups);
    assert_eq!(r.dropped.degenerate, 3);
    assert_eq!(r.reoriented.flipped_for_consistency, flipped);
    assert_eq!(r.reoriented.components_turned_outward, 0);
    assert_eq!(r.fragments.components, 1);
    assert_eq!(r.fragments.triangles, 4);
    assert_eq!(r.triangles, n);
    assert_eq!(l.mesh.vertices.len(), clean.vertices.len());
    let t = topology::report(&l.mesh);
    assert!(t.watertight && t.inconsistent_edges == 0 && t.components.len() == 1);
    // the same surface: every triangle matches the clean one within the jitter
    for i in 0..n {
        let a = clean.triangle(i);
        let b = l.mesh.triangle(i);
        // the flipped ones were flipped back, so the corners line up in order or rotated
        let best = (0..3)
            .map(|rot| {
                (0..3)
                    .map(|k| (a[k] - b[(k + rot) % 3]).norm())
                    .fold(0.0, f64::max)
            })
            .fold(f64::MAX, f64::min);
        assert!(best < 0.002, "triangle {i} differs by {best} mm");
    }
}
