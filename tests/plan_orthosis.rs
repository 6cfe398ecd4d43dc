//! Orthoses milled directly (`fab plan` with a material row that mills the orthosis, EVA): on
//! both fixture feet and on the left foot mirrored into a right one (a foot no fixture is), the
//! device written to OUT-design.stl, measured there, is what the Rx asks: its length for the
//! extension, the heel cup's rim, the rearfoot post's tilt, the least thickness. A single device
//! and a nested pair pass carve-check (`../shared/tools/carve-check`: LinuxCNC's interpreter and a
//! height-map carve), and the pair's program runs in at most 24 minutes by fab's estimate. The
//! left foot turned and moved (in metres) or noisy gives the device the fixture gives.

use std::path::{Path, PathBuf};
use std::process::Command;

use fab_geometry::device::measure;
use fab_geometry::load::{Units, load_path};
use fab_geometry::orient::FootSide;
use fab_geometry::{Mesh, stl};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const LEFT: &str = "fixtures/scans/foot-left-m.stl";
const RIGHT: &str = "fixtures/scans/foot-right-m.stl";

/// An EVA Rx for one foot, from its keys.
fn rx(dir: &Path, name: &str, side: &str, keys: &[(&str, &str)]) -> PathBuf {
    let mut text = format!(
        "rx: foot-orthotic\npatient: MRN-000001\npractitioner: A. Test, CO\ndate: 2026-12-07\nside: {side}\nshell: eva 6 mm\n"
    );
    for (k, v) in keys {
        text.push_str(&format!("{k}: {v}\n"));
    }
    let p = dir.join(format!("{name}.rx"));
    std::fs::write(&p, text).unwrap();
    p
}

/// `fab plan SCANS --rx RX --json -o DIR/NAME.nc`: the summary.
fn plan(scans: &[&Path], rx: &Path, dir: &Path, name: &str) -> serde_json::Value {
    let nc = dir.join(format!("{name}.nc"));
    let out = Command::new(env!("CARGO_BIN_EXE_fab"))
        .arg("plan")
        .args(scans)
        .arg("--rx")
        .arg(rx)
        .args(["--json", "-o"])
        .arg(&nc)
        .current_dir(ROOT)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "fab plan {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The left fixture foot mirrored (x -> -x) into a right foot, in mm.
fn mirrored_left(dir: &Path) -> PathBuf {
    let mut m = load_path(&Path::new(ROOT).join(LEFT), Units::Auto)
        .unwrap()
        .mesh;
    for v in &mut m.vertices {
        v.x = -v.x;
    }
    for t in &mut m.triangles {
        t.swap(1, 2);
    }
    let p = dir.join("mirrored-left-mm.stl");
    std::fs::write(&p, stl::to_binary(&m)).unwrap();
    p
}

/// Each device of a plan measured on the design STL it wrote: its triangles (those inside the
/// device's extent), with its heel-to-toe direction, side and foot length from the summary.
fn measured(v: &serde_json::Value) -> Vec<(FootSide, measure::DeviceMeasurements)> {
    let design = load_path(
        Path::new(v["outputs"]["design"].as_str().unwrap()),
        Units::Mm,
    )
    .unwrap()
    .mesh;
    v["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let e: Vec<f64> = serde_json::from_value(d["extent_mm"].clone()).unwrap();
            let inside = |p: &fab_geometry::nalgebra::Point3<f64>| {
                p.x >= e[0] - 0.01 && p.x <= e[2] + 0.01 && p.y >= e[1] - 0.01 && p.y <= e[3] + 0.01
            };
            let tris: Vec<[u32; 3]> = design
                .triangles
                .iter()
                .copied()
                .filter(|t| t.iter().all(|&k| inside(&design.vertices[k as usize])))
                .collect();
            let part = Mesh::new(design.vertices.clone(), tris);
            let side = if d["side"] == "left" {
                FootSide::Left
            } else {
                FootSide::Right
            };
            let toe: Vec<f64> = serde_json::from_value(d["toe_direction"].clone()).unwrap();
            let m = measure::measure(
                &part,
                side,
                [toe[0], toe[1]],
                d["foot_length_mm"].as_f64().unwrap(),
            );
            // the summary reports the same measurement
            let said = d["measured"]["length_mm"].as_f64().unwrap();
            assert!(
                (said - m.length_mm).abs() < 0.01,
                "{said} vs {}",
                m.length_mm
            );
            (side, m)
        })
        .collect()
}

