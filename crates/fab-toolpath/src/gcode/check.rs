//! Checks a parsed program against a dialect and, optionally, a machine, and plays it into the
//! list of tool-tip moves the carve simulation (`sim`) needs.
//!
//! Errors: words or G/M codes the dialect does not know, no units (G21/G20) or distance mode
//! (G90/G91) before the first move, no M30/M2, two motions on one line, a cutting move without a
//! feed or with the spindle off, arcs whose radius differs at the ends or that are not in G17,
//! and with a machine: feeds and spindle speeds above its limits, moves outside its travel or
//! below the table (the blank's height from the `(BLANK X.. Y.. Z..)` header comment).
//! Warnings: no G17 or G94 stated, Fanuc numbers without a decimal point, a missing `%` or O
//! number in Fanuc, tools used but not declared as `(TOOL Tn BALL|FLAT|BULL Dd [CRr])`.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::cutter::Cutter;
use crate::estimate::{Segment, arc_segment, line_segment, segments_seconds};
use crate::gcode::Dialect;
use crate::gcode::parse::{Line, Word};
use crate::gcode::write::Blank;
use crate::machine::Machine;

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

/// One problem, where it is.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Finding {
    pub severity: Severity,
    pub line: usize,
    pub col: usize,
    pub message: String,
}

/// Kind of a played move.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub enum MoveKind {
    Rapid,
    Feed,
    /// XY arc about `center`, counter-clockwise when `ccw`.
    Arc {
        center: [f64; 2],
        ccw: bool,
    },
}

/// One tool-tip move in the program's coordinates (mm).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct PlayedMove {
    pub line: usize,
    pub kind: MoveKind,
    pub from: [f64; 3],
    pub to: [f64; 3],
    pub tool: Option<u32>,
    /// mm/min (0 for rapids).
    pub feed: f64,
}

/// What to check against.
#[derive(Clone, Debug)]
pub struct CheckOptions {
    pub dialect: Dialect,
    pub machine: Option<Machine>,
}

/// The outcome of `check_program`.
#[derive(Clone, Debug, Serialize)]
pub struct CheckReport {
    pub dialect: Dialect,
    pub machine: Option<String>,
    pub lines: usize,
    pub findings: Vec<Finding>,
    pub moves: Vec<PlayedMove>,
    /// Tools declared in `(TOOL ...)` comments.
    pub tools: BTreeMap<u32, Cutter>,
    pub blank: Option<Blank>,
    /// Cutting path length and rapid length, mm.
    pub feed_length: f64,
    pub rapid_length: f64,
    /// Estimated run time, s (with the machine's rapid rate and acceleration when given;
    /// otherwise rapids at 5000 mm/min).
    pub estimated_s: f64,
    /// Extent of all moves, program coordinates: [[xmin, ymin, zmin], [xmax, ymax, zmax]].
    pub extent: Option<[[f64; 3]; 2]>,
}

impl CheckReport {
    pub fn errors(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
    }
    pub fn ok(&self) -> bool {
        self.errors().next().is_none()
    }
}

/// Parses `(TOOL T2 BALL D6.000)`, `(TOOL T3 BULL D12 CR2)` comments.
pub fn parse_tool_comment(text: &str) -> Option<(u32, Cutter)> {
    let up = text.to_ascii_uppercase();
    let mut it = up.split_whitespace().skip_while(|w| *w != "TOOL");
    it.next()?;
    let n: u32 = it.next()?.strip_prefix('T')?.parse().ok()?;
    let kind = it.next()?;
    let d: f64 = it.next()?.strip_prefix('D')?.parse().ok()?;
    let cr: Option<f64> = it
        .next()
        .and_then(|w| w.strip_prefix("CR"))
        .and_then(|v| v.parse().ok());
    if !(d.is_finite() && d > 0.0) {
        return None;
    }
    let c = match kind {
        "BALL" => Cutter::Ball { diameter: d },
        "FLAT" => Cutter::Flat { diameter: d },
        "BULL" => Cutter::Bull {
            diameter: d,
            corner_radius: cr.filter(|c| *c >= 0.0 && *c <= d / 2.0)?,
        },
        _ => return None,
    };
    Some((n, c))
}

