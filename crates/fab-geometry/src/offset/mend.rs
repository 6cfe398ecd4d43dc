//! Mending crossing triangles: where two triangles of the finished surface cross each other,
//! an edge of one of them is collapsed or flipped so that they no longer do.
//!
//! Such crossings are rare and local, and all near a crease: a chord across a valley crease (an
//! outward offset where the input is concave) that dips under the other sheet by less than the
//! tolerance; a vertex placed on a crease's flat side a few hundredths of a millimetre past the
//! edge of a triangle of the same flat (an inward offset's rim round a flat end face that is
//! concave in its plane); the two faces of a thin blade. The remedy is local too: of every
//! collapse of an edge at a corner of the two triangles (the corner moved onto a neighbour,
//! which is on the surface) and every flip of one of their edges, the one that leaves the
//! fewest crossings around it and turns nothing over, with the new triangles measured within
//! the limit at the check's sample points (edge midpoints, centroid, halfway to the corners),
//! the least off. "Turns nothing over" is first the refinement's fold test (each new triangle
//! faces along its corners' normals); where no change passes it (at a crease sharper than a
//! right angle no triangle across it can), each new triangle need only face as what it
//! replaces. Where no one change leaves fewer crossings, two in turn (the first leaving as
//! many, the second at a crossing the first made), then one among the triangles round the
//! pair; where none of these keeps within the limit, the same again within a looser one (a
//! tangle of tiny triangles where a thin blade's two faces meet). Vertices never move, so the
//! rest of the surface is untouched.
//!
//! [`mend_errors`] does the same for the places refinement found off by more than is allowed
//! and could not split: the change that leaves the place least off (its new triangles and the
//! place's others), if less than it is.
//!
//! The search for crossings runs over the whole surface where the offset already suspects it
//! (sharp creases, folds, places left off), and otherwise only between the triangles across a
//! valley and those a few rings round them ([`in_valleys`]), a small share of them.

use rayon::prelude::*;

use super::field::Field;
use super::refine::{self, Creases};
use crate::query::{Bvh, V3, add, cross, dot, norm2, scale, sub, triangles_intersect};

/// What [`mend`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Mended {
    /// Crossing pairs found in the first search.
    pub found: usize,
    /// Collapses and flips made.
    pub changes: usize,
    /// Crossing pairs left after the last round.
    pub left: usize,
}

/// Rounds of search and repair: each repairs the pairs of the last search, then searches again
/// (a repair can uncover a crossing that the first hid).
const ROUNDS: usize = 6;

/// Barycentric weights of the points a new triangle is measured at: edge midpoints, centroid,
/// halfway from the centroid to each corner (the corners are on the surface), as
/// [`super::check`] samples.
const SAMPLES: [[f64; 3]; 7] = [
    [0.5, 0.5, 0.0],
    [0.0, 0.5, 0.5],
    [0.5, 0.0, 0.5],
    [1.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0],
    [4.0 / 6.0, 1.0 / 6.0, 1.0 / 6.0],
    [1.0 / 6.0, 4.0 / 6.0, 1.0 / 6.0],
    [1.0 / 6.0, 1.0 / 6.0, 4.0 / 6.0],
];

/// The triangles across a valley: corner normals further apart than [`VALLEY_SPREAD`], and
/// along some edge the normals turning towards each other (the solid the surface bounds is
/// concave there; `facing` is the offset's sign, the normals point away from the input). A
/// chord across a valley passes under the surface, and where it passes under a triangle of the
/// other side the two cross; across a ridge a chord passes inside, under nothing. Elsewhere the
/// triangles lie within the tolerance of a smooth sheet; none of the sweeps met a crossing on an
/// unflagged surface away from a valley (a finding, not a proof: a surface already suspect is
/// searched whole).
fn valley_triangles(vs: &[V3], ns: &[V3], facing: f64, triangles: &[[u32; 3]]) -> Vec<u32> {
    triangles
        .par_iter()
        .enumerate()
        .filter(|&(_, &t)| {
            let n = t.map(|v| ns[v as usize]);
            refine::spread(n) >= VALLEY_SPREAD
                && (0..3).any(|k| {
                    let (a, b) = (vs[t[k] as usize], vs[t[(k + 1) % 3] as usize]);
                    let (d, e) = (sub(n[(k + 1) % 3], n[k]), sub(b, a));
                    facing * dot(d, e) < -VALLEY * (norm2(d) * norm2(e)).sqrt()
                })
        })
        .map(|(i, _)| i as u32)
        .collect()
}

