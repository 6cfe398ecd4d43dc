//! Socket positives carved on the rotary carver, checked by the independent checker: on the
//! fixture limb unmodified, with the PTB and the TSB socket Rx, and with the PTB Rx on the limb
//! turned and shifted in its file (its landmarks moved with it), `../shared/tools/carve-check`
//! in rotary mode (LinuxCNC's interpreter + a radial carve simulation of the ball) must report no
//! interpreter error, gouge <= 0.02 mm, |MRE| <= 0.05 mm, IQR <= 0.10 mm, |volume error| <=
//! 0.5 %, nothing uncut, no rapid through the blank, and at most 15 minutes of carving
//! (`run_time_s`, every move at its programmed inverse time, rapids at the carver's rate).

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn carve_check() -> PathBuf {
    let p = root().join("../shared/tools/carve-check");
    assert!(
        p.exists(),
        "carve-check not found at {}: CI has ../shared beside the clone",
        p.display()
    );
    p
}

/// Plans `scan` with `rx` into `dir`; returns the program, the design and plan's JSON.
fn plan(scan: &Path, rx: Option<&Path>, dir: &Path) -> (PathBuf, PathBuf, serde_json::Value) {
    let nc = dir.join("socket.nc");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_fab"));
    cmd.arg("plan").arg(scan);
    if let Some(rx) = rx {
        cmd.arg("--rx").arg(rx);
    }
    let out = cmd
        .args(["--json", "-o"])
        .arg(&nc)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "fab plan {}: {}",
        scan.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    (nc, dir.join("socket-design.stl"), v)
}

