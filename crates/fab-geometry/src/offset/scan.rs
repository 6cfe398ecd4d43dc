//! Closest-feature regions for scan conversion (after Mauch's closest point transform): exact
//! distances at the grid points near the offset without a tree search per point.
//!
//! A point's nearest point on the mesh lies inside one feature: a face, an edge or a vertex. For
//! each feature there is a convex region that holds every point whose nearest point lies in it,
//! bounded by planes that follow from the feature's neighbours alone:
//! - a face: the prism over the triangle (the point projects inside it), cut to the heights
//!   wanted;
//! - an edge: the slab across the edge (the point projects between its ends) and the wedge where
//!   moving into neither of its triangles comes closer;
//! - a vertex: the cone where moving along none of its edges comes closer.
//!
//! These are necessary conditions, so the regions may overlap (in concave places and across
//! thin parts) but never miss: every point whose distance lies in the range scanned is inside
//! the region of its nearest feature, and the smallest distance over the regions holding it is
//! its exact distance. A point outside that range may be reached only by farther features, so a
//! value found that way is an upper bound, not the distance (see [`super::band`]).
//!
//! Each region is scanned column by column: the planes clip each grid column to the run of
//! points inside, and the feature's own distance (to a plane, a line, a point) is one or two dot
//! products per point.

use rayon::prelude::*;

use super::grid::Grid;
use crate::Mesh;
use crate::query::{Bvh, V3, cross, dot, norm2, normalize, scale, sub};
use crate::topology;

/// Slack on every bounding plane, mm: points on a region's boundary stay in after rounding.
const EPS: f64 = 1e-7;
/// Bounding planes kept per region (a vertex with more edges keeps the first ones: fewer planes
/// only make the region larger, never wrong).
const PLANES: usize = 6;

/// Which feature a region belongs to, with what its distance needs.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Kind {
    /// Distance to the plane through `a` with unit normal `n`.
    Face { a: V3, n: V3 },
    /// Distance to the line through `a` along unit `u`.
    Edge { a: V3, u: V3 },
    /// Distance to `v`.
    Vertex { v: V3 },
}

/// One feature's region: `a . p <= b` for each plane `[a.x, a.y, a.z, b]`, within the grid
/// points `lo..=hi` (inclusive, per axis).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Region {
    pub kind: Kind,
    /// A triangle holding the feature, by its slot in the tree: its exact closest point is the
    /// feature's.
    pub slot: u32,
    planes: [[f64; 4]; PLANES],
    np: u8,
    /// The axis grid columns are scanned along: the one the region is longest along.
    axis: u8,
    pub lo: [u32; 3],
    pub hi: [u32; 3],
}

impl Region {
    /// Whether the region holds no grid point.
    pub fn is_empty(&self) -> bool {
        (0..3).any(|k| self.lo[k] > self.hi[k])
    }

    /// Whether the region's box, grown by half a cell along each axis, holds no cell centre. A
    /// region thinner than a cell along an axis (a small triangle lying in an axis plane) may
    /// hold no grid point and yet touch a cell ([`Lattice`] with `shift` 1/2): there `lo` is
    /// `hi + 1`, and the cell is `hi`.
    pub fn misses_cells(&self) -> bool {
        (0..3).any(|k| self.lo[k] > self.hi[k] + 1)
    }
}

/// The axis along which `d` is largest in magnitude.
fn main_axis(d: V3) -> u8 {
    let a = d.map(f64::abs);
    if a[0] >= a[1] && a[0] >= a[2] {
        0
    } else if a[1] >= a[2] {
        1
    } else {
        2
    }
}

/// What to scan: unsigned distances in `[dmin, dmax]`, and for a closed mesh faces only at signed
/// heights (along the outward normal) in `heights`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Range {
    pub dmin: f64,
    pub dmax: f64,
    pub heights: (f64, f64),
}

