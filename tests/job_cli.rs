//! `fab user` and `fab job` end to end on a temporary database.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

struct Lab {
    _dir: tempfile::TempDir,
    db: PathBuf,
}

impl Lab {
    fn new() -> Lab {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("jobs.db");
        let lab = Lab { _dir: dir, db };
        lab.ok(&["user", "add", "ada", "--role", "admin"], None);
        lab.ok(&["user", "add", "tom", "--role", "tech"], Some("ada"));
        lab.ok(
            &["user", "add", "pat", "--role", "prosthetist"],
            Some("ada"),
        );
        lab.ok(&["user", "add", "oli", "--role", "operator"], Some("ada"));
        lab
    }

    /// `fab` on this lab's database (through FAB_DB), acting as `who` (through FAB_USER).
    fn fab(&self, who: Option<&str>) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_fab"));
        c.env("FAB_DB", &self.db).env_remove("FAB_TABLES");
        match who {
            Some(w) => c.env("FAB_USER", w),
            None => c.env_remove("FAB_USER"),
        };
        c
    }

    fn run(&self, args: &[&str], who: Option<&str>) -> std::process::Output {
        self.fab(who).args(args).output().unwrap()
    }

    fn ok(&self, args: &[&str], who: Option<&str>) -> String {
        let o = self.run(args, who);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(0), "fab {args:?}: {err}");
        String::from_utf8(o.stdout).unwrap()
    }

    /// Runs a command that must be refused: exit 1, one clear `error:` line, no panic.
    fn refused(&self, args: &[&str], who: Option<&str>) -> String {
        let o = self.run(args, who);
        let err = String::from_utf8(o.stderr).unwrap();
        assert_eq!(
            o.status.code(),
            Some(1),
            "fab {args:?} should be refused: {err}"
        );
        assert!(err.starts_with("error: "), "{err}");
        assert!(
            !err.contains("panicked") && !err.contains("database is locked"),
            "{err}"
        );
        assert!(o.stdout.is_empty(), "a refusal prints no result");
        err.lines().next().unwrap().to_string()
    }

    /// Creates a job from `rx` as `who`; returns its number.
    fn new_job(&self, rx: &str, who: &str) -> String {
        self.ok(&["job", "new", "--rx", rx], Some(who))
            .trim()
            .to_string()
    }

    fn history(&self, job: &str) -> serde_json::Value {
        serde_json::from_str(&self.ok(&["job", "history", job, "--json"], None)).unwrap()
    }
}

fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap()
}

