//! `fab drop`: the CSV's grid, order and values on a fixture foot (metres, loaded as mm), and bad
//! input: exit 1 with a clear message and no output file; usage errors exit 2.

use assert_cmd::Command;
use fab_geometry::load::{Units, load_path};
use fab_toolpath::Cutter;
use fab_toolpath::drop::triangle_drop;

const FOOT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/scans/foot-left-m.stl"
);

fn fab() -> Command {
    Command::cargo_bin("fab").unwrap()
}

fn rows(csv: &str) -> Vec<[f64; 3]> {
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("x,y,z"));
    lines
        .map(|l| {
            let v: Vec<f64> = l.split(',').map(|s| s.parse().unwrap()).collect();
            assert_eq!(v.len(), 3, "{l}");
            [v[0], v[1], v[2]]
        })
        .collect()
}

#[test]
fn csv_grid_is_y_major_over_the_mesh_bounds_with_exact_drops() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cl.csv");
    let step = 2.0;
    let assert = fab()
        .args([
            "drop",
            FOOT,
            "--tool",
            "bull:12:2",
            "--step",
            "2",
            "--json",
            "-o",
        ])
        .arg(&out)
        .assert()
        .success();
    let summary: serde_json::Value = serde_json::from_slice(&assert.get_output().stdout).unwrap();
    let rows = rows(&std::fs::read_to_string(&out).unwrap());

    let mesh = load_path(FOOT.as_ref(), Units::Auto).unwrap().mesh;
    let (lo, hi) = mesh.bounds().unwrap();
    let nx = ((hi.x - lo.x) / step).floor() as usize + 1;
    let ny = ((hi.y - lo.y) / step).floor() as usize + 1;
    assert_eq!(summary["nx"], nx);
    assert_eq!(summary["ny"], ny);
    assert_eq!(summary["units"], "m");
    assert_eq!(rows.len(), nx * ny);
    // y-major: every x of the first y, then the next y.
    for (k, r) in rows.iter().enumerate() {
        let (i, j) = (k % nx, k / nx);
        assert!(
            (r[0] - (lo.x + i as f64 * step)).abs() < 1e-6,
            "x of row {k}"
        );
        assert!(
            (r[1] - (lo.y + j as f64 * step)).abs() < 1e-6,
            "y of row {k}"
        );
    }
    // Values: brute force over every triangle with the exact primitives; no contact -> min Z.
    let soup = mesh.to_soup();
    let cutter: Cutter = "bull:12:2".parse().unwrap();
    let mut without = 0;
    for (k, r) in rows.iter().enumerate().step_by(7) {
        // At the exact grid position (the CSV rounds to 1e-6 mm).
        let (x, y) = (lo.x + (k % nx) as f64 * step, lo.y + (k / nx) as f64 * step);
        let want = soup
            .iter()
            .filter_map(|t| triangle_drop(&cutter, x, y, t))
            .fold(f64::NEG_INFINITY, f64::max);
        let want = if want == f64::NEG_INFINITY {
            without += 1;
            lo.z
        } else {
            want
        };
        assert!((r[2] - want).abs() <= 5e-7, "{r:?} vs {want}");
    }
    assert!(without > 0, "the grid's corners are off the foot");
}

#[test]
fn bad_input_exits_1_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cl.csv");
    std::fs::write(&out, "previous").unwrap();
    let cases: [(&[&str], &str); 6] = [
        (&["--tool", "drill:6"], "unknown cutter kind 'drill'"),
        (&["--tool", "bull:12:9"], "at most half the diameter"),
        (&["--tool", "ball:-1"], "out of range"),
        (&["--step", "0"], "bad --step 0"),
        (&["--step=-0.5"], "bad --step -0.5"),
        (&["--step", "0.00001"], "too large"),
    ];
    for (extra, message) in cases {
        let a = fab()
            .args(["drop", FOOT])
            .args(extra)
            .arg("-o")
            .arg(&out)
            .assert()
            .code(1);
        let stderr = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
        assert!(stderr.contains(message), "{extra:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "previous");
    }
    let missing = dir.path().join("missing.stl");
    let a = fab()
        .arg("drop")
        .arg(&missing)
        .arg("-o")
        .arg(dir.path().join("x.csv"))
        .assert()
        .code(1);
    assert!(String::from_utf8_lossy(&a.get_output().stderr).contains("missing.stl"));
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(
        names.len(),
        1,
        "only the untouched previous file: {names:?}"
    );
}

#[test]
fn usage_errors_exit_2() {
    fab()
        .args(["drop", FOOT, "--units", "furlongs"])
        .assert()
        .code(2);
    fab().args(["drop", FOOT, "--step", "abc"]).assert().code(2);
    // The summary and the CSV cannot share stdout.
    fab().args(["drop", FOOT, "--json"]).assert().code(2);
    let a = fab().args(["drop", "--help"]).assert().success();
    assert!(String::from_utf8_lossy(&a.get_output().stdout).contains("--tool"));
}

#[test]
fn without_output_the_csv_goes_to_stdout() {
    let a = fab()
        .args(["drop", FOOT, "--tool", "flat:10", "--step", "5"])
        .assert()
        .success();
    let out = String::from_utf8(a.get_output().stdout.clone()).unwrap();
    let rows = rows(&out);
    let mesh = load_path(FOOT.as_ref(), Units::Auto).unwrap().mesh;
    let (lo, hi) = mesh.bounds().unwrap();
    let nx = ((hi.x - lo.x) / 5.0).floor() as usize + 1;
    let ny = ((hi.y - lo.y) / 5.0).floor() as usize + 1;
    assert_eq!(rows.len(), nx * ny);
    // Never above the highest vertex (a flat end rests on the surface).
    assert!(
        rows.iter()
            .all(|r| r[2] <= hi.z + 1e-6 && r[2] >= lo.z - 1e-6)
    );
    assert!(rows.iter().any(|r| r[2] > lo.z + 10.0));
}

#[test]
fn output_directory_is_created_like_fab_plan_does() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out/cl.csv");
    fab()
        .args(["drop", FOOT, "--tool", "ball:6", "--step", "4", "-o"])
        .arg(&out)
        .assert()
        .success();
    let csv = std::fs::read_to_string(&out).unwrap();
    assert!(rows(&csv).len() > 1000);
}

/// `fab drop ... | head`: the reader goes away; fab stops quietly as Unix tools do (SIGPIPE),
/// with no "Broken pipe" error and no panic.
#[cfg(unix)]
#[test]
fn a_closed_stdout_stops_fab_quietly() {
    use std::os::unix::process::ExitStatusExt;
    use std::process::Stdio;
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("fab"))
        .args(["drop", FOOT, "--tool", "ball:6", "--step", "0.5"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // the CSV is megabytes, far more than a pipe holds: fab writes into a closed pipe
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("error") && !err.contains("panicked"), "{err}");
    assert_eq!(out.status.signal(), Some(13), "{:?} {err}", out.status);
}
