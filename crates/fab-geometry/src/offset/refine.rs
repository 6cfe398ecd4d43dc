//! Adaptive refinement: every edge whose midpoint lies further than the tolerance from the offset
//! surface is split at that midpoint projected onto the surface. Splits are conforming (an edge is
//! split for both its triangles, each triangle into 2, 3 or 4), so the mesh stays watertight.

use rayon::prelude::*;

use super::field::Field;
use crate::query::{Nearest, V3, add, cross, dot, lerp, norm2, scale, sub};

#[inline]
fn edge_key(a: u32, b: u32) -> u64 {
    let (a, b) = if a < b { (a, b) } else { (b, a) };
    ((a as u64) << 32) | b as u64
}

/// Per vertex (of `n`), whether it ends one of `edges` (keys from [`edge_key`]): a cheap test
/// before looking an edge up.
fn ends_of(edges: impl Iterator<Item = u64>, n: usize) -> Vec<bool> {
    let mut ends = vec![false; n];
    for e in edges {
        ends[(e >> 32) as usize] = true;
        ends[(e & 0xffff_ffff) as usize] = true;
    }
    ends
}

/// A round's split edges `(key, new vertex)` (ascending by key), found by their lower end:
/// `first[a]..first[a + 1]` are the splits whose lower end is `a`, so an edge is looked up
/// among its end's few splits, not by a binary search over all (in the first round, ~17 k
/// splits and three look-ups per triangle around them, for each pass of the fold check).
struct Splits<'a> {
    split: &'a [(u64, u32)],
    first: Vec<u32>,
}

/// For `keys` (from [`edge_key`], on `n` vertices) bucketed by lower end in key order: where
/// each end's bucket starts, `n + 1` entries (the last is the count).
fn starts_by_lower_end(keys: impl Iterator<Item = u64>, n: usize) -> Vec<u32> {
    let mut start = vec![0u32; n + 1];
    for e in keys {
        start[(e >> 32) as usize + 1] += 1;
    }
    for a in 0..n {
        start[a + 1] += start[a];
    }
    start
}

impl<'a> Splits<'a> {
    /// `split` ascending by key, on `n` vertices.
    fn new(split: &'a [(u64, u32)], n: usize) -> Self {
        debug_assert!(split.windows(2).all(|w| w[0].0 < w[1].0));
        let first = starts_by_lower_end(split.iter().map(|s| s.0), n);
        Splits { split, first }
    }

    /// The new vertex on edge `a`-`b`, if it is split.
    #[inline]
    fn mid(&self, a: u32, b: u32) -> Option<u32> {
        let e = edge_key(a, b);
        let lo = (e >> 32) as usize;
        let run = &self.split[self.first[lo] as usize..self.first[lo + 1] as usize];
        run.iter().find(|s| s.0 == e).map(|s| s.1)
    }
}

/// `keys` (from [`edge_key`], on `n` vertices) ascending, each once. A counting sort by the lower
/// end, then each end's handful sorted alone: a few linear passes over a round's ~200 k keys
/// (each edge twice). Refinement on foot-left +3 took ~0.9 ms less than with a parallel
/// comparison sort and dedup.
fn unique_edges(mut keys: Vec<u64>, n: usize) -> Vec<u64> {
    // a late round's few keys: sorted as they are, not counted over every vertex
    if keys.len() < n / 16 {
        keys.sort_unstable();
        keys.dedup();
        return keys;
    }
    let start = starts_by_lower_end(keys.iter().copied(), n);
    // each key placed at its lower end's next free place
    let mut next = start.clone();
    let mut out = vec![0u64; keys.len()];
    for &e in &keys {
        let s = &mut next[(e >> 32) as usize];
        out[*s as usize] = e;
        *s += 1;
    }
    drop((keys, next));
    let mut kept = 0;
    for a in 0..n {
        let (s, e) = (start[a] as usize, start[a + 1] as usize);
        if s == e {
            continue;
        }
        let run = &mut out[s..e];
        run.sort_unstable();
        let mut last = u64::MAX;
        for i in s..e {
            let x = out[i];
            if x != last {
                out[kept] = x;
                kept += 1;
                last = x;
            }
        }
    }
    out.truncate(kept);
    out
}

/// Triangles whose longest edge times their normal spread is below `SKIP * tol` are not
/// measured: their estimated error is below `SKIP / 8` of the tolerance (see [`bends`]).
const SKIP: f64 = 6.0;

/// A split point on the surface and its normal, and for a split at a crease point, the
/// projected midpoint (and normal) to fall back on if the crease point folds the surface.
type Choice = ((V3, V3), Option<(V3, V3)>);

/// The second normals of the vertices on a crease sharper than a right angle (see [`folded`]),
/// by vertex, ascending: few (none on most scans), so kept apart rather than a second normal per
/// vertex.
#[derive(Clone, Debug, Default)]
pub(crate) struct Creases(Vec<(u32, V3)>);

impl Creases {
    /// From `(vertex, second normal)` pairs, ascending by vertex.
    pub fn new(seconds: Vec<(u32, V3)>) -> Self {
        debug_assert!(seconds.windows(2).all(|w| w[0].0 < w[1].0));
        Creases(seconds)
    }

    /// The second normal of vertex `v`, if it is on such a crease.
    #[inline]
    pub fn get(&self, v: u32) -> Option<V3> {
        self.0
            .binary_search_by_key(&v, |c| c.0)
            .ok()
            .map(|i| self.0[i].1)
    }

    /// Gives `v`, the newest vertex, the second normal `n2` (none if it is its normal `n`).
    fn push(&mut self, v: u32, n: V3, n2: V3) {
        debug_assert!(self.0.last().is_none_or(|c| c.0 < v));
        if n2 != n {
            self.0.push((v, n2));
        }
    }

