//! The preview picture: the blank seen from above, the design as a shaded height map (lit from
//! the front-left), the finishing path over it in blue, the cut-out in red and the work zero
//! (front-left corner of the blank's top) marked. Front of the machine at the bottom.

//! The preview picture: the blank seen from above, the design as a shaded height map (lit from
//! the front-left), the finishing path over it in blue, the cut-out in red and the work zero
//! (front-left corner of the blank's top) marked. Front of the machine at the bottom.
//!
//! Text in a PNG is awkward, so the setup sheet shows the picture inside an SVG with vector
//! annotations over it (`top_view_svg`: heel, toe, medial and lateral sides, a scale bar, the
//! work zero and axes, the holding tabs), and a side view (`side_view_svg`: the design's highest
//! Z along X, the blank's top and bottom, the tabs and the clearance plane, each Z labelled).
//!
//! Frames: the design is in the machine frame, `(lab.y, lab.x, -lab.z)` plus an offset
//! (`fab_geometry::design`), and the lab frame has X to the subject's right, so a left foot's
//! medial side is lab +X, i.e. machine +Y (the back of the machine, the top of the picture); a
//! right foot's medial side is machine -Y (the front, the bottom of the picture).

use std::fmt::Write as _;

use fab_geometry::design::Design;
use fab_geometry::orient::FootSide;
use fab_toolpath::{Move, Operation};

use super::Tabs;

/// The picture and what the annotations need of it.
pub struct Picture {
    /// PNG bytes.
    pub png: Vec<u8>,
    /// Size in pixels.
    pub width: usize,
    pub height: usize,
    /// Size of a pixel, mm (square). Pixel `(i, j)` covers machine X `i * px..(i + 1) * px` and Y
    /// `blank_y - (j + 1) * px..blank_y - j * px`.
    pub px: f64,
    /// The design's highest Z in each pixel column (seen from the front), `NEG_INFINITY` where
    /// the column holds none of it.
    pub side: Vec<f64>,
}