/// Corner normals further apart than this ([`refine::spread`]: about 23 degrees) mark a
/// triangle across a crease. A triangle of a smooth valley of radius `r` spreads its normals by
/// about its size over `r`. On foot-left +3 (147 584 triangles), 438 triangles are across a
/// valley by this and 2 550 lie within two rings of them; at 0.2 (the refinement's
/// [`refine::CREASE_SPREAD`]) 2 695 and 19 588, and the search took two to three times as
/// long (measured 2026-12-07).
const VALLEY_SPREAD: f64 = 0.4;

/// How squarely an edge's end normals must turn towards each other for a valley (cosine of the
/// angle between their difference and the edge, negated).
const VALLEY: f64 = 0.3;

#[inline]
fn corners(t: [u32; 3], vs: &[V3]) -> [V3; 3] {
    t.map(|v| vs[v as usize])
}

#[inline]
fn bbox(p: [V3; 3]) -> (V3, V3) {
    let mut lo = p[0];
    let mut hi = p[0];
    for q in &p[1..] {
        for k in 0..3 {
            lo[k] = lo[k].min(q[k]);
            hi[k] = hi[k].max(q[k]);
        }
    }
    (lo, hi)
}

#[inline]
fn shares_vertex(a: [u32; 3], b: [u32; 3]) -> bool {
    a.iter().any(|v| b.contains(v))
}

/// Crossing pairs `(i, j)`, `i < j`, of live triangles sharing no vertex: between every two
/// triangles when `among` is `None`, else between a triangle of `among` and any other. The
/// triangles in `changed` (ascending) are not in `tree` as they are now: they are tested
/// against each other one by one, and the tree's entries for them are passed over.
fn crossings(tree: &Tree, s: &Surface, among: Option<&[u32]>, changed: &[u32]) -> Vec<(u32, u32)> {
    let (vs, triangles, dead) = (s.vs, &*s.triangles, &s.dead);
    let test = |i: u32, j: u32| {
        let (t, u) = (triangles[i as usize], triangles[j as usize]);
        !dead[j as usize]
            && !shares_vertex(t, u)
            && triangles_intersect(corners(t, vs), corners(u, vs))
    };
    let search = |i: u32, all: bool| {
        let (lo, hi) = bbox(corners(triangles[i as usize], vs));
        let mut found = Vec::new();
        tree.for_each_overlapping(lo, hi, |j| {
            if j != i && !(all && j < i) && changed.binary_search(&j).is_err() && test(i, j) {
                found.push((i.min(j), i.max(j)));
            }
        });
        found
    };
    let mut pairs: Vec<(u32, u32)> = match among {
        None => (0..triangles.len() as u32)
            .into_par_iter()
            .filter(|&i| !dead[i as usize] && changed.binary_search(&i).is_err())
            .flat_map_iter(|i| search(i, true))
            .collect(),
        Some(a) => a
            .par_iter()
            .copied()
            .filter(|&i| !dead[i as usize] && changed.binary_search(&i).is_err())
            .flat_map_iter(|i| search(i, false))
            .collect(),
    };
    // the changed triangles against the tree and against each other
    for (k, &i) in changed.iter().enumerate() {
        if dead[i as usize] {
            continue;
        }
        pairs.extend(search(i, false));
        for &j in &changed[k + 1..] {
            if test(i, j) {
                pairs.push((i, j));
            }
        }
    }
    pairs.par_sort_unstable();
    pairs.dedup();
    pairs
}

/// Rings of triangles round the valley triangles searched for their crossings.
const RINGS: usize = 2;

