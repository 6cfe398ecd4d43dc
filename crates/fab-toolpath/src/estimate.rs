//! Run-time estimate of a program: path length over feed, rapids at the machine's rapid rate,
//! plus a fixed time per tool change; when the machine profile gives an acceleration, each
//! move follows a trapezoidal velocity profile with the speed through each corner limited by
//! the turn angle, and round an arc by the centripetal acceleration (`v^2 / r` at most the
//! machine's), with a forward and backward pass as a motion planner does.

use std::time::Duration;

use crate::machine::Machine;
use crate::path::{Move, Operation};

/// One straight or curved motion as the estimate sees it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Segment {
    /// Path length, mm.
    pub length: f64,
    /// Programmed speed, mm/min.
    pub rate: f64,
    /// Unit direction at the start and at the end (equal for a line).
    pub dir_in: [f64; 3],
    pub dir_out: [f64; 3],
    /// Radius of the curve, mm (infinite for a line): round it the speed is at most
    /// `sqrt(acceleration * radius)`, the centripetal limit.
    pub radius: f64,
}

fn unit(v: [f64; 3]) -> [f64; 3] {
    let n = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
    if n > 0.0 {
        [v[0] / n, v[1] / n, v[2] / n]
    } else {
        [0.0; 3]
    }
}

/// The segment of a line from `a` to `b` at `rate` mm/min.
pub fn line_segment(a: [f64; 3], b: [f64; 3], rate: f64) -> Segment {
    let d = [b[0] - a[0], b[1] - a[1], b[2] - a[2]];
    let u = unit(d);
    Segment {
        length: (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt(),
        rate,
        dir_in: u,
        dir_out: u,
        radius: f64::INFINITY,
    }
}

/// Signed sweep angle (radians, positive counter-clockwise) of an XY arc from `a` to `b` about
/// `c`; a full circle when the ends coincide.
pub fn arc_sweep(a: [f64; 3], b: [f64; 3], c: [f64; 2], ccw: bool) -> f64 {
    let a0 = (a[1] - c[1]).atan2(a[0] - c[0]);
    let a1 = (b[1] - c[1]).atan2(b[0] - c[0]);
    let tau = std::f64::consts::TAU;
    let mut s = a1 - a0;
    if ccw {
        while s <= 1e-12 {
            s += tau;
        }
    } else {
        while s >= -1e-12 {
            s -= tau;
        }
    }
    s
}

/// The segment of an XY arc (helical when Z changes).
pub fn arc_segment(a: [f64; 3], b: [f64; 3], c: [f64; 2], ccw: bool, rate: f64) -> Segment {
    let r = (a[0] - c[0]).hypot(a[1] - c[1]);
    let sweep = arc_sweep(a, b, c, ccw);
    let planar = r * sweep.abs();
    let dz = b[2] - a[2];
    let sign = if ccw { 1.0 } else { -1.0 };
    let tangent = |p: [f64; 3]| {
        let rx = p[0] - c[0];
        let ry = p[1] - c[1];
        unit([-ry * sign * planar, rx * sign * planar, dz * r.max(1e-9)])
    };
    Segment {
        length: (planar * planar + dz * dz).sqrt(),
        rate,
        dir_in: tangent(a),
        dir_out: tangent(b),
        radius: r,
    }
}

/// Seconds to run `segments` in order, starting and ending at rest; `accel` in mm/s^2.
pub fn segments_seconds(segments: &[Segment], accel: Option<f64>) -> f64 {
    let Some(a) = accel.filter(|a| *a > 0.0) else {
        return segments
            .iter()
            .filter(|s| s.rate > 0.0)
            .map(|s| s.length / (s.rate / 60.0))
            .sum();
    };
    let n = segments.len();
    if n == 0 {
        return 0.0;
    }
    let vmax: Vec<f64> = segments
        .iter()
        .map(|s| (s.rate / 60.0).min((a * s.radius).sqrt()).max(1e-9))
        .collect();
    // Entry speed limits at each junction from the turn angle.
    let mut v = vec![0.0f64; n + 1];
    for i in 1..n {
        let (p, q) = (&segments[i - 1], &segments[i]);
        let cos =
            p.dir_out[0] * q.dir_in[0] + p.dir_out[1] * q.dir_in[1] + p.dir_out[2] * q.dir_in[2];
        let f = ((1.0 + cos) / 2.0).clamp(0.0, 1.0);
        v[i] = vmax[i - 1].min(vmax[i]) * f * f;
    }
    // Forward then backward pass: reachable speeds within each segment's length.
    for i in 0..n {
        let lim = (v[i] * v[i] + 2.0 * a * segments[i].length).sqrt();
        v[i + 1] = v[i + 1].min(lim);
    }
    for i in (0..n).rev() {
        let lim = (v[i + 1] * v[i + 1] + 2.0 * a * segments[i].length).sqrt();
        v[i] = v[i].min(lim);
    }
    let mut t = 0.0;
    for i in 0..n {
        let (v0, v1, vm, l) = (v[i], v[i + 1], vmax[i], segments[i].length);
        if l <= 0.0 {
            continue;
        }
        let d_acc = (vm * vm - v0 * v0) / (2.0 * a);
        let d_dec = (vm * vm - v1 * v1) / (2.0 * a);
        if d_acc + d_dec <= l {
            t += (vm - v0) / a + (vm - v1) / a + (l - d_acc - d_dec) / vm;
        } else {
            let vp = ((2.0 * a * l + v0 * v0 + v1 * v1) / 2.0)
                .sqrt()
                .max(v0.max(v1));
            t += (vp - v0) / a + (vp - v1) / a;
        }
    }
    t
}

/// The segments of `ops` in order, rapids at `rapid_rate`; the first move of the program is
/// taken as its start point.
pub fn segments_of(ops: &[Operation], rapid_rate: f64) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut pos: Option<[f64; 3]> = None;
    for op in ops {
        for m in &op.moves {
            if let Some(p) = pos {
                out.push(match *m {
                    Move::Rapid(to) => line_segment(p, to, rapid_rate),
                    Move::Feed { to, feed } => line_segment(p, to, feed),
                    Move::Arc {
                        to,
                        center,
                        ccw,
                        feed,
                    } => arc_segment(p, to, center, ccw, feed),
                });
            }
            pos = Some(m.end());
        }
    }
    out
}

