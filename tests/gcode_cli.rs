//! `fab gcode check` from the command line: good and bad programs, machines, dialects, the
//! carve figures against a design and its verdict (gouge limit, uncut cells), JSON output and
//! exit codes.

use std::path::Path;

use assert_cmd::Command;
use fab_toolpath::{
    Blank, Cutter, Dialect, Machine, Move, Operation, ProgramHeader, Tool, write_program,
};

/// Runs the command; asserts its exit code and that `stream` ("out" or "err") contains `want`.
fn expect(cmd: &mut Command, code: i32, stream: &str, want: &str) {
    let out = cmd.output().unwrap();
    let text = String::from_utf8_lossy(if stream == "out" {
        &out.stdout
    } else {
        &out.stderr
    })
    .to_string();
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains(want), "std{stream} lacks {want:?}:\n{text}");
}

fn fab() -> Command {
    let mut c = Command::cargo_bin("fab").unwrap();
    c.env("NO_COLOR", "1");
    c
}

/// Binary STL of a triangle soup.
fn write_stl(path: &Path, tris: &[[[f32; 3]; 3]]) {
    let mut b = vec![0u8; 80];
    b.extend((tris.len() as u32).to_le_bytes());
    for t in tris {
        b.extend([0u8; 12]);
        for v in t {
            for c in v {
                b.extend(c.to_le_bytes());
            }
        }
        b.extend([0u8; 2]);
    }
    std::fs::write(path, b).unwrap();
}

/// The square [0, 40]^2 at Z -2.
fn plane(path: &Path) {
    write_stl(
        path,
        &[
            [[0.0, 0.0, -2.0], [40.0, 0.0, -2.0], [40.0, 40.0, -2.0]],
            [[0.0, 0.0, -2.0], [40.0, 40.0, -2.0], [0.0, 40.0, -2.0]],
        ],
    );
}

/// A 6 mm ball raster over the plane at `z`, 1 mm stepover, passes along X.
fn raster(z: f64) -> Vec<Operation> {
    let mut moves = vec![Move::Rapid([-5.0, 0.0, 5.0])];
    for k in 0..41 {
        let y = k as f64;
        let (a, b) = if k % 2 == 0 {
            (-5.0, 45.0)
        } else {
            (45.0, -5.0)
        };
        moves.push(Move::Feed {
            to: [a, y, z],
            feed: 2000.0,
        });
        moves.push(Move::Feed {
            to: [b, y, z],
            feed: 2000.0,
        });
    }
    moves.push(Move::Rapid([-5.0, 40.0, 5.0]));
    vec![Operation {
        name: "finishing".into(),
        tool: Tool {
            number: 2,
            cutter: Cutter::Ball { diameter: 6.0 },
        },
        spindle_rpm: 12000.0,
        moves,
    }]
}

fn program(dir: &Path, name: &str, ops: &[Operation], d: Dialect) -> std::path::PathBuf {
    let h = ProgramHeader {
        job: "J-2026-0007".into(),
        scan_sha256: String::new(),
        fab_version: env!("CARGO_PKG_VERSION").into(),
        blank: Blank {
            x: 50.0,
            y: 50.0,
            z: 20.0,
        },
        work_zero: "top of blank, front-left corner".into(),
        notes: vec![],
    };
    let files = write_program(&h, ops, &Machine::default_machine(), d).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, &files[0].text).unwrap();
    p
}

fn scallop(e: f64) -> f64 {
    3.0 - (9.0 - e * e).sqrt()
}

#[test]
fn a_good_program_passes_with_exact_carve_figures_in_json() {
    let dir = tempfile::tempdir().unwrap();
    let prog = program(dir.path(), "good.nc", &raster(-2.0), Dialect::LinuxCnc);
    let design = dir.path().join("plane.stl");
    plane(&design);
    let out = fab()
        .args(["gcode", "check"])
        .arg(&prog)
        .arg("--design")
        .arg(&design)
        .args(["--machine", "linuxcnc-router", "--stock-top", "0", "--json"])
        .assert()
        .success();
    let v: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(v["errors"], 0);
    assert_eq!(v["dialect"], "linuxcnc");
    assert_eq!(v["machine"], "linuxcnc-router");
    assert_eq!(v["tools"]["T2"]["kind"], "ball");
    let c = &v["carve"];
    // Rows y = 0.25 k, k = 1..159: 39 on a pass, 80 a quarter off, 40 half-way between passes.
    let mre = (80.0 * scallop(0.25) + 40.0 * scallop(0.5)) / 159.0;
    assert!((c["MRE"].as_f64().unwrap() - mre).abs() < 1e-9, "{c}");
    assert!(c["gouge"].as_f64().unwrap() < 1e-9);
    assert_eq!(c["cells_compared"], 159 * 159);
    assert_eq!(c["uncut"], 0);
    assert_eq!(c["rapid_in_stock_samples"], 0);
    assert!(c["path_MRE"].is_f64() && c["path_IQR"].is_f64());
}