/// The preview of `d` with the toolpaths of `ops`, `width` pixels wide.
pub fn render(d: &Design, ops: &[Operation], width: usize) -> Result<Picture, png::EncodingError> {
    let width = width.max(16);
    let px = d.blank[0] / width as f64;
    let height = ((d.blank[1] / px).ceil() as usize).max(1);
    let mut hm = vec![f64::NEG_INFINITY; width * height];
    // pixel (i, j) centre: x = (i + 0.5) px, y = blank_y - (j + 0.5) px
    for t in &d.mesh.triangles {
        let [a, b, c] = t.map(|k| d.mesh.vertices[k as usize]);
        let den = (b.y - c.y) * (a.x - c.x) + (c.x - b.x) * (a.y - c.y);
        if den.abs() < 1e-12 {
            continue;
        }
        let (xmin, xmax) = (a.x.min(b.x).min(c.x), a.x.max(b.x).max(c.x));
        let (ymin, ymax) = (a.y.min(b.y).min(c.y), a.y.max(b.y).max(c.y));
        let i0 = ((xmin / px - 0.5).floor().max(0.0)) as usize;
        let i1 = ((xmax / px - 0.5).ceil().max(0.0) as usize).min(width - 1);
        let j0 = (((d.blank[1] - ymax) / px - 0.5).floor().max(0.0)) as usize;
        let j1 = ((((d.blank[1] - ymin) / px) - 0.5).ceil().max(0.0) as usize).min(height - 1);
        for j in j0..=j1 {
            let y = d.blank[1] - (j as f64 + 0.5) * px;
            for i in i0..=i1 {
                let x = (i as f64 + 0.5) * px;
                let l1 = ((b.y - c.y) * (x - c.x) + (c.x - b.x) * (y - c.y)) / den;
                let l2 = ((c.y - a.y) * (x - c.x) + (a.x - c.x) * (y - c.y)) / den;
                let l3 = 1.0 - l1 - l2;
                if l1 < 0.0 || l2 < 0.0 || l3 < 0.0 {
                    continue;
                }
                let z = l1 * a.z + l2 * b.z + l3 * c.z;
                let cell = &mut hm[j * width + i];
                *cell = cell.max(z);
            }
        }
    }
    let mut rgb = vec![0u8; width * height * 3];
    let light = {
        let (x, y, z): (f64, f64, f64) = (-1.0, -1.0, 1.5);
        let n = (x * x + y * y + z * z).sqrt();
        (x / n, y / n, z / n)
    };
    for j in 0..height {
        for i in 0..width {
            let k = j * width + i;
            let z = hm[k];
            let color = if z.is_finite() {
                let at = |ii: usize, jj: usize| {
                    let v = hm[jj * width + ii];
                    if v.is_finite() { v } else { z }
                };
                let dzdx =
                    (at((i + 1).min(width - 1), j) - at(i.saturating_sub(1), j)) / (2.0 * px);
                // image rows run towards -Y
                let dzdy =
                    (at(i, j.saturating_sub(1)) - at(i, (j + 1).min(height - 1))) / (2.0 * px);
                let n = (dzdx * dzdx + dzdy * dzdy + 1.0).sqrt();
                let shade = ((-dzdx * light.0 - dzdy * light.1 + light.2) / n).clamp(0.0, 1.0);
                let s = 0.25 + 0.75 * shade;
                [(235.0 * s) as u8, (205.0 * s) as u8, (160.0 * s) as u8]
            } else {
                [200, 200, 200]
            };
            rgb[k * 3..k * 3 + 3].copy_from_slice(&color);
        }
    }
    let to_px = |p: [f64; 3]| (p[0] / px - 0.5, (d.blank[1] - p[1]) / px - 0.5);
    for op in ops {
        let (color, alpha) = match op.name.as_str() {
            "finishing" => ([30u8, 80, 220], 0.3),
            "profile" => ([220, 30, 30], 0.9),
            _ => continue,
        };
        // a mask of the pixels the path covers, blended once (dense rasters stay a tint)
        let mut mask = vec![false; width * height];
        let mut pos: Option<[f64; 3]> = None;
        for m in &op.moves {
            let q = m.end();
            if let (Some(p), Move::Feed { .. } | Move::Arc { .. }) = (pos, m) {
                line(&mut mask, width, height, to_px(p), to_px(q));
            }
            pos = Some(q);
        }
        for (k, _) in mask.iter().enumerate().filter(|(_, m)| **m) {
            blend(&mut rgb[k * 3..k * 3 + 3], color, alpha);
        }
    }
    // work zero: a black ring at the front-left corner
    for a in 0..64 {
        let t = a as f64 / 64.0 * std::f64::consts::TAU;
        for r in [5.0, 6.0] {
            let (x, y) = (
                (r * t.cos()).round(),
                (height as f64 - 1.0 - r * t.sin()).round(),
            );
            if x >= 0.0 && y >= 0.0 && x < width as f64 && y < height as f64 {
                let k = (y as usize * width + x as usize) * 3;
                blend(&mut rgb[k..k + 3], [0, 0, 0], 1.0);
            }
        }
    }
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, width as u32, height as u32);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc.write_header()?;
        w.write_image_data(&rgb)?;
        w.finish()?;
    }
    let side = (0..width)
        .map(|i| {
            (0..height)
                .map(|j| hm[j * width + i])
                .fold(f64::NEG_INFINITY, f64::max)
        })
        .collect();
    Ok(Picture {
        png: out,
        width,
        height,
        px,
        side,
    })
}

fn blend(px: &mut [u8], c: [u8; 3], alpha: f64) {
    for ch in 0..3 {
        px[ch] = (px[ch] as f64 * (1.0 - alpha) + c[ch] as f64 * alpha).round() as u8;
    }
}

fn line(mask: &mut [bool], w: usize, h: usize, a: (f64, f64), b: (f64, f64)) {
    let n = ((b.0 - a.0).abs().max((b.1 - a.1).abs()).ceil() as usize).max(1);
    for s in 0..=n {
        let t = s as f64 / n as f64;
        let (x, y) = (
            (a.0 + t * (b.0 - a.0)).round(),
            (a.1 + t * (b.1 - a.1)).round(),
        );
        if x >= 0.0 && y >= 0.0 && x < w as f64 && y < h as f64 {
            mask[y as usize * w + x as usize] = true;
        }
    }
}

/// Where a holding tab is: the middle of the cut-out's tool-centre path over it, and the path's
/// direction there (a unit vector in XY).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TabMark {
    pub at: [f64; 2],
    pub along: [f64; 2],
}

/// One move of a level run over a tab: from, to, and the arc's centre and turn, if an arc.
type Piece = ([f64; 3], [f64; 3], Option<([f64; 2], bool)>);

