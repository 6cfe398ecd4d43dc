//! Fewer, longer moves for the same path: collinear feed points removed within a chord
//! tolerance (default 0.005 mm), and runs of points at one Z that lie on a circle within the
//! tolerance replaced by arcs (G2/G3) where the controller's dialect has them.
//!
//! Only runs of consecutive `Feed` moves at one feed rate are touched; rapids, arcs and feed
//! changes are kept as they are.

use crate::path::{Move, Operation};

/// Default chord tolerance, mm.
pub const CHORD_TOLERANCE: f64 = 0.005;
/// Longest window of points one straight move may replace (keeps the pass linear in time).
const MAX_WINDOW: usize = 512;

/// Simplifies every operation's moves in place.
pub fn simplify_operation(op: &mut Operation, tolerance: f64, arcs: bool) {
    op.moves = simplify(&op.moves, tolerance, arcs);
}

/// The simplified moves: collinear removal, then (if `arcs`) arc fitting at constant Z.
pub fn simplify(moves: &[Move], tolerance: f64, arcs: bool) -> Vec<Move> {
    let mut out: Vec<Move> = Vec::with_capacity(moves.len() / 2);
    let mut i = 0;
    let mut pos: Option<[f64; 3]> = None;
    while i < moves.len() {
        let Move::Feed { feed, .. } = moves[i] else {
            out.push(moves[i]);
            pos = Some(moves[i].end());
            i += 1;
            continue;
        };
        // a run of feeds at one rate, starting from the current position
        let mut j = i;
        while j < moves.len() && matches!(moves[j], Move::Feed { feed: f, .. } if f == feed) {
            j += 1;
        }
        let Some(start) = pos else {
            // no known start point: nothing to simplify against
            out.extend_from_slice(&moves[i..j]);
            pos = Some(moves[j - 1].end());
            i = j;
            continue;
        };
        let mut pts = Vec::with_capacity(j - i + 1);
        pts.push(start);
        pts.extend(moves[i..j].iter().map(Move::end));
        let kept = collinear(&pts, tolerance);
        if arcs {
            fit_arcs(&kept, tolerance, feed, &mut out);
        } else {
            out.extend(kept[1..].iter().map(|&to| Move::Feed { to, feed }));
        }
        pos = Some(moves[j - 1].end());
        i = j;
    }
    out
}

/// Points of the polyline `pts` kept so that every dropped point is within `tol` of the
/// straight move that replaces it, and within `tol` of it in Z (first and last always kept).
pub fn collinear(pts: &[[f64; 3]], tol: f64) -> Vec<[f64; 3]> {
    if pts.len() <= 2 {
        return pts.to_vec();
    }
    let fits = |a: usize, e: usize| {
        (a + 1..e).all(|k| {
            seg_dist(pts[a], pts[e], pts[k]) <= tol && below_or_above(pts[a], pts[e], pts[k]) <= tol
        })
    };
    let last = pts.len() - 1;
    let mut out = vec![pts[0]];
    let mut a = 0;
    while a < last {
        // the farthest end (within the window) whose straight move keeps every point between
        // within tolerance: grow the step while it fits, then bisect (O(w log w), not O(w^2))
        let cap = (a + MAX_WINDOW).min(last);
        let mut good = a + 1;
        let mut step = 1;
        let mut bad = None;
        while good < cap {
            let e = (good + step).min(cap);
            if fits(a, e) {
                good = e;
                step *= 2;
            } else {
                bad = Some(e);
                break;
            }
        }
        if let Some(mut hi) = bad {
            while hi - good > 1 {
                let mid = (good + hi) / 2;
                if fits(a, mid) {
                    good = mid;
                } else {
                    hi = mid;
                }
            }
        }
        out.push(pts[good]);
        a = good;
    }
    out
}

