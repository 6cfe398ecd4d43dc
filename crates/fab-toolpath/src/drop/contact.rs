//! Exact contact primitives of the drop-cutter: for a cutter whose axis stands at `(x, y)`, the
//! lowest tip Z at which it touches a facet (interior), an edge (a segment, ends included) or a
//! vertex, for ball, flat and bull-nose cutters.
//!
//! The cutter is the solid `{ rho <= R, z >= tip + h(rho) }` where `rho` is the horizontal
//! distance from its axis and `h` its profile ([`Cutter::height_at`]: 0 on the flat part of radius
//! `a = R - r`, then the corner arc of radius `r`). A point `P` of the surface therefore allows the
//! tip no lower than `P.z - h(rho(P))`, and the drop onto a triangle is the maximum of that over
//! the triangle. Because `h` is convex and non-decreasing and `rho` is convex along any line, the
//! function is concave on a triangle and on a segment: its maximum over a facet is either the
//! facet contact (the plane's tangent point, when it lies inside the triangle) or lies on an edge,
//! and along an edge it is found exactly:
//! - ball: closed form (the sphere tangent to the edge's line in the vertical plane through it);
//! - flat: the ends of the edge's chord under the disk (the function is linear there);
//! - bull-nose: the stationary point of a concave 1-D function (OpenCAMLib's offset-ellipse
//!   problem) by bracketed Newton iteration, stopped when concavity bounds the remaining gap to
//!   the maximum below 1e-12 mm, then clamped to the chord.
//!
//! When the facet contact falls outside the triangle only the edges whose lines separate it from
//! the triangle are solved (the maximum of a concave function over a convex set lies where the
//! way to its unconstrained maximum leaves the set). Every early out ([`Facet::plane_at`] as a
//! bound, the edge chord's highest point, [`Profile::reach2`]) is a true upper bound, so results
//! never depend on them.
//!
//! [`Facet`], [`Edge`] and [`PreparedTriangle`] hold the per-triangle constants so that the hot
//! loops (the tile rasteriser and [`crate::drop::DropIndex`]) evaluate a cell with a few dozen
//! flops and no allocation; the free functions ([`vertex_drop`], [`facet_drop`], [`edge_drop`],
//! [`triangle_drop`]) are the same code for one-off queries.

use crate::cutter::Cutter;

/// A facet is treated as vertical (its contacts are its edges') when its unit normal's Z is below
/// this.
const VERTICAL_NZ: f64 = 1e-12;
/// An edge shorter than this in XY is vertical: its contacts are its end vertices'.
const VERTICAL_EDGE: f64 = 1e-12;

/// The cutter profile in the form the contact code is generic over (monomorphised per kind, so
/// the hot loop has no dispatch).
pub trait Profile: Copy + Send + Sync + 'static {
    /// Full radius `R`.
    fn radius(&self) -> f64;
    /// Corner radius `r` (ball: `R`, flat: 0).
    fn corner(&self) -> f64;
    /// Flat tip radius `a = R - r`.
    fn flat(&self) -> f64;
    /// Height of the cutter surface above the tip at distance `rho <= R` from the axis.
    fn height(&self, rho: f64) -> f64;
    /// Squared distance from the axis within which the cutter surface is less than `g` above
    /// the tip (at most `R^2`): a point farther than this, and at most `g` above the current
    /// tip Z, cannot raise the cutter.
    fn reach2(&self, g: f64) -> f64;
    /// Maximum over `u` in `[lo, hi]` (a sub-interval of `[u0 - s, u0 + s]`, `s = sqrt(R^2 - d2)`)
    /// of `z0 + m u - h(sqrt(d2 + (u - u0)^2))`: the drop onto an edge whose line, in the
    /// vertical plane through it, is `z0 + m u`, `u0` being where the axis projects onto it and
    /// `d2` the squared horizontal distance from the axis. `sq = sqrt(1 + m^2)`. May return any
    /// value `<= floor` instead when the maximum cannot exceed `floor` (an early out).
    #[allow(clippy::too_many_arguments)]
    fn edge_max(
        &self,
        z0: f64,
        m: f64,
        sq: f64,
        u0: f64,
        d2: f64,
        s: f64,
        lo: f64,
        hi: f64,
        floor: f64,
    ) -> f64;
}