    /// Vertex `v` is no longer on a crease.
    fn remove(&mut self, v: u32) {
        if let Ok(i) = self.0.binary_search_by_key(&v, |c| c.0) {
            self.0.remove(i);
        }
    }

    /// The vertices on such a crease.
    pub fn vertices(&self) -> impl Iterator<Item = u32> + '_ {
        self.0.iter().map(|c| c.0)
    }
}

/// What refinement did.
#[derive(Clone, Debug, Default)]
pub(crate) struct Refinement {
    pub rounds: u32,
    pub splits: usize,
    /// Edges still off by more than the tolerance after the last round (too short to split).
    pub unresolved: usize,
    /// Splits withdrawn because they would have folded the surface.
    pub withdrawn: usize,
    /// The largest distance error, mm, at the places refinement measured off by more than the
    /// tolerance but could not split (a withdrawn split, an edge too short) and that are still
    /// there at the end, measured again on the final surface (0 if none): at the midpoint of such
    /// an edge and where it passes a crease, at the centroid of such a triangle.
    pub left: f64,
    /// The corners of those places still off by more than the tolerance (an edge's as
    /// `[a, b, b]`).
    pub places: Vec<[u32; 3]>,
}

/// Adds the split point of edge `e` as a new vertex, with a second normal when it is a crease
/// point (the face on the other side, from the edge's ends), and keeps its fallback in `second`.
fn add_split(
    e: u64,
    ((p, n), alt): Choice,
    vertices: &mut Vec<V3>,
    normals: &mut Vec<V3>,
    creases: &mut Creases,
    second: &mut Vec<(u64, (V3, V3))>,
) -> u32 {
    let (ia, ib) = ((e >> 32) as usize, (e & 0xffff_ffff) as usize);
    let n2 = match alt {
        Some(_) => crease_alt(n, normals[ia], normals[ib]),
        None => n,
    };
    vertices.push(p);
    normals.push(n);
    let v = vertices.len() as u32 - 1;
    creases.push(v, n, n2);
    if let Some(alt) = alt {
        second.push((e, alt));
    }
    v
}

/// Touched triangles changed a part at a time in a round: the part's results are held, not the
/// round's.
const PART: usize = 1 << 13;

/// Edges measured a part at a time in a round. Only the edges off are held (~1/4 of a part in
/// the first round), so a part can be larger than [`PART`]: 4x as large, foot-left +3 took
/// 108.2 against 109.5 ms (median of 21), fewer waits for the other thread between parts, for
/// +2.5 MB of peak memory.
const MEASURE_PART: usize = 1 << 15;

/// Measures edge `e` (a key from [`edge_key`]): `None` if it is within `tol` of the surface;
/// else the edge with its split point, or with none if it is too short to split (squared length
/// under `min_len2`).
#[inline]
fn measure(
    field: &Field,
    verts: &[V3],
    nrm: &[V3],
    e: u64,
    tol: f64,
    min_len2: f64,
) -> Option<(u64, Option<Choice>)> {
    let (ia, ib) = ((e >> 32) as usize, (e & 0xffff_ffff) as usize);
    let (a, b) = (verts[ia], verts[ib]);
    let len = norm2(sub(b, a)).sqrt();
    let (na, nb) = (nrm[ia], nrm[ib]);
    let m = lerp(a, b, 0.5);
    let ends = [(a, na), (b, nb)];
    let (err, hit) = field.error(m, bound(field, m, &ends));
    let crease = crease_point(a, na, b, nb, m);
    // An edge across a crease is furthest off where it passes the crease, which
    // need not be its midpoint: measure there too.
    let err = match crease {
        Some(x) if err <= tol => passing_error(field, &ends, x).max(err),
        _ => err,
    };
    if err <= tol {
        return None;
    }
    if len * len < min_len2 {
        return Some((e, None));
    }
    Some((e, Some(split_choice(field, &ends, m, hit, crease))))
}

/// Where to split an edge with ends `ends` (points and normals), midpoint `m` (whose nearest
/// input point is `hit`) and crease point `crease` ([`crease_point`]): at the crease point
/// projected, keeping the projected midpoint as the second choice; else at the projected
/// midpoint.
#[inline]
fn split_choice(
    field: &Field,
    ends: &[(V3, V3); 2],
    m: V3,
    hit: Nearest,
    crease: Option<V3>,
) -> Choice {
    let at_mid = field.project(m, hit);
    match crease {
        Some(x) => {
            let (_, hx) = field.error(x, bound(field, x, ends));
            (field.project(x, hx), Some(at_mid))
        }
        None => (at_mid, None),
    }
}

