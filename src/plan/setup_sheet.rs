//! The operator's setup sheet (one self-contained HTML page that prints on one A4 sheet): job
//! number and approval, the blank's material and size and where it sits on the table, the work
//! zero in program and machine coordinates, each tool with the reach it needs, the operations
//! with their feeds, speeds, steps and times, the holding tabs, the tool changes in order (GRBL:
//! each manual stop and re-zeroing of Z), the program's name, size and SHA-256 (what is milled
//! must be byte for byte what was approved), the settings and where they came from, and the
//! picture: the preview PNG (embedded) under vector annotations, and a side view with the Z
//! depths (`preview`). Never a patient reference: the job number only.

use std::fmt::Write as _;
use std::time::Duration;

use fab_geometry::design::Design;
use fab_geometry::orient::FootSide;
use fab_ticket::store::HistoryEntry;
use fab_ticket::workflow::Status;
use fab_toolpath::estimate::{estimate_time, format_duration};
use fab_toolpath::gcode::Dialect;
use fab_toolpath::{Cutter, Machine, Move, Operation};

use super::preview::{self, Picture, TabMark};
use super::{CLEARANCE, OpSettings, Tabs};

/// What the sheet shows.
pub struct Sheet<'a> {
    pub job: &'a str,
    pub what: &'a str,
    pub side: FootSide,
    /// The blank's material, the material row's `blank` text.
    pub blank_material: &'a str,
    pub design: &'a Design,
    pub ops: &'a [Operation],
    /// One per operation of `ops`.
    pub op_settings: &'a [OpSettings],
    pub tabs: &'a Tabs,
    pub machine: &'a Machine,
    pub dialect: Dialect,
    pub program_name: &'a str,
    pub program_sha256: &'a str,
    pub program_bytes: usize,
    pub design_name: &'a str,
    pub preview_name: &'a str,
    pub picture: &'a Picture,
    pub scan_sha256: &'a str,
    /// The whole program's estimate (as its header says).
    pub estimated: Duration,
    /// The settings planned with: what, value, where it came from (work order, material table,
    /// machine, option).
    pub settings: &'a [(&'a str, String, &'a str)],
    /// The job's approval, when planned for a job.
    pub approval: Option<Approval>,
    /// Orthoses milled directly: each part on the blank (none for a positive).
    pub orthoses: &'a [OrthosisOnSheet],
}

/// One orthosis on the blank, as the sheet shows it.
#[derive(Clone, Debug)]
pub struct OrthosisOnSheet {
    pub side: FootSide,
    /// Its outline's rectangle, `[xmin, ymin, xmax, ymax]`, program coordinates.
    pub extent: [f64; 4],
    /// Its heel end, program XY.
    pub heel: [f64; 2],
    pub measured: fab_geometry::device::DeviceMeasurements,
}

/// Who did something to the job, and when.
#[derive(Clone, Debug, PartialEq)]
pub struct Signed {
    pub by: String,
    pub role: String,
    pub at: String,
}

/// Where the job stands: its status and who approved it (or last asked for changes).
#[derive(Clone, Debug, PartialEq)]
pub struct Approval {
    pub status: Status,
    pub approved: Option<Signed>,
    pub changes_requested: Option<Signed>,
}

impl Approval {
    /// From the job's status and history (oldest first): the latest approval and the latest
    /// request for changes (review back to designing). Notes are left out: free text may name
    /// the patient.
    pub fn of(status: Status, history: &[HistoryEntry]) -> Approval {
        let last = |from: Option<Status>, to: Status| {
            history
                .iter()
                .rev()
                .find(|h| {
                    h.action == "status" && h.to == Some(to) && (from.is_none() || h.from == from)
                })
                .map(|h| Signed {
                    by: h.actor.clone(),
                    role: h.role.to_string(),
                    at: h.at.clone(),
                })
        };
        Approval {
            status,
            approved: last(None, Status::Approved),
            changes_requested: last(Some(Status::Review), Status::Designing),
        }
    }
}