/// Ball-nose cutter of radius `R`.
#[derive(Clone, Copy, Debug)]
pub struct Ball {
    pub r: f64,
}

/// Flat end mill of radius `R`.
#[derive(Clone, Copy, Debug)]
pub struct Flat {
    pub r: f64,
}

/// Bull-nose (toroidal) cutter of radius `R` and corner radius `r`, `0 < r < R`.
#[derive(Clone, Copy, Debug)]
pub struct Bull {
    pub big: f64,
    pub corner: f64,
}

impl Profile for Ball {
    #[inline]
    fn radius(&self) -> f64 {
        self.r
    }
    #[inline]
    fn corner(&self) -> f64 {
        self.r
    }
    #[inline]
    fn flat(&self) -> f64 {
        0.0
    }
    #[inline]
    fn height(&self, rho: f64) -> f64 {
        self.r - (self.r * self.r - rho * rho).max(0.0).sqrt()
    }
    #[inline]
    fn reach2(&self, g: f64) -> f64 {
        if g >= self.r {
            self.r * self.r
        } else {
            g * (2.0 * self.r - g)
        }
    }
    #[inline]
    fn edge_max(
        &self,
        z0: f64,
        m: f64,
        sq: f64,
        u0: f64,
        d2: f64,
        s: f64,
        lo: f64,
        hi: f64,
        _floor: f64,
    ) -> f64 {
        // The sphere's circle of radius s in the edge's vertical plane, tangent to the line.
        let uc = u0 + s * m / sq;
        if uc >= lo && uc <= hi {
            z0 + m * u0 + s * sq - self.r
        } else {
            let u = uc.clamp(lo, hi);
            let w = u - u0;
            z0 + m * u - self.r + (self.r * self.r - d2 - w * w).max(0.0).sqrt()
        }
    }
}

impl Profile for Flat {
    #[inline]
    fn radius(&self) -> f64 {
        self.r
    }
    #[inline]
    fn corner(&self) -> f64 {
        0.0
    }
    #[inline]
    fn flat(&self) -> f64 {
        self.r
    }
    #[inline]
    fn height(&self, _rho: f64) -> f64 {
        0.0
    }
    #[inline]
    fn reach2(&self, _g: f64) -> f64 {
        self.r * self.r
    }
    #[inline]
    fn edge_max(
        &self,
        z0: f64,
        m: f64,
        _sq: f64,
        _u0: f64,
        _d2: f64,
        _s: f64,
        lo: f64,
        hi: f64,
        _floor: f64,
    ) -> f64 {
        z0 + m * if m > 0.0 { hi } else { lo }
    }
}

impl Bull {
    /// `h'(rho)`: the corner's slope (infinite at the rim).
    #[inline]
    fn slope(&self, rho: f64) -> f64 {
        let t = rho - (self.big - self.corner);
        if t <= 0.0 {
            return 0.0;
        }
        let den = self.corner * self.corner - t * t;
        if den <= 0.0 {
            f64::INFINITY
        } else {
            t / den.sqrt()
        }
    }

    /// Derivative along the edge of `z0 + m u - h(rho(u))` at `w = u - u0` (non-increasing in w).
    #[inline]
    fn deriv(&self, m: f64, d2: f64, w: f64) -> f64 {
        if w == 0.0 {
            return m;
        }
        let rho = (d2 + w * w).sqrt();
        m - self.slope(rho) * w / rho
    }
}

