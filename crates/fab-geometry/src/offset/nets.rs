//! Dual extraction of the level set from the band's corner values ("surface nets" with marching
//! cubes' topology): one vertex per patch of the surface in each cell, one quad per grid edge the
//! surface crosses, joining the vertices of the four cells around that edge.
//!
//! Compared with marching tetrahedra on the same grid this makes about a third of the vertices
//! and well-shaped quads instead of slivers, so far fewer exact projections are needed afterwards.
//!
//! **Topology.** Inside a cell the surface is marching cubes' patch: on each face the crossings
//! are joined in pairs, and a face with four crossings is settled by the asymptotic decider (the
//! sign of the bilinear interpolant at its saddle), which depends on that face's four values only,
//! so both cells sharing it agree. The patches of a cell are the cycles of those joins; each gets
//! its own vertex. The result is a closed 2-manifold: a dual edge joins vertices of two cells
//! sharing a face, and is used by exactly the two crossings of one pair on that face. The single
//! exception is a face with four crossings where each of the two cells has a single patch through
//! all four (the surface is a tube through the face): there the face gets one extra vertex per
//! pair, inserted between the two cells' vertices, and the tube keeps its width.

use std::sync::OnceLock;

use rayon::prelude::*;

use super::band::{Band, Corner};
use super::grid::{Grid, TOP, below, rank_at, ranks, unlocal};
use crate::query::{V3, dot, lerp, norm2, sub};

/// Cell corners by bits x = 1, y = 2, z = 4. Edges 0-3 run along x from corners 0, 2, 4, 6;
/// 4-7 along y from 0, 1, 4, 5; 8-11 along z from 0, 1, 2, 3.
const EDGES: [(u8, u8); 12] = [
    (0, 1),
    (2, 3),
    (4, 5),
    (6, 7),
    (0, 2),
    (1, 3),
    (4, 6),
    (5, 7),
    (0, 4),
    (1, 5),
    (2, 6),
    (3, 7),
];

/// Faces as corner cycles: x = 0, x = 1, y = 0, y = 1, z = 0, z = 1.
const FACES: [[u8; 4]; 6] = [
    [0, 2, 6, 4],
    [1, 3, 7, 5],
    [0, 1, 5, 4],
    [2, 3, 7, 6],
    [0, 1, 3, 2],
    [4, 5, 7, 6],
];

const fn edge_of(a: u8, b: u8) -> u8 {
    let (a, b) = if a < b { (a, b) } else { (b, a) };
    match b ^ a {
        1 => a >> 1,
        2 => 4 + (a & 1) + ((a >> 2) << 1),
        _ => 8 + a,
    }
}

/// The edges of each face, in cycle order: edge `k` joins corners `k` and `k + 1`.
const FACE_EDGES: [[u8; 4]; 6] = {
    let mut out = [[0u8; 4]; 6];
    let mut f = 0;
    while f < 6 {
        let mut k = 0;
        while k < 4 {
            out[f][k] = edge_of(FACES[f][k], FACES[f][(k + 1) % 4]);
            k += 1;
        }
        f += 1;
    }
    out
};

/// A cell the surface crosses: where its vertices start (local to its block) and, for each of its
/// 12 edges, the patch holding that edge's crossing (2 bits each), plus a bit per face for the
/// tube case (four crossings on the face, all in one patch of this cell).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Cell {
    base: u32,
    patch: u32,
    tube: u8,
}

const EMPTY: Cell = Cell {
    base: u32::MAX,
    patch: 0,
    tube: 0,
};

impl Cell {
    #[inline]
    fn vertex(&self, edge: u8) -> u32 {
        self.base + ((self.patch >> (2 * edge)) & 3)
    }
}

/// The dual surface before projection: vertex positions (in their cells), a hint for each
/// vertex's nearest-point search, and polygons (quads, rarely more at tube faces), each with
/// its normal pointing out of the offset solid. A polygon of more than four vertices must be
/// fanned from its first vertex (a tube vertex).
pub(crate) struct Nets {
    pub vertices: Vec<V3>,
    /// For each vertex, a triangle (tree slot) near it, to start its nearest-point search.
    pub hints: Vec<u32>,
    /// For each vertex, two directions away from the input among its cell's corners: the first
    /// plane's and the one most different from it (the faces of a crease the vertex sits on;
    /// zero where unknown, at tube vertices).
    pub cones: Vec<[V3; 2]>,
    pub quads: Vec<[u32; 4]>,
    pub polygons: Vec<Vec<u32>>,
    /// Quads dropped because a cell around a crossing was outside the band (never expected).
    pub missing: usize,
}

/// The asymptotic decider on a face with four crossings, `v` its values in cycle order (corners
/// 0 and 2 on one side of the level): whether 0 and 2 are joined across the face, by the sign of
/// the bilinear interpolant at its saddle. The crossings then pair around corners 1 and 3, else
/// around 0 and 2. It depends on the face's values only, so both cells sharing it agree.
#[inline]
fn joins_0_2(v: [f64; 4]) -> bool {
    let saddle = (v[0] * v[2] - v[1] * v[3]) / (v[0] + v[2] - v[1] - v[3]);
    (saddle < 0.0) == (v[0] < 0.0)
}

