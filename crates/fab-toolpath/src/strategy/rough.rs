//! Roughing: Z levels with a flat or bull-nose end mill, each level cleared by contour-parallel
//! rings only where there is material to take, leaving a stock allowance over the design for the
//! finishing tool.
//!
//! Where the tool may go at a level comes from the drop-cutter of an enlarged cutter: the cutter
//! grown by the allowance (every direction) and by the grid step (sideways). Its CL plus the
//! allowance is, anywhere within one grid step of a node, at least the CL of the real cutter kept
//! `allowance` away from the design; so every point within a step of a node whose floor is at or
//! below the level is a safe tool centre at that level. The tool's centre is also kept within the
//! [`Zone`]: the part's outline grown by a reach, so only a channel round the part is cleared and
//! the rest of the blank falls away with the cut-out.
//!
//! Levels: deep ones, evenly spaced no more than `stepdown` apart (soft foam takes deep cuts), and
//! between each two of them shallow step levels `step_up` apart, and one at every flat area's
//! floor, which clear only the terraces the deep level below cannot reach. So what is left for the
//! finishing ball is never more than about `step_up` plus the allowance. Flat floors themselves
//! (the base's top round a positive) are cut at their exact height, the allowance kept sideways
//! only: an end mill leaves a flat better than any ball.
//!
//! Each level's region is cleared from its middle outwards by rings at `stepover` spacing: level
//! lines of the distance to the region's edge (`crate::contour`), the last ring following the
//! edge. Material stays on the tool's right (climb milling with an M3 spindle). A region is
//! entered by ramping down along its first ring (at the cutting feed: a shallow ramp loads the
//! tool no more than the cut; only a loop too small to ramp round is plunged, at the plunge feed); rings are joined by short moves at the level
//! where the way between them is inside the region, else lifted over the stock.

use rayon::prelude::*;

use super::stock::StockMap;
use super::{ClSurface, Rect, StrategyError, check_positive};
use crate::contour::{self, Field};
use crate::cutter::Cutter;
use crate::link::Linker;
use crate::path::{Move, Operation, Tool};

/// Settings of Z-level roughing.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RoughParams {
    pub tool: Tool,
    /// Material left over the design for finishing, mm.
    pub allowance: f64,
    /// Deepest step between two full levels, mm.
    pub stepdown: f64,
    /// Spacing of the shallow levels that clear the terraces between full levels, mm.
    pub step_up: f64,
    /// Distance between the clearing rings within a level, mm; at most the tool's radius, so the
    /// rings leave no ridge between them or along a region's middle.
    pub stepover: f64,
    /// Spacing of the floor grid, mm.
    pub grid: f64,
    /// Angle of the ramped entries, degrees from horizontal.
    pub ramp_angle_deg: f64,
    /// Climb milling (true, default) or conventional.
    pub climb: bool,
    pub feed: f64,
    pub plunge_feed: f64,
    pub spindle_rpm: f64,
    /// A level at every flat floor of the design (true, default: an end mill finishes a flat);
    /// false where the finishing ball follows every surface anyway.
    #[serde(default = "yes")]
    pub flats: bool,
}

fn yes() -> bool {
    true
}

/// Where roughing may put the tool's centre: inside or within `reach` of any of the polygons
/// `outlines` (the parts on the blank; either orientation, no repeated closing point), give or
/// take half a grid step.
#[derive(Clone, Copy, Debug)]
pub struct Zone<'a> {
    pub outlines: &'a [Vec<[f64; 2]>],
    pub reach: f64,
}

impl Zone<'_> {
    /// The rectangle holding every tool centre of the zone.
    pub fn bounds(&self) -> Rect {
        let mut r = Rect {
            xmin: f64::MAX,
            ymin: f64::MAX,
            xmax: f64::MIN,
            ymax: f64::MIN,
        };
        for p in self.outlines.iter().flatten() {
            r.xmin = r.xmin.min(p[0]);
            r.ymin = r.ymin.min(p[1]);
            r.xmax = r.xmax.max(p[0]);
            r.ymax = r.ymax.max(p[1]);
        }
        r.grown(self.reach)
    }

    /// Whether `(x, y)` is inside an outline or within reach of one.
    pub fn contains(&self, x: f64, y: f64) -> bool {
        self.outlines
            .iter()
            .any(|o| near_or_inside(o, x, y, self.reach))
    }
}