/// The feet tested: both fixtures and the mirrored left (a right foot), with the Rx side.
fn feet(dir: &Path) -> Vec<(String, PathBuf, &'static str)> {
    vec![
        ("left".into(), Path::new(ROOT).join(LEFT), "left"),
        ("right".into(), Path::new(ROOT).join(RIGHT), "right"),
        ("mirrored left".into(), mirrored_left(dir), "right"),
    ]
}

#[test]
fn extension_heel_cup_posts_and_thickness_measured_on_the_written_design() {
    let dir = tempfile::tempdir().unwrap();
    for (name, scan, side) in feet(dir.path()) {
        let stem = name.replace(' ', "-");
        let one = |tag: &str, keys: &[(&str, &str)]| {
            let r = rx(dir.path(), &format!("{stem}-{tag}"), side, keys);
            let v = plan(&[&scan], &r, dir.path(), &format!("{stem}-{tag}"));
            assert!(
                v["part"]
                    .as_str()
                    .unwrap()
                    .contains("orthosis, milled directly"),
                "{}",
                v["part"]
            );
            let m = measured(&v);
            assert_eq!(m.len(), 1);
            assert!(
                m[0].1.least_thickness_mm >= 6.0 - 1e-3,
                "{name} {tag}: thinnest {}",
                m[0].1.least_thickness_mm
            );
            m[0].1
        };
        let sulcus_varus = one(
            "sulcus-varus",
            &[
                ("extension", "sulcus"),
                ("heel-cup", "10 mm"),
                ("rearfoot-post", "4 deg varus"),
            ],
        );
        let toes_valgus = one(
            "toes-valgus",
            &[
                ("extension", "toes"),
                ("heel-cup", "10 mm"),
                ("rearfoot-post", "4 deg valgus"),
            ],
        );
        let cup10 = one("cup10", &[("extension", "sulcus"), ("heel-cup", "10 mm")]);
        let cup20 = one("cup20", &[("extension", "sulcus"), ("heel-cup", "20 mm")]);
        let f = sulcus_varus.length_fraction;
        assert!(
            (0.72..=0.88).contains(&f),
            "{name}: sulcus {f:.3} of the foot"
        );
        let f = toes_valgus.length_fraction;
        assert!(
            (0.93..=1.04).contains(&f),
            "{name}: toes {f:.3} of the foot"
        );
        let rise = cup20.heel_rim_mm - cup10.heel_rim_mm;
        assert!(
            (rise - 10.0).abs() <= 1.5,
            "{name}: the 20 mm cup's rim {rise:.2} mm higher"
        );
        let (v, g, n) = (
            sulcus_varus.rearfoot_tilt_deg,
            toes_valgus.rearfoot_tilt_deg,
            cup10.rearfoot_tilt_deg,
        );
        assert!(
            (v - g - 8.0).abs() <= 1.0,
            "{name}: varus {v:.2}, valgus {g:.2}"
        );
        assert!(
            g < n && n < v,
            "{name}: unposted {n:.2} not between {g:.2} and {v:.2}"
        );
    }
}

/// The left fixture foot as another scanner might hand it over: turned 37 degrees about a skew
/// axis and moved off the origin, still in metres (`turned`); or with every vertex moved up to
/// 0.1 mm along each axis, in mm (`noisy`).
fn left_variant(dir: &Path, how: &str) -> PathBuf {
    use fab_geometry::nalgebra::{Rotation3, Unit, Vector3};
    let mut m = load_path(&Path::new(ROOT).join(LEFT), Units::Auto)
        .unwrap()
        .mesh;
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut noise = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64 * 0.2 - 0.1
    };
    let turn = Rotation3::from_axis_angle(
        &Unit::new_normalize(Vector3::new(0.3, 0.2, 1.0)),
        37f64.to_radians(),
    );
    for v in &mut m.vertices {
        *v = match how {
            "turned" => (turn * *v + Vector3::new(120.0, -50.0, 300.0)) / 1000.0,
            _ => *v + Vector3::new(noise(), noise(), noise()),
        };
    }
    let p = dir.join(format!("left-{how}.stl"));
    std::fs::write(&p, stl::to_binary(&m)).unwrap();
    p
}