/// The last choice of split point for edge `e` (a key from [`edge_key`]), when the projected
/// crease point and midpoint both fold the surface: the point of the surface straight above the
/// edge, along the mean of its ends' normals, from where the edge passes its crease (or from its
/// midpoint). The nearest-point projection of a point off the surface near a corner where three
/// sheets meet (a crease between toes, the rim of an inward offset's flat) can slide it onto a
/// third sheet, well to the side of the edge, which turns a child triangle over; a point moved
/// along the normal stays above the edge. `None` where the ends' normals are nearly opposite or
/// the surface is not found within a quarter of `|D|` of the edge.
fn along_normal(field: &Field, verts: &[V3], nrm: &[V3], e: u64) -> Option<(V3, V3)> {
    let (ia, ib) = ((e >> 32) as usize, (e & 0xffff_ffff) as usize);
    let (a, b, na, nb) = (verts[ia], verts[ib], nrm[ia], nrm[ib]);
    let dir = add(na, nb);
    let l = norm2(dir).sqrt();
    if l < 0.5 {
        return None;
    }
    let dir = scale(dir, 1.0 / l);
    let ab = sub(b, a);
    let m = lerp(a, b, 0.5);
    let t = crease_point(a, na, b, nb, m)
        .map_or(0.5, |x| (dot(sub(x, a), ab) / norm2(ab)).clamp(0.25, 0.75));
    let x = lerp(a, b, t);
    let ends = [(a, na), (b, nb)];
    let facing = field.level.signum();
    // The field's excess over the level, which grows along `dir`, at `x + s dir`.
    let at = |s: f64| {
        let q = add(x, scale(dir, s));
        let hit = field.nearest(q, bound(field, q, &ends));
        (facing * (field.value_of(q, &hit) - field.level), q, hit)
    };
    let reach = field.radius / 4.0;
    // The field is 1-Lipschitz, so from a point whose excess is `g` the level is at least `|g|`
    // away: steps of the secant's length, but never shorter than that, until the sign changes
    // (each a safe step towards the level); then regula falsi (Illinois) inside the bracket.
    let (mut s0, (mut g0, mut q, mut hit)) = (0.0, at(0.0));
    let mut s1 = -g0;
    let mut far: Option<(f64, f64)> = None;
    for _ in 0..60 {
        if g0.abs() <= 1e-10 {
            break;
        }
        // (a NaN step is as far as any)
        if s1.is_nan() || s1.abs() > reach {
            return None;
        }
        let (g1, q1, hit1) = at(s1);
        if g1 == 0.0 || g1.signum() != g0.signum() {
            // `s0` is on the far side of the level from `s1` now.
            far = Some((s0, g0));
        } else if let Some((sf, gf)) = far {
            // Illinois: halve the far end's weight when the same end stays.
            far = Some((sf, gf / 2.0));
        }
        let slope = ((g1 - g0) / (s1 - s0)).abs().max(1e-3);
        (s0, g0, q, hit) = (s1, g1, q1, hit1);
        s1 = match far {
            Some((sf, gf)) => (sf * g0 - s0 * gf) / (g0 - gf),
            None => s0 - g0.signum() * (g0.abs() / slope).max(g0.abs()),
        };
    }
    if g0.abs() > 1e-7 {
        return None;
    }
    let d = hit.dist2.sqrt();
    if d <= 1e-12 {
        return None;
    }
    Some((q, scale(sub(q, hit.point), 1.0 / d)))
}

/// How far refinement goes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Goal {
    /// Largest distance error allowed where refinement measures, mm.
    pub tol: f64,
    /// Most rounds.
    pub max_rounds: u32,
    /// Edges shorter than this are never split, mm.
    pub min_len: f64,
}