/// Whether `(x, y)` is inside the polygon `poly` (crossing number; any shape) or within `reach`
/// of its boundary.
fn near_or_inside(poly: &[[f64; 2]], x: f64, y: f64, reach: f64) -> bool {
    let n = poly.len();
    let mut inside = false;
    let mut best = f64::MAX;
    for k in 0..n {
        let (a, b) = (poly[k], poly[(k + 1) % n]);
        if (a[1] > y) != (b[1] > y) {
            let xc = a[0] + (y - a[1]) * (b[0] - a[0]) / (b[1] - a[1]);
            if x < xc {
                inside = !inside;
            }
        }
        let (ex, ey) = (b[0] - a[0], b[1] - a[1]);
        let (px, py) = (x - a[0], y - a[1]);
        let l2 = ex * ex + ey * ey;
        let t = if l2 > 0.0 {
            ((px * ex + py * ey) / l2).clamp(0.0, 1.0)
        } else {
            0.0
        };
        best = best.min((px - t * ex).hypot(py - t * ey));
    }
    inside || best <= reach
}

impl RoughParams {
    pub fn new(tool: Tool) -> Self {
        let d = tool.cutter.diameter();
        RoughParams {
            tool,
            allowance: 0.5,
            stepdown: d,
            step_up: 3.0,
            stepover: 0.5 * d,
            grid: 0.5,
            ramp_angle_deg: 10.0,
            climb: true,
            feed: 4000.0,
            plunge_feed: 800.0,
            spindle_rpm: 16000.0,
            flats: true,
        }
    }

    /// The cutter whose CL surface [`rough`] wants: the roughing cutter grown by the allowance
    /// and the grid step.
    pub fn floor_cutter(&self) -> Cutter {
        let c = self.tool.cutter;
        let r = c.radius() + self.allowance + self.grid;
        let cr = c.corner_radius() + self.allowance;
        if cr >= r {
            Cutter::Ball { diameter: 2.0 * r }
        } else if cr <= 0.0 {
            Cutter::Flat { diameter: 2.0 * r }
        } else {
            Cutter::Bull {
                diameter: 2.0 * r,
                corner_radius: cr,
            }
        }
    }

    /// The cutter whose CL surface finds the flat floors [`rough`] finishes: the roughing cutter
    /// grown sideways only, by the allowance and the grid step.
    pub fn side_cutter(&self) -> Cutter {
        let c = self.tool.cutter;
        let r = c.radius() + self.allowance + self.grid;
        match c.corner_radius() {
            cr if cr <= 0.0 => Cutter::Flat { diameter: 2.0 * r },
            cr => Cutter::Bull {
                diameter: 2.0 * r,
                corner_radius: cr,
            },
        }
    }

    fn validate(&self) -> Result<(), StrategyError> {
        check_positive("roughing stepdown", self.stepdown, 1000.0)?;
        check_positive("roughing step-up", self.step_up, 1000.0)?;
        check_positive(
            "roughing stepover",
            self.stepover,
            self.tool.cutter.radius(),
        )?;
        check_positive("roughing grid", self.grid, 10.0)?;
        check_positive("roughing ramp angle", self.ramp_angle_deg, 45.0)?;
        super::check_feed("roughing feed", self.feed)?;
        super::check_feed("roughing plunge feed", self.plunge_feed)?;
        if !(self.allowance.is_finite() && self.allowance >= 0.0) {
            return Err(StrategyError::Parameter {
                what: "stock allowance",
                expected: "zero or more mm",
                found: self.allowance,
            });
        }
        Ok(())
    }
}

/// One level to clear: its Z, and for a step level the deep level below it (whose region it
/// leaves to that level).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Level {
    z: f64,
    below: Option<f64>,
    /// A flat floor cut at its height, the region from the side cutter's CL.
    flat: bool,
}

/// The levels from `top` down to `bottom`: deep levels evenly spaced at most `stepdown` apart,
/// step levels at most `step_up` apart between them and at each of `flats` (floors of flat
/// areas), top to bottom.
fn levels(top: f64, bottom: f64, stepdown: f64, step_up: f64, flats: &[f64]) -> Vec<Level> {
    let depth = top - bottom;
    if depth <= 1e-6 {
        return Vec::new();
    }
    let n = (depth / stepdown - 1e-9).ceil().max(1.0) as usize;
    let d = depth / n as f64;
    let mut out = Vec::new();
    for k in 0..n {
        let upper = top - k as f64 * d;
        let lower = if k + 1 == n {
            bottom
        } else {
            top - (k + 1) as f64 * d
        };
        let m = (d / step_up - 1e-9).ceil().max(1.0) as usize;
        let mut steps: Vec<f64> = (1..m).map(|s| upper - s as f64 * d / m as f64).collect();
        for &f in flats {
            // a flat within `step_up` under the top is left to the finishing tool
            let near_top = k == 0 && upper - f < step_up;
            if !near_top
                && f < upper - 0.2
                && f > lower + 0.2
                && steps.iter().all(|s| (s - f).abs() > 0.2)
            {
                steps.push(f);
            }
        }
        steps.sort_by(|a, b| b.total_cmp(a));
        out.extend(steps.into_iter().map(|z| Level {
            z,
            below: Some(lower),
            flat: false,
        }));
        out.push(Level {
            z: lower,
            below: None,
            flat: false,
        });
    }
    out
}

