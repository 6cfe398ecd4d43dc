//! Finishing: a parallel raster (zig-zag) of a ball end mill over the design, at a stepover
//! chosen from a scallop-height target, at a settable angle, with an optional cross pass.
//!
//! Each raster line follows the exact drop-cutter CL surface, sampled on a grid (one call, all
//! lines at once), and is then refined: the straight move between two CL points is checked at
//! its midpoint (a second grid, shifted half a step, gives every midpoint in one call) and split
//! where it would cut into the design or leave more than the tolerance; where the CL surface
//! jumps (the ball leaving a wall's edge) the split stops at `min_segment` and the move goes over
//! the jump (up, across, down) instead of through it.

use rayon::prelude::*;

use super::{ClSurface, Rect, Rot2, StrategyError, check_positive};
use crate::link::Linker;
use crate::path::{Move, Operation, Tool};

/// Largest CL grid a finishing pass computes (points).
pub const MAX_GRID_POINTS: usize = 40_000_000;

/// Settings of the finishing raster.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FinishParams {
    pub tool: Tool,
    /// Distance between raster lines, mm.
    pub stepover: f64,
    /// Raster direction, degrees counter-clockwise from the machine's +X.
    pub angle_deg: f64,
    /// Add a second raster at `angle_deg + 90`.
    pub cross_pass: bool,
    /// Largest distance between CL samples along a line, mm.
    pub max_sample: f64,
    /// How far a straight move may pass below the CL surface (cut into the design), mm.
    pub gouge_tolerance: f64,
    /// How far a straight move may pass above the CL surface (leave material), mm.
    pub leave_tolerance: f64,
    /// Shortest move refinement produces; shorter jumps are gone over, not through, mm.
    pub min_segment: f64,
    /// Each raster line only where the ball meets the design above the floor (plus one sample
    /// at each end), not across the whole area.
    pub trim: bool,
    /// With `trim`, also trim each line's ends where the surface is steeper than this across
    /// the lines (degrees; a line steep all along is left out): for areas finished by level
    /// lines (`waterline`) instead.
    pub steep_across_deg: Option<f64>,
    /// With `trim`, each line only where the ball meets the design, cut into pieces where it
    /// leaves it, and lines joined only where the join stays on the design: the ball never
    /// goes down to the floor between (for a part with nothing to finish round it, whose outer
    /// walls the cut-out takes: an orthosis milled directly). Without, a line goes one sample
    /// beyond each end and across any gap at the floor.
    pub pieces_on_design: bool,
    pub feed: f64,
    pub plunge_feed: f64,
    pub spindle_rpm: f64,
}

impl FinishParams {
    /// Default finishing with `tool` at `stepover` mm.
    pub fn new(tool: Tool, stepover: f64) -> Self {
        FinishParams {
            tool,
            stepover,
            angle_deg: 0.0,
            cross_pass: false,
            max_sample: 0.5,
            gouge_tolerance: 0.002,
            leave_tolerance: 0.005,
            min_segment: 0.02,
            trim: false,
            steep_across_deg: None,
            pieces_on_design: false,
            feed: 3000.0,
            plunge_feed: 600.0,
            spindle_rpm: 18000.0,
        }
    }

    /// Stepover that leaves scallops of height `scallop` between passes of a ball of radius
    /// `radius` on a flat surface: `2 sqrt(2 r h - h^2)`.
    pub fn stepover_for_scallop(radius: f64, scallop: f64) -> f64 {
        let h = scallop.min(radius);
        2.0 * (2.0 * radius * h - h * h).sqrt()
    }

    /// Scallop height left on a flat surface by this stepover.
    pub fn scallop_height(radius: f64, stepover: f64) -> f64 {
        let half = (stepover / 2.0).min(radius);
        radius - (radius * radius - half * half).sqrt()
    }