#[test]
fn a_foot_job_from_rx_to_shipped() {
    let lab = Lab::new();
    let out = lab.ok(
        &[
            "job",
            "new",
            "--rx",
            "fixtures/rx/foot-bilateral.rx",
            "--scan",
            "fixtures/scans/foot-left-m.stl",
            "--scan",
            "fixtures/scans/foot-right-m.stl",
        ],
        Some("tom"),
    );
    let job = out.trim().to_string();
    assert!(job.starts_with('J') && job.ends_with("-0001"), "{job}");
    assert!(
        !job.contains("MRN"),
        "job numbers are never derived from patient data"
    );

    let show = json(&lab.ok(&["job", "show", &job, "--json"], None));
    assert_eq!(show["job"]["status"], "received");
    assert_eq!(
        show["job"]["rx_text"],
        std::fs::read_to_string("fixtures/rx/foot-bilateral.rx").unwrap()
    );
    let files = show["job"]["files"].as_array().unwrap();
    assert_eq!(files.len(), 2);
    assert_eq!(files[0]["sha256"].as_str().unwrap().len(), 64);
    assert_ne!(files[0]["sha256"], files[1]["sha256"]);
    assert_eq!(
        show["work_order"]["sides"],
        serde_json::json!(["left", "right"])
    );
    assert_eq!(
        show["work_order"]["modifications"]
            .as_array()
            .unwrap()
            .len(),
        12
    );

    for (who, to) in [
        ("tom", "designing"),
        ("tom", "review"),
        ("pat", "designing"),
        ("tom", "review"),
        ("pat", "approved"),
        ("oli", "milling"),
        ("oli", "finishing"),
        ("tom", "qc"),
        ("tom", "shipped"),
    ] {
        let out = lab.ok(
            &["job", "advance", &job, "--to", to, "--note", "step"],
            Some(who),
        );
        assert!(out.contains(&format!("-> {to} by {who}")), "{out}");
    }
    let h = lab.history(&job);
    let moves: Vec<_> = h
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "status")
        .map(|e| {
            (
                e["from"].as_str().unwrap(),
                e["to"].as_str().unwrap(),
                e["role"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(moves.len(), 9);
    assert_eq!(moves[4], ("review", "approved", "prosthetist"));
    assert_eq!(moves[8], ("qc", "shipped", "tech"));
    for w in moves.windows(2) {
        assert_eq!(w[0].1, w[1].0, "the history chains");
    }
    let text = lab.ok(&["job", "show", &job], None);
    assert!(
        text.contains(&format!("Job {job}  foot-orthotic  status: shipped")),
        "{text}"
    );
    assert!(text.contains("Suggested HCPCS codes:"), "{text}");
    let shipped = json(&lab.ok(&["job", "list", "--status", "shipped", "--json"], None));
    assert_eq!(shipped.as_array().unwrap().len(), 1);
    let open = json(&lab.ok(&["job", "list", "--status", "review", "--json"], None));
    assert!(open.as_array().unwrap().is_empty());
}

#[test]
fn forbidden_moves_are_refused_and_change_nothing() {
    let lab = Lab::new();
    let job = lab.new_job("fixtures/rx/transtibial-ptb.rx", "pat");
    lab.ok(&["job", "advance", &job, "--to", "designing"], Some("tom"));
    lab.ok(&["job", "advance", &job, "--to", "review"], Some("tom"));
    let before = lab.history(&job);

    let e = lab.refused(&["job", "advance", &job, "--to", "approved"], Some("tom"));
    assert_eq!(
        e,
        format!(
            "error: job {job}: a tech may not move a job from review to approved; that takes a prosthetist"
        )
    );
    let e = lab.refused(&["job", "advance", &job, "--to", "milling"], Some("pat"));
    assert!(e.contains("does not move from review to milling"), "{e}");
    let e = lab.refused(&["job", "advance", &job, "--to", "cancelled"], Some("oli"));
    assert!(e.contains("an operator may not move a job from review to cancelled; that takes a prosthetist or admin"), "{e}");
    let e = lab.refused(
        &["job", "advance", "J1999-0001", "--to", "approved"],
        Some("pat"),
    );
    assert_eq!(e, "error: no job J1999-0001");
    let e = lab.refused(
        &["job", "advance", &job, "--to", "approved"],
        Some("mallory"),
    );
    assert!(e.contains("no user `mallory`"), "{e}");
    let e = lab.refused(&["job", "advance", &job, "--to", "approved"], None);
    assert_eq!(e, "error: no acting user: give --as NAME or set FAB_USER");
    assert_eq!(lab.history(&job), before, "refusals write nothing");

    // A program may not be swapped in after the design went to review.
    let dir = tempfile::tempdir().unwrap();
    let nc = dir.path().join("J.nc");
    std::fs::write(&nc, "G21\nM30\n").unwrap();
    let e = lab.refused(
        &[
            "job",
            "attach",
            &job,
            nc.to_str().unwrap(),
            "--kind",
            "program",
        ],
        Some("tom"),
    );
    assert!(
        e.contains("only be attached while received or designing"),
        "{e}"
    );

    // Usage errors exit 2.
    lab.fab(Some("pat"))
        .args(["job", "advance", &job, "--to", "done"])
        .assert()
        .code(2);
    lab.fab(Some("pat"))
        .args(["job", "advance", &job])
        .assert()
        .code(2);
    // --as wins over FAB_USER.
    lab.ok(
        &["job", "advance", &job, "--to", "approved", "--as", "pat"],
        Some("tom"),
    );
}

#[test]
fn users_first_admin_then_only_admins_add() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("u.db");
    let fab = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_fab"))
            .env_remove("FAB_USER")
            .env_remove("FAB_DB")
            .arg("--db")
            .arg(&db)
            .args(args)
            .output()
            .unwrap()
    };
    // The subcommand's --db is global: it also works after the subcommand.
    let o = fab(&["user", "add", "tom", "--role", "tech"]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "--db before `user` is not a fab option"
    );
    let fab = |args: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_fab"));
        c.env_remove("FAB_USER")
            .env_remove("FAB_DB")
            .args(args)
            .arg("--db")
            .arg(&db);
        c.output().unwrap()
    };
    let o = fab(&["user", "add", "tom", "--role", "tech"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("the first user must be an admin"));
    assert_eq!(
        fab(&["user", "add", "ada", "--role", "admin"])
            .status
            .code(),
        Some(0)
    );
    let o = fab(&["user", "add", "tom", "--role", "tech"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("give --as NAME"));
    assert_eq!(
        fab(&["user", "add", "tom", "--role", "tech", "--as", "ada"])
            .status
            .code(),
        Some(0)
    );
    let o = fab(&["user", "add", "eve", "--role", "admin", "--as", "tom"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("tom is a tech; adding a user takes an admin")
    );
    assert_eq!(
        fab(&["user", "add", "x", "--role", "boss", "--as", "ada"])
            .status
            .code(),
        Some(2)
    );
    let list = fab(&["user", "list", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let names: Vec<_> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["ada", "tom"]);
}

#[test]
fn bad_rx_or_scan_creates_nothing() {
    let lab = Lab::new();
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.rx");
    std::fs::write(
        &bad,
        "rx: foot-orthotic\npatient: MRN-1\npractitioner: A\nliner: 3 mm\n",
    )
    .unwrap();
    let e = lab.refused(&["job", "new", "--rx", bad.to_str().unwrap()], Some("tom"));
    assert!(
        e.ends_with(
            "bad.rx:4:1: `liner` is a transtibial-socket key, but this Rx is foot-orthotic"
        ),
        "{e}"
    );
    let e = lab.refused(
        &[
            "job",
            "new",
            "--rx",
            "fixtures/rx/foot-left-eva.rx",
            "--scan",
            "/nonexistent.stl",
        ],
        Some("tom"),
    );
    assert!(e.contains("cannot read /nonexistent.stl"), "{e}");
    let e = lab.refused(
        &["job", "new", "--rx", "fixtures/rx/foot-left-eva.rx"],
        Some("oli"),
    );
    assert!(
        e.contains("creating a job takes a tech, prosthetist or admin"),
        "{e}"
    );
    let list = json(&lab.ok(&["job", "list", "--json"], None));
    assert!(list.as_array().unwrap().is_empty());
    // A database path that is not a database.
    let o = Command::new(env!("CARGO_BIN_EXE_fab"))
        .args(["job", "list", "--db", "fixtures/rx/foot-left-eva.rx"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot open the job database"));
}

#[test]
fn tables_in_the_database_change_the_work_order() {
    let lab = Lab::new();
    let job = lab.new_job("fixtures/rx/foot-left-eva.rx", "tom");
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("lab.toml");
    let bundled = std::fs::read_to_string("fixtures/tables/materials.toml").unwrap();
    std::fs::write(
        &t,
        bundled.replace("EVA block, 45 shore A", "EVA block, 55 shore A"),
    )
    .unwrap();
    let e = lab.refused(
        &["job", "tables", "--set", t.to_str().unwrap()],
        Some("tom"),
    );
    assert!(e.contains("changing the lab tables takes an admin"), "{e}");
    lab.ok(
        &["job", "tables", "--set", t.to_str().unwrap()],
        Some("ada"),
    );
    let show = json(&lab.ok(&["job", "show", &job, "--json"], None));
    assert_eq!(
        show["work_order"]["milling"]["blank"],
        "EVA block, 55 shore A"
    );
    lab.ok(&["job", "tables", "--reset"], Some("ada"));
    let show = json(&lab.ok(&["job", "show", &job, "--json"], None));
    assert_eq!(
        show["work_order"]["milling"]["blank"],
        "EVA block, 45 shore A"
    );
}

#[test]
fn help_everywhere() {
    for args in [
        &["job", "--help"][..],
        &["job", "new", "--help"],
        &["job", "advance", "--help"],
        &["user", "--help"],
        &["rx", "--help"],
    ] {
        let o = Command::new(env!("CARGO_BIN_EXE_fab"))
            .args(args)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{args:?}");
        assert!(!o.stdout.is_empty());
    }
    let _ = Path::new("");
}

#[test]
fn a_scan_that_is_not_a_mesh_is_not_attached() {
    let lab = Lab::new();
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.stl");
    std::fs::write(&empty, b"").unwrap();
    // the Rx given as the scan by mistake, and an empty file
    for scan in ["fixtures/rx/foot-left-eva.rx", empty.to_str().unwrap()] {
        let e = lab.refused(
            &[
                "job",
                "new",
                "--rx",
                "fixtures/rx/foot-left-eva.rx",
                "--scan",
                scan,
            ],
            Some("tom"),
        );
        assert!(e.contains("not a usable scan") && e.contains(scan), "{e}");
    }
    let list = json(&lab.ok(&["job", "list", "--json"], None));
    assert!(list.as_array().unwrap().is_empty());
    let job = lab
        .ok(
            &[
                "job",
                "new",
                "--rx",
                "fixtures/rx/foot-left-eva.rx",
                "--scan",
                "fixtures/scans/foot-left-m.stl",
            ],
            Some("tom"),
        )
        .trim()
        .to_string();
    let e = lab.refused(
        &["job", "attach", &job, empty.to_str().unwrap()],
        Some("tom"),
    );
    assert!(e.contains("not a usable scan"), "{e}");
    // a photo is not a mesh and need not be one
    lab.ok(
        &[
            "job",
            "attach",
            &job,
            "fixtures/rx/foot-left-eva.rx",
            "--kind",
            "photo",
        ],
        Some("tom"),
    );
    let files = json(&lab.ok(&["job", "show", &job, "--json"], None))["job"]["files"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(files, 2);
}

/// The program on the machine is checked against the one the prosthetist approved: byte for
/// byte (SHA-256), before approval it cannot pass, and job numbers are accepted in any case.
#[test]
fn verify_checks_a_program_against_the_approved_one() {
    let lab = Lab::new();
    let job = lab.new_job("fixtures/rx/foot-left-eva.rx", "tom");
    let dir = tempfile::tempdir().unwrap();
    let program = dir.path().join(format!("{job}.nc"));
    std::fs::write(&program, "%\n(JOB test)\nG21 G90\nG0 Z10\nM30\n%\n").unwrap();
    let prog = program.to_str().unwrap();
    lab.ok(&["job", "advance", &job, "--to", "designing"], Some("tom"));
    lab.ok(
        &["job", "attach", &job, prog, "--kind", "program"],
        Some("tom"),
    );
    // Not yet approved: nothing to verify against.
    let e = lab.refused(&["job", "verify", &job, prog], Some("oli"));
    assert!(e.contains("not approved"), "{e}");
    lab.ok(&["job", "advance", &job, "--to", "review"], Some("tom"));
    lab.ok(&["job", "advance", &job, "--to", "approved"], Some("pat"));
    // The approved file passes, under the job number typed in lower case too.
    let out = lab.ok(&["job", "verify", &job.to_lowercase(), prog], Some("oli"));
    assert!(out.contains("is the program approved by pat"), "{out}");
    let v = json(&lab.ok(&["job", "verify", &job, prog, "--json"], None));
    assert_eq!(v["matches"], true);
    assert_eq!(v["job"], job.as_str());
    assert_eq!(v["sha256"], v["approved_sha256"]);
    // One changed byte on the controller: refused, naming both hashes.
    let edited = dir.path().join("edited.nc");
    std::fs::write(&edited, "%\n(JOB test)\nG21 G90\nG0 Z11\nM30\n%\n").unwrap();
    let e = lab.refused(
        &["job", "verify", &job, edited.to_str().unwrap()],
        Some("oli"),
    );
    assert!(e.contains("is NOT the program approved"), "{e}");
    // Approved with no design attached: said so.
    let e = lab.refused(&["job", "verify", &job, prog, "--kind", "design"], None);
    assert!(e.contains("approved with no design"), "{e}");
    // Other commands take any case as well.
    let show = json(&lab.ok(&["job", "show", &job.to_lowercase(), "--json"], None));
    assert_eq!(show["job"]["number"], job.as_str());
}