/// Roughing of the material over the design within `zone`, from the stock top `stock_top` down to
/// no lower than `floor_z`. `floor` is the CL surface of [`RoughParams::floor_cutter`] over the
/// design; `side`, if given, that of [`RoughParams::side_cutter`]: each flat floor of the design
/// (100 mm^2 or more at one height) is then also cut at its exact height, the allowance kept
/// only sideways, so a flat is finished by the end mill, not left to the ball.
pub fn rough(
    floor: &dyn ClSurface,
    side: Option<&dyn ClSurface>,
    zone: Zone,
    stock_top: f64,
    floor_z: f64,
    p: &RoughParams,
    linker: &Linker,
) -> Result<Operation, StrategyError> {
    p.validate()?;
    let g = p.grid;
    let area = zone.bounds().grown(2.0 * g);
    // counted in floating point, so that no size overflows before it is checked
    let (nx_f, ny_f) = (
        (area.width() / g).ceil() + 1.0,
        (area.height() / g).ceil() + 1.0,
    );
    if (nx_f * ny_f).is_nan() || nx_f * ny_f > super::finish::MAX_GRID_POINTS as f64 {
        return Err(StrategyError::TooLarge {
            what: "roughing floor grid",
            needed: (nx_f * ny_f).min(usize::MAX as f64) as usize,
            limit: super::finish::MAX_GRID_POINTS,
        });
    }
    let (nx, ny) = (nx_f as usize, ny_f as usize);
    // the floor each node may go down to; nodes outside the zone never
    let raw = floor.grid(area.xmin, area.ymin, g, nx, ny);
    let fl: Vec<f64> = raw
        .par_iter()
        .enumerate()
        .map(|(k, &c)| {
            let (i, j) = (k % nx, k / nx);
            let (x, y) = (area.xmin + i as f64 * g, area.ymin + j as f64 * g);
            if !zone.contains(x, y) {
                f64::INFINITY
            } else if c.is_finite() {
                (c + p.allowance).max(floor_z)
            } else {
                floor_z
            }
        })
        .collect();
    let zmin = fl.iter().copied().fold(f64::INFINITY, f64::min);
    if zmin >= stock_top || !zmin.is_finite() {
        return Err(StrategyError::NothingToCut("roughing"));
    }
    // floors of flat areas: a level at each, so no terrace is left on a flat
    let flat_nodes = (100.0 / (g * g)).ceil() as usize; // 100 mm^2
    let flats: Vec<f64> = if p.flats {
        flat_levels(&fl, nx, ny, flat_nodes)
            .into_iter()
            .filter(|&z| z > zmin + 1e-6 && z < stock_top)
            .collect()
    } else {
        Vec::new()
    };

    let r = p.tool.cutter.radius();
    let mut stock = StockMap::new(area.grown(r + 2.0 * g), g.min(1.0), stock_top);
    let tan = p.ramp_angle_deg.to_radians().tan();
    let mut moves = Vec::new();
    let mut at: Option<[f64; 3]> = None;
    let d0 = 0.5 * g;
    // flat floors at their height: nodes where the side cutter rests at one Z over 100 mm^2
    let sd: Option<Vec<f64>> = side.map(|sf| {
        let raw = sf.grid(area.xmin, area.ymin, g, nx, ny);
        raw.iter()
            .zip(&fl)
            .map(|(&c, &f)| if f.is_finite() { c } else { f64::INFINITY })
            .collect()
    });
    super::check_levels(
        "roughing levels (depth / smaller of stepdown and step-up)",
        stock_top - zmin,
        p.stepdown.min(p.step_up),
    )?;
    let mut plan = levels(stock_top, zmin, p.stepdown, p.step_up, &flats);
    if let Some(sd) = sd.as_ref().filter(|_| p.flats) {
        plan.extend(
            flat_levels(sd, nx, ny, flat_nodes)
                .into_iter()
                .filter(|&z| z >= floor_z && z < stock_top - p.step_up)
                .map(|z| Level {
                    z,
                    below: None,
                    flat: true,
                }),
        );
        plan.sort_by(|a, b| b.z.total_cmp(&a.z));
    }
    for lv in plan {
        let z = lv.z;
        let mask: Vec<bool> = match (&sd, lv.flat) {
            // where the end mill reaches the flat but the allowance kept the other levels off
            (Some(sd), true) => sd
                .iter()
                .zip(&fl)
                .map(|(&c, &f)| c <= z + 1e-9 && f > z + 1e-9)
                .collect(),
            _ => fl
                .iter()
                .map(|&f| f <= z + 1e-9 && lv.below.is_none_or(|b| f > b + 1e-9))
                .collect(),
        };
        if !mask.iter().any(|&m| m) {
            continue;
        }
        let dist = contour::distance_inside(&mask, nx, ny, g);
        let field = Field {
            x0: area.xmin,
            y0: area.ymin,
            step: g,
            nx,
            ny,
            v: &dist,
        };
        let (comp, ncomp) = components(&mask, nx, ny);
        let dmax = dist.iter().copied().fold(0.0, f64::max);
        if dmax < d0 {
            continue;
        }
        // ring distances from the middle out: the last one d0 from the edge
        let mut rings = Vec::new();
        let mut d = d0;
        while d <= dmax {
            rings.push(d);
            d += p.stepover;
        }
        // a step level's region is a terrace: between the part and the deep level's region,
        // which that level clears anyway. Where a terrace is no wider than the tool's radius,
        // the ring along the part covers it: the ring along the deep level's side is left out.
        let mut widest = vec![0.0f64; ncomp];
        for (k, &c) in comp.iter().enumerate() {
            if c != u32::MAX {
                widest[c as usize] = widest[c as usize].max(dist[k]);
            }
        }
        let along_deep = |lp: &[contour::Crossing]| -> bool {
            let Some(b) = lv.below else { return false };
            let deep = lp
                .iter()
                .filter(|c| {
                    let [i, j] = c.below;
                    i >= 0
                        && j >= 0
                        && (i as usize) < nx
                        && (j as usize) < ny
                        && fl[j as usize * nx + i as usize] <= b + 1e-9
                })
                .count();
            2 * deep > lp.len()
        };
        // loops of each component, innermost first
        let mut by_comp: Vec<Vec<Vec<[f64; 2]>>> = vec![Vec::new(); ncomp];
        for &d in rings.iter().rev() {
            for lp in contour::iso_lines(&field, d) {
                let [i, j] = lp[0].above;
                let c = comp[j as usize * nx + i as usize];
                if 2.0 * widest[c as usize] <= r && along_deep(&lp) {
                    continue;
                }
                let mut pts: Vec<[f64; 2]> = lp.iter().map(|c| c.at).collect();
                smooth(&mut pts);
                if !p.climb {
                    pts.reverse();
                }
                if loop_length(&pts) >= g * 4.0 {
                    by_comp[c as usize].push(pts);
                }
            }
        }
        // components nearest first
        let mut left: Vec<usize> = (0..by_comp.len())
            .filter(|&c| !by_comp[c].is_empty())
            .collect();
        while !left.is_empty() {
            let here = at.map_or([area.xmin, area.ymin], |a| [a[0], a[1]]);
            let (pos, _) = left
                .iter()
                .enumerate()
                .map(|(k, &c)| (k, nearest(&by_comp[c][0], here).1))
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .unwrap();
            let c = left.swap_remove(pos);
            for pts in &by_comp[c] {
                let here = at.map_or(pts[0], |a| [a[0], a[1]]);
                let (s, _) = nearest(pts, here);
                let lp: Vec<[f64; 2]> = pts[s..].iter().chain(pts[..s].iter()).copied().collect();
                let start = lp[0];
                let top_here = stock.max_along(start, start, r);
                let direct = at.is_some_and(|a| {
                    a[2] == z
                        && top_here <= z + 0.05
                        && inside_along(&field, [a[0], a[1]], start, 0.5 * d0)
                });
                if direct {
                    moves.push(Move::Feed {
                        to: [start[0], start[1], z],
                        feed: p.feed,
                    });
                    stock.cut([at.unwrap()[0], at.unwrap()[1]], start, r, z);
                } else if top_here <= z + 0.05 {
                    let to = [start[0], start[1], z];
                    match at {
                        None => linker.enter(to, &mut moves),
                        Some(from) => {
                            let need = stock.max_along([from[0], from[1]], start, r);
                            linker.link(from, to, need, &mut moves)
                        }
                    }
                } else {
                    let ramp_top = (top_here + linker.margin).min(linker.clearance_z).max(z);
                    let to = [start[0], start[1], ramp_top];
                    match at {
                        None => linker.enter(to, &mut moves),
                        Some(from) => {
                            let need = stock.max_along([from[0], from[1]], start, r);
                            linker.link(from, to, need, &mut moves)
                        }
                    }
                }
                let end = cut_loop(&lp, z, tan, p, &mut moves, &mut stock, r);
                at = Some(end);
            }
        }
    }
    if let Some(from) = at {
        linker.exit(from, &mut moves);
    }
    if moves.is_empty() {
        return Err(StrategyError::NothingToCut("roughing"));
    }
    Ok(Operation {
        name: "roughing".into(),
        tool: p.tool,
        spindle_rpm: p.spindle_rpm,
        moves,
    })
}

