//! The operator's setup sheet (one self-contained HTML page): job number, blank size and how
//! to fix it, the work zero, the tools in the order they are used, the estimated run time, the
//! program's name, size and SHA-256 (what is milled must be byte for byte what was approved),
//! and the preview picture. Never a patient reference: the job number only.

use std::fmt::Write as _;
use std::time::Duration;

use fab_geometry::design::Design;
use fab_toolpath::gcode::Dialect;
use fab_toolpath::{Cutter, Machine, Operation};

/// What the sheet shows.
pub struct Sheet<'a> {
    pub job: &'a str,
    pub what: &'a str,
    pub design: &'a Design,
    pub ops: &'a [Operation],
    pub machine: &'a Machine,
    pub dialect: Dialect,
    pub program_name: &'a str,
    pub program_sha256: &'a str,
    pub program_bytes: usize,
    pub design_name: &'a str,
    pub preview_name: &'a str,
    pub scan_sha256: &'a str,
    pub estimated: Duration,
    pub stepover: f64,
    /// The settings planned with: what, value, where it came from (work order, material table,
    /// machine, option).
    pub settings: &'a [(&'a str, String, &'a str)],
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

fn cutter_words(c: &Cutter) -> String {
    match *c {
        Cutter::Ball { diameter } => format!("{diameter} mm ball nose"),
        Cutter::Flat { diameter } => format!("{diameter} mm flat end mill"),
        Cutter::Bull {
            diameter,
            corner_radius,
        } => format!("{diameter} mm bull nose, corner radius {corner_radius} mm"),
    }
}

/// The sheet as HTML.
pub fn html(s: &Sheet) -> String {
    let d = s.design;
    let est = fab_toolpath::estimate::format_duration(s.estimated);
    let mut h = String::new();
    let _ = write!(
        h,
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Setup sheet, job {job}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; max-width: 60em; }}
table {{ border-collapse: collapse; margin: 0.5em 0 1.5em; }}
td, th {{ border: 1px solid #999; padding: 0.3em 0.7em; text-align: left; vertical-align: top; }}
th {{ background: #eee; }}
.big {{ font-size: 1.3em; font-weight: bold; }}
code {{ font-size: 0.95em; word-break: break-all; }}
img {{ max-width: 100%; border: 1px solid #999; }}
</style></head><body>
<h1>Setup sheet &mdash; job {job}</h1>
<p class="big">{what}</p>
<h2>Blank and work zero</h2>
<table>
<tr><th>Blank (X &times; Y &times; Z)</th><td class="big">{bx:.1} &times; {by:.1} &times; {bz:.1} mm</td></tr>
<tr><th>Work zero</th><td class="big">top of the blank, front-left corner (X0 Y0 Z0)</td></tr>
<tr><th>Orientation</th><td>foot length along X, heel towards X0, plantar side up; the front of the
machine is the bottom of the picture</td></tr>
<tr><th>Part</th><td>base follows the foot's outline {margin} mm out, rounded, within X {b0:.1} to {b2:.1},
Y {b1:.1} to {b3:.1}; the cut-out runs round it, leaving holding tabs; design top Z {top:.2},
trim plane Z {base:.2}, blank bottom Z {bottom:.2} (cut through: use a spoil board)</td></tr>
<tr><th>Clearance plane</th><td>Z {clear:.1} (rapids only at or above it)</td></tr>
</table>
<h2>Tools, in the order used</h2>
<table>
<tr><th>#</th><th>Operation</th><th>Tool</th><th>Spindle</th><th>Moves</th></tr>
"#,
        job = esc(s.job),
        what = esc(s.what),
        bx = d.blank[0],
        by = d.blank[1],
        bz = d.blank[2],
        margin = d.params.base_margin,
        b0 = d.base[0],
        b1 = d.base[1],
        b2 = d.base[2],
        b3 = d.base[3],
        top = d.top_z,
        base = d.base_z,
        bottom = d.bottom_z,
        clear = super::CLEARANCE,
    );
    for (k, op) in s.ops.iter().enumerate() {
        let pocket = s
            .machine
            .tools
            .iter()
            .find(|t| t.number == op.tool.number)
            .map(|t| format!(" ({})", esc(&t.description)))
            .unwrap_or_default();
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td><b>T{}</b> {}{}</td><td>{:.0} rpm</td><td>{}</td></tr>",
            k + 1,
            esc(&op.name),
            op.tool.number,
            esc(&cutter_words(&op.tool.cutter)),
            pocket,
            op.spindle_rpm,
            op.moves.len()
        );
    }
    let _ = write!(
        h,
        r#"</table>
<p>Finishing stepover {stepover} mm. Roughing leaves stock for finishing; the profile leaves
holding tabs: cut them and sand flush after removing the part.</p>
<h2>Settings</h2>
<table>
<tr><th>Setting</th><th>Value</th><th>From</th></tr>
{settings}</table>
<h2>Program</h2>
<table>
<tr><th>File</th><td><code>{prog}</code> ({kib:.1} KiB), {dialect} dialect, machine {machine}</td></tr>
<tr><th>SHA-256</th><td><code>{psha}</code><br>check before running: it must match the approved program</td></tr>
<tr><th>Estimated run time</th><td class="big">{est}</td></tr>
<tr><th>Design surface</th><td><code>{design}</code> (program coordinates, mm)</td></tr>
<tr><th>Scan SHA-256</th><td><code>{ssha}</code></td></tr>
</table>
<h2>Part and toolpath</h2>
<p><img src="{preview}" alt="Design seen from above, finishing path in blue, cut-out in red, work zero ringed at the front-left corner"></p>
<h2>Operator steps</h2>
<ol>
<li>Fix the blank ({bx:.1} &times; {by:.1} &times; {bz:.1} mm) on the spoil board, its front-left corner at the machine's blank origin.</li>
<li>Set X0 Y0 at the blank's front-left corner and Z0 on its top face.</li>
<li>Load the tools as listed; set each tool's length where the controller asks.</li>
<li>Check the program's SHA-256 against this sheet, then run it.</li>
</ol>
</body></html>
"#,
        stepover = s.stepover,
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
        prog = esc(s.program_name),
        kib = s.program_bytes as f64 / 1024.0,
        dialect = s.dialect.name(),
        machine = esc(&s.machine.name),
        psha = esc(s.program_sha256),
        est = est,
        design = esc(s.design_name),
        ssha = esc(s.scan_sha256),
        preview = esc(s.preview_name),
        bx = d.blank[0],
        by = d.blank[1],
        bz = d.blank[2],
    );
    h
}

#[cfg(test)]
mod tests {
    use super::esc;

    #[test]
    fn html_special_characters_are_escaped() {
        assert_eq!(esc("<a & 'b'>\""), "&lt;a &amp; &#39;b&#39;&gt;&quot;");
    }
}
