//! Loading, orienting and measuring: the fixture foot (12.8 k triangles) and the same foot
//! subdivided to 817 k triangles (a structured-light-sized scan), from STL bytes in memory; and
//! the scale case of issue 3: both feet subdivided to 1.63 M triangles, loaded from binary and
//! from ASCII STL, then the distance tree and pseudo-normals the offset starts with.
//!
//! `cargo bench -p fab-geometry --bench load -- scale` on the shared 2-core machine, side by side
//! with the sequential versions (branch point d845108): load binary 0.69 s -> 0.52 s, load ASCII
//! 1.49 s -> 0.67 s, bvh+pseudonormals 2.21 s -> 0.46 s.

use criterion::{Criterion, criterion_group, criterion_main};
use fab_geometry::load::{Units, load_bytes};
use fab_geometry::query::{Bvh, PseudoNormals};
use fab_geometry::{Mesh, measure, orient, stl};
use std::hint::black_box;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/../../fixtures/scans/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// Every triangle split into four, `times` times.
fn subdivide(m: &Mesh, times: usize) -> Mesh {
    (0..times).fold(m.clone(), |m, _| m.split4())
}

/// ASCII STL text of a mesh, six significant digits as scanners and the peers write.
fn ascii(m: &Mesh) -> Vec<u8> {
    use std::io::Write;
    let mut out = Vec::with_capacity(m.triangles.len() * 190);
    writeln!(out, "solid feet").unwrap();
    for t in 0..m.triangles.len() {
        writeln!(out, "facet normal 0 0 0\nouter loop").unwrap();
        for p in m.triangle(t) {
            writeln!(out, "vertex {:.6e} {:.6e} {:.6e}", p.x, p.y, p.z).unwrap();
        }
        writeln!(out, "endloop\nendfacet").unwrap();
    }
    writeln!(out, "endsolid feet").unwrap();
    out
}

/// Both fixture feet side by side, each subdivided three times: 1.63 M triangles.
fn feet_1_6m() -> Mesh {
    let left = load_bytes(&fixture("foot-left-m.stl"), Units::Auto)
        .unwrap()
        .mesh;
    let right = load_bytes(&fixture("foot-right-m.stl"), Units::Auto)
        .unwrap()
        .mesh;
    let mut m = subdivide(&left, 3);
    let r = subdivide(&right, 3);
    let base = m.vertices.len() as u32;
    m.vertices.extend(
        r.vertices
            .iter()
            .map(|p| p + nalgebra::Vector3::new(200.0, 0.0, 0.0)),
    );
    m.triangles
        .extend(r.triangles.iter().map(|t| t.map(|v| v + base)));
    m
}

fn bench(c: &mut Criterion) {
    let small = fixture("foot-left-m.stl");
    let foot = load_bytes(&small, Units::Auto).unwrap().mesh;
    let big = stl::to_binary(&subdivide(&foot, 3));
    let mut g = c.benchmark_group("load");
    g.sample_size(10);
    g.bench_function("foot-left 12.8k tris (m -> mm, weld, clean, orient)", |b| {
        b.iter(|| load_bytes(black_box(&small), Units::Auto).unwrap())
    });
    g.bench_function("foot-left subdivided 817k tris", |b| {
        b.iter(|| load_bytes(black_box(&big), Units::Mm).unwrap())
    });
    g.finish();
    let big_mesh = load_bytes(&big, Units::Mm).unwrap().mesh;
    let mut g = c.benchmark_group("orient+measure");
    g.sample_size(10);
    g.bench_function("foot-left 12.8k tris", |b| {
        b.iter(|| {
            let f = orient::foot(black_box(&foot)).unwrap();
            measure::foot(&f.apply(&foot))
        })
    });
    g.bench_function("foot-left subdivided 817k tris", |b| {
        b.iter(|| {
            let f = orient::foot(black_box(&big_mesh)).unwrap();
            measure::foot(&f.apply(&big_mesh))
        })
    });
    g.finish();

    let feet = feet_1_6m();
    let binary = stl::to_binary(&feet);
    let text = ascii(&feet);
    let mut g = c.benchmark_group("scale");
    g.sample_size(10);
    g.bench_function("load 1.6M tris binary", |b| {
        b.iter(|| load_bytes(black_box(&binary), Units::Mm).unwrap())
    });
    g.bench_function("load 1.6M tris ASCII", |b| {
        b.iter(|| load_bytes(black_box(&text), Units::Mm).unwrap())
    });
    let loaded = load_bytes(&binary, Units::Mm).unwrap().mesh;
    g.bench_function("bvh+pseudonormals 1.6M tris", |b| {
        b.iter(|| {
            let bvh = Bvh::new(black_box(&loaded));
            let normals = PseudoNormals::new(&loaded).unwrap();
            (bvh.len(), normals)
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
