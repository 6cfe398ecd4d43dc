//! Drop-cutter speed: the fixture foot (12.8 k triangles, metres scaled to mm) on a 0.5 mm grid
//! (~125 k points) for each cutter, and the same foot subdivided to 1.03 M triangles on a 0.25 mm
//! grid (~500 k points) with a 6 mm ball. Side-by-side with OpenCAMLib: bench/drop_vs_ocl.sh.

use criterion::{Criterion, criterion_group, criterion_main};
use fab_toolpath::Cutter;
use fab_toolpath::drop::{DropIndex, Grid, drop_grid};

type Tri = [[f64; 3]; 3];

fn foot() -> Vec<Tri> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/scans/foot-left-m.stl"
    );
    let mut f = std::fs::File::open(path).expect("fixture foot-left-m.stl");
    let mesh = stl_io::read_stl(&mut f).expect("valid STL");
    mesh.faces
        .iter()
        .map(|face| {
            face.vertices.map(|k| {
                let v = mesh.vertices[k];
                [
                    v[0] as f64 * 1000.0,
                    v[1] as f64 * 1000.0,
                    v[2] as f64 * 1000.0,
                ]
            })
        })
        .collect()
}

/// Each triangle into n*n (barycentric lattice).
fn subdivide(tris: &[Tri], n: usize) -> Vec<Tri> {
    let mut out = Vec::with_capacity(tris.len() * n * n);
    for t in tris {
        let p = |i: usize, j: usize| -> [f64; 3] {
            let (u, v) = (i as f64 / n as f64, j as f64 / n as f64);
            std::array::from_fn(|a| t[0][a] + (t[1][a] - t[0][a]) * u + (t[2][a] - t[0][a]) * v)
        };
        for i in 0..n {
            for j in 0..n - i {
                out.push([p(i, j), p(i + 1, j), p(i, j + 1)]);
                if i + j < n - 1 {
                    out.push([p(i + 1, j), p(i + 1, j + 1), p(i, j + 1)]);
                }
            }
        }
    }
    out
}

fn grid_over(tris: &[Tri], step: f64) -> Grid {
    let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
    for v in tris.iter().flatten() {
        for a in 0..2 {
            lo[a] = lo[a].min(v[a]);
            hi[a] = hi[a].max(v[a]);
        }
    }
    Grid::over(lo[0], hi[0], lo[1], hi[1], step)
}

fn bench(c: &mut Criterion) {
    let tris = foot();
    let grid = grid_over(&tris, 0.5);
    let mut g = c.benchmark_group("drop_grid foot-left 0.5 mm");
    g.sample_size(20);
    for spec in ["ball:6", "flat:10", "bull:12:2"] {
        let cutter: Cutter = spec.parse().unwrap();
        g.bench_function(spec, |b| b.iter(|| drop_grid(&tris, &cutter, &grid)));
    }
    g.finish();

    let ball: Cutter = "ball:6".parse().unwrap();
    let mut g = c.benchmark_group("DropIndex foot-left");
    g.sample_size(20);
    g.bench_function("new ball:6", |b| b.iter(|| DropIndex::new(&tris, ball)));
    let index = DropIndex::new(&tris, ball);
    let (x0, y0) = (grid.x0, grid.y0);
    g.bench_function("10k drop_point ball:6", |b| {
        b.iter(|| {
            let mut s = 0.0;
            for k in 0..10_000 {
                let x = x0 + (k % 100) as f64 * 1.13;
                let y = y0 + (k / 100) as f64 * 2.71;
                s += index.drop_point(x, y).unwrap_or(0.0);
            }
            s
        })
    });
    g.finish();

    let big = subdivide(&tris, 9);
    let grid = grid_over(&big, 0.25);
    let mut g = c.benchmark_group("drop_grid 1M triangles 0.25 mm");
    g.sample_size(10);
    g.bench_function(
        format!("ball:6 {} tris {} points", big.len(), grid.len()),
        |b| b.iter(|| drop_grid(&big, &ball, &grid)),
    );
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
