//! Profile: the cut-out around the part's outline, down through the blank, leaving holding tabs
//! so the part stays in the blank until the operator cuts them.
//!
//! The outline is the part's base rectangle; the tool runs outside it at its radius (plus a
//! hair), round the corners on arcs, clockwise for climb milling (part on the tool's right with
//! an M3 spindle). It goes down by ramping along the contour, each lap descending one stepdown
//! (no plunge), then a last lap flat at the bottom. Over each tab the tool rises to the tab's
//! top, on ramps at the ramp angle.

use super::{Rect, StrategyError, check_positive};
use crate::link::Linker;
use crate::path::{Move, Operation, Tool};

/// Settings of the profile cut-out.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ProfileParams {
    pub tool: Tool,
    pub stepdown: f64,
    /// Width of material each tab leaves, mm (0: no tabs).
    pub tab_width: f64,
    /// Height of the tabs above the bottom, mm.
    pub tab_height: f64,
    /// Tabs on each side of the outline.
    pub tabs_per_side: usize,
    pub ramp_angle_deg: f64,
    /// Angle of the ramps up onto and down from a tab, degrees from horizontal.
    pub tab_ramp_angle_deg: f64,
    /// Extra clearance between the tool's side and the outline, mm.
    pub clearance: f64,
    pub climb: bool,
    pub feed: f64,
    pub plunge_feed: f64,
    pub spindle_rpm: f64,
}

impl ProfileParams {
    pub fn new(tool: Tool) -> Self {
        ProfileParams {
            tool,
            stepdown: 4.0,
            tab_width: 8.0,
            tab_height: 3.0,
            tabs_per_side: 1,
            ramp_angle_deg: 10.0,
            tab_ramp_angle_deg: 30.0,
            clearance: 0.02,
            climb: true,
            feed: 3000.0,
            plunge_feed: 800.0,
            spindle_rpm: 16000.0,
        }
    }
}