/// The level set an offset surface is: `value == level` of the signed distance to a closed mesh
/// (negative inside), or of the unsigned distance to an open one (`level == radius`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Level {
    pub level: f64,
    /// `|D|`: every point of the surface lies at this unsigned distance from the mesh.
    pub radius: f64,
    /// Whether the distance is signed (the mesh is closed).
    pub signed: bool,
}

impl Range {
    /// What the band scans for grid cell `h` ([`super::band::by_scan`]): distances within
    /// `W = 2 sqrt(3) h` of the level (for a closed mesh, faces at signed heights within `W` of
    /// it; an open mesh's faces on both sides). [`super::lists`] makes the regions again with
    /// it, at the heights it tests.
    pub fn near(l: Level, h: f64) -> Range {
        let w = 2.0 * 3f64.sqrt() * h * (1.0 + 1e-6) + 1e-6;
        Range {
            dmin: (l.radius - w).max(0.0),
            dmax: l.radius + w,
            heights: if l.signed {
                (l.level - w, l.level + w)
            } else {
                (-(l.radius + w), l.radius + w)
            },
        }
    }
}

struct Builder<'a> {
    grid: &'a Grid,
    range: Range,
}

impl Builder<'_> {
    /// The region of `kind` bounded by `planes` within the box `lo..hi` (mm), or `None` when the
    /// box misses the grid.
    fn region(
        &self,
        kind: Kind,
        slot: u32,
        axis: u8,
        planes: &[[f64; 4]],
        lo: V3,
        hi: V3,
    ) -> Option<Region> {
        let g = self.grid;
        let mut ilo = [0u32; 3];
        let mut ihi = [0u32; 3];
        for k in 0..3 {
            let a = ((lo[k] - g.origin[k]) / g.h - 1e-9).ceil().max(0.0);
            let b = ((hi[k] - g.origin[k]) / g.h + 1e-9)
                .floor()
                .min(g.n[k] as f64);
            // `a == b + 1`: no grid point between, but the cell holding the box (see
            // `Region::misses_cells`)
            if a > b + 1.0 || b < 0.0 {
                return None;
            }
            ilo[k] = a as u32;
            ihi[k] = b as u32;
        }
        let mut r = Region {
            kind,
            slot,
            planes: [[0.0; 4]; PLANES],
            np: 0,
            axis,
            lo: ilo,
            hi: ihi,
        };
        for (d, s) in r.planes.iter_mut().zip(planes) {
            *d = *s;
            r.np += 1;
        }
        Some(r)
    }

    fn face(&self, slot: u32, [a, b, c]: [V3; 3]) -> Option<Region> {
        let nn = cross(sub(b, a), sub(c, a));
        let len = norm2(nn).sqrt();
        // A triangle with no area has no inside: its edges and corners hold its nearest points.
        if len <= 1e-12 {
            return None;
        }
        let n = scale(nn, 1.0 / len);
        let (t0, t1) = self.range.heights;
        let mut planes = [[0.0; 4]; 3];
        for (k, (s, e)) in [(a, b), (b, c), (c, a)].into_iter().enumerate() {
            // inward normal of the edge within the face: the point projects on the inner side
            let m = normalize(cross(n, sub(e, s)));
            planes[k] = [-m[0], -m[1], -m[2], -dot(m, s) + EPS];
        }
        let mut lo = [f64::INFINITY; 3];
        let mut hi = [f64::NEG_INFINITY; 3];
        for p in [a, b, c] {
            for t in [t0, t1] {
                for k in 0..3 {
                    let x = p[k] + t * n[k];
                    lo[k] = lo[k].min(x);
                    hi[k] = hi[k].max(x);
                }
            }
        }
        self.region(Kind::Face { a, n }, slot, main_axis(n), &planes, lo, hi)
    }

    /// The edge `a`-`b` with the third corners `others` of its triangles (none beyond two are
    /// used: a non-manifold edge gets no wedge). `outward`: on a closed mesh, the sum of its two
    /// faces' normals, to skip an edge whose wedge lies on the side not scanned.
    fn edge(&self, slot: u32, a: V3, b: V3, others: &[V3], outward: Option<V3>) -> Option<Region> {
        let ab = sub(b, a);
        let l = norm2(ab).sqrt();
        if l <= 1e-12 {
            return None;
        }
        let u = scale(ab, 1.0 / l);
        let mut planes = [[0.0; 4]; 4];
        planes[0] = [-u[0], -u[1], -u[2], -dot(u, a) + EPS];
        planes[1] = [u[0], u[1], u[2], dot(u, b) + EPS];
        let mut np = 2;
        let mut ms: [V3; 2] = [[0.0; 3]; 2];
        if others.len() <= 2 {
            for &c in others {
                let ac = sub(c, a);
                let m = sub(ac, scale(u, dot(ac, u)));
                let ml = norm2(m).sqrt();
                // a sliver's direction is not to be trusted: no plane (a larger region)
                if ml > 1e-9 * l.max(1.0) {
                    let m = scale(m, 1.0 / ml);
                    ms[np - 2] = m;
                    planes[np] = [m[0], m[1], m[2], dot(m, a) + EPS];
                    np += 1;
                }
            }
        }
        let r = self.range.dmax;
        // directions (unit, across the edge) whose hull holds the wedge's arc
        let mut dirs: [V3; 5] = [[0.0; 3]; 5];
        let nd;
        // columns run across the edge, along the wedge where there is one
        let mut axis = main_axis(u.map(|x| 1.0 - x.abs()));
        match np - 2 {
            2 => {
                let (m1, m2) = (ms[0], ms[1]);
                let mut g1 = normalize(cross(u, m1));
                if dot(g1, m2) > 0.0 {
                    g1 = scale(g1, -1.0);
                }
                let mut g2 = normalize(cross(u, m2));
                if dot(g2, m1) > 0.0 {
                    g2 = scale(g2, -1.0);
                }
                let c = dot(g1, g2);
                if let Some(o) = outward {
                    // the wedge is on one side of the surface: skip it if that side is not wanted
                    let mid = scale(crate::query::add(m1, m2), -1.0);
                    if norm2(mid) > 1e-12 {
                        let side = dot(mid, o);
                        let (t0, t1) = self.range.heights;
                        if (side > 0.0 && t1 < self.range.dmin)
                            || (side < 0.0 && -t0 < self.range.dmin)
                        {
                            return None;
                        }
                    }
                }
                axis = main_axis(crate::query::add(g1, g2));
                if c > -0.5 {
                    dirs[0] = g1;
                    dirs[1] = g2;
                    dirs[2] = scale(crate::query::add(g1, g2), 1.0 / (1.0 + c));
                    nd = 3;
                } else {
                    nd = 0;
                }
            }
            1 => {
                let m = ms[0];
                let g = normalize(cross(u, m));
                let mg = scale(m, -1.0);
                axis = main_axis(mg);
                dirs = [g, scale(g, -1.0), mg, crate::query::add(g, mg), sub(mg, g)];
                nd = 5;
            }
            _ => nd = 0,
        }
        let mut lo = [f64::INFINITY; 3];
        let mut hi = [f64::NEG_INFINITY; 3];
        for p in [a, b] {
            for k in 0..3 {
                if nd == 0 {
                    // the whole disc across the edge
                    let e = r * (1.0 - u[k] * u[k]).max(0.0).sqrt();
                    lo[k] = lo[k].min(p[k] - e);
                    hi[k] = hi[k].max(p[k] + e);
                } else {
                    lo[k] = lo[k].min(p[k]);
                    hi[k] = hi[k].max(p[k]);
                    for d in &dirs[..nd] {
                        let x = p[k] + r * d[k];
                        lo[k] = lo[k].min(x);
                        hi[k] = hi[k].max(x);
                    }
                }
            }
        }
        self.region(Kind::Edge { a, u }, slot, axis, &planes[..np], lo, hi)
    }

    /// Vertex `v` with its neighbours: the cone where no edge leads closer.
    fn vertex(&self, slot: u32, v: V3, neighbours: &[u32], vs: &[V3]) -> Option<Region> {
        // its edges, as unit directions (the first 16: fewer only make the region larger)
        let mut buf = [[0.0; 3]; 16];
        let mut ne = 0;
        for &w in neighbours {
            let e = sub(vs[w as usize], v);
            let l = norm2(e).sqrt();
            if l > 1e-12 && ne < buf.len() {
                buf[ne] = scale(e, 1.0 / l);
                ne += 1;
            }
        }
        let es = &buf[..ne];
        // The cone's edges: where two of its planes meet and every other plane holds.
        let mut axis = [0.0; 3];
        let mut gens = [[0.0; 3]; 32];
        let mut ng = 0;
        'pairs: for i in 0..es.len() {
            for j in i + 1..es.len() {
                let g = cross(es[i], es[j]);
                let gl = norm2(g).sqrt();
                if gl < 1e-9 {
                    continue;
                }
                for s in [1.0, -1.0] {
                    let g = scale(g, s / gl);
                    if es.iter().all(|e| dot(*e, g) <= 1e-9) {
                        if ng == gens.len() {
                            // too many to hold: treated as a wide cone (the whole ball)
                            ng = usize::MAX;
                            break 'pairs;
                        }
                        gens[ng] = g;
                        ng += 1;
                        axis = crate::query::add(axis, g);
                    }
                }
            }
        }
        let r = self.range.dmax;
        let mut lo = [v[0] - r, v[1] - r, v[2] - r];
        let mut hi = [v[0] + r, v[1] + r, v[2] + r];
        let al = norm2(axis).sqrt();
        let mut col = 2;
        if es.len() >= 3 && ng == 0 {
            // no direction leads away from every edge: never the nearest feature
            return None;
        }
        if al > 1e-6 && ng > 0 && ng != usize::MAX {
            let gens = &gens[..ng];
            let axis = scale(axis, 1.0 / al);
            col = main_axis(axis);
            let cos_a = gens
                .iter()
                .map(|g| dot(*g, axis))
                .fold(f64::INFINITY, f64::min);
            if cos_a > 0.2 {
                // A circular cone of half-angle `alpha` around `axis` holds the cone. Along
                // axis `k`, at angle `theta` from `axis`, its directions reach up to 1 where
                // `theta <= alpha`, else `cos(theta - alpha)`: expanded, so no trigonometric
                // call (they were about a tenth of a vertex region's set-up time).
                let cos_a = cos_a.min(1.0);
                let sin_a = (1.0 - cos_a * cos_a).max(0.0).sqrt();
                let reach = |c: f64| -> f64 {
                    let c = c.clamp(-1.0, 1.0);
                    if c >= cos_a {
                        1.0
                    } else {
                        c * cos_a + (1.0 - c * c).max(0.0).sqrt() * sin_a
                    }
                };
                for k in 0..3 {
                    let max = reach(axis[k]);
                    let min = -reach(-axis[k]);
                    lo[k] = v[k] + r * min.min(0.0);
                    hi[k] = v[k] + r * max.max(0.0);
                }
            }
        }
        let mut planes = [[0.0; 4]; PLANES];
        for (p, e) in planes.iter_mut().zip(es) {
            *p = [e[0], e[1], e[2], dot(*e, v) + EPS];
        }
        let planes = &planes[..es.len().min(PLANES)];
        self.region(Kind::Vertex { v }, slot, col, planes, lo, hi)
    }
}

