//! The radial drop-cutter: a ball lowered along a ray from the rotation axis onto a triangle
//! soup, the rotary counterpart of `drop`.
//!
//! The part turns about the X axis. For a station `x` and an angle `theta` (measured in the YZ
//! plane from +Y toward +Z) the ball's centre moves in along the ray `(x, 0, 0) + rho (0, cos
//! theta, sin theta)` from far outside; `RadialIndex::drop` gives the largest `rho` at which the
//! ball touches the design: the exit of the ray from the union of every triangle grown by the
//! ball (a vertex's sphere, an edge's cylinder, the face's two offset planes). Exact for every
//! contact; nothing is sampled.
//!
//! Triangles are binned on a grid of x stations and angular sectors, each in every bin its grown
//! shape can reach, so a query reads one bin. Flat arrays, no allocation per query.

use std::f64::consts::TAU;

/// Numbers kept per triangle: a, b, c, unit normal, and the barycentric set-up
/// (e1.e1, e1.e2, e2.e2, 1/det).
const STRIDE: usize = 16;

/// Triangles binned for radial drops of one ball radius.
#[derive(Clone, Debug)]
pub struct RadialIndex {
    radius: f64,
    tris: Vec<f64>,
    x0: f64,
    bin_w: f64,
    nx: usize,
    nt: usize,
    /// `starts[b]..starts[b + 1]` indexes `items` for bin `b = ix * nt + it`.
    starts: Vec<u32>,
    items: Vec<u32>,
    /// Per triangle: lowest and highest X, largest distance from the axis.
    bounds: Vec<[f64; 3]>,
    x_range: (f64, f64),
}

/// Angular sectors of the index.
const SECTORS: usize = 180;

