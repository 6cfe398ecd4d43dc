//! Bad scans: each gets a clear error naming the file and what is wrong, quickly, never a panic.

mod common;

use std::time::{Duration, Instant};

use fab_geometry::load::{LoadError, LoadErrorKind, Units, load_path};
use fab_geometry::stl::StlError;

/// Writes `bytes` to a temp file, loads it, checks it fails fast and names the file.
fn load_bad(bytes: &[u8]) -> LoadError {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad-scan.stl");
    std::fs::write(&path, bytes).unwrap();
    let start = Instant::now();
    let err = load_path(&path, Units::Auto).expect_err("must be refused");
    assert!(
        start.elapsed() < Duration::from_millis(500),
        "took {:?}",
        start.elapsed()
    );
    let msg = err.to_string();
    assert!(
        msg.contains("bad-scan.stl"),
        "error must name the file: {msg}"
    );
    err
}

fn good_binary() -> Vec<u8> {
    std::fs::read(common::fixture("foot-left-m.stl")).unwrap()
}

fn set_count(b: &mut [u8], n: u32) {
    b[80..84].copy_from_slice(&n.to_le_bytes());
}

#[test]
fn empty_file() {
    let e = load_bad(b"");
    assert!(matches!(e.kind, LoadErrorKind::Stl(StlError::Empty)), "{e}");
    assert!(e.to_string().contains("empty"));
}

#[test]
fn header_promises_more_triangles_than_present() {
    let mut b = good_binary();
    set_count(&mut b, 12_773);
    let e = load_bad(&b);
    assert!(
        matches!(
            e.kind,
            LoadErrorKind::Stl(StlError::Truncated {
                promised: 12_773,
                ..
            })
        ),
        "{e}"
    );
    assert!(e.to_string().contains("promises 12773 triangles"), "{e}");
}

#[test]
fn header_promises_four_billion_triangles() {
    let mut b = good_binary();
    set_count(&mut b, u32::MAX);
    let e = load_bad(&b);
    assert!(
        matches!(
            e.kind,
            LoadErrorKind::Stl(StlError::Truncated {
                promised: u32::MAX,
                ..
            })
        ),
        "{e}"
    );
}

#[test]
fn truncated_file() {
    let b = good_binary();
    let e = load_bad(&b[..b.len() - 17]);
    assert!(
        matches!(e.kind, LoadErrorKind::Stl(StlError::Truncated { .. })),
        "{e}"
    );
    // cut inside the header
    let e = load_bad(&b[..40]);
    assert!(
        matches!(e.kind, LoadErrorKind::Stl(StlError::TooShort { len: 40 })),
        "{e}"
    );
}

#[test]
fn truncated_ascii_file() {
    let text = "solid s\nfacet normal 0 0 1\nouter loop\nvertex 0 0 0\nvertex 100 0 0\nvert";
    let e = load_bad(text.as_bytes());
    assert!(e.to_string().contains("line 6"), "{e}");
}

#[test]
fn nan_coordinate_binary() {
    let mut b = good_binary();
    // triangle 5, vertex 1, y
    let o = 84 + 5 * 50 + 12 + 12 + 4;
    b[o..o + 4].copy_from_slice(&f32::NAN.to_le_bytes());
    let e = load_bad(&b);
    assert!(
        matches!(
            e.kind,
            LoadErrorKind::Stl(StlError::NonFinite {
                triangle: 5,
                vertex: 1,
                ..
            })
        ),
        "{e}"
    );
}

#[test]
fn infinite_coordinate_ascii() {
    let text = "solid s\nfacet normal 0 0 1\nouter loop\nvertex 0 0 0\nvertex 100 0 0\nvertex 0 inf 0\nendloop\nendfacet\nendsolid\n";
    let e = load_bad(text.as_bytes());
    assert!(
        matches!(
            e.kind,
            LoadErrorKind::Stl(StlError::NonFinite { line: Some(6), .. })
        ),
        "{e}"
    );
}

