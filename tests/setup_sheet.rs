//! The setup sheet as the operator sees and prints it, rendered by headless Chromium (Debian's
//! `chromium`; `scripts/test` installs it, `CHROMIUM` names another binary): the picture is drawn
//! where the page lays it out (its pixels in a screenshot, not blank), the tables are in the
//! rendered DOM with the figures they must carry, and the page prints on one A4 sheet. Then what
//! the sheet says is checked against independent evidence: the holding tabs against the program's
//! moves at the tabs' top, GRBL's manual tool-change stops against the program's `M0`s, the job's
//! status and reviewer against the job database, and the medial side against the arch of the
//! design (a left and a right foot: opposite sides).
//!
//! Without Chromium these tests fail, saying how to install it: they never pass unrendered.

use std::path::{Path, PathBuf};
use std::process::{Command as Process, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::Command;

const LEFT: &str = "fixtures/scans/foot-left-m.stl";
const RIGHT: &str = "fixtures/scans/foot-right-m.stl";

/// A4 at 150 dpi, the size the screenshots are taken at.
const WINDOW: (u32, u32) = (1240, 1754);

mod lab;

/// `fab`, on a lab's database in ana's session where given.
fn fab(lab: Option<&lab::Lab>) -> Command {
    let mut c = Command::cargo_bin("fab").unwrap();
    c.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .env_remove("FAB_USER")
        .env_remove("FAB_TOKEN");
    if let Some(lab) = lab {
        c.env("FAB_DB", &lab.db).env("FAB_TOKEN", lab.token("ana"));
    }
    c
}

fn ok(c: &mut Command) -> String {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The Chromium binary: `CHROMIUM`, else the first of the usual names on the PATH. Missing, the
/// test fails and says how to install it.
fn chromium() -> PathBuf {
    if let Some(p) = std::env::var_os("CHROMIUM") {
        return PathBuf::from(p);
    }
    let names = [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ];
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        for n in names {
            let p = dir.join(n);
            if p.is_file() {
                return p;
            }
        }
    }
    panic!(
        "headless Chromium is needed to render the setup sheet and none was found on the PATH \
         (looked for {}): install it with `apt-get install chromium` (scripts/test does so), or \
         set CHROMIUM to the browser's path",
        names.join(", ")
    );
}

/// Runs headless Chromium on `page` with `args` (own profile directory, at most 120 s); its
/// stdout.
fn headless(page: &Path, args: &[String]) -> Vec<u8> {
    let profile = tempfile::tempdir().unwrap();
    let out = tempfile::NamedTempFile::new().unwrap();
    let mut child = Process::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            "--no-pdf-header-footer",
            "--force-device-scale-factor=1",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--window-size={},{}", WINDOW.0, WINDOW.1))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdout(out.reopen().unwrap())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromium().display()));
    let t0 = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "chromium {args:?} failed: {status}");
            break;
        }
        if t0.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!("chromium {args:?} took over 120 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    std::fs::read(out.path()).unwrap()
}

/// The DOM as Chromium has it after loading `page`.
fn dom(page: &Path) -> String {
    String::from_utf8(headless(page, &["--dump-dom".into()])).unwrap()
}

