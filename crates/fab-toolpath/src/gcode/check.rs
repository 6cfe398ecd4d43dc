//! Checks a parsed program against a dialect and, optionally, a machine, and plays it into the
//! list of tool-tip moves the carve simulation (`sim`) needs.
//!
//! Errors, in every dialect: words or G/M codes the dialect does not know, a letter given twice
//! on a line, two motion codes on a line, negative feeds, spindle speeds and tool numbers, tool
//! and offset numbers that are not whole, a dwell (G4) without its time, no M30/M2, a cutting
//! move without a feed, arcs without a centre, of zero radius, whose radius differs at the ends
//! or whose R cannot reach the end; and the lab's own rules, which the controllers do not
//! enforce: no units (G21/G20) or distance mode (G90/G91) before the first move, a cutting move
//! with the spindle off. With a machine: feeds and spindle speeds above its limits, moves
//! outside its travel or below the table (the blank's height from the `(BLANK X.. Y.. Z..)`
//! header comment).
//!
//! LinuxCNC (`linuxcnc`): everything its interpreter (`rs274`, LinuxCNC 2.9) refuses in the
//! programs an O&P lab runs, as it words it in `interp_check.cc`, `interp_read.cc` and
//! `interp_arc.cc`: two codes of one modal group on a line (GRBL too), more than four M codes,
//! words nothing on the line uses (I/J/K/R off an arc, P without G4/G10/G64/an arc's turns, D, E,
//! H, L, Q), G4 P-1, G53 other than with G0/G1 or in G91, G10 without a known L, two codes
//! taking the axis words (G28 G1), G92/G52 or a motion other than G0-G3 naming no axis, rotary
//! words in a canned cycle, N after other words, an O word sharing its line or not whole, M codes
//! above 199, M98 without P, M61 without Q, M62-M65 without P, feed moves without F in G93 (and
//! after G93/G94/G95, which make LinuxCNC forget the feed rate), `%` in mid-file, lines over 252
//! bytes, and its arc tolerances (radius difference 0.028 mm and 0.1 %, R 0.00127 mm; its inch
//! figures in G20). It ends the program at M99 and at the closing `%` of a program that opens
//! with `%`; like it, fab reads Q-1 as no Q word and G4 P-1 as no P. `tests/gcode_corpus.rs`
//! holds fab's verdicts to rs274's on a corpus of such programs. Subroutine calls (M98 P), which
//! fab cannot play, are refused as not supported. Tool numbers are not checked against a tool
//! table (rs274 refuses those its table lacks); with a machine, one not in its table is warned.
//!
//! Played, besides G0/G1: arcs in every plane (XY arcs as arcs, a helix of P turns as P arcs;
//! XZ and YZ arcs as chords within 0.001 mm), with I/J/K as offsets (G91.1) or as the centre
//! (G90.1). Not played, with a warning: canned cycles and other motions, G28/G30/G53/G92/G10
//! moves, rotary axes, cutter compensation.
//!
//! Warnings: no G17 or G94 stated, Fanuc numbers without a decimal point, a missing `%` or O
//! number in Fanuc, tools used but not declared as `(TOOL Tn BALL|FLAT|BULL Dd [CRr])`, code
//! after the program's end.

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

/// `v` as a whole number, if it is one to within 0.0001 (as LinuxCNC reads integer words).
fn whole(v: f64) -> Option<i64> {
    let r = v.round();
    ((v - r).abs() < 1e-4).then_some(r as i64)
}

/// The arc plane: G17 (XY), G18 (XZ) or G19 (YZ).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Plane {
    Xy,
    Xz,
    Yz,
}

impl Plane {
    /// Indices of the arc's first and second coordinates and of the axis normal to the plane,
    /// in LinuxCNC's order (XZ: Z then X; YZ: Y then Z); the letters of the centre offsets
    /// along the first two; and the offset letter that has no place in the plane.
    fn axes(self) -> ([usize; 3], [char; 2], char) {
        match self {
            Plane::Xy => ([0, 1, 2], ['I', 'J'], 'K'),
            Plane::Xz => ([2, 0, 1], ['K', 'I'], 'J'),
            Plane::Yz => ([1, 2, 0], ['J', 'K'], 'I'),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Plane::Xy => "XY plane (G17)",
            Plane::Xz => "XZ plane (G18)",
            Plane::Yz => "YZ plane (G19)",
        }
    }
}

/// Modal group of a G code (times 10) as RS274/NGC groups them, and what the group sets: a
/// line may hold one code of each group (group 0, the non-modal codes, included).
fn g_group(c: u32) -> Option<(u8, &'static str)> {
    Some(match c {
        40 | 100 | 280 | 281 | 300 | 301 | 520 | 530 | 920..=923 => (0, "non-modal actions"),
        0
        | 10
        | 20
        | 30
        | 50
        | 51
        | 52
        | 330
        | 331
        | 382..=385
        | 730
        | 740
        | 760
        | 800
        | 810
        | 820
        | 830
        | 840
        | 850
        | 860
        | 870
        | 880
        | 890 => (1, "motion"),
        170 | 171 | 180 | 181 | 190 | 191 => (2, "plane"),
        900 | 910 => (3, "distance mode"),
        901 | 911 => (4, "arc centre mode"),
        930 | 940 | 950 => (5, "feed mode"),
        200 | 210 => (6, "units"),
        400 | 410 | 411 | 420 | 421 => (7, "cutter compensation"),
        430 | 431 | 432 | 490 => (8, "tool length offset"),
        980 | 990 => (10, "canned cycle return"),
        540 | 550 | 560 | 570 | 580 | 590 | 591 | 592 | 593 => (12, "coordinate system"),
        610 | 611 | 640 => (13, "path control"),
        960 | 970 => (14, "spindle speed mode"),
        70 | 80 => (15, "lathe diameter mode"),
        _ => return None,
    })
}