/// Refines until every edge midpoint is within `goal.tol` of the surface, for at most
/// `goal.max_rounds` rounds, never splitting edges shorter than `goal.min_len`. Each vertex has
/// a normal, and those on a sharp crease a second one in `creases` (see [`folded`]).
pub(crate) fn refine(
    field: &Field,
    vertices: &mut Vec<V3>,
    normals: &mut Vec<V3>,
    creases: &mut Creases,
    triangles: &mut Vec<[u32; 3]>,
    goal: Goal,
) -> Refinement {
    let Goal {
        tol,
        max_rounds,
        min_len,
    } = goal;
    let mut stats = Refinement::default();
    let min_len2 = min_len * min_len;
    // Triangles made in the last round (ascending): only their edges can need checking. A list,
    // so that a late round with few splits does not walk every triangle.
    let mut fresh: Vec<u32> = (0..triangles.len() as u32).collect();
    let clock = std::time::Instant::now();
    // Edges and triangles refinement found off but could not split.
    let mut unsplit_edges: Vec<u64> = Vec::new();
    let mut unsplit_tris: Vec<[u32; 3]> = Vec::new();
    for _ in 0..max_rounds {
        // A triangle whose corner normals agree (by the sagitta estimate below) is not
        // measured; one that bends has all three edges measured, also an edge whose own two
        // ends agree: it may span a dimple or a bump that only the third corner sees.
        let edges: Vec<u64> = {
            let (vs, ns): (&Vec<V3>, &Vec<V3>) = (vertices, normals);
            let tris: &Vec<[u32; 3]> = triangles;
            fresh
                .par_iter()
                .map(|&i| tris[i as usize])
                .filter(|&t| bends(t, vs, ns, tol))
                .flat_map_iter(|t| (0..3).map(move |k| edge_key(t[k], t[(k + 1) % 3])))
                .collect()
        };
        // Made unique on one thread (a counting sort) while the other lists the triangles across
        // a crease, which the centroid and interior checks below look at (their corners are
        // there before this round's splits).
        let (edges, creased): (Vec<u64>, Vec<u32>) = {
            let (vs, ns): (&Vec<V3>, &Vec<V3>) = (vertices, normals);
            let tris: &[[u32; 3]] = triangles;
            rayon::join(
                || unique_edges(edges, vs.len()),
                || {
                    fresh
                        .par_iter()
                        .copied()
                        .filter(|&i| across_crease(tris[i as usize], vs, ns, tol, min_len))
                        .collect()
                },
            )
        };
        // Measured a part at a time ([`MEASURE_PART`]), each part's splits added before the
        // next part is measured.
        stats.unresolved = 0;
        // Crease splits keep the projected midpoint as a second choice.
        let mut second: Vec<(u64, (V3, V3))> = Vec::new();
        let mut split: Vec<(u64, u32)> = Vec::new();
        for edges in edges.chunks(MEASURE_PART) {
            let (vs, ns): (&Vec<V3>, &Vec<V3>) = (vertices, normals);
            // (only the few edges off are kept: most pass)
            let part: Vec<(u64, Option<Choice>)> = edges
                .par_iter()
                .filter_map(|&e| measure(field, vs, ns, e, tol, min_len2))
                .collect();
            for (e, p) in part {
                match p {
                    Some(p) => {
                        let v = add_split(e, p, vertices, normals, creases, &mut second);
                        split.push((e, v));
                    }
                    None => {
                        stats.unresolved += 1;
                        unsplit_edges.push(e);
                    }
                }
            }
        }
        // Triangles whose edges are all fine but whose corners face different ways (near a
        // corner where creases meet) are checked at their centroid, and split there (1 to 3)
        // at the point where their tangent planes meet, projected. Only across a crease
        // ([`CREASE_SPREAD`]): on a smooth patch the centroid is off by at most 4/3 of the worst
        // edge midpoint (linear interpolation of a quadratic is off at the centroid by 4/9 of
        // the sum of its three midpoint errors), so within 4/3 of the tolerance when its edges
        // pass.
        // (the splits so far, for this check and the interior one)
        let splits = Splits::new(&split, vertices.len());
        let centres: Vec<(u32, V3, V3)> = {
            let (vs, ns): (&Vec<V3>, &Vec<V3>) = (vertices, normals);
            let marked = |a: u32, b: u32| splits.mid(a, b).is_some();
            let tris: &[[u32; 3]] = triangles;
            creased
                .par_iter()
                .map(|&i| (i as usize, tris[i as usize]))
                .filter_map(|(i, t)| {
                    let [a, b, c] = t.map(|v| vs[v as usize]);
                    let [na, nb, nc] = t.map(|v| ns[v as usize]);
                    let len = longest2([a, b, c]).sqrt();
                    if (0..3).any(|k| marked(t[k], t[(k + 1) % 3])) {
                        return None;
                    }
                    let g = scale(add(a, add(b, c)), 1.0 / 3.0);
                    let (err, hit) = field.error(g, bound(field, g, &[(a, na), (b, nb), (c, nc)]));
                    if err <= tol {
                        return None;
                    }
                    let (p, n) = match corner_point([a, b, c], [na, nb, nc], g, len) {
                        Some(x) => {
                            let (_, hx) = field.error(x, f64::INFINITY);
                            field.project(x, hx)
                        }
                        None => field.project(g, hit),
                    };
                    Some((i as u32, p, n))
                })
                .collect()
        };
        let mut centre: Vec<(u32, u32)> = centres
            .into_iter()
            .map(|(t, p, n)| {
                vertices.push(p);
                normals.push(n);
                (t, vertices.len() as u32 - 1)
            })
            .collect();
        // A triangle across a crease whose edges and centroid pass can still be off near one of
        // its corners, where the crease passes close by: the points halfway from its centroid
        // to its corners are measured too, and a failing triangle gets its longest edge split
        // (at the crease where there is one), which keeps triangles well shaped. This holds
        // also when a shorter edge splits in the same round: near a corner where creases meet,
        // splitting only the short edges that fail cuts the triangle into ever thinner wedges
        // around the corner, each with the same long edge off near it.
        let interior: Vec<(u64, Choice)> = {
            let (vs, ns): (&Vec<V3>, &Vec<V3>) = (vertices, normals);
            let has_split = |a: u32, b: u32| splits.mid(a, b).is_some();
            let tris: &[[u32; 3]] = triangles;
            let mut found: Vec<(u64, Choice)> = creased
                .par_iter()
                .map(|&i| (i as usize, tris[i as usize]))
                .filter_map(|(i, t)| {
                    let [a, b, c] = t.map(|v| vs[v as usize]);
                    let [na, nb, nc] = t.map(|v| ns[v as usize]);
                    let lens = [norm2(sub(a, b)), norm2(sub(b, c)), norm2(sub(c, a))];
                    let k = (0..3).max_by(|&x, &y| lens[x].total_cmp(&lens[y])).unwrap();
                    if centre.binary_search_by_key(&(i as u32), |c| c.0).is_ok()
                        || has_split(t[k], t[(k + 1) % 3])
                    {
                        return None;
                    }
                    let bad = [
                        [4.0 / 6.0, 1.0 / 6.0, 1.0 / 6.0],
                        [1.0 / 6.0, 4.0 / 6.0, 1.0 / 6.0],
                        [1.0 / 6.0, 1.0 / 6.0, 4.0 / 6.0],
                    ]
                    .iter()
                    .any(|w| {
                        let x = add(add(scale(a, w[0]), scale(b, w[1])), scale(c, w[2]));
                        let corners = [(a, na), (b, nb), (c, nc)];
                        field.error(x, bound(field, x, &corners)).0 > tol
                    });
                    if !bad {
                        return None;
                    }
                    let (u, v) = (t[k], t[(k + 1) % 3]);
                    let (pu, pv) = (vs[u as usize], vs[v as usize]);
                    let (nu, nv) = (ns[u as usize], ns[v as usize]);
                    let m = lerp(pu, pv, 0.5);
                    let ends = [(pu, nu), (pv, nv)];
                    let (_, hm) = field.error(m, bound(field, m, &ends));
                    let crease = crease_point(pu, nu, pv, nv, m);
                    Some((edge_key(u, v), split_choice(field, &ends, m, hm, crease)))
                })
                .collect();
            found.sort_unstable_by_key(|f| f.0);
            found.dedup_by_key(|f| f.0);
            found
        };
        if !interior.is_empty() {
            for (e, choice) in interior {
                let v = add_split(e, choice, vertices, normals, creases, &mut second);
                split.push((e, v));
            }
            split.sort_unstable_by_key(|s| s.0);
            second.sort_unstable_by_key(|s| s.0);
        }
        if split.is_empty() && centre.is_empty() {
            break;
        }
        // Vertex normals point away from the input; triangles face increasing field values,
        // which is towards the input for an inward offset.
        let facing = field.level.signum();
        let folds = |kids: &[[u32; 3]], vs: &[V3], ns: &[V3], ns2: &Creases| {
            kids.iter()
                .any(|&k| folded(k, vs, ns, ns2, facing) || flat(k, vs))
        };
        // A split whose projected point would turn a new triangle away from the surface normal
        // at any of its corners (at a crease, where the projection is not smooth) moves to its
        // second choice if it has one, else is withdrawn for both triangles of the edge: the
        // surface never folds. Until no split folds: each pass uses up a second choice or
        // withdraws a split, so this ends. Only triangles with two ends of split edges (or a
        // centre split) can change: those are listed once (ascending), and withdrawals only
        // shrink the set.
        let touched: Vec<u32> = {
            let ends = ends_of(split.iter().map(|s| s.0), vertices.len());
            let mut at_centre = vec![false; triangles.len()];
            for c in &centre {
                at_centre[c.0 as usize] = true;
            }
            triangles
                .par_iter()
                .enumerate()
                .filter(|&(i, t)| {
                    at_centre[i] || t.iter().filter(|&&v| ends[v as usize]).count() >= 2
                })
                .map(|(i, _)| i as u32)
                .collect()
        };
        // After the first pass, only triangles with an edge whose split just moved or was
        // withdrawn can change: the rest keep their (unfolded) children.
        let mut check: Vec<u32> = touched.clone();
        // Edges whose split has been moved to its third choice ([`along_normal`]), ascending,
        // and those whose split is then held to the parent's facing only ([`turns`]).
        let mut lined: Vec<u64> = Vec::new();
        let mut lenient: Vec<u64> = Vec::new();
        loop {
            let mut bad: Vec<u64> = {
                let (vs, ns): (&Vec<V3>, &Vec<V3>) = (vertices, normals);
                let ns2: &Creases = creases;
                let splits = Splits::new(&split, vs.len());
                let ends = ends_of(split.iter().map(|s| s.0), vs.len());
                let tris: &[[u32; 3]] = triangles;
                let lenient: &[u64] = &lenient;
                check
                    .par_iter()
                    .map(|&i| tris[i as usize])
                    .filter(|t| t.iter().filter(|&&v| ends[v as usize]).count() >= 2)
                    .flat_map_iter(|t| {
                        let m = [0, 1, 2].map(|k| splits.mid(t[k], t[(k + 1) % 3]));
                        let (kids, n) = split_triangle(t, m, None, vs);
                        let last = !lenient.is_empty()
                            && (0..3).any(|k| {
                                m[k].is_some()
                                    && lenient
                                        .binary_search(&edge_key(t[k], t[(k + 1) % 3]))
                                        .is_ok()
                            });
                        let fold = n > 1
                            && if last {
                                turns(t, &kids[..n], vs)
                            } else {
                                folds(&kids[..n], vs, ns, ns2)
                            };
                        (0..3)
                            .filter(move |&k| fold && m[k].is_some())
                            .map(move |k| edge_key(t[k], t[(k + 1) % 3]))
                    })
                    .collect()
            };
            if bad.is_empty() {
                break;
            }
            bad.par_sort_unstable();
            bad.dedup();
            let mut withdraw = Vec::new();
            for &e in &bad {
                let v = split[split.binary_search_by_key(&e, |s| s.0).unwrap()].1 as usize;
                match second.binary_search_by_key(&e, |s| s.0) {
                    Ok(i) => {
                        let (p, n) = second.remove(i).1;
                        vertices[v] = p;
                        normals[v] = n;
                        creases.remove(v as u32);
                    }
                    Err(_) => match lined.binary_search(&e) {
                        Err(at) => {
                            lined.insert(at, e);
                            if let Some((p, n)) = along_normal(field, vertices, normals, e) {
                                vertices[v] = p;
                                normals[v] = n;
                                creases.remove(v as u32);
                            }
                        }
                        Ok(_) => match lenient.binary_search(&e) {
                            Err(at) => lenient.insert(at, e),
                            Ok(_) => withdraw.push(e),
                        },
                    },
                }
            }
            unsplit_edges.extend(&withdraw);
            let before = split.len();
            split.retain(|s| withdraw.binary_search(&s.0).is_err());
            stats.withdrawn += before - split.len();
            let bad_ends = ends_of(bad.iter().copied(), vertices.len());
            let tris: &[[u32; 3]] = triangles;
            check = touched
                .par_iter()
                .copied()
                .filter(|&i| {
                    let t = tris[i as usize];
                    (0..3).any(|k| {
                        let (a, b) = (t[k], t[(k + 1) % 3]);
                        bad_ends[a as usize]
                            && bad_ends[b as usize]
                            && bad.binary_search(&edge_key(a, b)).is_ok()
                    })
                })
                .collect();
        }
        let vs: &Vec<V3> = vertices;
        let ns: &Vec<V3> = normals;
        let ns2: &Creases = creases;
        let before = centre.len();
        centre.retain(|&(t, c)| {
            let (kids, n) = split_triangle(triangles[t as usize], [None; 3], Some(c), vs);
            let keep = !folds(&kids[..n], vs, ns, ns2);
            if !keep {
                unsplit_tris.push(triangles[t as usize]);
            }
            keep
        });
        stats.withdrawn += before - centre.len();
        if std::env::var_os("FAB_OFFSET_TRACE").is_some() {
            eprintln!(
                "offset: refine round at {:?}: {} edge splits, {} centre splits, {} withdrawn so far",
                clock.elapsed(),
                split.len(),
                centre.len(),
                stats.withdrawn
            );
        }
        if split.is_empty() && centre.is_empty() {
            break;
        }
        stats.rounds += 1;
        stats.splits += split.len() + centre.len();
        let splits = Splits::new(&split, vs.len());
        // Only the triangles that split change: each is replaced by its first child in place
        // and its other children are appended, so a late round with a few splits costs little.
        // A part at a time: each touched triangle reads only itself. Changed triangles
        // (ascending) then the appended ones (above all of them): `fresh` is ascending.
        fresh.clear();
        let mut added = Vec::new();
        let mut part: Vec<([[u32; 3]; 4], usize)> = Vec::new();
        for touched in touched.chunks(PART) {
            let tris: &[[u32; 3]] = triangles;
            touched
                .par_iter()
                .map(|&i| {
                    let t = tris[i as usize];
                    let m = [0, 1, 2].map(|k| splits.mid(t[k], t[(k + 1) % 3]));
                    let c = centre
                        .binary_search_by_key(&i, |c| c.0)
                        .ok()
                        .map(|j| centre[j].1);
                    split_triangle(t, m, c, vs)
                })
                .collect_into_vec(&mut part);
            for (&i, &(kids, n)) in touched.iter().zip(&part) {
                if n < 2 {
                    continue;
                }
                triangles[i as usize] = kids[0];
                fresh.push(i);
                for &k in &kids[1..n] {
                    added.push(triangles.len() as u32);
                    triangles.push(k);
                }
            }
        }
        fresh.extend(added);
    }
    let places = left_places(
        field,
        vertices,
        normals,
        triangles,
        unsplit_edges,
        unsplit_tris,
    );
    stats.left = places.iter().map(|p| p.1).fold(0.0, f64::max);
    stats.places = places
        .into_iter()
        .filter(|p| p.1 > tol)
        .map(|p| p.0)
        .collect();
    stats
}