/// Estimated run time of `ops` on `machine`: moves (acceleration-limited where the profile
/// gives an acceleration) plus `tool_change_s` for every tool loaded.
pub fn estimate_time(ops: &[Operation], machine: &Machine) -> Duration {
    let segs = segments_of(ops, machine.rapid_rate);
    let changes = tool_changes(
        ops.iter()
            .filter(|o| !o.moves.is_empty())
            .map(|o| Some(o.tool.number)),
    );
    let secs =
        segments_seconds(&segs, machine.acceleration) + machine.tool_change_s * changes as f64;
    Duration::from_secs_f64(secs.max(0.0))
}

/// How many tool changes a run of tools in use makes: each new tool (the first load counts;
/// `None`, no tool yet, does not).
pub fn tool_changes(tools: impl IntoIterator<Item = Option<u32>>) -> usize {
    let mut current = None;
    let mut n = 0;
    for t in tools {
        if t.is_some() && t != current {
            n += 1;
            current = t;
        }
    }
    n
}

/// `H:MM:SS` for headers and summaries.
pub fn format_duration(d: Duration) -> String {
    let s = d.as_secs_f64().round() as u64;
    format!("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cutter::Cutter;
    use crate::path::Tool;

    fn op(moves: Vec<Move>) -> Operation {
        Operation {
            name: "t".into(),
            tool: Tool {
                number: 1,
                cutter: Cutter::Ball { diameter: 6.0 },
            },
            spindle_rpm: 10000.0,
            moves,
        }
    }

    #[test]
    fn length_over_feed_without_acceleration() {
        let mut m = Machine::default_machine();
        m.acceleration = None;
        m.tool_change_s = 0.0;
        m.rapid_rate = 6000.0;
        // 100 mm rapid at 6000 mm/min = 1 s; 100 mm feed at 600 mm/min = 10 s.
        let ops = [op(vec![
            Move::Rapid([0.0, 0.0, 10.0]),
            Move::Rapid([100.0, 0.0, 10.0]),
            Move::Feed {
                to: [100.0, 100.0, 10.0],
                feed: 600.0,
            },
        ])];
        let t = estimate_time(&ops, &m).as_secs_f64();
        assert!((t - 11.0).abs() < 1e-9, "{t}");
        m.tool_change_s = 30.0;
        assert!((estimate_time(&ops, &m).as_secs_f64() - 41.0).abs() < 1e-9);
    }

    #[test]
    fn full_circle_arc_length_is_its_circumference() {
        let s = arc_segment([10.0, 0.0, 0.0], [10.0, 0.0, -2.0], [0.0, 0.0], true, 60.0);
        let c = std::f64::consts::TAU * 10.0;
        assert!((s.length - (c * c + 4.0).sqrt()).abs() < 1e-9);
        let half = arc_segment([10.0, 0.0, 0.0], [-10.0, 0.0, 0.0], [0.0, 0.0], false, 60.0);
        assert!((half.length - c / 2.0).abs() < 1e-9);
    }

    #[test]
    fn acceleration_only_adds_time_and_matches_the_trapezoid() {
        // One 100 mm line at 60 mm/s with a = 100 mm/s^2: 0.6 s ramp each end (18 mm each),
        // 64 mm at speed: 1.2 + 64/60 s.
        let s = [line_segment([0.0; 3], [100.0, 0.0, 0.0], 3600.0)];
        let t = segments_seconds(&s, Some(100.0));
        assert!((t - (1.2 + 64.0 / 60.0)).abs() < 1e-9, "{t}");
        // A zig-zag: corners force stops, so slower than with no acceleration.
        let zig: Vec<Segment> = (0..10)
            .map(|i| {
                let y = i as f64;
                line_segment([0.0, y, 0.0], [10.0, y + 1.0, 0.0], 3000.0)
            })
            .collect();
        assert!(segments_seconds(&zig, Some(500.0)) > segments_seconds(&zig, None));
    }

    #[test]
    fn a_tight_arc_is_taken_at_the_centripetal_limit() {
        // a full circle of radius 1 mm at 6000 mm/min (100 mm/s) with a = 1000 mm/s^2: round it
        // at most sqrt(1000 * 1) = 31.6 mm/s, so at least 2 pi / 31.6 s
        let s = [arc_segment(
            [1.0, 0.0, 0.0],
            [1.0, 0.0, 0.0],
            [0.0, 0.0],
            true,
            6000.0,
        )];
        let t = segments_seconds(&s, Some(1000.0));
        assert!(t >= std::f64::consts::TAU / 1000f64.sqrt(), "{t}");
        // a wide arc is limited by its feed only
        let wide = [arc_segment(
            [100.0, 0.0, 0.0],
            [-100.0, 0.0, 0.0],
            [0.0, 0.0],
            true,
            6000.0,
        )];
        let len = std::f64::consts::PI * 100.0;
        let t = segments_seconds(&wide, Some(1000.0));
        assert!(t < len / 100.0 + 0.2, "{t}");
    }

    #[test]
    fn durations_print_as_hours_minutes_seconds() {
        assert_eq!(format_duration(Duration::from_secs(3725)), "1:02:05");
        assert_eq!(format_duration(Duration::from_secs_f64(59.6)), "0:01:00");
    }
}