/// Modal group of an M code as LinuxCNC groups them, and what the group sets.
fn m_group(m: u32) -> Option<(u8, &'static str)> {
    Some(match m {
        0 | 1 | 2 | 30 | 60 => (4, "stop or end"),
        62..=68 => (5, "inputs and outputs"),
        6 | 61 => (6, "tool change"),
        3 | 4 | 5 | 19 => (7, "spindle"),
        7..=9 => (8, "coolant"),
        48..=53 | 56 => (9, "override switches"),
        70..=73 => (3, "saved modal state"),
        100..=199 => (10, "user codes"),
        _ => return None,
    })
}

/// G codes of group 0 that take the line's axis words for themselves (G10, G28, G30, G52,
/// G92): the line is then not a move of the motion mode.
fn takes_axis_words(c: u32) -> bool {
    matches!(c, 100 | 280 | 300 | 520 | 920)
}

/// Canned cycles (G73, G76, G81 to G89).
fn canned_cycle(c: u32) -> bool {
    matches!(
        c,
        730 | 760 | 810 | 820 | 830 | 840 | 850 | 860 | 870 | 880 | 890
    )
}

/// Arc tolerances of LinuxCNC's interpreter (`interp_arc.cc`), mm: the smallest radius, how
/// far an R arc may fall short of its end, and how much the radius to the end may differ from
/// the radius to the start (both the absolute and the relative figure must be exceeded).
struct ArcTolerance {
    min_radius: f64,
    reach: f64,
    spiral_abs: f64,
    spiral_rel: f64,
}

impl ArcTolerance {
    /// LinuxCNC's figures in the program's units (`mm_per_unit` 25.4 for G20).
    fn linuxcnc(mm_per_unit: f64) -> ArcTolerance {
        let (min, spiral) = if mm_per_unit > 1.0 {
            (0.00005, 2.0 * 0.001 * std::f64::consts::SQRT_2)
        } else {
            (0.00127, 2.0 * 0.01 * std::f64::consts::SQRT_2)
        };
        ArcTolerance {
            min_radius: min * mm_per_unit,
            reach: min * mm_per_unit,
            spiral_abs: spiral * mm_per_unit,
            spiral_rel: 0.001,
        }
    }

    /// Whether radii `r0` and `r1` (mm) differ by more than the controller takes. LinuxCNC:
    /// its figures; the other dialects: 0.002 mm plus 0.1 % of the radius.
    fn differ(&self, d: Dialect, r0: f64, r1: f64) -> bool {
        let diff = (r0 - r1).abs();
        if d == Dialect::LinuxCnc {
            diff > self.spiral_abs && diff / r0.max(r1) > self.spiral_rel
        } else {
            diff > 0.002 + 1e-3 * r0.min(r1)
        }
    }
}

/// Words LinuxCNC reads only with certain codes (`check_other_codes` in its interpreter): the
/// first word on the line that nothing there uses, with a message saying what would.
/// `gs` are the line's G codes (times 10), `ms` its M codes, `motion` the motion the line
/// makes (its own motion code, or the modal one when it has axis or I/J/K words).
fn ngc_unused_word<'a>(
    l: &'a Line,
    gs: &[u32],
    ms: &[u32],
    motion: Option<u32>,
) -> Option<(&'a Word, String)> {
    let g = |c: &[u32]| gs.iter().any(|x| c.contains(x));
    let m = |c: &[u32]| ms.iter().any(|x| c.contains(x));
    let mo = |c: &[u32]| motion.is_some_and(|x| c.contains(&x));
    let cycle = motion.is_some_and(canned_cycle);
    for w in &l.words {
        if w.letter == 'Q' && w.value == -1.0 {
            continue; // LinuxCNC's mark for no Q word
        }
        let (ok, users) = match w.letter {
            'D' => (
                g(&[410, 411, 420, 421, 960]),
                "cutter compensation (G41, G42) or G96",
            ),
            'E' => (mo(&[760]) || m(&[66, 67, 68]), "G76, M66, M67 or M68"),
            'H' => (
                g(&[430, 432]) || mo(&[760]),
                "a tool length offset (G43, G43.2)",
            ),
            'I' | 'J' => (
                mo(&[20, 30, 50, 51, 760, 870]) || g(&[100]) || (w.letter == 'I' && mo(&[331])),
                "an arc (G2, G3), G5, G10, G76 or G87",
            ),
            'K' => (
                mo(&[20, 30, 330, 331, 760, 870]),
                "an arc (G2, G3), G33, G76 or G87",
            ),
            'L' => (
                cycle || mo(&[52]) || g(&[100, 410, 411, 420, 421]) || m(&[66, 98]),
                "G10, cutter compensation, a canned cycle, M66 or M98",
            ),
            'P' => (
                g(&[40, 100, 640])
                    || mo(&[20, 30, 50, 52, 760, 820, 860, 880, 890])
                    || m(&[19, 50, 51, 52, 53, 62, 63, 64, 65, 66, 98]),
                "a dwell (G4), an arc's turns (G2, G3), G10, G64, G82, G86, G88, G89 or M50 to M53, M62 to M66, M98",
            ),
            'Q' => (
                g(&[100, 640]) || mo(&[50, 730, 760, 830]) || m(&[19, 61, 66, 67, 68]),
                "G10, G64, G73, G83, M61 or M66 to M68",
            ),
            'R' => (
                mo(&[20, 30]) || cycle || g(&[100, 411, 421]) || m(&[19]),
                "an arc (G2, G3), a canned cycle or G10",
            ),
            _ => continue,
        };
        if !ok {
            return Some((
                w,
                format!(
                    "'{}{}' has nothing on the line to use it: LinuxCNC reads {} only with {users}, and refuses the line",
                    w.letter, w.raw, w.letter
                ),
            ));
        }
    }
    None
}

