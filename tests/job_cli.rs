//! `fab user` and `fab job` end to end on a temporary database.

use std::path::Path;

use assert_cmd::Command;

mod lab;

use lab::password;

/// The CLI-test lab, with the helpers these tests use (`who` `None`: ada, the admin).
struct Lab(lab::Lab);

impl Lab {
    fn new() -> Lab {
        Lab(lab::Lab::usual())
    }

    fn fab(&self, who: Option<&str>) -> Command {
        self.0.fab(who.unwrap_or("ada"))
    }

    fn run(&self, args: &[&str], who: Option<&str>) -> std::process::Output {
        self.fab(who).args(args).output().unwrap()
    }

    fn ok(&self, args: &[&str], who: Option<&str>) -> String {
        self.0.ok(who.unwrap_or("ada"), args)
    }

    /// Runs a command that must be refused: exit 1, one clear `error:` line, no panic.
    fn refused(&self, args: &[&str], who: Option<&str>) -> String {
        refused(self.run(args, who), args)
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

/// A refusal: exit 1, one clear `error:` line, no panic, nothing on stdout.
fn refused(o: std::process::Output, args: &[&str]) -> String {
    let err = String::from_utf8(o.stderr).unwrap();
    assert_eq!(
        o.status.code(),
        Some(1),
        "fab {args:?} should be refused: {err}"
    );
    let first = err
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_else(|| panic!("{err}"));
    assert!(
        !err.contains("panicked") && !err.contains("database is locked"),
        "{err}"
    );
    assert!(o.stdout.is_empty(), "a refusal prints no result");
    first.to_string()
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
        if to == "review" {
            lab.0.attach_design("tom", &job, Some("left"), "left");
            lab.0.attach_design("tom", &job, Some("right"), "right");
        }
        let out = if to == "approved" {
            lab.0.approve(who, &job)
        } else {
            lab.ok(
                &["job", "advance", &job, "--to", to, "--note", "step"],
                Some(who),
            )
        };
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
    // Who acts is whoever logged in: --as and FAB_USER do not change it.
    let e = lab.refused(
        &["job", "advance", &job, "--to", "approved", "--as", "pat"],
        Some("tom"),
    );
    assert!(e.contains("logged in as tom, not pat"), "{e}");
    let o = lab
        .fab(Some("tom"))
        .env("FAB_USER", "pat")
        .args(["job", "advance", &job, "--to", "approved"])
        .output()
        .unwrap();
    let e = refused(o, &["FAB_USER=pat"]);
    assert!(e.contains("logged in as tom, not pat"), "{e}");
    // With no session nothing is read or changed.
    for args in [
        &["job", "advance", &job, "--to", "approved"][..],
        &["job", "show", &job],
        &["job", "list"],
        &["user", "list"],
    ] {
        let o = lab
            .0
            .bare()
            .env("FAB_USER", "pat")
            .args(args)
            .output()
            .unwrap();
        let e = refused(o, args);
        assert!(e.contains("not logged in"), "{e}");
    }
    // A token that is not a session.
    let o = lab
        .0
        .bare()
        .env("FAB_TOKEN", "00".repeat(32))
        .args(["job", "show", &job])
        .output()
        .unwrap();
    assert!(refused(o, &["bad token"]).contains("expired or was ended"));
    // Approval is a signature: no password, a wrong one, or no program and design: refused.
    let e = lab.refused(&["job", "advance", &job, "--to", "approved"], Some("pat"));
    assert!(e.contains("no program is attached"), "{e}");
    assert_eq!(lab.history(&job), before, "refusals write nothing");

    // A program may not be swapped in after the design went to review.    // A program may not be swapped in after the design went to review.
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
}

#[test]
fn approval_takes_the_signers_password_at_that_moment() {
    let lab = Lab::new();
    let job = lab.new_job("fixtures/rx/foot-left-eva.rx", "tom");
    lab.ok(&["job", "advance", &job, "--to", "designing"], Some("tom"));
    lab.0.attach_design("tom", &job, None, "a");
    lab.ok(&["job", "advance", &job, "--to", "review"], Some("tom"));
    let before = lab.history(&job);
    let approve = ["job", "approve", &job, "--password-stdin"];
    // no password given (and no terminal to ask at)
    let o = lab.fab(Some("pat")).args(&approve[..3]).output().unwrap();
    assert!(refused(o, &approve).contains("give --password-stdin"));
    // another user's password, or the session's user's name with a wrong one
    for pw in [password("tom"), "pat's wrong password".to_string()] {
        let o = lab
            .fab(Some("pat"))
            .args(approve)
            .write_stdin(format!("{pw}\n"))
            .output()
            .unwrap();
        let e = refused(o, &approve);
        assert!(e.contains("not pat's password: nothing was signed"), "{e}");
    }
    // a tech with a correct password is still no prosthetist
    let o = lab
        .fab(Some("tom"))
        .args(approve)
        .write_stdin(format!("{}\n", password("tom")))
        .output()
        .unwrap();
    assert!(refused(o, &approve).contains("that takes a prosthetist"));
    assert_eq!(lab.history(&job), before, "refusals write nothing");
    let out = lab.0.approve("pat", &job);
    assert!(
        out.contains("review -> approved by pat (prosthetist), 2 signed"),
        "{out}"
    );
    let h = lab.history(&job);
    let last = h.as_array().unwrap().last().unwrap();
    let note = last["note"].as_str().unwrap();
    assert!(
        note.starts_with("signed, approved for milling: program "),
        "{note}"
    );
    assert_eq!(note.matches(" sha256 ").count(), 2, "{note}");
}

#[test]
fn a_bilateral_job_signs_the_left_and_the_right_program() {
    let lab = Lab::new();
    let job = lab.new_job("fixtures/rx/foot-bilateral.rx", "tom");
    lab.ok(&["job", "advance", &job, "--to", "designing"], Some("tom"));
    let left = lab.0.attach_design("tom", &job, Some("left"), "l");
    lab.ok(&["job", "advance", &job, "--to", "review"], Some("tom"));
    let o = lab
        .fab(Some("pat"))
        .args(["job", "approve", &job, "--password-stdin"])
        .write_stdin(format!("{}\n", password("pat")))
        .output()
        .unwrap();
    let e = refused(o, &["approve"]);
    assert!(
        e.contains("no program for the right foot is attached"),
        "{e}"
    );
    lab.ok(&["job", "advance", &job, "--to", "designing"], Some("pat"));
    let right = lab.0.attach_design("tom", &job, Some("right"), "r");
    lab.ok(&["job", "advance", &job, "--to", "review"], Some("tom"));
    let o = lab
        .fab(Some("pat"))
        .args(["job", "approve", &job, "--password-stdin", "--json"])
        .write_stdin(format!("{}\n", password("pat")))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let listed = String::from_utf8_lossy(&o.stderr);
    assert!(
        listed.contains("program (left)") && listed.contains("program (right)"),
        "{listed}"
    );
    let v = json(&String::from_utf8(o.stdout).unwrap());
    let sigs: Vec<_> = v["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["kind"].as_str().unwrap(), s["side"].as_str().unwrap()))
        .collect();
    assert_eq!(
        sigs,
        [
            ("program", "left"),
            ("design", "left"),
            ("program", "right"),
            ("design", "right")
        ]
    );
    for s in v["signatures"].as_array().unwrap() {
        assert_eq!(s["signer"], "pat");
        assert_eq!(s["meaning"], "approved for milling");
        assert_eq!(s["sha256"].as_str().unwrap().len(), 64);
    }
    for nc in [&left, &right] {
        let out = lab.ok(&["job", "verify", &job, nc.to_str().unwrap()], Some("oli"));
        assert!(out.contains("signed by pat"), "{out}");
    }
}

#[test]
fn a_history_row_edited_outside_fab_fails_the_audit() {
    let lab = Lab::new();
    let job = lab.new_job("fixtures/rx/foot-left-eva.rx", "tom");
    lab.ok(&["job", "advance", &job, "--to", "designing"], Some("tom"));
    let nc = lab.0.attach_design("tom", &job, None, "a");
    lab.ok(&["job", "advance", &job, "--to", "review"], Some("tom"));
    lab.0.approve("pat", &job);
    lab.ok(&["job", "note", &job, "blank loaded"], Some("oli"));
    let out = lab.ok(&["job", "audit"], Some("oli"));
    assert!(
        out.starts_with("ok: 7 history row(s) chained, 1 approval(s), 2 signature(s)"),
        "{out}"
    );
    // Someone with the file drops the append-only trigger and rewrites who approved.
    let conn = rusqlite::Connection::open(&lab.0.db).unwrap();
    let row: i64 = conn
        .query_row(
            "SELECT id FROM history WHERE to_status = 'approved'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    conn.execute_batch(
        "DROP TRIGGER history_append_only_update;
         UPDATE history SET actor = 'tom' WHERE to_status = 'approved';",
    )
    .unwrap();
    drop(conn);
    let e = lab.refused(&["job", "audit", &job], Some("oli"));
    assert_eq!(
        e,
        format!(
            "error: the record does not verify: history row {row} (job {job}) is the first that \
             fails: its content does not match its hash (changed outside fab)"
        )
    );
    // and a program is not verified against a record that does not verify
    let e = lab.refused(&["job", "verify", &job, nc.to_str().unwrap()], Some("oli"));
    assert!(e.contains("the record does not verify"), "{e}");
}

#[test]
fn job_list_names_a_corrupt_row_and_lists_the_others() {
    let lab = Lab::new();
    let a = lab.new_job("fixtures/rx/foot-left-eva.rx", "tom");
    let b = lab.new_job("fixtures/rx/foot-bilateral.rx", "tom");
    let conn = rusqlite::Connection::open(&lab.0.db).unwrap();
    conn.execute(
        "UPDATE jobs SET rx_json = substr(rx_json, 1, 40) WHERE number = ?1",
        [&b],
    )
    .unwrap();
    drop(conn);
    let o = lab.run(&["job", "list"], None);
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8(o.stdout).unwrap();
    let err = String::from_utf8(o.stderr).unwrap();
    assert!(out.contains(&a) && !out.contains(&b), "{out}");
    assert!(
        err.contains(&format!(
            "job {b}: its stored Rx cannot be read (not valid JSON"
        )),
        "{err}"
    );
    assert!(err.contains("1 job(s) could not be read"), "{err}");
    assert!(!err.contains("MRN"), "{err}");
    let e = lab.refused(&["job", "show", &b], None);
    assert!(e.contains(&b) && !e.contains("MRN"), "{e}");
}

#[test]
fn no_error_echoes_a_patient_reference() {
    let lab = Lab::new();
    let dir = tempfile::tempdir().unwrap();
    let bad_json = dir.path().join("bad.json");
    std::fs::write(
        &bad_json,
        r#"{"patient": "MRN-771234", "practitioner": "A", "notes": ["knee pain"], "device": 5}"#,
    )
    .unwrap();
    let bad_text = dir.path().join("bad.rx");
    std::fs::write(
        &bad_text,
        "rx: foot-orthotic\npatient: MRN-771234 \"x\npractitioner: A\nnotes: \"knee pain\n",
    )
    .unwrap();
    for f in [&bad_json, &bad_text] {
        let f = f.to_str().unwrap();
        for args in [
            &["job", "new", "--rx", f][..],
            &["rx", "check", f],
            &["rx", "check", f, "--json"],
            &["rx", "fmt", f],
        ] {
            let o = lab.run(args, Some("tom"));
            assert_eq!(o.status.code(), Some(1), "{args:?}");
            let all = format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            );
            assert!(all.contains("error: "), "{all}");
            assert!(!all.contains("MRN-771234"), "{args:?}: {all}");
            assert!(!all.contains("knee pain"), "{args:?}: {all}");
        }
    }
}

#[test]
fn only_fab_init_makes_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("jobs.db");
    let fab = || {
        let mut c = Command::new(env!("CARGO_BIN_EXE_fab"));
        c.env("FAB_DB", &db)
            .env("FAB_CONFIG_DIR", dir.path().join("cfg"))
            .env_remove("FAB_TOKEN")
            .env_remove("FAB_USER");
        c
    };
    for args in [
        &["job", "list"][..],
        &["user", "add", "ada", "--role", "admin"],
        &["login", "ada", "--password-stdin"],
    ] {
        let o = fab()
            .args(args)
            .write_stdin("a long password\n")
            .output()
            .unwrap();
        let e = refused(o, args);
        assert!(
            e.contains("no job database at") && e.contains("fab init --admin NAME"),
            "{e}"
        );
        assert!(!db.exists());
    }
    let o = fab()
        .args(["init", "--admin", "ada", "--password-stdin"])
        .write_stdin("short\n")
        .output()
        .unwrap();
    assert!(refused(o, &["init"]).contains("at least 8 characters"));
    assert!(!db.exists());
    fab()
        .args(["init", "--admin", "ada", "--password-stdin"])
        .write_stdin("a long password\n")
        .assert()
        .success();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&db).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{mode:o}");
    }
    let o = fab()
        .args(["init", "--admin", "eve", "--password-stdin"])
        .write_stdin("a long password\n")
        .output()
        .unwrap();
    assert!(refused(o, &["init"]).contains("exists already"));
    // an empty file is not taken for a database, and stays empty
    let empty = dir.path().join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    let o = fab()
        .arg("job")
        .arg("list")
        .arg("--db")
        .arg(&empty)
        .output()
        .unwrap();
    assert!(refused(o, &["empty"]).contains("is an empty file, not a job database"));
    assert_eq!(std::fs::metadata(&empty).unwrap().len(), 0);
    // the session file is the OS user's alone
    fab()
        .args(["login", "ada", "--password-stdin"])
        .write_stdin("a long password\n")
        .assert()
        .success();
    let session = dir.path().join("cfg/session");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&session).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{mode:o}");
    }
    let out = fab().args(["user", "whoami"]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ada (admin)\n");
    fab().arg("logout").assert().success();
    assert!(!session.exists());
    let o = fab().args(["user", "whoami"]).output().unwrap();
    assert!(refused(o, &["whoami"]).contains("not logged in"));
}