fn parse_blank_comment(text: &str) -> Option<Blank> {
    let up = text.to_ascii_uppercase();
    let mut it = up.split_whitespace();
    if it.next()? != "BLANK" {
        return None;
    }
    let mut v = [0.0; 3];
    for (k, p) in ['X', 'Y', 'Z'].into_iter().enumerate() {
        v[k] = it.next()?.strip_prefix(p)?.parse().ok()?;
    }
    Some(Blank {
        x: v[0],
        y: v[1],
        z: v[2],
    })
}

/// A tool named in a GRBL-style pause comment: `CHANGE TO T3 ...` or `LOAD T1 ...`.
fn pause_tool(text: &str) -> Option<u32> {
    let up = text.to_ascii_uppercase();
    let mut it = up.split_whitespace();
    let first = it.next()?;
    let t = match first {
        "LOAD" => it.next()?,
        "CHANGE" => {
            if it.next()? != "TO" {
                return None;
            }
            it.next()?
        }
        _ => return None,
    };
    t.strip_prefix('T')?
        .trim_end_matches([':', ','])
        .parse()
        .ok()
}

fn code10(v: f64) -> Option<u32> {
    let c = (v * 10.0).round();
    ((v * 10.0 - c).abs() < 1e-6 && c >= 0.0).then_some(c as u32)
}

fn show_code(letter: char, c10: u32) -> String {
    if c10.is_multiple_of(10) {
        format!("{letter}{}", c10 / 10)
    } else {
        format!("{letter}{}.{}", c10 / 10, c10 % 10)
    }
}