fn piece_len(&(a, b, arc): &Piece) -> f64 {
    match arc {
        None => (b[0] - a[0]).hypot(b[1] - a[1]),
        Some((c, ccw)) => {
            (a[0] - c[0]).hypot(a[1] - c[1]) * fab_toolpath::estimate::arc_sweep(a, b, c, ccw).abs()
        }
    }
}

/// The point a fraction `f` along `piece`, and the direction of travel there.
fn piece_at(&(a, b, arc): &Piece, f: f64) -> ([f64; 2], [f64; 2]) {
    let unit = |v: [f64; 2]| {
        let n = v[0].hypot(v[1]);
        if n > 0.0 {
            [v[0] / n, v[1] / n]
        } else {
            [1.0, 0.0]
        }
    };
    match arc {
        None => (
            [a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1])],
            unit([b[0] - a[0], b[1] - a[1]]),
        ),
        Some((c, ccw)) => {
            let r = (a[0] - c[0]).hypot(a[1] - c[1]);
            let t = (a[1] - c[1]).atan2(a[0] - c[0])
                + f * fab_toolpath::estimate::arc_sweep(a, b, c, ccw);
            let s = if ccw { 1.0 } else { -1.0 };
            (
                [c[0] + r * t.cos(), c[1] + r * t.sin()],
                [-s * t.sin(), s * t.cos()],
            )
        }
    }
}

/// The holding tabs of the cut-out `profile`, found in its moves: once the tool has been down at
/// the bottom (`tabs.bottom_z`), each run of cutting moves level at the tabs' top (`tabs.top_z`)
/// is the tool passing over a tab; its middle is the tab's middle. A run of an earlier lap over
/// the same tab (within the run's length) is the same tab: the last lap's runs are kept. In the
/// order the path passes them.
pub fn tab_marks(profile: &Operation, tabs: &Tabs) -> Vec<TabMark> {
    const EPS: f64 = 1e-6;
    if tabs.count == 0 || tabs.top_z <= tabs.bottom_z + EPS {
        return Vec::new();
    }
    let level = |z: f64| (z - tabs.top_z).abs() < EPS;
    let mut runs: Vec<Vec<Piece>> = Vec::new();
    let mut cur: Vec<Piece> = Vec::new();
    let mut down = false;
    let mut pos: Option<[f64; 3]> = None;
    for m in &profile.moves {
        let q = m.end();
        if let Some(p) = pos {
            let arc = match *m {
                Move::Arc { center, ccw, .. } => Some((center, ccw)),
                _ => None,
            };
            if down && !matches!(m, Move::Rapid(_)) && level(p[2]) && level(q[2]) {
                cur.push((p, q, arc));
            } else if !cur.is_empty() {
                runs.push(std::mem::take(&mut cur));
            }
        }
        down |= q[2] <= tabs.bottom_z + EPS;
        pos = Some(q);
    }
    if !cur.is_empty() {
        runs.push(cur);
    }
    let mut marks: Vec<(TabMark, f64)> = Vec::new();
    for run in runs.iter().rev() {
        let lens: Vec<f64> = run.iter().map(piece_len).collect();
        let total: f64 = lens.iter().sum();
        if total <= EPS {
            continue;
        }
        let mut left = total / 2.0;
        let mut mid = piece_at(&run[run.len() - 1], 1.0);
        for (piece, &l) in run.iter().zip(&lens) {
            if left <= l {
                mid = piece_at(piece, if l > 0.0 { left / l } else { 0.0 });
                break;
            }
            left -= l;
        }
        let near = marks.iter().any(|(m, len)| {
            (m.at[0] - mid.0[0]).hypot(m.at[1] - mid.0[1]) < len.max(total).max(tabs.width)
        });
        if !near {
            marks.push((
                TabMark {
                    at: mid.0,
                    along: mid.1,
                },
                total,
            ));
        }
    }
    marks.into_iter().rev().map(|(m, _)| m).collect()
}

/// The sides of the foot as seen in the picture: (the side at machine +Y, the top of the
/// picture, the back of the machine; the side at -Y, the bottom, the front).
pub fn sides_in_picture(side: FootSide) -> (&'static str, &'static str) {
    // a left foot's medial side is lab +X, machine +Y (see the module's doc)
    match side {
        FootSide::Left => ("medial", "lateral"),
        FootSide::Right => ("lateral", "medial"),
    }
}