impl Profile for Bull {
    #[inline]
    fn radius(&self) -> f64 {
        self.big
    }
    #[inline]
    fn corner(&self) -> f64 {
        self.corner
    }
    #[inline]
    fn flat(&self) -> f64 {
        self.big - self.corner
    }
    #[inline]
    fn height(&self, rho: f64) -> f64 {
        let t = rho - (self.big - self.corner);
        if t <= 0.0 {
            0.0
        } else {
            self.corner - (self.corner * self.corner - t * t).max(0.0).sqrt()
        }
    }
    #[inline]
    fn reach2(&self, g: f64) -> f64 {
        if g >= self.corner {
            self.big * self.big
        } else {
            let w = self.big - self.corner + (g * (2.0 * self.corner - g)).sqrt();
            w * w
        }
    }
    fn edge_max(
        &self,
        z0: f64,
        m: f64,
        _sq: f64,
        u0: f64,
        d2: f64,
        _s: f64,
        lo: f64,
        hi: f64,
        floor: f64,
    ) -> f64 {
        // Every point of the chord is at least sqrt(d2) from the axis: bound before solving.
        let top = z0 + m * if m > 0.0 { hi } else { lo };
        if top - self.height(d2.sqrt()) <= floor {
            return f64::NEG_INFINITY;
        }
        let f = |u: f64| {
            let w = u - u0;
            z0 + m * u - self.height((d2 + w * w).sqrt())
        };
        // Concave: the maximum is at an end unless the derivative changes sign inside. The
        // derivative is m wherever the axis is within the flat radius (|w| <= w0) and has m's
        // sign for w of the other sign: the root is beyond w0 on m's side.
        let (mut a, mut b) = (lo - u0, hi - u0);
        if m == 0.0 {
            return f(u0.clamp(lo, hi));
        }
        let flat = self.big - self.corner;
        let w0 = (flat * flat - d2).max(0.0).sqrt();
        if m > 0.0 {
            a = a.max(w0);
            if a >= b {
                return f(hi);
            }
        } else {
            b = b.min(-w0);
            if a >= b {
                return f(lo);
            }
        }
        if self.deriv(m, d2, a) <= 0.0 {
            return f(u0 + a);
        }
        if self.deriv(m, d2, b) >= 0.0 {
            return f(u0 + b);
        }
        // Root of the derivative in (a, b). With the corner's slope h' = t / q (t = rho - flat,
        // q = sqrt(r^2 - t^2)) the derivative is -H / (q rho) where H = t w - m rho q is
        // increasing and finite up to the rim: Newton on H, kept inside the bracket (mirrored so
        // that m > 0). Stops when concavity bounds the remaining gap to the maximum,
        // f(w*) - f(w) <= |f'(w)| (b - a), below 1e-12 mm.
        let s = m.signum();
        let (m, mut a, mut b) = if s > 0.0 { (m, a, b) } else { (-m, -b, -a) };
        let (r, flat) = (self.corner, self.big - self.corner);
        let mut w = 0.5 * (a + b);
        for _ in 0..100 {
            let rho = (d2 + w * w).sqrt();
            let t = (rho - flat).max(0.0);
            let q = (r * r - t * t).max(0.0).sqrt();
            let h = t * w - m * rho * q;
            if h > 0.0 {
                b = w;
            } else if h < 0.0 {
                a = w;
            } else {
                break;
            }
            if q > 0.0 && rho > 0.0 && h.abs() / (q * rho) * (b - a) <= 1e-12 {
                break;
            }
            let mut next = f64::NAN;
            if q > 0.0 && rho > 0.0 {
                let dh = w * w / rho + t - m * (w * q / rho - t * w / q);
                if dh > 0.0 {
                    next = w - h / dh;
                }
            }
            if !(next > a && next < b) {
                next = 0.5 * (a + b);
            }
            if b - a <= 1e-13 {
                break;
            }
            w = next;
        }
        let w = s * w;
        f(u0 + w)
    }
}

/// A cutter as one of the three profiles, for dispatch outside the hot loops.
#[derive(Clone, Copy, Debug)]
pub enum Shape {
    Ball(Ball),
    Flat(Flat),
    Bull(Bull),
}

impl Shape {
    /// The profile of a cutter (a bull-nose whose corner is its radius is a ball).
    pub fn of(cutter: &Cutter) -> Shape {
        match *cutter {
            Cutter::Ball { diameter } => Shape::Ball(Ball { r: diameter / 2.0 }),
            Cutter::Flat { diameter } => Shape::Flat(Flat { r: diameter / 2.0 }),
            Cutter::Bull {
                diameter,
                corner_radius,
            } => {
                let big = diameter / 2.0;
                if corner_radius >= big {
                    Shape::Ball(Ball { r: big })
                } else if corner_radius <= 0.0 {
                    Shape::Flat(Flat { r: big })
                } else {
                    Shape::Bull(Bull {
                        big,
                        corner: corner_radius,
                    })
                }
            }
        }
    }
}

