//! `fab plan --rx` and `--job`: the work order's modifications reach the design, the program
//! and design are attached to the job with their SHA-256, no file carries the patient
//! reference, and a job past designing is refused before anything is written.

use assert_cmd::Command;
use sha2::{Digest, Sha256};

mod lab;

/// `fab` outside any job database (plan with --rx).
fn fab_bare() -> Command {
    let mut c = Command::cargo_bin("fab").unwrap();
    c.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .env_remove("FAB_DB")
        .env_remove("FAB_TOKEN")
        .env_remove("FAB_USER");
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

fn hex(b: &[u8]) -> String {
    Sha256::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

const RX: &str = "fixtures/rx/foot-bilateral.rx";

/// A lab with a tech (ana) and a prosthetist (pat), and a job from the bilateral Rx.
fn new_job() -> (lab::Lab, String) {
    let lab = lab::Lab::new(&[("ana", "tech"), ("pat", "prosthetist")]);
    let job = ok(lab.fab("ana").args(["job", "new", "--rx", RX]))
        .trim()
        .to_string();
    (lab, job)
}

#[test]
fn a_job_gets_its_program_and_design_attached_and_no_file_names_the_patient() {
    let (lab, job) = new_job();
    let out_dir = lab.dir.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let nc = out_dir.join(format!("{job}.nc"));
    let v: serde_json::Value = serde_json::from_str(&ok(lab
        .fab("ana")
        .args([
            "plan",
            "fixtures/scans/foot-left-m.stl",
            "--job",
            &job,
            "--json",
            "-o",
        ])
        .arg(&nc)))
    .unwrap();
    assert_eq!(v["job"], job.as_str());
    // the prescription's left-foot modifications are in the design
    let part = v["part"].as_str().unwrap();
    for m in ["arch fill", "met pad", "rearfoot post"] {
        assert!(part.contains(m), "{part}");
    }
    let program = std::fs::read(&nc).unwrap();
    let design = std::fs::read(out_dir.join(format!("{job}-design.stl"))).unwrap();
    assert!(String::from_utf8_lossy(&program).contains(&format!("(JOB {job})")));

    let shown: serde_json::Value =
        serde_json::from_str(&ok(lab.fab("ana").args(["job", "show", &job, "--json"]))).unwrap();
    let files = shown["job"]["files"].as_array().unwrap();
    let find = |kind: &str| {
        files
            .iter()
            .find(|f| f["kind"] == kind)
            .unwrap_or_else(|| panic!("no {kind} in {files:?}"))
    };
    assert_eq!(find("program")["sha256"], hex(&program).as_str());
    assert_eq!(find("design")["sha256"], hex(&design).as_str());
    assert_eq!(find("program")["attached_by"], "ana");
    // the scan was not attached to the job: plan attached it, with its SHA-256, and each output
    // names the scan it came from and the foot it is for
    let scan = hex(&std::fs::read("fixtures/scans/foot-left-m.stl").unwrap());
    assert_eq!(find("scan")["sha256"], scan.as_str());
    assert_eq!(v["scan_sha256"], scan.as_str());
    for kind in ["program", "design"] {
        assert_eq!(find(kind)["scan_sha256"], scan.as_str());
        assert_eq!(find(kind)["side"], "left");
    }

    // the right foot too; then the approval signs both feet's program and design
    let right = out_dir.join(format!("{job}-right.nc"));
    ok(lab
        .fab("ana")
        .args([
            "plan",
            "fixtures/scans/foot-right-m.stl",
            "--job",
            &job,
            "-o",
        ])
        .arg(&right));
    lab.ok("ana", &["job", "advance", &job, "--to", "designing"]);
    lab.ok("ana", &["job", "advance", &job, "--to", "review"]);
    let out = lab.approve("pat", &job);
    assert!(out.contains("4 signed"), "{out}");
    for p in [&nc, &right] {
        lab.ok("ana", &["job", "verify", &job, p.to_str().unwrap()]);
    }
    let shown: serde_json::Value =
        serde_json::from_str(&lab.ok("ana", &["job", "show", &job, "--json"])).unwrap();
    let scans = shown["job"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "scan")
        .count();
    assert_eq!(scans, 2, "each scan attached once");
    lab.ok("ana", &["job", "audit", &job]);

    // the patient reference stays in the database: in no file written, nor in their names
    let rx = std::fs::read_to_string(RX).unwrap();
    let patient = rx
        .lines()
        .find_map(|l| l.strip_prefix("patient:"))
        .unwrap()
        .trim()
        .to_string();
    for e in std::fs::read_dir(&out_dir).unwrap() {
        let e = e.unwrap();
        assert!(!e.file_name().to_string_lossy().contains(&patient));
        let bytes = std::fs::read(e.path()).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains(&patient),
            "{} names the patient",
            e.path().display()
        );
    }
}

#[test]
fn a_job_in_review_is_refused_before_anything_is_written() {
    let (lab, job) = new_job();
    lab.ok("ana", &["job", "advance", &job, "--to", "designing"]);
    lab.ok("ana", &["job", "advance", &job, "--to", "review"]);
    let out_dir = lab.dir.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    // without a session nothing is read, planned or written
    let out = lab
        .bare()
        .args([
            "plan",
            "fixtures/scans/foot-left-m.stl",
            "--job",
            &job,
            "-o",
        ])
        .arg(out_dir.join("x.nc"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not logged in"));
    assert!(std::fs::read_dir(&out_dir).unwrap().next().is_none());
    let out = lab
        .fab("ana")
        .args([
            "plan",
            "fixtures/scans/foot-left-m.stl",
            "--job",
            &job,
            "-o",
        ])
        .arg(out_dir.join("x.nc"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("review"));
    assert!(std::fs::read_dir(&out_dir).unwrap().next().is_none());
}

#[test]
fn an_rx_for_the_other_foot_or_a_socket_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let nc = dir.path().join("x.nc");
    let out = fab_bare()
        .args([
            "plan",
            "fixtures/scans/foot-left-m.stl",
            "--rx",
            "fixtures/rx/transtibial-ptb.rx",
            "-o",
        ])
        .arg(&nc)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    // a socket Rx needs a residual limb scan: this one is a foot
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("socket") && err.contains("foot") && err.contains("limb"),
        "{err}"
    );
    assert!(!nc.exists());
    let out = fab_bare()
        .args([
            "plan",
            "fixtures/scans/foot-right-m.stl",
            "--rx",
            "fixtures/rx/foot-left-eva.rx",
            "-o",
        ])
        .arg(&nc)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("right foot") && err.contains("left"), "{err}");
    assert!(!nc.exists());
}
