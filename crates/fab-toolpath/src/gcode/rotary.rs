//! Writes rotary (A about X) operations as a LinuxCNC program.
//!
//! Cutting moves are in inverse time (`G93`): every `G1` carries `F` = 1 / (minutes for that
//! move), so the surface speed stays the feed wherever the radius changes; rapids and the start
//! and end are in `G94`. A is counted on without wrapping while the tool cuts and set back to its
//! angle modulo 360 with `G92 A..` while the tool is clear of the blank; the program clears any
//! offset left by an earlier run at its start (`G92.1`) and its own at the end.
//!
//! Header comments as for the router's programs (job number only, scan SHA-256, fab's version,
//! machine, blank, work zero, estimated run time, `(TOOL T1 BALL D12.000)`), then the moves.
//! Everything is checked before a line is written: the carver has a rotary axis, the dialect is
//! LinuxCNC's, tools agree with the tool table, every point is inside the travel (X and Z as
//! `blank_origin + p`, A within its count), times are finite and positive.

use std::fmt::Write as _;
use std::time::Duration;

use crate::estimate::format_duration;
use crate::gcode::number::fixed;
use crate::gcode::write::{ProgramFile, tool_comment};
use crate::gcode::{Dialect, GcodeError};
use crate::machine::{Machine, same_cutter};
use crate::rotary::{RotaryMove, RotaryOp};

/// What the header of a rotary program says.
#[derive(Clone, Debug, PartialEq)]
pub struct RotaryHeader {
    /// The lab's job number, or "unassigned"; never a patient reference.
    pub job: String,
    pub scan_sha256: String,
    pub fab_version: String,
    /// The foam cylinder: diameter and length, mm, and where its proximal face is on X.
    pub blank_diameter: f64,
    pub blank_length: f64,
    pub blank_x0: f64,
    /// Where work zero is, in words.
    pub work_zero: String,
    pub notes: Vec<String>,
}

/// Checks `ops` against `machine` and `dialect`.
pub fn check_rotary(
    ops: &[RotaryOp],
    machine: &Machine,
    dialect: Dialect,
) -> Result<(), GcodeError> {
    let Some(rot) = machine.rotary else {
        return Err(GcodeError::Header(format!(
            "machine {} has no rotary axis: a rotary program needs a carver profile (e.g. linuxcnc-rotary)",
            machine.name
        )));
    };
    if dialect != Dialect::LinuxCnc {
        return Err(GcodeError::Header(format!(
            "rotary programs are written in the linuxcnc dialect (inverse-time G93 with A words), not {}",
            dialect.name()
        )));
    }
    if ops.iter().all(|o| o.moves.is_empty()) {
        return Err(GcodeError::Empty);
    }
    for op in ops {
        match machine.tool(op.tool.number) {
            Some(t) if same_cutter(&t.cutter, &op.tool.cutter) => {}
            other => {
                return Err(GcodeError::ToolMismatch {
                    op: op.name.clone(),
                    number: op.tool.number,
                    wanted: op.tool.cutter.to_string(),
                    table: other.map_or("nothing".into(), |t| t.cutter.to_string()),
                    machine: machine.name.clone(),
                });
            }
        }
        if !(op.spindle_rpm.is_finite()
            && op.spindle_rpm >= 1.0
            && op.spindle_rpm <= machine.max_spindle_rpm)
        {
            return Err(GcodeError::Spindle {
                op: op.name.clone(),
                rpm: op.spindle_rpm,
                max: machine.max_spindle_rpm,
                machine: machine.name.clone(),
            });
        }
        for (index, m) in op.moves.iter().enumerate() {
            let (x, z, a) = match *m {
                RotaryMove::Rapid { x, z } => (x, z, None),
                RotaryMove::Feed { x, z, a, minutes } => {
                    if !(minutes.is_finite() && minutes > 0.0) {
                        return Err(GcodeError::BadFeed {
                            op: op.name.clone(),
                            index,
                            feed: minutes,
                        });
                    }
                    (x, z, Some(a))
                }
                RotaryMove::ResetA { a } => (f64::NAN, f64::NAN, Some(a)),
            };
            if let Some(a) = a {
                if !a.is_finite() {
                    return Err(GcodeError::NonFinite {
                        op: op.name.clone(),
                        index,
                    });
                }
                if !rot.a_travel.contains(a) {
                    return Err(GcodeError::OutOfTravel {
                        op: op.name.clone(),
                        index,
                        axis: 'A',
                        value: a,
                        machine_value: a,
                        min: rot.a_travel.min,
                        max: rot.a_travel.max,
                        machine: machine.name.clone(),
                    });
                }
            }
            if matches!(m, RotaryMove::ResetA { .. }) {
                continue;
            }
            if !(x.is_finite() && z.is_finite()) {
                return Err(GcodeError::NonFinite {
                    op: op.name.clone(),
                    index,
                });
            }
            for (axis, v, o, r) in [
                ('X', x, machine.blank_origin[0], machine.travel.x),
                ('Y', 0.0, machine.blank_origin[1], machine.travel.y),
                ('Z', z, machine.blank_origin[2], machine.travel.z),
            ] {
                if !r.contains(o + v) {
                    return Err(GcodeError::OutOfTravel {
                        op: op.name.clone(),
                        index,
                        axis,
                        value: v,
                        machine_value: o + v,
                        min: r.min,
                        max: r.max,
                        machine: machine.name.clone(),
                    });
                }
            }
        }
    }
    Ok(())
}