#[test]
fn human_output_names_the_figures_and_the_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let prog = program(dir.path(), "deep.nc", &raster(-2.4), Dialect::LinuxCnc);
    let design = dir.path().join("plane.stl");
    plane(&design);
    let check = || {
        let mut c = fab();
        c.args(["gcode", "check"])
            .arg(&prog)
            .arg("--design")
            .arg(&design);
        c
    };
    // 0.4 mm too deep: beyond the default limit of 0.02 mm, the check fails and says why.
    let out = check().output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("gouge 0.400 mm"), "{stdout}");
    assert!(
        stdout.contains("the carve goes 0.400 mm below the design surface at X"),
        "{stdout}"
    );
    assert!(stdout.contains("material the part should keep"), "{stdout}");
    assert!(stdout.contains("tools: T2 ball D6.000"), "{stdout}");
    // The report says what gouge and path gouge are.
    assert!(
        stdout.contains("the deepest the carve goes below the design surface"),
        "{stdout}"
    );
    assert!(
        stdout.contains("path gouge 0.400 mm")
            && stdout.contains(
                "below the best surface the finishing tool T2 (ball D6.000) could leave by itself"
            ),
        "{stdout}"
    );
    assert!(stdout.contains("verdict: 1 error"), "{stdout}");
    // A looser limit passes it; the old spelling of the option still works.
    for opt in ["--gouge-limit", "--max-gouge"] {
        expect(check().args([opt, "0.5"]), 0, "out", "verdict: ok");
    }
    expect(
        check().args(["--gouge-limit", "-1"]),
        1,
        "err",
        "--gouge-limit must be a number of mm, 0 or more, got -1",
    );
    let out = check()
        .args(["--gouge-limit", "0.5", "--json"])
        .assert()
        .success();
    let v: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(v["gouge_limit_mm"], 0.5);
    assert!(v["carve"]["gouge_at"].is_array(), "{v}");
}

#[test]
fn uncut_design_cells_fail_the_check() {
    // Half the raster: the far half of the plane is never cut.
    let dir = tempfile::tempdir().unwrap();
    let mut ops = raster(-2.0);
    ops[0].moves.truncate(42);
    ops[0].moves.push(Move::Rapid([45.0, 20.0, 5.0]));
    let prog = program(dir.path(), "half.nc", &ops, Dialect::LinuxCnc);
    let design = dir.path().join("plane.stl");
    plane(&design);
    let out = fab()
        .args(["gcode", "check"])
        .arg(&prog)
        .arg("--design")
        .arg(&design)
        .args(["--stock-top", "0"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("cells of the design") && stdout.contains("are never cut"),
        "{stdout}"
    );
}

/// Plans the bundled left foot into `dir`: the program and its design surface.
fn planned_foot(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let nc = dir.join("foot.nc");
    fab()
        .args(["plan", "fixtures/scans/foot-left-m.stl", "-o"])
        .arg(&nc)
        .assert()
        .success();
    (nc, dir.join("foot-design.stl"))
}

#[test]
fn a_planned_program_passes_and_one_finishing_move_lowered_1_mm_fails() {
    let dir = tempfile::tempdir().unwrap();
    let (nc, design) = planned_foot(dir.path());
    let check = |prog: &Path| {
        let out = fab()
            .args(["gcode", "check", "--machine", "linuxcnc-router"])
            .arg(prog)
            .arg("--design")
            .arg(&design)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).to_string(),
        )
    };
    let (code, stdout) = check(&nc);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(stdout.contains("verdict: ok"), "{stdout}");

    // The highest point of the finishing raster (the top of the part, nearly flat), 1 mm lower.
    let text = std::fs::read_to_string(&nc).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let start = lines
        .iter()
        .position(|l| l.starts_with("(OP ") && l.contains("finishing"))
        .expect("a finishing operation");
    let z = |l: &str| -> Option<f64> {
        l.starts_with('X')
            .then(|| {
                l.split_whitespace()
                    .find_map(|w| w.strip_prefix('Z')?.parse().ok())
            })
            .flatten()
    };
    let (k, z0) = lines[start..]
        .iter()
        .enumerate()
        .take_while(|(_, l)| !l.starts_with("(OP ") || l.contains("finishing"))
        .filter_map(|(k, l)| Some((start + k, z(l)?)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap();
    let mut bad: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    bad[k] = bad[k].replace(&format!("Z{z0:.3}"), &format!("Z{:.3}", z0 - 1.0));
    assert_ne!(bad[k], lines[k]);
    let gouged = dir.path().join("gouged.nc");
    std::fs::write(&gouged, bad.join("\n") + "\n").unwrap();
    let (code, stdout) = check(&gouged);
    assert_eq!(code, Some(1), "{stdout}");
    let gouge: f64 = stdout
        .split("the carve goes ")
        .nth(1)
        .and_then(|s| s.split(" mm").next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no gouge error in:\n{stdout}"));
    assert!((0.5..=1.0).contains(&gouge), "{gouge}\n{stdout}");
    assert!(stdout.contains("verdict: 1 error"), "{stdout}");
}

#[test]
fn syntax_errors_name_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("exp.nc");
    std::fs::write(&p, "G21 G90\nM3 S1000\nG1 X1.5e2 F100\nM30\n").unwrap();
    expect(
        fab().args(["gcode", "check"]).arg(&p),
        1,
        "err",
        "line 3, column 8: exponent in a number ('1.5e2')",
    );
    std::fs::write(&p, "G21 G90\n(a (nested) comment)\nM30\n").unwrap();
    let out = fab()
        .args(["gcode", "check", "--json"])
        .arg(&p)
        .assert()
        .code(1);
    let v: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["findings"][0]["line"], 2);
    assert_eq!(v["findings"][0]["col"], 4);
    std::fs::write(&p, b"G21\n\xff\xfe\n").unwrap();
    expect(
        fab().args(["gcode", "check"]).arg(&p),
        1,
        "err",
        "line 2, column 1: not text",
    );
}