/// A scan in another pose and units, or with scanner noise, gives the device the fixture gives:
/// the same length, heel cup, rearfoot tilt and least thickness, measured on the design.
#[test]
fn a_turned_rescaled_or_noisy_scan_gives_the_same_device() {
    let dir = tempfile::tempdir().unwrap();
    let r = Path::new(ROOT).join("fixtures/rx/foot-left-eva.rx");
    let device = |scan: &Path, name: &str| {
        let v = plan(&[scan], &r, dir.path(), name);
        let m = measured(&v);
        assert_eq!(m.len(), 1, "{name}");
        assert_eq!(m[0].0, FootSide::Left, "{name}");
        m[0].1
    };
    let fixture = device(&Path::new(ROOT).join(LEFT), "fixture");
    for how in ["turned", "noisy"] {
        let d = device(&left_variant(dir.path(), how), how);
        assert!(
            (d.length_mm - fixture.length_mm).abs() <= 1.0,
            "{how}: {} mm long, the fixture's {}",
            d.length_mm,
            fixture.length_mm
        );
        assert!(
            (d.heel_rim_mm - fixture.heel_rim_mm).abs() <= 0.5,
            "{how}: heel rim {}, the fixture's {}",
            d.heel_rim_mm,
            fixture.heel_rim_mm
        );
        assert!(
            (d.rearfoot_tilt_deg - fixture.rearfoot_tilt_deg).abs() <= 0.5,
            "{how}: rearfoot {} deg, the fixture's {}",
            d.rearfoot_tilt_deg,
            fixture.rearfoot_tilt_deg
        );
        assert!(
            d.least_thickness_mm >= 6.0 - 1e-3,
            "{how}: thinnest {}",
            d.least_thickness_mm
        );
    }
}

#[test]
fn the_work_order_and_sheet_say_milled_directly() {
    let dir = tempfile::tempdir().unwrap();
    let r = Path::new(ROOT).join("fixtures/rx/eva-left-metatarsal.rx");
    let v = plan(&[&Path::new(ROOT).join(LEFT)], &r, dir.path(), "meta");
    let sheet = std::fs::read_to_string(v["outputs"]["setup_sheet"].as_str().unwrap()).unwrap();
    assert!(sheet.contains("orthosis, milled directly from EVA block"));
    assert!(sheet.contains("foot side up"));
    assert!(!sheet.contains("MRN"));
    let m = measured(&v);
    let f = m[0].1.length_fraction;
    assert!(
        (0.55..=0.72).contains(&f),
        "metatarsal length {f:.3} of the foot"
    );
    let program = std::fs::read_to_string(v["outputs"]["program"][0].as_str().unwrap()).unwrap();
    assert!(program.contains("(NOTE orthosis, milled directly"));
    assert!(!program.contains("MRN"));
    // the work order says so too
    let out = Command::new(env!("CARGO_BIN_EXE_fab"))
        .args(["rx", "order", "fixtures/rx/eva-left-metatarsal.rx"])
        .current_dir(ROOT)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("mill the orthosis directly"), "{text}");
    assert!(!text.contains("over the positive"), "{text}");
}

#[test]
fn two_scans_are_one_left_one_right_for_a_direct_milled_pair_only() {
    let dir = tempfile::tempdir().unwrap();
    let both = Path::new(ROOT).join("fixtures/rx/eva-pair-sulcus-varus.rx");
    let fail = |args: &[&str], rx: &Path, want: &str| {
        let nc = dir.path().join("x.nc");
        let out = Command::new(env!("CARGO_BIN_EXE_fab"))
            .arg("plan")
            .args(args)
            .arg("--rx")
            .arg(rx)
            .arg("-o")
            .arg(&nc)
            .current_dir(ROOT)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(want), "{err}");
        assert!(!nc.exists());
    };
    fail(&[LEFT, LEFT], &both, "both left feet");
    fail(
        &[LEFT, RIGHT],
        &Path::new(ROOT).join("fixtures/rx/foot-bilateral.rx"),
        "only for a pair of orthoses milled directly",
    );
    fail(
        &[RIGHT],
        &Path::new(ROOT).join("fixtures/rx/eva-left-metatarsal.rx"),
        "right foot but the prescription is for the left",
    );
}

