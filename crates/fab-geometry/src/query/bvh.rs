//! A bounding-volume hierarchy over a triangle soup, stored as flat arrays (nodes and triangles in
//! tree order), answering exact nearest-point queries with no allocation per query. Built in
//! parallel (the halves of large nodes at once), the same tree whatever the number of threads;
//! nearest-point queries walk it folded 4-wide (half the levels, four boxes per step), box
//! queries walk the binary tree.

use super::closest::{Feature, V3, closest_inline, closest_point_on_triangle, norm2, sub};
use rayon::prelude::*;

use crate::Mesh;

/// Triangles per leaf at most.
const LEAF: usize = 4;
/// Traversal stack depth. The 4-wide walk adds at most three entries per level (pops one, pushes
/// up to four); a median-split tree over 2^40 triangles is 19 wide levels deep, so 61 at most.
const STACK: usize = 96;

/// Boxes are stored in `f32`, rounded outward, so a node is 32 bytes and two siblings share a
/// cache line; the box test stays conservative and the triangle tests stay in `f64`.
#[derive(Clone, Copy, Debug, PartialEq)]
#[repr(C, align(32))]
struct Node {
    lo: [f32; 3],
    hi: [f32; 3],
    /// Leaf: first triangle; inner node: index of the left child (the right one follows it).
    start: u32,
    /// Triangles in a leaf; 0 for an inner node.
    count: u32,
}

/// The nearest point of the mesh to a query point.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Nearest {
    /// Squared distance from the query point.
    pub dist2: f64,
    /// The closest point itself.
    pub point: V3,
    /// Index of the triangle holding it, in the input's numbering.
    pub triangle: u32,
    /// Which feature of that triangle holds it.
    pub feature: Feature,
    /// The triangle's place in the tree's own order: a hint for [`Bvh::nearest_from`].
    pub slot: u32,
}

/// A node of the 4-wide tree the nearest-point search walks: the binary tree with every other
/// level folded in, so a query descends half as many levels and tests four boxes at a time
/// (one loop over arrays the compiler can vectorise). Boxes are the binary tree's, `f32` rounded
/// outward; an unused slot has an empty box (infinitely far).
#[derive(Clone, Copy, Debug)]
#[repr(C, align(64))]
struct Wide {
    lo: [[f32; 4]; 3],
    hi: [[f32; 4]; 3],
    /// Per slot: a leaf's first triangle, or an inner child's index in the wide tree.
    child: [u32; 4],
    /// Per slot: a leaf's triangle count; 0 for an inner child (or an unused slot).
    count: [u32; 4],
}

const NO_WIDE: Wide = Wide {
    lo: [[f32::INFINITY; 4]; 3],
    hi: [[f32::NEG_INFINITY; 4]; 3],
    child: [0; 4],
    count: [0; 4],
};

/// Bounding-volume hierarchy (median split on the longest axis) over triangles.
#[derive(Clone, Debug)]
pub struct Bvh {
    nodes: Vec<Node>,
    /// The same tree, 4-wide, for nearest-point queries.
    wide: Vec<Wide>,
    tris: Vec<[V3; 3]>,
    ids: Vec<u32>,
}

/// Folds the binary tree (root at 0, children adjacent) into a 4-wide one: each wide node holds
/// its binary node's grandchildren (or a child itself where that is a leaf).
fn widen(nodes: &[Node]) -> Vec<Wide> {
    if nodes.is_empty() {
        return Vec::new();
    }
    let mut wide = vec![NO_WIDE];
    let mut work = vec![(0usize, 0usize)];
    while let Some((b, w)) = work.pop() {
        let node = nodes[b];
        let mut entries = [0usize; 4];
        let mut n = 0;
        if node.count > 0 {
            entries[0] = b;
            n = 1;
        } else {
            for c in [node.start as usize, node.start as usize + 1] {
                if nodes[c].count > 0 {
                    entries[n] = c;
                    n += 1;
                } else {
                    entries[n] = nodes[c].start as usize;
                    entries[n + 1] = nodes[c].start as usize + 1;
                    n += 2;
                }
            }
        }
        let mut out = NO_WIDE;
        for (slot, &e) in entries[..n].iter().enumerate() {
            let en = nodes[e];
            for k in 0..3 {
                out.lo[k][slot] = en.lo[k];
                out.hi[k][slot] = en.hi[k];
            }
            if en.count > 0 {
                out.child[slot] = en.start;
                out.count[slot] = en.count;
            } else {
                out.child[slot] = wide.len() as u32;
                wide.push(NO_WIDE);
                work.push((e, wide.len() - 1));
            }
        }
        wide[w] = out;
    }
    wide
}