/// Crossing pairs with a triangle across a valley in them ([`valley_triangles`]), whose other
/// triangle is within [`RINGS`] rings of triangles of such a triangle (triangles sharing a
/// corner, then their neighbours, ...): found by marking corners, a pass over the triangles a
/// ring, and a tree of the valley triangles.
fn in_valleys(s: &Surface) -> Vec<(u32, u32)> {
    let (vs, triangles) = (s.vs, &*s.triangles);
    let valley = valley_triangles(vs, s.ns, s.facing, triangles);
    if valley.is_empty() {
        return Vec::new();
    }
    let mut marked = vec![false; vs.len()];
    for &i in &valley {
        for v in triangles[i as usize] {
            marked[v as usize] = true;
        }
    }
    let mut near: Vec<u32> = Vec::new();
    for ring in 0..RINGS {
        near = (0..triangles.len() as u32)
            .into_par_iter()
            .filter(|&i| triangles[i as usize].iter().any(|&v| marked[v as usize]))
            .collect();
        if ring + 1 < RINGS {
            for &i in &near {
                for v in triangles[i as usize] {
                    marked[v as usize] = true;
                }
            }
        }
    }
    if std::env::var_os("FAB_OFFSET_TRACE").is_some() {
        eprintln!(
            "offset: {} valley triangles, {} near them",
            valley.len(),
            near.len()
        );
    }
    let bvh = Bvh::from_triangles(
        valley
            .iter()
            .map(|&i| corners(triangles[i as usize], vs))
            .collect(),
    );
    let mut pairs: Vec<(u32, u32)> = near
        .par_iter()
        .flat_map_iter(|&i| {
            let t = triangles[i as usize];
            let p = corners(t, vs);
            let (lo, hi) = bbox(p);
            let mut found = Vec::new();
            bvh.for_each_overlapping(lo, hi, |k| {
                let j = valley[k as usize];
                let u = triangles[j as usize];
                if j != i && !shares_vertex(t, u) && triangles_intersect(p, corners(u, vs)) {
                    found.push((i.min(j), i.max(j)));
                }
            });
            found
        })
        .collect();
    pairs.par_sort_unstable();
    pairs.dedup();
    pairs
}

/// The largest distance error of triangle `t` at [`SAMPLES`].
fn error_of(field: &Field, vs: &[V3], ns: &[V3], t: [u32; 3]) -> f64 {
    let p = corners(t, vs);
    let ends = [0, 1, 2].map(|k| (p[k], ns[t[k] as usize]));
    SAMPLES
        .iter()
        .map(|w| {
            let x = add(add(scale(p[0], w[0]), scale(p[1], w[1])), scale(p[2], w[2]));
            field.error(x, refine::bound(field, x, &ends)).0
        })
        .fold(0.0, f64::max)
}

/// The triangles measured off by more than `limit` at [`SAMPLES`], each as a place for
/// [`mend_errors`] (its corners): the whole surface measured, for a surface refinement may have
/// left off where it did not look (a triangle whose corners' normals agree across a valley).
pub(crate) fn places_off(
    field: &Field,
    vs: &[V3],
    ns: &[V3],
    triangles: &[[u32; 3]],
    limit: f64,
) -> Vec<[u32; 3]> {
    triangles
        .par_iter()
        .copied()
        .filter(|&t| error_of(field, vs, ns, t) > limit)
        .collect()
}

/// A surface being mended: triangles around each vertex, and which are gone.
struct Surface<'a> {
    vs: &'a [V3],
    ns: &'a [V3],
    creases: &'a Creases,
    facing: f64,
    triangles: &'a mut Vec<[u32; 3]>,
    dead: Vec<bool>,
    /// Whether a change is held only to face as what it replaces ([`Surface::sound`]).
    soft: bool,
    /// Triangles around each vertex before mending, `list[first[v]..first[v + 1]]`, and those a
    /// change gave it since (may hold dead ones and stale entries: checked on use).
    first: Vec<u32>,
    list: Vec<u32>,
    gained: crate::fasthash::FastMap<u32, Vec<u32>>,
}

/// A change: triangles `gone` replaced by `new` (index, corners): a collapse reuses the
/// triangles it keeps, a flip both of its own.
struct Change {
    gone: Vec<u32>,
    new: Vec<(u32, [u32; 3])>,
    error: f64,
    /// Crossings the new triangles make with triangles round about.
    crossing: usize,
}