/// Text made safe for HTML.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            _ => o.push(c),
        }
    }
    o
}

/// Standard base64 (RFC 4648, padded), for the picture's data URL.
pub fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut o = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for c in bytes.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for k in 0..4 {
            if k <= c.len() {
                o.push(A[(n >> (18 - 6 * k) & 63) as usize] as char);
            } else {
                o.push('=');
            }
        }
    }
    o
}

/// The tool's type, e.g. "flat end mill".
fn cutter_type(c: &Cutter) -> String {
    match *c {
        Cutter::Ball { .. } => "ball nose".into(),
        Cutter::Flat { .. } => "flat end mill".into(),
        Cutter::Bull { corner_radius, .. } => {
            format!("bull nose, corner radius {corner_radius} mm")
        }
    }
}

fn cutter_words(c: &Cutter) -> String {
    format!("{} mm {}", c.diameter(), cutter_type(c))
}

/// `12.5` / `-31.25`: mm with at most two decimals, never `-0`.
fn mm(v: f64) -> String {
    let s = format!("{:.2}", v);
    let s = s.trim_end_matches('0').trim_end_matches('.').to_string();
    if s == "-0" { "0".into() } else { s }
}

/// The lowest Z the tool tip reaches in `op`.
fn deepest(op: &Operation) -> f64 {
    op.moves
        .iter()
        .map(|m| m.end()[2])
        .fold(f64::INFINITY, f64::min)
}

/// A tool as the sheet lists it: in the order first used, with the operations it runs and the
/// deepest Z it cuts to.
struct ToolUse<'a> {
    op: &'a Operation,
    ops: Vec<usize>,
    deepest: f64,
}

fn tools_used(ops: &[Operation]) -> Vec<ToolUse<'_>> {
    let mut out: Vec<ToolUse> = Vec::new();
    for (k, op) in ops.iter().enumerate().filter(|(_, o)| !o.moves.is_empty()) {
        let z = deepest(op);
        match out.iter_mut().find(|t| t.op.tool.number == op.tool.number) {
            Some(t) => {
                t.ops.push(k);
                t.deepest = t.deepest.min(z);
            }
            None => out.push(ToolUse {
                op,
                ops: vec![k],
                deepest: z,
            }),
        }
    }
    out
}

/// Where on the part a point of the cut-out is, in the operator's words ("heel end, lateral
/// side").
fn where_on_part(d: &Design, side: FootSide, orthoses: &[OrthosisOnSheet], p: [f64; 2]) -> String {
    // on a blank of orthoses: which part, and where along it from its heel
    let away = |e: &[f64; 4]| {
        (e[0] - p[0])
            .max(p[0] - e[2])
            .max(e[1] - p[1])
            .max(p[1] - e[3])
    };
    if let Some(o) = orthoses
        .iter()
        .min_by(|a, b| away(&a.extent).total_cmp(&away(&b.extent)))
    {
        let len = (o.extent[2] - o.extent[0]).max(1e-9);
        let f = (p[0] - o.heel[0]).abs() / len;
        let along = if f < 0.3 {
            "heel end"
        } else if f > 0.7 {
            "toe end"
        } else {
            "midfoot"
        };
        return format!("{} orthosis, {along}", o.side);
    }
    let [x0, y0, x1, y1] = d.base;
    let fx = (p[0] - x0) / (x1 - x0).max(1e-9);
    let fy = (p[1] - (y0 + y1) / 2.0) / ((y1 - y0) / 2.0).max(1e-9);
    let along = if fx < 0.3 {
        "heel end"
    } else if fx > 0.7 {
        "toe end"
    } else {
        "midfoot"
    };
    let (back, front) = preview::sides_in_picture(side);
    if fy > 0.4 {
        format!("{along}, {back} side")
    } else if fy < -0.4 {
        format!("{along}, {front} side")
    } else {
        along.to_string()
    }
}