/// Patches of a cell with corner values `g` (negative inside): their count, the patch of each
/// edge (2 bits each), and the tube faces.
fn patches(g: &[f32; 8]) -> (u32, u32, u8) {
    let inside = |c: u8| g[c as usize] < 0.0;
    let mut parent = [0u8; 12];
    for (i, p) in parent.iter_mut().enumerate() {
        *p = i as u8;
    }
    fn find(p: &mut [u8; 12], mut x: u8) -> u8 {
        while p[x as usize] != x {
            p[x as usize] = p[p[x as usize] as usize];
            x = p[x as usize];
        }
        x
    }
    let union = |p: &mut [u8; 12], a: u8, b: u8| {
        let (ra, rb) = (find(p, a), find(p, b));
        if ra != rb {
            p[ra as usize] = rb;
        }
    };
    let mut four = 0u8;
    for (f, face) in FACES.iter().enumerate() {
        let s = face.map(inside);
        let fe = FACE_EDGES[f];
        let crossing: [bool; 4] = [0, 1, 2, 3].map(|k| s[k] != s[(k + 1) % 4]);
        match crossing.iter().filter(|&&c| c).count() {
            2 => {
                let mut it = (0..4).filter(|&k| crossing[k]);
                let (a, b) = (it.next().unwrap(), it.next().unwrap());
                union(&mut parent, fe[a], fe[b]);
            }
            4 => {
                four |= 1 << f;
                let v = face.map(|c| g[c as usize] as f64);
                if joins_0_2(v) {
                    union(&mut parent, fe[0], fe[1]);
                    union(&mut parent, fe[2], fe[3]);
                } else {
                    union(&mut parent, fe[3], fe[0]);
                    union(&mut parent, fe[1], fe[2]);
                }
            }
            _ => {}
        }
    }
    let mut ids = [u8::MAX; 12];
    let mut count = 0u32;
    let mut patch = 0u32;
    for (e, &(a, b)) in EDGES.iter().enumerate() {
        if inside(a) == inside(b) {
            continue;
        }
        let r = find(&mut parent, e as u8) as usize;
        if ids[r] == u8::MAX {
            ids[r] = count as u8;
            count += 1;
        }
        patch |= (ids[r] as u32) << (2 * e);
    }
    let mut tube = 0u8;
    for (f, fe) in FACE_EDGES.iter().enumerate() {
        if four & (1 << f) != 0 {
            let p = fe.map(|e| (patch >> (2 * e)) & 3);
            if p.iter().all(|&x| x == p[0]) {
                tube |= 1 << f;
            }
        }
    }
    (count, patch, tube)
}

/// [`patches`] by table where the corners' signs alone decide it: when no face has its
/// corners alternating in sign (the asymptotic decider then needs the values). Most crossed
/// cells are such.
#[inline]
fn patches_of(g: &[f32; 8]) -> (u32, u32, u8) {
    // per sign mask: the patches, and whether a face is ambiguous
    static TABLE: OnceLock<[(u32, u32, bool); 256]> = OnceLock::new();
    let table = TABLE.get_or_init(|| {
        std::array::from_fn(|mask| {
            let g: [f32; 8] = std::array::from_fn(|c| if mask >> c & 1 == 1 { -1.0 } else { 1.0 });
            let ambiguous = FACES.iter().any(|face| {
                let s = face.map(|c| g[c as usize] < 0.0);
                s[0] == s[2] && s[1] == s[3] && s[0] != s[1]
            });
            let (count, patch, _) = patches(&g);
            (count, patch, ambiguous)
        })
    });
    let mask = (0..8).fold(0usize, |m, c| m | usize::from(g[c] < 0.0) << c);
    match table[mask] {
        (_, _, true) => patches(g),
        (count, patch, false) => (count, patch, 0),
    }
}

/// The band's crossed cells, found once for the extraction and the candidate lists.
pub(crate) struct Crossed {
    /// Per cell block (as [`Band::cell_blocks`] stores them), its crossed cells, one bit each by
    /// their place in the block.
    pub bits: Vec<u64>,
    /// Per cell block, the rank of its first crossed cell (the crossed cells numbered block by
    /// block), and their number at the end: a crossed cell's rank is its block's plus the bits
    /// below its own.
    pub first: Vec<u32>,
    /// Per cell block, how many vertices its cells have.
    pub counts: Vec<u32>,
}

