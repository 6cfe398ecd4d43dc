//! The sparse narrow band: exact field values at the grid points near the level set, found by
//! scan conversion of the mesh's features ([`super::scan`]) rather than a tree search per point,
//! and the 2x2x2-cell leaves whose centre is within the leaf's half-diagonal of the level (the
//! field is 1-Lipschitz, so no other leaf holds surface).
//!
//! Values live in the sparse block grid ([`super::grid`]): only the blocks the scan reaches (then
//! only those holding leaves' corners) get storage.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use rayon::prelude::*;

use super::field::Field;
use super::grid::{
    Blocks, Grid, TOP, TOP3, below, block_of, block_origin, local, rank_at, ranks, unlocal,
};
use super::scan;
use crate::query::{Nearest, V3};

/// Cells per side of a leaf of the tree descent.
const LEAF: u32 = 2;

/// Exact field value at a grid corner, less the level (negative: inside the offset solid), and
/// the corner's nearest input point (to bound the searches of nearby points).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Corner {
    pub g: f32,
    pub q: [f32; 3],
    /// The nearest triangle's slot in the tree (a start for nearby queries).
    pub slot: u32,
}

impl Corner {
    /// The corner whose value less the level is `g`, with its nearest point `hit`.
    #[inline]
    fn new(g: f64, hit: &Nearest) -> Corner {
        Corner {
            g: g as f32,
            q: hit.point.map(|x| x as f32),
            slot: hit.slot,
        }
    }
}

const UNUSED: Corner = Corner {
    g: f32::NAN,
    q: [0.0; 3],
    slot: 0,
};
const WANTED: Corner = Corner {
    g: f32::INFINITY,
    q: [0.0; 3],
    slot: 0,
};

/// Values at grid points, packed: per block of [`TOP`]³ points with storage, a bit per point
/// that has a value, and the values of those points only (the band's leaves reach about half
/// the points of their blocks: on foot-left +3, 164 k of 318 k).
pub(crate) struct Corners {
    pub blocks: Blocks,
    /// Per storage slot, its points that have a value, by local index.
    masks: Vec<u64>,
    /// Per storage slot, the place of its first value in `values`.
    starts: Vec<u32>,
    values: Vec<Corner>,
}

impl Corners {
    /// Storage for the points of `blocks` flagged in `wanted` (per point of each slot), each
    /// value `fill`.
    fn new(blocks: Blocks, wanted: &[AtomicBool], fill: Corner) -> Self {
        const _: () = assert!(TOP3 == 64, "one bit per point of a block in a u64");
        let masks: Vec<u64> = wanted
            .par_chunks(TOP3)
            .map(|w| {
                w.iter().enumerate().fold(0u64, |m, (l, b)| {
                    m | u64::from(b.load(Ordering::Relaxed)) << l
                })
            })
            .collect();
        let starts = ranks(&masks);
        let values = (0..*starts.last().unwrap() as usize)
            .into_par_iter()
            .map(|_| fill)
            .collect();
        Corners {
            blocks,
            masks,
            starts,
            values,
        }
    }

    /// Place of the value of point `(i, j, k)`, if it has one.
    #[inline]
    pub fn index(&self, i: u32, j: u32, k: u32) -> Option<usize> {
        rank_at(&self.blocks, &self.masks, &self.starts, i, j, k)
    }

    /// The storage, and each storage slot with its points that have a value (a mask by local
    /// index) and their values, in order of local index, for filling in parallel.
    fn slots_mut(&mut self) -> (&Blocks, Vec<SlotValues<'_>>) {
        let mut out = Vec::with_capacity(self.masks.len());
        let mut rest: &mut [Corner] = &mut self.values;
        for (s, &m) in self.masks.iter().enumerate() {
            let (part, tail) = rest.split_at_mut(m.count_ones() as usize);
            out.push((s, m, part));
            rest = tail;
        }
        (&self.blocks, out)
    }
}

/// A storage slot of [`Corners`], the mask of its points that have a value, and their values.
type SlotValues<'a> = (usize, u64, &'a mut [Corner]);

impl std::ops::Index<usize> for Corners {
    type Output = Corner;
    fn index(&self, x: usize) -> &Corner {
        &self.values[x]
    }
}