    fn validate(&self) -> Result<(), StrategyError> {
        check_positive("finishing stepover", self.stepover, 1000.0)?;
        check_positive("finishing sample spacing", self.max_sample, 100.0)?;
        check_positive("finishing gouge tolerance", self.gouge_tolerance, 1.0)?;
        check_positive("finishing leave tolerance", self.leave_tolerance, 1.0)?;
        check_positive("finishing minimum segment", self.min_segment, 10.0)?;
        super::check_feed("finishing feed", self.feed)?;
        super::check_feed("finishing plunge feed", self.plunge_feed)?;
        if !self.angle_deg.is_finite() {
            return Err(StrategyError::Parameter {
                what: "raster angle",
                expected: "a finite number of degrees",
                found: self.angle_deg,
            });
        }
        Ok(())
    }
}

/// One raster pass over `area` (machine frame), as polylines of tool-tip points in the machine
/// frame: one, unless trimmed lines end too far apart to be joined along the surface. `surface` is the CL surface of the finishing tool seen in the raster frame
/// (the machine frame turned by `-angle_deg`, see `DropSurface::new`). Where the cutter is over
/// no triangle, or its CL is below `floor_z`, the tip stays at `floor_z`.
pub fn finish_pass(
    surface: &dyn ClSurface,
    angle_deg: f64,
    area: Rect,
    floor_z: f64,
    p: &FinishParams,
) -> Result<Vec<Vec<[f64; 3]>>, StrategyError> {
    p.validate()?;
    let rot = Rot2::new(angle_deg.to_radians());
    let poly = area.corners().map(|[x, y]| {
        let (a, b) = rot.inverse(x, y);
        [a, b]
    });
    let (mut amin, mut amax, mut bmin, mut bmax) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for [a, b] in poly {
        amin = amin.min(a);
        amax = amax.max(a);
        bmin = bmin.min(b);
        bmax = bmax.max(b);
    }
    if ![amin, amax, bmin, bmax].iter().all(|v| v.is_finite()) {
        return Err(StrategyError::Parameter {
            what: "finishing area",
            expected: "finite bounds in mm",
            found: amax - amin + bmax - bmin,
        });
    }
    // the grid's size, counted in floating point and checked before anything is allocated
    let kf = (p.stepover / p.max_sample).ceil().max(1.0);
    let g = p.stepover / kf;
    let nrows_f = ((bmax - bmin) / p.stepover + 1e-9).floor() + 1.0;
    let nx_f = ((amax - amin) / g).ceil() + 1.0;
    let ny_f = (nrows_f - 1.0) * kf + 1.0;
    let needed_f = nx_f * ny_f * 2.0;
    if needed_f.is_nan() || needed_f > MAX_GRID_POINTS as f64 {
        return Err(StrategyError::TooLarge {
            what: "finishing CL grid",
            needed: needed_f.min(usize::MAX as f64) as usize,
            limit: MAX_GRID_POINTS,
        });
    }
    let (k, nrows, nx) = (kf as usize, nrows_f as usize, nx_f as usize);
    let ny = (nrows - 1) * k + 1;
    let mut rows: Vec<(f64, Option<usize>)> = (0..nrows)
        .map(|j| (bmin + j as f64 * p.stepover, Some(j * k)))
        .collect();
    if bmax - rows[nrows - 1].0 > 1e-6 {
        rows.push((bmax, None));
    }
    let main = surface.grid(amin, bmin, g, nx, ny);
    let mids = surface.grid(amin + g / 2.0, bmin, g, nx - 1, ny);
    let ctx = Ctx {
        surface,
        floor_z,
        p,
    };

    let lines: Vec<Vec<Vec<[f64; 3]>>> = rows
        .par_iter()
        .map(|&(b, jg)| {
            let Some((a0, a1)) = clip_line(&poly, b) else {
                return Vec::new();
            };
            // CL samples along the line: the exact ends, the grid points strictly between
            let mut pts: Vec<([f64; 3], Option<usize>)> = Vec::new();
            pts.push(([a0, b, ctx.cl(a0, b)], None));
            let i0 = ((a0 - amin) / g).floor() as isize + 1;
            let i1 = ((a1 - amin) / g).ceil() as isize - 1;
            for i in i0.max(0)..=i1.min(nx as isize - 1) {
                let i = i as usize;
                let a = amin + i as f64 * g;
                if a <= a0 + 1e-9 || a >= a1 - 1e-9 {
                    continue;
                }
                let z = match jg {
                    Some(j) => ctx.clamp(main[j * nx + i]),
                    None => ctx.cl(a, b),
                };
                pts.push(([a, b, z], Some(i)));
            }
            pts.push(([a1, b, ctx.cl(a1, b)], None));
            if p.trim {
                // steeper across the lines than `steep_across_deg` (left to level lines): the
                // spread of two neighbouring lines along the surface, from the grid
                let spread_max = p
                    .steep_across_deg
                    .map_or(f64::INFINITY, |a| 1.0 / a.to_radians().cos());
                let steep = |i: usize| -> bool {
                    let Some(j) = jg else { return false };
                    if i == 0 || i + 1 >= nx || j == 0 || j + 1 >= ny {
                        return false;
                    }
                    let v = |ii: usize, jj: usize| {
                        let z = main[jj * nx + ii];
                        (z.is_finite() && z > floor_z).then_some(z)
                    };
                    let Some(c) = v(i, j) else { return false };
                    // central differences, one-sided beside the floor
                    let d = |lo: Option<f64>, hi: Option<f64>| match (lo, hi) {
                        (Some(a), Some(b)) => (b - a) / (2.0 * g),
                        (Some(a), None) => (c - a) / g,
                        (None, Some(b)) => (b - c) / g,
                        (None, None) => 0.0,
                    };
                    let gx = d(v(i - 1, j), v(i + 1, j));
                    let gy = d(v(i, j - 1), v(i, j + 1));
                    ((1.0 + gx * gx + gy * gy) / (1.0 + gx * gx)).sqrt() >= spread_max
                };
                let on = |q: &([f64; 3], Option<usize>)| {
                    q.0[2] > floor_z + 1e-9 && !q.1.is_some_and(steep)
                };
                if p.pieces_on_design {
                    // each run of samples on the design, a piece
                    let mut runs = Vec::new();
                    let mut k = 0;
                    while k < pts.len() {
                        if !on(&pts[k]) {
                            k += 1;
                            continue;
                        }
                        let start = k;
                        while k < pts.len() && on(&pts[k]) {
                            k += 1;
                        }
                        runs.push(ctx.refined(&pts[start..k], jg, &mids, nx));
                    }
                    return runs;
                }
                let (Some(k0), Some(k1)) = (pts.iter().position(on), pts.iter().rposition(on))
                else {
                    return Vec::new();
                };
                let (k0, k1) = (k0.saturating_sub(1), (k1 + 1).min(pts.len() - 1));
                pts.truncate(k1 + 1);
                pts.drain(..k0);
            }
            vec![ctx.refined(&pts, jg, &mids, nx)]
        })
        .collect();

    // zig-zag: every other line reversed, joined by refined connecting moves where the next
    // line starts within two stepovers; farther (lines trimmed to the part, whose ends wander
    // along a steep side) a new piece begins, for the linker to lift over
    let mut pieces: Vec<Vec<[f64; 3]>> = Vec::new();
    let mut flip = false;
    let join = 2.0 * p.stepover + 1e-6;
    for mut row in lines.into_iter().filter(|l| !l.is_empty()) {
        if flip {
            row.reverse();
            for line in &mut row {
                line.reverse();
            }
        }
        flip = !flip;
        for (n, line) in row.into_iter().enumerate() {
            // a row's pieces are apart: each begins anew
            let Some(path) = pieces.last_mut().filter(|path| {
                n == 0
                    && (path[path.len() - 1][0] - line[0][0])
                        .hypot(path[path.len() - 1][1] - line[0][1])
                        <= join
            }) else {
                pieces.push(line);
                continue;
            };
            let last = path[path.len() - 1];
            let mut joint = Vec::new();
            ctx.refine(last, line[0], None, 0, &mut joint);
            if p.pieces_on_design && joint.iter().any(|q| q[2] <= floor_z + 1e-9) {
                pieces.push(line);
                continue;
            }
            path.extend_from_slice(&joint);
            path.extend_from_slice(&line[1..]);
        }
    }
    if pieces.is_empty() {
        return Err(StrategyError::NothingToCut("finishing"));
    }
    for q in pieces.iter_mut().flatten() {
        let (x, y) = rot.apply(q[0], q[1]);
        q[0] = x;
        q[1] = y;
    }
    Ok(pieces)
}