/// The places refinement could not split that are still in the surface, with their error: the
/// midpoints of `edges` (and where they pass a crease; an edge's corners as `[a, b, b]`) and the
/// centroids of `tris`.
fn left_places(
    field: &Field,
    vs: &[V3],
    ns: &[V3],
    triangles: &[[u32; 3]],
    mut edges: Vec<u64>,
    mut tris: Vec<[u32; 3]>,
) -> Vec<([u32; 3], f64)> {
    edges.sort_unstable();
    edges.dedup();
    for t in &mut tris {
        t.sort_unstable();
    }
    tris.sort_unstable();
    tris.dedup();
    let mut ends = ends_of(edges.iter().copied(), vs.len());
    for t in &tris {
        t.iter().for_each(|&v| ends[v as usize] = true);
    }
    // Those still there: edges of the final triangles, and final triangles themselves.
    let (mut kept_edges, mut kept_tris): (Vec<u64>, Vec<[u32; 3]>) = triangles
        .par_iter()
        .filter(|t| t.iter().filter(|&&v| ends[v as usize]).count() >= 2)
        .fold(
            || (Vec::new(), Vec::new()),
            |(mut es, mut ts), &t| {
                for k in 0..3 {
                    let e = edge_key(t[k], t[(k + 1) % 3]);
                    if edges.binary_search(&e).is_ok() {
                        es.push(e);
                    }
                }
                let mut s = t;
                s.sort_unstable();
                if tris.binary_search(&s).is_ok() {
                    ts.push(t);
                }
                (es, ts)
            },
        )
        .reduce(
            || (Vec::new(), Vec::new()),
            |mut a, b| {
                a.0.extend(b.0);
                a.1.extend(b.1);
                a
            },
        );
    kept_edges.sort_unstable();
    kept_edges.dedup();
    kept_tris.sort_unstable();
    kept_tris.dedup();
    let on_edges = kept_edges.par_iter().map(|&e| {
        let (ia, ib) = ((e >> 32) as u32, (e & 0xffff_ffff) as u32);
        let (a, b, na, nb) = (
            vs[ia as usize],
            vs[ib as usize],
            ns[ia as usize],
            ns[ib as usize],
        );
        let ends = [(a, na), (b, nb)];
        let m = lerp(a, b, 0.5);
        let err = field.error(m, bound(field, m, &ends)).0;
        let err = match crease_point(a, na, b, nb, m) {
            Some(x) => passing_error(field, &ends, x).max(err),
            None => err,
        };
        ([ia, ib, ib], err)
    });
    let in_tris = kept_tris.par_iter().map(|&t| {
        let [a, b, c] = t.map(|v| vs[v as usize]);
        let g = scale(add(a, add(b, c)), 1.0 / 3.0);
        let corners = t.map(|v| (vs[v as usize], ns[v as usize]));
        (t, field.error(g, bound(field, g, &corners)).0)
    });
    on_edges.chain(in_tris).collect()
}

