//! Waterline finishing of steep areas: a ball end mill follows level lines of its cutter-location
//! surface (each at one Z, the ball touching the design all along), where the surface is too
//! steep across a parallel raster's lines for the raster to hold its scallop target.
//!
//! A raster at stepover `s` leaves its passes further apart on a slope across them: on a surface
//! of gradient `g`, `s * sqrt((1 + |g|^2) / (1 + g_along^2))` along the surface. A level line `dz`
//! above the last lies `dz / sin(slope)` from it along the surface. So where the raster's passes
//! would spread by more than `1 / cos(steep_deg)` the level lines take over, spaced so that the
//! surface distance between two of them is at most the stepover on the steeper three quarters of
//! each level's steep length; the raster keeps the rest (`FinishParams::steep_across_deg` trims
//! its lines' ends there, with some overlap).
//!
//! The lines come from the CL surface sampled on a grid (`crate::contour::iso_lines`); each point
//! is then found exactly on its grid edge by bisection with the exact drop-cutter and moved a few
//! micrometres off the part (room for the program's simplification), and each chord between two
//! points is checked at its middle and split where it would cut the design. Steep stretches of a
//! level line closer than `bridge` are cut as one. They run clockwise round the part (the part on
//! the tool's right: climb milling with an M3 spindle) unless conventional milling is asked for.

use rayon::prelude::*;

use super::{ClSurface, Rect, StrategyError, check_positive};
use crate::contour::{self, Crossing, Field};
use crate::path::Tool;

/// Settings of waterline finishing.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct WaterlineParams {
    pub tool: Tool,
    /// Largest distance along the surface between two level lines, mm.
    pub stepover: f64,
    /// Slope from which an area is steep (finished by level lines), degrees.
    pub steep_deg: f64,
    /// Spacing of the CL grid the lines are traced on, mm.
    pub grid: f64,
    /// Shortest piece of a level line worth cutting, mm.
    pub min_length: f64,
    /// How far a piece runs on into the shallow area at each end, mm.
    pub overlap: f64,
    /// Pieces of one level line closer than this along it are cut as one, mm.
    pub bridge: f64,
    /// How far a chord may pass inside the CL surface (cut into the design), mm.
    pub gouge_tolerance: f64,
    /// How far each point is moved off the part, across the level line, mm: room for the
    /// program's simplification (collinear points dropped within its chord tolerance, 0.005 mm)
    /// twice over, on walls, where a hair sideways is a lot in Z.
    pub clearance: f64,
    pub climb: bool,
    /// Direction of the parallel raster that finishes the rest, degrees from +X: steepness is
    /// then the slope across its lines (a slope along them it finishes well). `None`: the whole
    /// slope.
    pub raster_angle_deg: Option<f64>,
}

impl WaterlineParams {
    pub fn new(tool: Tool, stepover: f64) -> Self {
        WaterlineParams {
            tool,
            stepover,
            steep_deg: 40.0,
            grid: 0.4,
            min_length: 5.0,
            overlap: 1.0,
            bridge: 10.0,
            gouge_tolerance: 0.002,
            clearance: 0.012,
            climb: true,
            raster_angle_deg: None,
        }
    }

    fn validate(&self) -> Result<(), StrategyError> {
        check_positive("waterline stepover", self.stepover, 100.0)?;
        check_positive("waterline steep angle", self.steep_deg, 89.0)?;
        check_positive("waterline grid", self.grid, 10.0)?;
        check_positive("waterline gouge tolerance", self.gouge_tolerance, 1.0)?;
        check_positive("waterline clearance", self.clearance, 1.0)?;
        if !(self.min_length.is_finite() && self.min_length >= 0.0)
            || !(self.overlap.is_finite() && self.overlap >= 0.0)
        {
            return Err(StrategyError::Parameter {
                what: "waterline piece length",
                expected: "zero or more mm",
                found: self.min_length.min(self.overlap),
            });
        }
        Ok(())
    }
}

/// Largest CL grid a waterline computes (points).
const MAX_GRID: usize = super::finish::MAX_GRID_POINTS;

