//! Loading the real fixture scans: units decided, welded into closed or open meshes as they are.

mod common;

use fab_geometry::load::Units;
use fab_geometry::topology;

#[test]
fn metre_feet_are_read_as_metres_and_are_closed() {
    for name in ["foot-left-m.stl", "foot-right-m.stl"] {
        let l = common::load(name);
        eprintln!("{name}:\n{}", l.report);
        assert_eq!(l.report.units.units, Units::M, "{name}");
        assert!(l.report.units.reason.contains("only in m"));
        let (lo, hi) = l.mesh.bounds().unwrap();
        let ext = hi - lo;
        let longest = ext.x.max(ext.y).max(ext.z);
        assert!((200.0..330.0).contains(&longest), "{name}: {longest} mm");
        let t = topology::report(&l.mesh);
        eprintln!(
            "{t:?}",
            t = (
                t.watertight,
                t.holes(),
                t.non_manifold_edges,
                t.components.len()
            )
        );
        assert!(t.watertight, "{name} should weld closed");
        assert_eq!(t.inconsistent_edges, 0);
        assert_eq!(t.components.len(), 1);
        // the file's vertices were shared corners: welding reduces them about 6x
        assert!(l.report.vertices * 5 < l.report.corners_read);
    }
}

#[test]
fn limb_is_millimetres_and_open_at_one_cut() {
    let l = common::load("limb-transtibial.stl");
    eprintln!("{}", l.report);
    assert_eq!(l.report.units.units, Units::Mm);
    let t = topology::report(&l.mesh);
    eprintln!(
        "{:?}",
        (
            t.watertight,
            t.holes(),
            t.non_manifold_edges,
            t.components.len()
        )
    );
    assert!(!t.watertight);
    assert_eq!(t.holes(), 1, "one open proximal cut");
    assert_eq!(t.inconsistent_edges, 0);
    // the cut is at the top (max Z): all its vertices are near the top
    let (lo, hi) = l.mesh.bounds().unwrap();
    let cut = &t.boundary_loops[0];
    for &v in &cut.vertices {
        assert!(l.mesh.vertices[v as usize].z > lo.z + 0.8 * (hi.z - lo.z));
    }
}

#[test]
fn explicit_units_override_auto() {
    let l = fab_geometry::load_path(&common::fixture("foot-left-m.stl"), Units::Mm);
    // 0.26 mm is accepted when asked for: the caller said so; the decision says why
    let l = l.unwrap();
    assert!(
        l.report
            .units
            .reason
            .starts_with("--units mm was given (warning: that makes it 0.2763 mm"),
        "{}",
        l.report.units.reason
    );
    let (lo, hi) = l.mesh.bounds().unwrap();
    assert!((hi - lo).norm() < 1.0);
}

#[test]
fn written_stl_reads_back_the_same_mesh() {
    let l = common::load("limb-transtibial.stl");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.stl");
    fab_geometry::write_stl(&path, &l.mesh).unwrap();
    // nothing but the file itself is left in the directory (the temp file was renamed)
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    let back = fab_geometry::load_path(&path, Units::Mm).unwrap();
    assert_eq!(back.mesh.triangles.len(), l.mesh.triangles.len());
    assert_eq!(back.mesh.vertices.len(), l.mesh.vertices.len());
    assert!(back.report.unchanged());
    for (a, b) in back.mesh.vertices.iter().zip(&l.mesh.vertices) {
        assert!((a - b).norm() < 1e-4, "f32 rounding only");
    }
    // writing into a missing directory fails cleanly
    let bad = dir.path().join("no/such/dir/out.stl");
    let e = fab_geometry::write_stl(&bad, &l.mesh).unwrap_err();
    assert!(e.to_string().contains("no/such/dir/out.stl"), "{e}");
}

#[test]
fn obj_export_of_the_limb_loads_as_the_same_mesh() {
    use std::fmt::Write as _;
    let l = common::load("limb-transtibial.stl");
    let mut text = String::from("# limb as OBJ\no limb\n");
    for p in &l.mesh.vertices {
        writeln!(text, "v {} {} {}", p.x, p.y, p.z).unwrap();
    }
    // faces with texture/normal slots and negative indices on every other line
    let n = l.mesh.vertices.len() as i64;
    for (i, t) in l.mesh.triangles.iter().enumerate() {
        if i % 2 == 0 {
            writeln!(text, "f {}/1/1 {}/1/1 {}/1/1", t[0] + 1, t[1] + 1, t[2] + 1).unwrap();
        } else {
            let neg = |v: u32| v as i64 - n;
            writeln!(text, "f {} {} {}", neg(t[0]), neg(t[1]), neg(t[2])).unwrap();
        }
    }
    let back = fab_geometry::load_bytes(text.as_bytes(), Units::Auto).unwrap();
    assert_eq!(back.report.flavour, fab_geometry::stl::Flavour::Obj);
    assert_eq!(back.report.units.units, Units::Mm);
    assert_eq!(back.mesh, l.mesh);
}

#[test]
fn ply_export_of_a_foot_loads_as_the_same_mesh() {
    // binary little-endian PLY in metres, as a scanner would write it, with an extra property
    let l = common::load("foot-left-m.stl");
    let mut b = format!(
        "ply\nformat binary_little_endian 1.0\ncomment fab test\nelement vertex {}\nproperty double x\nproperty double y\nproperty double z\nproperty float confidence\nelement face {}\nproperty list uchar int vertex_indices\nend_header\n",
        l.mesh.vertices.len(),
        l.mesh.triangles.len()
    )
    .into_bytes();
    for p in &l.mesh.vertices {
        for x in [p.x, p.y, p.z] {
            b.extend((x / 1000.0).to_le_bytes());
        }
        b.extend(1.0f32.to_le_bytes());
    }
    for t in &l.mesh.triangles {
        b.push(3);
        for v in t {
            b.extend((*v as i32).to_le_bytes());
        }
    }
    let back = fab_geometry::load_bytes(&b, Units::Auto).unwrap();
    assert_eq!(back.report.flavour, fab_geometry::stl::Flavour::Ply);
    assert_eq!(back.report.units.units, Units::M);
    assert_eq!(back.mesh.triangles, l.mesh.triangles);
    for (a, c) in back.mesh.vertices.iter().zip(&l.mesh.vertices) {
        assert!((a - c).norm() < 1e-9);
    }
}

#[test]
fn binary_stl_whose_header_reads_like_obj_or_ply_is_still_stl() {
    let mut b = std::fs::read(common::fixture("foot-right-m.stl")).unwrap();
    for head in [
        &b"v 1.0 scanner export\n"[..],
        &b"ply\nformat ascii 1.0\n"[..],
    ] {
        b[..80].fill(b' ');
        b[..head.len()].copy_from_slice(head);
        let l = fab_geometry::load_bytes(&b, Units::Auto).unwrap();
        assert_eq!(l.report.flavour, fab_geometry::stl::Flavour::Binary);
        assert_eq!(l.report.triangles, 12756);
    }
}