fn carve_check(nc: &Path, design: &Path) -> serde_json::Value {
    let cc = Path::new(ROOT).join("../shared/tools/carve-check");
    assert!(cc.exists(), "carve-check not found at {}", cc.display());
    // the blank's top is Z0, a millimetre over the design's highest point
    let out = Command::new(cc)
        .arg(nc)
        .arg(design)
        .args(["--json", "--stock-top", "0"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().last().unwrap_or_default();
    serde_json::from_str(line).unwrap_or_else(|e| {
        panic!(
            "carve-check: {e}\nstdout: {text}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn assert_carves(what: &str, c: &serde_json::Value) {
    eprintln!("{what}: {c}");
    assert_eq!(
        c["interpreter_errors"].as_array().map(Vec::len),
        Some(0),
        "{what}: {c}"
    );
    let f = |k: &str| {
        c[k].as_f64()
            .unwrap_or_else(|| panic!("{what}: no {k} in {c}"))
    };
    assert!(f("gouge") <= 0.02, "{what}: gouge {}", f("gouge"));
    assert!(
        f("path_MRE").abs() <= 0.05,
        "{what}: path MRE {}",
        f("path_MRE")
    );
    assert!(f("path_IQR") <= 0.10, "{what}: path IQR {}", f("path_IQR"));
    assert_eq!(c["uncut"].as_u64(), Some(0), "{what}: uncut");
    assert_eq!(
        c["rapid_in_stock_samples"].as_u64(),
        Some(0),
        "{what}: rapids in stock"
    );
}

/// One device and a nested pair through carve-check; the pair in at most 24 minutes. Both run
/// in one test, one carve-check at a time (concurrent rs274 processes share LinuxCNC's state).
#[test]
fn a_device_and_a_nested_pair_pass_carve_check() {
    let dir = tempfile::tempdir().unwrap();
    let single = plan(
        &[&Path::new(ROOT).join(RIGHT)],
        &Path::new(ROOT).join("fixtures/rx/eva-right-toes-valgus.rx"),
        dir.path(),
        "single",
    );
    let pair = plan(
        &[&Path::new(ROOT).join(LEFT), &Path::new(ROOT).join(RIGHT)],
        &Path::new(ROOT).join("fixtures/rx/eva-pair-sulcus-varus.rx"),
        dir.path(),
        "pair",
    );
    assert_eq!(pair["devices"].as_array().unwrap().len(), 2);
    let est = pair["estimated_run_time_s"].as_f64().unwrap();
    assert!(est <= 24.0 * 60.0, "the pair takes {:.1} min", est / 60.0);
    for (what, v) in [("single", &single), ("pair", &pair)] {
        let nc = PathBuf::from(v["outputs"]["program"][0].as_str().unwrap());
        let design = PathBuf::from(v["outputs"]["design"].as_str().unwrap());
        assert_carves(what, &carve_check(&nc, &design));
    }
}

mod lab;

/// A bilateral EVA job with both scans attached: `fab plan --job J` (no scan named) plans the
/// pair nested in one program from the job's scans, attaches program and design as the pair's,
/// and the approval signs that one program and design (both feet's).
#[test]
fn a_bilateral_job_plans_its_pair_from_its_scans_and_signs_it_once() {
    let lab = lab::Lab::new(&[("ana", "tech"), ("pat", "prosthetist")]);
    let job = lab
        .ok(
            "ana",
            &[
                "job",
                "new",
                "--rx",
                "fixtures/rx/eva-pair-sulcus-varus.rx",
                "--scan",
                LEFT,
                "--scan",
                RIGHT,
            ],
        )
        .trim()
        .to_string();
    let nc = lab.dir.path().join(format!("{job}.nc"));
    let v: serde_json::Value = serde_json::from_str(&lab.ok(
        "ana",
        &["plan", "--job", &job, "--json", "-o", nc.to_str().unwrap()],
    ))
    .unwrap();
    assert_eq!(v["devices"].as_array().unwrap().len(), 2);
    assert!(v["part"].as_str().unwrap().contains("nested on one blank"));
    let shown: serde_json::Value =
        serde_json::from_str(&lab.ok("ana", &["job", "show", &job, "--json"])).unwrap();
    let files = shown["job"]["files"].as_array().unwrap();
    assert_eq!(files.iter().filter(|f| f["kind"] == "scan").count(), 2);
    let program = files.iter().find(|f| f["kind"] == "program").unwrap();
    assert_eq!(program["side"], "pair");
    assert_eq!(
        program["scan_sha256"].as_str().unwrap().split(',').count(),
        2,
        "the program records both scans"
    );
    lab.ok("ana", &["job", "advance", &job, "--to", "designing"]);
    lab.ok("ana", &["job", "advance", &job, "--to", "review"]);
    let out = lab.approve("pat", &job);
    assert!(out.contains("2 signed"), "{out}");
    lab.ok("ana", &["job", "verify", &job, nc.to_str().unwrap()]);
    lab.ok("ana", &["job", "audit", &job]);
}
