//! Repair of a triangle soup into a clean indexed mesh: welding coincident vertices, dropping
//! degenerate and duplicate triangles, making the winding consistent and outward. Welding and
//! the degenerate test run in parallel on large scans, with the sequential definitions' results.

use nalgebra::Point3;
use rayon::prelude::*;
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

use crate::fasthash::{self, Cell, FastMap};
use crate::mesh::Mesh;
use crate::topology;

/// Vertices closer than this (mm) are welded into one.
pub const WELD_TOLERANCE_MM: f64 = 1e-3;

/// Triangles with less area than this (mm²) after welding are dropped as degenerate.
pub const DEGENERATE_AREA_MM2: f64 = 1e-12;

/// Welds the corners of a soup (already in mm) into an indexed mesh: corners within `tol` of
/// each other become one vertex, numbered in order of first appearance.
///
/// The result is that of [`weld_sequential`] (the definition: each corner in turn joins the
/// first vertex it finds within `tol`, or becomes one), computed in parallel for a large soup:
/// exact duplicates are grouped by hashing their coordinates in parallel buckets; a distinct
/// point with no other within `tol` (on a scan, nearly all) is a vertex of its own, found with
/// a sorted cell list; only the corners at the few others go through the sequential weld, and
/// as no vertex of the first kind is ever within `tol` of them, they join what they would have.
pub fn weld(soup: &[[[f64; 3]; 3]], tol: f64) -> Mesh {
    if soup.len() < PARALLEL_WELD_TRIANGLES {
        return weld_sequential(soup, tol);
    }
    weld_parallel(soup, tol).unwrap_or_else(|| weld_sequential(soup, tol))
}

/// Soups with fewer triangles are welded sequentially.
const PARALLEL_WELD_TRIANGLES: usize = 1 << 14;

/// A point's coordinate bits (after `+ 0.0`, so that -0 and 0 are one point): equal keys,
/// equal points.
#[derive(Clone, Copy, PartialEq, Eq)]
struct PointKey([u64; 3]);

impl PointKey {
    /// A well-mixed hash of all three coordinates.
    #[inline]
    fn hash(&self) -> u64 {
        let [x, y, z] = self.0;
        let mut h = x;
        for v in [y, z] {
            h = (h ^ (h >> 29)).wrapping_mul(0xbf58_476d_1ce4_e5b9) ^ v;
        }
        h ^= h >> 32;
        h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
        h ^ (h >> 29)
    }
}

impl std::hash::Hash for PointKey {
    #[inline]
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64(PointKey::hash(self));
    }
}

/// A slice written by several threads at slots each owns alone.
#[derive(Clone, Copy)]
struct SharedSlice<T>(*mut T);

// SAFETY: used only for writes to disjoint slots (see `write`).
unsafe impl<T: Send> Send for SharedSlice<T> {}
unsafe impl<T: Send> Sync for SharedSlice<T> {}

impl<T> SharedSlice<T> {
    /// # Safety
    /// `i` is in bounds and no other thread reads or writes slot `i` meanwhile.
    unsafe fn write(&self, i: usize, v: T) {
        unsafe { self.0.add(i).write(v) }
    }
}