/// Finds the cells the level set crosses (corners on both sides of it) and how many patches
/// each has, leaf by leaf (the band's cells), each leaf's 27 corner values read once.
pub(crate) fn classify(band: &Band) -> Crossed {
    let cb = &band.cell_blocks;
    let (bits, counts): (Vec<u64>, Vec<u32>) = (0..cb.len())
        .into_par_iter()
        .map(|s| {
            let o = cb.origin_of(s);
            let (mut bits, mut count) = (0u64, 0u32);
            for l in &band.leaves[band.leaf_start[s]..band.leaf_start[s + 1]] {
                let g: [f32; 27] = std::array::from_fn(|x| {
                    let x = x as u32;
                    band.corner(l[0] + x % 3, l[1] + (x / 3) % 3, l[2] + x / 9)
                        .g
                });
                for c in 0..8u32 {
                    let (ci, cj, ck) = (c & 1, (c >> 1) & 1, c >> 2);
                    let g: [f32; 8] = std::array::from_fn(|d| {
                        let d = d as u32;
                        g[((ci + (d & 1)) + 3 * (cj + ((d >> 1) & 1)) + 9 * (ck + (d >> 2)))
                            as usize]
                    });
                    let inside = g.iter().filter(|&&x| x < 0.0).count();
                    if inside == 0 || inside == 8 {
                        continue;
                    }
                    let u = [l[0] + ci - o[0], l[1] + cj - o[1], l[2] + ck - o[2]];
                    bits |= 1 << ((u[2] * TOP + u[1]) * TOP + u[0]);
                    count += patches_of(&g).0;
                }
            }
            (bits, count)
        })
        .unzip();
    let first = ranks(&bits);
    Crossed {
        bits,
        first,
        counts,
    }
}