/// The level lines over `area` from just above `z_lo` up to `z_hi`, top level first: each a
/// polyline of tool-tip points at one Z (a closed loop ends where it began).
pub fn waterline(
    surface: &dyn ClSurface,
    area: Rect,
    z_lo: f64,
    z_hi: f64,
    p: &WaterlineParams,
) -> Result<Vec<Vec<[f64; 3]>>, StrategyError> {
    p.validate()?;
    let g = p.grid;
    let area = area.grown(2.0 * g);
    // counted in floating point, so that no size overflows before it is checked
    let (nx_f, ny_f) = (
        (area.width() / g).ceil() + 1.0,
        (area.height() / g).ceil() + 1.0,
    );
    if (nx_f * ny_f).is_nan() || nx_f * ny_f > MAX_GRID as f64 {
        return Err(StrategyError::TooLarge {
            what: "waterline CL grid",
            needed: (nx_f * ny_f).min(usize::MAX as f64) as usize,
            limit: MAX_GRID,
        });
    }
    let (nx, ny) = (nx_f as usize, ny_f as usize);
    super::check_levels(
        "waterline levels (height / stepover at the steep angle)",
        z_hi - z_lo,
        p.stepover * p.steep_deg.to_radians().sin(),
    )?;
    let cl = surface.grid(area.xmin, area.ymin, g, nx, ny);
    let field = Field {
        x0: area.xmin,
        y0: area.ymin,
        step: g,
        nx,
        ny,
        v: &cl,
    };
    let sin_min = p.steep_deg.to_radians().sin();
    // the direction across the raster's lines (all directions when there is no raster)
    let along = p.raster_angle_deg.map(|a| {
        let a = a.to_radians();
        [a.cos(), a.sin()]
    });
    let spread_steep = 1.0 / p.steep_deg.to_radians().cos();
    let mut levels: Vec<Vec<Vec<[f64; 3]>>> = Vec::new();
    let mut z = z_lo + 0.01;
    while z <= z_hi {
        let mut pieces = Vec::new();
        let mut sins: Vec<f64> = Vec::new();
        for lp in contour::iso_lines(&field, z) {
            // steep for the raster: where its lines lie more than 1 / cos(steep) times their
            // stepover apart along the surface; spaced by the whole slope
            let grads: Vec<[f64; 2]> = lp.iter().map(|c| edge_gradient(&field, c)).collect();
            let spread: Vec<f64> = grads
                .iter()
                .map(|g| {
                    let all = g[0] * g[0] + g[1] * g[1];
                    let along = along.map_or(0.0, |d| g[0] * d[0] + g[1] * d[1]);
                    ((1.0 + all) / (1.0 + along * along)).sqrt()
                })
                .collect();
            for (g, &s) in grads.iter().zip(&spread) {
                if s >= spread_steep {
                    let t = g[0].hypot(g[1]);
                    sins.push(t / (1.0 + t * t).sqrt());
                }
            }
            pieces.extend(steep_pieces(&lp, &spread, spread_steep, p));
        }
        let refined: Vec<Vec<[f64; 3]>> = pieces
            .par_iter()
            .map(|(pts, closed)| {
                let exact: Vec<[f64; 2]> = pts
                    .iter()
                    .map(|c| {
                        let q = on_level(surface, &field, c, z);
                        let d = downhill(&field, c);
                        [q[0] + d[0] * p.clearance, q[1] + d[1] * p.clearance]
                    })
                    .collect();
                let mut out = chords(surface, &exact, *closed, z, p);
                if p.climb {
                    out.reverse();
                }
                out.into_iter().map(|q| [q[0], q[1], z]).collect()
            })
            .filter(|v: &Vec<[f64; 3]>| v.len() >= 2)
            .collect();
        if !refined.is_empty() {
            levels.push(refined);
        }
        // the next level where the surface distance to this one is the stepover at the level's
        // lower-quartile slope (steeper three quarters: at most the stepover); a level with
        // nothing steep steps as if at the steep angle, so no steep band starts unseen between
        sins.sort_by(f64::total_cmp);
        let sin_q = sins.get(sins.len() / 4).copied().unwrap_or(sin_min);
        z += p.stepover * sin_q.max(sin_min);
    }
    levels.reverse();
    Ok(in_order(levels))
}

/// The pieces of each level in cutting order: from the end of the last, the piece starting
/// nearest next, a closed loop started at its point nearest (so the step down to the next
/// level is short and, where clear, cut straight).
fn in_order(levels: Vec<Vec<Vec<[f64; 3]>>>) -> Vec<Vec<[f64; 3]>> {
    let d2 = |a: [f64; 3], b: [f64; 3]| (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2);
    let mut out: Vec<Vec<[f64; 3]>> = Vec::new();
    for mut level in levels {
        while !level.is_empty() {
            let Some(here) = out.last().and_then(|p| p.last().copied()) else {
                out.push(level.remove(0));
                continue;
            };
            // (piece, start index, distance)
            let (k, s, _) = level
                .iter()
                .enumerate()
                .map(|(k, p)| {
                    let closed = p.len() > 2 && p[0] == p[p.len() - 1];
                    if closed {
                        let (s, d) = p[..p.len() - 1]
                            .iter()
                            .enumerate()
                            .map(|(s, &q)| (s, d2(q, here)))
                            .min_by(|a, b| a.1.total_cmp(&b.1))
                            .unwrap();
                        (k, s, d)
                    } else {
                        (k, 0, d2(p[0], here))
                    }
                })
                .min_by(|a, b| a.2.total_cmp(&b.2))
                .unwrap();
            let mut piece = level.swap_remove(k);
            if s > 0 {
                piece.pop();
                piece.rotate_left(s);
                piece.push(piece[0]);
            }
            out.push(piece);
        }
    }
    out
}