/// [`weld`] for a large soup; `None` when a coordinate is not finite or too large for exact
/// cells (then the sequential weld decides).
fn weld_parallel(soup: &[[[f64; 3]; 3]], tol: f64) -> Option<Mesh> {
    let n = soup.len() * 3;
    let corner = |i: usize| &soup[i / 3][i % 3];
    let largest = soup
        .par_iter()
        .map(|t| {
            let finite = |x: &f64| {
                if x.is_finite() {
                    x.abs()
                } else {
                    f64::INFINITY
                }
            };
            t.iter().flatten().map(finite).fold(0.0f64, f64::max)
        })
        .reduce(|| 0.0, f64::max);
    let cells_exact = tol > 0.0 && largest / tol < (1u64 << 40) as f64;
    if !cells_exact || n >= u32::MAX as usize {
        return None;
    }

    // 1. exact duplicates: the corners, coordinates and all, partitioned by hash into buckets
    //    (in corner order), then each bucket's first corner at each point found with a small
    //    map; nothing is read out of order from the soup
    const BITS: u32 = 10;
    let chunk = n.div_ceil(rayon::current_num_threads() * 4).max(1 << 12);
    let key = |i: usize| PointKey(corner(i).map(|c| (c + 0.0).to_bits()));
    let bucket = |k: &PointKey| (k.hash() >> (64 - BITS)) as usize;
    let chunks = n.div_ceil(chunk);
    let hist: Vec<Vec<u32>> = (0..chunks)
        .into_par_iter()
        .map(|c| {
            let mut h = vec![0u32; 1 << BITS];
            for i in c * chunk..((c + 1) * chunk).min(n) {
                h[bucket(&key(i))] += 1;
            }
            h
        })
        .collect();
    // where chunk c writes its corners of bucket b; bucket b spans bounds[b]..bounds[b + 1]
    let mut at = vec![vec![0usize; 1 << BITS]; chunks];
    let mut bounds = vec![0usize; (1 << BITS) + 1];
    let mut sum = 0usize;
    for b in 0..1 << BITS {
        bounds[b] = sum;
        for c in 0..chunks {
            at[c][b] = sum;
            sum += hist[c][b] as usize;
        }
    }
    bounds[1 << BITS] = n;
    drop(hist);
    let mut part: Vec<(PointKey, u32)> = Vec::with_capacity(n);
    {
        let out = SharedSlice(part.as_mut_ptr());
        at.par_iter_mut().enumerate().for_each(|(c, at)| {
            for i in c * chunk..((c + 1) * chunk).min(n) {
                let k = key(i);
                let b = bucket(&k);
                // SAFETY: the slots of chunk c in bucket b, at[b].., are its own (counted above)
                unsafe { out.write(at[b], (k, i as u32)) };
                at[b] += 1;
            }
        });
        // SAFETY: the chunks' slots in the buckets cover 0..n exactly, all written above
        unsafe { part.set_len(n) };
    }
    drop(at);
    let rep: Vec<AtomicU32> = (0..n).map(|_| AtomicU32::new(0)).collect();
    bounds.par_windows(2).for_each(|w| {
        let mut first: FastMap<PointKey, u32> = fasthash::map_with_capacity((w[1] - w[0]) / 4);
        for &(k, i) in &part[w[0]..w[1]] {
            rep[i as usize].store(*first.entry(k).or_insert(i), Relaxed);
        }
    });
    drop(part);
    let rep: Vec<u32> = rep.into_iter().map(AtomicU32::into_inner).collect();

    // 2. distinct points with another within tol: a sorted list of cells 64 tol wide (nearly
    //    always one point each), searched in each point's cell and the neighbours across faces
    //    it is near (generously: a point within tol is never missed)
    let uniq: Vec<u32> = (0..n as u32)
        .into_par_iter()
        .filter(|&i| rep[i as usize] == i)
        .collect();
    let big = 64.0 * tol;
    let big_inv = 1.0 / big;
    let cell_hash = |c: [i64; 3]| {
        let mut h = fasthash::FastHasher::default();
        std::hash::Hash::hash(&Cell(c), &mut h);
        std::hash::Hasher::finish(&h)
    };
    // (cell hash, corner, point), sorted: neighbours in the list are neighbours in space
    let mut cells: Vec<(u64, u32, [f64; 3])> = uniq
        .par_iter()
        .map(|&i| {
            let p = *corner(i as usize);
            (cell_hash(p.map(|x| (x * big_inv).floor() as i64)), i, p)
        })
        .collect();
    cells.par_sort_unstable_by_key(|e| (e.0, e.1));
    let tol2 = tol * tol;
    let near = (tol * big_inv) * (1.0 + 1e-9) + 1e-9;
    let within = |p: &[f64; 3], q: &[f64; 3]| {
        (q[0] - p[0]).powi(2) + (q[1] - p[1]).powi(2) + (q[2] - p[2]).powi(2) <= tol2
    };
    let crowded: Vec<u32> = (0..cells.len())
        .into_par_iter()
        .filter(|&k| {
            let (h, _, p) = &cells[k];
            // the same cell: its neighbours in the sorted list
            let same = cells[k + 1..].iter().take_while(|e| e.0 == *h);
            let before = cells[..k].iter().rev().take_while(|e| e.0 == *h);
            if same.chain(before).any(|e| within(p, &e.2)) {
                return true;
            }
            let f = p.map(|x| x * big_inv);
            let c = f.map(|x| x.floor() as i64);
            let side = |k: usize| -> &'static [i64] {
                let frac = f[k] - c[k] as f64;
                if frac <= near {
                    &[0, -1]
                } else if 1.0 - frac <= near {
                    &[0, 1]
                } else {
                    &[0]
                }
            };
            for &dx in side(0) {
                for &dy in side(1) {
                    for &dz in side(2) {
                        if (dx, dy, dz) == (0, 0, 0) {
                            continue;
                        }
                        let h = cell_hash([c[0] + dx, c[1] + dy, c[2] + dz]);
                        let from = cells.partition_point(|e| e.0 < h);
                        let mut run = cells[from..].iter().take_while(|e| e.0 == h);
                        if run.any(|e| within(p, &e.2)) {
                            return true;
                        }
                    }
                }
            }
            false
        })
        .map(|k| cells[k].1)
        .collect();
    drop(cells);
    let mut lonely = vec![false; n];
    for &i in &uniq {
        lonely[i as usize] = true;
    }
    for &i in &crowded {
        lonely[i as usize] = false;
    }
    drop(crowded);

    // 3. the corners at crowded points, in order, through the sequential weld
    let crowd: Vec<u32> = (0..n as u32)
        .into_par_iter()
        .filter(|&i| !lonely[rep[i as usize] as usize])
        .collect();
    let (crowd_vertices, crowd_index) =
        weld_points(crowd.iter().map(|&i| *corner(i as usize)), crowd.len(), tol);

    // 4. number the vertices in order of first appearance
    let mut vertices = Vec::with_capacity(uniq.len());
    let mut triangles = vec![[0u32; 3]; soup.len()];
    let mut crowd_vertex = vec![u32::MAX; crowd_vertices.len()];
    let mut next_crowd = 0;
    for i in 0..n {
        let r = rep[i] as usize;
        let v = if lonely[r] {
            if r == i {
                vertices.push(Point3::from(*corner(i)));
                (vertices.len() - 1) as u32
            } else {
                triangles[r / 3][r % 3]
            }
        } else {
            let s = crowd_index[next_crowd] as usize;
            next_crowd += 1;
            if crowd_vertex[s] == u32::MAX {
                crowd_vertex[s] = vertices.len() as u32;
                vertices.push(crowd_vertices[s]);
            }
            crowd_vertex[s]
        };
        triangles[i / 3][i % 3] = v;
    }
    Some(Mesh::new(vertices, triangles))
}