#[test]
fn dialect_and_machine_problems_fail_with_their_lines() {
    let dir = tempfile::tempdir().unwrap();
    // A LinuxCNC program with tool changes checked as GRBL: M6 and G43 H are not GRBL.
    let prog = program(dir.path(), "lc.nc", &raster(-2.0), Dialect::LinuxCnc);
    let out = fab()
        .args(["gcode", "check", "--dialect", "grbl"])
        .arg(&prog)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("grbl does not know M6"), "{stdout}");
    assert!(stdout.contains("grbl does not know G64"), "{stdout}");
    // Written for GRBL it passes on the GRBL machine.
    let grbl = program(dir.path(), "grbl.nc", &raster(-2.0), Dialect::Grbl);
    expect(
        fab()
            .args(["gcode", "check", "--machine", "grbl-hobby"])
            .arg(&grbl),
        0,
        "out",
        "verdict: ok",
    );
    // No units, no M30, a feed beyond the Fanuc mill's limit.
    let p = dir.path().join("bad.nc");
    std::fs::write(&p, "G90\nM3 S1000\nG1 X10 Y10 F20000\n").unwrap();
    let out = fab()
        .args([
            "gcode",
            "check",
            "--machine",
            "fanuc-mill",
            "--dialect",
            "linuxcnc",
        ])
        .arg(&p)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("line 3, column 1: first move before the units are stated"),
        "{stdout}"
    );
    assert!(
        stdout.contains("line 3, column 12: feed F20000"),
        "{stdout}"
    );
    assert!(stdout.contains("no M30"), "{stdout}");
}

#[test]
fn bad_arguments_are_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let prog = program(dir.path(), "p.nc", &raster(-2.0), Dialect::LinuxCnc);
    expect(
        fab()
            .args(["gcode", "check", "--machine", "haas-vf2"])
            .arg(&prog),
        1,
        "err",
        "no bundled machine profile named 'haas-vf2'",
    );
    expect(
        fab()
            .args(["gcode", "check", "--dialect", "heidenhain"])
            .arg(&prog),
        2,
        "err",
        "unknown G-code dialect 'heidenhain'",
    );
    expect(
        fab()
            .args(["gcode", "check"])
            .arg(dir.path().join("missing.nc")),
        1,
        "err",
        "cannot read",
    );
    let bad_stl = dir.path().join("bad.stl");
    std::fs::write(&bad_stl, b"solid x\nendsolid x\n").unwrap();
    expect(
        fab()
            .args(["gcode", "check"])
            .arg(&prog)
            .arg("--design")
            .arg(&bad_stl),
        1,
        "err",
        "design",
    );
    fab().args(["gcode", "check", "--help"]).assert().success();
    fab().args(["gcode", "check"]).assert().code(2);
}

#[test]
fn numbers_too_large_for_any_machine_are_syntax_errors_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    // 400 nines overflow f64 to infinity; 1e15 mm is finite but its run time is not
    for (name, x) in [
        ("inf.nc", "9".repeat(400)),
        ("far.nc", format!("1{}", "0".repeat(15))),
    ] {
        let p = dir.path().join(name);
        std::fs::write(
            &p,
            format!("G21 G90 G17 G94\nT1 M6\nM3 S12000\nG0 Z5\nG1 X{x} F300\nM5\nM30\n"),
        )
        .unwrap();
        for json in [false, true] {
            let mut c = fab();
            c.args(["gcode", "check"]).arg(&p);
            if json {
                c.arg("--json");
            }
            let out = c.output().unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{name}: {err}");
            assert!(
                err.contains("line 5, column 5") && err.contains("too large"),
                "{err}"
            );
            assert!(!err.contains("panicked"), "{err}");
        }
    }
}

#[test]
fn finish_tool_not_in_the_program_and_impossible_slope_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let prog = program(dir.path(), "p.nc", &raster(-2.0), Dialect::LinuxCnc);
    let design = dir.path().join("plane.stl");
    plane(&design);
    let check = || {
        let mut c = fab();
        c.args(["gcode", "check"])
            .arg(&prog)
            .arg("--design")
            .arg(&design);
        c
    };
    expect(
        check().args(["--finish-tool", "9"]),
        1,
        "err",
        "--finish-tool 9: the program cuts with no T9",
    );
    expect(
        check().args(["--max-slope", "1000"]),
        1,
        "err",
        "--max-slope must be more than 0 and at most 90 degrees, got 1000",
    );
}