/// `x` rounded down (`up == false`) or up to an `f32`.
fn to_f32(x: f64, up: bool) -> f32 {
    let f = x as f32;
    if up && (f as f64) < x {
        f.next_up()
    } else if !up && (f as f64) > x {
        f.next_down()
    } else {
        f
    }
}

/// Nodes of at least this many triangles build their two halves in parallel.
const PARALLEL_NODE: usize = 1 << 14;

const EMPTY: Node = Node {
    lo: [f32::INFINITY; 3],
    hi: [f32::NEG_INFINITY; 3],
    start: 0,
    count: 0,
};

/// Node count of the tree over `n` triangles: a leaf at [`LEAF`] or fewer, else one node and
/// the trees over `n / 2` and `n - n / 2`. Only two sizes occur per level, so it is memoised.
#[derive(Default)]
struct NodeCounts(std::collections::HashMap<usize, usize>);

impl NodeCounts {
    fn of(&mut self, n: usize) -> usize {
        if n <= LEAF {
            return 1;
        }
        if let Some(&c) = self.0.get(&n) {
            return c;
        }
        let c = 1 + self.of(n / 2) + self.of(n - n / 2);
        self.0.insert(n, c);
        c
    }

    /// A count already computed by [`NodeCounts::of`] for the whole tree.
    fn get(&self, n: usize) -> usize {
        if n <= LEAF { 1 } else { self.0[&n] }
    }
}

/// A triangle during the build: its centroid carried along with it, so that partitioning reads
/// no other memory.
#[derive(Clone, Copy)]
struct Item {
    centroid: V3,
    id: u32,
}

/// What every node of a build shares.
struct Builder<'a> {
    counts: &'a NodeCounts,
    parallel: usize,
}

impl Builder<'_> {
    /// Builds the subtree over `order` (triangles `s..` in tree order) into `me`, its
    /// descendants into `below`, whose first node has index `below_at`. Boxes are left empty
    /// for [`Bvh::boxes`].
    fn node(
        &self,
        me: &mut Node,
        s: usize,
        order: &mut [Item],
        below: &mut [Node],
        below_at: usize,
    ) {
        let n = order.len();
        if n <= LEAF {
            // its box comes once the triangles are in tree order ([`Bvh::boxes`])
            *me = Node {
                start: s as u32,
                count: n as u32,
                ..EMPTY
            };
            return;
        }
        let mut clo = [f64::INFINITY; 3];
        let mut chi = [f64::NEG_INFINITY; 3];
        for item in order.iter() {
            let c = item.centroid;
            for k in 0..3 {
                clo[k] = clo[k].min(c[k]);
                chi[k] = chi[k].max(c[k]);
            }
        }
        let ext = sub(chi, clo);
        let axis = if ext[0] >= ext[1] && ext[0] >= ext[2] {
            0
        } else if ext[1] >= ext[2] {
            1
        } else {
            2
        };
        let half = n / 2;
        order.select_nth_unstable_by(half, |a, b| a.centroid[axis].total_cmp(&b.centroid[axis]));
        let (left_order, right_order) = order.split_at_mut(half);
        let (kids, rest) = below.split_at_mut(2);
        let (lk, rk) = kids.split_at_mut(1);
        let left_below = self.counts.get(half) - 1;
        let (lb, rb) = rest.split_at_mut(left_below);
        let (l_at, r_at) = (below_at + 2, below_at + 2 + left_below);
        if n >= self.parallel {
            rayon::join(
                || self.node(&mut lk[0], s, left_order, lb, l_at),
                || self.node(&mut rk[0], s + half, right_order, rb, r_at),
            );
        } else {
            self.node(&mut lk[0], s, left_order, lb, l_at);
            self.node(&mut rk[0], s + half, right_order, rb, r_at);
        }
        *me = Node {
            start: below_at as u32,
            count: 0,
            ..EMPTY
        };
    }
}

