//! The sparse block grid the band, the extraction and the candidate lists share: a regular grid
//! of cubic cells cut into [`TOP`]³ blocks, storage for only the blocks in use (a flat array
//! each), and sets of points or cells kept as a bit per place in a block and numbered by rank. A
//! point or cell is found by array lookups (no hashing, no search).

use crate::query::V3;

/// Cells per side of a block (a power of two). The band is a thin shell, so small blocks waste
/// less storage: with 8 instead of 16, foot-left at 3 mm touches 18 % fewer fresh pages and runs
/// ~3 % faster (the descent starts one level lower, at more blocks); with 4 instead of 8, the
/// scan's blocks hold 25 % fewer points and the dual extraction's cells half as many, at the
/// same speed.
pub(crate) const TOP: u32 = 4;
pub(super) const TOP3: usize = (TOP * TOP * TOP) as usize;
/// A regular grid of cubic cells of side `h` starting at `origin`, `n` cells per axis (each a
/// multiple of [`TOP`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Grid {
    pub origin: V3,
    pub h: f64,
    pub n: [u32; 3],
}

impl Grid {
    #[inline]
    pub fn point(&self, i: u32, j: u32, k: u32) -> V3 {
        [
            self.origin[0] + i as f64 * self.h,
            self.origin[1] + j as f64 * self.h,
            self.origin[2] + k as f64 * self.h,
        ]
    }
}

/// Which blocks of a grid of `nb` blocks have storage, and where.
#[derive(Clone, Debug)]
pub(crate) struct Blocks {
    pub nb: [u32; 3],
    /// Per block (x fastest), its slot in the storage, or `u32::MAX`.
    slot: Vec<u32>,
    /// Block index of each slot.
    pub blocks: Vec<u32>,
}

impl Blocks {
    pub(super) fn new(nb: [u32; 3]) -> Self {
        Self {
            nb,
            slot: vec![u32::MAX; nb.iter().map(|&n| n as usize).product()],
            blocks: Vec::new(),
        }
    }

    #[inline]
    pub(super) fn block(&self, i: u32, j: u32, k: u32) -> usize {
        block_of(self.nb, i, j, k)
    }

    pub(super) fn add(&mut self, b: usize) {
        if self.slot[b] == u32::MAX {
            self.slot[b] = self.blocks.len() as u32;
            self.blocks.push(b as u32);
        }
    }

    /// Storage index of point/cell `(i, j, k)`, if its block has storage.
    #[inline]
    pub fn index(&self, i: u32, j: u32, k: u32) -> Option<usize> {
        let s = self.slot[self.block(i, j, k)];
        (s != u32::MAX).then(|| s as usize * TOP3 + local(i, j, k))
    }

    /// Storage slot of the block `(bi, bj, bk)` (block coordinates), if it has storage.
    #[inline]
    pub fn slot_of_block(&self, bi: u32, bj: u32, bk: u32) -> Option<usize> {
        let s = self.slot[self.block(bi * TOP, bj * TOP, bk * TOP)];
        (s != u32::MAX).then_some(s as usize)
    }

    /// Grid coordinates of the first point/cell of slot `s`.
    #[inline]
    pub fn origin_of(&self, s: usize) -> [u32; 3] {
        block_origin(self.nb, self.blocks[s] as usize)
    }

    pub fn len(&self) -> usize {
        self.blocks.len()
    }
}

/// Index (x fastest) of the block holding point/cell `(i, j, k)` in a grid of `nb` blocks.
#[inline]
pub(super) fn block_of(nb: [u32; 3], i: u32, j: u32, k: u32) -> usize {
    ((k / TOP) as usize * nb[1] as usize + (j / TOP) as usize) * nb[0] as usize + (i / TOP) as usize
}

/// Grid coordinates of the first point/cell of block `b` in a grid of `nb` blocks.
#[inline]
pub(super) fn block_origin(nb: [u32; 3], b: usize) -> [u32; 3] {
    let (nx, ny) = (nb[0] as usize, nb[1] as usize);
    [
        (b % nx) as u32 * TOP,
        ((b / nx) % ny) as u32 * TOP,
        (b / (nx * ny)) as u32 * TOP,
    ]
}

#[inline]
pub(super) fn local(i: u32, j: u32, k: u32) -> usize {
    (((k % TOP) * TOP + j % TOP) * TOP + i % TOP) as usize
}

/// Local offset within a block to grid offset.
#[inline]
pub(crate) fn unlocal(l: usize) -> [u32; 3] {
    let t = TOP as usize;
    [(l % t) as u32, ((l / t) % t) as u32, (l / (t * t)) as u32]
}

pub(crate) const BLOCK_LEN: usize = TOP3;

/// Sparse storage by bit rank: for `masks` (a bit per point or cell of each block), the place of
/// each block's first set bit when the set bits are numbered block by block, and their number at
/// the end.
pub(crate) fn ranks(masks: &[u64]) -> Vec<u32> {
    let mut first = Vec::with_capacity(masks.len() + 1);
    let mut n = 0u32;
    for m in masks {
        first.push(n);
        n += m.count_ones();
    }
    first.push(n);
    first
}

/// How many bits of `mask` lie below bit `l`: bit `l`'s place among its block's set bits.
#[inline]
pub(crate) fn below(mask: u64, l: usize) -> u32 {
    (mask & ((1u64 << l) - 1)).count_ones()
}

/// The rank of point/cell `(i, j, k)` of `blocks` among the set bits `masks` (one per storage
/// slot, by local index), numbered from `first` ([`ranks`]), if its bit is set.
#[inline]
pub(crate) fn rank_at(
    blocks: &Blocks,
    masks: &[u64],
    first: &[u32],
    i: u32,
    j: u32,
    k: u32,
) -> Option<usize> {
    let x = blocks.index(i, j, k)?;
    let (s, l) = (x / BLOCK_LEN, x % BLOCK_LEN);
    let m = masks[s];
    (m >> l & 1 == 1).then(|| (first[s] + below(m, l)) as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Numbering the set bits block by block with [`ranks`] and [`below`] gives each set bit its
    /// place in the list of all set bits, in order.
    #[test]
    fn ranks_number_the_set_bits_in_order() {
        let masks = [0u64, 1 << 63 | 1, u64::MAX, 0b1011_0000, 0];
        let first = ranks(&masks);
        assert_eq!(first.len(), masks.len() + 1);
        let mut next = 0;
        for (b, &m) in masks.iter().enumerate() {
            for l in (0..64).filter(|&l| m >> l & 1 == 1) {
                assert_eq!(first[b] + below(m, l), next, "block {b}, bit {l}");
                next += 1;
            }
        }
        assert_eq!(*first.last().unwrap(), next);
        assert_eq!(next, 2 + 64 + 3);
    }
}