/// A new triangle must face the way the surface normals at its corners do on average, and may
/// lean away from any one of them by at most this (cosine): a triangle lying in one face of a
/// crease is perpendicular to the other face's normal, which is fine; one standing across a
/// crease is not.
const FACING: f64 = 0.1;

/// Faces whose normals differ by more than a right angle (cosine) meet at a sharp crease.
const SHARP_COS: f64 = 0.0;

/// A triangle whose corner normals are further apart than this ([`spread`]: 0.2 is about 11.5
/// degrees) lies across a crease: only such a triangle is measured inside (centroid, points
/// halfway to its corners).
pub(crate) const CREASE_SPREAD: f64 = 0.2;

/// Ends whose normals differ by more than this angle (cosine) straddle a crease.
const CREASE_COS: f64 = 0.94;

/// Where an edge whose ends lie on two differently facing parts of the surface crosses the
/// crease between them: the point nearest the midpoint `m` on the line where the tangent planes
/// at the ends meet. Splitting there puts a vertex on the crease instead of cutting across it.
/// It must lie within the edge's span, and near its midpoint: within half the edge's length, or
/// for a crease sharper than a right angle (the rim of a thin blade left by an inward offset of
/// a thin part) within twice it, since such a rim can stand well off the chord.
fn crease_point(a: V3, na: V3, b: V3, nb: V3, m: V3) -> Option<V3> {
    let c = dot(na, nb);
    if c >= CREASE_COS {
        return None;
    }
    let det = 1.0 - c * c;
    let ra = dot(na, sub(a, m));
    let rb = dot(nb, sub(b, m));
    let lam = (ra - c * rb) / det;
    let mu = (rb - c * ra) / det;
    let x = add(m, add(scale(na, lam), scale(nb, mu)));
    let ab = sub(b, a);
    let l2 = norm2(ab);
    let t = dot(sub(x, a), ab) / l2;
    let reach2 = if c < 0.0 { 4.0 * l2 } else { l2 / 4.0 };
    ((0.1..=0.9).contains(&t) && norm2(sub(x, m)) < reach2).then_some(x)
}