/// Calls `$body` with `$p` bound to the concrete profile of a [`Shape`].
macro_rules! with_profile {
    ($shape:expr, $p:ident => $body:expr) => {
        match $shape {
            $crate::drop::contact::Shape::Ball($p) => $body,
            $crate::drop::contact::Shape::Flat($p) => $body,
            $crate::drop::contact::Shape::Bull($p) => $body,
        }
    };
}
pub(crate) use with_profile;

/// The facet-contact constants of a triangle for one profile: the tip Z is linear in the axis
/// position, `a - bx x - by y`, valid when the contact point `(x + ox, y + oy)` is inside.
#[derive(Clone, Copy, Debug)]
pub struct Facet {
    /// False for a vertical or degenerate facet (no interior contact).
    pub ok: bool,
    a: f64,
    bx: f64,
    by: f64,
    /// Offset from the axis to the contact point.
    ox: f64,
    oy: f64,
    /// Barycentric coordinates of the contact point: l1 = c1 + c1x x + c1y y, same for l2.
    c1: f64,
    c1x: f64,
    c1y: f64,
    c2: f64,
    c2x: f64,
    c2y: f64,
}

impl Facet {
    pub fn new<P: Profile>(p: &P, t: &[[f64; 3]; 3]) -> Facet {
        let none = Facet {
            ok: false,
            a: 0.0,
            bx: 0.0,
            by: 0.0,
            ox: 0.0,
            oy: 0.0,
            c1: 0.0,
            c1x: 0.0,
            c1y: 0.0,
            c2: 0.0,
            c2x: 0.0,
            c2y: 0.0,
        };
        let [p0, p1, p2] = *t;
        let e1 = [p1[0] - p0[0], p1[1] - p0[1], p1[2] - p0[2]];
        let e2 = [p2[0] - p0[0], p2[1] - p0[1], p2[2] - p0[2]];
        let mut n = [
            e1[1] * e2[2] - e1[2] * e2[1],
            e1[2] * e2[0] - e1[0] * e2[2],
            e1[0] * e2[1] - e1[1] * e2[0],
        ];
        let len = (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).sqrt();
        if len.is_nan() || len <= 0.0 {
            return none;
        }
        n = n.map(|c| c / len);
        if n[2] < 0.0 {
            n = n.map(|c| -c);
        }
        if n[2] < VERTICAL_NZ {
            return none;
        }
        let (r, a) = (p.corner(), p.flat());
        let nxy = n[0].hypot(n[1]);
        // Contact point offset from the axis: a towards the uphill direction, r along -n.
        let k = if nxy > 0.0 { a / nxy + r } else { r };
        let (ox, oy) = (-k * n[0], -k * n[1]);
        let det = e1[0] * e2[1] - e2[0] * e1[1];
        if det == 0.0 {
            return none;
        }
        // l1 = ((cx - x0) e2y - e2x (cy - y0)) / det, l2 = (e1x (cy - y0) - (cx - x0) e1y) / det,
        // with (cx, cy) = (x + ox, y + oy).
        let (dx, dy) = (ox - p0[0], oy - p0[1]);
        Facet {
            ok: true,
            a: (n[0] * p0[0] + n[1] * p0[1] + n[2] * p0[2] + r + a * nxy) / n[2] - r,
            bx: n[0] / n[2],
            by: n[1] / n[2],
            ox,
            oy,
            c1: (dx * e2[1] - e2[0] * dy) / det,
            c1x: e2[1] / det,
            c1y: -e2[0] / det,
            c2: (e1[0] * dy - dx * e1[1]) / det,
            c2x: -e1[1] / det,
            c2y: e1[0] / det,
        }
    }

    /// Tip Z of the facet contact, if the contact point is inside the triangle.
    #[inline]
    pub fn drop_at(&self, x: f64, y: f64) -> Option<f64> {
        (self.ok && self.inside(x, y)).then(|| self.plane_at(x, y))
    }

    /// Offset from the cutter axis to the facet contact point: the axis positions with a facet
    /// contact are the triangle moved by minus this.
    #[inline]
    pub fn offset(&self) -> (f64, f64) {
        (self.ox, self.oy)
    }