/// The finishing operation: each pass entered from the clearance plane, passes joined by a
/// straight cut where that is short (at most [`DIRECT_LINK`] across) and clear of the design all
/// along, else linked as low as the design allows. `cl(x, y)` is the finishing tool's CL surface
/// (`None` where it is over nothing).
pub fn finish(
    passes: &[Vec<[f64; 3]>],
    p: &FinishParams,
    linker: &Linker,
    cl: &dyn Fn(f64, f64) -> Option<f64>,
) -> Operation {
    let mut moves = Vec::new();
    let mut at: Option<[f64; 3]> = None;
    for pass in passes.iter().filter(|p| !p.is_empty()) {
        let to = pass[0];
        match at {
            None => linker.enter(to, &mut moves),
            Some(from) if direct(from, to, cl) => moves.push(Move::Feed { to, feed: p.feed }),
            Some(from) => linker.link(from, to, highest(from, to, cl), &mut moves),
        }
        moves.extend(pass[1..].iter().map(|&to| Move::Feed { to, feed: p.feed }));
        at = pass.last().copied();
    }
    if let Some(from) = at {
        linker.exit(from, &mut moves);
    }
    Operation {
        name: "finishing".into(),
        tool: p.tool,
        spindle_rpm: p.spindle_rpm,
        moves,
    }
}

