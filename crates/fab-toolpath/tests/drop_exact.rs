//! Exactness of the drop-cutter, without OpenCAMLib: analytic cases for each cutter, the
//! primitives against a dense sampling of the triangle (an independent formulation: the tip may
//! go no lower than `P.z - h(rho(P))` for any point P of the triangle), and the tiled rasteriser
//! and the point index against brute force over every triangle, on the fixture foot in mm.

use fab_toolpath::Cutter;
use fab_toolpath::drop::{
    DropIndex, Grid, drop_grid, edge_drop, facet_drop, triangle_drop, vertex_drop,
};

const BALL: Cutter = Cutter::Ball { diameter: 6.0 };
const FLAT: Cutter = Cutter::Flat { diameter: 10.0 };
const BULL: Cutter = Cutter::Bull {
    diameter: 12.0,
    corner_radius: 2.0,
};

type Tri = [[f64; 3]; 3];

/// The fixture's left foot, metres scaled to mm.
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

fn bounds(tris: &[Tri]) -> ([f64; 3], [f64; 3]) {
    let mut lo = [f64::INFINITY; 3];
    let mut hi = [f64::NEG_INFINITY; 3];
    for v in tris.iter().flatten() {
        for a in 0..3 {
            lo[a] = lo[a].min(v[a]);
            hi[a] = hi[a].max(v[a]);
        }
    }
    (lo, hi)
}

/// Deterministic xorshift generator for random cases.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
    fn range(&mut self, a: f64, b: f64) -> f64 {
        a + (b - a) * self.next()
    }
}

/// Brute force: every triangle, the public primitive, max.
fn brute(tris: &[Tri], cutter: &Cutter, x: f64, y: f64) -> f64 {
    let r = cutter.radius();
    tris.iter()
        .filter(|t| {
            t.iter().any(|v| v[0] >= x - r)
                && t.iter().any(|v| v[0] <= x + r)
                && t.iter().any(|v| v[1] >= y - r)
                && t.iter().any(|v| v[1] <= y + r)
        })
        .filter_map(|t| triangle_drop(cutter, x, y, t))
        .fold(f64::NEG_INFINITY, f64::max)
}

/// Independent reference: max of `P.z - h(rho)` over a dense sampling of the triangle (interior
/// lattice, a fine sampling of each edge and of the cutter's rim over the triangle), a lower bound
/// of the exact drop that converges to it.
fn sampled(cutter: &Cutter, x: f64, y: f64, t: &Tri) -> f64 {
    let r = cutter.radius();
    let mut best = f64::NEG_INFINITY;
    let mut take = |p: [f64; 3]| {
        let rho = (p[0] - x).hypot(p[1] - y);
        if rho <= r {
            best = best.max(p[2] - cutter.height_at(rho));
        }
    };
    let lerp = |a: [f64; 3], b: [f64; 3], s: f64| {
        [
            a[0] + (b[0] - a[0]) * s,
            a[1] + (b[1] - a[1]) * s,
            a[2] + (b[2] - a[2]) * s,
        ]
    };
    let n = 300;
    for i in 0..=n {
        for j in 0..=(n - i) {
            let (u, v) = (i as f64 / n as f64, j as f64 / n as f64);
            let w = 1.0 - u - v;
            take([0, 1, 2].map(|a| u * t[0][a] + v * t[1][a] + w * t[2][a]));
        }
    }
    let m = 20_000;
    for k in 0..3 {
        for s in 0..=m {
            take(lerp(t[k], t[(k + 1) % 3], s as f64 / m as f64));
        }
    }
    // The cutter's rim over the triangle (where a flat end's facet contact is).
    let det = (t[1][0] - t[0][0]) * (t[2][1] - t[0][1]) - (t[2][0] - t[0][0]) * (t[1][1] - t[0][1]);
    if det != 0.0 {
        for k in 0..m {
            let a = k as f64 / m as f64 * std::f64::consts::TAU;
            let rr = r * (1.0 - 1e-12);
            let (px, py) = (x + rr * a.cos(), y + rr * a.sin());
            let (dx, dy) = (px - t[0][0], py - t[0][1]);
            let u = (dx * (t[2][1] - t[0][1]) - (t[2][0] - t[0][0]) * dy) / det;
            let v = ((t[1][0] - t[0][0]) * dy - dx * (t[1][1] - t[0][1])) / det;
            if u >= 0.0 && v >= 0.0 && u + v <= 1.0 {
                take([
                    px,
                    py,
                    t[0][2] + u * (t[1][2] - t[0][2]) + v * (t[2][2] - t[0][2]),
                ]);
            }
        }
    }
    best
}