impl std::ops::IndexMut<usize> for Corners {
    fn index_mut(&mut self, x: usize) -> &mut Corner {
        &mut self.values[x]
    }
}

/// The narrow band: its leaves and the exact values at their corners.
pub(crate) struct Band {
    /// Values at the leaves' corners.
    pub corners: Corners,
    /// Leaves (lowest cell of each 2x2x2 block), grouped by the block of cells holding them:
    /// `leaves[leaf_start[s]..leaf_start[s + 1]]` lie in cell block slot `s`.
    pub cell_blocks: Blocks,
    pub leaves: Vec<[u32; 3]>,
    pub leaf_start: Vec<usize>,
    /// Exact field evaluations made at grid corners.
    pub corner_queries: usize,
}

impl Band {
    #[inline]
    pub fn corner(&self, i: u32, j: u32, k: u32) -> Corner {
        match self.corners.index(i, j, k) {
            Some(x) => self.corners[x],
            None => UNUSED,
        }
    }
}

fn descend(
    field: &Field,
    grid: &Grid,
    at: [u32; 3],
    size: u32,
    parent: Option<u32>,
    leaves: &mut Vec<[u32; 3]>,
    known: &mut Vec<([u32; 3], Corner)>,
) {
    let half = size as f64 / 2.0;
    let c = [
        grid.origin[0] + (at[0] as f64 + half) * grid.h,
        grid.origin[1] + (at[1] as f64 + half) * grid.h,
        grid.origin[2] + (at[2] as f64 + half) * grid.h,
    ];
    let reach = half * grid.h * 3f64.sqrt();
    // A block whose centre is further than `|D| + reach` from the input holds no surface
    // whatever the sign (`|v - level| >= |v| - |level| > reach`): searching only within that
    // radius settles the many blocks far from the input after a few box tests. The parent's
    // nearest triangle starts the search: it is usually this block's too.
    let cap = field.radius + reach * (1.0 + 1e-9);
    let found = match parent {
        Some(slot) => field.bvh.nearest_from_within(c, slot, cap * cap),
        None => field.bvh.nearest_within(c, cap * cap),
    };
    let Some(hit) = found else {
        return;
    };
    let v = field.value_of(c, &hit);
    if (v - field.level).abs() > reach * (1.0 + 1e-9) {
        return;
    }
    // The centre of a block is a grid point, and its value is exact (it is within the search
    // radius): kept for the corner it may turn out to be.
    let h = size / 2;
    known.push((
        [at[0] + h, at[1] + h, at[2] + h],
        Corner::new(v - field.level, &hit),
    ));
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
                    Some(hit.slot),
                    leaves,
                    known,
                );
            }
        }
    }
}

