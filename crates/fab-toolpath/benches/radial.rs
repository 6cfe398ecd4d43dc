//! Radial drop-cutter speed: the fixture limb (14.9 k triangles, mm) laid along X (its scan Z)
//! about its centroid, a 19.05 mm ball dropped on 200 k rays (1000 stations x 200 angles),
//! across the cores with rayon, and the index built for it. Throughput is in rays (CL points).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use fab_toolpath::rotary::RadialIndex;
use rayon::prelude::*;

type Tri = [[f64; 3]; 3];

fn limb() -> Vec<Tri> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/scans/limb-transtibial.stl"
    );
    let mut f = std::fs::File::open(path).expect("fixture limb-transtibial.stl");
    let mesh = stl_io::read_stl(&mut f).expect("valid STL");
    let n = mesh.vertices.len() as f64;
    let (cx, cy) = mesh.vertices.iter().fold((0.0, 0.0), |(a, b), v| {
        (a + v[0] as f64 / n, b + v[1] as f64 / n)
    });
    mesh.faces
        .iter()
        .map(|face| {
            face.vertices.map(|k| {
                let v = mesh.vertices[k];
                [v[2] as f64, v[0] as f64 - cx, v[1] as f64 - cy]
            })
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let tris = limb();
    let idx = RadialIndex::new(&tris, 9.525);
    let (x0, x1) = idx.x_range();
    let (nx, nt) = (1000usize, 200usize);
    let mut g = c.benchmark_group("radial_drop");
    g.sample_size(10);
    g.throughput(Throughput::Elements((nx * nt) as u64));
    g.bench_function("limb_200k_rays_ball_19", |b| {
        b.iter(|| {
            let hits: usize = (0..nx * nt)
                .into_par_iter()
                .map(|k| {
                    let x = x0 + (x1 - x0) * (k / nt) as f64 / nx as f64;
                    let th = std::f64::consts::TAU * (k % nt) as f64 / nt as f64;
                    usize::from(idx.drop(x, th).is_some())
                })
                .sum();
            assert!(hits > nx * nt / 2);
            hits
        })
    });
    g.finish();
    let mut g = c.benchmark_group("radial_index");
    g.sample_size(10);
    g.bench_function("limb_index_ball_19", |b| {
        b.iter(|| RadialIndex::new(&tris, 9.525).len())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