impl Bvh {
    /// Builds the tree over a mesh's triangles.
    pub fn new(mesh: &Mesh) -> Self {
        let tri = |t: u32| {
            mesh.triangles[t as usize]
                .map(|i| mesh.vertices[i as usize])
                .map(|p| [p.x, p.y, p.z])
        };
        let (nodes, ids) = Self::split(mesh.triangles.len(), tri, PARALLEL_NODE);
        let tris = ids.par_iter().map(|&t| tri(t)).collect();
        Self::boxes(nodes, tris, ids)
    }

    /// Builds the tree over a triangle soup: each node splits its triangles at the median
    /// centroid along the longest axis of their centroids' box. The two halves of a large node
    /// are built in parallel, each into its own part of the node array (a subtree's node count
    /// follows from its triangle count), so the tree is the same whatever the number of threads.
    pub fn from_triangles(tris: Vec<[V3; 3]>) -> Self {
        Self::build(tris, PARALLEL_NODE)
    }

    /// [`Bvh::from_triangles`], splitting the work between threads at nodes of at least
    /// `parallel` triangles.
    fn build(tris: Vec<[V3; 3]>, parallel: usize) -> Self {
        let (nodes, ids) = Self::split(tris.len(), |t| tris[t as usize], parallel);
        let sorted = ids.par_iter().map(|&t| tris[t as usize]).collect();
        Self::boxes(nodes, sorted, ids)
    }

    /// The nodes (boxes not yet set) and the tree order of `n` triangles given by `tri`.
    fn split(
        n: usize,
        tri: impl Fn(u32) -> [V3; 3] + Sync,
        parallel: usize,
    ) -> (Vec<Node>, Vec<u32>) {
        let mut order: Vec<Item> = (0..n as u32)
            .into_par_iter()
            .map(|id| {
                let t = tri(id);
                let mut c = [0.0; 3];
                for k in 0..3 {
                    c[k] = (t[0][k] + t[1][k] + t[2][k]) / 3.0;
                }
                Item { centroid: c, id }
            })
            .collect();
        let mut counts = NodeCounts::default();
        let total = counts.of(n);
        let mut nodes = vec![EMPTY; total];
        let (root, rest) = nodes.split_at_mut(1);
        let b = Builder {
            counts: &counts,
            parallel: parallel.max(2 * LEAF + 1),
        };
        b.node(&mut root[0], 0, &mut order, rest, 1);
        let ids = order.par_iter().map(|item| item.id).collect();
        (nodes, ids)
    }

    /// The tree with its boxes: each leaf's from its triangles (now in tree order), then each
    /// inner node's as the union of its children's, which come after it. Outward rounding to
    /// `f32` is monotone, so that union is the rounding of the node's own bounds.
    fn boxes(mut nodes: Vec<Node>, tris: Vec<[V3; 3]>, ids: Vec<u32>) -> Self {
        nodes.par_iter_mut().filter(|n| n.count > 0).for_each(|n| {
            let mut lo = [f64::INFINITY; 3];
            let mut hi = [f64::NEG_INFINITY; 3];
            for t in &tris[n.start as usize..(n.start + n.count) as usize] {
                for p in t {
                    for k in 0..3 {
                        lo[k] = lo[k].min(p[k]);
                        hi[k] = hi[k].max(p[k]);
                    }
                }
            }
            n.lo = lo.map(|x| to_f32(x, false));
            n.hi = hi.map(|x| to_f32(x, true));
        });
        if !tris.is_empty() {
            for i in (0..nodes.len()).rev() {
                if nodes[i].count == 0 {
                    let (l, r) = (nodes[i].start as usize, nodes[i].start as usize + 1);
                    let (l, r) = (nodes[l], nodes[r]);
                    nodes[i].lo = [0, 1, 2].map(|k| l.lo[k].min(r.lo[k]));
                    nodes[i].hi = [0, 1, 2].map(|k| l.hi[k].max(r.hi[k]));
                }
            }
        }
        let wide = if tris.is_empty() {
            Vec::new()
        } else {
            widen(&nodes)
        };
        Self {
            nodes,
            wide,
            tris,
            ids,
        }
    }