/// Finds the narrow band of `grid` and the exact field at its corners by an octree descent: a
/// tree query at the centre of each block the level set may pass through, then one at each
/// corner of the surviving leaves (each starting from a neighbour's nearest triangle). For a
/// mesh much finer than the grid, where [`by_scan`] would make several regions per grid point.
pub(crate) fn by_tree(field: &Field, grid: &Grid) -> Band {
    let nb = grid.n.map(|n| n / TOP);
    let tops: Vec<[u32; 3]> = (0..nb[2])
        .flat_map(|k| (0..nb[1]).flat_map(move |j| (0..nb[0]).map(move |i| [i, j, k])))
        .collect();
    // Leaves per top block, in block order.
    type Found = (Vec<[u32; 3]>, Vec<([u32; 3], Corner)>);
    let per_block: Vec<Found> = tops
        .par_iter()
        .map(|&[i, j, k]| {
            let (mut out, mut known) = (Vec::new(), Vec::new());
            descend(
                field,
                grid,
                [i * TOP, j * TOP, k * TOP],
                TOP,
                None,
                &mut out,
                &mut known,
            );
            (out, known)
        })
        .collect();
    let mut cell_blocks = Blocks::new(nb);
    let mut leaves = Vec::new();
    let mut leaf_start = vec![0];
    let mut known = Vec::new();
    for (b, (l, k)) in per_block.into_iter().enumerate() {
        known.extend(k);
        if l.is_empty() {
            continue;
        }
        cell_blocks.add(b);
        leaves.extend(l);
        leaf_start.push(leaves.len());
    }

    let (corner_blocks, wanted) = leaf_corners(&leaves, nb);
    let mut corners = Corners::new(corner_blocks, &wanted, WANTED);
    drop(wanted);
    // Corners the descent already evaluated (block centres) need no second query.
    for (p, c) in known {
        if let Some(x) = corners.index(p[0], p[1], p[2])
            && corners[x].g == f32::INFINITY
        {
            corners[x] = c;
        }
    }
    let (cb, slots) = corners.slots_mut();
    let queries: usize = slots
        .into_par_iter()
        .map(|(s, mask, chunk)| {
            let o = cb.origin_of(s);
            let mut prev: Option<u32> = None;
            let mut n = 0;
            // In snake order (rows and planes walked back and forth), so that each corner's
            // predecessor, whose nearest triangle starts its search, is a neighbour.
            let t = TOP as usize;
            let snake = (0..t).flat_map(|k| {
                (0..t).flat_map(move |j0| {
                    let j = if k.is_multiple_of(2) { j0 } else { t - 1 - j0 };
                    (0..t).map(move |i0| {
                        let i = if (j0 + k * t).is_multiple_of(2) {
                            i0
                        } else {
                            t - 1 - i0
                        };
                        (k * t + j) * t + i
                    })
                })
            });
            for l in snake {
                if mask >> l & 1 == 0 {
                    continue;
                }
                let c = &mut chunk[below(mask, l) as usize];
                if c.g != f32::INFINITY {
                    continue;
                }
                let u = unlocal(l);
                let p = grid.point(o[0] + u[0], o[1] + u[1], o[2] + u[2]);
                let hit = match prev {
                    Some(slot) => field.nearest_from(p, slot),
                    None => field.nearest(p, f64::INFINITY),
                };
                let v = field.value_of(p, &hit);
                prev = Some(hit.slot);
                *c = Corner::new(v - field.level, &hit);
                n += 1;
            }
            n
        })
        .sum();
    Band {
        corners,
        cell_blocks,
        leaves,
        leaf_start,
        corner_queries: queries,
    }
}

/// Blocks of the scan's storage per chunk (32 KiB of keys).
const CHUNK: usize = 64;
/// A block not reached yet, and one being given its slot.
const UNREACHED: u32 = u32::MAX;
const GIVING: u32 = u32::MAX - 1;

/// The scan's storage: per grid point the packed key of its nearest feature so far, kept only
/// for the blocks of points the scan reaches, each given its slot when first reached (in
/// chunks of [`CHUNK`] blocks, allocated as needed). So no pass over the regions beforehand has
/// to find which blocks they reach; the slots' order depends on the threads, and
/// [`Reached::in_order`] lists the blocks by place.
struct Reached {
    nb: [u32; 3],
    /// Per block of the grid, its slot, or [`UNREACHED`] (or [`GIVING`], briefly).
    slot: Vec<AtomicU32>,
    /// Per slot, its block.
    block_of: Vec<AtomicU32>,
    next: AtomicU32,
    chunks: Vec<OnceLock<Box<[AtomicU64]>>>,
}

impl Reached {
    fn new(nb: [u32; 3]) -> Self {
        let n: usize = nb.iter().map(|&x| x as usize).product();
        Reached {
            nb,
            slot: (0..n).map(|_| AtomicU32::new(UNREACHED)).collect(),
            block_of: (0..n).map(|_| AtomicU32::new(UNREACHED)).collect(),
            next: AtomicU32::new(0),
            chunks: (0..n.div_ceil(CHUNK)).map(|_| OnceLock::new()).collect(),
        }
    }

    #[inline]
    fn block(&self, i: u32, j: u32, k: u32) -> usize {
        block_of(self.nb, i, j, k)
    }

    /// Grid coordinates of the first point of block `b`.
    fn origin_of(&self, b: usize) -> [u32; 3] {
        block_origin(self.nb, b)
    }

    /// The keys of the points of slot `s`.
    #[inline]
    fn points(&self, s: u32) -> &[AtomicU64] {
        let s = s as usize;
        let chunk = self.chunks[s / CHUNK].get_or_init(|| {
            (0..CHUNK * TOP3)
                .map(|_| AtomicU64::new(u64::MAX))
                .collect()
        });
        &chunk[(s % CHUNK) * TOP3..][..TOP3]
    }