/// The layout both views share, so the side view lines up under the top view: the blank's X
/// range with margins either side, in mm; `fs` is the font size.
struct Layout {
    fs: f64,
    left: f64,
    right: f64,
    bx: f64,
    by: f64,
    bz: f64,
}

impl Layout {
    fn of(d: &Design) -> Layout {
        let fs = (d.blank[0].max(d.blank[1]) / 55.0).clamp(3.0, 10.0);
        Layout {
            fs,
            left: 2.4 * fs,
            right: 14.5 * fs,
            bx: d.blank[0],
            by: d.blank[1],
            bz: d.blank[2],
        }
    }
}

/// A number as SVG and the sheet write it: `-0` as `0`.
fn num(v: f64, places: usize) -> String {
    let s = format!("{v:.places$}");
    if s.trim_start_matches('-')
        .chars()
        .all(|c| c == '0' || c == '.')
    {
        s.trim_start_matches('-').to_string()
    } else {
        s
    }
}

fn text(out: &mut String, x: f64, y: f64, anchor: &str, extra: &str, s: &str) {
    let _ = writeln!(
        out,
        r#"<text x="{}" y="{}" text-anchor="{anchor}"{extra}>{}</text>"#,
        num(x, 2),
        num(y, 2),
        super::setup_sheet::esc(s)
    );
}

/// A part labelled in the top view (orthoses milled directly, several on a blank): its label at
/// its middle and HEEL at its heel end, machine XY.
#[derive(Clone, Debug, PartialEq)]
pub struct PartMark {
    pub label: String,
    pub centre: [f64; 2],
    pub heel: [f64; 2],
}