/// Longest join of two passes cut straight (XY), mm.
pub const DIRECT_LINK: f64 = 5.0;

/// Samples along a join or link, mm apart.
const LINK_SAMPLE: f64 = 0.1;

/// Whether the straight move `a` -> `b` is short and stays on or above the CL surface all along
/// (sampled every [`LINK_SAMPLE`]).
fn direct(a: [f64; 3], b: [f64; 3], cl: &dyn Fn(f64, f64) -> Option<f64>) -> bool {
    let len = (b[0] - a[0]).hypot(b[1] - a[1]);
    if len > DIRECT_LINK {
        return false;
    }
    let n = (len / LINK_SAMPLE).ceil().max(1.0) as usize;
    (0..=n).all(|k| {
        let t = k as f64 / n as f64;
        let z = a[2] + t * (b[2] - a[2]);
        cl(a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])).is_none_or(|c| c <= z)
    })
}

/// The highest CL along the straight XY line `a` -> `b` (what a link must clear).
fn highest(a: [f64; 3], b: [f64; 3], cl: &dyn Fn(f64, f64) -> Option<f64>) -> f64 {
    let len = (b[0] - a[0]).hypot(b[1] - a[1]);
    let n = (len / (5.0 * LINK_SAMPLE)).ceil().max(1.0) as usize;
    (0..=n)
        .filter_map(|k| {
            let t = k as f64 / n as f64;
            cl(a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]))
        })
        .fold(f64::NEG_INFINITY, f64::max)
}

/// Slope (dz per mm) above which a move's quarter points are checked too.
const STEEP: f64 = 0.5;

struct Ctx<'a> {
    surface: &'a dyn ClSurface,
    floor_z: f64,
    p: &'a FinishParams,
}