    /// The key of point `(i, j, k)`, its block given a slot if it has none.
    #[inline]
    fn reach(&self, i: u32, j: u32, k: u32) -> &AtomicU64 {
        let b = self.block(i, j, k);
        let mut s = self.slot[b].load(Ordering::Acquire);
        while s >= GIVING {
            if s == UNREACHED
                && self.slot[b]
                    .compare_exchange(UNREACHED, GIVING, Ordering::Acquire, Ordering::Acquire)
                    .is_ok()
            {
                s = self.next.fetch_add(1, Ordering::Relaxed);
                self.block_of[s as usize].store(b as u32, Ordering::Relaxed);
                self.slot[b].store(s, Ordering::Release);
                break;
            }
            std::hint::spin_loop();
            s = self.slot[b].load(Ordering::Acquire);
        }
        &self.points(s)[local(i, j, k)]
    }

    /// The key of point `(i, j, k)` if its block was reached.
    #[inline]
    fn get(&self, i: u32, j: u32, k: u32) -> Option<&AtomicU64> {
        let s = self.slot[self.block(i, j, k)].load(Ordering::Acquire);
        (s < GIVING).then(|| &self.points(s)[local(i, j, k)])
    }

    /// The blocks reached, by place, each with its slot.
    fn in_order(&self) -> Vec<(usize, u32)> {
        let n = self.next.load(Ordering::Acquire);
        let mut order: Vec<(usize, u32)> = (0..n)
            .map(|s| {
                (
                    self.block_of[s as usize].load(Ordering::Relaxed) as usize,
                    s,
                )
            })
            .collect();
        order.sort_unstable();
        order
    }
}

