//! The sparse narrow band: an octree descent over the grid that keeps only the blocks the level
//! set can pass through (the field is 1-Lipschitz, so a block whose centre value is further from
//! the level than its half-diagonal holds no surface), exact field values at the corners of the
//! surviving 2x2x2-cell leaves, and marching tetrahedra on their cells.

use rayon::prelude::*;

use super::field::Field;
use super::tets::{CUBE_TETS, table};
use crate::query::{V3, lerp, norm2, sub};

/// Cells per side of the top blocks of the octree (a power of two).
pub(crate) const TOP: u32 = 16;
/// Corner values within this fraction of a cell of the level are moved out to it. Where the level
/// set passes (almost) through a grid corner, the vertices on all its edges would otherwise bunch
/// up at the corner into slivers that the exact projection can fold over each other; held a
/// little apart, they form a small cap that projects onto the surface without folding. The moved
/// values are still one piecewise-linear field, so its level set stays free of intersections.
const NUDGE: f64 = 0.25;
/// Cells per side of a leaf block.
const LEAF: u32 = 2;

/// A regular grid of cubic cells of side `h` starting at `origin`, `n` cells per axis.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Grid {
    pub origin: V3,
    pub h: f64,
    pub n: [u32; 3],
}

impl Grid {
    #[inline]
    fn point(&self, i: u32, j: u32, k: u32) -> V3 {
        [
            self.origin[0] + i as f64 * self.h,
            self.origin[1] + j as f64 * self.h,
            self.origin[2] + k as f64 * self.h,
        ]
    }
    #[inline]
    fn key(&self, i: u32, j: u32, k: u32) -> u64 {
        (k as u64 * (self.n[1] as u64 + 1) + j as u64) * (self.n[0] as u64 + 1) + i as u64
    }
    #[inline]
    fn unkey(&self, key: u64) -> (u32, u32, u32) {
        let nx = self.n[0] as u64 + 1;
        let ny = self.n[1] as u64 + 1;
        (
            (key % nx) as u32,
            ((key / nx) % ny) as u32,
            (key / (nx * ny)) as u32,
        )
    }
}

/// What the band extraction produced, before projection and refinement.
pub(crate) struct Band {
    pub vertices: Vec<V3>,
    /// For each vertex, an upper bound on its distance to the input (to a corner's nearest
    /// point), to start its exact nearest-point search with.
    pub bounds: Vec<f64>,
    pub triangles: Vec<[u32; 3]>,
    /// Leaf blocks kept, and exact field evaluations made at grid corners.
    pub leaves: usize,
    pub corner_queries: usize,
}

fn descend(
    field: &Field,
    grid: &Grid,
    at: [u32; 3],
    size: u32,
    parent: Option<V3>,
    leaves: &mut Vec<[u32; 3]>,
) {
    let half = size as f64 / 2.0;
    let c = [
        grid.origin[0] + (at[0] as f64 + half) * grid.h,
        grid.origin[1] + (at[1] as f64 + half) * grid.h,
        grid.origin[2] + (at[2] as f64 + half) * grid.h,
    ];
    // The parent's nearest point is a point of the mesh: its distance bounds this one's, and
    // tightly (far tighter than the parent's distance plus the step).
    let bound = parent.map_or(f64::INFINITY, |q| norm2(sub(c, q)).sqrt());
    let reach = half * grid.h * 3f64.sqrt();
    // A block whose centre is further than `|D| + reach` from the input holds no surface
    // whatever the sign (`|v - level| >= |v| - |level| > reach`): searching only within that
    // radius settles the many blocks far from the input after a few box tests.
    let cap = field.radius + reach * (1.0 + 1e-9);
    let hit = if bound > cap {
        match field.bvh.nearest_within(c, cap * cap) {
            Some(hit) => hit,
            None => return,
        }
    } else {
        field.nearest(c, bound)
    };
    let v = field.value_of(c, &hit);
    if (v - field.level).abs() > reach * (1.0 + 1e-9) {
        return;
    }
    if size == LEAF {
        leaves.push(at);
        return;
    }
    let s = size / 2;
    for dz in 0..2 {
        for dy in 0..2 {
            for dx in 0..2 {
                descend(
                    field,
                    grid,
                    [at[0] + dx * s, at[1] + dy * s, at[2] + dz * s],
                    s,
                    Some(hit.point),
                    leaves,
                );
            }
        }
    }
}

/// A marching-tetrahedra vertex: its grid-edge key, position and a bound on its distance to the
/// input.
type EdgeVertex = (u64, V3, f64);