impl Surface<'_> {
    /// Lists the triangles around each vertex (a counting sort).
    fn index(&mut self) {
        let n = self.vs.len();
        let mut first = vec![0u32; n + 1];
        for t in self.triangles.iter() {
            for &v in t {
                first[v as usize + 1] += 1;
            }
        }
        for v in 0..n {
            first[v + 1] += first[v];
        }
        let mut list = vec![0u32; first[n] as usize];
        let mut next = first.clone();
        for (i, t) in self.triangles.iter().enumerate() {
            for &v in t {
                list[next[v as usize] as usize] = i as u32;
                next[v as usize] += 1;
            }
        }
        (self.first, self.list) = (first, list);
    }

    /// The live triangles with corner `v`.
    fn at(&self, v: u32) -> Vec<u32> {
        let before =
            &self.list[self.first[v as usize] as usize..self.first[v as usize + 1] as usize];
        let mut r: Vec<u32> = before
            .iter()
            .chain(self.gained.get(&v).into_iter().flatten())
            .copied()
            .filter(|&t| !self.dead[t as usize] && self.triangles[t as usize].contains(&v))
            .collect();
        r.sort_unstable();
        r.dedup();
        r
    }

    /// Whether a new triangle is acceptable in itself: faces the way its corners' normals do
    /// and is no sliver.
    /// With `was` (the normal of what it replaces), held only to face the same way as that:
    /// where every choice turns against a corner's normal at a sharp crease.
    fn sound(&self, t: [u32; 3], was: Option<V3>) -> bool {
        if t[0] == t[1] || t[1] == t[2] || t[0] == t[2] {
            return false;
        }
        let p = corners(t, self.vs);
        let n = cross(sub(p[1], p[0]), sub(p[2], p[0]));
        let longest = norm2(sub(p[0], p[1]))
            .max(norm2(sub(p[1], p[2])))
            .max(norm2(sub(p[0], p[2])));
        // twice the area over the longest edge is the least altitude
        norm2(n) > super::MIN_EDGE * super::MIN_EDGE * longest
            && match (self.soft, was) {
                (true, Some(w)) => dot(n, w) > 0.0,
                _ => !refine::folded(t, self.vs, self.ns, self.creases, self.facing),
            }
    }

    /// The collapse of `v` onto its neighbour `w`.
    fn collapse(&self, v: u32, w: u32) -> Option<Change> {
        let (av, aw) = (self.at(v), self.at(w));
        let shared: Vec<u32> = av.iter().copied().filter(|t| aw.contains(t)).collect();
        if shared.len() != 2 {
            return None;
        }
        let ring = |ts: &[u32], me: u32| {
            let mut r: Vec<u32> = ts
                .iter()
                .flat_map(|&t| self.triangles[t as usize])
                .filter(|&x| x != me)
                .collect();
            r.sort_unstable();
            r.dedup();
            r
        };
        let (rv, rw) = (ring(&av, v), ring(&aw, w));
        let common = rv
            .iter()
            .filter(|&&x| x != w && rw.binary_search(&x).is_ok())
            .count();
        if common != 2 || rv.len() < 4 || rw.len() < 4 {
            return None;
        }
        let mut new = Vec::new();
        for &t in &av {
            if shared.contains(&t) {
                continue;
            }
            let old = self.triangles[t as usize];
            let n = old.map(|x| if x == v { w } else { x });
            if !self.sound(n, Some(refine::normal(old, self.vs))) {
                return None;
            }
            new.push((t, n));
        }
        Some(Change {
            gone: shared,
            new,
            error: 0.0,
            crossing: 0,
        })
    }

    /// The flip of edge `a`-`b` of triangle `t`.
    fn flip(&self, t: u32, a: u32, b: u32) -> Option<Change> {
        let tri = self.triangles[t as usize];
        let k = (0..3).find(|&k| tri[k] == a && tri[(k + 1) % 3] == b)?;
        let c = tri[(k + 2) % 3];
        let u = self.at(a).into_iter().find(|&u| {
            u != t && {
                let x = self.triangles[u as usize];
                (0..3).any(|k| x[k] == b && x[(k + 1) % 3] == a)
            }
        })?;
        let d = *self.triangles[u as usize]
            .iter()
            .find(|&&x| x != a && x != b)?;
        if c == d
            || self
                .at(c)
                .iter()
                .any(|&x| self.triangles[x as usize].contains(&d))
        {
            return None;
        }
        let (n1, n2) = ([a, d, c], [d, b, c]);
        let was = add(
            refine::normal(tri, self.vs),
            refine::normal(self.triangles[u as usize], self.vs),
        );
        if !self.sound(n1, Some(was)) || !self.sound(n2, Some(was)) {
            return None;
        }
        Some(Change {
            gone: Vec::new(),
            new: vec![(t, n1), (u, n2)],
            error: 0.0,
            crossing: 0,
        })
    }

    /// Every collapse of an edge at a corner of triangles `ts` onto a neighbour, and every flip
    /// of one of their edges, that [`Surface::collapse`] and [`Surface::flip`] allow.
    fn options(&self, ts: &[u32]) -> Vec<Change> {
        let mut options: Vec<Change> = Vec::new();
        for &t in ts {
            let tri = self.triangles[t as usize];
            for k in 0..3 {
                let v = tri[k];
                for &u in &self.at(v) {
                    for &w in &self.triangles[u as usize] {
                        if w != v
                            && let Some(c) = self.collapse(v, w)
                            && !options.iter().any(|o| same(o, &c))
                        {
                            options.push(c);
                        }
                    }
                }
                if let Some(c) = self.flip(t, tri[k], tri[(k + 1) % 3])
                    && !options.iter().any(|o| same(o, &c))
                {
                    options.push(c);
                }
            }
        }
        options
    }

    /// Removes the triangles changes made dead from the surface's list.
    fn drop_dead(self) {
        let Surface {
            triangles, dead, ..
        } = self;
        let mut i = 0;
        triangles.retain(|_| {
            i += 1;
            !dead[i - 1]
        });
    }

    fn apply(&mut self, c: &Change, changed: &mut Vec<u32>) {
        for &t in &c.gone {
            self.dead[t as usize] = true;
        }
        for &(t, n) in &c.new {
            self.triangles[t as usize] = n;
            for &v in &n {
                self.gained.entry(v).or_default().push(t);
            }
            if let Err(at) = changed.binary_search(&t) {
                changed.insert(at, t);
            }
        }
    }
}