/// Finds the narrow band of `grid` and the exact field at its corners by scan conversion.
///
/// Every feature of the mesh (face, edge, vertex) is scanned over the grid points of its region
/// ([`scan`]) at distances within `W = 2 sqrt(3) h` of the level, each point keeping the nearest
/// feature found; the value at a point is then the exact closest point of that feature's
/// triangle. A point whose field value is within `W` of the level lies in the region of its
/// nearest feature, so its value is exact. Leaves are the 2x2x2-cell blocks whose centre is
/// within the leaf's half-diagonal `sqrt(3) h` of the level (the field is 1-Lipschitz, so no
/// other block holds surface), and their corners are then within `W`: exact. A point further
/// off may be reached only by farther features (across a gap, from the inside of a thin part)
/// and get a value that is too large, so a leaf's centre is confirmed by the tree before the
/// leaf is kept, unless its scanned distance rules that out (under `W - |level|`).
pub(crate) fn by_scan(field: &Field, grid: &Grid, features: &scan::Features) -> Band {
    let nb = grid.n.map(|n| n / TOP);
    let reach = 3f64.sqrt() * grid.h;
    // A scanned value is exact where the field is within `W` of the level (see above), and the
    // field at a point is no further from 0 than the distance to any triangle: so a point whose
    // scanned distance is under `W - |level|` has its exact value, and a leaf centre there needs
    // no confirmation (on foot-left +3, about a third of them).
    let exact2 = (2.0 * reach - field.level.abs()).max(0.0).powi(2);
    let range = scan::Range::near(field.level_set(), grid.h);
    // Each point keeps its nearest feature: squared distance (as `f32` bits, which order as the
    // numbers do) and triangle slot packed in one word, so the smallest wins whatever the order
    // the regions are scanned in.
    let d2 = (range.dmin * range.dmin, range.dmax * range.dmax);
    let best = Reached::new(nb.map(|n| n + 1));
    let points = scan::Lattice {
        heights: range.heights,
        shift: 0.0,
        relax: 0.0,
        last: grid.n,
    };
    features.regions(grid, range).for_each(|r| {
        scan::rasterize(&r, grid, &points, d2, |[i, j, k], e2| {
            let key = ((e2 as f32).to_bits() as u64) << 32 | r.slot as u64;
            let at = best.reach(i, j, k);
            // most points already hold a nearer feature: no atomic write then
            if key < at.load(Ordering::Relaxed) {
                at.fetch_min(key, Ordering::Relaxed);
            }
        });
    });
    // Leaves: blocks of 2x2x2 cells (a block of points on the grid's far faces holds no cell)
    // whose centre is near the level, the centre confirmed by the tree. The value at a point is
    // the exact closest point of its nearest feature's triangle.
    let value_at = |p: V3, b: u64| -> (Nearest, f64) {
        let hit = field.bvh.nearest_on(p, b as u32);
        let v = field.value_of(p, &hit) - field.level;
        (hit, v)
    };
    let t = TOP as usize;
    // Per parallel job (a run of blocks, in order): its leaves, the centres the tree corrected
    // (the others get the scan's value with the leaves' corners below), and each block with
    // leaves and how many; few vectors, not two per block.
    type Found = (Vec<[u32; 3]>, Vec<([u32; 3], Corner)>, Vec<(usize, usize)>);
    let per_job: Vec<Found> = best
        .in_order()
        .into_par_iter()
        .fold(
            || (Vec::new(), Vec::new(), Vec::new()),
            |(mut leaves, mut corrected, mut counts), (s, slot)| {
                let o = best.origin_of(s);
                let best = best.points(slot);
                if (0..3).any(|k| o[k] >= grid.n[k]) {
                    return (leaves, corrected, counts);
                }
                let before = leaves.len();
                for c in 0..t / 2 {
                    for b in 0..t / 2 {
                        for a in 0..t / 2 {
                            let l = ((2 * c + 1) * t + 2 * b + 1) * t + 2 * a + 1;
                            let key = best[l].load(Ordering::Relaxed);
                            if key == u64::MAX {
                                continue;
                            }
                            let u = unlocal(l);
                            let at = [o[0] + u[0], o[1] + u[1], o[2] + u[2]];
                            let p = grid.point(at[0], at[1], at[2]);
                            let (hit, v) = value_at(p, key);
                            if v.abs() > reach * (1.0 + 1e-9) {
                                continue;
                            }
                            // (nearer than `exact2`, no value its distance allows is off the
                            // scan's range)
                            if hit.dist2 >= exact2 {
                                let tree = field.nearest_from(p, hit.slot);
                                if tree.dist2 < hit.dist2 * (1.0 - 1e-6) {
                                    let v = field.value_of(p, &tree) - field.level;
                                    if v.abs() > reach * (1.0 + 1e-9) {
                                        continue;
                                    }
                                    corrected.push((at, Corner::new(v, &tree)));
                                }
                            }
                            leaves.push([
                                o[0] + 2 * a as u32,
                                o[1] + 2 * b as u32,
                                o[2] + 2 * c as u32,
                            ]);
                        }
                    }
                }
                if leaves.len() > before {
                    counts.push((s, leaves.len() - before));
                }
                (leaves, corrected, counts)
            },
        )
        .collect();
    let mut cell_blocks = Blocks::new(nb);
    let mut leaves = Vec::with_capacity(per_job.iter().map(|j| j.0.len()).sum());
    let mut leaf_start = vec![0];
    let mut corrected = Vec::new();
    for (l, c, counts) in per_job {
        corrected.extend(c);
        leaves.extend(l);
        for (s, n) in counts {
            let o = best.origin_of(s);
            cell_blocks.add(cell_blocks.block(o[0], o[1], o[2]));
            leaf_start.push(leaf_start.last().unwrap() + n);
        }
    }
    // Values are kept at the leaves' corners only (on foot-left +3, 164 k of the 266 k points
    // the scan reached): storage for the blocks holding any, the wanted points flagged, then
    // filled.
    let (storage, wanted) = leaf_corners(&leaves, nb);
    let mut corners = Corners::new(storage, &wanted, UNUSED);
    drop(wanted);
    let missed = std::sync::atomic::AtomicUsize::new(0);
    let (storage, slots) = corners.slots_mut();
    let filled: usize = slots
        .into_par_iter()
        .map(|(s, mask, chunk)| {
            let o = storage.origin_of(s);
            let mut bits = mask;
            for c in chunk.iter_mut() {
                let l = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                let u = unlocal(l);
                let (i, j, k) = (o[0] + u[0], o[1] + u[1], o[2] + u[2]);
                let p = grid.point(i, j, k);
                let key = best
                    .get(i, j, k)
                    .map_or(u64::MAX, |x| x.load(Ordering::Relaxed));
                *c = if key == u64::MAX {
                    // Every corner of a leaf is within `W` of the level and so was reached;
                    // should one not have been (a gap in the regions would be a bug), the
                    // tree gives its value.
                    missed.fetch_add(1, Ordering::Relaxed);
                    let hit = field.nearest(p, f64::INFINITY);
                    Corner::new(field.value_of(p, &hit) - field.level, &hit)
                } else {
                    let (hit, v) = value_at(p, key);
                    Corner::new(v, &hit)
                };
            }
            chunk.len()
        })
        .sum();
    drop(best);
    let missed = missed.into_inner();
    debug_assert!(missed == 0, "scan missed {missed} leaf corners");
    // The leaf centres the tree corrected get the tree's value.
    for (p, c) in corrected {
        let x = corners
            .index(p[0], p[1], p[2])
            .expect("a leaf centre is its corner");
        corners[x] = c;
    }
    Band {
        corner_queries: filled,
        corners,
        cell_blocks,
        leaves,
        leaf_start,
    }
}