/// Checks and plays `lines` (from `parse_program`).
pub fn check_program(lines: &[Line], opts: &CheckOptions) -> CheckReport {
    let d = opts.dialect;
    let ngc = d == Dialect::LinuxCnc;
    // GRBL refuses two codes of one modal group on a line, as LinuxCNC does; Fanuc and Mach3
    // take the last (only two motion codes are refused there).
    let group_rules = matches!(d, Dialect::LinuxCnc | Dialect::Grbl);
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
    let mut ij_absolute = false; // G90.1
    let mut plane = Plane::Xy;
    let mut plane_stated = false;
    let mut feed_mode_stated = false;
    let mut inverse_time = false;
    let mut motion: Option<u32> = None; // G code x10
    let mut feed = 0.0f64;
    // Where LinuxCNC forgot the feed rate (a feed mode set with no new F), while it is unset.
    let mut feed_cleared: Option<String> = None;
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
    let mut warned_once = std::collections::BTreeSet::new();
    let mut first_motion_line = None;
    let mut saw_percent = false;
    let mut saw_o = false;
    // Whether the first line that is not blank is '%' (LinuxCNC then ends at the next '%').
    let mut starts_with_percent: Option<bool> = None;
    let mut last_line = lines.first().map_or(1, |l| l.line);

    for l in lines {
        if ended {
            if (!l.words.is_empty() || l.unread.is_some()) && !warned_after_end {
                push(
                    Severity::Warning,
                    l.line,
                    l.words.first().map_or(1, |w| w.col),
                    "code after the program end (M30, M2 or the closing '%') is never run".into(),
                );
                warned_after_end = true;
            }
            continue;
        }
        if !l.is_blank() {
            last_line = l.line;
        }
        if let Some(why) = &l.unread {
            // Read by the parser as past the end; for this dialect the program goes on.
            push(Severity::Error, l.line, 1, why.clone());
            continue;
        }
        if ngc && l.bytes > d.max_line_len() {
            push(
                Severity::Error,
                l.line,
                d.max_line_len() + 1,
                format!(
                    "line is {} characters long: LinuxCNC reads at most {} and refuses a longer line",
                    l.bytes,
                    d.max_line_len()
                ),
            );
        }
        if l.percent {
            saw_percent = true;
            if ngc {
                match starts_with_percent {
                    None => starts_with_percent = Some(true),
                    Some(true) => ended = true,
                    Some(false) => push(
                        Severity::Error,
                        l.line,
                        1,
                        "'%' in the middle of the program: LinuxCNC takes '%' only as the first line that is not blank, and then once more where the program ends".into(),
                    ),
                }
            }
            continue;
        }
        if starts_with_percent.is_none() && !l.is_blank() {
            starts_with_percent = Some(false);
        }
        for c in &l.comments {
            if let Some(t) = pause_tool(&c.text) {
                tool = Some(t);
            }
        }
        // Words the dialect knows, one of each letter; G and M codes, one per modal group.
        let mut line_motion: Option<(u32, &Word)> = None;
        let mut gs: Vec<(u32, &Word)> = Vec::new();
        let mut ms: Vec<(u32, &Word)> = Vec::new();
        let mut seen: BTreeMap<char, &Word> = BTreeMap::new();
        for (k, w) in l.words.iter().enumerate() {
            if !d.known_letters().contains(w.letter) {
                push(
                    Severity::Error,
                    l.line,
                    w.col,
                    format!("{d} does not know the word '{}{}'", w.letter, w.raw),
                );
                continue;
            }
            // LinuxCNC reads Q-1 as no Q word at all (its mark for "not given").
            if ngc && w.letter == 'Q' && w.value == -1.0 {
                continue;
            }
            if w.letter != 'G' && w.letter != 'M' {
                if let Some(prev) = seen.get(&w.letter) {
                    push(
                        Severity::Error,
                        l.line,
                        w.col,
                        format!(
                            "two {0} words on one line ('{0}{1}' and '{0}{2}'): a line may give each letter once, so {d} refuses it",
                            w.letter, prev.raw, w.raw
                        ),
                    );
                    continue;
                }
                seen.insert(w.letter, w);
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
                'N' if ngc => {
                    if k > 0 {
                        push(
                            Severity::Error,
                            l.line,
                            w.col,
                            format!(
                                "line number 'N{}' after other words: LinuxCNC takes N only at the start of a line",
                                w.raw
                            ),
                        );
                    } else if w.value < 0.0 {
                        push(
                            Severity::Error,
                            l.line,
                            w.col,
                            format!("line number 'N{}' is negative", w.raw),
                        );
                    }
                }
                'O' => {
                    saw_o = true;
                    if ngc && whole(w.value).is_none_or(|n| n < 0) {
                        push(
                            Severity::Error,
                            l.line,
                            w.col,
                            format!(
                                "program number 'O{}' is not a whole number, 0 or more",
                                w.raw
                            ),
                        );
                    } else if ngc && l.words.len() > 1 {
                        push(
                            Severity::Error,
                            l.line,
                            w.col,
                            format!(
                                "'O{}' shares the line with other words: LinuxCNC takes an O word alone on its line (a program number), or with a subroutine keyword",
                                w.raw
                            ),
                        );
                    }
                }
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
                    let group = g_group(c);
                    let clash = group.and_then(|(g, name)| {
                        gs.iter()
                            .find(|(c0, _)| g_group(*c0).map(|x| x.0) == Some(g))
                            .map(|(_, w0)| (g, name, *w0))
                    });
                    match clash {
                        Some((1, _, w0)) => push(
                            Severity::Error,
                            l.line,
                            w.col,
                            format!("two motion codes on one line (G{} and G{})", w0.raw, w.raw),
                        ),
                        Some((_, name, w0)) if group_rules => push(
                            Severity::Error,
                            l.line,
                            w.col,
                            format!(
                                "G{} and G{} on one line: both set the {name}, and {d} takes one code of a modal group per line",
                                w0.raw, w.raw
                            ),
                        ),
                        _ => {}
                    }
                    gs.push((c, w));
                    if group.map(|g| g.0) == Some(1) {
                        line_motion = Some((c, w));
                    }
                    match c {
                        200 => units = Some(25.4),
                        210 => units = Some(1.0),
                        900 => absolute = Some(true),
                        910 => absolute = Some(false),
                        901 => ij_absolute = true,
                        911 => ij_absolute = false,
                        170 | 180 | 190 => {
                            plane = match c {
                                170 => Plane::Xy,
                                180 => Plane::Xz,
                                _ => Plane::Yz,
                            };
                            plane_stated = true
                        }
                        940 => {
                            feed_mode_stated = true;
                            inverse_time = false;
                        }
                        930 | 950 => {
                            feed_mode_stated = true;
                            inverse_time = c == 930;
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
                        410 | 411 | 420 | 421 if warned_once.insert("cutter compensation") => {
                            push(
                                Severity::Warning,
                                l.line,
                                w.col,
                                "cutter radius compensation (G41/G42) is not simulated: moves are played as written".into(),
                            );
                        }
                        _ => {}
                    }
                }
                'M' => {
                    let known = whole(w.value)
                        .filter(|m| *m >= 0)
                        .map(|m| m as u32)
                        .filter(|m| d.known_m().contains(m));
                    let Some(c) = known else {
                        let why = match whole(w.value) {
                            None => {
                                format!("M{} is not a whole number: M codes are integers", w.raw)
                            }
                            Some(m) if m < 0 => format!("negative M code 'M{}'", w.raw),
                            Some(m) if ngc && m > 199 => {
                                format!("M{}: LinuxCNC has no M code above 199", w.raw)
                            }
                            _ => format!("{d} does not know M{}", w.raw),
                        };
                        push(Severity::Error, l.line, w.col, why);
                        continue;
                    };
                    if group_rules
                        && let Some((g, name)) = m_group(c)
                        && let Some((_, w0)) = ms
                            .iter()
                            .find(|(c0, _)| m_group(*c0).map(|x| x.0) == Some(g))
                    {
                        push(
                            Severity::Error,
                            l.line,
                            w.col,
                            format!(
                                "M{} and M{} on one line: both set the {name}, and {d} takes one code of a modal group per line",
                                w0.raw, w.raw
                            ),
                        );
                    }
                    ms.push((c, w));
                    match c {
                        3 | 4 => spindle_on = true,
                        5 => spindle_on = false,
                        2 | 30 => ended = true,
                        // M99 outside a subroutine ends LinuxCNC's main program.
                        99 if ngc => ended = true,
                        6 => {
                            if let Some(t) = l.get('T').and_then(|t| whole(t.value)) {
                                tool = u32::try_from(t).ok();
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
                        98 => push(
                            Severity::Error,
                            l.line,
                            w.col,
                            match l.get('P') {
                                None => "M98 (call a subroutine) without a P word naming the subroutine".into(),
                                Some(p) => format!(
                                    "M98 P{}: subroutine calls are not supported: fab cannot play the subroutine, so it cannot check the program",
                                    p.raw
                                ),
                            },
                        ),
                        62..=65 if ngc && l.get('P').is_none_or(|p| p.value < 0.0) => push(
                            Severity::Error,
                            l.line,
                            w.col,
                            format!(
                                "M{} (set a digital output) needs a P word naming the output, 0 or more",
                                w.raw
                            ),
                        ),
                        61 if ngc && l.get('Q').is_none_or(|q| q.value < 0.0) => push(
                            Severity::Error,
                            l.line,
                            w.col,
                            "M61 (set the current tool) needs a Q word with the tool number, 0 or more".into(),
                        ),
                        _ => {}
                    }
                }
                'T' | 'H' | 'D' => {
                    let what = match w.letter {
                        'T' => "tool number",
                        'H' => "tool length offset number",
                        _ => "tool diameter offset number",
                    };
                    match whole(w.value) {
                        Some(n) if n >= 0 => {
                            if w.letter == 'T' {
                                tool = u32::try_from(n).ok();
                            }
                        }
                        Some(_) => push(
                            Severity::Error,
                            l.line,
                            w.col,
                            format!("negative {what} '{}{}'", w.letter, w.raw),
                        ),
                        None => push(
                            Severity::Error,
                            l.line,
                            w.col,
                            format!("{what} '{}{}' is not a whole number", w.letter, w.raw),
                        ),
                    }
                }
                'F' => {
                    if w.value < 0.0 {
                        push(
                            Severity::Error,
                            l.line,
                            w.col,
                            format!("negative feed rate 'F{}'", w.raw),
                        );
                        continue;
                    }
                    feed = w.value * units.unwrap_or(1.0);
                    feed_cleared = None;
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
                    if w.value < 0.0 {
                        push(
                            Severity::Error,
                            l.line,
                            w.col,
                            format!("negative spindle speed 'S{}'", w.raw),
                        );
                    } else if let Some(m) = &opts.machine
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
        let col0 = l.words.first().map(|w| w.col).unwrap_or(1);
        let g_on = |c: u32| gs.iter().find(|(x, _)| *x == c).map(|(_, w)| *w);
        let has_axis = l.words.iter().any(|w| "XYZ".contains(w.letter));
        let has_rotary = l.words.iter().any(|w| "ABC".contains(w.letter));
        let has_ijk = l.words.iter().any(|w| "IJK".contains(w.letter));
        let axis_taker = gs.iter().find(|(c, _)| takes_axis_words(*c)).map(|x| x.1);
        // The motion the line makes: its own motion code, else the modal one when it has axis
        // words (or I/J/K, which continue an arc) and no group-0 code takes them.
        let motion_to_be = match line_motion {
            Some((c, _)) => Some(c),
            None if axis_taker.is_none() && (has_axis || has_rotary || has_ijk) => motion,
            None => None,
        };
        if ngc
            && has_rotary
            && motion_to_be.is_some_and(canned_cycle)
            && let Some(w) = l.words.iter().find(|w| "ABC".contains(w.letter))
        {
            push(
                Severity::Error,
                l.line,
                w.col,
                format!(
                    "'{}{}' in a canned cycle: LinuxCNC takes no rotary axis words there",
                    w.letter, w.raw
                ),
            );
        }
        if ngc && l.words.iter().filter(|w| w.letter == 'M').count() > 4 {
            push(
                Severity::Error,
                l.line,
                col0,
                "more than four M codes on one line: LinuxCNC takes at most four".into(),
            );
        }
        if group_rules
            && let (Some(w0), Some((c, w1))) = (axis_taker, line_motion)
            && c != 800
        {
            push(
                Severity::Error,
                l.line,
                w1.col,
                format!(
                    "G{} and G{} on one line: both take the line's axis words, so {d} refuses it",
                    w0.raw, w1.raw
                ),
            );
        }
        if ngc
            && let Some((w, message)) = ngc_unused_word(
                l,
                &gs.iter().map(|x| x.0).collect::<Vec<_>>(),
                &ms.iter().map(|x| x.0).collect::<Vec<_>>(),
                motion_to_be,
            )
        {
            push(Severity::Error, l.line, w.col, message);
        } else if !ngc
            && matches!(motion_to_be, Some(0 | 10))
            && let Some(w) = l.words.iter().find(|w| "IJKR".contains(w.letter))
        {
            push(
                Severity::Error,
                l.line,
                w.col,
                format!(
                    "'{}{}' on a G0/G1 line: I, J, K and R belong to arcs (G2, G3)",
                    w.letter, w.raw
                ),
            );
        }
        if let Some(g4) = g_on(40) {
            match l.get('P') {
                // LinuxCNC reads P-1 as no P at all.
                None => push(
                    Severity::Error,
                    l.line,
                    g4.col,
                    "G4 (dwell) without a P word giving the time in seconds".into(),
                ),
                Some(p) if ngc && p.value == -1.0 => push(
                    Severity::Error,
                    l.line,
                    p.col,
                    "G4 (dwell) with P-1: LinuxCNC reads that as no P word; give the time in seconds, 0 or more".into(),
                ),
                Some(p) if p.value < 0.0 => push(
                    if ngc {
                        Severity::Warning
                    } else {
                        Severity::Error
                    },
                    l.line,
                    p.col,
                    format!("negative dwell time 'P{}': the controller waits no time", p.raw),
                ),
                Some(_) => {}
            }
            if ngc && matches!(motion_to_be, Some(20 | 30)) {
                push(
                    Severity::Error,
                    l.line,
                    g4.col,
                    "G4 and an arc (G2/G3) on one line: both read the P word".into(),
                );
            }
        }
        if ngc && let Some(g10) = g_on(100) {
            let l_word = l.get('L').and_then(|w| whole(w.value));
            let p = l.get('P').map(|w| w.value.round()).unwrap_or(-1.0);
            match l_word {
                Some(2 | 20) if !(0.0..=9.0).contains(&p) => push(
                    Severity::Error,
                    l.line,
                    g10.col,
                    "G10 L2/L20 needs P0 to P9 (the coordinate system)".into(),
                ),
                Some(1 | 10 | 11) if p < 1.0 => push(
                    Severity::Error,
                    l.line,
                    g10.col,
                    "G10 L1/L10/L11 needs a P word with the tool number, 1 or more".into(),
                ),
                Some(1 | 2 | 10 | 11 | 20) => {}
                _ => push(
                    Severity::Error,
                    l.line,
                    g10.col,
                    "G10 without L1, L2, L10, L11 or L20: LinuxCNC does not know what to set"
                        .into(),
                ),
            }
        }
        if ngc && let Some(g53) = g_on(530) {
            if !matches!(motion_to_be, Some(0 | 10)) {
                push(
                    Severity::Error,
                    l.line,
                    g53.col,
                    "G53 (machine coordinates) works only with G0 or G1".into(),
                );
            }
            if absolute == Some(false) {
                push(
                    Severity::Error,
                    l.line,
                    g53.col,
                    "G53 (machine coordinates) in incremental distance mode (G91): LinuxCNC refuses it".into(),
                );
            }
        }
        if ngc && inverse_time && matches!(motion_to_be, Some(10 | 20 | 30)) && l.get('F').is_none()
        {
            push(
                Severity::Error,
                l.line,
                col0,
                "feed move in inverse-time mode (G93) without its own F word".into(),
            );
        }
        if let Some((c, _)) = line_motion {
            motion = (c != 800).then_some(c);
        }
        if has_rotary && warned_once.insert("rotary") {
            push(
                Severity::Warning,
                l.line,
                col0,
                "rotary axis words (A, B, C) are not simulated".into(),
            );
        }
        if ngc
            && !(has_axis || has_rotary)
            && let Some(w) = g_on(920).or(g_on(520))
        {
            push(
                Severity::Error,
                l.line,
                w.col,
                format!(
                    "G{} without axis words: it sets the offsets of the axes it names, and names none",
                    w.raw
                ),
            );
        }
        if ngc
            && !(has_axis || has_rotary)
            && let Some((c, w)) = line_motion
            && !matches!(c, 0 | 10 | 20 | 30 | 800)
        {
            push(
                Severity::Error,
                l.line,
                w.col,
                format!(
                    "G{} without axis words: it moves to the axes it names, and names none",
                    w.raw
                ),
            );
        }
        // LinuxCNC forgets the feed rate when the feed mode is set (G93, G94 or G95), unless
        // the line gives a new one.
        if ngc
            && let Some((_, w)) = gs.iter().find(|(c, _)| matches!(c, 930 | 940 | 950))
            && l.get('F').is_none()
        {
            if feed > 0.0 {
                feed_cleared = Some(format!("G{} on line {}", w.raw, l.line));
            }
            feed = 0.0;
        }
        // An arc code on the line makes an arc even with no axis words (a full circle).
        let arc_here = line_motion.is_some_and(|(c, _)| c == 20 || c == 30);
        if !(has_axis || has_rotary || arc_here || (has_ijk && matches!(motion, Some(20 | 30)))) {
            continue;
        }
        if let Some(w) = axis_taker.or(g_on(530)).or(g_on(431)) {
            // G10/G28/G30/G52/G92/G53/G43.1 with axis words: not a cutting move of the program.
            push(
                Severity::Warning,
                l.line,
                w.col,
                format!("axis words with G{}: not simulated", w.raw),
            );
            continue;
        }
        let Some(mcode) = motion else {
            push(
                Severity::Error,
                l.line,
                col0,
                if line_motion.is_some_and(|(c, _)| c == 800) {
                    "axis words with G80, which cancels the motion mode: nothing uses them".into()
                } else {
                    "axis words with no motion mode (G0, G1, G2 or G3) in effect".into()
                },
            );
            continue;
        };
        if !matches!(mcode, 0 | 10 | 20 | 30) {
            if warned_once.insert(if canned_cycle(mcode) {
                "canned cycle"
            } else {
                "other motion"
            }) {
                push(
                    Severity::Warning,
                    l.line,
                    col0,
                    format!(
                        "{} is not simulated: the check does not play its moves",
                        show_code('G', mcode)
                    ),
                );
            }
            continue;
        }
        if first_motion_line.is_none() {
            first_motion_line = Some(l.line);
            if units.is_none() {
                push(
                    Severity::Error,
                    l.line,
                    col0,
                    "first move before the units are stated (G21 for mm, or G20): the controller would use the units it was left in".into(),
                );
            }
            if absolute.is_none() {
                push(
                    Severity::Error,
                    l.line,
                    col0,
                    "first move before the distance mode is stated (G90): the controller would use the mode it was left in".into(),
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
        if mcode != 0 {
            if feed <= 0.0 {
                push(
                    Severity::Error,
                    l.line,
                    col0,
                    match &feed_cleared {
                        Some(by) => format!(
                            "cutting move with no feed rate (F) set: {by} cleared it (LinuxCNC forgets the feed rate when the feed mode is set)"
                        ),
                        None => "cutting move with no feed rate (F) set".into(),
                    },
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
        let mv = |kind, from, to| PlayedMove {
            line: l.line,
            kind,
            from,
            to,
            tool,
            feed: if kind == MoveKind::Rapid { 0.0 } else { feed },
        };
        let played = match mcode {
            0 => vec![mv(MoveKind::Rapid, start, to)],
            10 => vec![mv(MoveKind::Feed, start, to)],
            _ => {
                let arc = Arc {
                    ccw: mcode == 30,
                    plane,
                    ij_absolute,
                    mm_per_unit: u,
                };
                match arc.play(l, d, start, to) {
                    Ok(pieces) => pieces
                        .into_iter()
                        .map(|(kind, from, to)| mv(kind, from, to))
                        .collect(),
                    Err((col, message)) => {
                        push(Severity::Error, l.line, col.unwrap_or(col0), message);
                        vec![]
                    }
                }
            }
        };
        if pos.is_some() || mcode == 0 {
            moves.extend(played);
        }
        pos = Some(to);
    }
    if !ended {
        push(
            Severity::Error,
            last_line,
            1,
            if starts_with_percent == Some(true) && ngc {
                "program never ends: it starts with '%' but has no closing '%' and no M30 (or M2)"
                    .into()
            } else {
                "program never ends: no M30 (or M2)".into()
            },
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
    // the motion, and the machine's time for each tool change (each new tool the moves use, as
    // fab's own estimate counts them)
    let changes = crate::estimate::tool_changes(moves.iter().map(|m| m.tool));
    let estimated_s = segments_seconds(&segs, opts.machine.as_ref().and_then(|m| m.acceleration))
        + opts
            .machine
            .as_ref()
            .map_or(0.0, |m| m.tool_change_s * changes as f64);
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

/// The most turns (P) of one arc that fab plays.
const MAX_TURNS: i64 = 1000;

/// One piece of a played move: its kind, start and end (mm).
type Piece = (MoveKind, [f64; 3], [f64; 3]);

/// An arc move (G2/G3) in the modal state it is read in.
struct Arc {
    ccw: bool,
    plane: Plane,
    /// G90.1: I, J and K give the centre itself, not its offset from the start.
    ij_absolute: bool,
    mm_per_unit: f64,
}

impl Arc {
    /// The pieces that play the arc of line `l` from `start` to `to` (mm): an XY arc as one arc
    /// (a helix of P turns as P arcs), an XZ or YZ arc as chords within 0.001 mm of it. Errs
    /// with the column (if one word is at fault) and the reason when the controller would
    /// refuse the arc.
    fn play(
        &self,
        l: &Line,
        d: Dialect,
        start: [f64; 3],
        to: [f64; 3],
    ) -> Result<Vec<Piece>, (Option<usize>, String)> {
        let ngc = d == Dialect::LinuxCnc;
        let u = self.mm_per_unit;
        let tol = ArcTolerance::linuxcnc(u);
        let ([a, b, n], [o1, o2], stray) = self.plane.axes();
        if ngc && let Some(w) = l.get(stray) {
            return Err((
                Some(w.col),
                format!(
                    "'{}{}' on an arc in the {}: the centre there is given by {o1} and {o2}",
                    w.letter,
                    w.raw,
                    self.plane.name()
                ),
            ));
        }
        let offsets = [l.get(o1), l.get(o2)];
        let r_word = l.get('R');
        if let Some(r) = r_word
            && (offsets.iter().any(Option::is_some) || l.get(stray).is_some())
        {
            return Err((
                Some(r.col),
                "arc with both a radius (R) and a centre (I, J, K): give one of them".into(),
            ));
        }
        let turns = match l.get('P') {
            Some(p) if ngc => match whole(p.value) {
                Some(t) if t > MAX_TURNS => {
                    return Err((
                        Some(p.col),
                        format!(
                            "arc with P{}: more than {MAX_TURNS} turns, which fab does not play",
                            p.raw
                        ),
                    ));
                }
                Some(t) if t >= 1 => t as u32,
                _ => {
                    return Err((
                        Some(p.col),
                        format!(
                            "arc with P{}: P counts the arc's turns, a whole number 1 or more",
                            p.raw
                        ),
                    ));
                }
            },
            _ => 1,
        };
        let s2 = [start[a], start[b]];
        let e2 = [to[a], to[b]];
        let center = if let Some(r) = r_word {
            if s2 == e2 {
                return Err((
                    Some(r.col),
                    format!(
                        "arc by radius R{} ends where it starts: its centre is undefined (a full circle needs {o1} and {o2})",
                        r.raw
                    ),
                ));
            }
            center_from_radius(s2, e2, r.value * u, self.ccw, tol.reach).ok_or_else(|| {
                (
                    Some(r.col),
                    format!(
                        "arc radius R{} is shorter than half the distance to the arc's end",
                        r.raw
                    ),
                )
            })?
        } else if offsets.iter().all(Option::is_none) {
            return Err((
                None,
                format!("arc without a centre ({o1}, {o2}) or radius (R)"),
            ));
        } else {
            let i = offsets[0].map_or(0.0, |w| w.value * u);
            let j = offsets[1].map_or(0.0, |w| w.value * u);
            if self.ij_absolute {
                [i, j]
            } else {
                [s2[0] + i, s2[1] + j]
            }
        };
        let r0 = (s2[0] - center[0]).hypot(s2[1] - center[1]);
        let r1 = (e2[0] - center[0]).hypot(e2[1] - center[1]);
        if r0 < tol.min_radius || r1 < tol.min_radius {
            return Err((
                None,
                format!(
                    "zero-radius arc: its centre is on its start or its end (radius {r0:.4} mm at the start, {r1:.4} mm at the end)"
                ),
            ));
        }
        if tol.differ(d, r0, r1) {
            return Err((
                None,
                format!(
                    "arc radius to the end ({r1:.4} mm) differs from the radius to the start ({r0:.4} mm)"
                ),
            ));
        }
        let turn = if self.ccw {
            std::f64::consts::TAU
        } else {
            -std::f64::consts::TAU
        };
        let sweep =
            crate::estimate::arc_sweep([s2[0], s2[1], 0.0], [e2[0], e2[1], 0.0], center, self.ccw)
                + (turns - 1) as f64 * turn;
        if self.plane == Plane::Xy {
            let kind = MoveKind::Arc {
                center,
                ccw: self.ccw,
            };
            let mut out = Vec::with_capacity(turns as usize);
            let mut from = start;
            for k in 1..turns {
                let p = [
                    start[0],
                    start[1],
                    start[2] + (to[2] - start[2]) * k as f64 * turn / sweep,
                ];
                out.push((kind, from, p));
                from = p;
            }
            out.push((kind, from, to));
            return Ok(out);
        }
        // Chords with a sagitta of 0.001 mm.
        let step = 2.0 * (1.0 - 0.001 / r0.max(r1)).max(-1.0).acos();
        let count = ((sweep.abs() / step).ceil() as usize).clamp(1, 100_000);
        let a0 = (s2[1] - center[1]).atan2(s2[0] - center[0]);
        let mut out = Vec::with_capacity(count);
        let mut from = start;
        for k in 1..=count {
            let t = k as f64 / count as f64;
            let p = if k == count {
                to
            } else {
                let angle = a0 + sweep * t;
                let r = r0 + (r1 - r0) * t;
                let mut p = [0.0; 3];
                p[a] = center[0] + r * angle.cos();
                p[b] = center[1] + r * angle.sin();
                p[n] = start[n] + (to[n] - start[n]) * t;
                p
            };
            out.push((MoveKind::Feed, from, p));
            from = p;
        }
        Ok(out)
    }
}

/// Centre of an arc from `a` to `b` (in the arc's plane) given by its radius (R > 0: the
/// shorter arc; R < 0: the longer); `None` when the radius falls more than `tol` short of half
/// the chord.
fn center_from_radius(a: [f64; 2], b: [f64; 2], r: f64, ccw: bool, tol: f64) -> Option<[f64; 2]> {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let chord = dx.hypot(dy);
    if chord == 0.0 || chord / 2.0 - r.abs() > tol {
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
        let c = center_from_radius([10.0, 0.0], [0.0, 10.0], 10.0, true, 0.0).unwrap();
        assert!(c[0].abs() < 1e-9 && c[1].abs() < 1e-9, "{c:?}");
        // Same ends clockwise, shorter arc: centre at (10, 10).
        let c = center_from_radius([10.0, 0.0], [0.0, 10.0], 10.0, false, 0.0).unwrap();
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
            "G1 X1 F100\nM3 S1000\nG1 X2\nU5\nG0 G1 X3\nG2 X5 Y5\n",
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
        assert!(has("4:1 linuxcnc does not know the word 'U5'"), "{msgs:?}");
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

    #[test]
    fn arcs_in_every_plane_and_helices_are_played() {
        let head = "G21 G90 G94\nM3 S1000\nG0 X0 Y0 Z0\nG1 F500\n";
        // XZ: a half circle of radius 5 from Z0 to Z10 (centre K5), as chords on the circle.
        let r = check(
            &format!("{head}G18\nG2 X0 Z10 K5 I0\nM30\n"),
            Dialect::LinuxCnc,
        );
        assert!(r.ok(), "{:?}", r.findings);
        let arc: Vec<&PlayedMove> = r.moves.iter().filter(|m| m.line == 6).collect();
        assert!(arc.len() > 50, "{}", arc.len());
        for m in &arc {
            let d = (m.to[2] - 5.0).hypot(m.to[0]);
            assert!((d - 5.0).abs() < 1e-9 && m.kind == MoveKind::Feed, "{m:?}");
            assert_eq!(m.to[1], 0.0);
        }
        assert_eq!(arc.last().unwrap().to, [0.0, 0.0, 10.0]);
        assert!((r.feed_length - std::f64::consts::PI * 5.0).abs() < 2e-3);
        // G2 in G18 turns clockwise in LinuxCNC's (Z, X) frame: from Z0 through X+5.
        assert!(arc.iter().any(|m| m.to[0] > 4.9));
        // A helix of two turns: a full turn then the half turn, Z shared by angle.
        let r = check(
            &format!("{head}G17\nG3 X10 Y0 Z-3 I5 P2\nM30\n"),
            Dialect::LinuxCnc,
        );
        assert!(r.ok(), "{:?}", r.findings);
        let arc: Vec<&PlayedMove> = r.moves.iter().filter(|m| m.line == 6).collect();
        assert_eq!(arc.len(), 2);
        assert!((arc[0].to[2] - -2.0).abs() < 1e-12 && arc[0].to[0] == 0.0);
        assert!(
            (r.feed_length - (3.0f64.powi(2) + (3.0 * std::f64::consts::PI * 5.0).powi(2)).sqrt())
                .abs()
                < 1e-6
        );
        // G90.1: I and J are the centre; G91.1 (the default) an offset from the start.
        let r = check(
            &format!("{head}G0 X10\nG90.1\nG2 X20 Y0 I15 J0\nG91.1\nG2 X30 Y0 I5\nM30\n"),
            Dialect::LinuxCnc,
        );
        assert!(r.ok(), "{:?}", r.findings);
        let centers: Vec<[f64; 2]> = r
            .moves
            .iter()
            .filter_map(|m| match m.kind {
                MoveKind::Arc { center, .. } => Some(center),
                _ => None,
            })
            .collect();
        assert_eq!(centers, [[15.0, 0.0], [25.0, 0.0]]);
    }

    #[test]
    fn every_dialect_refuses_what_no_controller_takes() {
        for d in Dialect::ALL {
            let r = check(
                "G21 G90 G17 G94\nM3 S1000\nG0 X0 Y0\nG1 X1 X2 F100\nS-5\nG4\nG2 X0 Y0 I0 J0\nT1.5\nM30\n",
                d,
            );
            let lines: Vec<usize> = r.errors().map(|f| f.line).collect();
            assert_eq!(lines, [4, 5, 6, 7, 8], "{d}: {:?}", r.findings);
        }
        // I on a G0 line: LinuxCNC names what would use it; the others say arcs.
        let r = check("G21 G90\nG0 X1 I1\nM30\n", Dialect::Grbl);
        assert!(r.errors().any(|f| f.message.contains("belong to arcs")));
        let r = check("G21 G90\nG0 X1 I1\nM30\n", Dialect::LinuxCnc);
        assert!(
            r.errors()
                .any(|f| f.message.contains("LinuxCNC reads I only with an arc"))
        );
        // Two codes of one modal group: LinuxCNC and GRBL refuse, Fanuc and Mach3 take the last.
        for (d, refused) in [
            (Dialect::LinuxCnc, true),
            (Dialect::Grbl, true),
            (Dialect::Fanuc, false),
            (Dialect::Mach3, false),
        ] {
            let r = check("G21 G90 G91\nG90\nM30\n", d);
            assert_eq!(r.ok(), !refused, "{d}: {:?}", r.findings);
        }
    }
}
