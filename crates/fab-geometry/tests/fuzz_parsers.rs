//! Fuzzing the scan readers (STL binary and ASCII, OBJ, PLY ASCII and binary, and the loader that
//! picks among them and repairs): arbitrary bytes, and structured mutations of pieces of a
//! fixture scan in every format. Whatever the bytes, a reader returns a mesh or an error, never
//! panics, and takes no long time. A fixed number of cases each run (a few seconds in release).

#[path = "../../../tests/support/mutate.rs"]
mod mutate;

use std::time::Duration;

use fab_geometry::load::{Units, load_bytes};
use fab_geometry::{obj, ply, stl};

/// The first `n` triangles of the left foot fixture (metres).
fn triangles(n: usize) -> Vec<[[f64; 3]; 3]> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/scans/foot-left-m.stl"
    );
    let (soup, _) = stl::parse(&std::fs::read(path).unwrap()).unwrap();
    soup.triangles.into_iter().take(n).collect()
}

fn binary_stl(t: &[[[f64; 3]; 3]]) -> Vec<u8> {
    let mut b = vec![b' '; 80];
    b.extend((t.len() as u32).to_le_bytes());
    for tri in t {
        b.extend([0u8; 12]);
        for p in tri {
            for x in p {
                b.extend((*x as f32).to_le_bytes());
            }
        }
        b.extend([0, 0]);
    }
    b
}

fn ascii_stl(t: &[[[f64; 3]; 3]]) -> Vec<u8> {
    let mut s = String::from("solid foot\n");
    for tri in t {
        s.push_str("  facet normal 0 0 1\n    outer loop\n");
        for p in tri {
            s.push_str(&format!("      vertex {} {} {}\n", p[0], p[1], p[2]));
        }
        s.push_str("    endloop\n  endfacet\n");
    }
    s.push_str("endsolid foot\n");
    s.into_bytes()
}

fn obj_text(t: &[[[f64; 3]; 3]]) -> Vec<u8> {
    let mut s = String::from("# foot\no foot\n");
    for tri in t {
        for p in tri {
            s.push_str(&format!("v {} {} {}\n", p[0], p[1], p[2]));
        }
    }
    for (i, _) in t.iter().enumerate() {
        let k = 3 * i + 1;
        match i % 3 {
            0 => s.push_str(&format!("f {} {} {}\n", k, k + 1, k + 2)),
            1 => s.push_str(&format!("f {k}//1 {}//1 {}//1\n", k + 1, k + 2)),
            _ => s.push_str("f -3/1/1 -2/1/1 -1/1/1\n"),
        }
    }
    s.into_bytes()
}

fn ply(t: &[[[f64; 3]; 3]], binary: bool) -> Vec<u8> {
    let mut b = format!(
        "ply\nformat {} 1.0\ncomment fuzz seed\nelement vertex {}\nproperty float x\n\
         property float y\nproperty float z\nelement face {}\n\
         property list uchar int vertex_indices\nend_header\n",
        if binary {
            "binary_little_endian"
        } else {
            "ascii"
        },
        3 * t.len(),
        t.len()
    )
    .into_bytes();
    for tri in t {
        for p in tri {
            if binary {
                for x in p {
                    b.extend((*x as f32).to_le_bytes());
                }
            } else {
                b.extend(format!("{} {} {}\n", p[0], p[1], p[2]).bytes());
            }
        }
    }
    for i in 0..t.len() as i32 {
        if binary {
            b.push(3);
            for k in 0..3 {
                b.extend((3 * i + k).to_le_bytes());
            }
        } else {
            b.extend(format!("3 {} {} {}\n", 3 * i, 3 * i + 1, 3 * i + 2).bytes());
        }
    }
    b
}

/// Every reader on `bytes`; errors are fine, panics are not.
fn read_all(bytes: &[u8]) {
    let _ = stl::parse(bytes);
    let _ = obj::parse(bytes);
    let _ = ply::parse(bytes);
    for units in [Units::Auto, Units::M] {
        if let Ok(l) = load_bytes(bytes, units) {
            // what loads is finite
            assert!(
                l.mesh
                    .vertices
                    .iter()
                    .all(|p| p.x.is_finite() && p.y.is_finite() && p.z.is_finite())
            );
        }
    }
}

fn seeds() -> Vec<Vec<u8>> {
    let t = triangles(60);
    let seeds = vec![
        binary_stl(&t),
        ascii_stl(&t),
        obj_text(&t),
        ply(&t, false),
        ply(&t, true),
    ];
    for s in &seeds {
        // each seed reads as it is (a piece of a foot: too small for its units to be told)
        if let Err(e) = load_bytes(s, Units::M) {
            panic!("seed {}: {e}", String::from_utf8_lossy(&s[..40]));
        }
    }
    seeds
}

#[test]
fn readers_never_panic_on_mutated_scans() {
    let seeds = seeds();
    mutate::run(
        "mutated scans",
        10_000,
        Duration::from_secs(2),
        mutate::mutated(seeds.len()),
        |(k, edits)| read_all(&mutate::apply(&seeds[k], &edits)),
    );
}

#[test]
fn readers_never_panic_on_arbitrary_bytes() {
    mutate::run(
        "arbitrary bytes",
        50_000,
        Duration::from_secs(2),
        mutate::arbitrary(&["solid x\n", "ply\n", "ply\nformat ascii 1.0\n", "v 1 2 3\n"]),
        |b| read_all(&b),
    );
    mutate::run(
        "arbitrary lines",
        10_000,
        Duration::from_secs(2),
        mutate::arbitrary_lines(),
        |s| {
            read_all(s.as_bytes());
            read_all(format!("solid x\n{s}").as_bytes());
            read_all(format!("ply\nformat ascii 1.0\n{s}").as_bytes());
        },
    );
}
