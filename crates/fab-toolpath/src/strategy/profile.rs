//! Profile: the cut-out around the part's outline, down through the blank, leaving holding tabs
//! so the part stays in the blank until the operator cuts them.
//!
//! The outline is the part's: any simple polygon whose concave turns are wider than the tool (a
//! positive's convex base, a direct-milled orthosis's outline, a rectangle). The tool runs outside it at its radius (plus a hair): the edges moved out, the
//! corners rounded on a polygon circumscribing the round, so no chord ever comes nearer the part
//! than the radius. Clockwise for climb milling (part on the tool's right with an M3 spindle).
//! It goes down by ramping along the contour, each lap descending one stepdown (no plunge),
//! then a last lap flat at the bottom. Over each tab (spread evenly along the contour) the tool
//! rises to the tab's top, on ramps at the tab ramp angle.

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
    /// Tabs round the outline, spread evenly along it.
    pub tabs: usize,
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
            tabs: 4,
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

/// Longest straight move along the contour, mm (so tabs get their shape).
const SAMPLE: f64 = 1.0;

/// Shortest corner arc, mm: a G-code arc whose ends are written the same is a full circle.
const MIN_ARC: f64 = 0.01;

impl Rect {
    /// The rectangle as a counter-clockwise polygon.
    pub fn polygon(&self) -> Vec<[f64; 2]> {
        self.corners().to_vec()
    }
}

/// Signed area of a polygon (positive counter-clockwise).
fn signed_area(poly: &[[f64; 2]]) -> f64 {
    let n = poly.len();
    (0..n)
        .map(|i| {
            let (a, b) = (poly[i], poly[(i + 1) % n]);
            a[0] * b[1] - b[0] * a[1]
        })
        .sum::<f64>()
        / 2.0
}

/// One piece of the tool-centre contour: a straight line, or an arc round `center` (the
/// outline's corner) at the tool's offset.
#[derive(Clone, Copy, Debug)]
struct Piece {
    from: [f64; 2],
    to: [f64; 2],
    center: Option<[f64; 2]>,
    len: f64,
}

/// The tool-centre contour round the convex counter-clockwise polygon `poly` at distance `o`:
/// counter-clockwise, closed. The edges moved out by `o`, each corner an arc of radius `o` round
/// it (split into arcs of at most `SAMPLE` mm, so tabs get their shape there too): every point of
/// it is exactly `o` from the polygon.
fn offset_contour(poly: &[[f64; 2]], o: f64) -> Vec<Piece> {
    let n = poly.len();
    let normal = |a: [f64; 2], b: [f64; 2]| {
        let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
        let l = dx.hypot(dy);
        [dy / l, -dx / l]
    };
    let mut out: Vec<Piece> = Vec::new();
    let mut at: Option<[f64; 2]> = None;
    // to `q`: on an arc of length `len` round `center`, or straight
    let mut go = |q: [f64; 2], center: Option<[f64; 2]>, len: f64, out: &mut Vec<Piece>| {
        if let Some(from) = at
            && (from[0] - q[0]).hypot(from[1] - q[1]) > 1e-9
        {
            let chord = (from[0] - q[0]).hypot(from[1] - q[1]);
            out.push(Piece {
                from,
                to: q,
                center,
                len: if center.is_some() { len } else { chord },
            });
        }
        at = Some(q);
    };
    for i in 0..=n {
        let v = poly[i % n];
        let n_in = normal(poly[(i + n - 1) % n], v);
        let n_out = normal(v, poly[(i + 1) % n]);
        let a0 = n_in[1].atan2(n_in[0]);
        let mut turn = n_out[1].atan2(n_out[0]) - a0;
        if turn < 0.0 {
            turn += std::f64::consts::TAU;
        }
        let mut start = [v[0] + o * n_in[0], v[1] + o * n_in[1]];
        if turn > std::f64::consts::PI {
            // a concave corner: the two edges' offsets meet at a point `o` from both (the
            // outline's concave turns are far wider than the tool, so no later edge comes nearer)
            let det = n_in[0] * n_out[1] - n_in[1] * n_out[0];
            if det.abs() > 1e-9 {
                let (dx, dy) = (
                    (o * n_out[1] - o * n_in[1]) / det,
                    (n_in[0] * o - n_out[0] * o) / det,
                );
                start = [v[0] + dx, v[1] + dy];
            }
        }
        go(start, None, 0.0, &mut out);
        if i == n {
            break;
        }
        // a turn over half a circle is a concave (reflex) vertex: no arc round it, the offsets
        // met above; an arc too short to write (its ends the same to a thousandth) neither
        if turn > 1e-12 && turn < std::f64::consts::PI && o * turn >= MIN_ARC {
            let k = (turn * o / SAMPLE).ceil().max(1.0) as usize;
            for j in 1..=k {
                let a = a0 + turn * j as f64 / k as f64;
                go(
                    [v[0] + o * a.cos(), v[1] + o * a.sin()],
                    Some(v),
                    o * turn / k as f64,
                    &mut out,
                );
            }
        }
    }
    out
}