/// Finds and removes crossing triangles (see the module documentation): over the whole surface
/// when `everywhere`, else between the triangles across a valley and those near them
/// ([`in_valleys`]). Changes that leave a triangle measured further than `limit` from the
/// surface are not made. Dead triangles are removed from `triangles` at the end; vertices are
/// left as they are.
pub(crate) fn mend(
    field: &Field,
    vs: &[V3],
    ns: &[V3],
    creases: &Creases,
    triangles: &mut Vec<[u32; 3]>,
    everywhere: bool,
    [limit, loose]: [f64; 2],
) -> Mended {
    let facing = field.level.signum();
    let mut s = Surface {
        vs,
        ns,
        creases,
        facing,
        dead: vec![false; triangles.len()],
        triangles,
        soft: false,
        first: Vec::new(),
        list: Vec::new(),
        gained: Default::default(),
    };
    let mut changed: Vec<u32> = Vec::new();
    let (tree, mut pairs) = if everywhere {
        let tree = Tree::new(vs, s.triangles);
        let pairs = crossings(&tree, &s, None, &changed);
        (tree, pairs)
    } else {
        let pairs = in_valleys(&s);
        if pairs.is_empty() {
            return Mended::default();
        }
        (Tree::new(vs, s.triangles), pairs)
    };
    let mut stats = Mended {
        found: pairs.len(),
        ..Mended::default()
    };
    if pairs.is_empty() {
        return stats;
    }
    s.index();
    for _ in 0..ROUNDS {
        if pairs.is_empty() {
            break;
        }
        let changes = stats.changes;
        let mut touched: Vec<u32> = Vec::new();
        for &(i, j) in &pairs {
            if s.dead[i as usize]
                || s.dead[j as usize]
                || touched.binary_search(&i).is_ok()
                || touched.binary_search(&j).is_ok()
            {
                continue;
            }
            let (ti, tj) = (s.triangles[i as usize], s.triangles[j as usize]);
            if !triangles_intersect(corners(ti, vs), corners(tj, vs)) {
                continue;
            }
            // One change at the pair, two in turn, one among the triangles round it; each first
            // held to `limit`, then to `loose`.
            let mut chosen = Vec::new();
            for limit in [limit, loose] {
                chosen = match s.choose(field, &tree, &changed, limit, &[i, j]) {
                    Ok(c) => vec![c],
                    Err(level) => s.two_steps(field, &tree, &mut changed, limit, level),
                };
                if chosen.is_empty() {
                    let mut near: Vec<u32> = ti.iter().chain(&tj).flat_map(|&v| s.at(v)).collect();
                    near.sort_unstable();
                    near.dedup();
                    if let Ok(c) = s.choose(field, &tree, &changed, limit, &near) {
                        chosen.push(c);
                    }
                }
                if !chosen.is_empty() {
                    break;
                }
            }
            for c in &chosen {
                s.apply(c, &mut changed);
                for &t in c.gone.iter().chain(c.new.iter().map(|n| &n.0)) {
                    if let Err(at) = touched.binary_search(&t) {
                        touched.insert(at, t);
                    }
                }
            }
            stats.changes += chosen.len();
        }
        if stats.changes == changes {
            break;
        }
        // Pairs of triangles neither changed still cross; the changed ones are searched again.
        let unchanged = |t: u32| changed.binary_search(&t).is_err();
        pairs.retain(|&(i, j)| {
            !s.dead[i as usize] && !s.dead[j as usize] && unchanged(i) && unchanged(j)
        });
        pairs.extend(crossings(&tree, &s, Some(&[]), &changed));
        pairs.sort_unstable();
        pairs.dedup();
    }
    stats.left = pairs.len();
    s.drop_dead();
    stats
}

