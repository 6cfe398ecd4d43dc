//! Helical passes of a ball over a turning part.
//!
//! The tool stays over the axis (Y = 0) and moves along X while A turns: one turn of A advances
//! X by the pitch. At A the ray under the tool is `theta = 90 deg - A` of the part frame (A
//! turns the part by the right-hand rule about +X, the tool comes down from +Z), and the ball's
//! centre sits at the radial drop-cutter's radius on that ray, or at the pass's floor radius
//! where that is higher (a roughing level).
//!
//! The pitch is the pass's pitch where the surface runs along the axis and shorter where it
//! climbs (the distal dome, steps): `pitch / sqrt(1 + g^2)` for the steepest radial slope `g`
//! of the CL surface across the turn, so tracks stay a pitch apart along the surface. Points are
//! spaced by angle and chord; between two of them the machine moves X, Z and A linearly, and
//! each such move is split until its middle is within `tolerance` of the exact CL (a straight
//! chord of a bump would cut into it).

use std::f64::consts::{FRAC_PI_2, TAU};

use rayon::prelude::*;

use super::radial::RadialIndex;

/// What one helical pass does.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HelixParams {
    /// X advance per turn where the surface runs along the axis, mm.
    pub pitch: f64,
    /// The shortest pitch on steep ground, as a fraction of `pitch` (1: constant pitch).
    pub min_pitch_fraction: f64,
    /// Where the ball's centre starts, mm (the distal end, beyond the part).
    pub x_start: f64,
    /// Where it ends, mm; a last full turn is made there.
    pub x_end: f64,
    /// The ball centre's lowest radius (a roughing level), mm; 0 for none.
    pub floor: f64,
    /// Largest angle between points, degrees.
    pub step_deg: f64,
    /// Longest chord between points along the surface, mm.
    pub max_chord: f64,
    /// How far the middle of a move may fall below the exact CL (gouge), mm.
    pub tolerance: f64,
    /// How far the middle of a move may stand above it (material left), mm.
    pub excess: f64,
    /// A at the start, degrees.
    pub a_start_deg: f64,
}

/// One point of a pass: X, the ball centre's radius and A (degrees, counting on from the pass's
/// start without wrapping).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HelixPoint {
    pub x: f64,
    pub rho: f64,
    pub a_deg: f64,
}

/// Why a pass could not be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HelixError {
    #[error("the pitch must be a positive number of mm, got {0}")]
    Pitch(f64),
    #[error("a pass of {turns} turns is too long (more than {max}); is the pitch too fine?")]
    TooLong { turns: usize, max: usize },
    #[error("the pass's angle step and chord must be positive")]
    Step,
}

/// Most turns in one pass (a 600 mm blank at a 0.05 mm pitch).
const MAX_TURNS: usize = 12_000;