/// The mesh's faces, edges and vertices with what their regions need (neighbours, the triangle
/// each lies in), so that a region can be made when a scan wants it: regions are not stored (on
/// a 1.6 M-triangle scan there are ~4.9 M of them, over 1 GB), and making one is a few dot
/// products.
pub(crate) struct Features<'a> {
    mesh: &'a Mesh,
    bvh: &'a Bvh,
    /// The mesh is a closed manifold: faces are scanned at the range's heights only, and edges
    /// whose wedge lies on a side not scanned are skipped.
    closed: bool,
    vs: Vec<V3>,
    edges: Vec<topology::EdgeUse>,
    /// Tree slot of each triangle.
    slot_of: Vec<u32>,
    /// Neighbours of vertex `v`: `nbr[start[v]..start[v + 1]]`.
    start: Vec<u32>,
    nbr: Vec<u32>,
    /// A triangle at each vertex (tree slot), `u32::MAX` for a vertex no triangle uses.
    at: Vec<u32>,
}

impl<'a> Features<'a> {
    /// The features of `mesh`, whose tree is `bvh`; `closed` as for [`Features::closed`].
    pub fn new(mesh: &'a Mesh, bvh: &'a Bvh, closed: bool) -> Self {
        let nt = mesh.triangles.len();
        let mut slot_of = vec![0u32; nt];
        for s in 0..bvh.len() as u32 {
            slot_of[bvh.slot_id(s) as usize] = s;
        }
        let vs: Vec<V3> = mesh.vertices.iter().map(|p| [p.x, p.y, p.z]).collect();
        let edges = topology::edges(mesh);
        let nv = vs.len();
        // neighbours of each vertex (both ends of every edge) and a triangle at it
        let mut start = vec![0u32; nv + 1];
        for e in &edges {
            start[e.key.0 as usize + 1] += 1;
            start[e.key.1 as usize + 1] += 1;
        }
        for v in 0..nv {
            start[v + 1] += start[v];
        }
        let mut fill = start[..nv].to_vec();
        let mut nbr = vec![0u32; start[nv] as usize];
        for e in &edges {
            let (a, bb) = e.key;
            nbr[fill[a as usize] as usize] = bb;
            fill[a as usize] += 1;
            nbr[fill[bb as usize] as usize] = a;
            fill[bb as usize] += 1;
        }
        let mut at = vec![u32::MAX; nv];
        for (t, tri) in mesh.triangles.iter().enumerate() {
            for &v in tri {
                if at[v as usize] == u32::MAX {
                    at[v as usize] = slot_of[t];
                }
            }
        }
        Features {
            mesh,
            bvh,
            closed,
            vs,
            edges,
            slot_of,
            start,
            nbr,
            at,
        }
    }