    /// Tip Z resting on the facet's whole plane (valid when `ok`): no contact with the
    /// triangle can be higher.
    #[inline]
    pub fn plane_at(&self, x: f64, y: f64) -> f64 {
        self.a - self.bx * x - self.by * y
    }

    /// Whether the plane contact point for the axis at `(x, y)` is inside the triangle.
    #[inline]
    pub fn inside(&self, x: f64, y: f64) -> bool {
        let (l1, l2) = self.bary(x, y);
        l1 >= 0.0 && l2 >= 0.0 && l1 + l2 <= 1.0
    }

    /// Barycentric coordinates (of the second and third vertex) of the plane contact point
    /// for the axis at `(x, y)`.
    #[inline]
    pub fn bary(&self, x: f64, y: f64) -> (f64, f64) {
        (
            self.c1 + self.c1x * x + self.c1y * y,
            self.c2 + self.c2x * x + self.c2y * y,
        )
    }
}

/// An edge's constants: start point, unit XY direction, XY length, slope and `sqrt(1 + m^2)`.
#[derive(Clone, Copy, Debug)]
pub struct Edge {
    p: [f64; 3],
    /// Upper vertex, for a vertical edge.
    top: [f64; 3],
    ux: f64,
    uy: f64,
    len: f64,
    m: f64,
    sq: f64,
}

impl Edge {
    pub fn new(p: [f64; 3], q: [f64; 3]) -> Edge {
        let (dx, dy) = (q[0] - p[0], q[1] - p[1]);
        let len = dx.hypot(dy);
        let top = if q[2] > p[2] { q } else { p };
        if len.is_nan() || len < VERTICAL_EDGE {
            return Edge {
                p,
                top,
                ux: 0.0,
                uy: 0.0,
                len: 0.0,
                m: 0.0,
                sq: 1.0,
            };
        }
        let m = (q[2] - p[2]) / len;
        Edge {
            p,
            top,
            ux: dx / len,
            uy: dy / len,
            len,
            m,
            sq: (1.0 + m * m).sqrt(),
        }
    }

    /// Tip Z of the contact with the segment (its ends included), `-inf` when out of reach.
    #[inline]
    pub fn drop_at<P: Profile>(&self, prof: &P, x: f64, y: f64) -> f64 {
        self.drop_above(prof, x, y, f64::NEG_INFINITY)
    }

    /// [`Edge::drop_at`] where it is above `floor`; otherwise some value `<= floor`.
    #[inline]
    pub fn drop_above<P: Profile>(&self, prof: &P, x: f64, y: f64, floor: f64) -> f64 {
        let rr = prof.radius();
        if self.len == 0.0 {
            return vertex_z(prof, x, y, self.top);
        }
        let (wx, wy) = (x - self.p[0], y - self.p[1]);
        let d = wx * self.uy - wy * self.ux;
        let d2 = d * d;
        if d2 > rr * rr {
            return f64::NEG_INFINITY;
        }
        let u0 = wx * self.ux + wy * self.uy;
        let s = (rr * rr - d2).sqrt();
        let lo = (u0 - s).max(0.0);
        let hi = (u0 + s).min(self.len);
        if lo > hi || self.p[2] + self.m * if self.m > 0.0 { hi } else { lo } <= floor {
            return f64::NEG_INFINITY;
        }
        prof.edge_max(self.p[2], self.m, self.sq, u0, d2, s, lo, hi, floor)
    }
}

#[inline]
fn vertex_z<P: Profile>(prof: &P, x: f64, y: f64, v: [f64; 3]) -> f64 {
    let rr = prof.radius();
    let d2 = (v[0] - x) * (v[0] - x) + (v[1] - y) * (v[1] - y);
    if d2 > rr * rr {
        f64::NEG_INFINITY
    } else {
        v[2] - prof.height(d2.sqrt())
    }
}

/// A triangle ready for repeated drops: facet and edge constants, highest vertex Z.
#[derive(Clone, Copy, Debug)]
pub struct PreparedTriangle {
    pub facet: Facet,
    pub edges: [Edge; 3],
    /// No contact with this triangle can put the tip above this.
    pub zmax: f64,
}

