//! A socket positive's rotary program: roughing levels from the cylinder, then a finishing helix.
//!
//! Roughing: a ball grown by the stock allowance is dropped radially; level `k` holds the ball's
//! bottom `k` stepdowns under the blank's surface (or on the grown design where that is higher)
//! and runs only over the stations where the level above would leave the finishing ball more
//! than a stepdown to cut: where the blank is within a stepdown of the design, the finishing
//! helix cuts it alone. Finishing: one helix of the
//! finishing ball from beyond the distal end to the blank's proximal face, its pitch from the
//! scallop target and shortened on steep ground (`helix`).
//!
//! Each pass starts and ends clear of the blank: rapid along X above it, straight in at the
//! plunge feed, the helix, straight out at the feed to just above the blank, rapid up. A is
//! counted on without wrapping within a pass and reset (G92) to its angle modulo 360 while the
//! tool is clear; a pass whose count would pass the controller's limit is split there by a
//! retract, a reset and a plunge back. Every cutting move's time keeps the surface speed at the
//! contact (radius of the ball's centre less the ball's) to the feed, the A rate and the linear
//! axes within the carver's limits.

use rayon::prelude::*;

use super::helix::{HelixError, HelixParams, HelixPoint, helix};
use super::radial::RadialIndex;
use super::{RotaryMove, RotaryOp};
use crate::path::Tool;

/// What a rotary carve is asked to do.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CarveParams {
    /// Ball-nose tools: roughing and finishing (may be the same pocket).
    pub rough_tool: Tool,
    pub finish_tool: Tool,
    /// The foam cylinder: its radius and its faces along X (proximal, distal), mm.
    pub blank_radius: f64,
    pub blank_x: (f64, f64),
    /// Stock the roughing leaves on the design, mm.
    pub allowance: f64,
    /// Deepest radial cut of a roughing level, mm.
    pub stepdown: f64,
    /// X advance per turn: roughing, finishing (on ground level with the axis), mm.
    pub rough_pitch: f64,
    pub finish_pitch: f64,
    /// Surface speed and plunge feed, mm/min; spindle, rpm.
    pub feed: f64,
    pub plunge_feed: f64,
    pub spindle_rpm: f64,
    /// Height of rapids above the blank's surface, mm.
    pub clearance: f64,
    /// The carver: fastest A (deg/min), fastest linear feed (mm/min), largest A count (deg).
    pub a_max_rate: f64,
    pub max_feed: f64,
    pub a_limit: f64,
}

/// The operations and what went into them.
#[derive(Clone, Debug)]
pub struct CarvePlan {
    pub ops: Vec<RotaryOp>,
    /// CL points computed (helix points after refinement).
    pub cl_points: usize,
    /// Roughing levels cut.
    pub levels: usize,
    /// Turns of the finishing helix.
    pub finish_turns: f64,
}

/// Plans roughing and finishing of `design` (triangles in program coordinates, the part at
/// A = 0).
pub fn carve(design: &[[[f64; 3]; 3]], p: &CarveParams) -> Result<CarvePlan, HelixError> {
    let rr = p.rough_tool.cutter.radius();
    let rf = p.finish_tool.cutter.radius();
    let clear_z = p.blank_radius + p.clearance;
    let above = p.blank_radius + 1.0;
    let mut cl_points = 0;
    let mut a_now = 0.0;

    // roughing
    let rough_idx = RadialIndex::new(design, rr + p.allowance);
    let x_start = p.blank_x.1 + rr + 0.5;
    let x_end = p.blank_x.0;
    let step = (p.rough_pitch / 2.0).max(0.25);
    let stations = ((x_start - x_end) / step).ceil() as usize + 1;
    // the lowest roughing centre radius per station
    let lowest: Vec<f64> = (0..stations)
        .into_par_iter()
        .map(|i| {
            let x = x_start - i as f64 * step;
            (0..72)
                .map(|j| {
                    let th = std::f64::consts::TAU * j as f64 / 72.0;
                    rough_idx.drop(x, th).unwrap_or(0.0)
                })
                .fold(f64::INFINITY, f64::min)
        })
        .collect();
    let mut rough_moves = Vec::new();
    let mut levels = 0;
    let mut above_level = p.blank_radius + rr;
    let mut k = 1;
    loop {
        let bottom = (p.blank_radius - k as f64 * p.stepdown).max(0.0);
        let level = bottom + rr;
        // the stations where more than a stepdown would be left over the design for the
        // finishing ball under the level above (`lowest` is the grown ball's centre: the
        // design's radius + the allowance + the ball's)
        let work: Vec<usize> = (0..stations)
            .filter(|&i| above_level - lowest[i] + p.allowance > p.stepdown + 1e-6)
            .collect();
        if let Some(&last) = work.iter().max() {
            let x_lo = (x_start - last as f64 * step - p.rough_pitch).max(x_end);
            let hp = HelixParams {
                pitch: p.rough_pitch,
                min_pitch_fraction: 1.0,
                x_start,
                x_end: x_lo,
                floor: level,
                step_deg: 4.0,
                max_chord: 5.0,
                tolerance: p.allowance * 0.5,
                excess: 1.0,
                a_start_deg: a_now,
            };
            let pts = helix(&rough_idx, &hp)?;
            cl_points += pts.len();
            a_now = add_pass(&mut rough_moves, &pts, rr, clear_z, above, p);
            levels += 1;
        }
        if bottom <= 0.0 {
            break;
        }
        above_level = level;
        k += 1;
    }

    // finishing
    let finish_idx = RadialIndex::new(design, rf);
    let (_, tip) = finish_idx.x_range();
    let hp = HelixParams {
        pitch: p.finish_pitch,
        min_pitch_fraction: 0.25,
        x_start: tip + rf + 0.5,
        x_end,
        floor: 0.0,
        step_deg: 3.0,
        max_chord: 3.0,
        tolerance: 0.006,
        excess: 0.03,
        a_start_deg: a_now,
    };
    let pts = helix(&finish_idx, &hp)?;
    cl_points += pts.len();
    let finish_turns = (pts.last().map_or(0.0, |q| q.a_deg) - a_now) / 360.0;
    let mut finish_moves = Vec::new();
    add_pass(&mut finish_moves, &pts, rf, clear_z, above, p);

    let op = |name: &str, tool: Tool, moves: Vec<RotaryMove>| RotaryOp {
        name: name.into(),
        tool,
        spindle_rpm: p.spindle_rpm,
        feed: p.feed,
        moves,
    };
    let mut ops = Vec::new();
    if !rough_moves.is_empty() {
        ops.push(op("roughing", p.rough_tool, rough_moves));
    }
    ops.push(op("finishing", p.finish_tool, finish_moves));
    Ok(CarvePlan {
        ops,
        cl_points,
        levels,
        finish_turns,
    })
}

