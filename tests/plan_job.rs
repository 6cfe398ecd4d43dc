//! `fab plan --rx` and `--job`: the work order's modifications reach the design, the program
//! and design are attached to the job with their SHA-256, no file carries the patient
//! reference, and a job past designing is refused before anything is written.

use std::path::Path;

use assert_cmd::Command;
use sha2::{Digest, Sha256};

fn fab(db: &Path) -> Command {
    let mut c = Command::cargo_bin("fab").unwrap();
    c.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .env("FAB_DB", db)
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

fn new_job(db: &Path) -> String {
    ok(fab(db).args(["user", "add", "boss", "--role", "admin"]));
    ok(fab(db).args(["user", "add", "ana", "--role", "tech", "--as", "boss"]));
    ok(fab(db).args(["job", "new", "--rx", RX, "--as", "ana"]))
        .trim()
        .to_string()
}

#[test]
fn a_job_gets_its_program_and_design_attached_and_no_file_names_the_patient() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("jobs.db");
    let job = new_job(&db);
    let out_dir = dir.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let nc = out_dir.join(format!("{job}.nc"));
    let v: serde_json::Value = serde_json::from_str(&ok(fab(&db)
        .args([
            "plan",
            "fixtures/scans/foot-left-m.stl",
            "--job",
            &job,
            "--as",
            "ana",
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
        serde_json::from_str(&ok(fab(&db).args(["job", "show", &job, "--json"]))).unwrap();
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
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("jobs.db");
    let job = new_job(&db);
    ok(fab(&db).args(["job", "advance", &job, "--to", "designing", "--as", "ana"]));
    ok(fab(&db).args(["job", "advance", &job, "--to", "review", "--as", "ana"]));
    let out_dir = dir.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let out = fab(&db)
        .args([
            "plan",
            "fixtures/scans/foot-left-m.stl",
            "--job",
            &job,
            "--as",
            "ana",
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
    let db = dir.path().join("jobs.db");
    let nc = dir.path().join("x.nc");
    let out = fab(&db)
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
    assert!(String::from_utf8_lossy(&out.stderr).contains("foot orthosis"));
    assert!(!nc.exists());
    let out = fab(&db)
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
