//! `fab plan` from the command line: the four files, the summary line and `--json`, the program
//! header, no patient reference anywhere, and bad input refused cleanly (exit 1, nothing written).

use std::path::Path;

use assert_cmd::Command;

fn fab() -> Command {
    let mut c = Command::cargo_bin("fab").unwrap();
    c.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1");
    c
}

const LEFT: &str = "fixtures/scans/foot-left-m.stl";

/// `fab plan ARGS -o NC`, which must succeed.
fn planned(args: &[&str], nc: &Path) -> std::process::Output {
    let out = fab()
        .arg("plan")
        .args(args)
        .arg("-o")
        .arg(nc)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "fab plan {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn plans_a_foot_and_writes_program_design_sheet_and_preview() {
    let dir = tempfile::tempdir().unwrap();
    let nc = dir.path().join("J-test.nc");
    let out = fab()
        .args(["plan", LEFT, "--json", "-o"])
        .arg(&nc)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["side"], "left");
    assert_eq!(v["units"], "m");
    assert_eq!(v["triangles"], 12772);
    assert!(v["cl_points"].as_u64().unwrap() > 100_000, "{v}");
    assert!(v["moves"].as_u64().unwrap() > 1000);
    assert!(v["estimated_run_time_s"].as_f64().unwrap() > 60.0);
    assert!(v["part"].as_str().unwrap().contains("no modifications"));
    let ops: Vec<&str> = v["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["operation"].as_str().unwrap())
        .collect();
    assert_eq!(ops, ["roughing", "finishing", "profile"]);

    let program = std::fs::read_to_string(&nc).unwrap();
    assert_eq!(v["program_bytes"].as_u64().unwrap() as usize, program.len());
    assert!(program.contains("(JOB unassigned)"));
    assert!(program.contains("(TOOL T1 FLAT D10.000)"));
    assert!(program.contains("(TOOL T2 BALL D6.000)"));
    assert!(program.contains("(WORK ZERO top of blank, front-left corner)"));
    assert!(program.trim_end().ends_with("M30"));
    // fixed decimal notation: no exponents outside comments
    assert!(
        program
            .lines()
            .filter(|l| !l.starts_with('('))
            .all(|l| !l.contains(['e', 'E']))
    );
    // blank fits the design: blank size in the header agrees with the JSON
    let blank = v["blank_mm"].as_array().unwrap();
    assert!(program.contains(&format!("(BLANK X{:.3}", blank[0].as_f64().unwrap())));

    // the design STL: binary, non-empty, inside the blank (work zero at its top front-left)
    let stl = std::fs::read(dir.path().join("J-test-design.stl")).unwrap();
    let n = u32::from_le_bytes(stl[80..84].try_into().unwrap()) as usize;
    assert_eq!(stl.len(), 84 + 50 * n);
    for t in 0..n {
        for k in 0..3 {
            let o = 84 + 50 * t + 12 + 12 * k;
            let c: Vec<f32> = (0..3)
                .map(|a| f32::from_le_bytes(stl[o + 4 * a..o + 4 * a + 4].try_into().unwrap()))
                .collect();
            for a in 0..3 {
                let (lo, hi) = if a < 2 {
                    (0.0, blank[a].as_f64().unwrap())
                } else {
                    (-blank[2].as_f64().unwrap(), 0.0)
                };
                assert!(
                    c[a] as f64 >= lo - 1e-3 && c[a] as f64 <= hi + 1e-3,
                    "{c:?} outside the blank"
                );
            }
        }
    }
    // preview: a PNG; setup sheet: HTML naming the job, the work zero, the tools and the picture
    let png = std::fs::read(dir.path().join("J-test-preview.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let sheet = std::fs::read_to_string(dir.path().join("J-test-setup.html")).unwrap();
    for s in [
        "job unassigned",
        "front-left corner",
        "T1",
        "T2",
        "J-test-preview.png",
        "J-test.nc",
        v["program_sha256"].as_str().unwrap(),
    ] {
        assert!(sheet.contains(s), "setup sheet lacks {s}");
    }
}

#[test]
fn summary_line_names_the_figures() {
    let dir = tempfile::tempdir().unwrap();
    // a missing output directory is made (the README's first command writes to out/)
    let nc = dir.path().join("new/dir/out.nc");
    let out = fab()
        .args([
            "plan",
            "fixtures/scans/foot-right-m.stl",
            "--dialect",
            "grbl",
            "-o",
        ])
        .arg(&nc)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = String::from_utf8(out.stdout).unwrap();
    assert_eq!(line.lines().count(), 1, "{line}");
    for w in [
        "right foot",
        "no modifications",
        "12756 triangles",
        "CL points",
        "moves",
        "est. run time",
        "KiB",
    ] {
        assert!(line.contains(w), "summary lacks {w}: {line}");
    }
    // GRBL: one program, no M6 tool change, a pause for the operator instead
    let program = std::fs::read_to_string(&nc).unwrap();
    assert!(!program.contains("M6"));
    assert!(program.contains("M0"));
}

fn assert_refused(args: &[&str], dir: &Path, needle: &str) {
    let out = fab().args(args).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(needle),
        "{args:?}: stderr lacks '{needle}': {err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    let left: Vec<_> = std::fs::read_dir(dir).unwrap().collect();
    assert!(left.is_empty(), "{args:?} left files behind: {left:?}");
}

#[test]
fn bad_input_is_refused_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let nc = dir.path().join("x.nc");
    let nc = nc.to_str().unwrap();
    let inputs = tempfile::tempdir().unwrap();
    let junk = inputs.path().join("junk.stl");
    std::fs::write(&junk, b"this is not an STL file at all").unwrap();
    assert_refused(
        &["plan", "fixtures/scans/nope.stl", "-o", nc],
        dir.path(),
        "nope.stl",
    );
    assert_refused(
        &["plan", junk.to_str().unwrap(), "-o", nc],
        dir.path(),
        "junk.stl",
    );
    assert_refused(
        &["plan", LEFT, "--finish-tool", "flat:6", "-o", nc],
        dir.path(),
        "ball",
    );
    // a residual limb is no foot (planned alone it is a socket positive, for a carver: not on
    // a router); a metre-scale foot read as mm is 0.3 mm long
    assert_refused(
        &[
            "plan",
            "fixtures/scans/limb-transtibial.stl",
            "--rx",
            "fixtures/rx/foot-left-eva.rx",
            "-o",
            nc,
        ],
        dir.path(),
        "residual limb",
    );
    assert_refused(
        &[
            "plan",
            "fixtures/scans/limb-transtibial.stl",
            "--machine",
            "linuxcnc-router",
            "-o",
            nc,
        ],
        dir.path(),
        "rotary",
    );
    assert_refused(
        &["plan", LEFT, "--units", "mm", "-o", nc],
        dir.path(),
        "check --units",
    );
    assert_refused(
        &["plan", LEFT, "--stepover", "0", "-o", nc],
        dir.path(),
        "stepover",
    );
    assert_refused(
        &["plan", LEFT, "--machine", "no-such-mill", "-o", nc],
        dir.path(),
        "no-such-mill",
    );
    assert_refused(
        &["plan", LEFT, "--trim-height=-5", "-o", nc],
        dir.path(),
        "trim",
    );
    // a bad tool spec is a usage error (2)
    let out = fab()
        .args(["plan", LEFT, "--finish-tool", "ball:x", "-o", nc])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none());
}

