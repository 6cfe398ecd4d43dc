//! Loading, orienting and measuring: the fixture foot (12.8 k triangles) and the same foot
//! subdivided to 817 k triangles (a structured-light-sized scan), from STL bytes in memory.

use criterion::{Criterion, criterion_group, criterion_main};
use fab_geometry::load::{Units, load_bytes};
use fab_geometry::{Mesh, measure, orient, stl};
use std::hint::black_box;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/../../fixtures/scans/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// Splits every triangle into four (midpoints), `times` times.
fn subdivide(m: &Mesh, times: usize) -> Mesh {
    let mut m = m.clone();
    for _ in 0..times {
        let mut mid = std::collections::HashMap::new();
        let mut tris = Vec::with_capacity(m.triangles.len() * 4);
        let mut verts = m.vertices.clone();
        let mut midpoint = |a: u32, b: u32, verts: &mut Vec<_>| -> u32 {
            *mid.entry((a.min(b), a.max(b))).or_insert_with(|| {
                let p = nalgebra::center(&verts[a as usize], &verts[b as usize]);
                verts.push(p);
                (verts.len() - 1) as u32
            })
        };
        for &[a, b, c] in &m.triangles {
            let ab = midpoint(a, b, &mut verts);
            let bc = midpoint(b, c, &mut verts);
            let ca = midpoint(c, a, &mut verts);
            tris.extend([[a, ab, ca], [ab, b, bc], [ca, bc, c], [ab, bc, ca]]);
        }
        m = Mesh::new(verts, tris);
    }
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
}

criterion_group!(benches, bench);
criterion_main!(benches);