/// Cuts the closed loop `lp` at level `z`, starting at `lp[0]` from the tool's present height
/// (the last move's end): ramping down along the loop where that is above `z`, then once round
/// the whole loop at `z`. Returns where the tool ends.
fn cut_loop(
    lp: &[[f64; 2]],
    z: f64,
    tan: f64,
    p: &RoughParams,
    moves: &mut Vec<Move>,
    stock: &mut StockMap,
    r: f64,
) -> [f64; 3] {
    let n = lp.len();
    let top = moves.last().map_or(z, |m| m.end()[2]);
    let len = loop_length(lp);
    let mut cur = top;
    // where the loop at depth starts: a vertex index and the point on the edge before it
    let mut k = 0usize;
    let mut from = lp[0];
    if cur > z + 1e-9 {
        if len < p.tool.cutter.diameter() {
            // too small a loop to ramp round: straight down (foam; a centre-cutting end mill)
            moves.push(Move::Feed {
                to: [from[0], from[1], z],
                feed: p.plunge_feed,
            });
        } else {
            // down the loop at the ramp angle, round it as often as needed
            let mut guard = 0;
            while cur > z + 1e-9 && guard < 100 * n {
                guard += 1;
                let to = lp[(k + 1) % n];
                let seg = (to[0] - from[0]).hypot(to[1] - from[1]);
                let drop = seg * tan;
                if cur - drop <= z {
                    let t = if drop > 0.0 { (cur - z) / drop } else { 1.0 };
                    let q = [
                        from[0] + t * (to[0] - from[0]),
                        from[1] + t * (to[1] - from[1]),
                    ];
                    moves.push(Move::Feed {
                        to: [q[0], q[1], z],
                        feed: p.feed,
                    });
                    stock.cut(from, q, r, z);
                    from = q;
                    cur = z;
                } else {
                    cur -= drop;
                    moves.push(Move::Feed {
                        to: [to[0], to[1], cur],
                        feed: p.feed,
                    });
                    from = to;
                    k = (k + 1) % n;
                }
            }
        }
    }
    // once round at depth from `from` (on the edge k -> k+1) back to it
    let mut prev = from;
    for s in 1..=n {
        let q = lp[(k + s) % n];
        moves.push(Move::Feed {
            to: [q[0], q[1], z],
            feed: p.feed,
        });
        stock.cut(prev, q, r, z);
        prev = q;
    }
    if prev != from {
        moves.push(Move::Feed {
            to: [from[0], from[1], z],
            feed: p.feed,
        });
        stock.cut(prev, from, r, z);
    }
    [from[0], from[1], z]
}

