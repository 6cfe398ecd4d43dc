//! Roughing: Z-level steps with a flat or bull-nose end mill, clearing each level by a one-way
//! raster, leaving a stock allowance over the design for the finishing tool.
//!
//! The floor the tool may reach at each grid node comes from the drop-cutter of an enlarged
//! cutter: the cutter grown by the allowance (every direction) and by the grid step (sideways).
//! Its CL plus the allowance is, anywhere within one grid step of the node, at least the CL of
//! the real cutter kept `allowance` away from the design; a straight move between two nodes
//! whose floor is below the level therefore never comes closer to the design than the allowance.
//!
//! Entries ramp down along the cut (no plunge into material), lines are cut in one direction so
//! the uncut side is always on the tool's right: climb milling with a clockwise (M3) spindle.
//! A height map of the stock decides where a ramp is needed and how high a link must lift.

use super::stock::StockMap;
use super::{ClSurface, Rect, StrategyError, check_positive};
use crate::cutter::Cutter;
use crate::link::Linker;
use crate::path::{Move, Operation, Tool};

/// Settings of Z-level roughing.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RoughParams {
    pub tool: Tool,
    /// Material left over the design for finishing, mm.
    pub allowance: f64,
    /// Depth of each Z level, mm.
    pub stepdown: f64,
    /// Distance between raster lines within a level, mm.
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
}

