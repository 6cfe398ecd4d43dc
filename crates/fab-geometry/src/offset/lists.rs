//! Candidate lists: for each grid cell the offset surface crosses, the triangles that can hold
//! the nearest point of any point in it, so that the exact nearest-point queries of projection
//! and refinement test a handful of triangles instead of searching the tree.
//!
//! Every point of a crossed cell is within the cell's diagonal `sqrt(3) h` of the level set (the
//! field is 1-Lipschitz and the level is reached on one of the cell's edges), so its nearest
//! feature lies at a distance within `sqrt(3) h` of `|D|`, and the point lies in that feature's
//! region ([`super::scan`]). A cell's list is every triangle whose feature region, grown by half
//! a cell, holds the cell's centre at a distance within `sqrt(3) h` (plus half the diagonal) of
//! `|D|`; so the nearest of the list is the exact nearest point. Points outside crossed cells go
//! to the tree.

use rayon::prelude::*;

use super::grid::{BLOCK_LEN, Blocks, Grid, TOP, below, rank_at, unlocal};
use super::scan;
use crate::query::{Bvh, Nearest, V3, nearest_of};

/// The lists of the crossed cells of a band.
pub(crate) struct Lists {
    /// The band's cell blocks (a copy: a few kB), so that the band can be dropped once the lists
    /// are made.
    blocks: Blocks,
    grid: Grid,
    /// `1 / h`: a point's cell found by a multiplication, not three divisions. A point within a
    /// rounding of a cell's face may be given the cell next to it; that cell's list holds its
    /// nearest triangle too, since the lists are made with a slack of 1e-6 of a cell (`reach`,
    /// `relax`), far more than a rounding.
    inv_h: f64,
    /// Per cell block, its crossed cells (a bit per cell, by place), and the rank of its first:
    /// the crossed cells are numbered block by block.
    crossed: Vec<u64>,
    first: Vec<u32>,
    /// Per crossed cell `r` (its rank): `slots[start[r]..start[r + 1]]`, triangles by tree slot,
    /// ascending.
    start: Vec<u32>,
    slots: Vec<u32>,
}

/// The cells of the block starting at cell `o` that lie in the box `lo..=hi` (inclusive, cell
/// indices), as bits by their place in the block (x fastest, as [`unlocal`]).
#[inline]
fn box_mask(o: [u32; 3], lo: [u32; 3], hi: [u32; 3]) -> u64 {
    const _: () = assert!(TOP == 4, "one bit per cell of a block of 4x4x4 in a u64");
    // per axis, the 4 bits of the block's cells along it within the box
    let run = |k: usize| -> u64 {
        let a = lo[k].saturating_sub(o[k]).min(4);
        let b = (hi[k] + 1).saturating_sub(o[k]).min(4);
        if b > a { (1u64 << b) - (1u64 << a) } else { 0 }
    };
    let (x, y, z) = (run(0), run(1), run(2));
    // x bits repeated in each of the 16 rows; each selected row's 4 bits in each of the 4
    // layers; each selected layer's 16 bits
    let mut ym = 0u64;
    let mut zm = 0u64;
    for j in 0..4 {
        if y >> j & 1 == 1 {
            ym |= 0xf << (4 * j);
        }
        if z >> j & 1 == 1 {
            zm |= 0xffff << (16 * j);
        }
    }
    (x * 0x1111_1111_1111_1111) & (ym * 0x0001_0001_0001_0001) & zm
}

/// Marks a slot in the lists' runs of words (a crossed cell's rank has it clear).
const MARK: u32 = 1 << 31;

