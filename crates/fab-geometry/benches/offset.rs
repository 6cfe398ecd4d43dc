//! Offset benchmarks: the fixture foot (12.8 k triangles, metres -> mm) at D = 3 mm, the issue's
//! speed target, and a 1.6 M-triangle scan (both fixture feet, each triangle split 4-way three
//! times) for the scale target. `cargo bench -p fab-geometry --bench offset`.

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use fab_geometry::Mesh;
use fab_geometry::load::{Units, load_path};
use fab_geometry::offset::{OffsetOptions, offset};

fn fixture(name: &str) -> Mesh {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/scans")
        .join(name);
    load_path(&path, Units::Auto).expect("fixture loads").mesh
}

fn both_feet_subdivided() -> Mesh {
    let (l, r) = (fixture("foot-left-m.stl"), fixture("foot-right-m.stl"));
    let off = l.vertices.len() as u32;
    let mut m = l;
    m.vertices.extend(r.vertices);
    m.triangles
        .extend(r.triangles.iter().map(|t| t.map(|i| i + off)));
    m.split4().split4().split4()
}

fn bench(c: &mut Criterion) {
    let foot = fixture("foot-left-m.stl");
    let opts = OffsetOptions::new(3.0);
    let mut g = c.benchmark_group("offset");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.bench_function("foot-left 12.8k tris, D=3mm", |b| {
        b.iter(|| offset(black_box(&foot), &opts).unwrap())
    });
    let big = both_feet_subdivided();
    let name = format!("both feet subdivided {} tris, D=3mm", big.triangles.len());
    g.measurement_time(Duration::from_secs(60));
    g.bench_function(name, |b| b.iter(|| offset(black_box(&big), &opts).unwrap()));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