impl Ctx<'_> {
    #[inline]
    fn clamp(&self, z: f64) -> f64 {
        if z.is_finite() {
            z.max(self.floor_z)
        } else {
            self.floor_z
        }
    }

    fn cl(&self, x: f64, y: f64) -> f64 {
        self.clamp(self.surface.point(x, y).unwrap_or(f64::NEG_INFINITY))
    }

    /// The polyline through samples `pts` (on row `jg` of the grid, or between rows), refined
    /// between each two with the grid's midpoint where they are neighbours on it.
    fn refined(
        &self,
        pts: &[([f64; 3], Option<usize>)],
        jg: Option<usize>,
        mids: &[f64],
        nx: usize,
    ) -> Vec<[f64; 3]> {
        let mut out = Vec::with_capacity(pts.len() + pts.len() / 8);
        out.push(pts[0].0);
        for w in pts.windows(2) {
            let (pa, ia) = w[0];
            let (pb, ib) = w[1];
            let mid = match (jg, ia, ib) {
                (Some(j), Some(i), Some(i2)) if i2 == i + 1 => {
                    Some(self.clamp(mids[j * (nx - 1) + i]))
                }
                _ => None,
            };
            self.refine(pa, pb, mid, 0, &mut out);
        }
        out
    }

    /// Appends the points after `a` up to and including `b` so that no straight move between
    /// them passes more than the tolerances below or above the CL surface at its midpoint.
    fn refine(
        &self,
        a: [f64; 3],
        b: [f64; 3],
        mid: Option<f64>,
        depth: u32,
        out: &mut Vec<[f64; 3]>,
    ) {
        let (mx, my) = ((a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0);
        let zm = mid.unwrap_or_else(|| self.cl(mx, my));
        let zi = (a[2] + b[2]) / 2.0;
        let len = ((b[0] - a[0]).powi(2) + (b[1] - a[1]).powi(2)).sqrt();
        let ok = |zm: f64, zi: f64| {
            zm - zi <= self.p.gouge_tolerance && zi - zm <= self.p.leave_tolerance
        };
        // where the move is steep the CL may bend sharply anywhere along it (a ball rolling
        // from a wall over its rim): check every eighth too
        let steep = (b[2] - a[2]).abs() > STEEP * len;
        if ok(zm, zi)
            && (!steep
                || [0.125, 0.25, 0.375, 0.625, 0.75, 0.875].iter().all(|&t| {
                    let z = self.cl(a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]));
                    ok(z, a[2] + t * (b[2] - a[2]))
                }))
        {
            out.push(b);
            return;
        }
        if len <= self.p.min_segment || depth > 40 {
            // a jump of the CL surface: go over it, never through it
            let top = a[2].max(b[2]).max(zm);
            if a[2] < top {
                out.push([a[0], a[1], top]);
            }
            if b[2] < top {
                out.push([b[0], b[1], top]);
            }
            out.push(b);
            return;
        }
        let m = [mx, my, zm];
        self.refine(a, m, None, depth + 1, out);
        self.refine(m, b, None, depth + 1, out);
    }
}