/// The nearest any cut (below Z0) comes to the blank's front-left corner, less the tool's
/// radius, mm: how much uncut top there is to touch a tool off on at X0 Y0.
fn corner_clear(ops: &[Operation]) -> f64 {
    let mut best = f64::INFINITY;
    for op in ops {
        let r = op.tool.cutter.radius();
        for m in &op.moves {
            let q = m.end();
            if q[2] < -1e-6 && !matches!(m, Move::Rapid(_)) {
                best = best.min(q[0].hypot(q[1]) - r);
            }
        }
    }
    best
}

/// The sheet as HTML.
pub fn html(s: &Sheet) -> String {
    let d = s.design;
    let m = s.machine;
    let est = format_duration(s.estimated);
    let tools = tools_used(s.ops);
    let profile = s.ops.iter().find(|o| o.name == "profile");
    let marks: Vec<TabMark> = profile
        .map(|p| preview::tab_marks(p, s.tabs))
        .unwrap_or_default();
    let across = profile.map_or(0.0, |p| p.tool.cutter.diameter());
    let href = format!("data:image/png;base64,{}", base64(&s.picture.png));
    let part_marks: Vec<preview::PartMark> = s
        .orthoses
        .iter()
        .map(|o| preview::PartMark {
            label: o.side.to_string().to_uppercase(),
            centre: [
                (o.extent[0] + o.extent[2]) / 2.0,
                (o.extent[1] + o.extent[3]) / 2.0,
            ],
            heel: o.heel,
        })
        .collect();
    let top_view = preview::top_view_svg(
        d,
        s.picture,
        &href,
        s.side,
        &part_marks,
        &marks,
        across,
        s.tabs.width,
    );
    let (on_table, part_row) = if s.orthoses.is_empty() {
        let (back, front) = preview::sides_in_picture(s.side);
        (
            format!(
                "length (X) along the machine's X, heel end towards X0, {back} side at the back, {front} side at the front; plantar side up"
            ),
            format!(
                "base {margin} mm round the foot, X {b0:.1} to {b2:.1}, Y {b1:.1} to {b3:.1}; cut through to Z {bottom}: use a spoil board",
                margin = d.params.base_margin,
                b0 = d.base[0],
                b1 = d.base[1],
                b2 = d.base[2],
                b3 = d.base[3],
                bottom = mm(d.bottom_z),
            ),
        )
    } else {
        let rows: Vec<String> = s
            .orthoses
            .iter()
            .map(|o| {
                let m = &o.measured;
                format!(
                    "<b>{side}</b> orthosis: X {:.1} to {:.1}, Y {:.1} to {:.1}, heel end at X{:.0}; {:.0} mm long, heel cup {:.1} mm, rearfoot {:+.1}&deg; (+ medial up), thinnest {:.1} mm",
                    o.extent[0],
                    o.extent[2],
                    o.extent[1],
                    o.extent[3],
                    o.heel[0],
                    m.length_mm,
                    m.heel_cup_depth_mm,
                    m.rearfoot_tilt_deg,
                    m.least_thickness_mm,
                    side = o.side.to_string().to_uppercase(),
                )
            })
            .collect();
        (
            "the foot's length along the machine's X, each part's heel end as labelled in the picture; foot side up, the shoe side (flat) on the table".to_string(),
            format!(
                "{}<br>cut out through to Z {}: use a spoil board",
                rows.join("<br>"),
                mm(d.bottom_z)
            ),
        )
    };
    let side_view = preview::side_view_svg(d, s.picture, s.tabs, &marks, CLEARANCE);
    let zero_machine = [
        m.blank_origin[0],
        m.blank_origin[1],
        m.blank_origin[2] + d.blank[2],
    ];
    let safe_z = s
        .ops
        .iter()
        .flat_map(|o| o.moves.iter().map(|m| m.end()[2]))
        .fold(f64::MIN, f64::max);
    let approved = s.approval.as_ref().is_some_and(|a| {
        a.approved.is_some()
            && matches!(
                a.status,
                Status::Approved | Status::Milling | Status::Finishing | Status::Qc
            )
    });

    let mut h = String::new();
    let _ = write!(
        h,
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Setup sheet, job {job}</title>
<style>
body {{ font-family: "DejaVu Sans", Arial, sans-serif; font-size: 14px; margin: 1.5em; max-width: 1200px; }}
h1 {{ font-size: 1.6em; margin: 0 0 0.2em; }}
h2 {{ font-size: 1.1em; margin: 0.9em 0 0.3em; }}
p {{ margin: 0.3em 0; }}
table {{ border-collapse: collapse; margin: 0.2em 0 0.5em; width: 100%; }}
td, th {{ border: 1px solid #999; padding: 0.2em 0.45em; text-align: left; vertical-align: top; }}
th {{ background: #eee; }}
td.n {{ text-align: right; white-space: nowrap; }}
.big {{ font-size: 1.2em; font-weight: bold; }}
.warn {{ color: #a00000; font-weight: bold; }}
.ok {{ color: #06602a; font-weight: bold; }}
code {{ font-size: 0.9em; }}
code.hash {{ word-break: break-all; }}
figure {{ margin: 0.4em 0; }}
figcaption {{ font-size: 0.85em; color: #333; }}
svg.view {{ display: block; width: 100%; height: auto; }}
#side-view {{ margin-top: 0.3em; }}
ol {{ margin: 0.2em 0; padding-left: 1.4em; }}
li {{ margin: 0.15em 0; }}
@media screen and (min-width: 1000px) {{
  .cols {{ display: grid; grid-template-columns: 1fr 1fr; column-gap: 1.2em; }}
}}
section {{ break-inside: avoid; }}
section.flow {{ break-inside: auto; }}
h2 {{ break-after: avoid; }}
@page {{ size: A4; margin: 8mm 9mm; }}
@media print {{
  body {{ margin: 0; max-width: none; font-size: 6.4pt; line-height: 1.2; }}
  h1 {{ font-size: 11pt; }}
  h2 {{ font-size: 7.6pt; margin: 1.6mm 0 0.6mm; }}
  td, th {{ padding: 0.15mm 0.9mm; }}
  table {{ margin: 0.3mm 0 0.8mm; }}
  code {{ font-size: 6pt; }}
  figure {{ margin: 0.5mm auto; width: 150mm; }}
  .cols {{ display: grid; grid-template-columns: 1fr 1fr; column-gap: 3mm; }}
  li {{ margin: 0; }}
  table, figure, li {{ break-inside: avoid; }}
}}
</style></head><body>
<h1>Setup sheet &mdash; job {job}</h1>
<p class="big">{what}</p>
<p>Machine <b>{machine}</b> ({dialect} dialect) &middot; program <code>{prog}</code> &middot; estimated run time <b>{est}</b> &middot; {approval_badge}</p>
<figure id="picture">
{top_view}{side_view}<figcaption>Above: the blank seen from above, the front of the machine at the bottom: the design shaded, finishing path in blue, cut-out in red, holding tabs in orange (numbered as in the tabs table), the work zero at the front-left corner of the blank's top. Below: seen from the front, the design's highest Z along X in the blank (true scale). Picture also in <code>{preview}</code>.</figcaption>
</figure>
<div class="cols"><div>
<section>
<h2>Blank and work zero</h2>
<table id="blank">
<tr><th>Material</th><td class="big">{material}</td></tr>
<tr><th>Size (X &times; Y &times; Z)</th><td class="big">{bx:.1} &times; {by:.1} &times; {bz:.1} mm</td></tr>
<tr><th>On the table</th><td>front-left-bottom corner at machine X{ox} Y{oy} Z{oz}; {on_table}</td></tr>
<tr><th>Work zero</th><td class="big">X0 Y0 Z0: top of the blank, front-left corner</td></tr>
<tr><th>Work zero, machine</th><td class="big">X{zx} Y{zy} Z{zz}</td></tr>
<tr><th>Part{parts_s}</th><td>{part_row}</td></tr>
<tr><th>Clearance plane</th><td>Z {clear} (rapids only at or above it)</td></tr>
</table>
</section>
<section>
<h2>Tools, in the order used</h2>
<table id="tools">
<tr><th>Tool</th><th>Type</th><th>Diameter</th><th>Reach needed</th><th>Operations</th></tr>
"#,
        job = esc(s.job),
        what = esc(s.what),
        machine = esc(&m.name),
        dialect = s.dialect.name(),
        prog = esc(s.program_name),
        est = est,
        approval_badge = match &s.approval {
            None => r#"<span class="warn">no job: not approved for a patient's device</span>"#
                .to_string(),
            Some(_) if approved => r#"<span class="ok">approved</span>"#.to_string(),
            Some(a) => format!(
                r#"<span class="warn">job {}: NOT APPROVED, do not mill yet</span>"#,
                a.status
            ),
        },
        top_view = top_view,
        side_view = side_view,
        preview = esc(s.preview_name),
        material = esc(s.blank_material),
        bx = d.blank[0],
        by = d.blank[1],
        bz = d.blank[2],
        ox = mm(m.blank_origin[0]),
        oy = mm(m.blank_origin[1]),
        oz = mm(m.blank_origin[2]),
        on_table = on_table,
        zx = mm(zero_machine[0]),
        zy = mm(zero_machine[1]),
        zz = mm(zero_machine[2]),
        part_row = part_row,
        parts_s = if s.orthoses.len() > 1 { "s" } else { "" },
        clear = mm(CLEARANCE),
    );
    for t in &tools {
        let c = &t.op.tool.cutter;
        let pocket = m
            .tools
            .iter()
            .find(|p| p.number == t.op.tool.number)
            .filter(|p| !p.description.is_empty())
            .map(|p| format!("<br>{}", esc(&p.description)))
            .unwrap_or_default();
        let names: Vec<String> = t
            .ops
            .iter()
            .map(|&k| format!("{} {}", k + 1, esc(&s.ops[k].name)))
            .collect();
        let _ = writeln!(
            h,
            r#"<tr><td><b>T{}</b>{pocket}</td><td>{}</td><td class="n">{} mm</td><td class="n"><b>{} mm</b></td><td>{}</td></tr>"#,
            t.op.tool.number,
            esc(&cutter_type(c)),
            mm(c.diameter()),
            mm(-t.deepest + CLEARANCE),
            names.join(", "),
        );
    }
    let _ = write!(
        h,
        r#"</table>
<p>Reach: stick-out below the collet, at least the deepest cut below the blank's top plus the {clear} mm clearance.</p>
</section>
<section>
<h2>Operations</h2>
<table id="operations">
<tr><th>#</th><th>Operation</th><th>Tool</th><th>Feed mm/min</th><th>Plunge mm/min</th><th>Spindle rpm</th><th>Step-down mm</th><th>Stepover mm</th><th>Time</th></tr>
"#,
        clear = mm(CLEARANCE),
    );
    for (k, op) in s.ops.iter().enumerate() {
        let os = s.op_settings.get(k);
        let opt = |v: Option<f64>| v.map_or("&mdash;".to_string(), mm);
        let time = format_duration(estimate_time(std::slice::from_ref(op), m));
        let _ = writeln!(
            h,
            r#"<tr><td>{}</td><td>{}</td><td>T{}</td><td class="n">{}</td><td class="n">{}</td><td class="n">{:.0}</td><td class="n">{}</td><td class="n">{}</td><td class="n">{time}</td></tr>"#,
            k + 1,
            esc(&op.name),
            op.tool.number,
            os.map_or("?".into(), |o| format!("{:.0}", o.feed)),
            os.map_or("?".into(), |o| format!("{:.0}", o.plunge_feed)),
            op.spindle_rpm,
            opt(os.and_then(|o| o.stepdown)),
            opt(os.and_then(|o| o.stepover)),
        );
    }
    let _ = write!(
        h,
        r#"<tr><th colspan="8">Whole program (moves between operations, {n} tool loads at {tc} s each)</th><td class="n"><b>{est}</b></td></tr>
</table>
<p>{how}. Feeds and spindle as the program runs them, within the machine's limits ({maxf} mm/min, {maxs} rpm). Each operation's time is estimated on its own, with one tool load.</p>
</section>
"#,
        n = 1 + count_changes(s.ops),
        maxf = mm(m.max_feed),
        maxs = mm(m.max_spindle_rpm),
        tc = mm(m.tool_change_s),
        how = s
            .ops
            .iter()
            .zip(s.op_settings)
            .map(|(op, o)| format!("{}: {}", esc(&op.name), esc(&o.how)))
            .collect::<Vec<_>>()
            .join("; "),
    );
    let tabs_html = tabs_section(s, &marks);
    // the right column: approval, program, steps, settings
    h.push_str(&tabs_html);
    let _ = write!(
        h,
        "</div><div>\n<section>\n<h2>Approval</h2>\n<table id=\"approval\">\n"
    );
    match &s.approval {
        None => {
            let _ = writeln!(
                h,
                r#"<tr><th>Status</th><td class="warn">no job (planned without --job): a trial, not approved for a patient's device</td></tr>"#
            );
        }
        Some(a) => {
            let _ = writeln!(
                h,
                r#"<tr><th>Job status</th><td class="big">{}</td></tr>"#,
                a.status
            );
            let approver = match &a.approved {
                Some(sg) => format!("{} ({}), {}", esc(&sg.by), esc(&sg.role), esc(&sg.at)),
                None => r#"<span class="warn">none yet: not approved</span>"#.into(),
            };
            let _ = writeln!(h, "<tr><th>Approved by</th><td>{approver}</td></tr>");
            if let Some(sg) = &a.changes_requested {
                let _ = writeln!(
                    h,
                    "<tr><th>Changes last requested by</th><td>{} ({}), {}</td></tr>",
                    esc(&sg.by),
                    esc(&sg.role),
                    esc(&sg.at)
                );
            }
            let _ = writeln!(
                h,
                r#"<tr><th>Before milling</th><td>the job must be <b>approved</b> by a prosthetist for this program, and <code>fab job verify {job} {prog}</code> must pass (it checks the program byte for byte)</td></tr>"#,
                job = esc(s.job),
                prog = esc(s.program_name)
            );
        }
    }
    let _ = write!(
        h,
        r#"</table>
</section>
<section>
<h2>Program</h2>
<table id="program">
<tr><th>File</th><td><code>{prog}</code> ({kib:.1} KiB), {dialect} dialect, machine {machine}</td></tr>
<tr><th>SHA-256</th><td><code class="hash">{psha}</code><br>must match the approved program</td></tr>
<tr><th>Design surface</th><td><code>{design}</code> (program coordinates, mm)</td></tr>
<tr><th>Scan SHA-256</th><td><code class="hash">{ssha}</code></td></tr>
</table>
</section>
<section class="flow">
<h2>Operator steps, in order</h2>
<ol id="steps">
<li>Check the program: its SHA-256 as above{verify}.</li>
<li>Fix the blank ({material}, {bx:.1} &times; {by:.1} &times; {bz:.1} mm) on the spoil board, its front-left-bottom corner at machine X{ox} Y{oy} Z{oz}, long side along X.</li>
"#,
        prog = esc(s.program_name),
        kib = s.program_bytes as f64 / 1024.0,
        dialect = s.dialect.name(),
        machine = esc(&m.name),
        psha = esc(s.program_sha256),
        design = esc(s.design_name),
        ssha = esc(s.scan_sha256),
        verify = if s.approval.is_some() {
            format!(
                "; <code>fab job verify {} {}</code> passes",
                esc(s.job),
                esc(s.program_name)
            )
        } else {
            String::new()
        },
        material = esc(s.blank_material),
        bx = d.blank[0],
        by = d.blank[1],
        bz = d.blank[2],
        ox = mm(m.blank_origin[0]),
        oy = mm(m.blank_origin[1]),
        oz = mm(m.blank_origin[2]),
    );
    let tool_words = |op: &Operation| {
        format!(
            "<b>T{}</b> ({}, reach at least {} mm)",
            op.tool.number,
            esc(&cutter_words(&op.tool.cutter)),
            mm(-tools
                .iter()
                .find(|t| t.op.tool.number == op.tool.number)
                .map_or(deepest(op), |t| t.deepest)
                + CLEARANCE)
        )
    };
    let clear = corner_clear(s.ops);
    let touch = if clear >= 3.0 {
        format!("on the uncut top at X0 Y0 (the nearest cut is {clear:.0} mm away)")
    } else {
        "on the blank's uncut top, away from the cuts".to_string()
    };
    let zero = format!(
        "X0 Y0 at the blank's front-left corner, Z0 on its top face (machine X{} Y{} Z{})",
        mm(zero_machine[0]),
        mm(zero_machine[1]),
        mm(zero_machine[2])
    );
    let first = s.ops.iter().position(|o| !o.moves.is_empty());
    if s.dialect.has_tool_change() {
        let _ = writeln!(h, "<li>Set the work zero: {zero}.</li>");
        let _ = writeln!(
            h,
            "<li>Tools: {}. The program changes tools with <code>T.. M6</code>{}: measure each tool's length into the controller's tool table before the run.</li>",
            tools
                .iter()
                .map(|t| tool_words(t.op))
                .collect::<Vec<_>>()
                .join(", "),
            if s.dialect.has_tool_length_offset() {
                " and applies its length with <code>G43 H..</code>"
            } else {
                ""
            }
        );
        let _ = writeln!(
            h,
            "<li>Run the program; the operations run in the order of the table.</li>"
        );
    } else if let Some(k0) = first {
        // GRBL: no tool changer; one program with an M0 stop at each change, Z set again
        let op = &s.ops[k0];
        let _ = writeln!(
            h,
            "<li>Fit {}, then set the work zero with it: {zero} (<code>G10 L20 P1 X0 Y0 Z0</code>). Start the program: {} {} runs.</li>",
            tool_words(op),
            k0 + 1,
            esc(&op.name)
        );
        let mut cur = op.tool.number;
        let mut stop = 0;
        for (k, op) in s.ops.iter().enumerate().skip(k0 + 1) {
            if op.moves.is_empty() || op.tool.number == cur {
                continue;
            }
            stop += 1;
            let _ = writeln!(
                h,
                r#"<li class="tool-change"><b>Stop {stop}</b> (<code>M0</code> before {k1} {name}; spindle off, tool at Z {safe}): fit {tool}; <b>re-zero Z only</b>: touch it off {touch} and set Z0 (<code>G10 L20 P1 Z0</code>), leave X and Y. Resume: {k1} {name} runs.</li>"#,
                k1 = k + 1,
                name = esc(&op.name),
                safe = mm(safe_z),
                tool = tool_words(op),
            );
            cur = op.tool.number;
        }
        let _ = writeln!(
            h,
            "<li>GRBL has no tool changer: {stop} manual stop{} in all. The program ends with the spindle off (<code>M30</code>).</li>",
            if stop == 1 { "" } else { "s" }
        );
    }
    let _ = write!(
        h,
        r#"<li>After the run: cut the tabs and sand them flush.</li>
</ol>
</section>
<section>
<h2>Settings</h2>
<table id="settings">
<tr><th>Setting</th><th>Value</th><th>From</th></tr>
{settings}</table>
</section>
</div></div>
</body></html>
"#,
        settings = s
            .settings
            .iter()
            .map(|(what, v, from)| format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                esc(what),
                esc(v),
                esc(from)
            ))
            .collect::<String>(),
    );
    h.push_str("</section>\n");
    h
}

/// The holding tabs: how many, how big, and where (as drawn and numbered in the picture).
fn tabs_section(s: &Sheet, marks: &[TabMark]) -> String {
    let d = s.design;
    let mut h = String::from("<section>\n<h2>Holding tabs</h2>\n");
    if s.tabs.count == 0 || marks.is_empty() {
        let _ = writeln!(
            h,
            r#"<p id="tabs">None: the cut-out frees the part at its last lap. Hold it (or stop before the last lap) so it does not catch the tool.</p>"#
        );
    } else {
        let _ = writeln!(
            h,
            r#"<p><b>{n}</b> tabs{found}, {w} mm wide, {th} mm high (top at Z {top}), where the cut-out rises over the blank's bottom laps; drawn in orange, numbered:</p>
<table id="tabs">
<tr><th>Tab</th><th>X</th><th>Y</th><th>Where</th></tr>"#,
            n = marks.len(),
            found = if marks.len() != s.tabs.count {
                format!(" (of {} planned)", s.tabs.count)
            } else {
                String::new()
            },
            w = mm(s.tabs.width),
            th = mm(s.tabs.height),
            top = mm(s.tabs.top_z),
        );
        for (k, t) in marks.iter().enumerate() {
            let _ = writeln!(
                h,
                r#"<tr><td>{}</td><td class="n">{:.1}</td><td class="n">{:.1}</td><td>{}</td></tr>"#,
                k + 1,
                t.at[0],
                t.at[1],
                where_on_part(d, s.side, s.orthoses, t.at)
            );
        }
        let _ = writeln!(
            h,
            "</table>\n<p>After the run: cut the tabs, lift the part out, sand the tabs flush.</p>"
        );
    }

    h
}

/// How many times the tool changes between operations (the first load not counted).
fn count_changes(ops: &[Operation]) -> usize {
    let mut cur = None;
    let mut n = 0;
    for op in ops.iter().filter(|o| !o.moves.is_empty()) {
        if cur.is_some_and(|c| c != op.tool.number) {
            n += 1;
        }
        cur = Some(op.tool.number);
    }
    n
}

#[cfg(test)]
mod tests {
    use super::{Approval, Signed, base64, esc, mm};
    use fab_ticket::store::HistoryEntry;
    use fab_ticket::workflow::{Role, Status};

    fn moved(seq: i64, actor: &str, role: Role, from: Status, to: Status) -> HistoryEntry {
        HistoryEntry {
            seq,
            at: format!("2026-01-0{seq}T10:00:00Z"),
            actor: actor.into(),
            role,
            action: "status".into(),
            from: Some(from),
            to: Some(to),
            note: Some("the patient's name could be here".into()),
        }
    }

    #[test]
    fn the_approver_and_the_last_request_for_changes_come_from_the_history() {
        use Status::*;
        let mut h = vec![
            moved(1, "ana", Role::Tech, Received, Designing),
            moved(2, "ana", Role::Tech, Designing, Review),
            moved(3, "pat", Role::Prosthetist, Review, Designing),
        ];
        let a = Approval::of(Designing, &h);
        assert_eq!(a.approved, None);
        assert_eq!(
            a.changes_requested,
            Some(Signed {
                by: "pat".into(),
                role: "prosthetist".into(),
                at: "2026-01-03T10:00:00Z".into()
            })
        );
        h.push(moved(4, "ana", Role::Tech, Designing, Review));
        h.push(moved(5, "sue", Role::Prosthetist, Review, Approved));
        let a = Approval::of(Approved, &h);
        assert_eq!(a.status, Approved);
        assert_eq!(a.approved.as_ref().map(|s| s.by.as_str()), Some("sue"));
        assert_eq!(a.approved.unwrap().at, "2026-01-05T10:00:00Z");
    }

    #[test]
    fn html_special_characters_are_escaped() {
        assert_eq!(esc("<a & 'b'>\""), "&lt;a &amp; &#39;b&#39;&gt;&quot;");
    }

    #[test]
    fn base64_pads_as_rfc_4648_says() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64(&[0xff, 0xfe, 0x00]), "//4A");
    }

    #[test]
    fn millimetres_are_short_and_never_minus_zero() {
        assert_eq!(mm(12.0), "12");
        assert_eq!(mm(-31.25), "-31.25");
        assert_eq!(mm(-0.001), "0");
        assert_eq!(mm(6.35), "6.35");
    }
}
