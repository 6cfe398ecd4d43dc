//! `fab mesh modify` with the fixture prescriptions on the fixture scans.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use fab_geometry::load::{Units, load_path};
use fab_geometry::{measure, topology};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fab() -> Command {
    let mut c = Command::cargo_bin("fab").unwrap();
    c.env("NO_COLOR", "1");
    c
}

fn modify(scan: &str, rx: &str, out: &Path) -> std::process::Output {
    fab()
        .args(["mesh", "modify", "--json"])
        .arg(root().join("fixtures/scans").join(scan))
        .arg("--rx")
        .arg(root().join("fixtures/rx").join(rx))
        .arg("-o")
        .arg(out)
        .output()
        .unwrap()
}

#[test]
fn bilateral_foot_rx_applies_to_each_foot() {
    let dir = tempfile::tempdir().unwrap();
    for (scan, side) in [("foot-left-m.stl", "left"), ("foot-right-m.stl", "right")] {
        let out_path = dir.path().join(format!("{side}.stl"));
        let out = modify(scan, "foot-bilateral.rx", &out_path);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["side"], side);
        let ops: Vec<&str> = v["operations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["op"].as_str().unwrap())
            .collect();
        // left: 6 deg post and a met pad; right: no met pad (right.met-pad: none)
        if side == "left" {
            assert_eq!(ops, ["arch-fill", "met-pad", "post", "trim-height"]);
            assert_eq!(v["operations"][2]["degrees"], 6.0);
        } else {
            assert_eq!(ops, ["arch-fill", "post", "trim-height"]);
            assert_eq!(v["operations"][1]["degrees"], 4.0);
        }
        // the result is the trimmed positive in the lab frame: open at one trim line, low
        let m = load_path(&out_path, Units::Mm).unwrap().mesh;
        let t = topology::report(&m);
        assert_eq!(t.boundary_loops.len(), 1);
        let (lo, hi) = m.bounds().unwrap();
        assert!(lo.y.abs() < 2.0 && (250.0..290.0).contains(&(hi.y - lo.y)));
        assert!(
            hi.z < 40.0,
            "trimmed to the heel cup and flanges: top at {}",
            hi.z
        );
    }
}

#[test]
fn prescription_for_the_other_foot_is_refused_and_nothing_written() {
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("out.stl");
    let out = modify("foot-right-m.stl", "foot-left-eva.rx", &out_path);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("foot-right-m.stl") && err.contains("right foot"),
        "{err}"
    );
    assert!(!out_path.exists());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no temp files left"
    );
}

#[test]
fn socket_rx_reduces_and_relieves_the_limb() {
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("socket.stl");
    let out = modify("limb-transtibial.stl", "transtibial-ptb.rx", &out_path);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["operations"][0]["op"], "radial-scale");
    assert_eq!(v["operations"][0]["factor"], 0.96);
    assert_eq!(v["operations"].as_array().unwrap().len(), 6);
    // away from every modification (20 mm above the distal end, below the distal-tibia relief
    // at ~44 mm up) the circumference is 4 % smaller
    let before = load_path(
        &root().join("fixtures/scans/limb-transtibial.stl"),
        Units::Auto,
    )
    .unwrap()
    .mesh;
    let after = load_path(&out_path, Units::Auto).unwrap().mesh;
    let lb = measure::limb(&before, &[], None).unwrap();
    let ratio = |d: f64| {
        use fab_geometry::section;
        let o = lb.distal() + lb.axis() * d;
        section::length(&section::cut(&after, &o, &lb.axis()))
            / section::length(&section::cut(&before, &o, &lb.axis()))
    };
    let r = ratio(20.0);
    assert!((r - 0.96).abs() < 0.002, "{r}");
    // 100 mm up, the tibial-crest relief (a 2 mm build-up along the anterior ridge) adds back
    // some of what the reduction took
    let r = ratio(100.0);
    assert!(r > 0.962 && r < 0.975, "{r}");
}

#[test]
fn bad_prescription_is_refused_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let rx = dir.path().join("broken.rx");
    std::fs::write(
        &rx,
        "rx: foot-orthotic\npatient: MRN-1\npractitioner: X\nheel-cup: 99 mm\n",
    )
    .unwrap();
    let out_path = dir.path().join("o.stl");
    let out = fab()
        .args(["mesh", "modify"])
        .arg(root().join("fixtures/scans/foot-left-m.stl"))
        .arg("--rx")
        .arg(&rx)
        .arg("-o")
        .arg(&out_path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("broken.rx"), "{err}");
    assert!(!out_path.exists());
}

#[test]
fn socket_rx_whose_landmarks_are_far_off_the_scan_is_refused() {
    // the transtibial Rx's landmarks are on the limb scan; on a foot scan they lie 160-290 mm
    // off the surface: the modifications would touch nothing, so the Rx is not for this scan
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("socket.stl");
    let out = modify("foot-left-m.stl", "transtibial-ptb.rx", &out_path);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("off the scan's surface") && err.contains("landmark"),
        "{err}"
    );
    assert_eq!(err.lines().filter(|l| l.starts_with("error:")).count(), 1);
    assert!(!out_path.exists());
}

#[test]
fn output_directory_is_created_like_fab_plan_does() {
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("out/socket.stl");
    let out = modify("limb-transtibial.stl", "transtibial-ptb.rx", &out_path);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let m = load_path(&out_path, Units::Mm).unwrap().mesh;
    assert!(m.triangles.len() > 10_000);
}

#[test]
fn unwritable_output_names_the_path_and_its_cause_once() {
    let dir = tempfile::tempdir().unwrap();
    // a directory given as the output file
    let out = modify("limb-transtibial.stl", "transtibial-ptb.rx", dir.path());
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&*dir.path().to_string_lossy()), "{err}");
    // refused before any work, as a folder, once
    assert_eq!(err.matches("is a folder").count(), 1, "{err}");
    assert!(dir.path().is_dir());
}

/// With an EVA Rx (its material row mills the orthosis), the output is the orthosis itself,
/// closed, standing on Z = 0, and the summary measures it: the metatarsal extension's length, the
/// least thickness the shell asks.
#[test]
fn an_eva_rx_writes_the_orthosis_and_measures_it() {
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("meta.stl");
    let out = modify("foot-left-m.stl", "eva-left-metatarsal.rx", &out_path);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["kind"], "orthosis");
    assert!(v["watertight"].as_bool().unwrap());
    let f = v["device"]["length_fraction"].as_f64().unwrap();
    assert!((0.55..=0.72).contains(&f), "metatarsal: {f}");
    let m = load_path(&out_path, Units::Mm).unwrap().mesh;
    let (lo, hi) = m.bounds().unwrap();
    assert!(lo.z.abs() < 1e-4, "bottom at {}", lo.z);
    let thinnest = m
        .vertices
        .iter()
        .map(|p| p.z)
        .filter(|&z| z > 1e-4)
        .fold(f64::INFINITY, f64::min);
    assert!((thinnest - 6.0).abs() < 1e-3, "thinnest {thinnest}");
    assert!((v["device"]["least_thickness_mm"].as_f64().unwrap() - 6.0).abs() < 1e-6);
    assert!(hi.z > 15.0, "the heel cup rises: top {}", hi.z);
    assert!(topology::report(&m).watertight);
}
