//! The operator's setup sheet for a socket positive on a rotary carver, and its picture: the
//! design unrolled (X across, A down), coloured by how far the rectification moved the surface
//! from the scan (blue pushed in, red built up), and a side view of the part in its blank.

use std::fmt::Write as _;
use std::time::Duration;

use fab_geometry::Mesh;
use fab_geometry::socket::SocketDesign;
use fab_toolpath::Machine;
use fab_toolpath::estimate::format_duration;
use fab_toolpath::rotary::{CarvePlan, RadialIndex, RotaryMove};

use super::setup_sheet::{base64, esc};

/// Radius of the probe ball used to read the surface's radius on a ray, mm.
const PROBE: f64 = 0.01;
/// Depth shown at full colour, mm.
const FULL: f64 = 5.0;

/// The unrolled picture.
pub struct Unrolled {
    pub png: Vec<u8>,
    pub width: usize,
    pub height: usize,
    /// X of the first and last column, mm.
    pub x: (f64, f64),
    /// Largest build-up and push-in against the scan, mm (positive, negative).
    pub most: (f64, f64),
    /// The design's radius on top (A0, theta 90 deg) and underneath along X, for the side view.
    pub top: Vec<f64>,
    pub bottom: Vec<f64>,
}

/// Renders the unrolled design of `d` against `scan` (scan coordinates).
pub fn unrolled(d: &SocketDesign, scan: &Mesh) -> Result<Unrolled, png::EncodingError> {
    use rayon::prelude::*;
    let width = 900usize;
    let height = 360usize;
    let design = RadialIndex::new(&d.mesh.to_soup(), PROBE);
    let mut moved = scan.clone();
    for v in &mut moved.vertices {
        *v = d.to_program(v);
    }
    let scanned = RadialIndex::new(&moved.to_soup(), PROBE);
    let (x0, x1) = (d.stem_face_x, d.distal_x);
    let xs: Vec<f64> = (0..width)
        .map(|i| x0 + (x1 - x0) * (i as f64 + 0.5) / width as f64)
        .collect();
    let theta = |j: usize| {
        std::f64::consts::FRAC_PI_2 - ((j as f64 + 0.5) * 360.0 / height as f64).to_radians()
    };
    let cells: Vec<(Option<f64>, Option<f64>)> = (0..height)
        .into_par_iter()
        .flat_map_iter(|j| {
            let th = theta(j);
            let (design, scanned) = (&design, &scanned);
            xs.iter().map(move |&x| {
                (
                    design.drop(x, th).map(|r| r - PROBE),
                    scanned.drop(x, th).map(|r| r - PROBE),
                )
            })
        })
        .collect();
    let mut rgb = vec![255u8; width * height * 3];
    let mut most = (0.0f64, 0.0f64);
    for (k, (dr, sr)) in cells.iter().enumerate() {
        let c = match (dr, sr) {
            (Some(dr), Some(sr)) => {
                let depth = dr - sr;
                most = (most.0.max(depth), most.1.min(depth));
                let t = (depth / FULL).clamp(-1.0, 1.0);
                let fade = |v: f64| (255.0 * (1.0 - v.abs())) as u8;
                if t >= 0.0 {
                    [255, fade(t), fade(t)]
                } else {
                    [fade(t), fade(t), 255]
                }
            }
            (Some(_), None) => [200, 200, 200],
            _ => [255, 255, 255],
        };
        rgb[k * 3..k * 3 + 3].copy_from_slice(&c);
    }
    let mut png = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut png, width as u32, height as u32);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc.write_header()?;
        w.write_image_data(&rgb)?;
        w.finish()?;
    }
    let profile = |th: f64| -> Vec<f64> {
        xs.iter()
            .map(|&x| design.drop(x, th).map_or(0.0, |r| r - PROBE))
            .collect()
    };
    Ok(Unrolled {
        png,
        width,
        height,
        x: (x0, x1),
        most,
        top: profile(std::f64::consts::FRAC_PI_2),
        bottom: profile(-std::f64::consts::FRAC_PI_2),
    })
}

/// What the sheet shows.
pub struct Sheet<'a> {
    pub job: &'a str,
    pub what: &'a str,
    pub side: Option<&'a str>,
    pub blank_material: &'a str,
    pub blank_radius: f64,
    pub blank_x: (f64, f64),
    pub design: &'a SocketDesign,
    pub plan: &'a CarvePlan,
    pub machine: &'a Machine,
    pub program_name: &'a str,
    pub program_sha256: &'a str,
    pub design_name: &'a str,
    pub preview_name: &'a str,
    pub unrolled: &'a Unrolled,
    pub estimated: Duration,
    pub settings: &'a [(&'static str, String, &'static str)],
    pub scallop: f64,
}