/// Changes tried as the first of two in [`Surface::two_steps`].
const FIRST_STEPS: usize = 40;

impl Surface<'_> {
    /// The change at triangles `ts` that leaves the fewest crossings round about, then the least
    /// error, if it leaves fewer than there are now; held to the corners' normals first, then
    /// (at a sharp crease, where nothing so held mends them) to facing as what it replaces.
    /// Where none does, the changes that leave as many as there are (a first step for
    /// [`Surface::two_steps`]), fewest errors first.
    fn choose(
        &mut self,
        field: &Field,
        tree: &Tree,
        changed: &[u32],
        limit: f64,
        ts: &[u32],
    ) -> Result<Change, Vec<Change>> {
        let mut level = Vec::new();
        for soft in [false, true] {
            self.soft = soft;
            let mut options = self.options(ts);
            for c in &mut options {
                c.error = c
                    .new
                    .iter()
                    .map(|&(_, n)| error_of(field, self.vs, self.ns, n))
                    .fold(0.0, f64::max);
            }
            options.retain(|c| c.error <= limit);
            for c in &mut options {
                c.crossing = self.crossings_of(c, tree, changed);
            }
            options.sort_by(|a, b| {
                a.crossing
                    .cmp(&b.crossing)
                    .then(a.error.total_cmp(&b.error))
            });
            for c in options {
                // a change must leave fewer crossings round about than there are (in a tangle
                // of several, each change undoes some)
                let before = self.crossings_before(&c, tree, changed);
                if c.crossing < before {
                    self.soft = false;
                    return Ok(c);
                }
                if c.crossing == before && !level.iter().any(|o| same(o, &c)) {
                    level.push(c);
                }
            }
        }
        self.soft = false;
        level.sort_by(|a, b| a.error.total_cmp(&b.error));
        Err(level)
    }

    /// Where no one change mends a crossing, two: each of the first [`FIRST_STEPS`] of `level`
    /// (changes that leave as many crossings as there are) is made, and kept with a change at a
    /// crossing its new triangles make that leaves fewer; else undone. The two changes, or none.
    fn two_steps(
        &mut self,
        field: &Field,
        tree: &Tree,
        changed: &mut Vec<u32>,
        limit: f64,
        level: Vec<Change>,
    ) -> Vec<Change> {
        for first in level.into_iter().take(FIRST_STEPS) {
            let (was_changed, was): (Vec<u32>, Vec<(u32, [u32; 3])>) = (
                changed.clone(),
                first
                    .new
                    .iter()
                    .map(|&(t, _)| (t, self.triangles[t as usize]))
                    .collect(),
            );
            self.apply(&first, changed);
            let mut pairs = Vec::new();
            for &(t, n) in &first.new {
                let p = corners(n, self.vs);
                let (lo, hi) = bbox(p);
                let mut test = |j: u32| {
                    let u = self.triangles[j as usize];
                    if !self.dead[j as usize]
                        && !shares_vertex(n, u)
                        && triangles_intersect(p, corners(u, self.vs))
                    {
                        pairs.push((t.min(j), t.max(j)));
                    }
                };
                tree.for_each_overlapping(lo, hi, |j| {
                    if changed.binary_search(&j).is_err() {
                        test(j)
                    }
                });
                for &j in changed.iter() {
                    if j != t {
                        test(j);
                    }
                }
            }
            pairs.sort_unstable();
            pairs.dedup();
            for (a, b) in pairs {
                if let Ok(second) = self.choose(field, tree, changed, limit, &[a, b]) {
                    // `apply` is made again by the caller, from the triangles as they were
                    self.undo(&first, &was);
                    *changed = was_changed;
                    return vec![first, second];
                }
            }
            self.undo(&first, &was);
            *changed = was_changed;
        }
        Vec::new()
    }

    /// Undoes change `c`, made over triangles that were `was` (its new ones' corners before).
    fn undo(&mut self, c: &Change, was: &[(u32, [u32; 3])]) {
        for &t in &c.gone {
            self.dead[t as usize] = false;
        }
        for &(t, old) in was {
            self.triangles[t as usize] = old;
        }
    }
}