impl RadialIndex {
    /// Bins `triangles` (mm, the part at A = 0, X along the rotation axis) for a ball of
    /// `radius` mm. Degenerate triangles are left out.
    pub fn new(triangles: &[[[f64; 3]; 3]], radius: f64) -> RadialIndex {
        let mut tris = Vec::with_capacity(triangles.len() * STRIDE);
        let (mut xlo, mut xhi) = (f64::INFINITY, f64::NEG_INFINITY);
        for t in triangles {
            let [a, b, c] = *t;
            let e1 = sub(b, a);
            let e2 = sub(c, a);
            let n = cross(e1, e2);
            let nn = dot(n, n).sqrt();
            if !(nn > 1e-14) || !nn.is_finite() {
                continue;
            }
            let (d00, d01, d11) = (dot(e1, e1), dot(e1, e2), dot(e2, e2));
            let det = d00 * d11 - d01 * d01;
            if !(det > 0.0) {
                continue;
            }
            tris.extend_from_slice(&a);
            tris.extend_from_slice(&b);
            tris.extend_from_slice(&c);
            tris.extend_from_slice(&[n[0] / nn, n[1] / nn, n[2] / nn]);
            tris.extend_from_slice(&[d00, d01, d11, 1.0 / det]);
            for p in [a, b, c] {
                xlo = xlo.min(p[0]);
                xhi = xhi.max(p[0]);
            }
        }
        let count = tris.len() / STRIDE;
        if count == 0 {
            return RadialIndex {
                radius,
                tris,
                x0: 0.0,
                bin_w: 1.0,
                nx: 0,
                nt: SECTORS,
                starts: vec![0],
                items: Vec::new(),
                bounds: Vec::new(),
                x_range: (0.0, 0.0),
            };
        }
        let bin_w = (radius / 2.0).max(1.0);
        let x0 = xlo - radius - bin_w;
        let nx = (((xhi + radius + bin_w) - x0) / bin_w).ceil() as usize + 1;
        let nt = SECTORS;
        let dt = TAU / nt as f64;
        // the bins each triangle reaches: (first x bin, last x bin, first sector, sector count)
        let reach = |k: usize| -> (usize, usize, isize, usize) {
            let t = &tris[k * STRIDE..k * STRIDE + 9];
            let p = [[t[0], t[1], t[2]], [t[3], t[4], t[5]], [t[6], t[7], t[8]]];
            let lo = p.iter().map(|q| q[0]).fold(f64::INFINITY, f64::min) - radius;
            let hi = p.iter().map(|q| q[0]).fold(f64::NEG_INFINITY, f64::max) + radius;
            let i0 = (((lo - x0) / bin_w).floor().max(0.0)) as usize;
            let i1 = ((((hi - x0) / bin_w).floor()) as usize).min(nx - 1);
            // nearest approach of the triangle to the axis, seen along X
            let rho_min = axis_distance([p[0][1], p[0][2]], [p[1][1], p[1][2]], [p[2][1], p[2][2]]);
            let ang: Vec<f64> = p.iter().map(|q| q[2].atan2(q[1])).collect();
            let wrap = |d: f64| (d + std::f64::consts::PI).rem_euclid(TAU) - std::f64::consts::PI;
            let (d1, d2) = (wrap(ang[1] - ang[0]), wrap(ang[2] - ang[0]));
            let (alo, ahi) = (ang[0] + d1.min(d2).min(0.0), ang[0] + d1.max(d2).max(0.0));
            if rho_min <= radius * 1.001 || ahi - alo > std::f64::consts::PI {
                return (i0, i1, 0, nt);
            }
            let grow = (radius / rho_min).min(1.0).asin() + 1e-9;
            let s0 = ((alo - grow) / dt).floor() as isize;
            let s1 = ((ahi + grow) / dt).floor() as isize;
            (i0, i1, s0, ((s1 - s0 + 1) as usize).min(nt))
        };
        let reaches: Vec<(usize, usize, isize, usize)> = (0..count).map(reach).collect();
        let mut counts = vec![0u32; nx * nt + 1];
        for &(i0, i1, s0, ns) in &reaches {
            for i in i0..=i1 {
                for s in 0..ns {
                    let it = (s0 + s as isize).rem_euclid(nt as isize) as usize;
                    counts[i * nt + it] += 1;
                }
            }
        }
        let bounds: Vec<[f64; 3]> = (0..count)
            .map(|k| {
                let t = &tris[k * STRIDE..k * STRIDE + 9];
                [
                    t[0].min(t[3]).min(t[6]),
                    t[0].max(t[3]).max(t[6]),
                    t[1].hypot(t[2]).max(t[4].hypot(t[5])).max(t[7].hypot(t[8])),
                ]
            })
            .collect();
        let mut starts = vec![0u32; nx * nt + 1];
        for b in 0..nx * nt {
            starts[b + 1] = starts[b] + counts[b];
        }
        let mut fill = starts.clone();
        let mut items = vec![0u32; starts[nx * nt] as usize];
        for (k, &(i0, i1, s0, ns)) in reaches.iter().enumerate() {
            for i in i0..=i1 {
                for s in 0..ns {
                    let it = (s0 + s as isize).rem_euclid(nt as isize) as usize;
                    let b = i * nt + it;
                    items[fill[b] as usize] = k as u32;
                    fill[b] += 1;
                }
            }
        }
        // each bin's triangles from the farthest from the axis in: a query stops at the first
        // that cannot reach past the contact found so far
        for b in 0..nx * nt {
            let (s0, s1) = (starts[b] as usize, starts[b + 1] as usize);
            items[s0..s1]
                .sort_unstable_by(|&p, &q| bounds[q as usize][2].total_cmp(&bounds[p as usize][2]));
        }
        RadialIndex {
            radius,
            tris,
            x0,
            bin_w,
            nx,
            nt,
            starts,
            items,
            bounds,
            x_range: (xlo, xhi),
        }
    }

    /// The ball's radius, mm.
    pub fn radius(&self) -> f64 {
        self.radius
    }

    /// The design's extent along X, mm.
    pub fn x_range(&self) -> (f64, f64) {
        self.x_range
    }

    /// Number of triangles indexed.
    pub fn len(&self) -> usize {
        self.tris.len() / STRIDE
    }

    /// True when no triangle was indexed.
    pub fn is_empty(&self) -> bool {
        self.tris.is_empty()
    }