/// The cut-out around `outline` from `top_z` (stock top) to `bottom_z` (bottom of the blank).
pub fn profile(
    outline: Rect,
    top_z: f64,
    bottom_z: f64,
    p: &ProfileParams,
    linker: &Linker,
) -> Result<Operation, StrategyError> {
    check_positive("profile stepdown", p.stepdown, 1000.0)?;
    check_positive("profile ramp angle", p.ramp_angle_deg, 45.0)?;
    check_positive("profile depth", top_z - bottom_z, 10_000.0)?;
    if !(p.tab_width >= 0.0 && p.tab_height >= 0.0 && p.clearance >= 0.0) {
        return Err(StrategyError::Parameter {
            what: "tab width, tab height and clearance",
            expected: "zero or more mm",
            found: p.tab_width.min(p.tab_height).min(p.clearance),
        });
    }
    let r = p.tool.cutter.radius();
    let o = r + p.clearance;
    check_positive("tab ramp angle", p.tab_ramp_angle_deg, 89.0)?;
    let tab_tan = p.tab_ramp_angle_deg.to_radians().tan();
    let tab_top = if p.tab_width > 0.0 && p.tabs_per_side > 0 {
        (bottom_z + p.tab_height).min(top_z)
    } else {
        f64::NEG_INFINITY
    };
    let Rect {
        xmin,
        ymin,
        xmax,
        ymax,
    } = outline;
    // sides, clockwise from the front-right corner: (start, end, corner centre after it)
    let sides = [
        ([xmax, ymin - o], [xmin, ymin - o], [xmin, ymin]),
        ([xmin - o, ymin], [xmin - o, ymax], [xmin, ymax]),
        ([xmin, ymax + o], [xmax, ymax + o], [xmax, ymax]),
        ([xmax + o, ymax], [xmax + o, ymin], [xmax, ymin]),
    ];
    let arc_len = std::f64::consts::FRAC_PI_2 * o;
    let lap = 2.0 * (outline.width() + outline.height()) + 4.0 * arc_len;
    let depth = top_z - bottom_z;
    let laps = (depth / p.stepdown).ceil().max(1.0) as usize;
    let per_lap = depth / laps as f64;

    // tool-tip height at arc length `s` along the whole descent (laps, then one flat lap)
    let z_lin = |s: f64| (top_z - s / lap * per_lap).max(bottom_z);
    let tab_z = |side_t: f64, side_len: f64| -> f64 {
        if tab_top == f64::NEG_INFINITY {
            return f64::NEG_INFINITY;
        }
        let mut best = f64::NEG_INFINITY;
        for k in 0..p.tabs_per_side {
            let c = side_len * (k as f64 + 0.5) / p.tabs_per_side as f64;
            let half = p.tab_width / 2.0 + r;
            let out = ((side_t - c).abs() - half).max(0.0);
            best = best.max(tab_top - out * tab_tan);
        }
        best
    };

    let mut moves = Vec::new();
    let first = if p.climb { sides[0].0 } else { sides[3].1 };
    let start = [first[0], first[1], top_z];
    linker.enter(start, &mut moves);
    let mut s_total = 0.0;
    let mut pos = start;
    // `laps` descending laps, then one more: z_lin bottoms out, so it is flat
    for _ in 0..=laps {
        let order: Vec<usize> = if p.climb {
            vec![0, 1, 2, 3]
        } else {
            vec![3, 2, 1, 0]
        };
        for &k in &order {
            let (a, b, c) = sides[k];
            let (a, b, corner, next) = if p.climb {
                (a, b, c, sides[(k + 1) % 4].0)
            } else {
                // counter-clockwise: the side backwards, then round the corner before it
                let prev = (k + 3) % 4;
                (b, a, sides[prev].2, sides[prev].1)
            };
            let len = (b[0] - a[0]).hypot(b[1] - a[1]);
            // samples along the side: ends, and every mm where tabs may shape the height
            let n = (len / 1.0).ceil().max(1.0) as usize;
            for i in 1..=n {
                let t = len * i as f64 / n as f64;
                let s = s_total + t;
                let z = z_lin(s).max(tab_z(t, len)).max(bottom_z).min(top_z);
                let q = [
                    a[0] + (b[0] - a[0]) * t / len,
                    a[1] + (b[1] - a[1]) * t / len,
                    z,
                ];
                moves.push(Move::Feed {
                    to: q,
                    feed: p.feed,
                });
            }
            s_total += len;
            // round the corner
            s_total += arc_len;
            let z = z_lin(s_total).max(bottom_z);
            let q = [next[0], next[1], z];
            moves.push(Move::Arc {
                to: q,
                center: corner,
                ccw: !p.climb,
                feed: p.feed,
            });
            pos = q;
        }
    }
    linker.exit(pos, &mut moves);
    Ok(Operation {
        name: "profile".into(),
        tool: p.tool,
        spindle_rpm: p.spindle_rpm,
        moves,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Cutter;

    fn run(climb: bool) -> (Operation, ProfileParams) {
        let mut p = ProfileParams::new(Tool {
            number: 1,
            cutter: Cutter::Flat { diameter: 10.0 },
        });
        p.climb = climb;
        let l = Linker {
            clearance_z: 3.0,
            margin: 1.0,
            link_feed: 6000.0,
            plunge_feed: 800.0,
        };
        let rect = Rect {
            xmin: 10.0,
            ymin: 10.0,
            xmax: 110.0,
            ymax: 60.0,
        };
        (profile(rect, 0.0, -20.0, &p, &l).unwrap(), p)
    }

    #[test]
    fn cuts_down_to_the_bottom_around_the_outline_leaving_tabs() {
        let (op, p) = run(true);
        let tan = p.tab_ramp_angle_deg.to_radians().tan();
        let mut pos = op.moves[0].end();
        let mut bottom_pts = 0;
        let mut tab_pts = 0;
        for m in &op.moves[1..] {
            let q = m.end();
            if let Move::Feed { feed, .. } = m {
                if *feed == p.feed {
                    // never steeper than the ramp angle, never inside the outline + radius
                    let h = (q[0] - pos[0]).hypot(q[1] - pos[1]);
                    assert!((q[2] - pos[2]).abs() <= h * tan + 1e-9, "{pos:?} -> {q:?}");
                    let inside = q[0] > 10.0 - 5.0
                        && q[0] < 110.0 + 5.0
                        && q[1] > 10.0 - 5.0
                        && q[1] < 60.0 + 5.0;
                    assert!(!inside, "{q:?} cuts into the part");
                }
            }
            if (q[2] + 20.0).abs() < 1e-9 {
                bottom_pts += 1;
            }
            if (q[2] + 17.0).abs() < 1e-9 {
                tab_pts += 1;
            }
            pos = q;
        }
        assert!(bottom_pts > 100, "{bottom_pts}");
        // four tabs, each 8 mm + the tool's diameter wide at the top (about 18 samples), on the
        // last descending lap (partly) and the flat lap
        assert!((4 * 18..=2 * 4 * 19).contains(&tab_pts), "{tab_pts}");
        // the flat lap: the tool is at the tab top over 4 stretches, at the bottom between them
        let last: Vec<f64> = op.moves[op.moves.len() - 320..op.moves.len() - 1]
            .iter()
            .map(|m| m.end()[2])
            .collect();
        let rises = last
            .windows(2)
            .filter(|w| w[0] < -19.99 && w[1] > -19.99)
            .count();
        assert_eq!(rises, 4, "{last:?}");
        // ends with a retract to the clearance plane
        assert_eq!(op.moves.last().unwrap().end()[2], 3.0);
    }

    #[test]
    fn climb_goes_clockwise_conventional_counter_clockwise() {
        for climb in [true, false] {
            let (op, _) = run(climb);
            assert!(op.moves.iter().all(|m| match m {
                Move::Arc { ccw, .. } => *ccw != climb,
                _ => true,
            }));
            // the signed area of the path's XY polygon: negative for clockwise
            let pts: Vec<[f64; 3]> = op.moves.iter().map(Move::end).collect();
            let area: f64 = pts
                .windows(2)
                .map(|w| w[0][0] * w[1][1] - w[1][0] * w[0][1])
                .sum();
            assert_eq!(area < 0.0, climb, "area {area}");
        }
    }
}
