//! `fab mesh info` on every fixture scan, as text and JSON, and on bad input.

use std::path::PathBuf;

use assert_cmd::Command;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/scans")
        .join(name)
}

fn fab() -> Command {
    let mut c = Command::cargo_bin("fab").unwrap();
    c.env("NO_COLOR", "1");
    c
}

fn info_json(name: &str) -> serde_json::Value {
    let out = fab()
        .args(["mesh", "info", "--json"])
        .arg(fixture(name))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn feet_in_metres_are_found_left_and_right_and_measured() {
    for (name, side) in [("foot-left-m.stl", "left"), ("foot-right-m.stl", "right")] {
        let v = info_json(name);
        assert_eq!(v["load"]["units"]["units"], "m", "{name}");
        assert_eq!(v["kind"], "foot");
        assert_eq!(v["topology"]["watertight"], true);
        assert_eq!(v["foot"]["side"], side, "{name}");
        let m = &v["foot"]["measurements"];
        let length = m["length"].as_f64().unwrap();
        assert!((250.0..290.0).contains(&length), "{name}: {length}");
        assert!(m["outline"].as_array().unwrap().len() > 100);
    }
}

#[test]
fn limb_is_measured_as_a_limb() {
    let v = info_json("limb-transtibial.stl");
    assert_eq!(v["load"]["units"]["units"], "mm");
    assert_eq!(v["kind"], "limb");
    assert_eq!(v["topology"]["watertight"], false);
    assert_eq!(v["topology"]["holes"].as_array().unwrap().len(), 1);
    let l = &v["limb"];
    assert!(l["volume"].as_f64().unwrap() > 0.7e6);
    assert!(l["circumferences"].as_array().unwrap().len() >= 10);
}

#[test]
fn text_output_is_readable() {
    let out = fab()
        .args(["mesh", "info"])
        .arg(fixture("foot-left-m.stl"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for want in [
        "units: m (x1000 to mm)",
        "watertight",
        "foot: left",
        "ball width",
        "arch height",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
    let out = fab()
        .args(["mesh", "info", "--at", "50,100,150"])
        .arg(fixture("limb-transtibial.stl"))
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("residual limb") && text.contains("  100.0:"),
        "{text}"
    );
}

#[test]
fn units_given_by_hand_are_used_and_questioned() {
    let out = fab()
        .args(["mesh", "info", "--json", "--units", "mm", "--kind", "limb"])
        .arg(fixture("limb-transtibial.stl"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["load"]["units"]["reason"], "--units mm was given");
}

fn refused(bytes: &[u8], want: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scan-under-test.stl");
    std::fs::write(&path, bytes).unwrap();
    let out = fab().args(["mesh", "info"]).arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("scan-under-test.stl"), "names the file: {err}");
    assert!(err.contains(want), "says {want:?}: {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn empty_file_is_refused() {
    refused(b"", "empty");
}

#[test]
fn four_billion_triangle_header_is_refused() {
    let mut b = vec![0u8; 84 + 50];
    b[80..84].copy_from_slice(&u32::MAX.to_le_bytes());
    refused(&b, "promises 4294967295 triangles");
}

#[test]
fn not_an_stl_is_refused() {
    refused(b"OFF\n3 1 0\n", "neither STL flavour");
}

#[test]
fn missing_file_is_refused() {
    let out = fab()
        .args(["mesh", "info", "/nonexistent/dir/scan.stl"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/dir/scan.stl"));
}

#[test]
fn usage_errors_exit_2() {
    fab().args(["mesh", "info"]).assert().code(2);
    fab()
        .args(["mesh", "info", "--units", "furlong"])
        .arg(fixture("foot-left-m.stl"))
        .assert()
        .code(2);
    fab().args(["mesh", "info", "--help"]).assert().success();
}

#[test]
fn limb_anterior_can_be_fixed_by_a_landmark() {
    let out = fab()
        .args(["mesh", "info", "--json", "--anterior", "-2.85,49.24,-88.93"])
        .arg(fixture("limb-transtibial.stl"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let a: Vec<f64> = v["limb"]["anterior"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    assert!(
        a[1] > 0.95,
        "anterior toward +Y as the landmark says: {a:?}"
    );
    assert_eq!(v["limb"]["anterior_from"], "the landmark given");
}

#[test]
fn directory_given_as_scan_names_it_and_the_cause_once() {
    let dir = tempfile::tempdir().unwrap();
    let out = fab()
        .args(["mesh", "info"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&*dir.path().to_string_lossy()), "{err}");
    assert_eq!(err.matches("Is a directory").count(), 1, "{err}");
}

#[test]
fn obj_or_ply_that_is_not_one_gets_an_error_about_that_format_not_stl() {
    let dir = tempfile::tempdir().unwrap();
    // a damaged export: the name says OBJ/PLY, the content is not recognisably either
    for (name, bytes, want) in [
        ("scan.obj", &b"#exported\nvv 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"[..], "OBJ"),
        ("scan.ply", &b"PLY-ish junk, 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"[..], "PLY"),
    ] {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        let out = fab().args(["mesh", "info"]).arg(&p).output().unwrap();
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(name) && err.contains(want), "{err}");
        assert!(!err.contains("STL"), "{err}");
    }
    // the content still decides when it is recognisable: a binary STL named .obj loads
    let p = dir.path().join("foot.obj");
    std::fs::copy(fixture("foot-left-m.stl"), &p).unwrap();
    fab().args(["mesh", "info"]).arg(&p).assert().success();
}

/// A closed tetrahedron of side 10 mm as binary STL: a valid mesh that is no body part.
fn tetrahedron_stl() -> Vec<u8> {
    let p = [
        [0.0f32, 0.0, 0.0],
        [10.0, 0.0, 0.0],
        [0.0, 10.0, 0.0],
        [0.0, 0.0, 10.0],
    ];
    let tris = [[0, 2, 1], [0, 1, 3], [0, 3, 2], [1, 2, 3]];
    let mut b = vec![0u8; 80];
    b.extend((tris.len() as u32).to_le_bytes());
    for t in tris {
        b.extend([0u8; 12]);
        for v in t {
            for c in p[v] {
                b.extend(c.to_le_bytes());
            }
        }
        b.extend([0u8; 2]);
    }
    b
}

#[test]
fn a_mesh_that_is_no_body_part_still_gets_its_report() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tet.stl");
    std::fs::write(&path, tetrahedron_stl()).unwrap();
    // Guessing the kind: the load and topology report, and why there are no measurements.
    let o = fab()
        .args(["mesh", "info", "--units", "mm", "--json"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["kind"], "unrecognised");
    assert_eq!(v["topology"]["triangles"], 4);
    assert_eq!(v["topology"]["watertight"], true);
    assert!(v["not_analysed"].as_str().unwrap().contains("foot"), "{v}");
    assert!(v.get("foot").is_none() && v.get("limb").is_none());
    // Asked for a foot: an error naming the file, exit 1.
    let o = fab()
        .args(["mesh", "info", "--units", "mm", "--kind", "foot"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("tet.stl") && err.contains("foot"), "{err}");
}
