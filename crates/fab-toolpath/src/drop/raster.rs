//! The tiled drop-cutter rasteriser: every triangle's exact contact is written into the grid
//! points it can reach, instead of every point querying a tree of triangles.
//!
//! 1. Triangles (non-finite ones ignored) are ordered by their highest vertex, highest first.
//! 2. The grid is cut into tiles of [`TILE_ROWS`] x [`TILE_COLS`] points; each triangle is binned
//!    (counting sort into one flat index array) into the tiles that its XY bounding box, grown by
//!    the cutter radius, overlaps. Each tile's list keeps the height order.
//! 3. Bands of tile rows are disjoint slices of the output and run in parallel (rayon: no locks,
//!    no atomics). In a tile, each triangle is prepared once (facet and edge constants, on the
//!    stack) and then, at each point it can reach, skipped at once when its highest vertex cannot
//!    beat the Z already there (which the height order makes the common case), else dropped
//!    exactly ([`PreparedTriangle::drop_at`]).
//!
//! Memory: the output, one `(f64, u32)` per triangle for the order and one `u32` per
//! triangle-tile pair; nothing per point beyond its Z, nothing allocated per triangle or point.

use rayon::prelude::*;

use super::contact::{PreparedTriangle, Profile, Shape, with_profile};
use super::grid::Grid;
use crate::cutter::Cutter;

/// Grid rows per tile (and per parallel band).
pub const TILE_ROWS: usize = 16;
/// Grid columns per tile.
pub const TILE_COLS: usize = 128;

/// Slack (mm) on the reach of a triangle, so that rounding never drops a point at exactly the
/// cutter radius.
const REACH_SLACK: f64 = 1e-9;

/// Drop-cutter CL grid: for each grid point (y-major, `index = j * nx + i`), the lowest tip Z at
/// which `cutter` touches none of `tris` (mm), or `f64::NEG_INFINITY` where no triangle is under
/// the cutter. Triangles with non-finite coordinates are ignored.
pub fn drop_grid(tris: &[[[f64; 3]; 3]], cutter: &Cutter, grid: &Grid) -> Vec<f64> {
    with_profile!(Shape::of(cutter), p => raster(tris, p, grid))
}

/// The grid-index box a triangle can affect, `(i0, i1, j0, j1)` inclusive.
#[inline]
fn reach(t: &[[f64; 3]; 3], radius: f64, grid: &Grid) -> Option<(usize, usize, usize, usize)> {
    let g = radius + REACH_SLACK;
    let xmin = t[0][0].min(t[1][0]).min(t[2][0]) - g;
    let xmax = t[0][0].max(t[1][0]).max(t[2][0]) + g;
    let ymin = t[0][1].min(t[1][1]).min(t[2][1]) - g;
    let ymax = t[0][1].max(t[1][1]).max(t[2][1]) + g;
    let (i0, i1) = grid.span(grid.x0, grid.nx, xmin, xmax)?;
    let (j0, j1) = grid.span(grid.y0, grid.ny, ymin, ymax)?;
    Some((i0, i1, j0, j1))
}

fn finite(t: &[[f64; 3]; 3]) -> bool {
    t.iter().flatten().all(|c| c.is_finite())
}

fn raster<P: Profile>(tris: &[[[f64; 3]; 3]], p: P, grid: &Grid) -> Vec<f64> {
    let (nx, ny) = (grid.nx, grid.ny);
    let mut out = vec![f64::NEG_INFINITY; nx * ny];
    if out.is_empty() || tris.is_empty() {
        return out;
    }
    let radius = p.radius();
    let (ntx, nty) = (nx.div_ceil(TILE_COLS), ny.div_ceil(TILE_ROWS));

    // 1. Height order.
    let mut order: Vec<(f64, u32)> = tris
        .par_iter()
        .enumerate()
        .filter(|(_, t)| finite(t))
        .map(|(k, t)| (t[0][2].max(t[1][2]).max(t[2][2]), k as u32))
        .collect();
    order.par_sort_unstable_by(|a, b| b.0.total_cmp(&a.0));

    // 2. Bin into tiles: count, prefix sums, fill (order kept within each tile).
    let mut start = vec![0u32; ntx * nty + 1];
    for &(_, k) in &order {
        if let Some((i0, i1, j0, j1)) = reach(&tris[k as usize], radius, grid) {
            for ty in j0 / TILE_ROWS..=j1 / TILE_ROWS {
                for tx in i0 / TILE_COLS..=i1 / TILE_COLS {
                    start[ty * ntx + tx + 1] += 1;
                }
            }
        }
    }
    for k in 1..start.len() {
        start[k] += start[k - 1];
    }
    let mut fill = start.clone();
    let mut bins = vec![0u32; start[ntx * nty] as usize];
    for &(_, k) in &order {
        if let Some((i0, i1, j0, j1)) = reach(&tris[k as usize], radius, grid) {
            for ty in j0 / TILE_ROWS..=j1 / TILE_ROWS {
                for tx in i0 / TILE_COLS..=i1 / TILE_COLS {
                    let slot = &mut fill[ty * ntx + tx];
                    bins[*slot as usize] = k;
                    *slot += 1;
                }
            }
        }
    }
    drop(order);
    drop(fill);

    // 3. Bands of tile rows in parallel, each writing only its own rows.
    out.par_chunks_mut(nx * TILE_ROWS)
        .enumerate()
        .for_each(|(ty, band)| {
            let rows = band.len() / nx;
            let j_base = ty * TILE_ROWS;
            for tx in 0..ntx {
                let tile = ty * ntx + tx;
                let (c0, c1) = (tx * TILE_COLS, ((tx + 1) * TILE_COLS).min(nx) - 1);
                for &k in &bins[start[tile] as usize..start[tile + 1] as usize] {
                    let t = &tris[k as usize];
                    let Some((i0, i1, j0, j1)) = reach(t, radius, grid) else {
                        continue;
                    };
                    let (i0, i1) = (i0.max(c0), i1.min(c1));
                    let (j0, j1) = (j0.max(j_base), j1.min(j_base + rows - 1));
                    let zmax = t[0][2].max(t[1][2]).max(t[2][2]);
                    let (bx0, bx1) = (
                        t[0][0].min(t[1][0]).min(t[2][0]),
                        t[0][0].max(t[1][0]).max(t[2][0]),
                    );
                    let (by0, by1) = (
                        t[0][1].min(t[1][1]).min(t[2][1]),
                        t[0][1].max(t[1][1]).max(t[2][1]),
                    );
                    // Prepared on the first point that needs it (many triangles need none).
                    let mut pt: Option<PreparedTriangle> = None;
                    for j in j0..=j1 {
                        let y = grid.y(j);
                        let dy = (by0 - y).max(y - by1).max(0.0);
                        let dy2 = dy * dy;
                        let row = &mut band[(j - j_base) * nx..(j - j_base + 1) * nx];
                        for (i, z) in row.iter_mut().enumerate().take(i1 + 1).skip(i0) {
                            // No point of the triangle is higher than zmax nor nearer than its
                            // bounding box: skip when that cannot lift the cutter above z.
                            let g = zmax - *z;
                            if g <= 0.0 {
                                continue;
                            }
                            let x = grid.x(i);
                            let dx = (bx0 - x).max(x - bx1).max(0.0);
                            if dx * dx + dy2 > p.reach2(g) + REACH_SLACK {
                                continue;
                            }
                            let pt = pt.get_or_insert_with(|| PreparedTriangle::new(&p, t));
                            let d = pt.drop_above(&p, x, y, *z);
                            if d > *z {
                                *z = d;
                            }
                        }
                    }
                }
            }
        });
    out
}