/// Checks and plays `lines` (from `parse_program`).
pub fn check_program(lines: &[Line], opts: &CheckOptions) -> CheckReport {
    let d = opts.dialect;
    let mut findings = Vec::new();
    let mut push = |sev, line: usize, col: usize, message: String| {
        findings.push(Finding {
            severity: sev,
            line,
            col,
            message,
        })
    };
    let mut tools = BTreeMap::new();
    let mut blank = None;
    for l in lines {
        for c in &l.comments {
            if let Some((n, cut)) = parse_tool_comment(&c.text) {
                tools.insert(n, cut);
            } else if blank.is_none() {
                blank = parse_blank_comment(&c.text);
            }
        }
    }

    // Modal state.
    let mut units: Option<f64> = None; // mm per program unit
    let mut absolute: Option<bool> = None;
    let mut plane_xy = true;
    let mut plane_stated = false;
    let mut feed_mode_stated = false;
    let mut motion: Option<u32> = None; // G code x10
    let mut feed = 0.0f64;
    let mut spindle_on = false;
    let mut pos: Option<[f64; 3]> = None;
    let mut tool: Option<u32> = if tools.len() == 1 {
        tools.keys().next().copied()
    } else {
        None
    };
    let mut ended = false;
    let mut moves = Vec::new();
    let mut warned_after_end = false;
    let mut first_motion_line = None;
    let mut saw_percent = false;
    let mut saw_o = false;

    for l in lines {
        if l.percent {
            saw_percent = true;
            continue;
        }
        if ended {
            if !l.words.is_empty() && !warned_after_end {
                push(
                    Severity::Warning,
                    l.line,
                    l.words[0].col,
                    "code after the program end (M30/M2) is never run".into(),
                );
                warned_after_end = true;
            }
            continue;
        }
        for c in &l.comments {
            if let Some(t) = pause_tool(&c.text) {
                tool = Some(t);
            }
        }
        // Words the dialect knows.
        let mut line_motion: Option<(u32, &Word)> = None;
        let mut non_motion_g = false;
        for w in &l.words {
            if !d.known_letters().contains(w.letter) {
                push(
                    Severity::Error,
                    l.line,
                    w.col,
                    format!("{d} does not know the word '{}{}'", w.letter, w.raw),
                );
                continue;
            }
            if d == Dialect::Fanuc
                && "XYZIJKRF".contains(w.letter)
                && !w.raw.contains('.')
                && w.value != 0.0
            {
                push(
                    Severity::Warning,
                    l.line,
                    w.col,
                    format!(
                        "'{}{}' has no decimal point: a Fanuc control may read it in thousandths of a mm",
                        w.letter, w.raw
                    ),
                );
            }
            match w.letter {
                'O' => saw_o = true,
                'G' => {
                    let Some(c) = code10(w.value).filter(|c| d.known_g().contains(c)) else {
                        push(
                            Severity::Error,
                            l.line,
                            w.col,
                            format!("{d} does not know G{}", w.raw),
                        );
                        continue;
                    };
                    match c {
                        0 | 10 | 20 | 30 => {
                            if let Some((_, prev)) = line_motion {
                                push(
                                    Severity::Error,
                                    l.line,
                                    w.col,
                                    format!(
                                        "two motion codes on one line (G{} and G{})",
                                        prev.raw, w.raw
                                    ),
                                );
                            }
                            line_motion = Some((c, w));
                        }
                        200 => units = Some(25.4),
                        210 => units = Some(1.0),
                        900 => absolute = Some(true),
                        910 => absolute = Some(false),
                        170 => {
                            plane_xy = true;
                            plane_stated = true
                        }
                        180 | 190 => {
                            plane_xy = false;
                            plane_stated = true
                        }
                        940 => feed_mode_stated = true,
                        930 | 950 => {
                            feed_mode_stated = true;
                            push(
                                Severity::Warning,
                                l.line,
                                w.col,
                                format!(
                                    "{} feed mode: run-time estimate assumes G94",
                                    show_code('G', c)
                                ),
                            );
                        }
                        800 => {
                            motion = None;
                            non_motion_g = true
                        }
                        _ => non_motion_g = true,
                    }
                }
                'M' => {
                    let Some(c) =
                        code10(w.value).filter(|c| c % 10 == 0 && d.known_m().contains(&(c / 10)))
                    else {
                        push(
                            Severity::Error,
                            l.line,
                            w.col,
                            format!("{d} does not know M{}", w.raw),
                        );
                        continue;
                    };
                    match c / 10 {
                        3 | 4 => spindle_on = true,
                        5 => spindle_on = false,
                        2 | 30 => ended = true,
                        6 => {
                            if let Some(t) = l.get('T') {
                                tool = Some(t.value as u32);
                            }
                            if let (Some(m), Some(t)) = (&opts.machine, tool)
                                && !m.tools.is_empty()
                                && m.tool(t).is_none()
                            {
                                push(
                                    Severity::Warning,
                                    l.line,
                                    w.col,
                                    format!("tool T{t} is not in {}'s tool table", m.name),
                                );
                            }
                        }
                        _ => {}
                    }
                }
                'T' => tool = Some(w.value.round() as u32),
                'F' => {
                    feed = w.value * units.unwrap_or(1.0);
                    if let Some(m) = &opts.machine
                        && feed > m.max_feed + 1e-9
                    {
                        push(
                            Severity::Error,
                            l.line,
                            w.col,
                            format!(
                                "feed F{} is {:.1} mm/min, above {}'s limit of {:.1} mm/min",
                                w.raw, feed, m.name, m.max_feed
                            ),
                        );
                    }
                }
                'S' => {
                    if let Some(m) = &opts.machine
                        && w.value > m.max_spindle_rpm + 1e-9
                    {
                        push(
                            Severity::Error,
                            l.line,
                            w.col,
                            format!(
                                "spindle S{} is above {}'s limit of {:.0} rpm",
                                w.raw, m.name, m.max_spindle_rpm
                            ),
                        );
                    }
                }
                _ => {}
            }
        }
        if let Some((c, _)) = line_motion {
            motion = Some(c);
        }
        let has_axis = l.words.iter().any(|w| "XYZ".contains(w.letter));
        let has_arc_words = l.words.iter().any(|w| "IJR".contains(w.letter));
        if !(has_axis || (has_arc_words && matches!(motion, Some(20 | 30)))) {
            continue;
        }
        if non_motion_g
            && line_motion.is_none()
            && l.words.iter().any(|w| {
                w.letter == 'G'
                    && [280, 300, 530, 920, 100, 430].contains(&code10(w.value).unwrap_or(0))
            })
        {
            // G28/G30/G53/G92/G10/G43 with axis words: not a cutting move of the program.
            push(
                Severity::Warning,
                l.line,
                l.words[0].col,
                "axis words with G28/G30/G53/G92/G10: not simulated".into(),
            );
            continue;
        }
        let col0 = l.words.first().map(|w| w.col).unwrap_or(1);
        let Some(mcode) = motion else {
            push(
                Severity::Error,
                l.line,
                col0,
                "axis words with no motion mode (G0, G1, G2 or G3) in effect".into(),
            );
            continue;
        };
        if first_motion_line.is_none() {
            first_motion_line = Some(l.line);
            if units.is_none() {
                push(
                    Severity::Error,
                    l.line,
                    col0,
                    "first move before the units are stated (G21 for mm, or G20)".into(),
                );
            }
            if absolute.is_none() {
                push(
                    Severity::Error,
                    l.line,
                    col0,
                    "first move before the distance mode is stated (G90)".into(),
                );
            }
            if !plane_stated {
                push(
                    Severity::Warning,
                    l.line,
                    col0,
                    "plane not stated (G17) before the first move".into(),
                );
            }
            if !feed_mode_stated {
                push(
                    Severity::Warning,
                    l.line,
                    col0,
                    "feed mode not stated (G94) before the first move".into(),
                );
            }
        }
        let u = units.unwrap_or(1.0);
        let abs = absolute.unwrap_or(true);
        let start = pos.unwrap_or([0.0; 3]);
        let mut to = start;
        for (k, letter) in ['X', 'Y', 'Z'].into_iter().enumerate() {
            if let Some(w) = l.get(letter) {
                to[k] = if abs {
                    w.value * u
                } else {
                    start[k] + w.value * u
                };
            }
        }
        let kind = match mcode {
            0 => MoveKind::Rapid,
            10 => MoveKind::Feed,
            _ => {
                let ccw = mcode == 30;
                if !plane_xy {
                    push(
                        Severity::Error,
                        l.line,
                        col0,
                        "arc outside the XY plane (G18/G19) is not supported".into(),
                    );
                    pos = Some(to);
                    continue;
                }
                let center = if let Some(r) = l.get('R') {
                    match center_from_radius(start, to, r.value * u, ccw) {
                        Some(c) => c,
                        None => {
                            push(
                                Severity::Error,
                                l.line,
                                r.col,
                                format!("arc radius R{} is shorter than half the chord", r.raw),
                            );
                            pos = Some(to);
                            continue;
                        }
                    }
                } else {
                    let i = l.get('I').map(|w| w.value * u).unwrap_or(0.0);
                    let j = l.get('J').map(|w| w.value * u).unwrap_or(0.0);
                    if l.get('I').is_none() && l.get('J').is_none() {
                        push(
                            Severity::Error,
                            l.line,
                            col0,
                            "arc without a centre (I, J) or radius (R)".into(),
                        );
                        pos = Some(to);
                        continue;
                    }
                    [start[0] + i, start[1] + j]
                };
                let r0 = (start[0] - center[0]).hypot(start[1] - center[1]);
                let r1 = (to[0] - center[0]).hypot(to[1] - center[1]);
                if (r0 - r1).abs() > 0.002 + 1e-3 * r0.min(r1) {
                    push(
                        Severity::Error,
                        l.line,
                        col0,
                        format!(
                            "arc radius to the end ({r1:.4} mm) differs from the radius to the start ({r0:.4} mm)"
                        ),
                    );
                }
                MoveKind::Arc { center, ccw }
            }
        };
        if kind != MoveKind::Rapid {
            if feed <= 0.0 {
                push(
                    Severity::Error,
                    l.line,
                    col0,
                    "cutting move with no feed rate (F) set".into(),
                );
            }
            if !spindle_on {
                push(
                    Severity::Error,
                    l.line,
                    col0,
                    "cutting move with the spindle off (no M3/M4 before it)".into(),
                );
            }
        }
        if pos.is_some() || kind == MoveKind::Rapid {
            moves.push(PlayedMove {
                line: l.line,
                kind,
                from: start,
                to,
                tool,
                feed: if kind == MoveKind::Rapid { 0.0 } else { feed },
            });
        }
        pos = Some(to);
    }
    let last_line = lines.last().map(|l| l.line).unwrap_or(1);
    if !ended {
        push(
            Severity::Error,
            last_line,
            1,
            "program never ends: no M30 (or M2)".into(),
        );
    }
    if first_motion_line.is_none() {
        push(Severity::Warning, 1, 1, "program has no moves".into());
    }
    if d == Dialect::Fanuc {
        if !saw_percent {
            push(
                Severity::Warning,
                1,
                1,
                "fanuc programs start and end with a '%' line".into(),
            );
        }
        if !saw_o {
            push(
                Severity::Warning,
                1,
                1,
                "fanuc programs carry a program number (O....)".into(),
            );
        }
    }
    let used: std::collections::BTreeSet<u32> = moves
        .iter()
        .filter(|m| m.kind != MoveKind::Rapid)
        .filter_map(|m| m.tool)
        .collect();
    for t in used {
        if !tools.contains_key(&t) {
            push(
                Severity::Warning,
                1,
                1,
                format!(
                    "tool T{t} is used but not declared as (TOOL T{t} BALL|FLAT|BULL D.. [CR..])"
                ),
            );
        }
    }
    if moves
        .iter()
        .any(|m| m.kind != MoveKind::Rapid && m.tool.is_none())
        && tools.len() != 1
    {
        push(
            Severity::Warning,
            1,
            1,
            "cutting moves before any tool is selected (T..)".into(),
        );
    }

    // Machine limits.
    if let Some(m) = &opts.machine {
        let blank_z = blank.map(|b| b.z);
        if blank_z.is_none() {
            push(
                Severity::Warning,
                1,
                1,
                "no (BLANK X.. Y.. Z..) comment: Z travel and the table are not checked".into(),
            );
        }
        let mut reported = 0;
        for mv in &moves {
            let mut pts = [Some(mv.to), None, None, None, None];
            if let MoveKind::Arc { center, ccw } = mv.kind {
                let r = (mv.from[0] - center[0]).hypot(mv.from[1] - center[1]);
                let ext = crate::gcode::write::arc_extremes(mv.from, mv.to, center, ccw, r);
                pts[1..].copy_from_slice(&ext);
            }
            for p in pts.into_iter().flatten() {
                let mp = m.to_machine(p, blank_z.unwrap_or(0.0));
                let mut bad = Vec::new();
                for (k, (axis, r)) in [('X', m.travel.x), ('Y', m.travel.y), ('Z', m.travel.z)]
                    .into_iter()
                    .enumerate()
                {
                    if (k < 2 || blank_z.is_some()) && !r.contains(mp[k]) {
                        bad.push(format!(
                            "{axis} {:.3} (machine {:.3}) outside {:.3}..{:.3}",
                            p[k], mp[k], r.min, r.max
                        ));
                    }
                }
                if let Some(bz) = blank_z {
                    let below = -bz - p[2];
                    if below > m.max_below_blank + 1e-9 {
                        bad.push(format!(
                            "Z {:.3} is {below:.3} mm below the bottom of the blank (the table)",
                            p[2]
                        ));
                    }
                }
                if !bad.is_empty() && reported < 20 {
                    reported += 1;
                    push(
                        Severity::Error,
                        mv.line,
                        1,
                        format!("move leaves {}'s travel: {}", m.name, bad.join("; ")),
                    );
                    break;
                }
            }
        }
    }

    // Lengths, extent, estimate.
    let mut segs: Vec<Segment> = Vec::with_capacity(moves.len());
    let (mut feed_len, mut rapid_len) = (0.0, 0.0);
    let rapid_rate = opts
        .machine
        .as_ref()
        .map(|m| m.rapid_rate)
        .unwrap_or(5000.0);
    let mut lo = [f64::INFINITY; 3];
    let mut hi = [f64::NEG_INFINITY; 3];
    for mv in &moves {
        let s = match mv.kind {
            MoveKind::Rapid => line_segment(mv.from, mv.to, rapid_rate),
            MoveKind::Feed => line_segment(mv.from, mv.to, mv.feed),
            MoveKind::Arc { center, ccw } => arc_segment(mv.from, mv.to, center, ccw, mv.feed),
        };
        if mv.kind == MoveKind::Rapid {
            rapid_len += s.length;
        } else {
            feed_len += s.length;
        }
        segs.push(s);
        for p in [mv.from, mv.to] {
            for k in 0..3 {
                lo[k] = lo[k].min(p[k]);
                hi[k] = hi[k].max(p[k]);
            }
        }
    }
    let estimated_s = segments_seconds(&segs, opts.machine.as_ref().and_then(|m| m.acceleration));
    findings.sort_by_key(|f| (f.line, f.col));
    CheckReport {
        dialect: d,
        machine: opts.machine.as_ref().map(|m| m.name.clone()),
        lines: lines.len(),
        findings,
        moves,
        tools,
        blank,
        feed_length: feed_len,
        rapid_length: rapid_len,
        estimated_s,
        extent: lo[0].is_finite().then_some([lo, hi]),
    }
}