/// Extracts the dual surface of the band, whose crossed cells are `crossed` ([`classify`]).
pub(crate) fn extract(band: &Band, grid: &Grid, level: f64, crossed: &Crossed) -> Nets {
    let cb = &band.cell_blocks;
    let Crossed {
        bits,
        first: cell_start,
        counts,
    } = crossed;
    // The crossed cells' patches, by rank.
    let mut cells: Vec<Cell> = (0..*cell_start.last().unwrap())
        .into_par_iter()
        .map(|_| EMPTY)
        .collect();
    let corner_g = |i: u32, j: u32, k: u32| -> [f32; 8] {
        [0u32, 1, 2, 3, 4, 5, 6, 7]
            .map(|c| band.corner(i + (c & 1), j + ((c >> 1) & 1), k + (c >> 2)).g)
    };
    // Pass 1, per block of cells: each patch's vertex (the mass point of its crossings, moved to
    // its corners' tangent planes), written in place: each block's share of the arrays is known
    // from its count, so they are made at their final size, and the cells' vertex numbers made
    // global.
    let total = counts.iter().map(|&c| c as usize).sum::<usize>();
    let mut vertices: Vec<V3> = (0..total).into_par_iter().map(|_| [0.0; 3]).collect();
    let mut hints: Vec<u32> = (0..total).into_par_iter().map(|_| 0).collect();
    let mut cones: Vec<[V3; 2]> = (0..total).into_par_iter().map(|_| [[0.0; 3]; 2]).collect();
    {
        type Share<'a> = (
            &'a mut [Cell],
            &'a mut [V3],
            &'a mut [u32],
            &'a mut [[V3; 2]],
            u32,
        );
        let mut shares: Vec<Share> = Vec::with_capacity(cb.len());
        let mut cs = &mut cells[..];
        let (mut v, mut hs, mut ns) = (&mut vertices[..], &mut hints[..], &mut cones[..]);
        let mut first = 0u32;
        for (&n, b) in counts.iter().zip(bits) {
            let n = n as usize;
            let (c, rest_c) = std::mem::take(&mut cs).split_at_mut(b.count_ones() as usize);
            let (a, rest_v) = std::mem::take(&mut v).split_at_mut(n);
            let (h, rest_h) = std::mem::take(&mut hs).split_at_mut(n);
            let (e, rest_n) = std::mem::take(&mut ns).split_at_mut(n);
            shares.push((c, a, h, e, first));
            (cs, v, hs, ns) = (rest_c, rest_v, rest_h, rest_n);
            first += n as u32;
        }
        shares
            .into_par_iter()
            .enumerate()
            .for_each(|(s, (cells, verts, hints, cones, first))| {
                if bits[s] == 0 {
                    return;
                }
                let o = cb.origin_of(s);
                let mut local = 0;
                for l in &band.leaves[band.leaf_start[s]..band.leaf_start[s + 1]] {
                    let lu = [l[0] - o[0], l[1] - o[1], l[2] - o[2]];
                    let at = |c: u32| {
                        let (ci, cj, ck) = (c & 1, (c >> 1) & 1, c >> 2);
                        (((lu[2] + ck) * TOP + lu[1] + cj) * TOP + lu[0] + ci) as usize
                    };
                    if (0..8).all(|c| bits[s] >> at(c) & 1 == 0) {
                        continue;
                    }
                    // The leaf's 27 corners, fetched once for its 8 cells.
                    let mut leaf = [band.corner(l[0], l[1], l[2]); 27];
                    for (x, c) in leaf.iter_mut().enumerate().skip(1) {
                        let x = x as u32;
                        *c = band.corner(l[0] + x % 3, l[1] + (x / 3) % 3, l[2] + x / 9);
                    }
                    for c in 0..8u32 {
                        let li = at(c);
                        if bits[s] >> li & 1 == 0 {
                            continue;
                        }
                        let (ci, cj, ck) = (c & 1, (c >> 1) & 1, c >> 2);
                        let (i, j, k) = (l[0] + ci, l[1] + cj, l[2] + ck);
                        let cs: [Corner; 8] = [0u32, 1, 2, 3, 4, 5, 6, 7].map(|c| {
                            leaf[((ci + (c & 1)) + 3 * (cj + ((c >> 1) & 1)) + 9 * (ck + (c >> 2)))
                                as usize]
                        });
                        let g = cs.map(|c| c.g);
                        let (count, patch, tube) = patches_of(&g);
                        let base = local;
                        local += count;
                        cells[below(bits[s], li) as usize] = Cell {
                            base: first + base,
                            patch,
                            tube,
                        };
                        let mut sum = [[0.0f64; 3]; 4];
                        let mut n = [0u32; 4];
                        let mut qef = [Qef::default(); 4];
                        let mut cone = [Cone::default(); 4];
                        let lo = grid.point(i, j, k);
                        let pts: [V3; 8] = [0u32, 1, 2, 3, 4, 5, 6, 7].map(|c| {
                            [
                                lo[0] + (c & 1) as f64 * grid.h,
                                lo[1] + ((c >> 1) & 1) as f64 * grid.h,
                                lo[2] + (c >> 2) as f64 * grid.h,
                            ]
                        });
                        let qs: [V3; 8] = cs.map(|c| c.q.map(f64::from));
                        // Each corner's exact tangent plane of the level set: the field there is
                        // `s(x) = sign |x - q|` with `q` its nearest input point, so near the corner
                        // the level set is the plane `n . x = n . p - g` with `n = sign (p - q) / |p - q|`
                        // (exact where the input is flat). Two sheets meeting at a crease give
                        // two families of planes, and their least-squares point lies on the crease.
                        // Each plane also keeps `(p - q) / |p - q|`, the direction away from the
                        // input (as the projection's normals are), for the crease's faces.
                        let planes: [Option<(V3, f64, V3)>; 8] =
                            [0usize, 1, 2, 3, 4, 5, 6, 7].map(|c| {
                                let v = sub(pts[c], qs[c]);
                                let len = norm2(v).sqrt();
                                if len < 1e-6 {
                                    return None;
                                }
                                let s = if cs[c].g as f64 + level < 0.0 {
                                    -1.0
                                } else {
                                    1.0
                                };
                                let away = v.map(|x| x / len);
                                let nrm = away.map(|x| s * x);
                                Some((nrm, dot(nrm, pts[c]) - cs[c].g as f64, away))
                            });
                        for (e, &(a, b)) in EDGES.iter().enumerate() {
                            let (ga, gb) = (g[a as usize], g[b as usize]);
                            if (ga < 0.0) == (gb < 0.0) {
                                continue;
                            }
                            let p = ((patch >> (2 * e)) & 3) as usize;
                            let t = (ga as f64 / (ga as f64 - gb as f64)).clamp(0.0, 1.0);
                            let x = lerp(pts[a as usize], pts[b as usize], t);
                            for d in 0..3 {
                                sum[p][d] += x[d];
                            }
                            n[p] += 1;
                            // A corner's plane counts only if it passes through this crossing:
                            // a corner whose nearest point is on another part of the input (across
                            // the medial axis from this patch) describes another sheet.
                            for cc in [a, b] {
                                if let Some((nrm, dd, away)) = planes[cc as usize]
                                    && (dot(nrm, x) - dd).abs() <= 0.1 * grid.h
                                {
                                    qef[p].add(nrm, dd);
                                    cone[p].add(away);
                                }
                            }
                        }
                        for p in 0..count as usize {
                            let m = sum[p].map(|x| x / n[p] as f64);
                            // The rim of a blade (planes more than a right angle apart) may lie
                            // outside the cell: where the blade is thinner than a cell, no cell
                            // around the rim is crossed.
                            let slack = if cone[p].seen && cone[p].far_dot < 0.0 {
                                RIM_SLACK * grid.h
                            } else {
                                0.0
                            };
                            let v = qef[p].solve(m, grid.h, lo, slack);
                            let x = base as usize + p;
                            verts[x] = v;
                            // The corner whose nearest point is nearest the vertex: its triangle
                            // starts the vertex's projection.
                            let c = (0..8)
                                .min_by(|&x, &y| {
                                    norm2(sub(v, qs[x])).total_cmp(&norm2(sub(v, qs[y])))
                                })
                                .unwrap();
                            hints[x] = cs[c].slot;
                            cones[x] = [cone[p].first, cone[p].far];
                        }
                    }
                }
                debug_assert_eq!(local as usize, verts.len(), "block {s}'s vertices counted");
            });
    }
    let cells = cells;
    let cell = |i: i64, j: i64, k: i64| -> Option<&Cell> {
        if i < 0 || j < 0 || k < 0 {
            return None;
        }
        rank_at(cb, bits, cell_start, i as u32, j as u32, k as u32).map(|r| &cells[r])
    };
    // The crossed cells of block `s`: place in the block and entry.
    let cells_of = |s: usize| crossed_cells(bits[s], &cells[cell_start[s] as usize..]);

    // Tube faces: the face between cell (i, j, k) and its +axis neighbour, when both see it as a
    // tube. Each gets one vertex per pair of crossings (on the face, at the pair's mid-crossing).
    // (Their vertices are gathered apart and appended once: the arrays are at their exact size.)
    let mut tubes: Vec<(u64, u32)> = Vec::new();
    let mut tube_vertices: Vec<(V3, u32)> = Vec::new();
    for (s, l, c) in (0..cb.len()).flat_map(|s| cells_of(s).map(move |(l, c)| (s, l, c))) {
        if c.tube & 0b101010 == 0 {
            continue;
        }
        let o = cb.origin_of(s);
        let u = unlocal(l);
        let (i, j, k) = (o[0] + u[0], o[1] + u[1], o[2] + u[2]);
        for axis in 0..3usize {
            let f = 2 * axis + 1;
            if c.tube & (1 << f) == 0 {
                continue;
            }
            let mut nb = [i as i64, j as i64, k as i64];
            nb[axis] += 1;
            let Some(n) = cell(nb[0], nb[1], nb[2]) else {
                continue;
            };
            if n.tube & (1 << (f - 1)) == 0 {
                continue;
            }
            // Two vertices: for the pairs (edges 0, 1) and (edges 2, 3) of face f, or (3, 0)
            // and (1, 2): whichever the decider chose; both cells agree, so take this cell's.
            let g = corner_g(i, j, k);
            let face = FACES[f];
            let fe = FACE_EDGES[f];
            let v = face.map(|c| g[c as usize] as f64);
            let pairs = if joins_0_2(v) {
                [[0usize, 1], [2, 3]]
            } else {
                [[3, 0], [1, 2]]
            };
            let id = (total + tube_vertices.len()) as u32;
            for pair in pairs {
                let mut m = [0.0; 3];
                let mut slot = 0;
                for &k2 in &pair {
                    let (ca, cbn) = EDGES[fe[k2] as usize];
                    let corner = |c: u8| {
                        (
                            i + (c as u32 & 1),
                            j + ((c as u32 >> 1) & 1),
                            k + (c as u32 >> 2),
                        )
                    };
                    let (a3, b3) = (corner(ca), corner(cbn));
                    let (ga, gb) = (g[ca as usize] as f64, g[cbn as usize] as f64);
                    let x = lerp(
                        grid.point(a3.0, a3.1, a3.2),
                        grid.point(b3.0, b3.1, b3.2),
                        ga / (ga - gb),
                    );
                    for d in 0..3 {
                        m[d] += x[d] / 2.0;
                    }
                    slot = band.corner(a3.0, a3.1, a3.2).slot;
                }
                tube_vertices.push((m, slot));
            }
            tubes.push((face_key(grid, i, j, k, axis), id));
        }
    }
    tubes.sort_unstable();
    if !tube_vertices.is_empty() {
        let n = tube_vertices.len();
        vertices.reserve_exact(n);
        hints.reserve_exact(n);
        cones.reserve_exact(n);
        for (m, slot) in tube_vertices {
            vertices.push(m);
            hints.push(slot);
            cones.push([[0.0; 3]; 2]);
        }
    }
    // The vertex of pair `pair` on the +`axis` face of cell (i, j, k), if that face is a tube.
    let tube_vertex = |i: i64, j: i64, k: i64, axis: usize, pair: usize| -> Option<u32> {
        if tubes.is_empty() {
            return None;
        }
        let key = face_key(grid, i as u32, j as u32, k as u32, axis);
        let at = tubes.binary_search_by_key(&key, |t| t.0).ok()?;
        Some(tubes[at].1 + pair as u32)
    };

    // Pass 2: a quad per crossing edge, made by the cell at the edge's lower end (the edge from
    // its corner 0). The four cells around an x edge are (j, k), (j-1, k), (j-1, k-1), (j, k-1),
    // counter-clockwise seen from +x; likewise for y (in z-x) and z (in x-y).
    let missing = std::sync::atomic::AtomicUsize::new(0);
    let (quads, polygons): (Vec<[u32; 4]>, Vec<Vec<u32>>) = (0..cb.len())
        .into_par_iter()
        .fold(
            || (Vec::new(), Vec::new()),
            |(mut quads, mut polys), s| {
                let o = cb.origin_of(s);
                for (l, _) in cells_of(s) {
                    let u = unlocal(l);
                    let (i, j, k) = (
                        (o[0] + u[0]) as i64,
                        (o[1] + u[1]) as i64,
                        (o[2] + u[2]) as i64,
                    );
                    let g0 = band.corner(i as u32, j as u32, k as u32).g < 0.0;
                    for axis in 0..3usize {
                        let (e0, ring): (u8, [([i64; 3], u8); 4]) = match axis {
                            0 => (
                                0,
                                [
                                    ([0, 0, 0], 0),
                                    ([0, -1, 0], 1),
                                    ([0, -1, -1], 3),
                                    ([0, 0, -1], 2),
                                ],
                            ),
                            1 => (
                                4,
                                [
                                    ([0, 0, 0], 4),
                                    ([0, 0, -1], 6),
                                    ([-1, 0, -1], 7),
                                    ([-1, 0, 0], 5),
                                ],
                            ),
                            _ => (
                                8,
                                [
                                    ([0, 0, 0], 8),
                                    ([-1, 0, 0], 9),
                                    ([-1, -1, 0], 11),
                                    ([0, -1, 0], 10),
                                ],
                            ),
                        };
                        let (_, b) = EDGES[e0 as usize];
                        let g1 =
                            band.corner(
                                i as u32 + (b as u32 & 1),
                                j as u32 + ((b as u32 >> 1) & 1),
                                k as u32 + (b as u32 >> 2),
                            )
                            .g < 0.0;
                        if g0 == g1 {
                            continue;
                        }
                        let mut vs = [0u32; 4];
                        let mut tube_any = false;
                        let mut ok = true;
                        let mut cs: [Option<&Cell>; 4] = [None; 4];
                        for (r, &(d, e)) in ring.iter().enumerate() {
                            match cell(i + d[0], j + d[1], k + d[2]) {
                                Some(cc) => {
                                    vs[r] = cc.vertex(e);
                                    tube_any |= cc.tube != 0;
                                    cs[r] = Some(cc);
                                }
                                None => ok = false,
                            }
                        }
                        if !ok {
                            missing.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            continue;
                        }
                        // Ring order is counter-clockwise about +axis; the normal must point from
                        // inside (negative) to outside.
                        let forward = g0;
                        if !tube_any {
                            quads.push(if forward {
                                vs
                            } else {
                                [vs[3], vs[2], vs[1], vs[0]]
                            });
                            continue;
                        }
                        // Between consecutive cells of the ring, a tube face adds its vertex.
                        let mut poly = Vec::with_capacity(8);
                        let mut tube_at: Option<u32> = None;
                        for r in 0..4 {
                            poly.push(vs[r]);
                            let (da, ea) = ring[r];
                            let (db, _) = ring[(r + 1) % 4];
                            // The face between the two cells: they differ along one axis.
                            let ax = (0..3).find(|&x| da[x] != db[x]).unwrap();
                            let lower = if da[ax] < db[ax] { da } else { db };
                            let f_lo = 2 * ax + 1;
                            let lower_cell = if da[ax] < db[ax] {
                                cs[r]
                            } else {
                                cs[(r + 1) % 4]
                            };
                            let upper_cell = if da[ax] < db[ax] {
                                cs[(r + 1) % 4]
                            } else {
                                cs[r]
                            };
                            let is_tube = lower_cell.is_some_and(|c| c.tube & (1 << f_lo) != 0)
                                && upper_cell.is_some_and(|c| c.tube & (1 << (f_lo - 1)) != 0);
                            if is_tube {
                                // Which pair on that face holds this edge: find the edge's place
                                // in the lower cell's face.
                                let e_lower = if da[ax] < db[ax] {
                                    ea
                                } else {
                                    ring[(r + 1) % 4].1
                                };
                                let fe = FACE_EDGES[f_lo];
                                let pos = fe.iter().position(|&x| x == e_lower).unwrap();
                                let gl = corner_g(
                                    (i + lower[0]) as u32,
                                    (j + lower[1]) as u32,
                                    (k + lower[2]) as u32,
                                );
                                let v = FACES[f_lo].map(|c| gl[c as usize] as f64);
                                let pair = if joins_0_2(v) {
                                    usize::from(pos >= 2)
                                } else {
                                    usize::from(pos == 1 || pos == 2)
                                };
                                if let Some(t) =
                                    tube_vertex(i + lower[0], j + lower[1], k + lower[2], ax, pair)
                                {
                                    poly.push(t);
                                    tube_at.get_or_insert(t);
                                }
                            }
                        }
                        if !forward {
                            poly.reverse();
                        }
                        // Start at a tube vertex: a polygon is fanned from its first vertex,
                        // and only diagonals from the tube's own vertex are used by no other
                        // polygon (a diagonal between the two cells' vertices would be the very
                        // edge the tube vertices are there to avoid).
                        if let Some(t) = tube_at
                            && let Some(at) = poly.iter().position(|&v| v == t)
                        {
                            poly.rotate_left(at);
                        }
                        if poly.len() == 4 {
                            quads.push([poly[0], poly[1], poly[2], poly[3]]);
                        } else {
                            polys.push(poly);
                        }
                    }
                }
                (quads, polys)
            },
        )
        .reduce(
            || (Vec::new(), Vec::new()),
            |(mut qa, mut pa), (qb, pb)| {
                qa.extend(qb);
                pa.extend(pb);
                (qa, pa)
            },
        );
    Nets {
        vertices,
        hints,
        cones,
        quads,
        polygons,
        missing: missing.into_inner(),
    }
}