/// Storage for the corners of `leaves` (a grid of `nb` cell blocks), and per point of it
/// whether it is a leaf's corner (a leaf at the top face of a block reaches into the next
/// block's first layer of points).
fn leaf_corners(leaves: &[[u32; 3]], nb: [u32; 3]) -> (Blocks, Vec<AtomicBool>) {
    let mut storage = Blocks::new(nb.map(|n| n + 1));
    for l in leaves {
        for c in [0u32, 2] {
            for b in [0u32, 2] {
                for a in [0u32, 2] {
                    storage.add(storage.block(l[0] + a, l[1] + b, l[2] + c));
                }
            }
        }
    }
    // Flagged in parallel: a corner shared by leaves gets the same flag from each.
    let wanted: Vec<AtomicBool> = (0..storage.len() * TOP3)
        .into_par_iter()
        .map(|_| AtomicBool::new(false))
        .collect();
    leaves.par_iter().for_each(|l| {
        for c in 0..3u32 {
            for b in 0..3u32 {
                for a in 0..3u32 {
                    let x = storage
                        .index(l[0] + a, l[1] + b, l[2] + c)
                        .expect("corner block allocated");
                    wanted[x].store(true, Ordering::Relaxed);
                }
            }
        }
    });
    (storage, wanted)
}

#[cfg(test)]
impl Band {
    /// A band over the whole of `grid` with corner values `g(i, j, k)` (no field, no queries):
    /// for testing the extraction on fields of any shape.
    pub(crate) fn dense(grid: &Grid, g: impl Fn(u32, u32, u32) -> f32) -> Band {
        let nb = grid.n.map(|n| n / TOP);
        let mut cell_blocks = Blocks::new(nb);
        let mut leaves = Vec::new();
        let mut leaf_start = vec![0];
        for bk in 0..nb[2] {
            for bj in 0..nb[1] {
                for bi in 0..nb[0] {
                    cell_blocks.add(cell_blocks.block(bi * TOP, bj * TOP, bk * TOP));
                    for k in (0..TOP).step_by(2) {
                        for j in (0..TOP).step_by(2) {
                            for i in (0..TOP).step_by(2) {
                                leaves.push([bi * TOP + i, bj * TOP + j, bk * TOP + k]);
                            }
                        }
                    }
                    leaf_start.push(leaves.len());
                }
            }
        }
        let mut corner_blocks = Blocks::new(nb.map(|n| n + 1));
        for k in 0..=grid.n[2] {
            for j in 0..=grid.n[1] {
                for i in 0..=grid.n[0] {
                    corner_blocks.add(corner_blocks.block(i, j, k));
                }
            }
        }
        let wanted: Vec<AtomicBool> = (0..corner_blocks.len() * TOP3)
            .map(|_| AtomicBool::new(true))
            .collect();
        let mut corners = Corners::new(corner_blocks, &wanted, UNUSED);
        for k in 0..=grid.n[2] {
            for j in 0..=grid.n[1] {
                for i in 0..=grid.n[0] {
                    let x = corners.index(i, j, k).unwrap();
                    let p = grid.point(i, j, k);
                    corners[x] = Corner {
                        g: g(i, j, k),
                        q: [p[0] as f32, p[1] as f32, p[2] as f32 - 1.0],
                        slot: 0,
                    };
                }
            }
        }
        Band {
            corners,
            cell_blocks,
            leaves,
            leaf_start,
            corner_queries: 0,
        }
    }
}