    /// Number of features: faces, then edges, then vertices.
    pub fn len(&self) -> usize {
        self.bvh.len() + self.edges.len() + self.vs.len()
    }

    /// The region of feature `i` for scanning `grid` over `range`, or `None` where it holds no
    /// grid point and touches no cell (a feature never the nearest, a region off the grid or on
    /// a side not scanned).
    pub fn region(&self, i: usize, grid: &Grid, range: Range) -> Option<Region> {
        let b = Builder { grid, range };
        let (nf, ne) = (self.bvh.len(), self.edges.len());
        let r = if i < nf {
            b.face(i as u32, self.bvh.slot_triangle(i as u32))
        } else if i < nf + ne {
            let e = &self.edges[i - nf];
            let vs = &self.vs;
            let (a, bb) = e.key;
            let third = |t: u32| -> V3 {
                let tri = self.mesh.triangles[t as usize];
                let c = tri
                    .into_iter()
                    .find(|&x| x != a && x != bb)
                    .unwrap_or(tri[0]);
                vs[c as usize]
            };
            let face_normal = |t: u32| -> V3 {
                let [p, q, r] = self.mesh.triangles[t as usize].map(|i| vs[i as usize]);
                normalize(cross(sub(q, p), sub(r, p)))
            };
            let n = (e.count as usize).min(3);
            let mut others = [[0.0; 3]; 3];
            for (k, o) in others.iter_mut().enumerate().take(n.min(2)) {
                *o = third(e.first[k].0);
            }
            let outward = (self.closed && e.count == 2)
                .then(|| crate::query::add(face_normal(e.first[0].0), face_normal(e.first[1].0)));
            b.edge(
                self.slot_of[e.first[0].0 as usize],
                vs[a as usize],
                vs[bb as usize],
                &others[..n],
                outward,
            )
        } else {
            let v = i - nf - ne;
            if self.at[v] == u32::MAX {
                return None;
            }
            let ns = &self.nbr[self.start[v] as usize..self.start[v + 1] as usize];
            b.vertex(self.at[v], self.vs[v], ns, &self.vs)
        };
        r.filter(|r| !r.misses_cells())
    }