#[test]
fn ball_on_planes() {
    // Horizontal: the tip rests on the plane.
    let t = [[-50.0, -50.0, 5.0], [50.0, -50.0, 5.0], [0.0, 60.0, 5.0]];
    assert_eq!(triangle_drop(&BALL, 1.0, 2.0, &t), Some(5.0));
    // Inclined z = 0.5 x: centre at distance R from the plane, tip = plane + R / nz - R.
    let t = [[-50.0, -50.0, -25.0], [50.0, -50.0, 25.0], [0.0, 60.0, 0.0]];
    let nz = 1.0 / (1.0f64 + 0.25).sqrt();
    let want = 0.5 * 2.0 + 3.0 / nz - 3.0;
    let got = facet_drop(&BALL, 2.0, 1.0, &t).unwrap();
    assert!((got - want).abs() < 1e-12, "{got} vs {want}");
    assert_eq!(triangle_drop(&BALL, 2.0, 1.0, &t), Some(got));
    // Flat on the same plane: the rim touches uphill, 5 mm further along +x.
    let got = triangle_drop(&FLAT, 2.0, 1.0, &t).unwrap();
    assert!((got - 0.5 * 7.0).abs() < 1e-12, "{got}");
    // Bull: flat part radius 4 uphill plus the corner on the plane.
    let got = triangle_drop(&BULL, 2.0, 1.0, &t).unwrap();
    let want = 0.5 * (2.0 + 4.0) + 2.0 / nz - 2.0;
    assert!((got - want).abs() < 1e-12, "{got} vs {want}");
}

#[test]
fn flat_and_ball_on_a_vertex() {
    // A small spike: apex at (0, 0, 10), base far below.
    let t = [[0.0, 0.0, 10.0], [1.0, 0.2, -10.0], [0.2, 1.0, -10.0]];
    for (x, y) in [(0.0, 0.0), (-3.0, -2.0), (-4.9, 0.0)] {
        assert_eq!(triangle_drop(&FLAT, x, y, &t), Some(10.0));
        assert_eq!(vertex_drop(&FLAT, x, y, t[0]), Some(10.0));
    }
    assert_eq!(vertex_drop(&FLAT, -5.1, 0.0, t[0]), None);
    // Ball 2 mm off axis: 10 - (3 - sqrt(9 - 4)).
    let got = triangle_drop(&BALL, -2.0, 0.0, &t).unwrap();
    assert!((got - (10.0 - 3.0 + 5.0f64.sqrt())).abs() < 1e-12, "{got}");
    assert_eq!(triangle_drop(&BALL, -3.5, 0.0, &t), None);
}

#[test]
fn bull_on_a_horizontal_edge() {
    // A ridge along y at x = 0, z = 7, falling away steeply on both sides.
    let p = [0.0, -40.0, 7.0];
    let q = [0.0, 40.0, 7.0];
    for d in [0.0, 1.0, 3.9, 4.0, 4.5, 5.0, 5.9, 6.0] {
        let want = 7.0 - BULL.height_at(d);
        let got = edge_drop(&BULL, d, 3.0, p, q).unwrap();
        assert!((got - want).abs() < 1e-12, "d {d}: {got} vs {want}");
    }
    assert_eq!(edge_drop(&BULL, 6.01, 3.0, p, q), None);
}