impl Lists {
    /// The lists of the crossed cells of a band (`blocks`: the band's cell blocks; `crossed`: a
    /// bit per crossed cell of each, `first`: the rank of each block's first, as
    /// [`super::nets::classify`] finds them) for level set `l`, the band scanned by
    /// [`super::band::by_scan`] from `features`.
    pub fn new(
        blocks: &Blocks,
        crossed: &[u64],
        first: &[u32],
        features: &scan::Features,
        l: scan::Level,
        grid: &Grid,
    ) -> Self {
        let (level, radius) = (l.level, l.radius);
        let n = *first.last().unwrap() as usize;
        let h = grid.h;
        let reach = 3f64.sqrt() * h * (1.0 + 1e-6) + 1e-6;
        let half = reach / 2.0;
        let lo = (radius - reach - half).max(0.0);
        let hi = radius + reach + half;
        let cells = scan::Lattice {
            // the planes are moved out by half a cell (`relax`): a face's slab is the heights
            // of the points themselves, on both sides of an open mesh's faces
            heights: if l.signed {
                (level - reach, level + reach)
            } else {
                (-(radius + reach), radius + reach)
            },
            shift: 0.5,
            relax: h / 2.0 * (1.0 + 1e-6),
            last: grid.n.map(|n| n - 1),
        };
        // (cell, slot) pairs, kept in the parallel jobs' own vectors rather than joined into one.
        // Each region tests only the crossed cells of the blocks its box reaches, not every cell
        // centre of its columns: on foot-left +3, 1.31 M tests (before whole blocks are skipped)
        // where the columns held 1.36 M centres inside the regions, 0.30 M of them crossed.
        let centre = |i: u32, j: u32, k: u32| -> V3 {
            let p = grid.point(i, j, k);
            [p[0] + h / 2.0, p[1] + h / 2.0, p[2] + h / 2.0]
        };
        let d2 = (lo * lo, hi * hi);
        let slack = 1e-9 * h;
        // The regions are made for the lattice's heights, not the band's: a face's box is then
        // the slab the lists test, about half as thick. (A closed mesh's edge whose wedge lies on
        // the side away from the offset is then skipped where every point of a crossed cell is
        // on the offset's side: `|D|` over `sqrt(3) h`. Such an edge is the nearest feature of
        // points on its wedge's side only.)
        let range = scan::Range {
            heights: cells.heights,
            ..scan::Range::near(l, grid.h)
        };
        // Per parallel job, a run of words: a region's slot (with [`MARK`] set) before the ranks
        // of the crossed cells whose lists get it.
        let runs: Vec<Vec<u32>> = features
            .regions(grid, range)
            .fold(Vec::new, |mut out, r| {
                let Some(probe) = scan::Probe::new(&r, &cells) else {
                    return out;
                };
                let mut marked = false;
                let (blo, bhi) = (probe.lo.map(|x| x / TOP), probe.hi.map(|x| x / TOP));
                for bk in blo[2]..=bhi[2] {
                    for bj in blo[1]..=bhi[1] {
                        for bi in blo[0]..=bhi[0] {
                            let Some(s) = blocks.slot_of_block(bi, bj, bk) else {
                                continue;
                            };
                            let o = [bi, bj, bk].map(|b| b * TOP);
                            let mut bits = crossed[s] & box_mask(o, probe.lo, probe.hi);
                            // the block's cell centres span 3 cells about its middle point; a
                            // block a plane leaves wholly outside is skipped
                            let mid = grid.point(o[0] + 2, o[1] + 2, o[2] + 2);
                            if bits == 0 || !probe.may_hold(mid, 1.5 * h, slack) {
                                continue;
                            }
                            while bits != 0 {
                                let l = bits.trailing_zeros() as usize;
                                bits &= bits - 1;
                                let u = unlocal(l);
                                let (i, j, k) = (o[0] + u[0], o[1] + u[1], o[2] + u[2]);
                                if probe.holds(centre(i, j, k), d2, slack) {
                                    if !marked {
                                        out.push(MARK | r.slot);
                                        marked = true;
                                    }
                                    out.push(first[s] + below(crossed[s], l));
                                }
                            }
                        }
                    }
                }
                out
            })
            .collect();
        // Bucketed by cell (a counting sort: a crossed cell gets a handful of pairs), then each
        // cell's slots sorted and made unique in place.
        let mut start = vec![0u32; n + 1];
        for &w in runs.iter().flatten() {
            if w & MARK == 0 {
                start[w as usize] += 1;
            }
        }
        // `start[x]` holds the end of cell `x`'s run, then is counted down to its start as the
        // run is filled
        let mut end = 0;
        for s in &mut start[..n] {
            end += *s;
            *s = end;
        }
        start[n] = end;
        let mut slots = vec![0u32; end as usize];
        let mut slot = 0;
        for &w in runs.iter().flatten() {
            if w & MARK != 0 {
                slot = w & !MARK;
            } else {
                start[w as usize] -= 1;
                slots[start[w as usize] as usize] = slot;
            }
        }
        drop(runs);
        // Each group of [`BLOCK_LEN`] cells sorted and made unique in place, in parallel: a
        // group's runs are one stretch of `slots`, and its kept entries move to the stretch's
        // front, with each cell's start now counted from there.
        let groups = n.div_ceil(BLOCK_LEN);
        let mut lens = Vec::with_capacity(groups);
        let kept: Vec<u32> = {
            let mut parts = Vec::with_capacity(groups);
            let mut rest: &mut [u32] = &mut slots;
            for b in 0..groups {
                let len = start[((b + 1) * BLOCK_LEN).min(n)] - start[b * BLOCK_LEN];
                let (part, tail) = rest.split_at_mut(len as usize);
                parts.push(part);
                lens.push(len);
                rest = tail;
            }
            start[..n]
                .par_chunks_mut(BLOCK_LEN)
                .zip(parts)
                .map(|(starts, part)| {
                    let base = starts[0];
                    let mut kept = 0;
                    for c in 0..starts.len() {
                        let s = (starts[c] - base) as usize;
                        let e = match starts.get(c + 1) {
                            Some(&x) => (x - base) as usize,
                            None => part.len(),
                        };
                        starts[c] = kept as u32;
                        part[s..e].sort_unstable();
                        for i in s..e {
                            if i == s || part[i] != part[i - 1] {
                                part[kept] = part[i];
                                kept += 1;
                            }
                        }
                    }
                    kept as u32
                })
                .collect()
        };
        // The blocks' kept stretches moved together (forward: each lands at or before where it
        // was), and the cells' starts made absolute.
        let mut offsets = Vec::with_capacity(kept.len() + 1);
        let (mut to, mut from) = (0u32, 0u32);
        for (&k, &len) in kept.iter().zip(&lens) {
            offsets.push(to);
            slots.copy_within(from as usize..(from + k) as usize, to as usize);
            from += len;
            to += k;
        }
        start[..n]
            .par_chunks_mut(BLOCK_LEN)
            .zip(offsets.par_iter())
            .for_each(|(starts, &o)| starts.iter_mut().for_each(|x| *x += o));
        start[n] = to;
        slots.truncate(to as usize);
        slots.shrink_to_fit();
        Lists {
            blocks: blocks.clone(),
            grid: *grid,
            inv_h: 1.0 / grid.h,
            crossed: crossed.to_vec(),
            first: first.to_vec(),
            start,
            slots,
        }
    }