    /// The triangle at `slot` (tree order).
    #[inline]
    pub(crate) fn slot_triangle(&self, slot: u32) -> [V3; 3] {
        self.tris[slot as usize]
    }

    /// Every triangle, by slot.
    #[inline]
    pub(crate) fn slot_triangles(&self) -> &[[V3; 3]] {
        &self.tris
    }

    /// The input index of the triangle at `slot`.
    #[inline]
    pub(crate) fn slot_id(&self, slot: u32) -> u32 {
        self.ids[slot as usize]
    }

    /// The exact closest point of the triangle at `slot` to `p`, as a [`Nearest`].
    #[inline]
    pub(crate) fn nearest_on(&self, p: V3, slot: u32) -> Nearest {
        let [a, b, c] = self.tris[slot as usize];
        let (q, f) = closest_inline(p, a, b, c);
        Nearest {
            dist2: norm2(sub(p, q)),
            point: q,
            triangle: self.ids[slot as usize],
            feature: f,
            slot,
        }
    }

    /// Number of triangles.
    pub fn len(&self) -> usize {
        self.tris.len()
    }

    /// True when the tree holds no triangle.
    pub fn is_empty(&self) -> bool {
        self.tris.is_empty()
    }

    /// Axis-aligned bounds of all triangles (`None` when empty).
    pub fn bounds(&self) -> Option<(V3, V3)> {
        if self.is_empty() {
            return None;
        }
        let mut lo = [f64::INFINITY; 3];
        let mut hi = [f64::NEG_INFINITY; 3];
        for t in &self.tris {
            for p in t {
                for k in 0..3 {
                    lo[k] = lo[k].min(p[k]);
                    hi[k] = hi[k].max(p[k]);
                }
            }
        }
        Some((lo, hi))
    }

    /// The exact nearest point of the mesh to `p` (`None` only for an empty mesh).
    #[inline]
    pub fn nearest(&self, p: V3) -> Option<Nearest> {
        self.nearest_within(p, f64::INFINITY)
    }

    /// The exact nearest point of the mesh to `p` among those at squared distance below
    /// `max_dist2`; `None` when there is none. A good bound (from a neighbouring query, by the
    /// 1-Lipschitz property of distance) makes the search visit only a few nodes.
    #[inline]
    pub fn nearest_within(&self, p: V3, max_dist2: f64) -> Option<Nearest> {
        if self.tris.is_empty() {
            return None;
        }
        self.search(p, max_dist2, None)
    }

    /// The exact nearest point of the mesh to `p`, starting from triangle `slot` (a neighbouring
    /// query's [`Nearest::slot`]): its exact distance is the first bound, and for nearby points
    /// it is usually the answer, so the search only confirms it.
    #[inline]
    pub fn nearest_from(&self, p: V3, slot: u32) -> Option<Nearest> {
        let [a, b, c] = *self.tris.get(slot as usize)?;
        let (q, f) = closest_point_on_triangle(p, a, b, c);
        self.search(p, norm2(sub(p, q)), Some((q, slot, f)))
    }