/// The definition of [`weld`], one corner after another. A hash grid of cells 4 `tol` wide,
/// each cell holding a linked list of its vertices in flat arrays: a corner is looked up in its
/// own cell first (exact duplicates, the common case, stop there), then only in the neighbours
/// across faces it is within `tol` of, so two points within `tol` always weld. O(n), no
/// allocation per corner.
pub fn weld_sequential(soup: &[[[f64; 3]; 3]], tol: f64) -> Mesh {
    let (vertices, index) = weld_points(soup.iter().flatten().copied(), soup.len() * 3, tol);
    let triangles = index.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect();
    Mesh::new(vertices, triangles)
}

/// The sequential weld of a stream of `n` points: the vertices and each point's vertex.
fn weld_points(
    points: impl Iterator<Item = [f64; 3]>,
    n: usize,
    tol: f64,
) -> (Vec<Point3<f64>>, Vec<u32>) {
    let cell = 4.0 * tol;
    let inv = 1.0 / cell;
    // cell -> first vertex in it; next[v] -> the next vertex in v's cell (u32::MAX ends)
    let mut head: FastMap<Cell, u32> = fasthash::map_with_capacity(n / 6 + 16);
    let mut next: Vec<u32> = Vec::with_capacity(n / 6 + 16);
    let mut vertices: Vec<Point3<f64>> = Vec::with_capacity(n / 6 + 16);
    let mut index = Vec::with_capacity(n);
    let tol2 = tol * tol;
    let find_in = |c: &[i64; 3],
                   p: &[f64; 3],
                   head: &FastMap<Cell, u32>,
                   next: &[u32],
                   vertices: &[Point3<f64>]|
     -> Option<u32> {
        let mut v = *head.get(&Cell(*c))?;
        while v != u32::MAX {
            let q = &vertices[v as usize];
            let d2 = (q.x - p[0]).powi(2) + (q.y - p[1]).powi(2) + (q.z - p[2]).powi(2);
            if d2 <= tol2 {
                return Some(v);
            }
            v = next[v as usize];
        }
        None
    };
    for p in points {
        let p = &p;
        let f = p.map(|x| x * inv);
        let c = f.map(|x| x.floor() as i64);
        let mut found = find_in(&c, p, &head, &next, &vertices);
        if found.is_none() {
            // per axis: the neighbour cell across a face closer than tol, if any
            let side = |k: usize| -> i64 {
                let frac = f[k] - c[k] as f64;
                if frac * cell <= tol {
                    -1
                } else if (1.0 - frac) * cell <= tol {
                    1
                } else {
                    0
                }
            };
            let s = [side(0), side(1), side(2)];
            'search: for dx in [0, s[0]] {
                for dy in [0, s[1]] {
                    for dz in [0, s[2]] {
                        if (dx, dy, dz) == (0, 0, 0) {
                            continue;
                        }
                        found = find_in(
                            &[c[0] + dx, c[1] + dy, c[2] + dz],
                            p,
                            &head,
                            &next,
                            &vertices,
                        );
                        if found.is_some() {
                            break 'search;
                        }
                    }
                }
            }
        }
        index.push(match found {
            Some(v) => v,
            None => {
                let v = vertices.len() as u32;
                vertices.push(Point3::new(p[0], p[1], p[2]));
                let prev = head.insert(Cell(c), v).unwrap_or(u32::MAX);
                next.push(prev);
                v
            }
        });
    }
    (vertices, index)
}