    /// Every feature's region holding grid points or touching cells, made as it is wanted, in
    /// parallel.
    pub fn regions<'s>(
        &'s self,
        grid: &'s Grid,
        range: Range,
    ) -> impl ParallelIterator<Item = Region> + 's {
        (0..self.len())
            .into_par_iter()
            .with_max_len(REGIONS_PER_JOB)
            .filter_map(move |i| self.region(i, grid, range))
    }
}

/// The most features one parallel job of [`Features::regions`] sets up and scans. Regions cost
/// very different amounts (a face's prism holds many points, most edges' wedges few), and the
/// lists are scanned beside the extraction (`rayon::join`), so a few large jobs leave one thread
/// idle at the end: at 512, band and lists on foot-left +3 took ~3 ms less (median of 21).
const REGIONS_PER_JOB: usize = 512;

/// `x` rounded down, for `-2 < x < 2^52` (no library call: `f64::floor` is one on the baseline
/// x86-64 target).
#[inline(always)]
fn floor(x: f64) -> f64 {
    let t = x as i64 as f64;
    if t > x { t - 1.0 } else { t }
}

/// Which points a scan visits: the grid's points, or the centres of its cells, where a cell is
/// taken to touch a region when the region, grown by half a cell along each axis, holds its
/// centre (each plane moved out by `relax` times the sum of its normal's absolute components).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Lattice {
    /// Heights (along the outward normal; either side for an open mesh) at which faces are
    /// scanned, mm.
    pub heights: (f64, f64),
    /// Offset of the first point from the grid's origin, in cells (0 or 1/2).
    pub shift: f64,
    /// How far each plane is moved out, per unit of its normal's 1-norm (0 or `h / 2`).
    pub relax: f64,
    /// Last index per axis.
    pub last: [u32; 3],
}