/// Estimated run time: each cutting move its programmed time, rapids at the rapid rate with the
/// machine's acceleration, A brought up to speed at every plunge, tool changes.
pub fn estimate_rotary(ops: &[RotaryOp], machine: &Machine) -> Duration {
    let accel = machine.acceleration.unwrap_or(f64::INFINITY);
    let a_accel = machine.rotary.map_or(f64::INFINITY, |r| r.a_acceleration);
    let mut secs = 0.0;
    let mut pos: Option<(f64, f64)> = None;
    let mut starts = 0usize;
    let mut last_was_feed = false;
    for op in ops.iter().filter(|o| !o.moves.is_empty()) {
        for m in &op.moves {
            match *m {
                RotaryMove::Rapid { x, z } => {
                    if let Some((px, pz)) = pos {
                        let d = (x - px).hypot(z - pz);
                        let v = machine.rapid_rate / 60.0;
                        // a trapezoid (or triangle) profile from rest to rest
                        secs += if d * accel > v * v {
                            d / v + v / accel
                        } else {
                            2.0 * (d / accel).sqrt()
                        };
                    }
                    pos = Some((x, z));
                    last_was_feed = false;
                }
                RotaryMove::Feed { x, z, minutes, .. } => {
                    if !last_was_feed {
                        starts += 1;
                    }
                    secs += minutes * 60.0;
                    pos = Some((x, z));
                    last_was_feed = true;
                }
                RotaryMove::ResetA { .. } => {}
            }
        }
    }
    // A from rest to the cutting rate and back at each run of cutting moves
    let a_rate = machine.rotary.map_or(0.0, |r| r.a_max_rate) / 60.0;
    if a_accel.is_finite() && a_rate > 0.0 {
        secs += starts as f64 * a_rate / a_accel;
    }
    let changes = crate::estimate::tool_changes(
        ops.iter()
            .filter(|o| !o.moves.is_empty())
            .map(|o| Some(o.tool.number)),
    );
    secs += machine.tool_change_s * changes as f64;
    Duration::from_secs_f64(secs.max(0.0))
}