/// What [`clean`] dropped.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize)]
pub struct Cleaned {
    /// Triangles with a repeated corner or no area.
    pub degenerate: usize,
    /// Triangles using the same three vertices as an earlier one (either winding).
    pub duplicate: usize,
}

/// Drops degenerate triangles (repeated corners, area below [`DEGENERATE_AREA_MM2`], or a
/// sliver whose smallest altitude is below [`WELD_TOLERANCE_MM`]) and
/// duplicates (same three vertices as an earlier triangle, in either winding), then unused
/// vertices.
pub fn clean(mesh: &mut Mesh) -> Cleaned {
    let mut out = Cleaned::default();
    let verts = &mesh.vertices;
    // per triangle: its sorted corners and its index packed (corners high), or `u128::MAX`
    // when it is degenerate (no vertex index is `u32::MAX`)
    let mut keys: Vec<u128> = mesh
        .triangles
        .par_iter()
        .enumerate()
        .map(|(t, &[a, b, c])| {
            let degenerate = a == b || b == c || a == c || {
                let (pa, pb, pc) = (verts[a as usize], verts[b as usize], verts[c as usize]);
                let twice_area = (pb - pa).cross(&(pc - pa)).norm();
                let longest = (pb - pa).norm().max((pc - pb).norm()).max((pa - pc).norm());
                // no area, or a sliver: a corner within the weld tolerance of the opposite edge
                twice_area / 2.0 < DEGENERATE_AREA_MM2 || twice_area / longest < WELD_TOLERANCE_MM
            };
            if degenerate {
                return u128::MAX;
            }
            let mut k = [a, b, c];
            k.sort_unstable();
            ((k[0] as u128) << 96) | ((k[1] as u128) << 64) | ((k[2] as u128) << 32) | t as u128
        })
        .collect();
    let mut keep: Vec<bool> = keys.iter().map(|&k| k != u128::MAX).collect();
    out.degenerate = keep.iter().filter(|&&k| !k).count();
    // duplicates: equal corners; the earliest triangle stays
    keys.par_sort_unstable();
    for w in keys.windows(2) {
        if w[1] != u128::MAX && w[0] >> 32 == w[1] >> 32 {
            keep[w[1] as u32 as usize] = false;
            out.duplicate += 1;
        }
    }
    let mut t = 0;
    mesh.triangles.retain(|_| {
        t += 1;
        keep[t - 1]
    });
    topology::compact_vertices(mesh);
    out
}

/// What [`orient`] changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize)]
pub struct Reoriented {
    /// Triangles flipped to agree with their neighbours.
    pub flipped_for_consistency: usize,
    /// Components turned inside out so their normals point outward.
    pub components_turned_outward: usize,
    /// Triangles in those components.
    pub triangles_turned_outward: usize,
}