/// Where the elements `ids` are laid out in the window, CSS pixels: (left, top, width, height).
/// A copy of the page with a script that writes their boxes into the DOM at the end (after
/// everything measured, so moving nothing).
fn layout(sheet: &Path, ids: &[&str]) -> Vec<(f64, f64, f64, f64)> {
    let html = std::fs::read_to_string(sheet).unwrap();
    let script = format!(
        r#"<script>
const boxes = {ids:?}.map(id => {{
  const e = document.getElementById(id);
  if (!e) return id + "=missing";
  const b = e.getBoundingClientRect();
  return id + "=" + [b.left, b.top, b.width, b.height].join(",");
}});
const pre = document.createElement("pre");
pre.id = "probe";
pre.textContent = boxes.join(";");
document.body.appendChild(pre);
</script></body>"#
    );
    let probe = sheet.with_file_name("probe.html");
    std::fs::write(&probe, html.replace("</body>", &script)).unwrap();
    let d = dom(&probe);
    let text = d
        .split(r#"<pre id="probe">"#)
        .nth(1)
        .and_then(|s| s.split("</pre>").next())
        .unwrap_or_else(|| panic!("no probe in the DOM: {}", &d[..d.len().min(2000)]));
    ids.iter()
        .map(|id| {
            let v = text
                .split(';')
                .find_map(|kv| kv.strip_prefix(&format!("{id}=")))
                .unwrap();
            let n: Vec<f64> = v
                .split(',')
                .map(|x| {
                    x.parse()
                        .unwrap_or_else(|_| panic!("#{id} not laid out: {v}"))
                })
                .collect();
            (n[0], n[1], n[2], n[3])
        })
        .collect()
}

/// RGB pixels of a screenshot of `page`: (width, height, pixels).
fn screenshot(page: &Path) -> (usize, usize, Vec<[u8; 3]>) {
    let shot = page.with_file_name("shot.png");
    headless(page, &[format!("--screenshot={}", shot.display())]);
    let dec = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&shot).unwrap()));
    let mut r = dec.read_info().unwrap();
    let mut buf = vec![0; r.output_buffer_size().unwrap()];
    let info = r.next_frame(&mut buf).unwrap();
    let ch = match info.color_type {
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        c => panic!("screenshot in {c:?}"),
    };
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    let px = buf[..info.buffer_size()]
        .chunks(ch)
        .map(|c| [c[0], c[1], c[2]])
        .collect();
    (info.width as usize, info.height as usize, px)
}

/// Pages of the PDF Chromium prints `page` to, and the PDF.
fn print(page: &Path) -> (usize, Vec<u8>) {
    let pdf = page.with_file_name("sheet.pdf");
    headless(page, &[format!("--print-to-pdf={}", pdf.display())]);
    let b = std::fs::read(&pdf).unwrap();
    assert!(b.starts_with(b"%PDF"), "not a PDF");
    // page objects: `/Type /Page` (not `/Pages`)
    let key = b"/Type /Page";
    let pages = b
        .windows(key.len() + 1)
        .filter(|w| &w[..key.len()] == key && w[key.len()] != b's')
        .count();
    assert!(
        pages > 0,
        "no page objects found in the PDF: cannot count its pages"
    );
    (pages, b)
}

/// Counts the pixels in `r` (CSS px; the screenshot is at scale 1) that `f` accepts, and all.
fn count(
    shot: &(usize, usize, Vec<[u8; 3]>),
    r: (f64, f64, f64, f64),
    f: impl Fn([u8; 3]) -> bool,
) -> (usize, usize) {
    let (w, h, px) = shot;
    let (x0, y0) = (r.0.max(0.0) as usize, r.1.max(0.0) as usize);
    let (x1, y1) = (
        ((r.0 + r.2) as usize).min(*w),
        ((r.1 + r.3) as usize).min(*h),
    );
    let mut n = 0;
    for y in y0..y1 {
        for x in x0..x1 {
            n += f(px[y * w + x]) as usize;
        }
    }
    (n, (x1 - x0) * (y1 - y0))
}