/// The side view: the blank, the stem, the part's top and bottom profiles, the chuck.
fn side_view(s: &Sheet) -> String {
    let u = s.unrolled;
    let (bx0, bx1) = s.blank_x;
    let r = s.blank_radius;
    let w = 900.0;
    let scale = w / (bx1 + 10.0);
    let h = 2.0 * r * scale + 40.0;
    let cy = h / 2.0;
    let px = |x: f64| (x + 5.0) * scale;
    let mut svg = format!(
        r##"<svg id="side-view" class="view" viewBox="0 0 {w:.0} {h:.0}" xmlns="http://www.w3.org/2000/svg" role="img" aria-label="side view">
<rect x="0" y="{y0:.1}" width="{cw:.1}" height="{ch:.1}" fill="#888"/>
<text x="2" y="14" font-size="12">chuck X0</text>
<rect x="{bx:.1}" y="{by:.1}" width="{bw:.1}" height="{bh:.1}" fill="#f6efd9" stroke="#b09a60"/>
<line x1="0" y1="{cy:.1}" x2="{w:.0}" y2="{cy:.1}" stroke="#555" stroke-dasharray="6 4"/>
"##,
        y0 = cy - 0.35 * r * scale,
        cw = px(0.0),
        ch = 0.7 * r * scale,
        bx = px(bx0),
        by = cy - r * scale,
        bw = (bx1 - bx0) * scale,
        bh = 2.0 * r * scale,
    );
    let n = u.top.len();
    let mut d = String::new();
    for i in 0..n {
        let x = u.x.0 + (u.x.1 - u.x.0) * (i as f64 + 0.5) / n as f64;
        let _ = write!(
            d,
            "{}{:.1},{:.1} ",
            if i == 0 { "M" } else { "L" },
            px(x),
            cy - u.top[i] * scale
        );
    }
    for i in (0..n).rev() {
        let x = u.x.0 + (u.x.1 - u.x.0) * (i as f64 + 0.5) / n as f64;
        let _ = write!(d, "L{:.1},{:.1} ", px(x), cy + u.bottom[i] * scale);
    }
    let _ = write!(
        svg,
        r##"<path d="{d}Z" fill="#9fb8d8" stroke="#1f4e8c"/>
<line x1="{sx:.1}" y1="{t:.1}" x2="{sx:.1}" y2="{b:.1}" stroke="#a00" stroke-dasharray="3 3"/>
<text x="{sx2:.1}" y="{t2:.1}" font-size="12" fill="#a00">proximal cut</text>
<text x="{ax:.1}" y="{ay:.1}" font-size="12">anterior (A0)</text>
</svg>"##,
        sx = px(s.design.cut_x.0),
        t = cy - r * scale,
        b = cy + r * scale,
        sx2 = px(s.design.cut_x.0) + 3.0,
        t2 = cy - r * scale + 14.0,
        ax = px(0.5 * (bx0 + bx1)),
        ay = cy - r * scale - 4.0,
    );
    svg
}