/// The helical pass over the design indexed in `idx`.
pub fn helix(idx: &RadialIndex, p: &HelixParams) -> Result<Vec<HelixPoint>, HelixError> {
    if !(p.pitch.is_finite() && p.pitch > 0.0) {
        return Err(HelixError::Pitch(p.pitch));
    }
    if !(p.step_deg > 0.0 && p.max_chord > 0.0) {
        return Err(HelixError::Step);
    }
    let span = p.x_start - p.x_end;
    let dir = if span >= 0.0 { -1.0 } else { 1.0 };
    let span = span.abs();
    let min_turns = (span / p.pitch).ceil() as usize;
    let most = (span / (p.pitch * p.min_pitch_fraction.clamp(0.01, 1.0))).ceil() as usize;
    if most.max(min_turns) > MAX_TURNS {
        return Err(HelixError::TooLong {
            turns: most,
            max: MAX_TURNS,
        });
    }
    let rho_at = |x: f64, a_deg: f64| -> f64 {
        let th = FRAC_PI_2 - a_deg.to_radians();
        idx.drop(x, th).unwrap_or(0.0).max(p.floor).max(0.0)
    };

    // a coarse map of the CL along the pass: steepest slope and largest radius per station
    const AROUND: usize = 72;
    let step = (p.pitch / 2.0).max(0.05);
    let stations = (span / step).ceil() as usize + 2;
    let map: Vec<(f64, f64)> = (0..stations)
        .into_par_iter()
        .map(|i| {
            let x = p.x_start + dir * i as f64 * step;
            let xn = x + dir * step;
            let mut g = 0.0f64;
            let mut top = 0.0f64;
            for j in 0..AROUND {
                let a = 360.0 * j as f64 / AROUND as f64;
                let (r0, r1) = (rho_at(x, a), rho_at(xn, a));
                g = g.max((r1 - r0).abs() / step);
                top = top.max(r0).max(r1);
            }
            (g, top)
        })
        .collect();
    let station = |x: f64| -> usize {
        ((((x - p.x_start) * dir) / step).floor().max(0.0) as usize).min(stations - 1)
    };

    // the turns: where each starts, its pitch and its point count
    let mut turns: Vec<(f64, f64, usize)> = Vec::new();
    let mut x = p.x_start;
    loop {
        let done = (x - p.x_end) * dir >= -1e-9;
        let (s0, s1) = (station(x), station(x + dir * p.pitch));
        let (mut g, mut top) = (0.0f64, 0.0f64);
        for (gg, tt) in &map[s0.min(s1)..=s0.max(s1)] {
            g = g.max(*gg);
            top = top.max(*tt);
        }
        let pitch = if done {
            0.0
        } else {
            (p.pitch / (1.0 + g * g).sqrt()).max(p.pitch * p.min_pitch_fraction.clamp(0.01, 1.0))
        };
        let pitch = pitch.min((p.x_end - x).abs());
        let n = ((360.0 / p.step_deg).ceil() as usize)
            .max((TAU * top / p.max_chord).ceil() as usize)
            .max(8);
        turns.push((x, pitch, n));
        if done {
            break;
        }
        x += dir * pitch;
        if turns.len() > MAX_TURNS {
            return Err(HelixError::TooLong {
                turns: turns.len(),
                max: MAX_TURNS,
            });
        }
    }
    // every point's (x, a): a turn's points, then the last one's end
    let mut firsts = Vec::with_capacity(turns.len() + 1);
    let mut total = 0usize;
    for t in &turns {
        firsts.push(total);
        total += t.2;
    }
    firsts.push(total);
    let at = |k: usize| -> (f64, f64) {
        if k == total {
            let (x0, pitch, _) = *turns.last().expect("a pass has a turn");
            return (x0 + dir * pitch, p.a_start_deg + 360.0 * turns.len() as f64);
        }
        let t = firsts.partition_point(|&f| f <= k) - 1;
        let (x0, pitch, n) = turns[t];
        let f = (k - firsts[t]) as f64 / n as f64;
        (x0 + dir * pitch * f, p.a_start_deg + 360.0 * (t as f64 + f))
    };
    let coarse: Vec<HelixPoint> = (0..=total)
        .into_par_iter()
        .map(|k| {
            let (x, a) = at(k);
            HelixPoint {
                x,
                rho: rho_at(x, a),
                a_deg: a,
            }
        })
        .collect();
    // split moves whose middle strays from the exact CL
    let inserted: Vec<Vec<HelixPoint>> = coarse
        .par_windows(2)
        .map(|w| {
            let mut out = Vec::new();
            refine(w[0], w[1], p, &rho_at, 0, &mut out);
            out
        })
        .collect();
    let mut pts = Vec::with_capacity(coarse.len() + inserted.iter().map(Vec::len).sum::<usize>());
    for (i, q) in coarse.iter().enumerate() {
        pts.push(*q);
        if let Some(ins) = inserted.get(i) {
            pts.extend_from_slice(ins);
        }
    }
    Ok(pts)
}