/// The cells whose bits are set in `bits` (a block's crossed cells), each with its place in the
/// block, given their entries in that order.
fn crossed_cells(mut bits: u64, cells: &[Cell]) -> impl Iterator<Item = (usize, &Cell)> {
    cells.iter().map_while(move |c| {
        (bits != 0).then(|| {
            let l = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            (l, c)
        })
    })
}

/// The directions from the input seen at a patch's corners: the first, and the one most
/// different from it (the two faces of a crease the patch's vertex sits on).
#[derive(Clone, Copy, Default)]
struct Cone {
    first: V3,
    far: V3,
    far_dot: f64,
    seen: bool,
}

impl Cone {
    #[inline]
    fn add(&mut self, n: V3) {
        if !self.seen {
            *self = Cone {
                first: n,
                far: n,
                far_dot: 1.0,
                seen: true,
            };
        } else if dot(n, self.first) < self.far_dot {
            self.far = n;
            self.far_dot = dot(n, self.first);
        }
    }
}

/// How far outside its cell, in cells, a vertex may go to sit on a crease sharper than a right
/// angle: the rim of the blade an inward offset deeper than a part is half thick leaves. Where
/// the blade is thinner than a cell, its rim passes through no crossed cell, and a vertex kept in
/// its cell leaves the blade's tip blunt, which refinement cannot always recover (foot-right at
/// 8 mm in: 6 crossing triangle pairs with the vertex kept in, none with this slack; the 90-offset
/// sweep is unchanged, and ordinary offsets, with no such crease, are byte-identical).
const RIM_SLACK: f64 = 1.0;