/// The unit direction down the CL surface at a crossing (from its node on or above the level to
/// the one below when the grid's gradient says nothing).
fn downhill(f: &Field, c: &Crossing) -> [f64; 2] {
    let v = |i: isize, j: isize| f.at(i, j);
    let [i, j] = c.above;
    let d = |a: f64, b: f64| {
        if a.is_finite() && b.is_finite() {
            a - b
        } else {
            0.0
        }
    };
    let gx = d(v(i + 1, j), v(i - 1, j));
    let gy = d(v(i, j + 1), v(i, j - 1));
    let n = gx.hypot(gy);
    if n > 1e-12 {
        [-gx / n, -gy / n]
    } else {
        let (dx, dy) = (
            (c.below[0] - c.above[0]) as f64,
            (c.below[1] - c.above[1]) as f64,
        );
        let n = dx.hypot(dy).max(1e-12);
        [dx / n, dy / n]
    }
}

/// Gradient of the CL surface at a crossing: of the steeper of its two nodes, or across the
/// edge where the surface jumps between them (a wall between two nodes).
fn edge_gradient(f: &Field, c: &Crossing) -> [f64; 2] {
    let grad = |[i, j]: [isize; 2]| -> [f64; 2] {
        let v = f.at(i, j);
        if !v.is_finite() {
            return [0.0, 0.0];
        }
        let one = |lo: f64, hi: f64| {
            if lo.is_finite() && hi.is_finite() {
                (hi - lo) / (2.0 * f.step)
            } else if hi.is_finite() {
                (hi - v) / f.step
            } else if lo.is_finite() {
                (v - lo) / f.step
            } else {
                0.0
            }
        };
        [
            one(f.at(i - 1, j), f.at(i + 1, j)),
            one(f.at(i, j - 1), f.at(i, j + 1)),
        ]
    };
    let (ga, gb) = (grad(c.above), grad(c.below));
    let mut g = if ga[0].hypot(ga[1]) >= gb[0].hypot(gb[1]) {
        ga
    } else {
        gb
    };
    let (a, b) = (f.at(c.above[0], c.above[1]), f.at(c.below[0], c.below[1]));
    if a.is_finite() && b.is_finite() {
        let jump = (a - b) / f.step;
        if jump > g[0].hypot(g[1]) {
            let (di, dj) = (
                (c.above[0] - c.below[0]) as f64,
                (c.above[1] - c.below[1]) as f64,
            );
            g = [di * jump, dj * jump];
        }
    }
    g
}