/// Makes the winding consistent across manifold edges (breadth-first from a seed in each
/// component, flipping neighbours that disagree), then turns each component outward: a
/// component whose signed volume about its own centroid is negative is flipped whole. For an
/// open scan (a limb open at the cut) the signed volume of the open surface still tells inside
/// from outside as long as the opening is a minor part of it.
pub fn orient(mesh: &mut Mesh) -> Reoriented {
    let mut out = Reoriented::default();
    let es = topology::edges(mesh);
    // neighbour list with "same direction" flag per manifold edge
    let n = mesh.triangles.len();
    let mut adj: Vec<[(u32, bool); 3]> = vec![[(u32::MAX, false); 3]; n];
    let mut push = |t: u32, o: u32, same: bool| {
        if let Some(s) = adj[t as usize].iter_mut().find(|s| s.0 == u32::MAX) {
            *s = (o, same);
        }
    };
    for e in &es {
        if let Some(((a, fa), (b, fb))) = e.pair() {
            push(a, b, fa == fb);
            push(b, a, fa == fb);
        }
    }
    let mut flip = vec![false; n];
    let mut comp = vec![u32::MAX; n];
    let mut ncomp = 0u32;
    let mut queue = std::collections::VecDeque::new();
    for seed in 0..n {
        if comp[seed] != u32::MAX {
            continue;
        }
        comp[seed] = ncomp;
        queue.push_back(seed as u32);
        while let Some(t) = queue.pop_front() {
            for &(o, same) in &adj[t as usize] {
                if o == u32::MAX || comp[o as usize] != u32::MAX {
                    continue;
                }
                comp[o as usize] = ncomp;
                // same direction on a shared edge means one of the two must flip
                flip[o as usize] = flip[t as usize] ^ same;
                queue.push_back(o);
            }
        }
        ncomp += 1;
    }
    for (t, f) in flip.iter().enumerate() {
        if *f {
            mesh.triangles[t].swap(1, 2);
            out.flipped_for_consistency += 1;
        }
    }
    // Outward per component: signed volume about the component centroid.
    let nc = ncomp as usize;
    let mut centroid = vec![nalgebra::Vector3::zeros(); nc];
    let mut count = vec![0usize; nc];
    for (t, &c) in comp.iter().enumerate() {
        for p in mesh.triangle(t) {
            centroid[c as usize] += p.coords;
        }
        count[c as usize] += 3;
    }
    for c in 0..nc {
        centroid[c] /= count[c] as f64;
    }
    let mut vol = vec![0.0f64; nc];
    for (t, &c) in comp.iter().enumerate() {
        let [a, b, d] = mesh.triangle(t);
        let o = centroid[c as usize];
        vol[c as usize] += (a.coords - o).dot(&(b.coords - o).cross(&(d.coords - o)));
    }
    out.components_turned_outward = vol.iter().filter(|&&v| v < 0.0).count();
    if out.components_turned_outward > 0 {
        for (t, &c) in comp.iter().enumerate() {
            if vol[c as usize] < 0.0 {
                mesh.triangles[t].swap(1, 2);
                out.triangles_turned_outward += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cube_soup() -> Vec<[[f64; 3]; 3]> {
        // unit cube scaled to 10 mm, outward winding
        let v = |i: usize| -> [f64; 3] {
            [
                (i & 1) as f64 * 10.0,
                ((i >> 1) & 1) as f64 * 10.0,
                ((i >> 2) & 1) as f64 * 10.0,
            ]
        };
        let quads = [
            [0, 2, 3, 1],
            [4, 5, 7, 6],
            [0, 1, 5, 4],
            [2, 6, 7, 3],
            [0, 4, 6, 2],
            [1, 3, 7, 5],
        ];
        let mut s = Vec::new();
        for q in quads {
            s.push([v(q[0]), v(q[1]), v(q[2])]);
            s.push([v(q[0]), v(q[2]), v(q[3])]);
        }
        s
    }

    fn signed_volume(m: &Mesh) -> f64 {
        (0..m.triangles.len())
            .map(|t| {
                let [a, b, c] = m.triangle(t);
                a.coords.dot(&b.coords.cross(&c.coords)) / 6.0
            })
            .sum()
    }

    #[test]
    fn weld_joins_corners_within_tolerance_across_cells() {
        let mut s = cube_soup();
        // nudge one corner by less than the tolerance, across a cell boundary
        s[0][0] = [0.0 - 0.4e-3, 0.0, 0.0];
        let m = weld(&s, WELD_TOLERANCE_MM);
        assert_eq!(m.vertices.len(), 8);
        assert!(topology::report(&m).watertight);
    }

    #[test]
    fn weld_always_joins_points_within_tolerance_and_never_farther() {
        let tol = WELD_TOLERANCE_MM;
        let mut s: u64 = 0x2545F4914F6CDD1D;
        let mut rnd = || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s % 1_000_001) as f64 / 1_000_000.0
        };
        for _ in 0..2000 {
            let p = [rnd() * 0.02, rnd() * 0.02, rnd() * 0.02];
            let dir = [rnd() - 0.5, rnd() - 0.5, rnd() - 0.5];
            let n = (dir[0] * dir[0] + dir[1] * dir[1] + dir[2] * dir[2]).sqrt();
            let near = 0.999 * tol * rnd();
            let q = [0, 1, 2].map(|k| p[k] + dir[k] / n * near);
            let far = [0, 1, 2].map(|k| p[k] + dir[k] / n * 1.01 * tol);
            let m = weld(&[[p, q, far]], tol);
            let t = m.triangles[0];
            assert_eq!(t[0], t[1], "{p:?} and {q:?} are {near} apart");
            assert_ne!(t[0], t[2], "{p:?} and {far:?} are farther than tol");
        }
    }

    /// The fixture foot's soup in mm, with some corners moved by less than the tolerance
    /// (crowded points) and some exact duplicates at -0.
    fn jittered_foot() -> Vec<[[f64; 3]; 3]> {
        let bytes = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fixtures/scans/foot-left-m.stl"
        ))
        .unwrap();
        let mut soup = crate::stl::parse(&bytes).unwrap().0.triangles;
        for t in soup.iter_mut() {
            for p in t.iter_mut() {
                *p = p.map(|x| x * 1000.0);
            }
        }
        let mut s: u64 = 0x2545F4914F6CDD1D;
        for t in soup.iter_mut() {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            if s.is_multiple_of(7) {
                let k = (s >> 8) as usize % 3;
                let shift = ((s >> 16) % 2000) as f64 * 1e-6 - 1e-3;
                t[k][(s >> 32) as usize % 3] += shift;
            }
        }
        soup.push([[0.0, 1.0, 2.0], [-0.0, 1.0, 2.0], [3.0, 3.0, 3.0]]);
        soup
    }

    #[test]
    fn parallel_weld_is_the_sequential_weld() {
        let foot = jittered_foot();
        let par = weld_parallel(&foot, WELD_TOLERANCE_MM).unwrap();
        let seq = weld_sequential(&foot, WELD_TOLERANCE_MM);
        assert!(par.vertices.len() < foot.len());
        assert_eq!(par, seq);
        // a crowd: every corner within a few tolerances of many others
        let mut s: u64 = 0x9E3779B97F4A7C15;
        let mut rnd = || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s % 1_000_001) as f64 / 1_000_000.0 * 0.01
        };
        let crowd: Vec<[[f64; 3]; 3]> = (0..5000)
            .map(|_| [0, 1, 2].map(|_| [rnd(), rnd(), rnd() + 100.0]))
            .collect();
        let par = weld_parallel(&crowd, WELD_TOLERANCE_MM).unwrap();
        assert_eq!(par, weld_sequential(&crowd, WELD_TOLERANCE_MM));
        assert!(par.vertices.len() < 5000);
    }

    #[test]
    fn clean_drops_degenerate_and_duplicates() {
        let mut s = cube_soup();
        s.push(s[0]);
        let r = s[1];
        s.push([r[0], r[2], r[1]]); // duplicate, opposite winding
        s.push([[1.0, 1.0, 1.0], [1.0, 1.0, 1.0], [2.0, 2.0, 2.0]]);
        let mut m = weld(&s, WELD_TOLERANCE_MM);
        let c = clean(&mut m);
        assert_eq!(
            c,
            Cleaned {
                degenerate: 1,
                duplicate: 2
            }
        );
        assert_eq!(m.triangles.len(), 12);
        assert_eq!(m.vertices.len(), 8);
    }

    #[test]
    fn orient_fixes_flipped_triangles_and_inside_out_meshes() {
        let s = cube_soup();
        let mut m = weld(&s, WELD_TOLERANCE_MM);
        m.triangles[3].swap(0, 1);
        m.triangles[7].swap(0, 1);
        let r = orient(&mut m);
        // seeded at triangle 0, which is right: exactly the two wrong ones flip
        assert_eq!(
            r,
            Reoriented {
                flipped_for_consistency: 2,
                ..Default::default()
            }
        );
        assert_eq!(topology::report(&m).inconsistent_edges, 0);
        assert!((signed_volume(&m) - 1000.0).abs() < 1e-9);

        for t in m.triangles.iter_mut() {
            t.swap(1, 2);
        }
        let r = orient(&mut m);
        assert_eq!(r.components_turned_outward, 1);
        assert!((signed_volume(&m) - 1000.0).abs() < 1e-9);
    }
}