/// Least squares over planes `n . x = d`: the point of a cell nearest all its patch's tangent
/// planes, pulled weakly towards the patch's mass point where the planes leave it free (a flat
/// patch: along the surface; a crease: along the crease).
#[derive(Clone, Copy, Default)]
struct Qef {
    /// Upper triangle of `sum n n^T`: xx, xy, xz, yy, yz, zz.
    ata: [f64; 6],
    atb: [f64; 3],
    count: u32,
}

impl Qef {
    #[inline]
    fn add(&mut self, n: V3, d: f64) {
        self.ata[0] += n[0] * n[0];
        self.ata[1] += n[0] * n[1];
        self.ata[2] += n[0] * n[2];
        self.ata[3] += n[1] * n[1];
        self.ata[4] += n[1] * n[2];
        self.ata[5] += n[2] * n[2];
        for (b, nk) in self.atb.iter_mut().zip(n) {
            *b += nk * d;
        }
        self.count += 1;
    }

    /// The minimiser of `sum (n . x - d)^2 + w |x - m|^2`, or `m` when it leaves the cell at
    /// `lo` (side `h`) grown by `slack` on every side. The slack is 0 but on the rim of a blade
    /// ([`RIM_SLACK`]): elsewhere not even a little, since two neighbours' vertices pulled to the
    /// same corner from both sides of their shared face could then swap sides, and the quads
    /// between them cross (the limb at 2 mm, with a 0.1-cell margin everywhere).
    fn solve(&self, m: V3, h: f64, lo: V3, slack: f64) -> V3 {
        if self.count == 0 {
            return m;
        }
        let w = 0.02 * self.count as f64;
        let a = [
            [self.ata[0] + w, self.ata[1], self.ata[2]],
            [self.ata[1], self.ata[3] + w, self.ata[4]],
            [self.ata[2], self.ata[4], self.ata[5] + w],
        ];
        // With x = m + y: (AtA + w I) y = Atb - AtA m.
        let b =
            [0, 1, 2].map(|r| self.atb[r] - (0..3).map(|c| a[r][c] * m[c]).sum::<f64>() + w * m[r]);
        let det = a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1])
            - a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0])
            + a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0]);
        if det.abs() <= 1e-300 || det.is_nan() {
            return m;
        }
        let col = |k: usize| {
            let mut c = a;
            for r in 0..3 {
                c[r][k] = b[r];
            }
            c[0][0] * (c[1][1] * c[2][2] - c[1][2] * c[2][1])
                - c[0][1] * (c[1][0] * c[2][2] - c[1][2] * c[2][0])
                + c[0][2] * (c[1][0] * c[2][1] - c[1][1] * c[2][0])
        };
        let x = [0, 1, 2].map(|k| m[k] + col(k) / det);
        if (0..3).all(|k| x[k] >= lo[k] - slack && x[k] <= lo[k] + h + slack) {
            x
        } else {
            m
        }
    }
}