/// How far the straight move `a` -> `b` passes above or below `p`, measured along Z over `p`'s
/// place in XY (0 where the move has no XY length): on a steep move a tool tip a hair off the
/// path sideways is far off it in Z, and 3-axis cutting is judged in Z.
fn below_or_above(a: [f64; 3], b: [f64; 3], p: [f64; 3]) -> f64 {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let l2 = dx * dx + dy * dy;
    if l2 <= 1e-18 {
        return 0.0;
    }
    let t = (((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / l2).clamp(0.0, 1.0);
    (a[2] + t * (b[2] - a[2]) - p[2]).abs()
}

fn seg_dist(a: [f64; 3], b: [f64; 3], p: [f64; 3]) -> f64 {
    let ab = [b[0] - a[0], b[1] - a[1], b[2] - a[2]];
    let ap = [p[0] - a[0], p[1] - a[1], p[2] - a[2]];
    let l2 = ab[0] * ab[0] + ab[1] * ab[1] + ab[2] * ab[2];
    let t = if l2 > 0.0 {
        ((ap[0] * ab[0] + ap[1] * ab[1] + ap[2] * ab[2]) / l2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let d = [ap[0] - t * ab[0], ap[1] - t * ab[1], ap[2] - t * ab[2]];
    (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt()
}

/// Replaces runs of at least 4 points at one Z lying on a circle (within `tol`, every point
/// and every chord's middle) with one arc move; the rest stay straight feeds. Arcs stay under
/// 180 degrees and between 0.5 mm and 5 m in radius.
fn fit_arcs(pts: &[[f64; 3]], tol: f64, feed: f64, out: &mut Vec<Move>) {
    let mut a = 0;
    while a + 1 < pts.len() {
        let mut best: Option<(usize, [f64; 2], bool)> = None;
        let mut e = a + 3;
        while e < pts.len() && e - a <= MAX_WINDOW {
            match arc_through(&pts[a..=e], tol) {
                // ends written the same (to a thousandth) would make a full circle in G-code
                Some((c, ccw)) if (pts[e][0] - pts[a][0]).hypot(pts[e][1] - pts[a][1]) >= 0.01 => {
                    best = Some((e, c, ccw))
                }
                Some(_) => {}
                None => break,
            }
            e += 1;
        }
        match best {
            Some((e, center, ccw)) => {
                out.push(Move::Arc {
                    to: pts[e],
                    center,
                    ccw,
                    feed,
                });
                a = e;
            }
            None => {
                out.push(Move::Feed {
                    to: pts[a + 1],
                    feed,
                });
                a += 1;
            }
        }
    }
}

fn arc_through(p: &[[f64; 3]], tol: f64) -> Option<([f64; 2], bool)> {
    let z = p[0][2];
    if p.iter().any(|q| (q[2] - z).abs() > 1e-9) {
        return None;
    }
    let (a, m, b) = (p[0], p[p.len() / 2], p[p.len() - 1]);
    // circumcentre of a, m, b in XY
    let (bx, by) = (m[0] - a[0], m[1] - a[1]);
    let (cx, cy) = (b[0] - a[0], b[1] - a[1]);
    let d = 2.0 * (bx * cy - by * cx);
    if d.abs() < 1e-12 {
        return None;
    }
    let ux = (cy * (bx * bx + by * by) - by * (cx * cx + cy * cy)) / d;
    let uy = (bx * (cx * cx + cy * cy) - cx * (bx * bx + by * by)) / d;
    let r = ux.hypot(uy);
    if !(0.5..=5000.0).contains(&r) {
        return None;
    }
    let center = [a[0] + ux, a[1] + uy];
    let ccw = d > 0.0;
    // every point on the circle, every chord's middle within tol, turning one way, < 180 deg
    let mut swept = 0.0;
    for w in p.windows(2) {
        for q in [w[0], w[1]] {
            if ((q[0] - center[0]).hypot(q[1] - center[1]) - r).abs() > tol {
                return None;
            }
        }
        let mx = (w[0][0] + w[1][0]) / 2.0 - center[0];
        let my = (w[0][1] + w[1][1]) / 2.0 - center[1];
        if (mx.hypot(my) - r).abs() > tol {
            return None;
        }
        let a0 = (w[0][1] - center[1]).atan2(w[0][0] - center[0]);
        let a1 = (w[1][1] - center[1]).atan2(w[1][0] - center[0]);
        let mut da = a1 - a0;
        while da > std::f64::consts::PI {
            da -= 2.0 * std::f64::consts::PI;
        }
        while da < -std::f64::consts::PI {
            da += 2.0 * std::f64::consts::PI;
        }
        if (da > 0.0) != ccw || da == 0.0 {
            return None;
        }
        swept += da.abs();
    }
    (swept < std::f64::consts::PI * 0.999).then_some((center, ccw))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feeds(pts: &[[f64; 3]]) -> Vec<Move> {
        pts.iter()
            .map(|&to| Move::Feed { to, feed: 1000.0 })
            .collect()
    }

    #[test]
    fn collinear_points_go_and_corners_stay() {
        let mut pts = vec![[0.0, 0.0, 0.0]];
        for i in 1..=10 {
            pts.push([i as f64, 0.001 * (i % 2) as f64, 0.0]);
        }
        pts.push([10.0, 5.0, 0.0]);
        let mut moves = vec![Move::Rapid(pts[0])];
        moves.extend(feeds(&pts[1..]));
        let s = simplify(&moves, CHORD_TOLERANCE, false);
        assert_eq!(s.len(), 3, "{s:?}");
        assert_eq!(s[1].end(), [10.0, 0.0, 0.0]);
        assert_eq!(s[2].end(), [10.0, 5.0, 0.0]);
        // a bump larger than the tolerance stays
        pts[5][2] = 0.01;
        let mut moves = vec![Move::Rapid(pts[0])];
        moves.extend(feeds(&pts[1..]));
        let s = simplify(&moves, CHORD_TOLERANCE, false);
        assert!(s.iter().any(|m| m.end() == [5.0, 0.001, 0.01]));
    }

    #[test]
    fn every_dropped_point_is_within_tolerance() {
        let pts: Vec<[f64; 3]> = (0..400)
            .map(|i| {
                let t = i as f64 * 0.05;
                [t, 0.3 * t.sin(), 0.2 * (0.7 * t).cos()]
            })
            .collect();
        let kept = collinear(&pts, 0.005);
        assert!(kept.len() < pts.len() / 2);
        let mut k = 0;
        for p in &pts {
            while k + 1 < kept.len() && kept[k + 1][0] < p[0] {
                k += 1;
            }
            let b = kept[(k + 1).min(kept.len() - 1)];
            assert!(seg_dist(kept[k], b, *p) <= 0.005 + 1e-12);
        }
    }

    #[test]
    fn points_on_a_circle_become_an_arc() {
        let r = 10.0;
        let pts: Vec<[f64; 3]> = (0..=30)
            .map(|i| {
                let a = (i as f64 * 3.0f64).to_radians();
                [5.0 + r * a.cos(), 7.0 + r * a.sin(), -2.0]
            })
            .collect();
        let mut moves = vec![Move::Rapid(pts[0])];
        moves.extend(feeds(&pts[1..]));
        let s = simplify(&moves, CHORD_TOLERANCE, true);
        assert_eq!(s.len(), 2, "{s:?}");
        let Move::Arc {
            to, center, ccw, ..
        } = s[1]
        else {
            panic!("{s:?}")
        };
        assert!(ccw);
        assert!((center[0] - 5.0).abs() < 1e-6 && (center[1] - 7.0).abs() < 1e-6);
        assert_eq!(to, pts[30]);
        // the same points without arcs: kept as straight moves, none dropped (chords sag 0.14 mm)
        let s = simplify(&moves, CHORD_TOLERANCE, false);
        assert_eq!(s.len(), 31);
    }
}