/// The error of edge `ends` where it passes the crease point `x` (the point of the edge nearest
/// it): an edge across a crease is furthest off there, which need not be its midpoint.
fn passing_error(field: &Field, ends: &[(V3, V3); 2], x: V3) -> f64 {
    let [(a, _), (b, _)] = *ends;
    let ab = sub(b, a);
    let t = (dot(sub(x, a), ab) / norm2(ab)).clamp(0.0, 1.0);
    let s = lerp(a, b, t);
    field.error(s, bound(field, s, ends)).0
}

/// Where the tangent planes at a triangle's three corners meet, when they meet well (normals
/// far from coplanar) near the centroid `g`: the corner of the surface the triangle cuts off.
fn corner_point(p: [V3; 3], n: [V3; 3], g: V3, len: f64) -> Option<V3> {
    let det = dot(n[0], cross(n[1], n[2]));
    if det.abs() < 0.2 {
        return None;
    }
    let d = [0, 1, 2].map(|i| dot(n[i], p[i]));
    let x = scale(
        add(
            add(
                scale(cross(n[1], n[2]), d[0]),
                scale(cross(n[2], n[0]), d[1]),
            ),
            scale(cross(n[0], n[1]), d[2]),
        ),
        1.0 / det,
    );
    (norm2(sub(x, g)) < len * len / 4.0).then_some(x)
}

/// Whether triangle `t` turns away from the surface normal at any of its corners by more than
/// [`FACING`] allows (`facing`: the offset's sign; triangles face along the vertex normals
/// outward and against them inward). A vertex on a crease has two normals, one per face
/// (`ns`, and `creases`; one elsewhere), and a triangle may follow either face: across a crease
/// sharper than a right angle, a triangle in one face leans away from the other face's normal
/// by more than [`FACING`] allows.
#[inline]
pub(crate) fn folded(t: [u32; 3], vs: &[V3], ns: &[V3], creases: &Creases, facing: f64) -> bool {
    let n = normal(t, vs);
    let limit = -FACING * norm2(n).sqrt();
    t.iter().any(|&v| {
        facing * dot(n, ns[v as usize]) <= limit
            && creases.get(v).is_none_or(|n2| facing * dot(n, n2) <= limit)
    })
}

/// The second normal of a vertex on a sharp crease (see [`folded`]): of the normals `na`, `nb`
/// of the faces the crease joins, the one further from its own normal `n`, if they are more
/// than [`SHARP_COS`] apart; else `n` (also where they are unknown: zero). A crease less sharp
/// needs none: [`FACING`] lets a triangle in one face lean that far from the other's normal.
#[inline]
pub(crate) fn crease_alt(n: V3, na: V3, nb: V3) -> V3 {
    let alt = if dot(n, na) < dot(n, nb) { na } else { nb };
    if norm2(alt) > 0.5 && dot(n, alt) < SHARP_COS {
        alt
    } else {
        n
    }
}

/// Whether a child of `parent` among `kids` turns against it (or has no area, [`flat`]): the
/// last test of a split, when every choice of split point folds by [`folded`]. Near a corner
/// where sheets meet at a crease sharper than a right angle the corners' normals are those of
/// different sheets, and no child of a triangle across it faces along all of them; a split that
/// keeps every child facing as its parent did turns nothing over there.
fn turns(parent: [u32; 3], kids: &[[u32; 3]], vs: &[V3]) -> bool {
    let n = normal(parent, vs);
    kids.iter()
        .any(|&k| dot(normal(k, vs), n) <= 0.0 || flat(k, vs))
}

/// Whether triangle `t` is (nearly) a segment: its least altitude under [`FLAT`] of its longest
/// edge. A split point placed on a crease can fall on the line through two corners already on
/// it; the child joining the three has no normal, so the fold test cannot judge it, and it
/// touches its neighbours along the crease.
#[inline]
fn flat(t: [u32; 3], vs: &[V3]) -> bool {
    let l2 = longest2(t.map(|i| vs[i as usize]));
    // Twice the area over the longest edge is the least altitude.
    norm2(normal(t, vs)) <= FLAT * FLAT * l2 * l2
}

/// See [`flat`].
const FLAT: f64 = 0.01;

/// An upper bound on the distance from `x` to the input: a surface vertex `p` with normal `n`
/// has its nearest input point at `p - |D| n`, and the nearest of those to `x` is a point of the
/// input. It starts `x`'s exact search with a tight radius.
#[inline]
pub(crate) fn bound(field: &Field, x: V3, vertices: &[(V3, V3)]) -> f64 {
    vertices
        .iter()
        .map(|&(p, n)| norm2(sub(x, sub(p, scale(n, field.radius)))))
        .fold(f64::INFINITY, f64::min)
        .sqrt()
}

