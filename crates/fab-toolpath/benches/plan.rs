//! Strategy speed on the fixture foot (12.8 k triangles, metres scaled to mm), turned plantar side
//! up (Z negated, top at -1 mm) on a flat base under its outline, the way `fab plan` mills it:
//! the finishing raster (6 mm ball, 0.5 mm stepover: grids, midpoint grid, refinement), Z-level
//! roughing (10 mm flat, 0.5 mm allowance) and simplification of the finishing moves.
//! `fab plan` end to end is timed with hyperfine (see the README of bench/ or the report).

use criterion::{Criterion, criterion_group, criterion_main};
use fab_toolpath::link::Linker;
use fab_toolpath::simplify::{CHORD_TOLERANCE, simplify};
use fab_toolpath::strategy::{self, DropSurface, FinishParams, Rect, RoughParams, Zone};
use fab_toolpath::{Cutter, Tool};

type Tri = [[f64; 3]; 3];

/// The foot, plantar side up, plus a base plane 30 mm below its top under its XY bounds + 5 mm.
fn positive() -> (Vec<Tri>, Rect, f64) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/scans/foot-left-m.stl"
    );
    let mut f = std::fs::File::open(path).expect("fixture foot-left-m.stl");
    let mesh = stl_io::read_stl(&mut f).expect("valid STL");
    let mut tris: Vec<Tri> = mesh
        .faces
        .iter()
        .map(|face| {
            face.vertices.map(|k| {
                let v = mesh.vertices[k];
                [
                    v[0] as f64 * 1000.0,
                    v[1] as f64 * 1000.0,
                    -(v[2] as f64) * 1000.0,
                ]
            })
        })
        .collect();
    let top = tris.iter().flatten().map(|v| v[2]).fold(f64::MIN, f64::max);
    let base = top - 30.0;
    tris.retain(|t| t.iter().any(|v| v[2] > base));
    for v in tris.iter_mut().flatten() {
        v[2] -= top + 1.0;
    }
    let base = base - top - 1.0;
    let (mut lo, mut hi) = ([f64::MAX; 2], [f64::MIN; 2]);
    for v in tris.iter().flatten() {
        for a in 0..2 {
            lo[a] = lo[a].min(v[a]);
            hi[a] = hi[a].max(v[a]);
        }
    }
    let area = Rect {
        xmin: lo[0] - 5.0,
        ymin: lo[1] - 5.0,
        xmax: hi[0] + 5.0,
        ymax: hi[1] + 5.0,
    };
    let c = |x: f64, y: f64| [x, y, base];
    tris.push([
        c(area.xmin, area.ymin),
        c(area.xmax, area.ymin),
        c(area.xmax, area.ymax),
    ]);
    tris.push([
        c(area.xmin, area.ymin),
        c(area.xmax, area.ymax),
        c(area.xmin, area.ymax),
    ]);
    (tris, area, base)
}

fn bench(c: &mut Criterion) {
    let (tris, area, base) = positive();
    let ball = Tool {
        number: 2,
        cutter: Cutter::Ball { diameter: 6.0 },
    };
    let flat = Tool {
        number: 1,
        cutter: Cutter::Flat { diameter: 10.0 },
    };
    let linker = Linker {
        clearance_z: 2.0,
        margin: 1.0,
        link_feed: 6000.0,
        plunge_feed: 600.0,
        rapid_rate: 0.0,
    };
    let mut g = c.benchmark_group("plan foot-left");
    g.sample_size(10);

    let fp = FinishParams::new(ball, 0.5);
    g.bench_function(
        "finish pass ball:6 0.5 mm (index + grids + refinement)",
        |b| {
            b.iter(|| {
                let s = DropSurface::new(&tris, ball.cutter, 0.0);
                strategy::finish::finish_pass(&s, 0.0, area, base - 10.0, &fp).unwrap()
            })
        },
    );
    let rp = RoughParams::new(flat);
    let outline = vec![area.polygon()];
    g.bench_function("roughing flat:10 contour-parallel levels", |b| {
        b.iter(|| {
            let s = DropSurface::new(&tris, rp.floor_cutter(), 0.0);
            let side = DropSurface::new(&tris, rp.side_cutter(), 0.0);
            let zone = Zone {
                outlines: &outline,
                reach: 0.0,
            };
            strategy::rough(&s, Some(&side), zone, 0.0, base - 10.0, &rp, &linker).unwrap()
        })
    });
    let s = DropSurface::new(&tris, ball.cutter, 0.0);
    let pass = strategy::finish::finish_pass(&s, 0.0, area, base - 10.0, &fp).unwrap();
    let op = strategy::finish(&pass, &fp, &linker, &|_, _| None);
    g.bench_function("simplify finishing moves (chord 0.005 mm, arcs)", |b| {
        b.iter(|| simplify(&op.moves, CHORD_TOLERANCE, true))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