    /// The ball centre's distance from the axis where it first touches the design coming in
    /// along the ray at station `x`, angle `theta` (radians); `None` when the ball reaches the
    /// axis without touching anything.
    pub fn drop(&self, x: f64, theta: f64) -> Option<f64> {
        if self.nx == 0 {
            return None;
        }
        let fi = ((x - self.x0) / self.bin_w).floor();
        if !(fi >= 0.0 && fi < self.nx as f64) {
            return None;
        }
        let dt = TAU / self.nt as f64;
        let it = ((theta.rem_euclid(TAU) / dt).floor() as usize).min(self.nt - 1);
        let b = fi as usize * self.nt + it;
        let (s, e) = (self.starts[b] as usize, self.starts[b + 1] as usize);
        let (c, sn) = (theta.cos(), theta.sin());
        let mut best = f64::NEG_INFINITY;
        let r = self.radius;
        for &k in &self.items[s..e] {
            let [lo, hi, far] = self.bounds[k as usize];
            // no contact can lie beyond the triangle's farthest point plus the ball
            if far + r <= best {
                break;
            }
            if x < lo - r || x > hi + r {
                continue;
            }
            let t = &self.tris[k as usize * STRIDE..(k as usize + 1) * STRIDE];
            let r = contact(t, x, c, sn, self.radius);
            if r > best {
                best = r;
            }
        }
        (best >= 0.0).then_some(best)
    }
}

/// Outermost contact of the ball on the ray (x, 0, 0) + rho (0, c, s) with one triangle's grown
/// shape; -inf when the ray misses it.
#[inline]
fn contact(t: &[f64], x: f64, c: f64, s: f64, r: f64) -> f64 {
    let a = [t[0], t[1], t[2]];
    let b = [t[3], t[4], t[5]];
    let cc = [t[6], t[7], t[8]];
    let n = [t[9], t[10], t[11]];
    let mut best = f64::NEG_INFINITY;
    let r2 = r * r;
    // vertices
    for v in [a, b, cc] {
        let w = [v[0] - x, v[1], v[2]];
        let bb = c * w[1] + s * w[2];
        let disc = bb * bb - (dot(w, w) - r2);
        if disc >= 0.0 {
            best = best.max(bb + disc.sqrt());
        }
    }
    // edges
    for (p, q) in [(a, b), (b, cc), (cc, a)] {
        let d = sub(q, p);
        let l2 = dot(d, d);
        let w = [x - p[0], -p[1], -p[2]];
        let ud = c * d[1] + s * d[2];
        let wd = dot(w, d);
        let aa = 1.0 - ud * ud / l2;
        if aa < 1e-12 {
            continue;
        }
        let uw = c * w[1] + s * w[2];
        let bb = uw - ud * wd / l2;
        let c0 = dot(w, w) - wd * wd / l2 - r2;
        let disc = bb * bb - aa * c0;
        if disc < 0.0 {
            continue;
        }
        let rho = (-bb + disc.sqrt()) / aa;
        let tt = (wd + rho * ud) / l2;
        if (0.0..=1.0).contains(&tt) {
            best = best.max(rho);
        }
    }
    // the face, touched from either side
    let nu = n[1] * c + n[2] * s;
    if nu.abs() > 1e-12 {
        let nw = n[0] * (x - a[0]) - n[1] * a[1] - n[2] * a[2];
        let (d00, d01, d11, inv) = (t[12], t[13], t[14], t[15]);
        let e1 = sub(b, a);
        let e2 = sub(cc, a);
        for side in [r, -r] {
            let rho = (side - nw) / nu;
            if rho <= best {
                continue;
            }
            // the foot of the centre on the face's plane
            let p = [
                x - side * n[0],
                rho * c - side * n[1],
                rho * s - side * n[2],
            ];
            let v2 = sub(p, a);
            let (d20, d21) = (dot(v2, e1), dot(v2, e2));
            let bv = (d11 * d20 - d01 * d21) * inv;
            let bw = (d00 * d21 - d01 * d20) * inv;
            if bv >= -1e-12 && bw >= -1e-12 && bv + bw <= 1.0 + 1e-12 {
                best = rho;
            }
        }
    }
    best
}