/// Whether a triangle may be off the surface by more than about `SKIP / 8` of `tol`: all its
/// corners lie on the surface with known normals, and the midpoint of a chord of a smooth
/// surface is off by about `|b - a| |n_b - n_a| / 8`; the largest of that over the triangle is
/// at most its longest edge times its normal spread.
#[inline]
fn bends(t: [u32; 3], vs: &[V3], ns: &[V3], tol: f64) -> bool {
    let len2 = longest2(t.map(|v| vs[v as usize]));
    let s = spread(t.map(|v| ns[v as usize]));
    len2 * s * s >= (SKIP * tol) * (SKIP * tol)
}

/// Whether triangle `t` lies across a crease ([`CREASE_SPREAD`]) and bends enough to be
/// measured inside ([`bends`]), with its longest edge at least `min_len`: the triangles the
/// centroid and interior checks look at.
#[inline]
fn across_crease(t: [u32; 3], vs: &[V3], ns: &[V3], tol: f64, min_len: f64) -> bool {
    let s = spread(t.map(|v| ns[v as usize]));
    let len = longest2(t.map(|v| vs[v as usize])).sqrt();
    s >= CREASE_SPREAD && len * s >= SKIP * tol && len >= min_len
}

/// The squared length of a triangle's longest edge.
#[inline]
fn longest2([a, b, c]: [V3; 3]) -> f64 {
    norm2(sub(a, b)).max(norm2(sub(b, c))).max(norm2(sub(a, c)))
}

/// How far apart a triangle's corner normals are: the largest distance between two of them
/// (0 on a flat patch, about the angle in radians for small bends, above 1 across a crease).
#[inline]
pub(crate) fn spread([na, nb, nc]: [V3; 3]) -> f64 {
    norm2(sub(na, nb))
        .max(norm2(sub(nb, nc)))
        .max(norm2(sub(na, nc)))
        .sqrt()
}

#[inline]
pub(crate) fn normal(t: [u32; 3], vs: &[V3]) -> V3 {
    let [a, b, c] = t.map(|i| vs[i as usize]);
    cross(sub(b, a), sub(c, a))
}

/// The triangles that replace `t` when its edges `k` (v_k to v_k+1) with `m[k]` set are split
/// there, or, with no edge split, when a `centre` vertex is put inside it; the count used is the
/// second value.
fn split_triangle(
    t: [u32; 3],
    m: [Option<u32>; 3],
    centre: Option<u32>,
    vs: &[V3],
) -> ([[u32; 3]; 4], usize) {
    let count = m.iter().filter(|x| x.is_some()).count();
    let mut out = [[0u32; 3]; 4];
    match count {
        0 => match centre {
            Some(c) => {
                out[0] = [t[0], t[1], c];
                out[1] = [t[1], t[2], c];
                out[2] = [t[2], t[0], c];
                (out, 3)
            }
            None => {
                out[0] = t;
                (out, 1)
            }
        },
        3 => {
            let [m0, m1, m2] = m.map(Option::unwrap);
            out = [[t[0], m0, m2], [m0, t[1], m1], [m2, m1, t[2]], [m0, m1, m2]];
            (out, 4)
        }
        1 => {
            let r = m.iter().position(|x| x.is_some()).unwrap();
            let (v0, v1, v2) = (t[r], t[(r + 1) % 3], t[(r + 2) % 3]);
            let m0 = m[r].unwrap();
            out[0] = [v0, m0, v2];
            out[1] = [m0, v1, v2];
            (out, 2)
        }
        _ => {
            // Rotate so the unsplit edge is v2-v0.
            let k = m.iter().position(|x| x.is_none()).unwrap();
            let r = (k + 1) % 3;
            let (v0, v1, v2) = (t[r], t[(r + 1) % 3], t[(r + 2) % 3]);
            let (m0, m1) = (m[r].unwrap(), m[(r + 1) % 3].unwrap());
            out[0] = [m0, v1, m1];
            let p = |i: u32| vs[i as usize];
            // Quad v0 m0 m1 v2: cut along the shorter diagonal.
            if norm2(sub(p(v0), p(m1))) <= norm2(sub(p(m0), p(v2))) {
                out[1] = [v0, m0, m1];
                out[2] = [v0, m1, v2];
            } else {
                out[1] = [v0, m0, v2];
                out[2] = [m0, m1, v2];
            }
            (out, 3)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The counting sort gives what sorting and removing repeats gives, on keys with
        /// repeats, ends at both extremes of the vertex range and empty input; and so does the
        /// plain sort taken for few keys over many vertices.
        #[test]
        fn unique_edges_sorts_and_drops_repeats(
            pairs in proptest::collection::vec((0u32..40, 0u32..40), 0..300),
            n in 40usize..8000,
        ) {
            let keys: Vec<u64> = pairs
                .iter()
                .filter(|(a, b)| a != b)
                .map(|&(a, b)| edge_key(a, b))
                .collect();
            let mut want = keys.clone();
            want.sort_unstable();
            want.dedup();
            prop_assert_eq!(unique_edges(keys, n), want);
        }

        /// Every edge is found by its lower end as by a binary search over the splits, split or
        /// not, in either order of its ends.
        #[test]
        fn splits_are_found_by_their_lower_end(
            pairs in proptest::collection::vec((0u32..40, 0u32..40), 0..120),
        ) {
            let mut keys: Vec<u64> = pairs
                .iter()
                .filter(|(a, b)| a != b)
                .map(|&(a, b)| edge_key(a, b))
                .collect();
            keys.sort_unstable();
            keys.dedup();
            let split: Vec<(u64, u32)> = keys.iter().zip(100u32..).map(|(&e, v)| (e, v)).collect();
            let splits = Splits::new(&split, 40);
            for a in 0..40u32 {
                for b in (0..40u32).filter(|&b| b != a) {
                    let want = split
                        .binary_search_by_key(&edge_key(a, b), |s| s.0)
                        .ok()
                        .map(|i| split[i].1);
                    prop_assert_eq!(splits.mid(a, b), want);
                }
            }
        }
    }
}