impl Kind {
    /// Squared distance from `p` to the feature's carrier (plane, line or point).
    #[inline(always)]
    fn dist2(&self, p: V3) -> f64 {
        match *self {
            Kind::Face { a, n } => {
                let s = dot(n, sub(p, a));
                s * s
            }
            Kind::Edge { a, u } => {
                let ap = sub(p, a);
                let s = dot(ap, u);
                (norm2(ap) - s * s).max(0.0)
            }
            Kind::Vertex { v } => norm2(sub(p, v)),
        }
    }
}

/// The points of `lat` a scan of `r` may visit: the index box (inclusive), or `None` when it
/// holds none. A cell touching the region's box starts up to one cell before its first point.
#[inline]
pub(crate) fn lattice_box(r: &Region, lat: &Lattice) -> Option<([u32; 3], [u32; 3])> {
    let cells = lat.shift > 0.0;
    let empty = if cells {
        r.misses_cells()
    } else {
        r.is_empty()
    };
    if empty {
        return None;
    }
    let lo = r.lo.map(|x| if cells { x.saturating_sub(1) } else { x });
    let hi = [0, 1, 2].map(|k| r.hi[k].min(lat.last[k]));
    (0..3).all(|k| lo[k] <= hi[k]).then_some((lo, hi))
}