    /// The exact nearest point of the mesh to `p` when `p` lies in a crossed cell; `None`
    /// elsewhere. Ties go to the lowest slot.
    #[inline]
    pub fn nearest(&self, bvh: &Bvh, p: V3) -> Option<Nearest> {
        let mut c = [0u32; 3];
        for k in 0..3 {
            let f = (p[k] - self.grid.origin[k]) * self.inv_h;
            if !(f >= 0.0 && f < self.grid.n[k] as f64) {
                return None;
            }
            c[k] = f as u32;
        }
        let r = rank_at(&self.blocks, &self.crossed, &self.first, c[0], c[1], c[2])?;
        let (s, e) = (self.start[r] as usize, self.start[r + 1] as usize);
        if s == e {
            return None;
        }
        let (dist2, slot, point, feature) = nearest_of(p, bvh.slot_triangles(), &self.slots[s..e]);
        Some(Nearest {
            dist2,
            point,
            triangle: bvh.slot_id(slot),
            feature,
            slot,
        })
    }

    /// Triangles listed in all (a measure of the work a query saves).
    pub fn len(&self) -> usize {
        self.slots.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Mesh;
    use crate::offset::field::Field;
    use crate::query::PseudoNormals;

    /// A fixture scan through the crate's own loader (welded; the feet in metres become mm).
    fn fixture(name: &str, units: crate::Units) -> Mesh {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fixtures/scans")
            .join(name);
        crate::load_path(&path, units).unwrap().mesh
    }

    /// The bits of a block's cells inside a box, against a cell-by-cell test, for every box
    /// reaching the block from before it, inside it and past it.
    #[test]
    fn box_mask_is_the_cells_in_the_box() {
        let o = [4u32, 8, 12];
        let ends = |k: usize| (o[k].saturating_sub(2)..o[k] + 6).collect::<Vec<u32>>();
        let mut boxes = 0;
        for (x0, x1) in ends(0)
            .iter()
            .flat_map(|&a| ends(0).into_iter().map(move |b| (a, b)))
        {
            for y0 in ends(1) {
                for z1 in ends(2) {
                    let (lo, hi) = ([x0, y0, o[2] + 1], [x1, o[1] + 2, z1]);
                    let mut want = 0u64;
                    for l in 0..BLOCK_LEN {
                        let u = unlocal(l);
                        if (0..3).all(|k| (lo[k]..=hi[k]).contains(&(o[k] + u[k]))) {
                            want |= 1 << l;
                        }
                    }
                    assert_eq!(box_mask(o, lo, hi), want, "box {lo:?}..={hi:?}");
                    boxes += 1;
                }
            }
        }
        assert!(boxes > 1000);
    }

    /// The scanned band and the candidate lists against the tree on real scans: every corner of
    /// every leaf has the tree's exact value, and every point tried in a crossed cell (centres
    /// and off-centre points of the leaves' cells) gets the tree's nearest distance from its list.
    #[test]
    fn scanned_values_and_lists_match_the_tree() {
        // (the last: a cell wider than some plantar triangles lying flat, whose regions hold no
        // grid point but touch cells; such regions were once dropped, and 3 answers were off)
        for (name, units, d, h) in [
            ("foot-left-m.stl", crate::Units::M, 3.0f64, 1.0),
            ("foot-right-m.stl", crate::Units::M, -3.0, 1.0),
            ("limb-transtibial.stl", crate::Units::Mm, 2.0, 1.0),
            ("foot-right-m.stl", crate::Units::M, 2.5, 1.75),
        ] {
            let mesh = fixture(name, units);
            let bvh = Bvh::new(&mesh);
            let normals = PseudoNormals::new(&mesh).ok();
            let radius: f64 = d.abs();
            let level = if normals.is_some() { d } else { radius };
            let field = Field {
                bvh: &bvh,
                normals: normals.as_ref(),
                level,
                radius,
                lists: None,
            };
            let (lo, hi) = mesh.bounds().unwrap();
            let grid = super::super::grid_around([lo.x, lo.y, lo.z], [hi.x, hi.y, hi.z], radius, h);
            let features = scan::Features::new(&mesh, &bvh, normals.is_some());
            let band = super::super::band::by_scan(&field, &grid, &features);
            assert!(
                band.leaves.len() > 1000,
                "{name}: {} leaves",
                band.leaves.len()
            );
            // the same value, but for ties within `f32` rounding of the squared distance, where
            // the scan may keep another triangle than the tree (a difference of ~1e-7 mm)
            let worst = band
                .leaves
                .par_iter()
                .flat_map_iter(|l| {
                    (0..27u32).map(move |x| [l[0] + x % 3, l[1] + (x / 3) % 3, l[2] + x / 9])
                })
                .map(|[i, j, k]| {
                    let p = grid.point(i, j, k);
                    let hit = bvh.nearest(p).unwrap();
                    let exact = field.value_of(p, &hit) - level;
                    (band.corner(i, j, k).g as f64 - exact).abs()
                })
                .reduce(|| 0.0, f64::max);
            assert!(
                worst < 1e-6,
                "{name} at {d} mm: a leaf corner is {worst} mm off the tree's value"
            );
            // the tree descent (for meshes finer than the grid) finds the same leaves, and the
            // same values at their corners
            let by_tree = super::super::band::by_tree(&field, &grid);
            let mut a = band.leaves.clone();
            let mut b = by_tree.leaves.clone();
            a.sort_unstable();
            b.sort_unstable();
            assert!(
                a == b,
                "{name} at {d} mm: the scan and the tree descent keep different leaves ({} and {})",
                a.len(),
                b.len()
            );
            let apart = b
                .par_iter()
                .flat_map_iter(|l| {
                    (0..27u32).map(move |x| [l[0] + x % 3, l[1] + (x / 3) % 3, l[2] + x / 9])
                })
                .map(|[i, j, k]| (band.corner(i, j, k).g - by_tree.corner(i, j, k).g).abs())
                .reduce(|| 0.0, f32::max);
            assert!(
                apart < 1e-6,
                "{name} at {d} mm: a leaf corner of the scan is {apart} mm off the descent's"
            );
            let crossed = super::super::nets::classify(&band);
            let lists = Lists::new(
                &band.cell_blocks,
                &crossed.bits,
                &crossed.first,
                &features,
                field.level_set(),
                &grid,
            );
            let (listed, wrong) = band
                .leaves
                .par_iter()
                .flat_map_iter(|l| {
                    (0..8u32).flat_map(move |c| {
                        [[0.5, 0.5, 0.5], [0.02, 0.97, 0.31], [0.99, 0.01, 0.73]].map(|f| {
                            let o =
                                grid.point(l[0] + (c & 1), l[1] + ((c >> 1) & 1), l[2] + (c >> 2));
                            [o[0] + f[0] * h, o[1] + f[1] * h, o[2] + f[2] * h]
                        })
                    })
                })
                .filter_map(|p| lists.nearest(&bvh, p).map(|h| (h, p)))
                .fold(
                    || (0usize, 0usize),
                    |(n, w), (h, p)| {
                        let t = bvh.nearest(p).unwrap();
                        (
                            n + 1,
                            w + usize::from(h.dist2.sqrt() - t.dist2.sqrt() > 1e-9),
                        )
                    },
                )
                .reduce(|| (0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
            assert!(
                listed as f64 > 100_000.0 / (h * h),
                "{name}: only {listed} points in crossed cells"
            );
            assert_eq!(
                wrong, 0,
                "{name} at {d} mm: {wrong} of {listed} list answers off the tree's"
            );
        }
    }
}