/// Centre of an XY arc given by its radius (R > 0: the shorter arc; R < 0: the longer).
fn center_from_radius(a: [f64; 3], b: [f64; 3], r: f64, ccw: bool) -> Option<[f64; 2]> {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let chord = dx.hypot(dy);
    if chord == 0.0 || chord > 2.0 * r.abs() + 1e-9 {
        return None;
    }
    let h = (r * r - chord * chord / 4.0).max(0.0).sqrt();
    let (mx, my) = ((a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0);
    let (ux, uy) = (-dy / chord, dx / chord); // left of the chord
    // Shorter arc clockwise: centre to the right of the chord; counter-clockwise: to the left.
    let left = ccw == (r > 0.0);
    let s = if left { h } else { -h };
    Some([mx + ux * s, my + uy * s])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gcode::parse::parse_program;

    fn check(text: &str, d: Dialect) -> CheckReport {
        check_program(
            &parse_program(text).unwrap(),
            &CheckOptions {
                dialect: d,
                machine: None,
            },
        )
    }

    #[test]
    fn tool_and_blank_comments() {
        assert_eq!(
            parse_tool_comment("TOOL T3 BULL D12.000 CR2.000"),
            Some((
                3,
                Cutter::Bull {
                    diameter: 12.0,
                    corner_radius: 2.0
                }
            ))
        );
        assert_eq!(
            parse_tool_comment("TOOL T2 BALL D6.000"),
            Some((2, Cutter::Ball { diameter: 6.0 }))
        );
        assert_eq!(parse_tool_comment("TOOL T2 BALL"), None);
        assert_eq!(
            parse_blank_comment("BLANK X1.5 Y2 Z3"),
            Some(Blank {
                x: 1.5,
                y: 2.0,
                z: 3.0
            })
        );
        assert_eq!(
            pause_tool("CHANGE TO T3 BULL D12.000 CR2.000: FIT IT"),
            Some(3)
        );
    }

    #[test]
    fn r_arcs_find_their_centre() {
        // Quarter circle from (10,0) to (0,10), radius 10, CCW: centre at the origin.
        let c = center_from_radius([10.0, 0.0, 0.0], [0.0, 10.0, 0.0], 10.0, true).unwrap();
        assert!(c[0].abs() < 1e-9 && c[1].abs() < 1e-9, "{c:?}");
        // Same ends clockwise, shorter arc: centre at (10, 10).
        let c = center_from_radius([10.0, 0.0, 0.0], [0.0, 10.0, 0.0], 10.0, false).unwrap();
        assert!(
            (c[0] - 10.0).abs() < 1e-9 && (c[1] - 10.0).abs() < 1e-9,
            "{c:?}"
        );
    }

    #[test]
    fn a_good_program_plays_all_its_moves() {
        let r = check(
            "(TOOL T1 BALL D6.000)\nG21 G17 G90 G94\nT1 M6\nM3 S10000\nG0 Z5\nG0 X10 Y0\nG1 Z-1 F500\nG3 X0 Y10 I-10 J0\nG2 X10 Y0 R10\nG0 Z5\nM5\nM30\n",
            Dialect::LinuxCnc,
        );
        assert!(r.findings.is_empty(), "{:?}", r.findings);
        assert_eq!(r.moves.len(), 6);
        assert_eq!(
            r.moves[3].kind,
            MoveKind::Arc {
                center: [0.0, 0.0],
                ccw: true
            }
        );
        // G2 back with R10: centre (0,0) again.
        match r.moves[4].kind {
            MoveKind::Arc { center, ccw: false } => {
                assert!(center[0].abs() < 1e-9 && center[1].abs() < 1e-9)
            }
            k => panic!("{k:?}"),
        }
        assert!((r.feed_length - (6.0 + std::f64::consts::PI * 10.0)).abs() < 1e-9);
        assert!(r.moves.iter().all(|m| m.tool == Some(1)));
    }

    #[test]
    fn bad_programs_are_named_line_by_line() {
        let r = check(
            "G1 X1 F100\nM3 S1000\nG1 X2\nE5\nG0 G1 X3\nG2 X5 Y5\n",
            Dialect::LinuxCnc,
        );
        let msgs: Vec<String> = r
            .errors()
            .map(|f| format!("{}:{} {}", f.line, f.col, f.message))
            .collect();
        let has = |s: &str| msgs.iter().any(|m| m.contains(s));
        assert!(has("1:1 first move before the units"), "{msgs:?}");
        assert!(has("1:1 first move before the distance mode"), "{msgs:?}");
        assert!(has("1:1 cutting move with the spindle off"), "{msgs:?}");
        assert!(has("4:1 linuxcnc does not know the word 'E5'"), "{msgs:?}");
        assert!(has("5:4 two motion codes"), "{msgs:?}");
        assert!(has("6:1 arc without a centre"), "{msgs:?}");
        assert!(has("no M30"), "{msgs:?}");
    }

    #[test]
    fn dialect_words_and_codes() {
        let grbl = check("G21 G90\nT2 M6\nG64\nM30\n", Dialect::Grbl);
        let msgs: Vec<&str> = grbl.errors().map(|f| f.message.as_str()).collect();
        assert!(msgs.contains(&"grbl does not know M6"), "{msgs:?}");
        assert!(msgs.contains(&"grbl does not know G64"), "{msgs:?}");
        let grbl = check("O100\nG21 G90\nM30\n", Dialect::Grbl);
        assert!(grbl.errors().any(|f| f.message.contains("'O100'")));
        let fanuc = check(
            "G21 G90 G17 G94\nM3 S100\nG1 X10 F100.\nM30\n",
            Dialect::Fanuc,
        );
        assert!(fanuc.ok());
        let warn: Vec<&str> = fanuc.findings.iter().map(|f| f.message.as_str()).collect();
        assert!(
            warn.iter()
                .any(|m| m.contains("'X10' has no decimal point")),
            "{warn:?}"
        );
        assert!(warn.iter().any(|m| m.contains("'%'")), "{warn:?}");
    }
}