/// The planes bounding `r` on `lat`, in mm (`a . p <= b`): its own, and a face's slab at the
/// lattice's heights, each moved out by the lattice's `relax`.
#[inline]
fn lattice_planes(r: &Region, lat: &Lattice) -> ([[f64; 4]; PLANES + 2], usize) {
    let mut planes = [[0.0; 4]; PLANES + 2];
    let mut np = r.np as usize;
    planes[..np].copy_from_slice(&r.planes[..np]);
    if let Kind::Face { a, n } = r.kind {
        let (t0, t1) = lat.heights;
        planes[np] = [n[0], n[1], n[2], dot(n, a) + t1 + EPS];
        planes[np + 1] = [-n[0], -n[1], -n[2], -dot(n, a) - t0 + EPS];
        np += 2;
    }
    for p in &mut planes[..np] {
        p[3] += lat.relax * (p[0].abs() + p[1].abs() + p[2].abs());
    }
    (planes, np)
}

/// A region set up to test single points of a lattice, for scans that visit a sparse set of
/// points (the crossed cells) rather than every point of the region's columns: the same test as
/// [`rasterize`]'s.
pub(crate) struct Probe {
    kind: Kind,
    planes: [[f64; 4]; PLANES + 2],
    np: usize,
    /// The lattice points it may hold (inclusive).
    pub lo: [u32; 3],
    pub hi: [u32; 3],
}

impl Probe {
    /// `r` on `lat`, or `None` when it holds no point of it.
    #[inline]
    pub fn new(r: &Region, lat: &Lattice) -> Option<Self> {
        let (lo, hi) = lattice_box(r, lat)?;
        let (planes, np) = lattice_planes(r, lat);
        Some(Probe {
            kind: r.kind,
            planes,
            np,
            lo,
            hi,
        })
    }

    /// Whether the region may hold a point of the box `centre +- half` (per axis): no bounding
    /// plane has the whole box outside it.
    #[inline]
    pub fn may_hold(&self, centre: V3, half: f64, slack: f64) -> bool {
        self.planes[..self.np].iter().all(|q| {
            q[0] * centre[0] + q[1] * centre[1] + q[2] * centre[2]
                - half * (q[0].abs() + q[1].abs() + q[2].abs())
                <= q[3] + slack
        })
    }

    /// Whether `p` lies in the region at a squared distance within `d2` of its feature (with
    /// the same slack as [`rasterize`]'s clipping, `1e-9` of a cell on the planes).
    #[inline]
    pub fn holds(&self, p: V3, d2: (f64, f64), slack: f64) -> bool {
        // every plane tested, without branching on each (which way a test goes changes from
        // one probe to the next): 1.3 M probes on foot-left +3
        let mut inside = true;
        for q in &self.planes[..self.np] {
            inside &= q[0] * p[0] + q[1] * p[1] + q[2] * p[2] <= q[3] + slack;
        }
        inside && {
            let e2 = self.kind.dist2(p);
            e2 >= d2.0 && e2 <= d2.1
        }
    }
}

