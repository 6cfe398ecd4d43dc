//! Writes operations as a G-code program in a controller's dialect.
//!
//! Every program starts in a stated state (`G21 G17 G90 G94`, cutter compensation, tool length
//! offset and canned cycles cancelled), turns the spindle on before the first cut and ends with
//! the tool at the clearance height, spindle off (`M5`) and `M30`. Numbers are fixed decimal
//! (3 places for X/Y/Z, 4 for arc centres, 1 for feeds, 0 for spindle speed), never exponents,
//! never `-0.000`. Motion words and unchanged axis words and feeds are modal and left out.
//!
//! Header comments name the job number (never a patient reference), the scan's SHA-256, fab's
//! version, the machine, the blank and work zero, the estimated run time and each tool on a line
//! of its own as `(TOOL T2 BALL D6.000)` / `(TOOL T3 BULL D12.000 CR2.000)`, then
//! `(BLANK X.. Y.. Z..)` for `fab gcode check`.
//!
//! Tool changes: `T<n> M6` (then `G43 H<n>`) in linuxcnc, fanuc and mach3. GRBL has no tool
//! changer: fab writes **one** program per job, and at each tool change it retracts, stops the
//! spindle and pauses with `M0`, with a comment naming the tool to fit and reminding the operator
//! to set Z zero on the top of the blank again before resuming.
//!
//! Before writing, every move is checked against the machine (`check_moves`): travel in the
//! machine frame, not below the table, feeds and spindle speeds within the limits, tools agreeing
//! with the tool table. A refusal is a typed `GcodeError` and nothing is written.

use std::fmt::Write as _;

use crate::cutter::Cutter;
use crate::estimate::{estimate_time, format_duration};
use crate::gcode::number::{fixed, fixed_into};
use crate::gcode::{Dialect, GcodeError};
use crate::machine::{Machine, same_cutter};
use crate::path::{Move, Operation};

/// Size of the blank (stock), mm. The program's work zero is at its top (see `ProgramHeader`).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Blank {
    pub x: f64,
    pub y: f64,
    pub z: f64,
}

/// What the header of a program says about the job.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ProgramHeader {
    /// The lab's job number, or "unassigned"; never a patient reference.
    pub job: String,
    /// SHA-256 (hex) of the scan the program was planned from; of each scan, comma-separated,
    /// for a program made from several (a pair of orthoses on one blank).
    pub scan_sha256: String,
    pub fab_version: String,
    pub blank: Blank,
    /// Where the work zero is, in words, e.g. "top of blank, front-left corner".
    pub work_zero: String,
    /// Free notes, one comment line each (wrapped when long).
    pub notes: Vec<String>,
}

/// One program file. `suffix` is appended to the output's file stem ("" for the single program
/// fab writes in every dialect today).
#[derive(Clone, Debug, PartialEq)]
pub struct ProgramFile {
    pub suffix: String,
    pub text: String,
    /// Tool numbers in the order the program uses them.
    pub tools: Vec<u32>,
    pub estimated: std::time::Duration,
}

/// `(TOOL T2 BALL D6.000)` / `(TOOL T3 BULL D12.000 CR2.000)`, the declaration carve-check and
/// `fab gcode check` read.
pub fn tool_comment(number: u32, cutter: &Cutter) -> String {
    match *cutter {
        Cutter::Ball { diameter } => format!("(TOOL T{number} BALL D{})", fixed(diameter, 3)),
        Cutter::Flat { diameter } => format!("(TOOL T{number} FLAT D{})", fixed(diameter, 3)),
        Cutter::Bull {
            diameter,
            corner_radius,
        } => format!(
            "(TOOL T{number} BULL D{} CR{})",
            fixed(diameter, 3),
            fixed(corner_radius, 3)
        ),
    }
}

fn describe(c: &Cutter) -> String {
    tool_comment(0, c)
        .trim_start_matches("(TOOL T0 ")
        .trim_end_matches(')')
        .to_lowercase()
}