/// The setup sheet as one HTML file.
pub fn html(s: &Sheet) -> String {
    let m = s.machine;
    let est = format_duration(s.estimated);
    let u = s.unrolled;
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
table {{ border-collapse: collapse; margin: 0.2em 0 0.5em; width: 100%; }}
td, th {{ border: 1px solid #999; padding: 0.2em 0.45em; text-align: left; vertical-align: top; }}
th {{ background: #eee; }}
td.n {{ text-align: right; white-space: nowrap; }}
.big {{ font-size: 1.2em; font-weight: bold; }}
code.hash {{ word-break: break-all; }}
img.unrolled {{ width: 100%; height: auto; image-rendering: pixelated; border: 1px solid #999; }}
svg.view {{ display: block; width: 100%; height: auto; }}
.legend {{ display: inline-block; width: 12em; height: 0.9em; background: linear-gradient(to right, #0000ff, #ffffff, #ff0000); vertical-align: middle; }}
@page {{ size: A4; margin: 8mm 9mm; }}
@media print {{ body {{ margin: 0; font-size: 7pt; }} table, figure {{ break-inside: avoid; }} }}
</style></head><body>
<h1>Setup sheet &mdash; job {job}</h1>
<p class="big">{what}{side}</p>
<p>Machine <b>{machine}</b> (rotary carver, A about X; linuxcnc dialect, inverse-time feeds) &middot; program <code>{prog}</code> &middot; estimated run time <b>{est}</b></p>
<figure id="picture">
<img class="unrolled" alt="the design unrolled" width="{pw}" height="{ph}" src="data:image/png;base64,{png}">
<figcaption>The design unrolled: X from the stem's face (left, X{ux0:.1}) to the distal end (right, X{ux1:.1}); A from 0 (top row, anterior up) to 360 (bottom), one row a degree. Colour: how far the rectification moved the surface from the scan, <span class="legend"></span> blue pushed in {neg:.1} mm, white unchanged, red built up {pos:.1} mm (full colour at {full} mm); grey: the stem. Also in <code>{preview}</code>.</figcaption>
{side_view}
<figcaption>Side view, true scale: the chuck, the foam blank (cream), the part (blue) on top (A0) and underneath, the proximal cut (red), the axis (dashed).</figcaption>
</figure>
<h2>Blank, stem and work zero</h2>
<table id="blank">
<tr><th>Material</th><td class="big">{material}</td></tr>
<tr><th>Blank</th><td class="big">cylinder {bd:.1} mm across, {bl:.1} mm long, from X{bx0:.1} to X{bx1:.1}</td></tr>
<tr><th>Stem and mandrel</th><td>stem X{bx0:.1} to X{cut:.1} (beyond the proximal cut), on the mandrel through its axis; the mandrel must stay inside the stem, under {stem_r:.0} mm radius</td></tr>
<tr><th>Work zero</th><td class="big">X0 on the chuck's face; Y0 Z0 on the rotation axis</td></tr>
<tr><th>A axis</th><td class="big">A0: the limb's anterior side up (towards the tool); positive A turns the part by the right-hand rule about +X</td></tr>
<tr><th>On the machine</th><td>work zero at machine X{ox} Y{oy} Z{oz}; rapids at Z{clear:.1} and above (blank radius + 5 mm)</td></tr>
<tr><th>A counting</th><td>A counts on while the tool cuts and is set back to its angle modulo 360 (G92) while the tool is clear of the blank; the program clears G92 at its start and end</td></tr>
</table>
<h2>Tools</h2>
<table id="tools"><tr><th>Tool</th><th>Type</th><th>Diameter</th><th>Reach needed</th><th>In the table</th><th>Operations</th></tr>
"#,
        job = esc(s.job),
        what = esc(s.what),
        side = s
            .side
            .map(|x| format!(", {} leg", esc(x)))
            .unwrap_or_default(),
        machine = esc(&m.name),
        prog = esc(s.program_name),
        png = base64(&u.png),
        pw = u.width,
        ph = u.height,
        ux0 = u.x.0,
        ux1 = u.x.1,
        neg = u.most.1,
        pos = u.most.0,
        full = FULL,
        preview = esc(s.preview_name),
        side_view = side_view(s),
        material = esc(s.blank_material),
        bd = 2.0 * s.blank_radius,
        bl = s.blank_x.1 - s.blank_x.0,
        bx0 = s.blank_x.0,
        bx1 = s.blank_x.1,
        cut = s.design.cut_x.0,
        stem_r = s
            .unrolled
            .top
            .first()
            .copied()
            .unwrap_or(0.0)
            .min(s.unrolled.bottom.first().copied().unwrap_or(0.0)),
        ox = m.blank_origin[0],
        oy = m.blank_origin[1],
        oz = m.blank_origin[2],
        clear = s.blank_radius + 5.0,
    );
    let mut seen = Vec::new();
    for op in &s.plan.ops {
        if seen.contains(&op.tool.number) {
            continue;
        }
        seen.push(op.tool.number);
        let used: Vec<&str> = s
            .plan
            .ops
            .iter()
            .filter(|o| o.tool.number == op.tool.number)
            .map(|o| o.name.as_str())
            .collect();
        // reach: from the blank's surface down to the deepest tool tip
        let deepest = op
            .moves
            .iter()
            .filter_map(|mv| match mv {
                RotaryMove::Feed { z, .. } => Some(*z),
                _ => None,
            })
            .fold(f64::INFINITY, f64::min);
        let table = m
            .tool(op.tool.number)
            .map(|t| esc(&t.description))
            .unwrap_or_default();
        let _ = writeln!(
            h,
            "<tr><td class=\"big\">T{}</td><td>ball nose</td><td class=\"n\">{:.2} mm</td><td class=\"n\">{:.1} mm</td><td>{}</td><td>{}</td></tr>",
            op.tool.number,
            op.tool.cutter.diameter(),
            (s.blank_radius - deepest).max(0.0),
            table,
            esc(&used.join(", "))
        );
    }
    h.push_str("</table>\n<h2>Operations</h2>\n<table id=\"operations\"><tr><th>#</th><th>Operation</th><th>Tool</th><th>Surface speed</th><th>Spindle</th><th>Cutting time</th></tr>\n");
    for (k, op) in s.plan.ops.iter().enumerate() {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>T{}</td><td class=\"n\">{:.0} mm/min</td><td class=\"n\">{:.0} rpm</td><td class=\"n\">{}</td></tr>",
            k + 1,
            esc(&op.name),
            op.tool.number,
            op.feed,
            op.spindle_rpm,
            format_duration(Duration::from_secs_f64(op.cutting_minutes() * 60.0)),
        );
    }
    let _ = write!(
        h,
        "</table>\n<p>Roughing levels: {}; finishing helix: {:.0} turns, scallop target {:.3} mm.</p>\n<h2>Settings and where they came from</h2>\n<table id=\"settings\"><tr><th>Setting</th><th>Value</th><th>From</th></tr>\n",
        s.plan.levels, s.plan.finish_turns, s.scallop
    );
    for (what, v, from) in s.settings {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(what),
            esc(v),
            esc(from)
        );
    }
    let _ = write!(
        h,
        "</table>\n<h2>Files</h2>\n<table id=\"files\"><tr><th>Program</th><td><code>{}</code> SHA-256 <code class=\"hash\">{}</code></td></tr><tr><th>Design</th><td><code>{}</code> (program coordinates, the part at A0)</td></tr></table>\n</body></html>\n",
        esc(s.program_name),
        esc(s.program_sha256),
        esc(s.design_name)
    );
    h
}