/// The heights of the flat areas of a grid of heights: nodes level with their four neighbours
/// (to a micrometre; a gently sloping scan is never that flat), grouped by height to a
/// micrometre, at least `min_nodes` of them; each group's highest value, lowest first.
fn flat_levels(v: &[f64], nx: usize, ny: usize, min_nodes: usize) -> Vec<f64> {
    let mut groups: std::collections::HashMap<i64, (usize, f64)> = std::collections::HashMap::new();
    for j in 1..ny.saturating_sub(1) {
        for i in 1..nx.saturating_sub(1) {
            let z = v[j * nx + i];
            if !z.is_finite() {
                continue;
            }
            let level = [
                v[j * nx + i - 1],
                v[j * nx + i + 1],
                v[(j - 1) * nx + i],
                v[(j + 1) * nx + i],
            ]
            .iter()
            .all(|&n| (n - z).abs() <= 1e-6);
            if level {
                let e = groups
                    .entry((z * 1000.0).round() as i64)
                    .or_insert((0, f64::MIN));
                e.0 += 1;
                e.1 = e.1.max(z);
            }
        }
    }
    let mut out: Vec<f64> = groups
        .into_values()
        .filter(|&(n, _)| n >= min_nodes)
        .map(|(_, z)| z)
        .collect();
    out.sort_by(f64::total_cmp);
    out
}