/// Points between `a` and `b` (exclusive, in order) so that no move's middle, nor its quarter
/// points, is off the exact CL by more than the pass allows.
fn refine(
    a: HelixPoint,
    b: HelixPoint,
    p: &HelixParams,
    rho_at: &(impl Fn(f64, f64) -> f64 + Sync),
    depth: u32,
    out: &mut Vec<HelixPoint>,
) {
    if depth >= 10 {
        return;
    }
    let mid = |t: f64| HelixPoint {
        x: a.x + t * (b.x - a.x),
        rho: a.rho + t * (b.rho - a.rho),
        a_deg: a.a_deg + t * (b.a_deg - a.a_deg),
    };
    let off = |t: f64| {
        let m = mid(t);
        let exact = rho_at(m.x, m.a_deg);
        (m.rho - exact, exact)
    };
    let (d, exact) = off(0.5);
    let bad = |d: f64| d < -p.tolerance || d > p.excess;
    if bad(d) || (depth == 0 && (bad(off(0.25).0) || bad(off(0.75).0))) {
        let m = HelixPoint {
            rho: exact,
            ..mid(0.5)
        };
        refine(a, m, p, rho_at, depth + 1, out);
        out.push(m);
        refine(m, b, p, rho_at, depth + 1, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cone(r0: f64, r1: f64, len: f64, n: usize) -> Vec<[[f64; 3]; 3]> {
        let mut t = Vec::new();
        for i in 0..n {
            let (a0, a1) = (TAU * i as f64 / n as f64, TAU * (i + 1) as f64 / n as f64);
            let p = |x: f64, a: f64| {
                let r = r0 + (r1 - r0) * x / len;
                [x, r * a.cos(), r * a.sin()]
            };
            t.push([p(0.0, a0), p(len, a0), p(len, a1)]);
            t.push([p(0.0, a0), p(len, a1), p(0.0, a1)]);
        }
        t
    }

    fn params() -> HelixParams {
        HelixParams {
            pitch: 1.0,
            min_pitch_fraction: 0.25,
            x_start: 90.0,
            x_end: 10.0,
            floor: 0.0,
            step_deg: 2.0,
            max_chord: 1.5,
            tolerance: 0.002,
            excess: 0.01,
            a_start_deg: 0.0,
        }
    }

    #[test]
    fn a_pass_turns_once_a_pitch_and_stays_on_the_cl() {
        let tris = cone(30.0, 40.0, 100.0, 96);
        let idx = RadialIndex::new(&tris, 6.0);
        let p = params();
        let pts = helix(&idx, &p).unwrap();
        let first = pts[0];
        let last = *pts.last().unwrap();
        assert_eq!(first.x, 90.0);
        assert!((last.x - 10.0).abs() < 1e-9, "{}", last.x);
        // the cone's slope is 0.1: the pitch shortens to 1/sqrt(1.01) of 1 mm
        let turns = (last.a_deg - first.a_deg) / 360.0;
        assert!((81.0..=83.0).contains(&turns), "{turns}");
        // A only grows, X only falls
        for w in pts.windows(2) {
            assert!(w[1].a_deg > w[0].a_deg && w[1].x <= w[0].x);
        }
        // every point and every move's middle on the CL within the tolerance
        for w in pts.windows(2) {
            for q in [w[0]] {
                let exact = idx.drop(q.x, FRAC_PI_2 - q.a_deg.to_radians()).unwrap();
                assert!((q.rho - exact).abs() < 1e-9);
            }
            let m = HelixPoint {
                x: 0.5 * (w[0].x + w[1].x),
                rho: 0.5 * (w[0].rho + w[1].rho),
                a_deg: 0.5 * (w[0].a_deg + w[1].a_deg),
            };
            let exact = idx.drop(m.x, FRAC_PI_2 - m.a_deg.to_radians()).unwrap();
            assert!(
                m.rho - exact > -p.tolerance - 1e-9,
                "gouge {}",
                m.rho - exact
            );
        }
    }

    #[test]
    fn a_floor_holds_the_ball_up() {
        let tris = cone(30.0, 40.0, 100.0, 96);
        let idx = RadialIndex::new(&tris, 6.0);
        let p = HelixParams {
            floor: 44.0,
            min_pitch_fraction: 1.0,
            ..params()
        };
        let pts = helix(&idx, &p).unwrap();
        assert!(pts.iter().all(|q| q.rho >= 44.0 - 1e-12));
        assert!(
            pts.iter().any(|q| q.rho > 44.5),
            "the cone rises above the floor"
        );
    }

    #[test]
    fn impossible_pitches_are_refused() {
        let idx = RadialIndex::new(&cone(30.0, 40.0, 100.0, 16), 6.0);
        assert!(matches!(
            helix(
                &idx,
                &HelixParams {
                    pitch: 0.0,
                    ..params()
                }
            ),
            Err(HelixError::Pitch(_))
        ));
        assert!(matches!(
            helix(
                &idx,
                &HelixParams {
                    pitch: 1e-6,
                    ..params()
                }
            ),
            Err(HelixError::TooLong { .. })
        ));
    }
}