#[inline]
fn face_key(grid: &Grid, i: u32, j: u32, k: u32, axis: usize) -> u64 {
    let n = grid.n.map(|x| x as u64 + 1);
    (((k as u64 * n[1] + j as u64) * n[0] + i as u64) << 2) | axis as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every directed edge used once and its reverse once: closed and consistently oriented.
    fn assert_closed_oriented(tris: &[[u32; 3]]) {
        let mut directed: Vec<(u32, u32)> = tris
            .iter()
            .flat_map(|t| (0..3).map(move |k| (t[k], t[(k + 1) % 3])))
            .collect();
        directed.sort_unstable();
        for w in directed.windows(2) {
            assert_ne!(w[0], w[1], "edge {:?} used twice in one direction", w[0]);
        }
        for &(a, b) in &directed {
            assert!(a != b, "degenerate edge at {a}");
            assert!(
                directed.binary_search(&(b, a)).is_ok(),
                "edge {a}-{b} has no opposite"
            );
        }
    }

    /// Random corner values (a random field at the grid's own scale, where ambiguous faces and
    /// tubes are common) give a closed, consistently oriented surface with no missing quad.
    #[test]
    fn random_fields_give_closed_oriented_surfaces() {
        let mut seed = 0x2545F4914F6CDD1Du64;
        let mut rnd = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        let grid = Grid {
            origin: [0.0; 3],
            h: 1.0,
            n: [32, 16, 16],
        };
        let (mut tubes, mut quads) = (0, 0);
        for round in 0..40 {
            // More inside corners in later rounds, so every kind of cell occurs.
            let inside = 0.2 + 0.6 * (round as f64 / 40.0);
            let values: Vec<f32> = (0..33 * 17 * 17)
                .map(|_| {
                    let v = rnd();
                    if v < inside {
                        -(v as f32) - 0.05
                    } else {
                        v as f32 + 0.05
                    }
                })
                .collect();
            let band = Band::dense(&grid, |i, j, k| {
                // Outside along the grid's faces, so the surface stays inside the grid.
                if i < 1 || j < 1 || k < 1 || i >= 32 || j >= 16 || k >= 16 {
                    1.0
                } else {
                    values[((k * 17 + j) * 33 + i) as usize]
                }
            });
            let nets = extract(&band, &grid, 0.0, &classify(&band));
            assert_eq!(nets.missing, 0);
            assert_eq!(nets.vertices.len(), nets.hints.len());
            // Triangulated as the offset does it (no normals here: the shorter diagonals).
            let flat = vec![[0.0; 3]; nets.vertices.len()];
            let tris =
                super::super::triangulate(&nets.quads, &nets.polygons, &nets.vertices, &flat, 1.0);
            assert!(!tris.is_empty());
            assert_closed_oriented(&tris);
            tubes += nets.polygons.len();
            quads += nets.quads.len();
        }
        // The tube case really occurred (else this test would not cover it).
        assert!(tubes > 0, "no tube face in {quads} quads");
    }

    #[test]
    fn face_edges_join_consecutive_corners() {
        for f in 0..6 {
            for k in 0..4 {
                let (a, b) = EDGES[FACE_EDGES[f][k] as usize];
                let (c, d) = (FACES[f][k], FACES[f][(k + 1) % 4]);
                assert!((a, b) == (c.min(d), c.max(d)), "face {f} edge {k}");
            }
        }
    }

    #[test]
    fn one_corner_inside_is_one_patch_on_its_three_edges() {
        let mut g = [1.0f32; 8];
        g[5] = -1.0;
        let (count, patch, tube) = patches(&g);
        assert_eq!((count, tube), (1, 0));
        assert_eq!(patch, 0);
    }

    #[test]
    fn opposite_corners_are_two_patches() {
        let mut g = [1.0f32; 8];
        g[0] = -1.0;
        g[7] = -1.0;
        assert_eq!(patches(&g).0, 2);
        // Diagonal corners on a face, far below the level: the decider joins them.
        let mut g = [1.0f32; 8];
        g[0] = -5.0;
        g[3] = -5.0;
        assert_eq!(patches(&g).0, 1);
        // Just below: separate.
        g[0] = -0.1;
        g[3] = -0.1;
        assert_eq!(patches(&g).0, 2);
    }

    /// The table gives what the union-find gives, for every sign pattern, with magnitudes that
    /// make the decider join some ambiguous faces and split others.
    #[test]
    fn patches_by_table_are_the_patches() {
        let mut ambiguous = 0;
        for mask in 0..256usize {
            for (seed, scale) in [(1u32, 0.1f32), (7, 1.0), (13, 5.0)] {
                let g: [f32; 8] = std::array::from_fn(|c| {
                    let m = 0.5 + ((seed + 3 * c as u32) % 5) as f32 * scale;
                    if mask >> c & 1 == 1 { -m } else { m }
                });
                assert_eq!(patches_of(&g), patches(&g), "mask {mask:08b} {g:?}");
                ambiguous += usize::from(patches(&g).2 != 0);
            }
        }
        assert!(ambiguous > 0, "some patterns were tubes");
    }
}