/// Writes `ops` as one LinuxCNC program after checking them.
pub fn write_rotary_program(
    header: &RotaryHeader,
    ops: &[RotaryOp],
    machine: &Machine,
    dialect: Dialect,
) -> Result<ProgramFile, GcodeError> {
    check_rotary(ops, machine, dialect)?;
    for (what, s) in [("job", &header.job), ("work zero", &header.work_zero)] {
        if s.contains(['(', ')', '\n', '\r', ';', '%']) {
            return Err(GcodeError::Header(format!(
                "{what} holds a character a G-code comment cannot: {s:?}"
            )));
        }
    }
    let estimated = estimate_rotary(ops, machine);
    let clear_z = ops
        .iter()
        .flat_map(|o| &o.moves)
        .filter_map(|m| match m {
            RotaryMove::Rapid { z, .. } => Some(*z),
            _ => None,
        })
        .fold(f64::NEG_INFINITY, f64::max);
    let mut out = String::with_capacity(64 * ops.iter().map(|o| o.moves.len()).sum::<usize>());
    let mut line = |s: &str| {
        out.push_str(s);
        out.push('\n');
    };
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if matches!(c, '(' | ')' | ';' | '%') || c.is_control() {
                    ' '
                } else {
                    c
                }
            })
            .collect()
    };
    line(&format!("(fab rotary program for job {})", header.job));
    line(&format!("(JOB {})", header.job));
    if !header.scan_sha256.is_empty() {
        line(&format!(
            "(SCAN SHA256 {})",
            header.scan_sha256.to_ascii_lowercase()
        ));
    }
    line(&format!("(FAB VERSION {})", clean(&header.fab_version)));
    line(&format!(
        "(MACHINE {} DIALECT {})",
        machine.name,
        dialect.name()
    ));
    line(&format!(
        "(BLANK CYLINDER D{} L{} FROM X{})",
        fixed(header.blank_diameter, 3),
        fixed(header.blank_length, 3),
        fixed(header.blank_x0, 3)
    ));
    line(&format!("(WORK ZERO {})", clean(&header.work_zero)));
    line("(A TURNS THE PART ABOUT X, RIGHT-HAND RULE; TOOL VERTICAL OVER THE AXIS, Y0)");
    line(&format!(
        "(ESTIMATED RUN TIME {})",
        format_duration(estimated)
    ));
    let mut declared = Vec::new();
    for op in ops {
        if !declared.contains(&op.tool.number) {
            declared.push(op.tool.number);
            line(&tool_comment(op.tool.number, &op.tool.cutter));
        }
    }
    for n in &header.notes {
        for chunk in wrap(&clean(n), 74) {
            line(&format!("(NOTE {chunk})"));
        }
    }
    line("G21 G17 G90 G94 G40 G49 G80");
    line("G92.1");
    line("G64 P0.005");
    let z_safe = fixed(clear_z, 3);
    line(&format!("G0 Z{z_safe}"));
    line("G0 A0");
    let mut tool = None;
    let mut buf = String::new();
    let mut inverse = false;
    // X and Z as last written (None: unknown, only Z known after the first lines)
    let mut at: Option<(String, String)> = None;
    for (k, op) in ops.iter().enumerate() {
        if op.moves.is_empty() {
            continue;
        }
        line(&format!(
            "(OP {} {} T{})",
            k + 1,
            clean(&op.name),
            op.tool.number
        ));
        if tool != Some(op.tool.number) {
            if inverse {
                line("G94");
                inverse = false;
            }
            line(&format!("G0 Z{z_safe}"));
            if tool.is_some() {
                line("M5");
            }
            line(&format!("T{} M6", op.tool.number));
            line(&format!("G43 H{}", op.tool.number));
            line(&format!("S{} M3", fixed(op.spindle_rpm, 0)));
            tool = Some(op.tool.number);
        }
        for m in &op.moves {
            buf.clear();
            match *m {
                RotaryMove::Rapid { x, z } => {
                    let to = (fixed(x, 3), fixed(z, 3));
                    // a rapid to where the tool is would be a move of A alone to a checker
                    if at.as_ref() == Some(&to) {
                        continue;
                    }
                    if inverse {
                        line("G94");
                        inverse = false;
                    }
                    let _ = write!(buf, "G0 X{} Y0 Z{}", to.0, to.1);
                    at = Some(to);
                }
                RotaryMove::ResetA { a } => {
                    let _ = write!(buf, "G92 A{}", fixed(a, 4));
                }
                RotaryMove::Feed { x, z, a, minutes } => {
                    if !inverse {
                        line("G93");
                        inverse = true;
                    }
                    let to = (fixed(x, 3), fixed(z, 3));
                    let _ = write!(
                        buf,
                        "G1 X{} Z{} A{} F{}",
                        to.0,
                        to.1,
                        fixed(a, 4),
                        fixed(1.0 / minutes, 3)
                    );
                    at = Some(to);
                }
            }
            line(&buf);
        }
    }
    if inverse {
        line("G94");
    }
    line(&format!("G0 Z{z_safe}"));
    line("M5");
    line("G92.1");
    line("M2");
    Ok(ProgramFile {
        suffix: String::new(),
        text: out,
        tools: declared,
        estimated,
    })
}

fn wrap(s: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    for w in s.split_whitespace() {
        if !cur.is_empty() && cur.len() + 1 + w.len() > width {
            lines.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(w);
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}