/// Where the line `y = b` crosses the convex polygon `poly`: `(a0, a1)` with `a0 <= a1`.
fn clip_line(poly: &[[f64; 2]; 4], b: f64) -> Option<(f64, f64)> {
    let (mut lo, mut hi) = (f64::MAX, f64::MIN);
    for e in 0..4 {
        let [x0, y0] = poly[e];
        let [x1, y1] = poly[(e + 1) % 4];
        let (ylo, yhi) = (y0.min(y1), y0.max(y1));
        if b < ylo - 1e-9 || b > yhi + 1e-9 {
            continue;
        }
        if (y1 - y0).abs() < 1e-12 {
            lo = lo.min(x0.min(x1));
            hi = hi.max(x0.max(x1));
        } else {
            let t = ((b - y0) / (y1 - y0)).clamp(0.0, 1.0);
            let x = x0 + t * (x1 - x0);
            lo = lo.min(x);
            hi = hi.max(x);
        }
    }
    (lo <= hi).then_some((lo, hi))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Cutter;
    use crate::strategy::testing::DomeOnPlane;

    fn dome() -> DomeOnPlane {
        DomeOnPlane {
            r: 3.0,
            floor: -20.0,
            big: 12.0,
            cx: 25.0,
            cy: 20.0,
            rect: Rect {
                xmin: 0.0,
                ymin: 0.0,
                xmax: 50.0,
                ymax: 40.0,
            },
        }
    }

    fn params() -> FinishParams {
        FinishParams::new(
            Tool {
                number: 2,
                cutter: Cutter::Ball { diameter: 6.0 },
            },
            0.5,
        )
    }

    /// Every point of every straight move, sampled finely, is within tolerance of the CL surface
    /// from below (no gouge) and the path covers the area line by line.
    fn check_path(s: &DomeOnPlane, path: &[[f64; 3]], p: &FinishParams) -> (f64, f64) {
        let (mut worst_gouge, mut worst_leave) = (0.0f64, 0.0f64);
        for w in path.windows(2) {
            let (a, b) = (w[0], w[1]);
            let n = 16;
            for k in 0..=n {
                let t = k as f64 / n as f64;
                let x = a[0] + t * (b[0] - a[0]);
                let y = a[1] + t * (b[1] - a[1]);
                let z = a[2] + t * (b[2] - a[2]);
                let cl = s
                    .point(x, y)
                    .unwrap_or(f64::NEG_INFINITY)
                    .max(s.floor - 10.0);
                worst_gouge = worst_gouge.max(cl - z);
                if (b[0] - a[0]).hypot(b[1] - a[1]) > p.min_segment {
                    worst_leave = worst_leave.max(z - cl);
                }
            }
        }
        (worst_gouge, worst_leave)
    }

    #[test]
    fn raster_over_a_dome_never_gouges_and_follows_the_surface() {
        let s = dome();
        let p = params();
        let path = finish_pass(&s, 0.0, s.rect, s.floor - 10.0, &p)
            .unwrap()
            .concat();
        let (g, l) = check_path(&s, &path, &p);
        assert!(g <= 0.0025, "gouge {g}");
        assert!(l <= 0.02, "leave {l}");
        // lines every 0.5 mm from y = 0 to y = 40 inclusive, each spanning the whole width
        let ys: std::collections::BTreeSet<i64> = path
            .iter()
            .map(|q| (q[1] * 1000.0).round() as i64)
            .collect();
        assert!(ys.contains(&0) && ys.contains(&40_000) && ys.contains(&20_000));
        assert!(path.iter().any(|q| q[0] == 0.0) && path.iter().any(|q| q[0] == 50.0));
        // the top of the dome is reached: tip at floor + big at the centre
        let top = path.iter().map(|q| q[2]).fold(f64::MIN, f64::max);
        assert!((top - (s.floor + s.big)).abs() < 0.01, "top {top}");
    }

    #[test]
    fn angled_raster_stays_inside_the_area_and_never_gouges() {
        let s = dome();
        let mut p = params();
        p.stepover = 0.8;
        p.angle_deg = 30.0;
        let angled = DomeRot {
            inner: &s,
            rot: Rot2::new(30f64.to_radians()),
        };
        let path = finish_pass(&angled, 30.0, s.rect, s.floor - 10.0, &p)
            .unwrap()
            .concat();
        for q in &path {
            assert!(s.rect.grown(1e-6).contains(q[0], q[1]), "{q:?} outside");
        }
        let (g, _) = check_path(&s, &path, &p);
        assert!(g <= 0.0025, "gouge {g}");
        // consecutive raster lines are along 30 degrees: a long move has that direction
        let long = path
            .windows(2)
            .map(|w| (w[1][0] - w[0][0], w[1][1] - w[0][1]))
            .find(|(dx, dy)| dx.hypot(*dy) > 0.35 && dx.hypot(*dy) < 0.45)
            .unwrap();
        let ang = long.1.atan2(long.0).to_degrees().rem_euclid(180.0);
        assert!((ang - 30.0).abs() < 1.0, "direction {ang}");
    }

    #[test]
    fn a_vertical_step_is_gone_over_not_through() {
        // a 10 mm tall box on the floor: the ball's CL jumps at r from the box's edge
        struct Step;
        impl ClSurface for Step {
            fn grid(&self, x0: f64, y0: f64, step: f64, nx: usize, ny: usize) -> Vec<f64> {
                let mut v = Vec::new();
                for j in 0..ny {
                    for i in 0..nx {
                        v.push(
                            self.point(x0 + i as f64 * step, y0 + j as f64 * step)
                                .unwrap(),
                        );
                    }
                }
                v
            }
            fn point(&self, x: f64, _y: f64) -> Option<f64> {
                // box top z = 10 for x <= 10; ball r = 3 rolls over the edge at x = 10
                let d = x - 10.0;
                Some(if d <= 0.0 {
                    10.0
                } else if d < 3.0 {
                    (10.0 - 3.0 + (9.0 - d * d).sqrt()).max(0.0)
                } else {
                    0.0
                })
            }
        }
        let p = params();
        let area = Rect {
            xmin: 0.0,
            ymin: 0.0,
            xmax: 20.0,
            ymax: 1.0,
        };
        let path = finish_pass(&Step, 0.0, area, -5.0, &p).unwrap().concat();
        for w in path.windows(2) {
            for k in 0..=32 {
                let t = k as f64 / 32.0;
                let x = w[0][0] + t * (w[1][0] - w[0][0]);
                let z = w[0][2] + t * (w[1][2] - w[0][2]);
                let cl = Step.point(x, 0.0).unwrap();
                assert!(z >= cl - 0.0025, "gouge {} at x {x}", cl - z);
            }
        }
        assert!(path.len() < 400, "{} points", path.len());
    }

    #[test]
    fn scallop_and_stepover_are_inverse() {
        let s = FinishParams::stepover_for_scallop(3.0, 0.01);
        assert!((FinishParams::scallop_height(3.0, s) - 0.01).abs() < 1e-12);
        // the lab's default: 6 mm ball at 0.5 mm leaves about 0.01 mm
        assert!((FinishParams::scallop_height(3.0, 0.5) - 0.010437).abs() < 1e-5);
    }

    #[test]
    fn bad_parameters_are_refused() {
        let s = dome();
        let mut p = params();
        p.stepover = 0.0;
        assert!(matches!(
            finish_pass(&s, 0.0, s.rect, -30.0, &p),
            Err(StrategyError::Parameter { .. })
        ));
        p.stepover = 1e-6;
        p.max_sample = 1e-6;
        assert!(matches!(
            finish_pass(&s, 0.0, s.rect, -30.0, &p),
            Err(StrategyError::TooLarge { .. })
        ));
    }

    /// A stepover so fine its grid would need terabytes (or more rows than `usize` counts) is
    /// refused from the counts alone, before anything is allocated; so is a feed that would be
    /// written as F0.
    #[test]
    fn a_vanishing_stepover_is_refused_before_allocating() {
        let s = dome();
        for stepover in [1e-9, 1e-300, f64::MIN_POSITIVE] {
            let mut p = params();
            p.stepover = stepover;
            let e = finish_pass(&s, 0.0, s.rect, -30.0, &p).unwrap_err();
            assert!(matches!(e, StrategyError::TooLarge { .. }), "{e}");
            assert!(e.to_string().contains("larger step"), "{e}");
        }
        let mut p = params();
        p.stepover = FinishParams::stepover_for_scallop(3.0, 1e-300);
        assert!(finish_pass(&s, 0.0, s.rect, -30.0, &p).is_err());
        for feed in [1e-300, 0.5, f64::NAN, 1e7] {
            let mut p = params();
            p.feed = feed;
            let e = finish_pass(&s, 0.0, s.rect, -30.0, &p).unwrap_err();
            assert!(e.to_string().contains("mm/min"), "{e}");
        }
    }

    /// The dome seen in a frame turned by -angle (what DropSurface gives for an angled raster).
    struct DomeRot<'a> {
        inner: &'a DomeOnPlane,
        rot: Rot2,
    }
    impl ClSurface for DomeRot<'_> {
        fn grid(&self, x0: f64, y0: f64, step: f64, nx: usize, ny: usize) -> Vec<f64> {
            let mut v = Vec::new();
            for j in 0..ny {
                for i in 0..nx {
                    v.push(
                        self.point(x0 + i as f64 * step, y0 + j as f64 * step)
                            .unwrap_or(f64::NEG_INFINITY),
                    );
                }
            }
            v
        }
        fn point(&self, a: f64, b: f64) -> Option<f64> {
            let (x, y) = self.rot.apply(a, b);
            self.inner.point(x, y)
        }
    }
}