/// Scans `r` over `lat`: calls `f(index, squared distance to the feature)` for every point of
/// the lattice inside the region at a squared distance in `d2`.
///
/// In grid units along the region's axis `c` and across it `(c1, c2)`, each plane bounds `c`
/// from above or below (or, parallel to the axis, bounds `(c1, c2)` alone). A column holds points
/// where every lower bound is below every upper bound: for each pair that is a line in the
/// `(c1, c2)` plane, so each row `c2` is first clipped to the run of columns that can hold
/// points, and only those columns are walked.
#[inline]
pub(crate) fn rasterize(
    r: &Region,
    grid: &Grid,
    lat: &Lattice,
    d2: (f64, f64),
    mut f: impl FnMut([u32; 3], f64),
) {
    let Some((lo, hi)) = lattice_box(r, lat) else {
        return;
    };
    let h = grid.h;
    let origin = grid.origin.map(|o| o + lat.shift * h);
    let ax = r.axis as usize;
    let (a1, a2) = match ax {
        0 => (1, 2),
        1 => (0, 2),
        _ => (0, 1),
    };
    // bounds on c: [c0, k1, k2] meaning c <= c0 - k1 c1 - k2 c2 (upper) or >= (lower); the
    // box's own ends along the axis are one of each
    const N: usize = PLANES + 3;
    let mut upper = [[0.0; 3]; N];
    let mut lower = [[0.0; 3]; N];
    let (mut nu, mut nl) = (1, 1);
    upper[0] = [hi[ax] as f64, 0.0, 0.0];
    lower[0] = [lo[ax] as f64, 0.0, 0.0];
    // constraints on (c1, c2) alone: k1 c1 + k2 c2 <= c0
    let mut flat = [[0.0; 3]; N * N + PLANES + 2];
    let mut nf = 0;
    let (planes, np) = lattice_planes(r, lat);
    for p in &planes[..np] {
        let b = p[3] - p[0] * origin[0] - p[1] * origin[1] - p[2] * origin[2];
        let (c, k1, k2) = (p[ax] * h, p[a1] * h, p[a2] * h);
        if c.abs() > 1e-12 {
            let e = [b / c, k1 / c, k2 / c];
            if c > 0.0 {
                upper[nu] = e;
                nu += 1;
            } else {
                lower[nl] = e;
                nl += 1;
            }
        } else {
            flat[nf] = [b, k1, k2];
            nf += 1;
        }
    }
    for u in &upper[..nu] {
        for l in &lower[..nl] {
            // l0 - l1 c1 - l2 c2 <= u0 - u1 c1 - u2 c2
            flat[nf] = [u[0] - l[0] + 1e-9, u[1] - l[1], u[2] - l[2]];
            nf += 1;
        }
    }
    let flat = &flat[..nf];
    for c2 in lo[a2]..=hi[a2] {
        let x2 = c2 as f64;
        let mut m0 = lo[a1] as f64;
        let mut m1 = hi[a1] as f64;
        for q in flat {
            let rest = q[0] - q[2] * x2;
            if q[1] > 1e-12 {
                m1 = m1.min(rest / q[1]);
            } else if q[1] < -1e-12 {
                m0 = m0.max(rest / q[1]);
            } else if rest < 0.0 {
                m1 = -1.0;
            }
        }
        if m0 > m1 {
            continue;
        }
        let (m0, m1) = (-floor(-m0), floor(m1));
        if m0 > m1 {
            continue;
        }
        let x2 = origin[a2] + c2 as f64 * h;
        for c1 in m0 as u32..=m1 as u32 {
            let y1 = c1 as f64;
            let y2 = c2 as f64;
            let mut k0 = f64::NEG_INFINITY;
            let mut k1 = f64::INFINITY;
            for u in &upper[..nu] {
                k1 = k1.min(u[0] - u[1] * y1 - u[2] * y2);
            }
            for l in &lower[..nl] {
                k0 = k0.max(l[0] - l[1] * y1 - l[2] * y2);
            }
            if k0 > k1 {
                continue;
            }
            let (k0, k1) = (-floor(-k0), floor(k1));
            if k0 > k1 {
                continue;
            }
            let mut p = [0.0; 3];
            p[a1] = origin[a1] + c1 as f64 * h;
            p[a2] = x2;
            let mut at = [0u32; 3];
            at[a1] = c1;
            at[a2] = c2;
            for k in k0 as u32..=k1 as u32 {
                p[ax] = origin[ax] + k as f64 * h;
                let e2 = r.kind.dist2(p);
                if e2 >= d2.0 && e2 <= d2.1 {
                    at[ax] = k;
                    f(at, e2);
                }
            }
        }
    }
}