/// The other strategy settings (angled raster with a cross pass, bull-nose roughing,
/// conventional milling, no tabs) still give a program LinuxCNC's interpreter accepts.
#[test]
fn angled_cross_pass_bull_roughing_program_is_accepted_by_rs274() {
    let dir = tempfile::tempdir().unwrap();
    let nc = dir.path().join("a.nc");
    // the bundled router with a bull nose in its third pocket
    let machine = dir.path().join("bull-router.toml");
    let toml = std::fs::read_to_string("fixtures/machines/linuxcnc-router.toml")
        .unwrap()
        .replace(
            r#"cutter = { kind = "ball", diameter = 12.0 }"#,
            r#"cutter = { kind = "bull", diameter = 12.0, corner_radius = 2.0 }"#,
        );
    assert!(toml.contains("bull"));
    std::fs::write(&machine, toml).unwrap();
    let out = fab()
        .arg("plan")
        .arg("--machine")
        .arg(&machine)
        .args([
            "fixtures/scans/foot-right-m.stl",
            "--angle",
            "30",
            "--cross-pass",
            "--rough-tool",
            "bull:12:2",
            "--conventional",
            "--no-tabs",
            "--stepover",
            "1.5",
            "--json",
            "-o",
        ])
        .arg(&nc)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["tools"][0]["cutter"], "bull:12:2");
    let program = std::fs::read_to_string(&nc).unwrap();
    assert!(program.contains("(TOOL T3 BULL D12.000 CR2.000)"));
    // the cut-out runs counter-clockwise (G3 corners) for conventional milling
    let first_word = |l: &str| l.split_whitespace().next().unwrap_or("").to_string();
    assert!(program.lines().any(|l| first_word(l) == "G3"));
    let rs = std::process::Command::new("rs274")
        .arg("-g")
        .arg(&nc)
        .output();
    let Ok(rs) = rs else {
        panic!("rs274 (LinuxCNC's interpreter, package linuxcnc-uspace) is not installed");
    };
    let text =
        String::from_utf8_lossy(&rs.stdout).to_string() + &String::from_utf8_lossy(&rs.stderr);
    let canonical = |l: &str| {
        let mut w = l.split_whitespace();
        w.next().is_some_and(|n| n.parse::<u64>().is_ok())
            && w.next().is_some_and(|n| n.starts_with('N'))
    };
    let errors: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty() && l.trim() != "executing" && !canonical(l))
        .collect();
    assert!(errors.is_empty(), "rs274: {errors:?}");
    assert!(text.contains("ARC_FEED") && text.contains("STRAIGHT_FEED"));
}