/// Takes the grid's stair steps out of a closed ring: three passes of averaging each point with
/// its neighbours (weights 1/4, 1/2, 1/4). A ring moves toward its centre of curvature by about
/// `spacing^2 / (2 * radius)` a pass: hundredths of a millimetre, well inside the grid step the
/// floor cutter was grown by.
fn smooth(pts: &mut [[f64; 2]]) {
    let n = pts.len();
    if n < 5 {
        return;
    }
    let mut prev = pts.to_vec();
    for _ in 0..3 {
        prev.copy_from_slice(pts);
        for i in 0..n {
            let (a, b, c) = (prev[(i + n - 1) % n], prev[i], prev[(i + 1) % n]);
            pts[i] = [
                0.25 * a[0] + 0.5 * b[0] + 0.25 * c[0],
                0.25 * a[1] + 0.5 * b[1] + 0.25 * c[1],
            ];
        }
    }
}

fn loop_length(pts: &[[f64; 2]]) -> f64 {
    let n = pts.len();
    (0..n)
        .map(|i| {
            let (a, b) = (pts[i], pts[(i + 1) % n]);
            (b[0] - a[0]).hypot(b[1] - a[1])
        })
        .sum()
}

/// Index and distance of the point of `pts` nearest `q`.
fn nearest(pts: &[[f64; 2]], q: [f64; 2]) -> (usize, f64) {
    pts.iter()
        .enumerate()
        .map(|(k, p)| (k, (p[0] - q[0]).hypot(p[1] - q[1])))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap_or((0, f64::MAX))
}

/// Whether the straight way from `a` to `b` stays where the distance field is at least `min`.
fn inside_along(f: &Field, a: [f64; 2], b: [f64; 2], min: f64) -> bool {
    let len = (b[0] - a[0]).hypot(b[1] - a[1]);
    let n = (len / (0.5 * f.step)).ceil().max(1.0) as usize;
    (0..=n).all(|k| {
        let t = k as f64 / n as f64;
        f.sample(a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])) >= min
    })
}