    /// [`Bvh::nearest_from`] among the points at squared distance below `max_dist2` only; `None`
    /// when there is none.
    #[inline]
    pub fn nearest_from_within(&self, p: V3, slot: u32, max_dist2: f64) -> Option<Nearest> {
        let [a, b, c] = *self.tris.get(slot as usize)?;
        let (q, f) = closest_point_on_triangle(p, a, b, c);
        let d2 = norm2(sub(p, q));
        if d2 < max_dist2 {
            self.search(p, d2, Some((q, slot, f)))
        } else {
            self.search(p, max_dist2, None)
        }
    }

    #[inline]
    fn search(&self, p: V3, max_dist2: f64, start: Option<(V3, u32, Feature)>) -> Option<Nearest> {
        let mut best2 = max_dist2;
        let mut best: Option<(V3, u32, Feature)> = start;
        // Left uninitialised (zeroing 1.5 KiB per query cost 2 % of the offset): only entries
        // below `sp` are read, and each was written when pushed.
        let mut stack = [std::mem::MaybeUninit::<(u32, f64)>::uninit(); STACK];
        stack[0].write((0, 0.0));
        let mut sp = usize::from(!self.wide.is_empty());
        while sp > 0 {
            sp -= 1;
            // SAFETY: entry `sp` < the stack pointer was written by its push (or is the root).
            let (w, d) = unsafe { stack[sp].assume_init() };
            if d >= best2 {
                continue;
            }
            let node = &self.wide[w as usize];
            let mut dist = [0.0f64; 4];
            for (c, dc) in dist.iter_mut().enumerate() {
                let mut e2 = 0.0;
                for (k, &pk) in p.iter().enumerate() {
                    // plain comparisons, not `f64::max`: boxes and points are finite, and
                    // the NaN handling of `max` cost 2 % of the offset
                    let below = node.lo[k][c] as f64 - pk;
                    let above = pk - node.hi[k][c] as f64;
                    let e = if below > above { below } else { above };
                    let e = if e > 0.0 { e } else { 0.0 };
                    e2 += e * e;
                }
                *dc = e2;
            }
            // Nearest slots first: leaves are searched at once (tightening the bound), inner
            // children are pushed farthest first so the nearest is visited next.
            // Sorted by a five-comparison network (a library sort is not inlined here, and
            // cost 6 % of the offset; swaps by selects cost 7 %, a table of the network's
            // outcomes indexed by the twelve comparisons 14 %: these branches predict well).
            let mut order = [0usize, 1, 2, 3];
            for (x, y) in [(0, 1), (2, 3), (0, 2), (1, 3), (1, 2)] {
                if dist[order[y]] < dist[order[x]] {
                    order.swap(x, y);
                }
            }
            for &c in &order {
                if dist[c] >= best2 {
                    break;
                }
                if node.count[c] == 0 {
                    continue;
                }
                let s = node.child[c] as usize;
                for i in s..s + node.count[c] as usize {
                    // Straight to the exact test: a pre-test on the triangle's own box costs
                    // more than it saves (measured: 9 % of the offset's CPU); precomputed `f32`
                    // boxes tested four at a time skip 54 % of the exact tests but gain < 1 %.
                    // The four tests side by side in vector lanes, branch-free, cost 30 %.
                    let [a, b, t] = self.tris[i];
                    let (q, f) = closest_inline(p, a, b, t);
                    let d2 = norm2(sub(p, q));
                    if d2 < best2 {
                        best2 = d2;
                        best = Some((q, i as u32, f));
                    }
                }
            }
            for &c in order.iter().rev() {
                if node.count[c] == 0 && dist[c] < best2 {
                    stack[sp].write((node.child[c], dist[c]));
                    sp += 1;
                }
            }
        }
        best.map(|(point, i, feature)| Nearest {
            dist2: best2,
            point,
            triangle: self.ids[i as usize],
            feature,
            slot: i,
        })
    }