/// The top view: the picture (`href`, e.g. a data URL of `pic.png`) under vector annotations,
/// in millimetres of the machine frame (SVG y = blank Y - machine Y). `across` is the width
/// the tabs are drawn across the cut-out's path (its tool's diameter).
#[allow(clippy::too_many_arguments)]
pub fn top_view_svg(
    d: &Design,
    pic: &Picture,
    href: &str,
    side: FootSide,
    parts: &[PartMark],
    tabs: &[TabMark],
    across: f64,
    tab_width: f64,
) -> String {
    let l = Layout::of(d);
    let fs = l.fs;
    let (top, bottom) = sides_in_picture(side);
    let (mt, mb) = (2.2 * fs, 4.4 * fs);
    let mut o = String::new();
    let _ = writeln!(
        o,
        r#"<svg id="top-view" class="view" xmlns="http://www.w3.org/2000/svg" viewBox="{} {} {} {}" font-family="sans-serif" font-size="{}" role="img" aria-label="The blank seen from above, front of the machine at the bottom">"#,
        num(-l.left, 2),
        num(-mt, 2),
        num(l.left + l.bx + l.right, 2),
        num(mt + l.by + mb, 2),
        num(fs, 2)
    );
    let _ = writeln!(
        o,
        r#"<image href="{href}" x="0" y="0" width="{}" height="{}" preserveAspectRatio="none"/>"#,
        num(pic.width as f64 * pic.px, 3),
        num(pic.height as f64 * pic.px, 3)
    );
    let _ = writeln!(
        o,
        r##"<rect x="0" y="0" width="{}" height="{}" fill="none" stroke="#000" stroke-width="{}"/>"##,
        num(l.bx, 2),
        num(l.by, 2),
        num(fs * 0.08, 2)
    );
    if parts.is_empty() {
        // heel towards X0, toe towards +X; the foot's sides at the back and front
        let (cx, cy) = (l.bx / 2.0, l.by / 2.0);
        let _ = writeln!(
            o,
            r#"<text id="label-heel" x="0" y="0" text-anchor="middle" font-weight="bold" transform="translate({} {}) rotate(-90)">HEEL</text>"#,
            num(-0.8 * fs, 2),
            num(cy, 2)
        );
        let _ = writeln!(
            o,
            r#"<text id="label-toe" x="0" y="0" text-anchor="middle" font-weight="bold" transform="translate({} {}) rotate(90)">TOE</text>"#,
            num(l.bx + 0.8 * fs, 2),
            num(cy, 2)
        );
        text(
            &mut o,
            cx,
            -0.6 * fs,
            "middle",
            &format!(r#" id="label-{top}" font-weight="bold""#),
            &format!("{} SIDE (back of machine)", top.to_uppercase()),
        );
        text(
            &mut o,
            cx,
            l.by + 1.3 * fs,
            "middle",
            &format!(r#" id="label-{bottom}" font-weight="bold""#),
            &format!("{} SIDE (front of machine)", bottom.to_uppercase()),
        );
    } else {
        // orthoses milled directly: each part labelled on itself, its heel end marked
        for (k, part) in parts.iter().enumerate() {
            let (x, y) = (part.centre[0], l.by - part.centre[1]);
            text(
                &mut o,
                x,
                y,
                "middle",
                &format!(
                    r#" id="label-part-{}" font-weight="bold" font-size="{}""#,
                    k + 1,
                    num(2.0 * fs, 2)
                ),
                &part.label,
            );
            text(
                &mut o,
                part.heel[0],
                l.by - part.heel[1],
                "middle",
                &format!(r#" id="label-heel-{}" font-weight="bold""#, k + 1),
                "HEEL",
            );
        }
    }
    // the work zero: a datum symbol at the blank's front-left corner, the axes from it
    let r = 0.9 * fs;
    let (zx, zy) = (0.0, l.by);
    let _ = writeln!(
        o,
        r##"<g id="work-zero" stroke="#000" stroke-width="{sw}"><circle cx="{x}" cy="{y}" r="{r}" fill="#fff"/><path d="M{x} {y} L{x1} {y} A{r} {r} 0 0 0 {x} {y0} Z M{x} {y} L{x0} {y} A{r} {r} 0 0 0 {x} {y1} Z" fill="#000"/></g>"##,
        sw = num(fs * 0.1, 2),
        x = num(zx, 2),
        y = num(zy, 2),
        r = num(r, 2),
        x0 = num(zx - r, 2),
        x1 = num(zx + r, 2),
        y0 = num(zy - r, 2),
        y1 = num(zy + r, 2),
    );
    let arrow = |o: &mut String, x2: f64, y2: f64, label: &str, lx: f64, ly: f64| {
        // unit direction of the axis (signum would take 0 for +1)
        let sign = |v: f64| {
            if v > 0.0 {
                1.0
            } else if v < 0.0 {
                -1.0
            } else {
                0.0
            }
        };
        let (dx, dy) = (sign(x2 - zx), sign(y2 - zy));
        let h = 0.5 * fs;
        // the head: back along the axis, out to both sides
        let (bx, by) = (x2 - dx * h, y2 - dy * h);
        let (px, py) = (dy.abs() * h * 0.5, dx.abs() * h * 0.5);
        let _ = writeln!(
            o,
            r##"<g stroke="#06602a" fill="#06602a" stroke-width="{}"><line x1="{}" y1="{}" x2="{}" y2="{}"/><path d="M{} {} L{} {} L{} {} Z"/></g>"##,
            num(fs * 0.18, 2),
            num(zx + dx * r, 2),
            num(zy + dy * r, 2),
            num(bx, 2),
            num(by, 2),
            num(x2, 2),
            num(y2, 2),
            num(bx + px, 2),
            num(by + py, 2),
            num(bx - px, 2),
            num(by - py, 2),
        );
        text(
            o,
            lx,
            ly,
            "middle",
            r##" fill="#06602a" font-weight="bold""##,
            label,
        );
    };
    arrow(
        &mut o,
        zx + 4.0 * fs,
        zy,
        "X+",
        zx + 4.0 * fs,
        zy - 0.6 * fs,
    );
    arrow(
        &mut o,
        zx,
        zy - 4.0 * fs,
        "Y+",
        zx + 1.2 * fs,
        zy - 3.4 * fs,
    );
    text(
        &mut o,
        -l.left * 0.6,
        l.by + 3.1 * fs,
        "start",
        r#" id="label-work-zero" font-weight="bold""#,
        "WORK ZERO X0 Y0 Z0 (top of the blank)",
    );
    // scale bar: 50 mm (100 on a big blank) in 10 mm blocks, under the blank's right end
    let len = if l.bx > 450.0 { 100.0 } else { 50.0 };
    let (sx, sy, sh) = (l.bx - len, l.by + 2.2 * fs, 0.45 * fs);
    let _ = write!(
        o,
        r##"<g id="scale-bar" stroke="#000" stroke-width="{}">"##,
        num(fs * 0.06, 2)
    );
    for k in 0..(len / 10.0) as usize {
        let _ = write!(
            o,
            r##"<rect x="{}" y="{}" width="10" height="{}" fill="{}"/>"##,
            num(sx + 10.0 * k as f64, 2),
            num(sy, 2),
            num(sh, 2),
            if k % 2 == 0 { "#000" } else { "#fff" }
        );
    }
    let _ = writeln!(o, "</g>");
    text(&mut o, sx, sy + sh + 1.0 * fs, "middle", "", "0");
    text(
        &mut o,
        sx + len,
        sy + sh + 1.0 * fs,
        "middle",
        "",
        &format!("{len:.0} mm"),
    );
    // the tabs: across the cut-out's path, numbered outside the part
    let (mut ox, mut oy) = (0.0, 0.0);
    for p in &d.outline {
        ox += p[0] / d.outline.len() as f64;
        oy += p[1] / d.outline.len() as f64;
    }
    for (k, t) in tabs.iter().enumerate() {
        let (x, y) = (t.at[0], l.by - t.at[1]);
        let angle = (-t.along[1]).atan2(t.along[0]).to_degrees();
        // outward: the normal pointing away from the part's middle
        let mut n = [-t.along[1], t.along[0]];
        if n[0] * (t.at[0] - ox) + n[1] * (t.at[1] - oy) < 0.0 {
            n = [-n[0], -n[1]];
        }
        let off = across / 2.0 + 1.0 * fs;
        let _ = writeln!(
            o,
            r##"<g class="tab"><rect x="{}" y="{}" width="{}" height="{}" fill="#ff8c00" stroke="#000" stroke-width="{}" transform="translate({} {}) rotate({})"/></g>"##,
            num(-tab_width / 2.0, 2),
            num(-across / 2.0, 2),
            num(tab_width, 2),
            num(across, 2),
            num(fs * 0.08, 2),
            num(x, 2),
            num(y, 2),
            num(angle, 1)
        );
        text(
            &mut o,
            x + n[0] * off,
            y - n[1] * off + 0.35 * fs,
            "middle",
            r##" font-weight="bold" fill="#a04000""##,
            &format!("{}", k + 1),
        );
    }
    // legend, right of the blank
    let lx = l.bx + 2.4 * fs;
    let mut ly = 0.8 * fs;
    for (what, swatch) in [
        (
            "finishing path",
            r##"<line x1="0" y1="0" x2="1.6" y2="0" stroke="#1e50dc" stroke-width="0.35"/>"##,
        ),
        (
            "cut-out path",
            r##"<line x1="0" y1="0" x2="1.6" y2="0" stroke="#dc1e1e" stroke-width="0.35"/>"##,
        ),
        (
            "holding tab",
            r##"<rect x="0.2" y="-0.4" width="1.2" height="0.8" fill="#ff8c00" stroke="#000" stroke-width="0.08"/>"##,
        ),
        (
            "work zero",
            r##"<circle cx="0.8" cy="0" r="0.45" fill="#000"/>"##,
        ),
    ] {
        let _ = writeln!(
            o,
            r#"<g transform="translate({} {}) scale({})">{swatch}</g>"#,
            num(lx, 2),
            num(ly - 0.35 * fs, 2),
            num(fs, 2)
        );
        text(&mut o, lx + 2.0 * fs, ly, "start", "", what);
        ly += 1.5 * fs;
    }
    text(
        &mut o,
        lx,
        ly + 0.4 * fs,
        "start",
        "",
        &format!("blank {:.1} \u{d7} {:.1}", l.bx, l.by),
    );
    o.push_str("</svg>\n");
    o
}

/// The side view from the front: the blank, the design's highest Z along X (`pic.side`), the
/// tabs, and each height labelled with its Z: clearance plane, blank top (Z0), design top, base
/// top, tab top, blank bottom. Same horizontal layout as the top view; Z at true scale.
pub fn side_view_svg(
    d: &Design,
    pic: &Picture,
    tabs: &Tabs,
    marks: &[TabMark],
    clearance: f64,
) -> String {
    let l = Layout::of(d);
    let fs = l.fs;
    let (mt, mb) = (clearance + 1.6 * fs, 2.2 * fs);
    let mut o = String::new();
    let _ = writeln!(
        o,
        r#"<svg id="side-view" class="view" xmlns="http://www.w3.org/2000/svg" viewBox="{} {} {} {}" font-family="sans-serif" font-size="{}" role="img" aria-label="Side view from the front: the design's highest Z along X in the blank">"#,
        num(-l.left, 2),
        num(-mt, 2),
        num(l.left + l.bx + l.right, 2),
        num(mt + l.bz + mb, 2),
        num(fs, 2)
    );
    let sw = num(fs * 0.08, 2);
    let _ = writeln!(
        o,
        r##"<rect x="0" y="0" width="{}" height="{}" fill="#e4e4e4" stroke="#000" stroke-width="{sw}"/>"##,
        num(l.bx, 2),
        num(l.bz, 2),
    );
    // the design's silhouette: one filled shape per run of columns that hold it
    let mut path = String::new();
    let mut i = 0;
    while i < pic.side.len() {
        if !pic.side[i].is_finite() {
            i += 1;
            continue;
        }
        let x0 = i as f64 * pic.px;
        let _ = write!(path, "M{} {}", num(x0, 2), num(l.bz, 2));
        while i < pic.side.len() && pic.side[i].is_finite() {
            let z = pic.side[i];
            let _ = write!(
                path,
                " L{} {} L{} {}",
                num(i as f64 * pic.px, 2),
                num(-z, 2),
                num((i + 1) as f64 * pic.px, 2),
                num(-z, 2)
            );
            i += 1;
        }
        let _ = write!(path, " L{} {} Z ", num(i as f64 * pic.px, 2), num(l.bz, 2));
    }
    let _ = writeln!(
        o,
        r##"<path id="design-silhouette" d="{}" fill="#ebcda0" stroke="#8a6d3b" stroke-width="{sw}"/>"##,
        path.trim_end()
    );
    for t in marks {
        let _ = writeln!(
            o,
            r##"<rect class="tab" x="{}" y="{}" width="{}" height="{}" fill="#ff8c00" stroke="#000" stroke-width="{sw}"/>"##,
            num(t.at[0] - tabs.width / 2.0, 2),
            num(-tabs.top_z, 2),
            num(tabs.width, 2),
            num(tabs.top_z - tabs.bottom_z, 2),
        );
    }
    // the heights, labelled right of the blank, spread apart where they are close
    let mut levels: Vec<(f64, String)> = vec![
        (clearance, "clearance".into()),
        (0.0, "blank top (Z0)".into()),
        (d.top_z, "design top".into()),
        (d.base_z, "base top".into()),
    ];
    if !marks.is_empty() {
        levels.push((tabs.top_z, "tab top".into()));
    }
    levels.push((d.bottom_z, "blank bottom".into()));
    levels.sort_by(|a, b| b.0.total_cmp(&a.0));
    let gap = 1.15 * fs;
    let mut ys: Vec<f64> = levels.iter().map(|(z, _)| -z + 0.35 * fs).collect();
    for k in 1..ys.len() {
        ys[k] = ys[k].max(ys[k - 1] + gap);
    }
    // pushed past the bottom: back up from there
    let lowest = l.bz + mb - 0.4 * fs;
    if let Some(&last) = ys.last()
        && last > lowest
    {
        let n = ys.len();
        ys[n - 1] = lowest;
        for k in (0..n - 1).rev() {
            ys[k] = ys[k].min(ys[k + 1] - gap);
        }
    }
    for ((z, what), y) in levels.iter().zip(&ys) {
        let dash = if *z > 0.0 {
            r#" stroke-dasharray="2 1.5""#
        } else {
            ""
        };
        let _ = writeln!(
            o,
            r##"<g class="level" stroke="#333" stroke-width="{}" fill="none"><line x1="0" y1="{zy}" x2="{}" y2="{zy}"{dash}/><polyline points="{},{zy} {},{} {},{}"/></g>"##,
            num(fs * 0.05, 2),
            num(l.bx, 2),
            num(l.bx, 2),
            num(l.bx + 0.8 * fs, 2),
            num(y - 0.35 * fs, 2),
            num(l.bx + 1.2 * fs, 2),
            num(y - 0.35 * fs, 2),
            zy = num(-z, 2),
        );
        text(
            &mut o,
            l.bx + 1.4 * fs,
            *y,
            "start",
            r#" class="z-label""#,
            &format!("Z {} {what}", num(*z, 2)),
        );
    }
    text(
        &mut o,
        0.0,
        l.bz + 1.4 * fs,
        "start",
        r#" font-weight="bold""#,
        "HEEL",
    );
    text(
        &mut o,
        l.bx,
        l.bz + 1.4 * fs,
        "end",
        r#" font-weight="bold""#,
        "TOE",
    );
    o.push_str("</svg>\n");
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use fab_toolpath::link::Linker;
    use fab_toolpath::simplify::{CHORD_TOLERANCE, simplify_operation};
    use fab_toolpath::strategy::{ProfileParams, Rect, profile};
    use fab_toolpath::{Cutter, Tool};

    /// Distance from `q` to the rectangle's boundary (outside it).
    fn from_rect(r: &Rect, q: [f64; 2]) -> f64 {
        let dx = (r.xmin - q[0]).max(q[0] - r.xmax).max(0.0);
        let dy = (r.ymin - q[1]).max(q[1] - r.ymax).max(0.0);
        dx.hypot(dy)
    }

    #[test]
    fn tabs_are_found_where_the_cut_out_runs_over_them_evenly_spread() {
        let rect = Rect {
            xmin: 10.0,
            ymin: 10.0,
            xmax: 210.0,
            ymax: 90.0,
        };
        let mut p = ProfileParams::new(Tool {
            number: 1,
            cutter: Cutter::Flat { diameter: 10.0 },
        });
        p.stepdown = 6.0;
        let linker = Linker {
            clearance_z: 2.0,
            margin: 1.0,
            link_feed: 3000.0,
            plunge_feed: 800.0,
            rapid_rate: 0.0,
        };
        let mut op = profile(&rect.polygon(), 0.0, -20.0, &p, &linker).unwrap();
        let tabs = Tabs {
            count: p.tabs,
            width: p.tab_width,
            height: p.tab_height,
            top_z: -20.0 + p.tab_height,
            bottom_z: -20.0,
        };
        let marks = tab_marks(&op, &tabs);
        assert_eq!(marks.len(), 4, "{marks:?}");
        // on the tool-centre path (the radius and the profile's clearance out), along it
        for m in &marks {
            let d = from_rect(&rect, m.at);
            assert!((d - 5.02).abs() < 1e-6, "{m:?} at {d}");
            assert!((m.along[0].hypot(m.along[1]) - 1.0).abs() < 1e-9);
        }
        // spread evenly: a quarter of the lap apart (each tab's middle at (k + 1/2) / 4 of it)
        let lap = 2.0 * (200.0 + 80.0) + std::f64::consts::TAU * 5.02;
        let along_lap = |q: [f64; 2]| -> f64 {
            // arc length round the rounded rectangle, clockwise from the top edge's left end
            // (points on the straight edges; the tabs lie there)
            let (r, o) = (&rect, 5.02);
            let quarter = std::f64::consts::FRAC_PI_2 * o;
            if q[1] > r.ymax {
                q[0] - r.xmin
            } else if q[0] > r.xmax {
                (r.xmax - r.xmin) + quarter + (r.ymax - q[1])
            } else if q[1] < r.ymin {
                2.0 * quarter + (r.xmax - r.xmin) + (r.ymax - r.ymin) + (r.xmax - q[0])
            } else {
                3.0 * quarter + 2.0 * (r.xmax - r.xmin) + (r.ymax - r.ymin) + (q[1] - r.ymin)
            }
        };
        let mut s: Vec<f64> = marks.iter().map(|m| along_lap(m.at)).collect();
        s.sort_by(f64::total_cmp);
        for k in 0..4 {
            let gap = (s[(k + 1) % 4] - s[k]).rem_euclid(lap);
            assert!((gap - lap / 4.0).abs() < 0.5, "{s:?}: gap {gap}, lap {lap}");
        }
        // simplified as the plan does, the same tabs
        simplify_operation(&mut op, CHORD_TOLERANCE, true);
        let again = tab_marks(&op, &tabs);
        assert_eq!(again.len(), 4);
        for (a, b) in marks.iter().zip(&again) {
            assert!(
                (a.at[0] - b.at[0]).hypot(a.at[1] - b.at[1]) < 0.05,
                "{a:?} {b:?}"
            );
        }
        // no tabs: none found
        let none = Tabs { count: 0, ..tabs };
        assert!(tab_marks(&op, &none).is_empty());
    }

    #[test]
    fn a_left_foots_medial_side_is_the_back_a_right_foots_the_front() {
        assert_eq!(sides_in_picture(FootSide::Left), ("medial", "lateral"));
        assert_eq!(sides_in_picture(FootSide::Right), ("lateral", "medial"));
    }
}