/// Connected components (4-neighbour) of the mask's nodes (`u32::MAX` outside it), and how many.
fn components(mask: &[bool], nx: usize, ny: usize) -> (Vec<u32>, usize) {
    let mut comp = vec![u32::MAX; mask.len()];
    let mut next = 0u32;
    let mut stack = Vec::new();
    for s in 0..mask.len() {
        if !mask[s] || comp[s] != u32::MAX {
            continue;
        }
        comp[s] = next;
        stack.push(s);
        while let Some(k) = stack.pop() {
            let (i, j) = (k % nx, k / nx);
            let mut visit = |q: usize| {
                if mask[q] && comp[q] == u32::MAX {
                    comp[q] = next;
                    stack.push(q);
                }
            };
            if i > 0 {
                visit(k - 1);
            }
            if i + 1 < nx {
                visit(k + 1);
            }
            if j > 0 {
                visit(k - nx);
            }
            if j + 1 < ny {
                visit(k + nx);
            }
        }
        next += 1;
    }
    (comp, next as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::testing::DomeOnPlane;

    fn setup() -> (DomeOnPlane, RoughParams, Linker) {
        let p = RoughParams::new(Tool {
            number: 1,
            cutter: Cutter::Flat { diameter: 10.0 },
        });
        // the floor cutter of a flat 10 grown by 0.5 + 0.5 is a bull; a ball of the same radius
        // over the dome is at least as high, so the analytic dome stands in for it conservatively
        let fc = p.floor_cutter();
        assert_eq!(
            fc,
            Cutter::Bull {
                diameter: 12.0,
                corner_radius: 0.5
            }
        );
        let s = DomeOnPlane {
            r: 6.0,
            floor: -25.0,
            big: 15.0,
            cx: 40.0,
            cy: 30.0,
            rect: Rect {
                xmin: 0.0,
                ymin: 0.0,
                xmax: 80.0,
                ymax: 60.0,
            },
        };
        let l = Linker {
            clearance_z: 3.0,
            margin: 1.0,
            link_feed: 6000.0,
            plunge_feed: 800.0,
            rapid_rate: 0.0,
        };
        (s, p, l)
    }

    fn zone(rect: &Rect) -> Vec<[f64; 2]> {
        rect.polygon()
    }

    /// A stepdown or step-up that would make billions of levels is refused before any level is
    /// made (it used to run out of memory making them).
    #[test]
    fn a_vanishing_stepdown_is_refused_before_allocating() {
        let (s, p0, l) = setup();
        let outline = vec![zone(&s.rect)];
        let z = Zone {
            outlines: &outline,
            reach: 0.0,
        };
        for (stepdown, step_up) in [(1e-9, 3.0), (10.0, 1e-9), (1e-300, 1e-300)] {
            let mut p = p0.clone();
            p.stepdown = stepdown;
            p.step_up = step_up;
            let e = rough(&s, None, z, 0.0, -30.0, &p, &l).unwrap_err();
            assert!(matches!(e, StrategyError::TooMany { .. }), "{e}");
            assert!(e.to_string().contains("roughing levels"), "{e}");
        }
    }

    #[test]
    fn levels_ramps_and_allowance() {
        let (s, p, l) = setup();
        let outline = vec![zone(&s.rect)];
        let z = Zone {
            outlines: &outline,
            reach: 0.0,
        };
        let op = rough(&s, None, z, 0.0, -30.0, &p, &l).unwrap();
        let tan = p.ramp_angle_deg.to_radians().tan();
        let mut pos = match op.moves[0] {
            Move::Rapid(q) => q,
            m => panic!("starts with {m:?}"),
        };
        let mut zs = std::collections::BTreeSet::new();
        for m in &op.moves[1..] {
            let q = m.end();
            match *m {
                Move::Rapid(_) => {
                    // rapids only above the clearance plane or straight up/down to it
                    let vertical = q[0] == pos[0] && q[1] == pos[1];
                    assert!(
                        vertical || (q[2] >= l.clearance_z && pos[2] >= l.clearance_z),
                        "{m:?}"
                    );
                }
                Move::Feed { feed, .. } => {
                    let (dx, dy, dz) = (q[0] - pos[0], q[1] - pos[1], q[2] - pos[2]);
                    let horiz = dx.hypot(dy);
                    if dz < -1e-9 && horiz > 1e-9 {
                        assert!(-dz / horiz <= tan + 1e-9, "ramp too steep: {m:?}");
                    }
                    if feed == p.feed && dz.abs() < 1e-9 {
                        zs.insert((q[2] * 1000.0).round() as i64);
                    }
                    // tool centres inside the zone, give or take half a grid step
                    assert!(s.rect.grown(0.5 * p.grid).contains(q[0], q[1]), "{q:?}");
                }
                Move::Arc { .. } => panic!("no arcs in roughing"),
            }
            pos = q;
        }
        // deep levels evenly spaced no more than 10 mm (the tool's diameter) apart, down to the
        // floor + allowance (-24.5): 3 of 8.17 mm
        for lv in [-8167, -16333, -24500] {
            assert!(zs.contains(&lv), "level {lv} missing: {zs:?}");
        }
        // step levels between them, no two levels more than step_up apart above the floor
        let v: Vec<i64> = zs.iter().copied().collect();
        for w in v.windows(2) {
            assert!(w[1] - w[0] <= 3000, "{v:?}");
        }
        // the top of the dome (at -10) is never cut below -10 + allowance
        for m in &op.moves {
            let q = m.end();
            let d = (q[0] - 40.0).hypot(q[1] - 30.0);
            if d < 1.0 {
                assert!(q[2] >= -10.0 + 0.5 - 1e-9, "{q:?}");
            }
        }
    }

    #[test]
    fn rings_keep_the_material_on_the_right() {
        // climb: the last ring of the floor level runs clockwise round the dome; conventional
        // the other way
        let (s, mut p, l) = setup();
        let outline = vec![zone(&s.rect)];
        for climb in [true, false] {
            p.climb = climb;
            let z = Zone {
                outlines: &outline,
                reach: 0.0,
            };
            let op = rough(&s, None, z, 0.0, -30.0, &p, &l).unwrap();
            // the floor level's moves along the dome's foot (the ring 21.25 mm from its centre:
            // the dome's 15 and the floor cutter's 6, a quarter step inside)
            let pts: Vec<[f64; 3]> = op
                .moves
                .iter()
                .map(Move::end)
                .filter(|q| (q[2] + 24.5).abs() < 1e-9)
                .filter(|q| {
                    let d = (q[0] - 40.0).hypot(q[1] - 30.0);
                    d > 19.0 && d < 23.0
                })
                .collect();
            assert!(pts.len() > 50, "{}", pts.len());
            // angular travel round the dome's centre
            let mut turn = 0.0;
            for w in pts.windows(2) {
                let a0 = (w[0][1] - 30.0).atan2(w[0][0] - 40.0);
                let a1 = (w[1][1] - 30.0).atan2(w[1][0] - 40.0);
                let mut da = a1 - a0;
                while da > std::f64::consts::PI {
                    da -= std::f64::consts::TAU;
                }
                while da < -std::f64::consts::PI {
                    da += std::f64::consts::TAU;
                }
                turn += da;
            }
            if climb {
                assert!(turn < -6.0, "{turn}");
            } else {
                assert!(turn > 6.0, "{turn}");
            }
        }
    }

    #[test]
    fn a_zone_of_two_concave_outlines() {
        // an L (concave) and a square apart: the L's inner corner is outside, its far interior
        // inside, the square's too; reach counts from either
        let l = vec![
            [0.0, 0.0],
            [60.0, 0.0],
            [60.0, 20.0],
            [20.0, 20.0],
            [20.0, 60.0],
            [0.0, 60.0],
        ];
        let sq = vec![[100.0, 0.0], [130.0, 0.0], [130.0, 30.0], [100.0, 30.0]];
        let outlines = [l, sq];
        let z = Zone {
            outlines: &outlines,
            reach: 3.0,
        };
        assert!(z.contains(10.0, 50.0) && z.contains(50.0, 10.0) && z.contains(115.0, 15.0));
        assert!(!z.contains(40.0, 40.0) && !z.contains(80.0, 10.0));
        assert!(z.contains(22.5, 40.0) && !z.contains(23.5, 40.0));
        assert!(z.contains(97.5, 10.0) && !z.contains(96.5, 10.0));
        let b = z.bounds();
        assert_eq!((b.xmin, b.xmax, b.ymax), (-3.0, 133.0, 63.0));
    }

    #[test]
    fn only_the_zone_is_cleared() {
        // an outline round the dome grown by 5 mm: the tool never leaves it
        let (s, p, l) = setup();
        let outline: Vec<[f64; 2]> = (0..72)
            .map(|k| {
                let a = k as f64 * 5f64.to_radians();
                [40.0 + 15.0 * a.cos(), 30.0 + 15.0 * a.sin()]
            })
            .collect();
        let z = Zone {
            outlines: std::slice::from_ref(&outline),
            reach: 5.0,
        };
        let op = rough(&s, None, z, 0.0, -30.0, &p, &l).unwrap();
        for m in &op.moves {
            let q = m.end();
            let d = (q[0] - 40.0).hypot(q[1] - 30.0);
            assert!(d <= 20.0 + 0.3, "{q:?} at {d}");
        }
    }

    #[test]
    fn only_a_true_flat_is_a_flat() {
        // a plane sloping 0.01 mm a node (a posted heel's gentle slope) holds no flat; a
        // plateau at -3 over 30 x 30 nodes is one
        let (nx, ny) = (60, 40);
        let mut v: Vec<f64> = (0..nx * ny)
            .map(|k| -5.0 + 0.01 * (k % nx) as f64)
            .collect();
        assert!(flat_levels(&v, nx, ny, 100).is_empty());
        for j in 5..35 {
            for i in 20..50 {
                v[j * nx + i] = -3.0;
            }
        }
        assert_eq!(flat_levels(&v, nx, ny, 100), vec![-3.0]);
    }

    #[test]
    fn levels_are_even_with_steps_and_flats() {
        let lv = levels(0.0, -32.0, 10.0, 3.0, &[-30.5]);
        let deep: Vec<f64> = lv
            .iter()
            .filter(|l| l.below.is_none())
            .map(|l| l.z)
            .collect();
        assert_eq!(deep, vec![-8.0, -16.0, -24.0, -32.0]);
        assert!(
            lv.iter()
                .any(|l| (l.z + 30.5).abs() < 1e-12 && l.below == Some(-32.0))
        );
        for w in lv.windows(2) {
            assert!(w[0].z > w[1].z && w[0].z - w[1].z <= 3.0 + 1e-9, "{lv:?}");
        }
    }
}