/// The cut-out around `outline` (a simple polygon in machine XY whose concave turns are wider than
/// the tool, either orientation, no repeated
/// closing point) from `top_z` (stock top) to `bottom_z` (bottom of the blank).
pub fn profile(
    outline: &[[f64; 2]],
    top_z: f64,
    bottom_z: f64,
    p: &ProfileParams,
    linker: &Linker,
) -> Result<Operation, StrategyError> {
    check_positive("profile stepdown", p.stepdown, 1000.0)?;
    super::check_feed("profile feed", p.feed)?;
    super::check_feed("profile plunge feed", p.plunge_feed)?;
    check_positive("profile ramp angle", p.ramp_angle_deg, 45.0)?;
    check_positive("profile depth", top_z - bottom_z, 10_000.0)?;
    if !(p.tab_width >= 0.0 && p.tab_height >= 0.0 && p.clearance >= 0.0) {
        return Err(StrategyError::Parameter {
            what: "tab width, tab height and clearance",
            expected: "zero or more mm",
            found: p.tab_width.min(p.tab_height).min(p.clearance),
        });
    }
    check_positive("tab ramp angle", p.tab_ramp_angle_deg, 89.0)?;
    let mut poly: Vec<[f64; 2]> = outline
        .iter()
        .copied()
        .filter(|q| q[0].is_finite() && q[1].is_finite())
        .collect();
    let area = signed_area(&poly);
    if poly.len() < 3 || poly.len() != outline.len() || area.abs() < 1e-6 {
        return Err(StrategyError::Parameter {
            what: "profile outline area (a polygon of 3 or more finite points)",
            expected: "a positive number of square mm",
            found: area.abs(),
        });
    }
    if area < 0.0 {
        poly.reverse();
    }
    let r = p.tool.cutter.radius();
    let o = r + p.clearance;
    let tab_tan = p.tab_ramp_angle_deg.to_radians().tan();
    let mut contour = offset_contour(&poly, o);
    if p.climb {
        // clockwise: the part on the tool's right
        contour.reverse();
        for piece in &mut contour {
            std::mem::swap(&mut piece.from, &mut piece.to);
        }
    }
    let lap: f64 = contour.iter().map(|piece| piece.len).sum();
    let tabs = if p.tab_width > 0.0 { p.tabs } else { 0 };
    let tab_top = (bottom_z + p.tab_height).min(top_z);
    let depth = top_z - bottom_z;
    // laps of at most one stepdown each, never steeper than the ramp angle
    let ramp_tan = p.ramp_angle_deg.to_radians().tan();
    super::check_levels("cut-out laps (depth / stepdown)", depth, p.stepdown)?;
    super::check_levels(
        "cut-out laps (depth / descent along one lap at the ramp angle)",
        depth,
        lap * ramp_tan,
    )?;
    let laps = (depth / p.stepdown)
        .ceil()
        .max((depth / (lap * ramp_tan)).ceil())
        .max(1.0) as usize;
    let per_lap = depth / laps as f64;
    // tool-tip height at arc length `s` along the whole descent (laps, then one flat lap)
    let z_lin = |s: f64| (top_z - s / lap * per_lap).max(bottom_z);
    // the tabs' floor at arc length `t` along a lap: flat over tab width + tool diameter, ramps
    let half = p.tab_width / 2.0 + r;
    let tab_z = |t: f64| -> f64 {
        let mut best = f64::NEG_INFINITY;
        for k in 0..tabs {
            let c = lap * (k as f64 + 0.5) / tabs as f64;
            let mut d = (t - c).abs() % lap;
            d = d.min(lap - d);
            best = best.max(tab_top - (d - half).max(0.0) * tab_tan);
        }
        best
    };

    let mut moves = Vec::new();
    let start = [contour[0].from[0], contour[0].from[1], top_z];
    linker.enter(start, &mut moves);
    let mut pos = start;
    let mut s_total = 0.0;
    let z_at = |s_total: f64, t_lap: f64| z_lin(s_total).max(tab_z(t_lap)).max(bottom_z).min(top_z);
    // `laps` descending laps, then one more: z_lin bottoms out, so it is flat
    for _ in 0..=laps {
        let mut t_lap = 0.0;
        for piece in &contour {
            let (a, b) = (piece.from, piece.to);
            let len = piece.len;
            if let Some(center) = piece.center {
                // at most SAMPLE long: one (helical) arc
                let q = [b[0], b[1], z_at(s_total + len, t_lap + len)];
                moves.push(Move::Arc {
                    to: q,
                    center,
                    ccw: !p.climb,
                    feed: p.feed,
                });
                pos = q;
            } else {
                let n = (len / SAMPLE).ceil().max(1.0) as usize;
                for i in 1..=n {
                    let t = len * i as f64 / n as f64;
                    let q = [
                        a[0] + (b[0] - a[0]) * t / len,
                        a[1] + (b[1] - a[1]) * t / len,
                        z_at(s_total + t, t_lap + t),
                    ];
                    moves.push(Move::Feed {
                        to: q,
                        feed: p.feed,
                    });
                    pos = q;
                }
            }
            s_total += len;
            t_lap += len;
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

    fn linker() -> Linker {
        Linker {
            clearance_z: 3.0,
            margin: 1.0,
            link_feed: 6000.0,
            plunge_feed: 800.0,
            rapid_rate: 0.0,
        }
    }

    fn params(climb: bool) -> ProfileParams {
        let mut p = ProfileParams::new(Tool {
            number: 1,
            cutter: Cutter::Flat { diameter: 10.0 },
        });
        p.climb = climb;
        p
    }

    /// A rounded, foot-like convex outline: a stadium 200 long, 80 wide, sampled every degree.
    fn stadium() -> Vec<[f64; 2]> {
        let mut v = Vec::new();
        for (cx, a0) in [(240.0, -90.0), (40.0, 90.0)] {
            for k in 0..=180 {
                let a = f64::to_radians(a0 + k as f64);
                v.push([cx + 40.0 * a.cos(), 100.0 + 40.0 * a.sin()]);
            }
        }
        v
    }

    /// Distance from `q` to the polygon's boundary, negative inside (convex, counter-clockwise).
    fn signed_distance(poly: &[[f64; 2]], q: [f64; 2]) -> f64 {
        let n = poly.len();
        let mut best = f64::INFINITY;
        let mut inside = true;
        for i in 0..n {
            let (a, b) = (poly[i], poly[(i + 1) % n]);
            let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
            let t =
                (((q[0] - a[0]) * dx + (q[1] - a[1]) * dy) / (dx * dx + dy * dy)).clamp(0.0, 1.0);
            best = best.min((q[0] - a[0] - t * dx).hypot(q[1] - a[1] - t * dy));
            if dx * (q[1] - a[1]) - dy * (q[0] - a[0]) < 0.0 {
                inside = false;
            }
        }
        if inside { -best } else { best }
    }

    #[test]
    fn follows_a_rounded_outline_at_the_tool_radius_without_touching_it() {
        let poly = stadium();
        let p = params(true);
        let op = profile(&poly, 0.0, -20.0, &p, &linker()).unwrap();
        // every straight move stays at least the radius (+ clearance) outside, and close to
        // it; every arc runs round an outline corner at exactly that distance
        let mut far = 0.0f64;
        let (mut lines, mut arcs) = (0, 0);
        let mut pos = op.moves[0].end();
        for m in &op.moves[1..] {
            let q = m.end();
            match *m {
                Move::Feed { feed, .. } if feed == p.feed => {
                    lines += 1;
                    for k in 0..=8 {
                        let t = k as f64 / 8.0;
                        let x = [pos[0] + t * (q[0] - pos[0]), pos[1] + t * (q[1] - pos[1])];
                        let d = signed_distance(&poly, x);
                        assert!(d >= 5.02 - 1e-9, "{x:?} at {d} from the outline");
                        far = far.max(d);
                    }
                }
                Move::Arc { center, ccw, .. } => {
                    arcs += 1;
                    assert!(!ccw);
                    assert!(poly.contains(&center), "{center:?}");
                    for e in [pos, q] {
                        let r = (e[0] - center[0]).hypot(e[1] - center[1]);
                        assert!((r - 5.02).abs() < 1e-9, "{r}");
                    }
                }
                _ => {}
            }
            pos = q;
        }
        assert!(lines > 500 && arcs > 500, "{lines} lines, {arcs} arcs");
        assert!(far < 5.02 + 0.01, "strays {far} from the outline");
    }

    #[test]
    fn a_hair_concave_or_flat_corner_gets_no_circle_round_it() {
        // a rounded outline can come out of its hull with a vertex a hair concave, or a hair
        // convex: the profile must neither take the first for a turn of almost a whole circle
        // (a circle of the tool round the vertex, into the part) nor write the second as an arc
        // whose ends are the same to a thousandth (G-code reads a full circle)
        for push in [1e-7, -1e-7] {
            let mut poly = stadium();
            let k = 90;
            let (a, b) = (poly[k - 1], poly[k + 1]);
            poly[k] = [
                (a[0] + b[0]) / 2.0 - push * (b[1] - a[1]),
                (a[1] + b[1]) / 2.0 + push * (b[0] - a[0]),
            ];
            let op = profile(&poly, 0.0, -20.0, &params(true), &linker()).unwrap();
            let mut pos = op.moves[0].end();
            let mut round_k = 0.0;
            for m in &op.moves[1..] {
                let q = m.end();
                if let Move::Arc { center, ccw, .. } = *m {
                    let chord = (q[0] - pos[0]).hypot(q[1] - pos[1]);
                    assert!(chord >= 0.01, "an arc too short to write: {chord}");
                    if center == poly[k] {
                        round_k += crate::estimate::arc_sweep(pos, q, center, ccw).abs();
                    }
                }
                pos = q;
            }
            // one lap down and one at the bottom: at most a hair round the vertex each
            assert!(round_k < 0.01, "{round_k} rad round the vertex ({push})");
        }
    }

    #[test]
    fn a_concave_outline_is_followed_at_the_radius_in_its_notch_too() {
        // a U: two prongs 40 wide with a 30 mm notch between (wider than the 10 mm tool)
        let poly = vec![
            [0.0, 0.0],
            [110.0, 0.0],
            [110.0, 80.0],
            [70.0, 80.0],
            [70.0, 30.0],
            [40.0, 30.0],
            [40.0, 80.0],
            [0.0, 80.0],
        ];
        let p = params(true);
        let o = p.tool.cutter.radius() + p.clearance;
        let dist = |q: [f64; 2]| -> f64 {
            (0..poly.len())
                .map(|k| {
                    let (a, b) = (poly[k], poly[(k + 1) % poly.len()]);
                    let (ex, ey) = (b[0] - a[0], b[1] - a[1]);
                    let t = (((q[0] - a[0]) * ex + (q[1] - a[1]) * ey) / (ex * ex + ey * ey))
                        .clamp(0.0, 1.0);
                    (q[0] - a[0] - t * ex).hypot(q[1] - a[1] - t * ey)
                })
                .fold(f64::MAX, f64::min)
        };
        let op = profile(&poly, 0.0, -20.0, &p, &linker()).unwrap();
        let mut pos = op.moves[0].end();
        let mut in_notch = 0;
        for m in &op.moves[1..] {
            let q = m.end();
            if let Move::Feed { .. } = m {
                for k in 0..=20 {
                    let t = k as f64 / 20.0;
                    let x = [pos[0] + (q[0] - pos[0]) * t, pos[1] + (q[1] - pos[1]) * t];
                    let d = dist(x);
                    assert!(d >= o - 1e-6, "{x:?} only {d} from the outline");
                    assert!(d <= o + 1e-6 || q[2] > -0.5, "{x:?} {d} off the outline");
                }
            }
            if (45.0..=65.0).contains(&q[0]) && (35.0..=80.0).contains(&q[1]) {
                in_notch += 1;
            }
            pos = q;
        }
        assert!(in_notch > 0, "the notch is cut");
    }

    #[test]
    fn ramps_down_to_the_bottom_leaving_tabs() {
        let poly = Rect {
            xmin: 10.0,
            ymin: 10.0,
            xmax: 110.0,
            ymax: 60.0,
        }
        .polygon();
        let p = params(true);
        let op = profile(&poly, 0.0, -20.0, &p, &linker()).unwrap();
        let tan = p.tab_ramp_angle_deg.to_radians().tan();
        let ramp = p.ramp_angle_deg.to_radians().tan();
        let mut pos = op.moves[0].end();
        let mut bottom_pts = 0;
        let mut descending = true;
        for m in &op.moves[1..] {
            let q = m.end();
            if let Move::Feed { feed, .. } = m
                && *feed == p.feed
            {
                let h = (q[0] - pos[0]).hypot(q[1] - pos[1]);
                // no plunge: down at the ramp angle at most, over tabs at the tab ramp angle
                assert!((q[2] - pos[2]).abs() <= h * tan + 1e-9, "{pos:?} -> {q:?}");
                if descending && q[2] < pos[2] && q[2] > -17.0 {
                    assert!(pos[2] - q[2] <= h * ramp + 1e-9, "{pos:?} -> {q:?}");
                }
                let d = signed_distance(&poly, [q[0], q[1]]);
                assert!(d >= 5.02 - 1e-9, "{q:?} cuts into the part ({d})");
            }
            if (q[2] + 20.0).abs() < 1e-9 {
                bottom_pts += 1;
                descending = false;
            }
            pos = q;
        }
        assert!(bottom_pts > 100, "{bottom_pts}");
        // the flat lap at the end: four stretches at the tab top, the bottom between them
        let lap = 2.0 * (100.0 + 50.0) + std::f64::consts::TAU * 5.02;
        let mut z_tail: Vec<(f64, f64)> = Vec::new();
        let mut s = 0.0;
        let feeds: Vec<[f64; 3]> = op.moves[..op.moves.len() - 1]
            .iter()
            .map(Move::end)
            .collect();
        for w in feeds.windows(2).rev() {
            s += (w[1][0] - w[0][0]).hypot(w[1][1] - w[0][1]);
            z_tail.push((s, w[1][2]));
            if s > lap - 0.5 {
                break;
            }
        }
        let rises = z_tail
            .windows(2)
            .filter(|w| (w[0].1 < -19.99) != (w[1].1 < -19.99))
            .count();
        assert_eq!(rises, 8, "{z_tail:?}");
        let at_top: f64 = z_tail
            .windows(2)
            .filter(|w| (w[0].1 + 17.0).abs() < 1e-9 && (w[1].1 + 17.0).abs() < 1e-9)
            .map(|w| w[1].0 - w[0].0)
            .sum();
        // each tab: 8 mm of material, so the tool's centre stays up over 8 + 10 mm
        assert!((at_top - 4.0 * 18.0).abs() < 4.0 * 1.01, "{at_top}");
        // ends with a retract to the clearance plane
        assert_eq!(op.moves.last().unwrap().end()[2], 3.0);
    }

    #[test]
    fn climb_goes_clockwise_conventional_counter_clockwise() {
        for climb in [true, false] {
            for poly in [stadium(), stadium().into_iter().rev().collect()] {
                let op = profile(&poly, 0.0, -20.0, &params(climb), &linker()).unwrap();
                let pts: Vec<[f64; 3]> = op.moves.iter().map(Move::end).collect();
                let area: f64 = pts
                    .windows(2)
                    .map(|w| w[0][0] * w[1][1] - w[1][0] * w[0][1])
                    .sum();
                assert_eq!(area < 0.0, climb, "area {area}");
            }
        }
    }

    #[test]
    fn refuses_a_degenerate_outline() {
        let l = linker();
        for bad in [
            vec![[0.0, 0.0], [1.0, 1.0]],
            vec![[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]],
            vec![[0.0, 0.0], [f64::NAN, 1.0], [2.0, 0.0]],
        ] {
            assert!(matches!(
                profile(&bad, 0.0, -10.0, &params(true), &l),
                Err(StrategyError::Parameter { .. })
            ));
        }
    }
}