/// Two changes that make the same triangles.
fn same(a: &Change, b: &Change) -> bool {
    a.gone == b.gone && a.new == b.new
}

/// A tree over the triangles as they were before mending.
struct Tree {
    bvh: Bvh,
}

impl Tree {
    fn new(vs: &[V3], triangles: &[[u32; 3]]) -> Self {
        Tree {
            bvh: Bvh::from_triangles(triangles.par_iter().map(|&t| corners(t, vs)).collect()),
        }
    }

    fn for_each_overlapping(&self, lo: V3, hi: V3, f: impl FnMut(u32)) {
        self.bvh.for_each_overlapping(lo, hi, f);
    }
}

impl Surface<'_> {
    /// Crossings of the new triangles of `c` with the live triangles round about (`tree` over
    /// the triangles as they were before mending, `changed` those changed since, ascending).
    fn crossings_of(&self, c: &Change, tree: &Tree, changed: &[u32]) -> usize {
        let replaced = |j: u32| c.gone.contains(&j) || c.new.iter().any(|n| n.0 == j);
        let mut count = 0;
        for &(_, n) in &c.new {
            let p = corners(n, self.vs);
            let (lo, hi) = bbox(p);
            let mut test = |j: u32| {
                if self.dead[j as usize] || replaced(j) {
                    return;
                }
                let u = self.triangles[j as usize];
                if !shares_vertex(n, u) && triangles_intersect(p, corners(u, self.vs)) {
                    count += 1;
                }
            };
            tree.for_each_overlapping(lo, hi, |j| {
                if changed.binary_search(&j).is_err() {
                    test(j)
                }
            });
            for &j in changed {
                test(j);
            }
        }
        count
    }

    /// Crossings the triangles `c` replaces make now: with the triangles round about, and among
    /// themselves.
    fn crossings_before(&self, c: &Change, tree: &Tree, changed: &[u32]) -> usize {
        let set: Vec<u32> = c
            .gone
            .iter()
            .copied()
            .chain(c.new.iter().map(|n| n.0))
            .collect();
        let now = Change {
            gone: Vec::new(),
            new: set
                .iter()
                .map(|&t| (t, self.triangles[t as usize]))
                .collect(),
            error: 0.0,
            crossing: 0,
        };
        let mut count = self.crossings_of(&now, tree, changed);
        for (k, &a) in set.iter().enumerate() {
            for &b in &set[k + 1..] {
                let (t, u) = (self.triangles[a as usize], self.triangles[b as usize]);
                if !shares_vertex(t, u)
                    && triangles_intersect(corners(t, self.vs), corners(u, self.vs))
                {
                    count += 1;
                }
            }
        }
        count
    }
}