impl RoughParams {
    pub fn new(tool: Tool) -> Self {
        let d = tool.cutter.diameter();
        RoughParams {
            tool,
            allowance: 0.5,
            stepdown: 4.0,
            stepover: 0.6 * d,
            grid: 1.0,
            ramp_angle_deg: 10.0,
            climb: true,
            feed: 4000.0,
            plunge_feed: 800.0,
            spindle_rpm: 16000.0,
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

    fn validate(&self) -> Result<(), StrategyError> {
        check_positive("roughing stepdown", self.stepdown, 1000.0)?;
        check_positive(
            "roughing stepover",
            self.stepover,
            self.tool.cutter.diameter(),
        )?;
        check_positive("roughing grid", self.grid, 100.0)?;
        check_positive("roughing ramp angle", self.ramp_angle_deg, 45.0)?;
        check_positive("roughing feed", self.feed, 1e6)?;
        check_positive("roughing plunge feed", self.plunge_feed, 1e6)?;
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

/// Roughing over `area` (tool centres stay inside it) from the stock top `stock_top` down to no
/// lower than `floor_z`. `floor` is the CL surface of [`RoughParams::floor_cutter`] over the
/// design.
pub fn rough(
    floor: &dyn ClSurface,
    area: Rect,
    stock_top: f64,
    floor_z: f64,
    p: &RoughParams,
    linker: &Linker,
) -> Result<Operation, StrategyError> {
    p.validate()?;
    let g = p.grid;
    let nx = (area.width() / g).ceil() as usize + 1;
    let ny = (area.height() / g).ceil() as usize + 1;
    if nx.saturating_mul(ny) > super::finish::MAX_GRID_POINTS {
        return Err(StrategyError::TooLarge {
            what: "roughing floor grid",
            needed: nx.saturating_mul(ny),
            limit: super::finish::MAX_GRID_POINTS,
        });
    }
    let xs: Vec<f64> = (0..nx)
        .map(|i| (area.xmin + i as f64 * g).min(area.xmax))
        .collect();
    let ys: Vec<f64> = (0..ny)
        .map(|j| (area.ymin + j as f64 * g).min(area.ymax))
        .collect();
    // the floor grid: the last node of a row/column sits on the area's edge
    let mut fl = floor.grid(area.xmin, area.ymin, g, nx, ny);
    for (j, &y) in ys.iter().enumerate() {
        for (i, &x) in xs.iter().enumerate() {
            let k = j * nx + i;
            if i == nx - 1 || j == ny - 1 {
                fl[k] = floor.point(x, y).unwrap_or(f64::NEG_INFINITY);
            }
            fl[k] = if fl[k].is_finite() {
                (fl[k] + p.allowance).max(floor_z)
            } else {
                floor_z
            };
        }
    }
    let zmin = fl.iter().copied().fold(f64::INFINITY, f64::min);
    if zmin >= stock_top {
        return Err(StrategyError::NothingToCut("roughing"));
    }
    let mut levels = Vec::new();
    let mut z = stock_top - p.stepdown;
    while z > zmin + 1e-6 {
        levels.push(z);
        z -= p.stepdown;
    }
    levels.push(zmin);

    // raster rows: every `ks` grid rows, and the last row
    let ks = ((p.stepover / g).floor() as usize).max(1);
    let mut rows: Vec<usize> = (0..ny).step_by(ks).collect();
    if *rows.last().unwrap() != ny - 1 {
        rows.push(ny - 1);
    }
    let r = p.tool.cutter.radius();
    let mut stock = StockMap::new(area.grown(r + 2.0 * g), g.min(1.0), stock_top);
    let tan = p.ramp_angle_deg.to_radians().tan();
    let ramp_max = 3.0 * p.tool.cutter.diameter();

    let mut moves = Vec::new();
    let mut at: Option<[f64; 3]> = None;
    for &z in &levels {
        for &j in &rows {
            let y = ys[j];
            // runs of nodes whose floor is at or below this level
            let mut runs: Vec<(f64, f64)> = Vec::new();
            let mut i = 0;
            while i < nx {
                if fl[j * nx + i] <= z + 1e-9 {
                    let s = i;
                    while i + 1 < nx && fl[j * nx + i + 1] <= z + 1e-9 {
                        i += 1;
                    }
                    if xs[i] - xs[s] >= 1.0 {
                        runs.push((xs[s], xs[i]));
                    }
                }
                i += 1;
            }
            if p.climb {
                runs.reverse();
            }
            for (x0, x1) in runs {
                let (sx, ex) = if p.climb { (x1, x0) } else { (x0, x1) };
                let start = [sx, y];
                let end = [ex, y];
                let top_here = stock.max_along(start, start, r);
                if top_here <= z + 0.05 && top_here.is_finite() {
                    // nothing above the level here: straight in
                    let to = [sx, y, z];
                    match at {
                        None => linker.enter(to, &mut moves),
                        Some(from) => {
                            let need = stock.max_along([from[0], from[1]], start, r);
                            linker.link(from, to, need, &mut moves)
                        }
                    }
                } else {
                    let ramp_top = (top_here + linker.margin).min(linker.clearance_z).max(z);
                    let to = [sx, y, ramp_top];
                    match at {
                        None => linker.enter(to, &mut moves),
                        Some(from) => {
                            let need = stock.max_along([from[0], from[1]], start, r);
                            linker.link(from, to, need, &mut moves)
                        }
                    }
                    ramp(start, end, ramp_top, z, tan, ramp_max, p, &mut moves);
                }
                moves.push(Move::Feed {
                    to: [ex, y, z],
                    feed: p.feed,
                });
                stock.cut(start, end, r, z);
                at = Some([ex, y, z]);
            }
        }
    }
    if let Some(from) = at {
        linker.exit(from, &mut moves);
    }
    Ok(Operation {
        name: "roughing".into(),
        tool: p.tool,
        spindle_rpm: p.spindle_rpm,
        moves,
    })
}

/// Zig-zag ramp from `(start, top)` down to `(start, z)` along the line towards `end`, never
/// steeper than the ramp angle; ends back at `start` at depth `z`.
#[allow(clippy::too_many_arguments)]
fn ramp(
    start: [f64; 2],
    end: [f64; 2],
    top: f64,
    z: f64,
    tan: f64,
    ramp_max: f64,
    p: &RoughParams,
    out: &mut Vec<Move>,
) {
    let (dx, dy) = (end[0] - start[0], end[1] - start[1]);
    let len = dx.hypot(dy);
    let l = len.min(ramp_max);
    let (ux, uy) = (dx / len, dy / len);
    let at = |t: f64, zz: f64| [start[0] + ux * t, start[1] + uy * t, zz];
    let mut cur = top;
    let mut t = 0.0;
    let mut forward = true;
    while cur > z + 1e-9 {
        let target = if forward { l } else { 0.0 };
        let run = (target - t).abs();
        let drop = run * tan;
        if cur - drop <= z {
            let part = (cur - z) / tan;
            t += if forward { part } else { -part };
            cur = z;
        } else {
            t = target;
            cur -= drop;
            forward = !forward;
        }
        out.push(Move::Feed {
            to: at(t, cur),
            feed: p.plunge_feed,
        });
    }
    if t > 1e-9 {
        out.push(Move::Feed {
            to: at(0.0, z),
            feed: p.plunge_feed,
        });
    }
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
        // the floor cutter of a flat 10 grown by 0.5 + 1 is a bull; a ball of the same radius
        // over the dome is at least as high, so the analytic dome stands in for it conservatively
        let fc = p.floor_cutter();
        assert_eq!(
            fc,
            Cutter::Bull {
                diameter: 13.0,
                corner_radius: 0.5
            }
        );
        let s = DomeOnPlane {
            r: 6.5,
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
        };
        (s, p, l)
    }

    #[test]
    fn levels_ramps_and_allowance() {
        let (s, p, l) = setup();
        let op = rough(&s, s.rect, 0.0, -30.0, &p, &l).unwrap();
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
                Move::Feed { .. } => {
                    // the tool stays >= allowance - tolerance above the design's CL (dome as
                    // seen by a ball of radius r + allowance: conservative)
                    let (dx, dy, dz) = (q[0] - pos[0], q[1] - pos[1], q[2] - pos[2]);
                    let horiz = dx.hypot(dy);
                    if dz < -1e-9 && horiz > 1e-9 {
                        assert!(-dz / horiz <= tan + 1e-9, "ramp too steep: {m:?}");
                    }
                    if q[2] < -0.01 && dz.abs() < 1e-9 {
                        zs.insert((q[2] * 1000.0).round() as i64);
                    }
                }
                Move::Arc { .. } => panic!("no arcs in roughing"),
            }
            pos = q;
        }
        // Z levels every 4 mm and the last at the floor + allowance (-24.5)
        for lv in [-4000, -8000, -12000, -16000, -20000, -24000, -24500] {
            assert!(zs.contains(&lv), "level {lv} missing: {zs:?}");
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
    fn climb_lines_run_minus_x_conventional_plus_x() {
        let (s, mut p, l) = setup();
        for climb in [true, false] {
            p.climb = climb;
            let op = rough(&s, s.rect, 0.0, -30.0, &p, &l).unwrap();
            let mut pos = op.moves[0].end();
            let mut dirs = (0, 0);
            for m in &op.moves[1..] {
                let q = m.end();
                if let Move::Feed { feed, .. } = m
                    && *feed == p.feed
                    && (q[2] - pos[2]).abs() < 1e-9
                    && (q[0] - pos[0]).abs() > 5.0
                {
                    if q[0] < pos[0] {
                        dirs.0 += 1
                    } else {
                        dirs.1 += 1
                    }
                }
                pos = q;
            }
            if climb {
                assert!(dirs.0 > 20 && dirs.1 == 0, "{dirs:?}");
            } else {
                assert!(dirs.1 > 20 && dirs.0 == 0, "{dirs:?}");
            }
        }
    }
}