#[test]
fn bull_on_sloped_edges_matches_sampling() {
    let mut rng = Rng(0x9e3779b97f4a7c15);
    for _ in 0..200 {
        let p = [
            rng.range(-8.0, 8.0),
            rng.range(-8.0, 8.0),
            rng.range(-5.0, 5.0),
        ];
        let q = [
            rng.range(-8.0, 8.0),
            rng.range(-8.0, 8.0),
            rng.range(-5.0, 5.0),
        ];
        let (x, y) = (rng.range(-3.0, 3.0), rng.range(-3.0, 3.0));
        let got = edge_drop(&BULL, x, y, p, q);
        // Fine sampling of the segment.
        let n = 200_000;
        let mut best = f64::NEG_INFINITY;
        for k in 0..=n {
            let s = k as f64 / n as f64;
            let v = [0, 1, 2].map(|a| p[a] + (q[a] - p[a]) * s);
            let rho = (v[0] - x).hypot(v[1] - y);
            if rho <= BULL.radius() {
                best = best.max(v[2] - BULL.height_at(rho));
            }
        }
        match got {
            None => assert_eq!(best, f64::NEG_INFINITY),
            Some(z) => {
                assert!(z >= best - 1e-12, "exact {z} below a sample {best}");
                assert!(z - best < 1e-4, "exact {z} vs sampled {best}");
            }
        }
    }
}

#[test]
fn primitives_match_dense_sampling_on_random_triangles() {
    let mut rng = Rng(0x2545f4914f6cdd1d);
    let mut worst = 0.0f64;
    for cutter in [BALL, FLAT, BULL] {
        for _ in 0..150 {
            let c = [rng.range(-4.0, 4.0), rng.range(-4.0, 4.0), 0.0];
            let t: Tri = std::array::from_fn(|_| {
                [
                    c[0] + rng.range(-5.0, 5.0),
                    c[1] + rng.range(-5.0, 5.0),
                    rng.range(-4.0, 4.0),
                ]
            });
            let (x, y) = (rng.range(-3.0, 3.0), rng.range(-3.0, 3.0));
            let exact = triangle_drop(&cutter, x, y, &t);
            let reference = sampled(&cutter, x, y, &t);
            match exact {
                None => assert_eq!(reference, f64::NEG_INFINITY, "{cutter} at {x},{y}: {t:?}"),
                Some(z) => {
                    assert!(
                        z >= reference - 1e-9,
                        "{cutter}: exact {z} below sample {reference}"
                    );
                    worst = worst.max(z - reference);
                    assert!(
                        z - reference < 5e-4,
                        "{cutter}: exact {z} vs sampled {reference} {t:?} at {x},{y}"
                    );
                }
            }
        }
    }
    eprintln!("largest gap exact - sampled: {worst:e} mm");
}

#[test]
fn grid_equals_brute_force_on_the_foot() {
    let tris = foot();
    let (lo, hi) = bounds(&tris);
    for cutter in [BALL, FLAT, BULL] {
        // Whole foot, coarse grid, origin off the vertices; beyond the bounds too.
        let grid = Grid::over(lo[0] - 7.3, hi[0] + 7.0, lo[1] - 6.9, hi[1] + 7.0, 3.1);
        let z = drop_grid(&tris, &cutter, &grid);
        assert_eq!(z.len(), grid.nx * grid.ny);
        let mut hits = 0;
        for j in 0..grid.ny {
            for i in 0..grid.nx {
                let want = brute(&tris, &cutter, grid.x(i), grid.y(j));
                let got = z[j * grid.nx + i];
                assert!(
                    got == want || (got - want).abs() < 1e-12,
                    "{cutter} at ({i}, {j}): {got} vs {want}"
                );
                hits += (want > f64::NEG_INFINITY) as usize;
            }
        }
        // The corners are off the foot, most of the inside is on it.
        assert_eq!(z[0], f64::NEG_INFINITY);
        assert!(hits > grid.nx * grid.ny / 3, "{hits}");
        // A dense patch around the middle of the foot.
        let (cx, cy) = ((lo[0] + hi[0]) / 2.0, (lo[1] + hi[1]) / 2.0);
        let grid = Grid::over(cx - 10.0, cx + 10.0, cy - 10.0, cy + 10.0, 0.37);
        let z = drop_grid(&tris, &cutter, &grid);
        for j in 0..grid.ny {
            for i in 0..grid.nx {
                let want = brute(&tris, &cutter, grid.x(i), grid.y(j));
                assert_eq!(z[j * grid.nx + i], want, "{cutter} dense at ({i}, {j})");
            }
        }
    }
}