#[test]
fn neither_stl_flavour() {
    let e = load_bad(b"OFF\n3 1 0\n0 0 0\n");
    assert!(e.to_string().contains("neither STL flavour"), "{e}");
    // long enough for a binary header, but the count disagrees with the length
    let mut junk = vec![b'x'; 300];
    junk[..5].copy_from_slice(b"hello");
    let e = load_bad(&junk);
    assert!(
        matches!(e.kind, LoadErrorKind::Stl(StlError::Truncated { .. })),
        "{e}"
    );
}

#[test]
fn ascii_with_unexpected_words() {
    let e = load_bad(b"solid s\nfacet normal 0 0 1\ninner loop\n");
    assert_eq!(
        e.kind.to_string(),
        "ASCII STL, line 3: found `inner`, expected `outer`"
    );
}

#[test]
fn zero_triangles_after_cleaning() {
    // three triangles, all degenerate (a repeated corner, a line, a point)
    let text = "solid s\n\
        facet normal 0 0 1\nouter loop\nvertex 0 0 0\nvertex 0 0 0\nvertex 100 0 0\nendloop\nendfacet\n\
        facet normal 0 0 1\nouter loop\nvertex 0 0 0\nvertex 50 0 0\nvertex 100 0 0\nendloop\nendfacet\n\
        facet normal 0 0 1\nouter loop\nvertex 7 7 7\nvertex 7 7 7\nvertex 7 7 7\nendloop\nendfacet\n\
        endsolid\n";
    let e = load_bad(text.as_bytes());
    assert!(
        matches!(
            e.kind,
            LoadErrorKind::NoTriangles {
                read: 3,
                degenerate: 3,
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn zero_triangles_in_header() {
    let mut b = vec![0u8; 84];
    set_count(&mut b, 0);
    let e = load_bad(&b);
    assert!(
        matches!(e.kind, LoadErrorKind::NoTriangles { read: 0, .. }),
        "{e}"
    );
}

#[test]
fn size_fits_no_units() {
    // a 5-unit triangle is 5 mm, 5 cm... plausible as none? 5 cm = 50 mm < 60; 5 in = 127 mm fits
    // in inches only; use 3000 units: 3 m in mm, 30 m in cm... fits none.
    let text = "solid s\nfacet normal 0 0 1\nouter loop\nvertex 0 0 0\nvertex 3000 0 0\nvertex 0 3000 0\nendloop\nendfacet\nendsolid\n";
    let e = load_bad(text.as_bytes());
    assert!(e.to_string().contains("pass --units"), "{e}");
}

#[test]
fn missing_file() {
    let e = load_path(std::path::Path::new("/nonexistent/scan.stl"), Units::Auto).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("/nonexistent/scan.stl: cannot read"),
        "{e}"
    );
}

#[test]
fn obj_with_nan_or_bad_index() {
    let e = load_bad(b"v 0 0 0\nv 100 0 0\nv 0 NaN 0\nf 1 2 3\n");
    assert_eq!(
        e.kind.to_string(),
        "OBJ, line 3: vertex 3 has a non-finite coordinate (NaN)"
    );
    let e = load_bad(b"v 0 0 0\nv 100 0 0\nv 0 100 0\nf 1 2 4\n");
    assert!(
        e.to_string().contains("line 4: vertex index 4 is outside"),
        "{e}"
    );
}

#[test]
fn ply_truncated_or_promising_too_much() {
    let head = "ply\nformat binary_little_endian 1.0\nelement vertex 3\nproperty float x\nproperty float y\nproperty float z\nelement face 1\nproperty list uchar int vertex_indices\nend_header\n";
    let mut b = head.as_bytes().to_vec();
    for x in [0.0f32, 0.0, 0.0, 100.0, 0.0, 0.0, 0.0, 100.0] {
        b.extend(x.to_le_bytes()); // one float short of three vertices
    }
    let e = load_bad(&b);
    assert!(e.to_string().contains("truncated"), "{e}");
    let huge = head.replace("element face 1", "element face 4294967295");
    let e = load_bad(huge.as_bytes());
    assert!(e.to_string().contains("4294967295 face"), "{e}");
}