/// The steep stretches of a level line: runs of crossings whose spread is at least `steep`, each run
/// on `overlap` into the shallow part at both ends, runs less than `bridge` apart joined (cutting
/// on along the line beats lifting over to the next), runs shorter than `min_length` dropped;
/// the whole loop when that leaves nothing out. Each with whether it is closed.
fn steep_pieces(
    lp: &[Crossing],
    spread: &[f64],
    steep: f64,
    p: &WaterlineParams,
) -> Vec<(Vec<Crossing>, bool)> {
    let n = lp.len();
    let seg = |k: usize| {
        let (u, v) = (lp[k % n].at, lp[(k + 1) % n].at);
        (u[0] - v[0]).hypot(u[1] - v[1])
    };
    let steep: Vec<bool> = spread.iter().map(|&s| s >= steep).collect();
    if !steep.iter().any(|&s| s) {
        return Vec::new();
    }
    // marked: steep, or within `overlap` of a steep crossing along the line
    let mut mark = steep.clone();
    for k in 0..n {
        if !steep[k] {
            continue;
        }
        let mut d = 0.0;
        let mut j = k;
        while d < p.overlap && j < k + n {
            d += seg(j);
            j += 1;
            mark[j % n] = true;
        }
        let (mut d, mut j) = (0.0, k + n);
        while d < p.overlap && j > k {
            j -= 1;
            d += seg(j);
            mark[j % n] = true;
        }
    }
    // runs of (un)marked crossings, cyclically, starting after an unmarked one
    let runs = |mark: &[bool]| -> Vec<(usize, usize, bool)> {
        let Some(s0) = (0..n).find(|&k| mark[k] != mark[(k + n - 1) % n]) else {
            return vec![(0, n, mark[0])];
        };
        let mut out = Vec::new();
        let mut k = 0;
        while k < n {
            let v = mark[(s0 + k) % n];
            let a = k;
            while k < n && mark[(s0 + k) % n] == v {
                k += 1;
            }
            out.push((s0 + a, s0 + k, v));
        }
        out
    };
    let len_of = |a: usize, b: usize| (a..b).map(seg).sum::<f64>();
    for (a, b, v) in runs(&mark) {
        // the gap's length from the last marked crossing before it to the first after it
        if !v && len_of(a.saturating_sub(1).max(a) - 1 + 1, b) + seg(a + n - 1) < p.bridge {
            for k in a..b {
                mark[k % n] = true;
            }
        }
    }
    if mark.iter().all(|&m| m) {
        return if len_of(0, n) >= p.min_length {
            vec![(lp.to_vec(), true)]
        } else {
            Vec::new()
        };
    }
    runs(&mark)
        .into_iter()
        .filter(|&(a, b, v)| v && len_of(a, b - 1) >= p.min_length)
        .map(|(a, b, _)| ((a..b).map(|k| lp[k % n]).collect(), false))
        .collect()
}

fn cl(surface: &dyn ClSurface, x: f64, y: f64) -> f64 {
    surface.point(x, y).unwrap_or(f64::NEG_INFINITY)
}

/// The point where the exact CL surface crosses `z` on the crossing's grid edge (bisection
/// between its node at or above `z` and its node below).
fn on_level(surface: &dyn ClSurface, f: &Field, c: &Crossing, z: f64) -> [f64; 2] {
    let a = f.node(c.above[0], c.above[1]);
    let b = f.node(c.below[0], c.below[1]);
    bisect(surface, a, b, z)
}

/// Bisection on the segment `a` (CL >= z) .. `b` (CL < z) for the point where CL = z.
fn bisect(surface: &dyn ClSurface, a: [f64; 2], b: [f64; 2], z: f64) -> [f64; 2] {
    let (mut a, mut b) = (a, b);
    for _ in 0..7 {
        let m = [(a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0];
        if cl(surface, m[0], m[1]) >= z {
            a = m;
        } else {
            b = m;
        }
    }
    // the point on the part's side of the bracket keeps the ball clear of the design by at most
    // the bracket's length; the other side could touch it
    b
}

/// The polyline through `pts` at level `z` with every chord checked at its middle: where the
/// middle's CL is above `z` by more than the gouge tolerance (the chord would cut the design), a
/// point on the level line there is put in. (Chords between points a grid step apart leave at
/// most their sagitta outside the line: under a thousandth of a millimetre on the curves of a
/// foot.)
fn chords(
    surface: &dyn ClSurface,
    pts: &[[f64; 2]],
    closed: bool,
    z: f64,
    p: &WaterlineParams,
) -> Vec<[f64; 2]> {
    let mut out = Vec::with_capacity(pts.len() + 8);
    out.push(pts[0]);
    let n = pts.len();
    let last = if closed { n } else { n - 1 };
    for k in 0..last {
        let (a, b) = (pts[k], pts[(k + 1) % n]);
        split(surface, a, b, z, p, 0, &mut out);
    }
    out
}

fn split(
    surface: &dyn ClSurface,
    a: [f64; 2],
    b: [f64; 2],
    z: f64,
    p: &WaterlineParams,
    depth: u32,
    out: &mut Vec<[f64; 2]>,
) {
    let m = [(a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0];
    let zm = cl(surface, m[0], m[1]);
    let len = (b[0] - a[0]).hypot(b[1] - a[1]);
    if depth >= 6 || len < 0.01 || zm - z <= p.gouge_tolerance {
        out.push(b);
        return;
    }
    // the chord cuts into the part: put in the level line's point beside its middle, found on
    // the right of a -> b (the region CL >= z is on the left)
    let (ux, uy) = ((b[0] - a[0]) / len, (b[1] - a[1]) / len);
    let reach = p.grid.max(len);
    let o = [m[0] + uy * reach, m[1] - ux * reach];
    if cl(surface, o[0], o[1]) >= z {
        out.push(b);
        return;
    }
    let q = bisect(surface, m, o, z);
    split(surface, a, q, z, p, depth + 1, out);
    split(surface, q, b, z, p, depth + 1, out);
}