/// Extracts the piecewise-linear level set of the field over the narrow band of `grid`
/// (whose cell counts are multiples of [`TOP`]).
pub(crate) fn extract(field: &Field, grid: &Grid) -> Band {
    let tops: Vec<[u32; 3]> = (0..grid.n[2] / TOP)
        .flat_map(|k| {
            (0..grid.n[1] / TOP)
                .flat_map(move |j| (0..grid.n[0] / TOP).map(move |i| [i * TOP, j * TOP, k * TOP]))
        })
        .collect();
    let mut leaves: Vec<[u32; 3]> = tops
        .par_iter()
        .flat_map_iter(|&at| {
            let mut out = Vec::new();
            descend(field, grid, at, TOP, None, &mut out);
            out
        })
        .collect();
    leaves.par_sort_unstable_by_key(|a| (a[2], a[1], a[0]));
    let trace = std::env::var_os("FAB_OFFSET_TRACE").is_some();
    let clock = std::time::Instant::now();
    if trace {
        eprintln!("offset: band descent {} leaves", leaves.len());
    }

    // Every corner of every leaf, once, in memory order (x fastest): neighbours in the list are
    // neighbours in space, so each query starts with a tight bound from the previous one.
    let mut keys: Vec<u64> = leaves
        .par_iter()
        .flat_map_iter(|&[i, j, k]| {
            (0..27u32).map(move |c| grid.key(i + c % 3, j + (c / 3) % 3, k + c / 9))
        })
        .collect();
    keys.par_sort_unstable();
    keys.dedup();
    let nudge = NUDGE * grid.h;
    let values: Vec<(f64, V3)> = keys
        .par_chunks(512)
        .flat_map_iter(|chunk| {
            let mut prev: Option<V3> = None;
            chunk.iter().map(move |&key| {
                let (i, j, k) = grid.unkey(key);
                let p = grid.point(i, j, k);
                let bound = prev.map_or(f64::INFINITY, |q| norm2(sub(p, q)).sqrt());
                let (v, hit) = field.value(p, bound);
                prev = Some(hit.point);
                let g = v - field.level;
                let g = if g.abs() < nudge {
                    if g < 0.0 { -nudge } else { nudge }
                } else {
                    g
                };
                (g, hit.point)
            })
        })
        .collect();

    if trace {
        eprintln!("offset: band corners {:?}", clock.elapsed());
    }
    // Marching tetrahedra, leaf by leaf. Vertices are named by their grid edge.
    let table = table();
    let (mut verts, tris): (Vec<EdgeVertex>, Vec<[u64; 3]>) = leaves
        .par_iter()
        .fold(
            || (Vec::new(), Vec::new()),
            |(mut verts, mut tris), &[i, j, k]| {
                let mut g = [0.0f64; 27];
                let mut q = [[0.0f64; 3]; 27];
                let mut key = [0u64; 27];
                for c in 0..27u32 {
                    let kk = grid.key(i + c % 3, j + (c / 3) % 3, k + c / 9);
                    key[c as usize] = kk;
                    (g[c as usize], q[c as usize]) =
                        values[keys.binary_search(&kk).expect("corner evaluated")];
                }
                for cell in 0..8u32 {
                    let (cx, cy, cz) = (cell & 1, (cell >> 1) & 1, cell >> 2);
                    let local = |b: u8| -> usize {
                        let b = b as u32;
                        ((cx + (b & 1)) + 3 * (cy + ((b >> 1) & 1)) + 9 * (cz + (b >> 2))) as usize
                    };
                    for (ti, tet) in CUBE_TETS.iter().enumerate() {
                        let mut m = 0usize;
                        for (v, &b) in tet.iter().enumerate() {
                            if g[local(b)] < 0.0 {
                                m |= 1 << v;
                            }
                        }
                        for t in &table[ti][m] {
                            let mut out = [0u64; 3];
                            for (o, &(a, b)) in out.iter_mut().zip(t) {
                                let (la, lb) = (local(a), local(b));
                                let ek = key[la] * 8 + (a ^ b) as u64;
                                let (ga, gb) = (g[la], g[lb]);
                                let pa = {
                                    let (x, y, z) = grid.unkey(key[la]);
                                    grid.point(x, y, z)
                                };
                                let pb = {
                                    let (x, y, z) = grid.unkey(key[lb]);
                                    grid.point(x, y, z)
                                };
                                let p = lerp(pa, pb, ga / (ga - gb));
                                // The ends' nearest input points bound the vertex's distance,
                                // tightly: its projection starts from that bound.
                                let bound = norm2(sub(p, q[la])).min(norm2(sub(p, q[lb])));
                                verts.push((ek, p, bound.sqrt()));
                                *o = ek;
                            }
                            tris.push(out);
                        }
                    }
                }
                (verts, tris)
            },
        )
        .reduce(
            || (Vec::new(), Vec::new()),
            |(mut va, mut ta), (vb, tb)| {
                va.extend(vb);
                ta.extend(tb);
                (va, ta)
            },
        );
    verts.par_sort_unstable_by_key(|v| v.0);
    verts.dedup_by_key(|v| v.0);
    let triangles: Vec<[u32; 3]> = tris
        .par_iter()
        .map(|t| t.map(|ek| verts.binary_search_by_key(&ek, |v| v.0).expect("vertex") as u32))
        .collect();
    Band {
        vertices: verts.iter().map(|v| v.1).collect(),
        bounds: verts.iter().map(|v| v.2).collect(),
        triangles,
        leaves: leaves.len(),
        corner_queries: keys.len(),
    }
}