/// Runs carve-check on a rotary program and asserts the figures.
fn check(what: &str, nc: &Path, design: &Path, plan: &serde_json::Value) -> serde_json::Value {
    let finish = plan["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["operation"] == "finishing")
        .unwrap()["number"]
        .as_u64()
        .unwrap();
    let out = Command::new(carve_check())
        .arg(nc)
        .arg(design)
        .args(["--json", "--rapid-rate", "10000", "--finish-tool"])
        .arg(finish.to_string())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let v: serde_json::Value = serde_json::from_str(text.lines().last().unwrap_or(""))
        .unwrap_or_else(|e| {
            panic!(
                "{what}: carve-check said {text} / {}: {e}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    let f = |k: &str| {
        v[k].as_f64()
            .unwrap_or_else(|| panic!("{what}: no {k} in {v}"))
    };
    eprintln!("{what}: {v}");
    assert_eq!(v["mode"], "rotary", "{what}: {v}");
    assert!(
        v["interpreter_errors"].as_array().unwrap().is_empty(),
        "{what}: {v}"
    );
    assert!(f("gouge") <= 0.02, "{what}: gouge {}", f("gouge"));
    assert!(f("MRE").abs() <= 0.05, "{what}: MRE {}", f("MRE"));
    assert!(f("IQR") <= 0.10, "{what}: IQR {}", f("IQR"));
    assert!(
        f("volume_error_pct").abs() <= 0.5,
        "{what}: volume error {} %",
        f("volume_error_pct")
    );
    assert_eq!(v["uncut"], 0, "{what}: {v}");
    assert_eq!(v["rapid_in_stock_samples"], 0, "{what}: {v}");
    assert!(
        f("run_time_s") <= 15.0 * 60.0,
        "{what}: {} s of carving",
        f("run_time_s")
    );
    // the design carved is most of the part: rays compared cover it
    assert!(
        f("rays_compared") > 0.9 * f("rays_in_design"),
        "{what}: {v}"
    );
    v
}

#[test]
fn limb_as_scanned_no_rx() {
    let dir = tempfile::tempdir().unwrap();
    let scan = root().join("fixtures/scans/limb-transtibial.stl");
    let (nc, design, v) = plan(&scan, None, dir.path());
    assert_eq!(v["kind"], "socket positive");
    assert_eq!(v["machine"], "linuxcnc-rotary");
    check("limb, no Rx", &nc, &design, &v);
}

#[test]
fn limb_with_the_ptb_socket_rx() {
    let dir = tempfile::tempdir().unwrap();
    let scan = root().join("fixtures/scans/limb-transtibial.stl");
    let rx = root().join("fixtures/rx/transtibial-ptb.rx");
    let (nc, design, v) = plan(&scan, Some(&rx), dir.path());
    let text = std::fs::read_to_string(&nc).unwrap();
    // inverse time for the cuts, A reset while clear, offsets cleared at both ends
    assert!(text.contains("\nG93\n") && text.contains("\nG92 A"));
    assert!(text.starts_with("(fab rotary program for job unassigned)"));
    assert!(
        text.trim_end().ends_with("G92.1\nM2"),
        "{}",
        &text[text.len() - 80..]
    );
    assert!(!text.contains("MRN"), "no patient reference in the program");
    check("limb, PTB Rx", &nc, &design, &v);
}

#[test]
fn limb_with_the_tsb_socket_rx() {
    let dir = tempfile::tempdir().unwrap();
    let scan = root().join("fixtures/scans/limb-transtibial.stl");
    let rx = root().join("fixtures/rx/transtibial-tsb.rx");
    let (nc, design, v) = plan(&scan, Some(&rx), dir.path());
    check("limb, TSB Rx", &nc, &design, &v);
}

/// The fixture limb turned (30 deg about X, then 50 deg about Z) and shifted in its file, with
/// the PTB Rx's landmarks moved the same way: the same positive, to the carver's accuracy.
#[test]
fn limb_turned_and_shifted_in_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let (ax, az) = (30f64.to_radians(), 50f64.to_radians());
    let shift = [120.0, -45.0, 260.0];
    let move_point = |p: [f64; 3]| -> [f64; 3] {
        let (y, z) = (
            ax.cos() * p[1] - ax.sin() * p[2],
            ax.sin() * p[1] + ax.cos() * p[2],
        );
        let (x, y) = (
            az.cos() * p[0] - az.sin() * y,
            az.sin() * p[0] + az.cos() * y,
        );
        [x + shift[0], y + shift[1], z + shift[2]]
    };
    let src = std::fs::read(root().join("fixtures/scans/limb-transtibial.stl")).unwrap();
    let n = u32::from_le_bytes(src[80..84].try_into().unwrap()) as usize;
    assert_eq!(src.len(), 84 + 50 * n, "a binary STL");
    let mut out = src[..84].to_vec();
    for k in 0..n {
        let rec = &src[84 + 50 * k..84 + 50 * (k + 1)];
        let f = |o: usize| f32::from_le_bytes(rec[o..o + 4].try_into().unwrap()) as f64;
        out.extend_from_slice(&[0u8; 12]);
        for i in 0..3 {
            let p = move_point([f(12 + 12 * i), f(16 + 12 * i), f(20 + 12 * i)]);
            for c in p {
                out.extend_from_slice(&(c as f32).to_le_bytes());
            }
        }
        out.extend_from_slice(&[0u8; 2]);
    }
    let scan = dir.path().join("limb-moved.stl");
    std::fs::write(&scan, out).unwrap();
    let rx_text = std::fs::read_to_string(root().join("fixtures/rx/transtibial-ptb.rx")).unwrap();
    let moved: Vec<String> = rx_text
        .lines()
        .map(|l| {
            let Some(rest) = l.strip_prefix("landmark: ") else {
                return l.to_string();
            };
            let w: Vec<&str> = rest.split_whitespace().collect();
            let p = [w[1], w[2], w[3]].map(|s| s.parse::<f64>().unwrap());
            let q = move_point(p);
            format!("landmark: {} {:.2} {:.2} {:.2} mm", w[0], q[0], q[1], q[2])
        })
        .collect();
    let rx = dir.path().join("moved.rx");
    std::fs::write(&rx, moved.join("\n") + "\n").unwrap();
    let (nc, design, v) = plan(&scan, Some(&rx), dir.path());
    let c = check("limb turned and shifted, PTB Rx", &nc, &design, &v);
    // the same part as from the file as it came: the blank within a millimetre
    let dir2 = tempfile::tempdir().unwrap();
    let (_, _, v0) = plan(
        &root().join("fixtures/scans/limb-transtibial.stl"),
        Some(&root().join("fixtures/rx/transtibial-ptb.rx")),
        dir2.path(),
    );
    for k in ["diameter_mm", "length_mm"] {
        let (a, b) = (
            v["blank"][k].as_f64().unwrap(),
            v0["blank"][k].as_f64().unwrap(),
        );
        assert!((a - b).abs() < 1.0, "{k}: {a} vs {b}");
    }
    let _ = c;
}

fn fab(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_fab"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

/// `mesh info` and `plan` agree on what a scan is: a foot is never carved as a limb, nor a limb
/// milled as a foot; a router is no carver.
#[test]
fn a_foot_is_no_limb_and_a_router_no_carver() {
    let dir = tempfile::tempdir().unwrap();
    let out = |n: &str| dir.path().join(n).display().to_string();
    let info = fab(&[
        "mesh",
        "info",
        "fixtures/scans/limb-transtibial.stl",
        "--json",
    ]);
    assert!(String::from_utf8_lossy(&info.stdout).contains("limb"));
    let r = fab(&[
        "plan",
        "fixtures/scans/foot-left-m.stl",
        "--rx",
        "fixtures/rx/transtibial-ptb.rx",
        "-o",
        &out("a.nc"),
    ]);
    assert_eq!(r.status.code(), Some(1));
    let e = String::from_utf8_lossy(&r.stderr);
    assert!(e.contains("residual limb") && e.contains("foot"), "{e}");
    let r = fab(&[
        "plan",
        "fixtures/scans/limb-transtibial.stl",
        "--rx",
        "fixtures/rx/foot-left-eva.rx",
        "-o",
        &out("b.nc"),
    ]);
    assert_eq!(r.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&r.stderr).contains("residual limb"));
    let r = fab(&[
        "plan",
        "fixtures/scans/limb-transtibial.stl",
        "--machine",
        "linuxcnc-router",
        "-o",
        &out("c.nc"),
    ]);
    assert_eq!(r.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&r.stderr).contains("rotary"));
    // nothing written by any of them
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

/// `scan: skin`: the positive is grown by the liner's thickness (a true offset of the closed
/// positive), everywhere: its largest radius and its length grow by the liner, the stem's face
/// stays where the carver holds it.
#[test]
fn a_skin_scan_is_grown_by_the_liner() {
    let dir = tempfile::tempdir().unwrap();
    let scan = root().join("fixtures/scans/limb-transtibial.stl");
    let text = std::fs::read_to_string(root().join("fixtures/rx/transtibial-ptb.rx")).unwrap();
    assert!(text.contains("liner: 6 mm\n"));
    let skin = dir.path().join("skin.rx");
    std::fs::write(
        &skin,
        text.replace("liner: 6 mm\n", "liner: 6 mm\nscan: skin\n"),
    )
    .unwrap();
    let d1 = dir.path().join("a");
    let d2 = dir.path().join("b");
    std::fs::create_dir_all(&d1).unwrap();
    std::fs::create_dir_all(&d2).unwrap();
    let (_, _, over) = plan(
        &scan,
        Some(&root().join("fixtures/rx/transtibial-ptb.rx")),
        &d1,
    );
    let (_, _, grown) = plan(&scan, Some(&skin), &d2);
    let g = |v: &serde_json::Value, k: &str| v["design"][k].as_f64().unwrap();
    let dr = g(&grown, "max_radius_mm") - g(&over, "max_radius_mm");
    assert!((dr - 6.0).abs() < 0.3, "largest radius grew {dr} mm");
    let dx = g(&grown, "distal_x_mm") - g(&over, "distal_x_mm");
    assert!((dx - 6.0).abs() < 0.3, "distal end moved {dx} mm");
    assert_eq!(g(&grown, "stem_face_x_mm"), g(&over, "stem_face_x_mm"));
    assert!(
        grown["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("grown 6 mm"))
    );
    // skin without a liner thickness is refused
    let bad = dir.path().join("bad.rx");
    std::fs::write(&bad, text.replace("liner: 6 mm\n", "scan: skin\n")).unwrap();
    let r = fab(&[
        "plan",
        scan.to_str().unwrap(),
        "--rx",
        bad.to_str().unwrap(),
        "-o",
        dir.path().join("c.nc").to_str().unwrap(),
    ]);
    assert_eq!(r.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&r.stderr).contains("liner"));
}

/// The leg is checked against the limb where the Rx lets fab tell (a fibular-head landmark and a
/// landmark on the front): the PTB Rx's left leg agrees with the scan, the same Rx said for the
/// right leg is refused, and a Rx without the landmark is said to be unchecked.
#[test]
fn the_leg_is_checked_against_the_fibular_head() {
    let dir = tempfile::tempdir().unwrap();
    let scan = root().join("fixtures/scans/limb-transtibial.stl");
    let ptb = root().join("fixtures/rx/transtibial-ptb.rx");
    let text = std::fs::read_to_string(&ptb).unwrap();
    assert!(text.contains("side: left\n"));
    let right = dir.path().join("right.rx");
    std::fs::write(&right, text.replace("side: left\n", "side: right\n")).unwrap();
    let nc = dir.path().join("r.nc");
    let r = fab(&[
        "plan",
        scan.to_str().unwrap(),
        "--rx",
        right.to_str().unwrap(),
        "-o",
        nc.to_str().unwrap(),
    ]);
    assert_eq!(r.status.code(), Some(1));
    let e = String::from_utf8_lossy(&r.stderr);
    assert!(e.contains("right leg") && e.contains("fibular"), "{e}");
    assert!(!nc.exists());
    let r = fab(&[
        "plan",
        scan.to_str().unwrap(),
        "--rx",
        ptb.to_str().unwrap(),
        "--json",
        "-o",
        nc.to_str().unwrap(),
    ]);
    assert!(r.status.success());
    let v: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    let notes = v["notes"].to_string();
    assert!(notes.contains("left leg agrees"), "{notes}");
    let r = fab(&[
        "plan",
        scan.to_str().unwrap(),
        "--rx",
        "fixtures/rx/transtibial-tsb.rx",
        "--json",
        "-o",
        nc.to_str().unwrap(),
    ]);
    assert!(r.status.success());
    let v: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    let notes = v["notes"].to_string();
    assert!(notes.contains("not checked"), "{notes}");
    assert!(
        !notes.contains("DistalEnd"),
        "regions in the Rx's words: {notes}"
    );
}