/// The text of the element with `id` in `dom` up to its closing tag `end`.
fn element<'a>(dom: &'a str, id: &str, end: &str) -> &'a str {
    let start = dom
        .find(&format!(r#"id="{id}""#))
        .unwrap_or_else(|| panic!("no #{id} in the DOM"));
    let rest = &dom[start..];
    &rest[..rest
        .find(end)
        .unwrap_or_else(|| panic!("#{id} is not closed"))]
}

/// Text with its tags taken out.
fn untag(s: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for c in s.chars() {
        match c {
            '<' => inside = true,
            '>' => inside = false,
            _ if !inside => out.push(c),
            _ => {}
        }
    }
    out.trim().to_string()
}

/// The table rows (`<tr>...</tr>`) of `table`, each as its cells' text (tags taken out).
fn rows(table: &str) -> Vec<Vec<String>> {
    table
        .split("<tr>")
        .skip(1)
        .map(|r| {
            let r = r.split("</tr>").next().unwrap();
            r.split("<t")
                .skip(1)
                .filter(|c| c.starts_with('d') || c.starts_with('h'))
                .map(|c| {
                    let c = &c[c.find('>').unwrap() + 1..];
                    untag(c.split("</t").next().unwrap())
                })
                .collect()
        })
        .collect()
}

struct Planned {
    dir: tempfile::TempDir,
    sheet: PathBuf,
    program: String,
    json: serde_json::Value,
    design: PathBuf,
}

fn plan(scan: &str, extra: &[&str], db: Option<&lab::Lab>) -> Planned {
    let dir = tempfile::tempdir().unwrap();
    let nc = dir.path().join("J-sheet.nc");
    let out = ok(fab(db)
        .args(["plan", scan, "--json"])
        .args(extra)
        .arg("-o")
        .arg(&nc));
    Planned {
        sheet: dir.path().join("J-sheet-setup.html"),
        design: dir.path().join("J-sheet-design.stl"),
        program: std::fs::read_to_string(&nc).unwrap(),
        json: serde_json::from_str(&out).unwrap(),
        dir,
    }
}

/// Checks the render of `p`'s sheet: the picture's pixels where the page lays it out, and one
/// A4 page in print. The rendered DOM.
fn check_render(p: &Planned) -> String {
    let ids = ["top-view", "side-view", "operations", "tools"];
    let boxes = layout(&p.sheet, &ids);
    for (id, b) in ids.iter().zip(&boxes) {
        assert!(b.2 > 300.0 && b.3 > 40.0, "#{id} laid out at {b:?}");
        assert!(
            b.0 >= 0.0 && b.0 + b.2 <= WINDOW.0 as f64 + 1.0,
            "#{id} off the page sideways: {b:?}"
        );
    }
    let (top, side) = (boxes[0], boxes[1]);
    assert!(
        top.1 + top.3 <= side.1 + 1.0,
        "side view under the top view"
    );
    assert!(
        side.1 + side.3 < WINDOW.1 as f64,
        "the picture is in the window"
    );
    let shot = screenshot(&p.sheet);
    assert_eq!((shot.0, shot.1), (WINDOW.0 as usize, WINDOW.1 as usize));
    // the top view: mostly picture, not page; the design shaded tan, the uncut blank grey, the
    // cut-out red, the tabs orange
    let tan = |c: [u8; 3]| c[0] > 120 && c[0] > c[1] && c[1] > c[2] && c[0] - c[2] > 35;
    let grey = |c: [u8; 3]| c[0] == c[1] && c[1] == c[2] && (190..=210).contains(&c[0]);
    let red = |c: [u8; 3]| c[0] > 180 && c[1] < 90 && c[2] < 90;
    let orange = |c: [u8; 3]| c[0] > 230 && (110..=170).contains(&c[1]) && c[2] < 60;
    let white = |c: [u8; 3]| c.iter().all(|&v| v > 245);
    let (n_white, all) = count(&shot, top, white);
    assert!(
        (n_white as f64) < 0.6 * all as f64,
        "the top view is mostly blank: {n_white} of {all} pixels white"
    );
    for (what, f, least) in [
        ("design (tan)", &tan as &dyn Fn([u8; 3]) -> bool, 0.15),
        ("uncut blank (grey)", &grey, 0.05),
        ("cut-out (red)", &red, 0.0008),
        ("tabs (orange)", &orange, 0.0005),
    ] {
        let (n, all) = count(&shot, top, f);
        assert!(
            n as f64 >= least * all as f64,
            "top view: {n} of {all} pixels are {what}"
        );
    }
    let (n, all) = count(&shot, side, tan);
    assert!(
        n as f64 >= 0.15 * all as f64,
        "side view: {n} of {all} pixels are the design (tan)"
    );
    // outside the picture, under it: the tables, black on white, not the picture
    let (n, all) = count(&shot, boxes[2], tan);
    assert!(
        (n as f64) < 0.01 * all as f64,
        "operations table: {n} of {all} tan"
    );

    let (pages, pdf) = print(&p.sheet);
    assert_eq!(pages, 1, "the sheet prints on {pages} pages, not one");
    // A4: 595.3 x 841.9 pt
    let pdf = String::from_utf8_lossy(&pdf);
    let media: Vec<f64> = pdf
        .split("/MediaBox [")
        .nth(1)
        .and_then(|s| s.split(']').next())
        .expect("the PDF's page has a MediaBox")
        .split_whitespace()
        .map(|v| v.parse().unwrap())
        .collect();
    assert!(
        media.len() == 4 && (media[2] - 595.3).abs() < 1.5 && (media[3] - 841.9).abs() < 1.5,
        "not an A4 page: MediaBox {media:?}"
    );
    dom(&p.sheet)
}

fn mm(v: f64) -> String {
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.').to_string();
    if s == "-0" { "0".into() } else { s }
}

/// The XY segments the program's operation `op` (its `(OP n name ...)` comment onwards) cuts at
/// height `z`, from its G0/G1/G2/G3 lines (arcs as chords).
fn segments_at(program: &str, op: &str, z: f64) -> Vec<([f64; 2], [f64; 2])> {
    let mut pos = [f64::NAN; 3];
    let mut inside = false;
    let mut out = Vec::new();
    for line in program.lines() {
        if line.starts_with("(OP ") {
            inside = line.to_lowercase().contains(op);
            continue;
        }
        if line.starts_with('(') {
            continue;
        }
        let mut q = pos;
        let mut motion = false;
        for w in line.split_whitespace() {
            let (l, v) = w.split_at(1);
            let Ok(v) = v.parse::<f64>() else { continue };
            match l {
                "X" => q[0] = v,
                "Y" => q[1] = v,
                "Z" => q[2] = v,
                _ => {}
            }
            motion |= matches!(l, "X" | "Y" | "Z");
        }
        if inside && motion && (pos[2] - z).abs() < 1e-3 && (q[2] - z).abs() < 1e-3 {
            out.push(([pos[0], pos[1]], [q[0], q[1]]));
        }
        pos = q;
    }
    out
}

fn dist_to_segment(p: [f64; 2], (a, b): ([f64; 2], [f64; 2])) -> f64 {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let l2 = dx * dx + dy * dy;
    let t = if l2 > 0.0 {
        (((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / l2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    (p[0] - a[0] - t * dx).hypot(p[1] - a[1] - t * dy)
}

#[test]
fn the_sheet_renders_with_its_picture_and_tables_and_prints_on_one_a4_page() {
    let p = plan(LEFT, &[], None);
    let d = check_render(&p);
    let blank = p.json["blank_mm"].as_array().unwrap();
    let bz = blank[2].as_f64().unwrap();

    // blank: the material row's text, the size, the work zero on the machine (the profile's
    // blank origin, 10 10 0, plus the blank's height)
    let b = element(&d, "blank", "</table>");
    assert!(b.contains("polyurethane foam block, 15 pcf"), "{b}");
    assert!(b.contains(&format!("X10 Y10 Z{}", mm(bz))), "{b}");
    assert!(
        b.contains(&format!("{:.1}", blank[0].as_f64().unwrap())),
        "{b}"
    );

    // tools: type, diameter, reach = deepest cut below the blank's top + 2 mm clearance; the
    // cut-out (T1) goes through the blank
    let tools = rows(element(&d, "tools", "</table>"));
    assert_eq!(tools.len(), 3, "{tools:?}");
    assert!(tools[1][0].starts_with("T1") && tools[1][1] == "flat end mill");
    assert_eq!(tools[1][2], "10 mm");
    assert_eq!(tools[1][3], format!("{} mm", mm(bz + 2.0)));
    assert!(tools[2][0].starts_with("T2") && tools[2][1] == "ball nose");
    let reach2: f64 = tools[2][3].trim_end_matches(" mm").parse().unwrap();
    assert!(reach2 > 10.0 && reach2 < bz + 2.0, "{tools:?}");

    // operations: each with tool, feed, plunge, spindle, step-down, stepover, time; the
    // material row's figures (feed 10000, plunge 3000, 18000 rpm, stepdown 12, stepover 1)
    let ops = rows(element(&d, "operations", "</table>"));
    assert_eq!(
        ops[0],
        [
            "#",
            "Operation",
            "Tool",
            "Feed mm/min",
            "Plunge mm/min",
            "Spindle rpm",
            "Step-down mm",
            "Stepover mm",
            "Time"
        ]
    );
    let names: Vec<&str> = ops[1..4].iter().map(|r| r[1].as_str()).collect();
    assert_eq!(names, ["roughing", "finishing", "profile"]);
    for r in &ops[1..4] {
        assert_eq!(&r[3..6], ["10000", "3000", "18000"], "{r:?}");
        assert!(r[8].starts_with("0:"), "{r:?}");
    }
    assert_eq!(ops[1][6], "12");
    assert_eq!(ops[2][7], "1");
    assert_eq!(ops[3][6], "12");
    // the operations' times add up to the program's, give or take the moves between them
    let secs = |t: &str| {
        t.split(':')
            .fold(0.0, |a, v| a * 60.0 + v.parse::<f64>().unwrap())
    };
    let sum: f64 = ops[1..4].iter().map(|r| secs(&r[8])).sum();
    let total = p.json["estimated_run_time_s"].as_f64().unwrap();
    assert!((sum - total).abs() < 0.02 * total + 3.0, "{sum} vs {total}");

    // tabs: four, numbered in the picture, each where the program's cut-out runs level at the
    // tabs' top (blank bottom + 3 mm)
    let tabs = rows(element(&d, "tabs", "</table>"));
    assert_eq!(tabs.len(), 5, "{tabs:?}");
    let level = segments_at(&p.program, "profile", -bz + 3.0);
    assert!(!level.is_empty(), "the program never runs at the tabs' top");
    for r in &tabs[1..] {
        let at = [r[1].parse().unwrap(), r[2].parse().unwrap()];
        let near = level
            .iter()
            .map(|&s| dist_to_segment(at, s))
            .fold(f64::INFINITY, f64::min);
        assert!(
            near < 0.3,
            "tab {r:?} is {near} mm from the path over a tab"
        );
    }
    let top = element(&d, "top-view", "</svg>");
    assert_eq!(top.matches(r#"class="tab""#).count(), 4);
    for w in [
        "HEEL",
        "TOE",
        "MEDIAL SIDE",
        "LATERAL SIDE",
        "WORK ZERO",
        "50 mm",
    ] {
        assert!(top.contains(w), "the top view lacks {w}");
    }
    assert!(top.contains("<image"), "the top view shows the picture");
    let side = element(&d, "side-view", "</svg>");
    for z in [
        "Z 0 blank top".to_string(),
        format!("Z {:.2} blank bottom", -bz),
        format!("Z {:.2} tab top", -bz + 3.0),
        "Z 2.00 clearance".to_string(),
    ] {
        let z = z.replace("Z 0 ", "Z 0.00 ");
        assert!(side.contains(&z), "the side view lacks {z}");
    }
    // no job: said so, not passed off as approved
    assert!(element(&d, "approval", "</table>").contains("no job"));
}

#[test]
fn a_grbl_sheet_for_a_job_gives_each_manual_tool_change_and_the_jobs_status() {
    let lab = lab::Lab::new(&[("ana", "tech"), ("pat", "prosthetist")]);
    let job = lab
        .ok(
            "ana",
            &["job", "new", "--rx", "fixtures/rx/foot-bilateral.rx"],
        )
        .trim()
        .to_string();
    lab.ok("ana", &["job", "advance", &job, "--to", "designing"]);
    lab.ok("ana", &["job", "advance", &job, "--to", "review"]);
    lab.ok("pat", &["job", "advance", &job, "--to", "designing"]);
    let p = plan(
        RIGHT,
        &["--machine", "grbl-hobby", "--job", &job],
        Some(&lab),
    );
    let d = check_render(&p);

    // the job's status and who last looked at it; not approved, and what must happen first
    let a = element(&d, "approval", "</table>");
    assert!(a.contains("designing"), "{a}");
    assert!(a.contains("none yet"), "{a}");
    assert!(a.contains("pat (prosthetist)"), "{a}");
    assert!(
        a.contains(&format!("fab job verify {job} J-sheet.nc")),
        "{a}"
    );

    // GRBL: the stops are the program's M0s, in order, each fitting the tool of the operation
    // the program is at (its `(OP n name Tn ...)` comment), and setting Z again
    let steps = element(&d, "steps", "</ol>");
    let stops: Vec<&str> = steps.split(r#"<li class="tool-change">"#).skip(1).collect();
    let mut tool = String::new();
    let mut first = None;
    let mut fitted = Vec::new();
    for line in p.program.lines() {
        if let Some(op) = line.strip_prefix("(OP ") {
            tool = op
                .split_whitespace()
                .find(|w| w.starts_with('T') && w[1..].parse::<u32>().is_ok())
                .unwrap()
                .to_string();
            first.get_or_insert(tool.clone());
        }
        if line.trim() == "M0" {
            fitted.push(tool.clone());
        }
    }
    assert!(!fitted.is_empty(), "no M0 in a GRBL program with two tools");
    assert_eq!(stops.len(), fitted.len(), "{steps}");
    for (k, (stop, tool)) in stops.iter().zip(&fitted).enumerate() {
        assert!(stop.contains(&format!("<b>Stop {}</b>", k + 1)), "{stop}");
        assert!(
            stop.contains(&format!("fit <b>{tool}</b>")),
            "{stop} / {tool}"
        );
        assert!(stop.contains("re-zero Z only"), "{stop}");
        assert!(stop.contains("G10 L20 P1 Z0"), "{stop}");
    }
    // before the first: the first tool fitted and the work zero set with it
    let first = first.unwrap();
    assert!(steps.contains(&format!("Fit <b>{first}</b>")), "{steps}");
    assert!(steps.contains("X10 Y10 Z"), "{steps}");
}

/// Mean of the design's highest Z over the outer parts of the +Y and -Y halves of the midfoot
/// (35-55 % of the length): the medial side, under the arch, is the lower (plantar side up).
fn arch_sides(design: &Path) -> (f64, f64) {
    let b = std::fs::read(design).unwrap();
    let n = u32::from_le_bytes(b[80..84].try_into().unwrap()) as usize;
    let mut pts = Vec::with_capacity(3 * n);
    for t in 0..n {
        for k in 0..3 {
            let o = 84 + 50 * t + 12 + 12 * k;
            let c: Vec<f64> = (0..3)
                .map(|a| f32::from_le_bytes(b[o + 4 * a..o + 4 * a + 4].try_into().unwrap()) as f64)
                .collect();
            pts.push([c[0], c[1], c[2]]);
        }
    }
    let (mut lo, mut hi) = ([f64::MAX; 3], [f64::MIN; 3]);
    for p in &pts {
        for a in 0..3 {
            lo[a] = lo[a].min(p[a]);
            hi[a] = hi[a].max(p[a]);
        }
    }
    let (len, cy, half) = (hi[0] - lo[0], (lo[1] + hi[1]) / 2.0, (hi[1] - lo[1]) / 2.0);
    let mut bins = std::collections::BTreeMap::<i64, f64>::new();
    for p in pts
        .iter()
        .filter(|p| p[0] >= lo[0] + 0.35 * len && p[0] <= lo[0] + 0.55 * len)
    {
        let z = bins
            .entry(((p[1] - cy) / 2.0).floor() as i64)
            .or_insert(f64::MIN);
        *z = z.max(p[2]);
    }
    let side = |sign: f64| {
        let v: Vec<f64> = bins
            .iter()
            .filter(|(k, _)| {
                let y = sign * (**k as f64 * 2.0 + 1.0);
                y > 0.1 * half && y < 0.9 * half
            })
            .map(|(_, z)| *z)
            .collect();
        v.iter().sum::<f64>() / v.len() as f64
    };
    (side(1.0), side(-1.0))
}

/// The y of the text with `id` in the top view.
fn label_y(sheet: &str, id: &str) -> f64 {
    let at = sheet
        .find(&format!(r#"id="label-{id}""#))
        .unwrap_or_else(|| panic!("no label-{id}"));
    let start = sheet[..at].rfind('<').unwrap();
    let tag = &sheet[start..start + sheet[start..].find('>').unwrap()];
    let y = tag
        .split(r#" y=""#)
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    y.parse().unwrap()
}

#[test]
fn medial_is_drawn_on_the_arch_side_opposite_for_a_left_and_a_right_foot() {
    let mut medial_on_top = Vec::new();
    for (scan, side) in [(LEFT, "left"), (RIGHT, "right")] {
        let p = plan(scan, &[], None);
        assert_eq!(p.json["side"], side);
        let sheet = std::fs::read_to_string(&p.sheet).unwrap();
        let (m, l) = (label_y(&sheet, "medial"), label_y(&sheet, "lateral"));
        assert!(m != l);
        // SVG y grows downwards: the top of the picture is machine +Y
        let top = m < l;
        let (plus, minus) = arch_sides(&p.design);
        assert!(
            (plus - minus).abs() > 1.0,
            "{side}: no arch to tell the sides by ({plus} / {minus})"
        );
        assert_eq!(
            top,
            plus < minus,
            "{side} foot: medial drawn at the {}, the arch (lower plantar surface) is at {} ({plus:.1} vs {minus:.1})",
            if top { "top (+Y)" } else { "bottom (-Y)" },
            if plus < minus { "+Y" } else { "-Y" }
        );
        // the tabs table names the same sides
        assert!(sheet.contains("medial side") && sheet.contains("lateral side"));
        medial_on_top.push(top);
        drop(p.dir);
    }
    assert_ne!(medial_on_top[0], medial_on_top[1]);
}