/// What [`mend_errors`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct MendedErrors {
    /// Collapses and flips made.
    pub changes: usize,
    /// The largest error left at the places, measured at the check's sample points of the
    /// triangles there.
    pub left: f64,
}

/// Rounds over the places in [`mend_errors`].
const ERROR_ROUNDS: usize = 4;

/// Mends the places refinement found off and could not split (`places`: corners, an edge's as
/// `[a, b, b]`): each such place's triangles (those with two or more of its corners) are
/// replaced by the collapse or flip of an edge among them that leaves them least off, if that
/// is less than they are now, turns nothing over and makes no new crossing. A split refused
/// because every child of a triangle across a sharp crease turned over can leave a long edge
/// bridging the crease next to a sliver; a flip across that edge, or the sliver's collapse and
/// then a flip, removes it.
pub(crate) fn mend_errors(
    field: &Field,
    vs: &[V3],
    ns: &[V3],
    creases: &Creases,
    triangles: &mut Vec<[u32; 3]>,
    places: &[[u32; 3]],
) -> MendedErrors {
    let mut s = Surface {
        vs,
        ns,
        creases,
        facing: field.level.signum(),
        dead: vec![false; triangles.len()],
        triangles,
        soft: true,
        first: Vec::new(),
        list: Vec::new(),
        gained: Default::default(),
    };
    s.index();
    let tree = Tree::new(vs, s.triangles);
    let mut changed: Vec<u32> = Vec::new();
    let mut stats = MendedErrors::default();
    // The place's triangles: those with two or more of its corners.
    let at = |s: &Surface, p: &[u32; 3]| -> Vec<u32> {
        let mut r: Vec<u32> = p
            .iter()
            .flat_map(|&v| s.at(v))
            .filter(|&t| {
                let tri = s.triangles[t as usize];
                let has = |k: usize| tri.contains(&p[k]);
                // corners of the place in the triangle, each once (an edge's is [a, b, b])
                let n = has(0) as usize
                    + (p[1] != p[0] && has(1)) as usize
                    + (p[2] != p[0] && p[2] != p[1] && has(2)) as usize;
                n >= 2
            })
            .collect();
        r.sort_unstable();
        r.dedup();
        r
    };
    for _ in 0..ERROR_ROUNDS {
        let changes = stats.changes;
        for p in places {
            let bad = at(&s, p);
            if bad.is_empty() {
                continue;
            }
            let errors: Vec<f64> = bad
                .iter()
                .map(|&t| error_of(field, vs, ns, s.triangles[t as usize]))
                .collect();
            let now = errors.iter().copied().fold(0.0, f64::max);
            let mut options = s.options(&bad);
            // a change's error: the most its new triangles and the place's others are off
            for c in &mut options {
                let kept = bad
                    .iter()
                    .zip(&errors)
                    .filter(|&(t, _)| !c.gone.contains(t) && !c.new.iter().any(|n| n.0 == *t))
                    .map(|(_, &e)| e);
                c.error = c
                    .new
                    .iter()
                    .map(|&(_, n)| error_of(field, vs, ns, n))
                    .chain(kept)
                    .fold(0.0, f64::max);
            }
            options.retain(|c| c.error < now);
            options.sort_by(|a, b| a.error.total_cmp(&b.error));
            for c in options {
                if s.crossings_of(&c, &tree, &changed) <= s.crossings_before(&c, &tree, &changed) {
                    s.apply(&c, &mut changed);
                    stats.changes += 1;
                    break;
                }
            }
        }
        if stats.changes == changes {
            break;
        }
    }
    stats.left = places
        .iter()
        .flat_map(|p| at(&s, p))
        .map(|t| error_of(field, vs, ns, s.triangles[t as usize]))
        .fold(0.0, f64::max);
    s.drop_dead();
    stats
}