    /// Calls `f(triangle)` (input numbering) for every triangle whose bounding box overlaps the
    /// box `lo..hi`.
    pub fn for_each_overlapping(&self, lo: V3, hi: V3, mut f: impl FnMut(u32)) {
        if self.tris.is_empty() {
            return;
        }
        let mut stack = [0u32; STACK];
        let mut sp = 1usize;
        while sp > 0 {
            sp -= 1;
            let node = &self.nodes[stack[sp] as usize];
            if (0..3).any(|k| node.lo[k] as f64 > hi[k] || (node.hi[k] as f64) < lo[k]) {
                continue;
            }
            if node.count > 0 {
                let s = node.start as usize;
                for i in s..s + node.count as usize {
                    let t = &self.tris[i];
                    let overlaps = (0..3).all(|k| {
                        t[0][k].min(t[1][k]).min(t[2][k]) <= hi[k]
                            && t[0][k].max(t[1][k]).max(t[2][k]) >= lo[k]
                    });
                    if overlaps {
                        f(self.ids[i]);
                    }
                }
            } else {
                stack[sp] = node.start;
                stack[sp + 1] = node.start + 1;
                sp += 2;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic pseudo-random generator (no dependency needed for a test).
    fn rng(seed: &mut u64) -> f64 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        (*seed >> 11) as f64 / (1u64 << 53) as f64
    }

    #[test]
    fn nearest_matches_brute_force() {
        let mut s = 0x9E3779B97F4A7C15u64;
        let tris: Vec<[V3; 3]> = (0..500)
            .map(|_| {
                let c = [rng(&mut s) * 50.0, rng(&mut s) * 50.0, rng(&mut s) * 50.0];
                [0, 1, 2].map(|_| {
                    [
                        c[0] + rng(&mut s) * 4.0,
                        c[1] + rng(&mut s) * 4.0,
                        c[2] + rng(&mut s) * 4.0,
                    ]
                })
            })
            .collect();
        let bvh = Bvh::from_triangles(tris.clone());
        for _ in 0..300 {
            let p = [
                rng(&mut s) * 70.0 - 10.0,
                rng(&mut s) * 70.0 - 10.0,
                rng(&mut s) * 70.0 - 10.0,
            ];
            let brute = tris
                .iter()
                .map(|t| norm2(sub(p, closest_point_on_triangle(p, t[0], t[1], t[2]).0)))
                .fold(f64::INFINITY, f64::min);
            let hit = bvh.nearest(p).unwrap();
            assert_eq!(hit.dist2, brute);
            let t = tris[hit.triangle as usize];
            let q = closest_point_on_triangle(p, t[0], t[1], t[2]).0;
            assert_eq!(norm2(sub(p, q)), brute);
            // Starting from any triangle gives the same answer.
            for start in [0u32, 17, 499] {
                assert_eq!(bvh.nearest_from(p, start).unwrap().dist2, brute);
            }
            // A bound just above the answer finds it; one below finds nothing.
            assert!(
                bvh.nearest_within(p, brute * (1.0 + 1e-9) + 1e-300)
                    .is_some()
            );
            assert!(bvh.nearest_within(p, brute * (1.0 - 1e-9)).is_none());
        }
    }

    #[test]
    fn parallel_build_is_the_sequential_tree_and_exact() {
        let mut s = 0x2545F4914F6CDD1Du64;
        let tris: Vec<[V3; 3]> = (0..3001)
            .map(|_| {
                let c = [rng(&mut s) * 80.0, rng(&mut s) * 40.0, rng(&mut s) * 20.0];
                [0, 1, 2].map(|_| [0, 1, 2].map(|k| c[k] + rng(&mut s) * 3.0))
            })
            .collect();
        let par = Bvh::build(tris.clone(), 10);
        let seq = Bvh::build(tris.clone(), usize::MAX);
        assert_eq!(par.nodes, seq.nodes);
        assert_eq!(par.ids, seq.ids);
        // a leaf's box is its triangles' bounds rounded outward, an inner node's the union of
        // its children's
        for n in &par.nodes {
            let (lo, hi) = if n.count > 0 {
                let ts = &par.tris[n.start as usize..(n.start + n.count) as usize];
                let lo = [0, 1, 2].map(|k| {
                    let x = ts
                        .iter()
                        .flatten()
                        .map(|p| p[k])
                        .fold(f64::INFINITY, f64::min);
                    to_f32(x, false)
                });
                let hi = [0, 1, 2].map(|k| {
                    let x = ts
                        .iter()
                        .flatten()
                        .map(|p| p[k])
                        .fold(f64::NEG_INFINITY, f64::max);
                    to_f32(x, true)
                });
                (lo, hi)
            } else {
                let (l, r) = (par.nodes[n.start as usize], par.nodes[n.start as usize + 1]);
                (
                    [0, 1, 2].map(|k| l.lo[k].min(r.lo[k])),
                    [0, 1, 2].map(|k| l.hi[k].max(r.hi[k])),
                )
            };
            assert_eq!((n.lo, n.hi), (lo, hi));
            assert!((0..3).all(|k| lo[k] <= hi[k]));
        }
        for _ in 0..200 {
            let p = [0, 1, 2].map(|k| rng(&mut s) * [100.0, 60.0, 40.0][k] - 10.0);
            let brute = tris
                .iter()
                .map(|t| norm2(sub(p, closest_point_on_triangle(p, t[0], t[1], t[2]).0)))
                .fold(f64::INFINITY, f64::min);
            assert_eq!(par.nearest(p).unwrap().dist2, brute);
        }
    }

    /// The tree order of the former build (an explicit stack, median split of `u32` indices
    /// compared through a centroid table), as the oracle.
    fn reference_order(tris: &[[V3; 3]]) -> Vec<u32> {
        let mut order: Vec<u32> = (0..tris.len() as u32).collect();
        let centroids: Vec<V3> = tris
            .iter()
            .map(|t| [0, 1, 2].map(|k| (t[0][k] + t[1][k] + t[2][k]) / 3.0))
            .collect();
        let mut work = vec![(0, tris.len())];
        while let Some((s, e)) = work.pop() {
            if e - s <= LEAF {
                continue;
            }
            let mut clo = [f64::INFINITY; 3];
            let mut chi = [f64::NEG_INFINITY; 3];
            for &t in &order[s..e] {
                for k in 0..3 {
                    clo[k] = clo[k].min(centroids[t as usize][k]);
                    chi[k] = chi[k].max(centroids[t as usize][k]);
                }
            }
            let ext = sub(chi, clo);
            let axis = if ext[0] >= ext[1] && ext[0] >= ext[2] {
                0
            } else if ext[1] >= ext[2] {
                1
            } else {
                2
            };
            let mid = (s + e) / 2;
            order[s..e].select_nth_unstable_by(mid - s, |&a, &b| {
                centroids[a as usize][axis].total_cmp(&centroids[b as usize][axis])
            });
            work.push((s, mid));
            work.push((mid, e));
        }
        order
    }

    #[test]
    fn tree_order_is_the_former_builds_even_with_ties() {
        let mut s = 0x853C49E6748FEA9Bu64;
        // coordinates on a coarse grid: many equal centroid coordinates
        let tris: Vec<[V3; 3]> = (0..5003)
            .map(|_| [0, 1, 2].map(|_| [0, 1, 2].map(|_| (rng(&mut s) * 12.0).round() * 0.5)))
            .collect();
        let expected = reference_order(&tris);
        for parallel in [10, 1000, usize::MAX] {
            assert_eq!(Bvh::build(tris.clone(), parallel).ids, expected);
        }
    }

    #[test]
    fn overlap_query_finds_exactly_the_overlapping_boxes() {
        let tris: Vec<[V3; 3]> = (0..100)
            .map(|i| {
                let x = i as f64;
                [[x, 0.0, 0.0], [x + 0.5, 1.0, 0.0], [x, 0.0, 1.0]]
            })
            .collect();
        let bvh = Bvh::from_triangles(tris);
        let mut hits = Vec::new();
        bvh.for_each_overlapping([10.2, 0.0, 0.0], [12.1, 1.0, 1.0], |t| hits.push(t));
        hits.sort();
        assert_eq!(hits, vec![10, 11, 12]);
    }
}