#[test]
fn only_admins_manage_users_and_nobody_changes_their_own_role() {
    let lab = Lab::new();
    let e = lab.refused(
        &["user", "add", "eve", "--role", "admin", "--password-stdin"],
        Some("tom"),
    );
    assert_eq!(e, "error: tom is a tech; adding a user takes an admin");
    let e = lab.refused(&["user", "role", "ada", "--role", "tech"], None);
    assert!(e.contains("nobody changes their own role"), "{e}");
    let e = lab.refused(&["user", "role", "tom", "--role", "admin"], Some("tom"));
    assert!(e.contains("nobody changes their own role"), "{e}");
    let e = lab.refused(&["user", "role", "oli", "--role", "admin"], Some("tom"));
    assert!(e.contains("changing a role takes an admin"), "{e}");
    lab.fab(None)
        .args(["user", "add", "x", "--role", "boss"])
        .assert()
        .code(2);
    // disabling ends the user's session
    lab.ok(&["user", "disable", "oli"], None);
    let e = lab.refused(&["job", "list"], Some("oli"));
    assert!(e.contains("the session has expired or was ended"), "{e}");
    let o = lab
        .0
        .bare()
        .args(["login", "oli", "--password-stdin"])
        .write_stdin(format!("{}\n", password("oli")))
        .output()
        .unwrap();
    assert_eq!(refused(o, &["login"]), "error: wrong user name or password");
    lab.ok(&["user", "enable", "oli"], None);
    // a reset password ends the old sessions; the new one logs in
    lab.fab(None)
        .args(["user", "passwd", "tom", "--password-stdin"])
        .write_stdin("a brand new password\n")
        .assert()
        .success();
    assert!(
        lab.refused(&["job", "list"], Some("tom"))
            .contains("expired or was ended")
    );
    lab.0
        .bare()
        .args(["login", "tom", "--password-stdin"])
        .write_stdin("a brand new password\n")
        .assert()
        .success();
    let v = json(&lab.ok(&["user", "list", "--json"], None));
    let names: Vec<_> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (u["name"].as_str().unwrap(), u["role"].as_str().unwrap()))
        .collect();
    assert_eq!(
        names,
        [
            ("ada", "admin"),
            ("oli", "operator"),
            ("pat", "prosthetist"),
            ("tom", "tech")
        ]
    );
    assert!(!lab.ok(&["user", "list"], None).contains("password"));
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
    assert!(String::from_utf8_lossy(&o.stderr).contains("is not a fab job database"));
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
    lab.ok(
        &[
            "job",
            "attach",
            &job,
            "fixtures/scans/foot-left-m.stl",
            "--kind",
            "design",
        ],
        Some("tom"),
    );
    // Not yet approved: nothing to verify against.
    let e = lab.refused(&["job", "verify", &job, prog], Some("oli"));
    assert!(e.contains("not approved"), "{e}");
    lab.ok(&["job", "advance", &job, "--to", "review"], Some("tom"));
    lab.0.approve("pat", &job);
    // The approved file passes, under the job number typed in lower case too.
    let out = lab.ok(&["job", "verify", &job.to_lowercase(), prog], Some("oli"));
    assert!(
        out.contains("is the program signed by pat (prosthetist)"),
        "{out}"
    );
    let v = json(&lab.ok(&["job", "verify", &job, prog, "--json"], None));
    assert_eq!(v["matches"], true);
    assert_eq!(v["job"], job.as_str());
    assert_eq!(v["sha256"], v["signed"]["sha256"]);
    // One changed byte on the controller: refused, naming both hashes.
    let edited = dir.path().join("edited.nc");
    std::fs::write(&edited, "%\n(JOB test)\nG21 G90\nG0 Z11\nM30\n%\n").unwrap();
    let e = lab.refused(
        &["job", "verify", &job, edited.to_str().unwrap()],
        Some("oli"),
    );
    assert!(e.contains("is NOT a program signed for job"), "{e}");
    assert!(e.contains(v["sha256"].as_str().unwrap()), "{e}");
    // The file alone: the job that signed it is found.
    let out = lab.ok(&["job", "verify", prog], Some("oli"));
    assert!(out.contains(&format!("job {job}: ")), "{out}");
    let e = lab.refused(&["job", "verify", edited.to_str().unwrap()], Some("oli"));
    assert!(e.contains("is not a program signed for any job"), "{e}");
    // The program is not the design.
    let e = lab.refused(&["job", "verify", &job, prog, "--kind", "design"], None);
    assert!(e.contains("is NOT a design signed"), "{e}");
    // Other commands take any case as well.
    let show = json(&lab.ok(&["job", "show", &job.to_lowercase(), "--json"], None));
    assert_eq!(show["job"]["number"], job.as_str());
}