#[test]
fn the_work_orders_feeds_and_spindle_are_the_programs_and_the_sheet_says_so() {
    // the EVA row of the bundled table: feed 6000, plunge 1500, spindle 16000
    let dir = tempfile::tempdir().unwrap();
    let nc = dir.path().join("eva.nc");
    let out = planned(
        &[LEFT, "--rx", "fixtures/rx/foot-left-eva.rx", "--json"],
        &nc,
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let from = |what: &str| {
        v["settings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["setting"] == what)
            .unwrap_or_else(|| panic!("no {what} in {v}"))
            .clone()
    };
    assert_eq!(from("feed")["value"], "6000 mm/min");
    assert_eq!(from("feed")["from"], "work order");
    assert_eq!(from("spindle")["value"], "16000 rpm");
    let prog = std::fs::read_to_string(&nc).unwrap();
    assert!(prog.contains("S16000"), "spindle from the work order");
    assert!(prog.contains("F6000.0"), "feed from the work order");
    assert!(prog.contains("F1500.0"), "plunge from the work order");
    let sheet = std::fs::read_to_string(dir.path().join("eva-setup.html")).unwrap();
    assert!(
        sheet.contains("<td>feed</td><td>6000 mm/min</td><td>work order</td>"),
        "{sheet}"
    );
    // an option overrides the work order, and the sheet says so
    planned(
        &[
            LEFT,
            "--rx",
            "fixtures/rx/foot-left-eva.rx",
            "--feed",
            "5000",
        ],
        &nc,
    );
    let sheet = std::fs::read_to_string(dir.path().join("eva-setup.html")).unwrap();
    assert!(
        sheet.contains("<td>feed</td><td>5000 mm/min</td><td>option</td>"),
        "{sheet}"
    );
    assert!(std::fs::read_to_string(&nc).unwrap().contains("F5000.0"));
}

#[test]
fn a_tool_the_machine_does_not_have_is_refused_with_its_list() {
    let dir = tempfile::tempdir().unwrap();
    let nc = dir.path().join("x.nc");
    let out = fab()
        .args(["plan", LEFT, "--finish-tool", "ball:30", "-o"])
        .arg(&nc)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("ball:30"), "{err}");
    assert!(
        err.contains("T1") && err.contains("T2") && err.contains("T3"),
        "{err}"
    );
    assert!(!nc.exists(), "nothing written");
    // every tool in a default program is one of the machine's pockets
    planned(&[LEFT], &nc);
    let prog = std::fs::read_to_string(&nc).unwrap();
    for line in prog.lines().filter(|l| l.contains("M6")) {
        assert!(
            line.contains("T1 ") || line.contains("T2 ") || line.contains("T3 "),
            "{line}"
        );
    }
}

#[test]
fn outputs_that_are_inputs_or_read_only_are_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let scan = d.join("c.stl");
    std::fs::copy(Path::new(env!("CARGO_MANIFEST_DIR")).join(LEFT), &scan).unwrap();
    let original = std::fs::read(&scan).unwrap();
    let run = |args: &[&str]| {
        let mut c = fab();
        c.current_dir(d).arg("plan").args(args);
        c.output().unwrap()
    };
    let scan_s = scan.to_str().unwrap();
    // the program named as the scan, and the scan reached through the design's derived name
    std::fs::copy(&scan, d.join("x-design.stl")).unwrap();
    for (args, needle) in [
        (vec![scan_s, "-o", scan_s], "is the input"),
        (vec!["x-design.stl", "-o", "x.nc"], "is the input"),
    ] {
        let out = run(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{err}");
    }
    assert_eq!(
        std::fs::read(&scan).unwrap(),
        original,
        "the scan is untouched"
    );
    assert!(!d.join("x.nc").exists() && !d.join("c-design.stl").exists());
    // a read-only old program is not replaced, and neither is anything else of the plan
    let ok = run(&[scan_s, "-o", "p.nc"]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let before: Vec<Vec<u8>> = ["p.nc", "p-design.stl", "p-preview.png"]
        .iter()
        .map(|f| std::fs::read(d.join(f)).unwrap())
        .collect();
    let mut perm = std::fs::metadata(d.join("p.nc")).unwrap().permissions();
    perm.set_readonly(true);
    std::fs::set_permissions(d.join("p.nc"), perm.clone()).unwrap();
    let out = run(&[scan_s, "--stepover", "0.9", "-o", "p.nc"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("read-only"));
    #[allow(clippy::permissions_set_readonly_false)]
    perm.set_readonly(false);
    std::fs::set_permissions(d.join("p.nc"), perm).unwrap();
    // a sheet that cannot be written (a folder in its place): the program is not replaced
    std::fs::remove_file(d.join("p-setup.html")).unwrap();
    std::fs::create_dir(d.join("p-setup.html")).unwrap();
    let out = run(&[scan_s, "--stepover", "0.9", "-o", "p.nc"]);
    assert_eq!(out.status.code(), Some(1));
    for (f, b) in ["p.nc", "p-design.stl", "p-preview.png"]
        .iter()
        .zip(&before)
    {
        assert_eq!(&std::fs::read(d.join(f)).unwrap(), b, "{f} untouched");
    }
    // no temporary file left behind
    let left: Vec<String> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}