/// Appends one pass (in from above the blank, the helix, out) to `moves`; returns the A count
/// at its end. A is reset modulo 360 before the pass and wherever the count would pass the
/// carver's limit.
fn add_pass(
    moves: &mut Vec<RotaryMove>,
    pts: &[HelixPoint],
    r: f64,
    clear_z: f64,
    above: f64,
    p: &CarveParams,
) -> f64 {
    let Some(first) = pts.first() else {
        return 0.0;
    };
    let z = |q: &HelixPoint| q.rho - r;
    let a0 = first.a_deg.rem_euclid(360.0);
    // program A = helix A - shift
    let mut shift = first.a_deg - a0;
    let enter = |moves: &mut Vec<RotaryMove>, q: &HelixPoint, a: f64| {
        moves.push(RotaryMove::Rapid { x: q.x, z: clear_z });
        moves.push(RotaryMove::Rapid { x: q.x, z: above });
        let dz = (above - z(q)).max(0.0);
        moves.push(RotaryMove::Feed {
            x: q.x,
            z: z(q),
            a,
            minutes: (dz / p.plunge_feed).max(1e-6),
        });
    };
    let leave = |moves: &mut Vec<RotaryMove>, q: &HelixPoint, a: f64| {
        let dz = (above - z(q)).max(0.0);
        moves.push(RotaryMove::Feed {
            x: q.x,
            z: above,
            a,
            minutes: (dz / p.feed).max(1e-6),
        });
        moves.push(RotaryMove::Rapid { x: q.x, z: clear_z });
    };
    moves.push(RotaryMove::Rapid {
        x: first.x,
        z: clear_z,
    });
    moves.push(RotaryMove::ResetA { a: a0 });
    enter(moves, first, a0);
    let mut prev = *first;
    for q in &pts[1..] {
        if q.a_deg - shift > p.a_limit {
            let a = (prev.a_deg - shift).rem_euclid(360.0);
            leave(moves, &prev, prev.a_deg - shift);
            moves.push(RotaryMove::ResetA { a });
            shift = prev.a_deg - a;
            enter(moves, &prev, a);
        }
        moves.push(RotaryMove::Feed {
            x: q.x,
            z: z(q),
            a: q.a_deg - shift,
            minutes: move_minutes(&prev, q, r, p),
        });
        prev = *q;
    }
    leave(moves, &prev, prev.a_deg - shift);
    prev.a_deg
}

/// Time of a cutting move: the surface speed at the contact at the feed, A and the linear axes
/// within the carver's limits.
fn move_minutes(a: &HelixPoint, b: &HelixPoint, r: f64, p: &CarveParams) -> f64 {
    let dx = b.x - a.x;
    let dr = b.rho - a.rho;
    let contact = (0.5 * (a.rho + b.rho) - r).max(0.0);
    let dphi = (b.a_deg - a.a_deg).to_radians().abs();
    let surface = (dx * dx + dr * dr + (contact * dphi).powi(2)).sqrt();
    (surface / p.feed)
        .max((b.a_deg - a.a_deg).abs() / p.a_max_rate)
        .max((dx * dx + dr * dr).sqrt() / p.max_feed)
        .max(1e-6)
}