impl PreparedTriangle {
    #[inline]
    pub fn new<P: Profile>(p: &P, t: &[[f64; 3]; 3]) -> Self {
        PreparedTriangle {
            facet: Facet::new(p, t),
            edges: [
                Edge::new(t[0], t[1]),
                Edge::new(t[1], t[2]),
                Edge::new(t[2], t[0]),
            ],
            zmax: t[0][2].max(t[1][2]).max(t[2][2]),
        }
    }

    /// Lowest tip Z touching no point of the triangle, `-inf` when the cutter is not over it.
    #[inline]
    pub fn drop_at<P: Profile>(&self, p: &P, x: f64, y: f64) -> f64 {
        self.drop_above(p, x, y, f64::NEG_INFINITY)
    }

    /// [`PreparedTriangle::drop_at`] where it is above `floor` (the Z already reached from
    /// other triangles); otherwise some value `<= floor`, found with less work: edges whose
    /// highest point under the cutter is not above the floor are not solved.
    #[inline]
    pub fn drop_above<P: Profile>(&self, p: &P, x: f64, y: f64, floor: f64) -> f64 {
        if self.facet.ok {
            // The facet formula is the maximum over the whole plane: a bound for the triangle.
            let z = self.facet.plane_at(x, y);
            if z <= floor {
                return f64::NEG_INFINITY;
            }
            // Inside, it is the maximum of a concave function over the triangle: nothing beats it.
            let (l1, l2) = self.facet.bary(x, y);
            let l0 = 1.0 - l1 - l2;
            if l0 >= 0.0 && l1 >= 0.0 && l2 >= 0.0 {
                return z;
            }
            // Outside, the maximum over the triangle is on an edge whose line separates the
            // plane's maximum from the triangle (negative barycentric coordinate of the opposite
            // vertex): from a point of any other edge, the way to the plane's maximum enters the
            // triangle and does not descend.
            let mut best = floor;
            if l2 < 0.0 {
                best = best.max(self.edges[0].drop_above(p, x, y, best));
            }
            if l0 < 0.0 {
                best = best.max(self.edges[1].drop_above(p, x, y, best));
            }
            if l1 < 0.0 {
                best = best.max(self.edges[2].drop_above(p, x, y, best));
            }
            return if best > floor {
                best
            } else {
                f64::NEG_INFINITY
            };
        }
        let mut best = floor;
        for e in &self.edges {
            best = best.max(e.drop_above(p, x, y, best));
        }
        if best > floor {
            best
        } else {
            f64::NEG_INFINITY
        }
    }
}

fn some(z: f64) -> Option<f64> {
    (z > f64::NEG_INFINITY).then_some(z)
}

/// Tip Z at which the cutter at `(x, y)` touches vertex `v`, if it is within the cutter's radius.
pub fn vertex_drop(cutter: &Cutter, x: f64, y: f64, v: [f64; 3]) -> Option<f64> {
    with_profile!(Shape::of(cutter), p => some(vertex_z(&p, x, y, v)))
}

/// Tip Z of the contact with the interior of facet `t` (the plane's tangent point inside the
/// triangle), if there is one.
pub fn facet_drop(cutter: &Cutter, x: f64, y: f64, t: &[[f64; 3]; 3]) -> Option<f64> {
    with_profile!(Shape::of(cutter), p => Facet::new(&p, t).drop_at(x, y))
}

/// Tip Z of the highest contact with segment `p`-`q` (its ends included), if the cutter reaches it.
pub fn edge_drop(cutter: &Cutter, x: f64, y: f64, p: [f64; 3], q: [f64; 3]) -> Option<f64> {
    with_profile!(Shape::of(cutter), prof => some(Edge::new(p, q).drop_at(&prof, x, y)))
}

/// Lowest tip Z at which the cutter at `(x, y)` touches none of triangle `t` (facet, edges,
/// vertices), `None` when no part of it is under the cutter.
pub fn triangle_drop(cutter: &Cutter, x: f64, y: f64, t: &[[f64; 3]; 3]) -> Option<f64> {
    with_profile!(Shape::of(cutter), p => some(PreparedTriangle::new(&p, t).drop_at(&p, x, y)))
}