/// Checks every move of `ops` against `machine` for a blank of height `blank_z` (mm): finite
/// coordinates, travel (arcs by their extent), not below the table, feeds and spindle speeds
/// within limits, arcs with consistent radii, tools agreeing with the tool table.
pub fn check_moves(ops: &[Operation], machine: &Machine, blank_z: f64) -> Result<(), GcodeError> {
    let mut pos: Option<[f64; 3]> = None;
    for op in ops {
        if op.moves.is_empty() {
            continue;
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
        if let Some(t) = machine.tool(op.tool.number)
            && !same_cutter(&t.cutter, &op.tool.cutter)
        {
            return Err(GcodeError::ToolMismatch {
                op: op.name.clone(),
                number: op.tool.number,
                wanted: describe(&op.tool.cutter),
                table: describe(&t.cutter),
                machine: machine.name.clone(),
            });
        }
        for (index, m) in op.moves.iter().enumerate() {
            let to = m.end();
            if to.iter().any(|v| !v.is_finite()) {
                return Err(GcodeError::NonFinite {
                    op: op.name.clone(),
                    index,
                });
            }
            match *m {
                Move::Rapid(_) => {}
                Move::Feed { feed, .. } | Move::Arc { feed, .. } => {
                    if !(feed.is_finite() && feed > 0.0) {
                        return Err(GcodeError::BadFeed {
                            op: op.name.clone(),
                            index,
                            feed,
                        });
                    }
                    if feed > machine.max_feed + 1e-9 {
                        return Err(GcodeError::FeedTooHigh {
                            op: op.name.clone(),
                            index,
                            feed,
                            max: machine.max_feed,
                            machine: machine.name.clone(),
                        });
                    }
                }
            }
            if let Move::Arc {
                to, center, ccw, ..
            } = *m
            {
                let bad = |message: String| GcodeError::BadArc {
                    op: op.name.clone(),
                    index,
                    message,
                };
                if !(center[0].is_finite() && center[1].is_finite()) {
                    return Err(bad("centre is not a finite number".into()));
                }
                let Some(from) = pos else {
                    return Err(bad("an arc cannot be the first move of a program".into()));
                };
                let r0 = (from[0] - center[0]).hypot(from[1] - center[1]);
                let r1 = (to[0] - center[0]).hypot(to[1] - center[1]);
                if (r0 - r1).abs() > 0.001 + 1e-4 * r0 {
                    return Err(bad(format!(
                        "radius at start {r0:.4} mm differs from radius at end {r1:.4} mm"
                    )));
                }
                for p in arc_extremes(from, to, center, ccw, r0)
                    .into_iter()
                    .flatten()
                {
                    check_point(op, index, p, machine, blank_z)?;
                }
            }
            check_point(op, index, to, machine, blank_z)?;
            pos = Some(to);
        }
    }
    Ok(())
}

/// Checks only the travel and table limits, as the brief's `check_travel` (no feed checks).
pub fn check_travel(ops: &[Operation], machine: &Machine, blank_z: f64) -> Result<(), GcodeError> {
    for op in ops {
        for (index, m) in op.moves.iter().enumerate() {
            check_point(op, index, m.end(), machine, blank_z)?;
        }
    }
    Ok(())
}

/// Axis-aligned extreme points an XY arc passes through (0, 90, 180, 270 degrees).
pub(crate) fn arc_extremes(
    from: [f64; 3],
    to: [f64; 3],
    c: [f64; 2],
    ccw: bool,
    r: f64,
) -> [Option<[f64; 3]>; 4] {
    let sweep = crate::estimate::arc_sweep(from, to, c, ccw);
    let a0 = (from[1] - c[1]).atan2(from[0] - c[0]);
    let tau = std::f64::consts::TAU;
    std::array::from_fn(|k| {
        let q = k as f64 * std::f64::consts::FRAC_PI_2;
        // Smallest t in [0, 1] with a0 + t * sweep = q (mod 2 pi).
        let d = if sweep < 0.0 {
            -((a0 - q).rem_euclid(tau))
        } else {
            (q - a0).rem_euclid(tau)
        };
        let t = d / sweep;
        (0.0..=1.0).contains(&t).then(|| {
            [
                c[0] + r * q.cos(),
                c[1] + r * q.sin(),
                from[2] + (to[2] - from[2]) * t,
            ]
        })
    })
}

fn check_point(
    op: &Operation,
    index: usize,
    p: [f64; 3],
    machine: &Machine,
    blank_z: f64,
) -> Result<(), GcodeError> {
    let below = -blank_z - p[2];
    if below > machine.max_below_blank + 1e-9 {
        return Err(GcodeError::BelowTable {
            op: op.name.clone(),
            index,
            z: p[2],
            depth: below,
            allowed: machine.max_below_blank,
        });
    }
    let mp = machine.to_machine(p, blank_z);
    let t = machine.travel;
    for (k, (axis, r)) in [('X', t.x), ('Y', t.y), ('Z', t.z)].into_iter().enumerate() {
        if !r.contains(mp[k]) {
            return Err(GcodeError::OutOfTravel {
                op: op.name.clone(),
                index,
                axis,
                value: p[k],
                machine_value: mp[k],
                min: r.min,
                max: r.max,
                machine: machine.name.clone(),
            });
        }
    }
    Ok(())
}

/// Makes free text safe inside a `( )` comment for every dialect: ASCII only, no parentheses
/// (LinuxCNC refuses nested comments), no leading word LinuxCNC treats as a command (MSG,
/// DEBUG, PRINT, LOG...), wrapped to `width` characters.
pub fn comment_lines(text: &str, width: usize, upper: bool) -> Vec<String> {
    let mut clean: String = text
        .chars()
        .map(|c| match c {
            '(' => '[',
            ')' => ']',
            c if c.is_ascii_graphic() || c == ' ' => c,
            _ => ' ',
        })
        .collect();
    if upper {
        clean = clean.to_uppercase();
    }
    let mut lines = Vec::new();
    let mut cur = String::new();
    for word in clean.split_whitespace() {
        let mut word = word.to_string();
        while word.len() > width {
            let rest = word.split_off(width);
            if !cur.is_empty() {
                lines.push(std::mem::take(&mut cur));
            }
            lines.push(word);
            word = rest;
        }
        if !cur.is_empty() && cur.len() + 1 + word.len() > width {
            lines.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(&word);
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
        .into_iter()
        .map(|l| {
            let head = l
                .split([',', ' '])
                .next()
                .unwrap_or("")
                .to_ascii_uppercase();
            if [
                "MSG",
                "DEBUG",
                "PRINT",
                "LOG",
                "LOGOPEN",
                "LOGAPPEND",
                "LOGCLOSE",
                "PROBEOPEN",
                "PROBECLOSE",
                "ABS",
                "PY",
            ]
            .contains(&head.as_str())
                || l.starts_with('#')
            {
                format!("(- {l})")
            } else {
                format!("({l})")
            }
        })
        .collect()
}

fn check_header(h: &ProgramHeader) -> Result<(), GcodeError> {
    let job_ok = !h.job.is_empty()
        && h.job.len() <= 32
        && h.job
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !job_ok {
        return Err(GcodeError::Header(format!(
            "job '{}' is not a job number (letters, digits, '-', '_', '.'; at most 32)",
            h.job
        )));
    }
    let all = std::iter::once(h.job.as_str())
        .chain([h.work_zero.as_str(), h.fab_version.as_str()])
        .chain(h.notes.iter().map(String::as_str));
    for text in all {
        let low = text.to_ascii_lowercase();
        if low.contains("mrn") || low.contains("patient") {
            return Err(GcodeError::Header(format!(
                "'{text}' looks like a patient reference; programs carry the job number only"
            )));
        }
    }
    if !h.scan_sha256.is_empty()
        && !h
            .scan_sha256
            .split(',')
            .all(|s| s.len() == 64 && s.chars().all(|c| c.is_ascii_hexdigit()))
    {
        return Err(GcodeError::Header(format!(
            "scan SHA-256 '{}' is not 64 hex digits (or several, comma-separated)",
            h.scan_sha256
        )));
    }
    for (a, v) in [("X", h.blank.x), ("Y", h.blank.y), ("Z", h.blank.z)] {
        if !(v.is_finite() && v > 0.0) {
            return Err(GcodeError::Header(format!(
                "blank size {a} must be a positive number of mm, got {v}"
            )));
        }
    }
    Ok(())
}

/// The text of a program under construction, with the dialect's line numbering.
struct Out {
    text: String,
    numbered: bool,
    n: u32,
}

impl Out {
    fn line(&mut self, s: &str) {
        if self.numbered && !s.starts_with('(') && !s.starts_with('%') {
            self.n = if self.n >= 99_999 { 1 } else { self.n + 1 };
            let _ = write!(self.text, "N{} ", self.n);
        }
        self.text.push_str(s);
        self.text.push('\n');
    }
    /// One line from parts, without a leading space.
    fn parts(&mut self, parts: &[&str]) {
        if self.numbered {
            self.n = if self.n >= 99_999 { 1 } else { self.n + 1 };
            let _ = write!(self.text, "N{} ", self.n);
        }
        let start = self.text.len();
        for p in parts {
            self.text.push_str(p);
        }
        if self.text[start..].starts_with(' ') {
            self.text.remove(start);
        }
        self.text.push('\n');
    }
    fn comment(&mut self, s: &str) {
        self.text.push_str(s);
        self.text.push('\n');
    }
}

/// Modal state of the writer: what the controller already has.
struct Modal {
    motion: &'static str,
    pos: [Option<String>; 3],
    exact: [f64; 3],
    feed: Option<String>,
    buf: String,
    words: String,
}

impl Modal {
    /// " F<feed>" when the feed changes, else "" (`buf` holds the text).
    fn feed_word<'a>(&mut self, buf: &'a mut String, feed: f64) -> &'a str {
        buf.clear();
        buf.push_str(" F");
        let mut num = String::new();
        fixed_into(&mut num, feed, 1);
        if self.feed.as_deref() == Some(num.as_str()) {
            ""
        } else {
            buf.push_str(&num);
            self.feed = Some(num);
            buf.as_str()
        }
    }

    /// The axis words that change (into `self.words`, empty when nothing changes).
    fn axes(&mut self, to: [f64; 3]) -> bool {
        self.words.clear();
        for (k, letter) in ['X', 'Y', 'Z'].into_iter().enumerate() {
            let exact = fixed_into(&mut self.buf, to[k], 3);
            let cur = &mut self.pos[k];
            if cur.as_deref() != Some(self.buf.as_str()) {
                self.words.push(' ');
                self.words.push(letter);
                self.words.push_str(&self.buf);
                match cur {
                    Some(c) => {
                        c.clear();
                        c.push_str(&self.buf);
                    }
                    None => *cur = Some(self.buf.clone()),
                }
                self.exact[k] = exact;
            }
        }
        !self.words.is_empty()
    }
}

/// Writes `ops` as a program for `machine` in `dialect` (which may differ from the profile's,
/// e.g. `--dialect`). One file in every dialect (GRBL: `M0` pauses at tool changes).
pub fn write_program(
    header: &ProgramHeader,
    ops: &[Operation],
    machine: &Machine,
    dialect: Dialect,
) -> Result<Vec<ProgramFile>, GcodeError> {
    check_header(header)?;
    check_moves(ops, machine, header.blank.z)?;
    let estimated = estimate_time(ops, machine);
    let ops: Vec<&Operation> = ops.iter().filter(|o| !o.moves.is_empty()).collect();
    if ops.is_empty() {
        return Err(GcodeError::Empty);
    }
    let safe_z = ops
        .iter()
        .flat_map(|o| o.moves.iter().map(|m| m.end()[2]))
        .fold(f64::MIN, f64::max);

    let upper = dialect.upper_case_comments();
    let width = 78; // comment text; lines stay within GRBL's 80
    let mut out = Out {
        text: String::new(),
        numbered: dialect.fanuc_framing(),
        n: 0,
    };
    let comment = |out: &mut Out, s: &str| {
        for l in comment_lines(s, width, upper) {
            out.comment(&l);
        }
    };
    if dialect.fanuc_framing() {
        out.comment("%");
        out.comment(&format!("O{:04}", machine.program_number));
    }
    let mut tools: Vec<(u32, Cutter)> = Vec::new();
    for o in &ops {
        if !tools.iter().any(|(n, _)| *n == o.tool.number) {
            tools.push((o.tool.number, o.tool.cutter));
        }
    }
    comment(&mut out, &format!("fab program for job {}", header.job));
    comment(&mut out, &format!("JOB {}", header.job));
    if !header.scan_sha256.is_empty() {
        for sha in header.scan_sha256.split(',') {
            comment(
                &mut out,
                &format!("SCAN SHA256 {}", sha.to_ascii_lowercase()),
            );
        }
    }
    comment(&mut out, &format!("FAB VERSION {}", header.fab_version));
    comment(
        &mut out,
        &format!("MACHINE {} DIALECT {}", machine.name, dialect.name()),
    );
    comment(
        &mut out,
        &format!(
            "BLANK X{} Y{} Z{}",
            fixed(header.blank.x, 3),
            fixed(header.blank.y, 3),
            fixed(header.blank.z, 3)
        ),
    );
    comment(&mut out, &format!("WORK ZERO {}", header.work_zero));
    comment(
        &mut out,
        &format!("ESTIMATED RUN TIME {}", format_duration(estimated)),
    );
    for (n, c) in &tools {
        out.comment(&tool_comment(*n, c));
    }
    for note in &header.notes {
        comment(&mut out, &format!("NOTE {note}"));
    }
    if !dialect.has_tool_change() {
        let (n, c) = tools[0];
        comment(
            &mut out,
            &format!(
                "LOAD T{n} {} BEFORE START; SET Z ZERO ON TOP OF BLANK",
                describe(&c).to_uppercase()
            ),
        );
    }

    // Known state.
    match dialect {
        Dialect::LinuxCnc => {
            out.line("G21 G17 G90 G94 G40 G49 G80 G91.1");
            out.line("G64 P0.005");
        }
        Dialect::Mach3 => {
            out.line("G21 G17 G90 G94 G40 G49 G80 G91.1");
            out.line("G64");
        }
        Dialect::Fanuc => out.line("G21 G17 G90 G94 G40 G49 G80"),
        Dialect::Grbl => out.line("G21 G17 G90 G94 G40 G49 G80"),
    }

    let mut modal = Modal {
        motion: "",
        pos: [None, None, None],
        exact: [0.0; 3],
        feed: None,
        buf: String::new(),
        words: String::new(),
    };
    let z_safe = fixed(safe_z, 3);
    let mut cur_tool: Option<u32> = None;
    let mut cur_rpm: Option<String> = None;
    for (k, op) in ops.iter().enumerate() {
        let rpm = fixed(op.spindle_rpm, 0);
        comment(
            &mut out,
            &format!(
                "OP {} {} T{} {}",
                k + 1,
                op.name,
                op.tool.number,
                describe(&op.tool.cutter)
            ),
        );
        if cur_tool != Some(op.tool.number) {
            // Retract before anything else (at the start the position is unknown).
            if modal.pos[2].as_deref() != Some(z_safe.as_str()) {
                out.line(&format!("G0 Z{z_safe}"));
                modal.motion = "G0";
                modal.pos[2] = Some(z_safe.clone());
            }
            if cur_rpm.is_some() {
                out.line("M5");
                cur_rpm = None;
            }
            let n = op.tool.number;
            if dialect.has_tool_change() {
                out.line(&format!("T{n} M6"));
                if dialect.has_tool_length_offset() {
                    out.line(&format!("G43 H{n}"));
                }
                // The tool change may move the machine: forget the XY position.
                modal.pos = [None, None, None];
                out.line(&format!("G0 Z{z_safe}"));
                modal.pos[2] = Some(z_safe.clone());
            } else if cur_tool.is_some() {
                comment(
                    &mut out,
                    &format!(
                        "CHANGE TO T{n} {}: FIT IT, SET Z ZERO ON TOP OF BLANK, RESUME",
                        describe(&op.tool.cutter).to_uppercase()
                    ),
                );
                out.line("M0");
                modal.pos = [None, None, None];
                out.line(&format!("G0 Z{z_safe}"));
                modal.pos[2] = Some(z_safe.clone());
            }
            cur_tool = Some(n);
        }
        if cur_rpm.as_deref() != Some(rpm.as_str()) {
            out.line(&format!("M3 S{rpm}"));
            cur_rpm = Some(rpm);
        }
        // Approach: over the first point at the clearance height, then the op's own moves.
        let first = op.moves[0].end();
        if modal.axes([first[0], first[1], safe_z]) {
            out.parts(&["G0", &modal.words]);
            modal.motion = "G0";
        }
        let mut fbuf = String::new();
        for m in &op.moves {
            match *m {
                Move::Rapid(to) => {
                    if modal.axes(to) {
                        let g = if modal.motion == "G0" { "" } else { "G0" };
                        modal.motion = "G0";
                        out.parts(&[g, &modal.words]);
                    }
                }
                Move::Feed { to, feed } => {
                    if modal.axes(to) {
                        let g = if modal.motion == "G1" { "" } else { "G1" };
                        modal.motion = "G1";
                        let fw = modal.feed_word(&mut fbuf, feed);
                        out.parts(&[g, &modal.words, fw]);
                    }
                }
                Move::Arc {
                    to,
                    center,
                    ccw,
                    feed,
                } => {
                    let from = modal.exact;
                    let r = (from[0] - center[0]).hypot(from[1] - center[1]);
                    if r < 0.001 {
                        // A degenerate arc is a straight feed.
                        if modal.axes(to) {
                            let g = if modal.motion == "G1" { "" } else { "G1" };
                            modal.motion = "G1";
                            let fw = modal.feed_word(&mut fbuf, feed);
                            out.parts(&[g, &modal.words, fw]);
                        }
                        continue;
                    }
                    let i = fixed(center[0] - from[0], 4);
                    let j = fixed(center[1] - from[1], 4);
                    let g = if ccw { "G3" } else { "G2" };
                    modal.motion = g;
                    // Arcs always state X and Y (a full circle has them equal to the start).
                    modal.pos[0] = None;
                    modal.pos[1] = None;
                    modal.axes(to);
                    let fw = modal.feed_word(&mut fbuf, feed);
                    out.parts(&[g, &modal.words, " I", &i, " J", &j, fw]);
                }
            }
        }
    }
    if modal.pos[2].as_deref() != Some(z_safe.as_str()) {
        out.line(&format!("G0 Z{z_safe}"));
    }
    out.line("M5");
    out.line("M30");
    if dialect.fanuc_framing() {
        out.comment("%");
    }
    Ok(vec![ProgramFile {
        suffix: String::new(),
        text: out.text,
        tools: tools.iter().map(|(n, _)| *n).collect(),
        estimated,
    }])
}