#[test]
fn drop_index_equals_brute_force() {
    let tris = foot();
    let (lo, hi) = bounds(&tris);
    let mut rng = Rng(77);
    for cutter in [BALL, FLAT, BULL] {
        let index = DropIndex::new(&tris, cutter);
        for _ in 0..2000 {
            let x = rng.range(lo[0] - 8.0, hi[0] + 8.0);
            let y = rng.range(lo[1] - 8.0, hi[1] + 8.0);
            let want = brute(&tris, &cutter, x, y);
            let got = index.drop_point(x, y).unwrap_or(f64::NEG_INFINITY);
            assert_eq!(got, want, "{cutter} at {x},{y}");
        }
        assert_eq!(index.drop_point(lo[0] - 100.0, lo[1]), None);
        assert_eq!(index.drop_point(f64::NAN, lo[1]), None);
    }
}

#[test]
fn grid_does_not_depend_on_triangle_order_and_ignores_nan() {
    let mut tris = foot();
    let (lo, hi) = bounds(&tris);
    let grid = Grid::over(lo[0], hi[0], lo[1], hi[1], 1.3);
    let a = drop_grid(&tris, &BALL, &grid);
    tris.reverse();
    tris.push([[f64::NAN, 0.0, 0.0], [1.0, 1.0, 1e9], [0.0, 1.0, 0.0]]);
    let b = drop_grid(&tris, &BALL, &grid);
    assert_eq!(a, b);
    // The tip is never above the highest vertex, nor below the lowest minus the cutter radius.
    for z in a.iter().filter(|z| z.is_finite()) {
        assert!(*z <= hi[2] && *z >= lo[2] - BALL.radius());
    }
}

#[test]
fn empty_inputs() {
    let grid = Grid::over(0.0, 1.0, 0.0, 1.0, 0.5);
    assert_eq!(drop_grid(&[], &BALL, &grid), vec![f64::NEG_INFINITY; 9]);
    assert_eq!(DropIndex::new(&[], BALL).drop_point(0.0, 0.0), None);
}

#[test]
fn vertical_and_degenerate_triangles_match_sampling() {
    let cases: [Tri; 5] = [
        // Vertical wall (facet normal horizontal): only edges and vertices touch.
        [[0.0, -20.0, 0.0], [0.0, 20.0, 0.0], [0.0, 0.0, 10.0]],
        // A vertical edge (two corners at the same XY).
        [[1.0, 1.0, -3.0], [1.0, 1.0, 4.0], [-2.0, 3.0, 0.5]],
        // Collinear corners: a sliver of zero area, sloped.
        [[-4.0, -1.0, 0.0], [0.0, 0.0, 2.0], [4.0, 1.0, 4.0]],
        // All three corners at one XY.
        [[0.5, 0.5, 1.0], [0.5, 0.5, 2.0], [0.5, 0.5, 7.0]],
        // Nearly vertical, steep facet.
        [[0.0, -5.0, 0.0], [1e-9, 5.0, 0.0], [0.0, 0.0, 9.0]],
    ];
    for cutter in [BALL, FLAT, BULL] {
        for t in &cases {
            for (x, y) in [(1.0, 0.0), (-2.5, 1.0), (0.4, 0.6), (2.9, -0.2), (5.5, 0.3)] {
                let exact = triangle_drop(&cutter, x, y, t);
                let reference = sampled(&cutter, x, y, t);
                match exact {
                    None => assert_eq!(reference, f64::NEG_INFINITY, "{cutter} {t:?} at {x},{y}"),
                    Some(z) => {
                        assert!(
                            z >= reference - 1e-9,
                            "{cutter} {t:?} at {x},{y}: {z} < {reference}"
                        );
                        assert!(
                            z - reference < 5e-4,
                            "{cutter} {t:?} at {x},{y}: {z} vs {reference}"
                        );
                    }
                }
            }
        }
    }
}