/// Distance from the origin to a triangle in the plane (0 when the triangle covers it).
fn axis_distance(a: [f64; 2], b: [f64; 2], c: [f64; 2]) -> f64 {
    let side = |p: [f64; 2], q: [f64; 2]| (q[0] - p[0]) * (-p[1]) - (q[1] - p[1]) * (-p[0]);
    let (s1, s2, s3) = (side(a, b), side(b, c), side(c, a));
    if (s1 >= 0.0 && s2 >= 0.0 && s3 >= 0.0) || (s1 <= 0.0 && s2 <= 0.0 && s3 <= 0.0) {
        return 0.0;
    }
    let seg = |p: [f64; 2], q: [f64; 2]| {
        let d = [q[0] - p[0], q[1] - p[1]];
        let l2 = d[0] * d[0] + d[1] * d[1];
        let t = if l2 > 0.0 {
            (-(p[0] * d[0] + p[1] * d[1]) / l2).clamp(0.0, 1.0)
        } else {
            0.0
        };
        (p[0] + t * d[0]).hypot(p[1] + t * d[1])
    };
    seg(a, b).min(seg(b, c)).min(seg(c, a))
}

#[inline]
fn sub(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}
#[inline]
fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}
#[inline]
fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A closed cylinder of radius `r` about X from x = 0 to `len`, `n` facets round.
    fn cylinder(r: f64, len: f64, n: usize) -> Vec<[[f64; 3]; 3]> {
        let mut t = Vec::new();
        for i in 0..n {
            let (a0, a1) = (TAU * i as f64 / n as f64, TAU * (i + 1) as f64 / n as f64);
            let p = |x: f64, a: f64| [x, r * a.cos(), r * a.sin()];
            t.push([p(0.0, a0), p(len, a0), p(len, a1)]);
            t.push([p(0.0, a0), p(len, a1), p(0.0, a1)]);
            t.push([[0.0, 0.0, 0.0], p(0.0, a1), p(0.0, a0)]);
            t.push([[len, 0.0, 0.0], p(len, a0), p(len, a1)]);
        }
        t
    }

    /// Brute force: the largest rho (to 1e-6) where the ball overlaps a triangle, by bisection
    /// on the distance from the centre to the triangle.
    fn brute(tris: &[[[f64; 3]; 3]], x: f64, th: f64, r: f64) -> Option<f64> {
        let touches = |rho: f64| {
            let c = [x, rho * th.cos(), rho * th.sin()];
            tris.iter().any(|t| point_triangle(c, *t) <= r)
        };
        let mut hi = 1000.0;
        if touches(hi) {
            return None;
        }
        // scan down for the first touching rho, then bisect
        let mut lo = hi;
        while lo > 0.0 && !touches(lo) {
            lo -= 0.05;
        }
        if lo <= 0.0 && !touches(0.0) {
            return None;
        }
        let mut a = lo.max(0.0);
        hi = a + 0.05;
        for _ in 0..60 {
            let m = 0.5 * (a + hi);
            if touches(m) {
                a = m;
            } else {
                hi = m;
            }
        }
        Some(a)
    }

    fn point_triangle(p: [f64; 3], t: [[f64; 3]; 3]) -> f64 {
        // closest point on triangle (Ericson)
        let [a, b, c] = t;
        let ab = sub(b, a);
        let ac = sub(c, a);
        let ap = sub(p, a);
        let d1 = dot(ab, ap);
        let d2 = dot(ac, ap);
        let q = if d1 <= 0.0 && d2 <= 0.0 {
            a
        } else {
            let bp = sub(p, b);
            let d3 = dot(ab, bp);
            let d4 = dot(ac, bp);
            let cp = sub(p, c);
            let d5 = dot(ab, cp);
            let d6 = dot(ac, cp);
            let vc = d1 * d4 - d3 * d2;
            let vb = d5 * d2 - d1 * d6;
            let va = d3 * d6 - d5 * d4;
            if d3 >= 0.0 && d4 <= d3 {
                b
            } else if d6 >= 0.0 && d5 <= d6 {
                c
            } else if vc <= 0.0 && d1 >= 0.0 && d3 <= 0.0 {
                let v = d1 / (d1 - d3);
                [a[0] + v * ab[0], a[1] + v * ab[1], a[2] + v * ab[2]]
            } else if vb <= 0.0 && d2 >= 0.0 && d6 <= 0.0 {
                let w = d2 / (d2 - d6);
                [a[0] + w * ac[0], a[1] + w * ac[1], a[2] + w * ac[2]]
            } else if va <= 0.0 && (d4 - d3) >= 0.0 && (d5 - d6) >= 0.0 {
                let w = (d4 - d3) / ((d4 - d3) + (d5 - d6));
                [
                    b[0] + w * (c[0] - b[0]),
                    b[1] + w * (c[1] - b[1]),
                    b[2] + w * (c[2] - b[2]),
                ]
            } else {
                let den = 1.0 / (va + vb + vc);
                let v = vb * den;
                let w = vc * den;
                [
                    a[0] + ab[0] * v + ac[0] * w,
                    a[1] + ab[1] * v + ac[1] * w,
                    a[2] + ab[2] * v + ac[2] * w,
                ]
            }
        };
        let d = sub(p, q);
        dot(d, d).sqrt()
    }

    #[test]
    fn on_a_cylinder_the_ball_sits_at_radius_plus_ball() {
        // a 64-facet cylinder: the facets' centres lie at r cos(pi/64)
        let r = 40.0;
        let tris = cylinder(r, 100.0, 64);
        let idx = RadialIndex::new(&tris, 3.0);
        for k in 0..50 {
            let th = k as f64 * 0.37;
            let rho = idx.drop(50.0, th).unwrap();
            assert!(rho <= r + 3.0 + 1e-9, "{rho}");
            assert!(
                rho >= r * (std::f64::consts::PI / 64.0).cos() + 3.0 - 1e-9,
                "{rho}"
            );
        }
        // beyond the end cap by more than the ball: nothing to touch
        assert_eq!(idx.drop(103.5, 0.3), None);
        // past the end by less than the ball: it touches the cap's rim
        let rho = idx.drop(101.0, 0.0).unwrap();
        let expect = r + (9.0f64 - 1.0).sqrt();
        assert!((rho - expect).abs() < 1e-9, "{rho} vs {expect}");
    }

    #[test]
    fn matches_brute_force_on_random_triangles() {
        // a deterministic scatter of triangles round the axis
        let mut s = 12345u64;
        let mut rnd = || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s % 1_000_000) as f64 / 1_000_000.0
        };
        let mut tris = Vec::new();
        for _ in 0..60 {
            let x = rnd() * 40.0;
            let a = rnd() * TAU;
            let rr = 5.0 + rnd() * 30.0;
            let c = [x, rr * a.cos(), rr * a.sin()];
            let mut t = [[0.0; 3]; 3];
            for v in &mut t {
                *v = [
                    c[0] + (rnd() - 0.5) * 12.0,
                    c[1] + (rnd() - 0.5) * 12.0,
                    c[2] + (rnd() - 0.5) * 12.0,
                ];
            }
            tris.push(t);
        }
        for r in [1.5, 6.0] {
            let idx = RadialIndex::new(&tris, r);
            for k in 0..300 {
                let x = rnd() * 44.0 - 2.0;
                let th = rnd() * TAU;
                let got = idx.drop(x, th);
                let want = brute(&tris, x, th, r);
                match (got, want) {
                    (Some(g), Some(w)) => assert!((g - w).abs() < 1e-6, "{k}: {g} vs {w}"),
                    (None, None) => {}
                    (g, w) => {
                        // either way only when the contact is at the axis itself
                        let v = g.or(w).unwrap();
                        assert!(v < 1e-6, "{k}: {g:?} vs {w:?}");
                    }
                }
            }
        }
    }
}
