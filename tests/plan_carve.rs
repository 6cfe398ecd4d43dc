//! Acceptance of `fab plan` by the independent milling checker: on both fixture feet and on two
//! variants no fixture is (the left foot mirrored into a right one, turned 25 degrees and written
//! in millimetres; the right foot a tenth larger, turned, in millimetres), with the default settings (the bundled material row), `../shared/tools/
//! carve-check` (LinuxCNC's interpreter + a height-map carve simulation) must report no
//! interpreter errors, gouge <= 0.02, path MRE <= 0.05, path IQR <= 0.10, IQR <= 0.10, nothing
//! uncut and no rapid through stock; and the router time: at most 10 minutes nominal (every feed
//! at its rate, rapids at 15 m/min) and at most 12 by fab's own estimate (acceleration, tool
//! changes).

use std::path::{Path, PathBuf};
use std::process::Command;

fn carve_check() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/tools/carve-check");
    assert!(
        p.exists(),
        "carve-check not found at {}: CI has ../shared beside the clone",
        p.display()
    );
    p
}

/// Plans `spec` (a scan, then any further arguments of `fab plan`) into `dir`.
fn plan(spec: &str, dir: &Path) -> (PathBuf, PathBuf, f64) {
    let mut words = spec.split_whitespace();
    let scan = words.next().unwrap();
    let extra: Vec<&str> = words.collect();
    let mut stem = Path::new(scan)
        .file_stem()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    if !extra.is_empty() {
        stem.push_str("-rx");
    }
    let nc = dir.join(format!("{stem}.nc"));
    let design = dir.join(format!("{stem}-design.stl"));
    let out = Command::new(env!("CARGO_BIN_EXE_fab"))
        .args(["plan", scan])
        .args(&extra)
        .args(["--json", "-o"])
        .arg(&nc)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "fab plan {scan}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let est = v["estimated_run_time_s"].as_f64().unwrap();
    (nc, design, est)
}

/// The binary STL at `src` (metres), mirrored in X if `mirror`, turned `deg` about Z and written
/// in mm times `scale`.
fn variant(src: &Path, dst: &Path, mirror: bool, deg: f64, scale: f64) {
    let b = std::fs::read(src).unwrap();
    let n = u32::from_le_bytes(b[80..84].try_into().unwrap()) as usize;
    assert_eq!(b.len(), 84 + 50 * n, "a binary STL");
    let (c, s) = (deg.to_radians().cos(), deg.to_radians().sin());
    let mut out = b[..84].to_vec();
    for k in 0..n {
        let rec = &b[84 + 50 * k..84 + 50 * (k + 1)];
        let f = |o: usize| f32::from_le_bytes(rec[o..o + 4].try_into().unwrap()) as f64;
        let mut v = [[0.0; 3]; 3];
        for (i, p) in v.iter_mut().enumerate() {
            let x = if mirror {
                -f(12 + 12 * i)
            } else {
                f(12 + 12 * i)
            };
            let (y, z) = (f(16 + 12 * i), f(20 + 12 * i));
            let k = 1000.0 * scale;
            *p = [k * (c * x - s * y), k * (s * x + c * y), k * z];
        }
        if mirror {
            // the winding turns over: swap two corners to keep the normals outward
            v.swap(1, 2);
        }
        out.extend_from_slice(&[0u8; 12]);
        for p in v {
            for x in p {
                out.extend_from_slice(&(x as f32).to_le_bytes());
            }
        }
        out.extend_from_slice(&[0u8; 2]);
    }
    std::fs::write(dst, out).unwrap();
}

/// carve-check's figures as JSON. Runs one at a time: concurrent `rs274` processes share
/// LinuxCNC's state (tool table) and trip over each other.
fn carve_check_json(scan: &str, nc: &Path, design: &Path) -> serde_json::Value {
    let out = Command::new(carve_check())
        .arg(nc)
        .arg(design)
        .arg("--json")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().last().unwrap_or_default();
    let v: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| {
        panic!(
            "carve-check on {scan}: {e}\nstdout: {text}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    eprintln!("{scan}: {v}");
    v
}

#[test]
fn both_feet_pass_carve_check_with_default_settings() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_path_buf();
    let fixture = |name: &str| Path::new(env!("CARGO_MANIFEST_DIR")).join(name);
    // the left foot mirrored into a right one, turned 25 degrees, in mm; and the right foot
    // a tenth larger (a 300 mm foot, a large man's), turned -10 degrees, in mm
    let turned = d.join("left-mirrored-turned-mm.stl");
    variant(
        &fixture("fixtures/scans/foot-left-m.stl"),
        &turned,
        true,
        25.0,
        1.0,
    );
    let big = d.join("right-larger-turned-mm.stl");
    variant(
        &fixture("fixtures/scans/foot-right-m.stl"),
        &big,
        false,
        -10.0,
        1.1,
    );
    let (turned, big) = (
        turned.to_str().unwrap().to_string(),
        big.to_str().unwrap().to_string(),
    );
    let scans = [
        "fixtures/scans/foot-left-m.stl",
        "fixtures/scans/foot-right-m.stl",
        turned.as_str(),
        big.as_str(),
        // modified as a bilateral Rx asks (arch fill, 4 degrees varus post), for the right foot
        "fixtures/scans/foot-right-m.stl --rx fixtures/rx/foot-bilateral.rx",
    ];
    // plan them all at once, check them one after the other
    let handles: Vec<_> = scans
        .iter()
        .map(|s| {
            let d = d.clone();
            let s = s.to_string();
            std::thread::spawn(move || plan(&s, &d))
        })
        .collect();
    let planned: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    for (scan, (nc, design, est)) in scans.iter().zip(planned) {
        let mut v = carve_check_json(scan, &nc, &design);
        if v["interpreter_errors"] != serde_json::json!([]) {
            // rs274 processes of other test runs on the same machine share LinuxCNC's state and
            // can spoil a run; a real refusal repeats, so ask once more
            v = carve_check_json(scan, &nc, &design);
        }
        let f = |k: &str| {
            v[k].as_f64()
                .unwrap_or_else(|| panic!("{scan}: no {k} in {v}"))
        };
        assert_eq!(
            v["interpreter_errors"],
            serde_json::json!([]),
            "{scan}: {v}"
        );
        assert!(f("gouge") <= 0.02, "{scan}: gouge {}", f("gouge"));
        assert!(f("path_MRE") <= 0.05, "{scan}: path_MRE {}", f("path_MRE"));
        assert!(f("path_IQR") <= 0.10, "{scan}: path_IQR {}", f("path_IQR"));
        assert!(f("IQR") <= 0.10, "{scan}: IQR {}", f("IQR"));
        // router time: 10 minutes nominal, 12 by fab's estimate
        assert!(
            f("run_time_s") <= 600.0,
            "{scan}: nominal {} s",
            f("run_time_s")
        );
        assert!(est <= 720.0, "{scan}: estimated {est} s");
        assert_eq!(v["uncut"], 0, "{scan}: {v}");
        assert_eq!(v["rapid_in_stock_samples"], 0, "{scan}: {v}");
        // the comparison covered the part: hundreds of thousands of 0.25 mm cells
        assert!(f("cells_compared") > 300_000.0, "{scan}: {v}");
        // the finishing tool carve-check judged is the 6 mm ball
        assert_eq!(
            v["tools"][v["finish_tool"].to_string()],
            serde_json::json!(["BALL", 6.0, 0.0])
        );
    }
}
