//! The job database: users and roles, jobs from the example Rx files, the workflow as stored,
//! refusals that change nothing, attachments, the append-only and hash-chained history,
//! signatures, sessions, migrations, and the files fab refuses to take for a database.

use std::path::Path;

use fab_ticket::store::{MIGRATIONS, NewFile, Store, StoreError};
use fab_ticket::workflow::{Role, Status};

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/../../fixtures/rx/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

const PW: &str = "a long password";

/// A fresh database with an admin, a tech, a prosthetist and an operator (all with `PW`).
fn lab() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::create(&dir.path().join("jobs.db"), "ada", PW).unwrap();
    s.add_user("ada", "tom", Role::Tech, PW).unwrap();
    s.add_user("ada", "pat", Role::Prosthetist, PW).unwrap();
    s.add_user("ada", "oli", Role::Operator, PW).unwrap();
    (dir, s)
}

/// Attaches a program and a design to `j`, for `side` where given.
fn planned(s: &mut Store, j: &str, side: Option<&str>, tag: &str) {
    let scan = NewFile {
        kind: "scan",
        path: Path::new("scan.stl"),
        sha256: "5c",
    };
    let nc = format!("{tag}.nc");
    let stl = format!("{tag}-design.stl");
    let outs = [
        NewFile {
            kind: "program",
            path: Path::new(&nc),
            sha256: &format!("{tag}1"),
        },
        NewFile {
            kind: "design",
            path: Path::new(&stl),
            sha256: &format!("{tag}2"),
        },
    ];
    s.attach_plan(j, "tom", &scan, side, &outs).unwrap();
}

#[test]
fn the_first_admin_comes_with_the_database_and_later_users_need_an_admin() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("jobs.db");
    assert!(matches!(
        Store::create(&p, "ada", "short"),
        Err(StoreError::Auth(_))
    ));
    assert!(!p.exists(), "a refused create leaves no file");
    let mut s = Store::create(&p, "ada", PW).unwrap();
    assert!(matches!(
        Store::create(&p, "eve", PW),
        Err(StoreError::Exists { .. })
    ));
    s.add_user("ada", "tom", Role::Tech, PW).unwrap();
    let e = s.add_user("tom", "eve", Role::Admin, PW).unwrap_err();
    assert_eq!(e.to_string(), "tom is a tech; adding a user takes an admin");
    assert!(matches!(
        s.add_user("nobody", "eve", Role::Admin, PW),
        Err(StoreError::NoUser(_))
    ));
    assert!(matches!(
        s.add_user("ada", "tom", Role::Operator, PW),
        Err(StoreError::UserExists(_))
    ));
    assert!(matches!(
        s.add_user("ada", "Jane Doe", Role::Tech, PW),
        Err(StoreError::BadUserName(_))
    ));
    let names: Vec<_> = s
        .users()
        .unwrap()
        .into_iter()
        .map(|u| (u.name, u.role))
        .collect();
    assert_eq!(
        names,
        [("ada".into(), Role::Admin), ("tom".into(), Role::Tech)]
    );
}

#[test]
fn a_job_goes_through_the_lab_and_its_history_is_complete() {
    let (_d, mut s) = lab();
    let scan = NewFile {
        kind: "scan",
        path: Path::new("fixtures/scans/foot-left-m.stl"),
        sha256: "ab12",
    };
    let text = fixture("foot-bilateral.rx");
    let job = s.create_job("tom", &text, &[scan]).unwrap();
    assert!(
        job.number.starts_with('J') && job.number.ends_with("-0001"),
        "{}",
        job.number
    );
    assert_eq!(job.status, Status::Received);
    assert_eq!(job.rx_text, text, "the Rx is kept verbatim");
    assert_eq!(job.patient(), "MRN-004512");
    assert_eq!(job.files[0].sha256, "ab12");
    let second = s
        .create_job("pat", &fixture("transtibial-ptb.rx"), &[])
        .unwrap();
    assert!(second.number.ends_with("-0002"));

    let j = job.number.as_str();
    let moves = [
        ("tom", Status::Designing),
        ("tom", Status::Review),
        ("pat", Status::Designing),
        ("tom", Status::Review),
        ("pat", Status::Approved),
        ("oli", Status::Milling),
        ("oli", Status::OnHold),
        ("oli", Status::Milling),
        ("oli", Status::Finishing),
        ("tom", Status::Qc),
        ("tom", Status::Shipped),
    ];
    for (who, to) in moves {
        if to == Status::Review {
            planned(&mut s, j, Some("left"), "l");
            planned(&mut s, j, Some("right"), "r");
        }
        let t = if to == Status::Approved {
            s.approve(j, who, PW, Some("ok")).unwrap().0
        } else {
            s.advance(j, to, who, Some("ok")).unwrap()
        };
        assert_eq!(t.to, to);
    }
    let h = s.history(j).unwrap();
    assert_eq!(h[0].action, "created");
    assert_eq!(h[1].action, "attached");
    assert!(s.audit(None).unwrap().problems.is_empty());
    let status: Vec<_> = h.iter().filter(|e| e.action == "status").collect();
    assert_eq!(status.len(), moves.len());
    let mut at = Status::Received;
    for (e, (who, to)) in status.iter().zip(moves) {
        assert_eq!((e.from, e.to, e.actor.as_str()), (Some(at), Some(to), who));
        at = to;
    }
    assert_eq!(status[4].role, Role::Prosthetist);
    assert_eq!(s.job(j).unwrap().status, Status::Shipped);
    let shipped = s.jobs(Some(Status::Shipped)).unwrap();
    assert_eq!(shipped.len(), 1);
    assert_eq!(shipped[0].due.as_deref(), Some("2026-11-30"));
    assert_eq!(s.jobs(None).unwrap().len(), 2);
}

#[test]
fn refused_moves_say_why_and_change_nothing() {
    let (_d, mut s) = lab();
    let j = s
        .create_job("tom", &fixture("foot-left-eva.rx"), &[])
        .unwrap()
        .number;
    s.advance(&j, Status::Designing, "tom", None).unwrap();
    s.advance(&j, Status::Review, "tom", None).unwrap();
    let before = s.history(&j).unwrap();
    let e = s.advance(&j, Status::Approved, "tom", None).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "job {j}: a tech may not move a job from review to approved; that takes a prosthetist"
        )
    );
    let e = s.advance(&j, Status::Shipped, "ada", None).unwrap_err();
    assert!(
        e.to_string()
            .contains("does not move from review to shipped"),
        "{e}"
    );
    assert!(matches!(
        s.advance(&j, Status::Approved, "nobody", None),
        Err(StoreError::NoUser(_))
    ));
    assert!(matches!(
        s.advance("J1999-0042", Status::Approved, "pat", None),
        Err(StoreError::NoJob(_))
    ));
    assert_eq!(s.history(&j).unwrap(), before);
    assert_eq!(s.job(&j).unwrap().status, Status::Review);
    // Operators do not create jobs.
    assert!(matches!(
        s.create_job("oli", &fixture("foot-left-eva.rx"), &[]),
        Err(StoreError::Forbidden { .. })
    ));
    // A bad Rx writes nothing.
    let e = s
        .create_job("tom", "rx: foot-orthotic\npatient: M-1\n", &[])
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("missing required key `practitioner`"),
        "{e}"
    );
    assert_eq!(s.jobs(None).unwrap().len(), 1);
}

#[test]
fn hold_remembers_where_the_job_was() {
    let (_d, mut s) = lab();
    let j = s
        .create_job("tom", &fixture("transtibial-tsb.rx"), &[])
        .unwrap()
        .number;
    s.advance(&j, Status::Designing, "tom", None).unwrap();
    s.advance(&j, Status::OnHold, "tom", Some("waiting for the clinic"))
        .unwrap();
    assert_eq!(s.job(&j).unwrap().hold_from, Some(Status::Designing));
    let e = s.advance(&j, Status::Review, "tom", None).unwrap_err();
    assert!(e.to_string().contains("goes back to designing"), "{e}");
    s.advance(&j, Status::Designing, "tom", None).unwrap();
    assert_eq!(s.job(&j).unwrap().hold_from, None);
    assert!(s.advance(&j, Status::Cancelled, "tom", None).is_err());
    s.advance(&j, Status::Cancelled, "pat", Some("patient moved"))
        .unwrap();
    let e = s.advance(&j, Status::Designing, "ada", None).unwrap_err();
    assert!(e.to_string().contains("a closed job does not move"), "{e}");
}

#[test]
fn programs_attach_only_before_review() {
    let (_d, mut s) = lab();
    let j = s
        .create_job("tom", &fixture("foot-left-eva.rx"), &[])
        .unwrap()
        .number;
    s.attach_file(&j, "program", Path::new("J-left.nc"), "aa", "tom")
        .unwrap();
    s.advance(&j, Status::Designing, "tom", None).unwrap();
    s.advance(&j, Status::Review, "tom", None).unwrap();
    let e = s.approve(&j, "pat", PW, None).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "job {j} cannot be approved: no design is attached: plan it with `fab plan SCAN \
             --job JOB`, or attach it with `--kind design`"
        )
    );
    s.advance(&j, Status::Designing, "pat", None).unwrap();
    s.attach_file(&j, "design", Path::new("J-left-design.stl"), "bb", "tom")
        .unwrap();
    s.advance(&j, Status::Review, "tom", None).unwrap();
    assert!(matches!(
        s.advance(&j, Status::Approved, "pat", None),
        Err(StoreError::SignatureRequired)
    ));
    assert!(matches!(
        s.approve(&j, "pat", "not the password", None),
        Err(StoreError::WrongPassword(_))
    ));
    assert_eq!(s.job(&j).unwrap().status, Status::Review);
    let (_, sigs) = s.approve(&j, "pat", PW, Some("fine")).unwrap();
    let h = s.history(&j).unwrap();
    assert_eq!(
        h.last().unwrap().note.as_deref(),
        Some(
            "signed, approved for milling: program J-left.nc sha256 aa; design \
             J-left-design.stl sha256 bb; note: fine"
        )
    );
    assert_eq!(sigs.len(), 2);
    assert_eq!(
        (sigs[0].signer.as_str(), sigs[0].meaning.as_str()),
        ("pat", "approved for milling")
    );
    assert_eq!(s.approved_set(&j).unwrap(), sigs);
    let e = s
        .attach_file(&j, "program", Path::new("J-other.nc"), "cc", "tom")
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("may only be attached while received or designing"),
        "{e}"
    );
    // Other kinds (photos, notes) still attach.
    s.attach_file(&j, "photo", Path::new("fit.jpg"), "dd", "pat")
        .unwrap();
    let rec = s.job(&j).unwrap();
    assert_eq!(rec.latest_file("program").unwrap().sha256, "aa");
    assert_eq!(rec.files.len(), 3);
}

#[test]
fn a_bilateral_job_signs_both_feet_and_waits_for_the_second() {
    let (_d, mut s) = lab();
    let j = s
        .create_job("tom", &fixture("foot-bilateral.rx"), &[])
        .unwrap()
        .number;
    s.advance(&j, Status::Designing, "tom", None).unwrap();
    planned(&mut s, &j, Some("left"), "l");
    s.advance(&j, Status::Review, "tom", None).unwrap();
    let e = s.approve(&j, "pat", PW, None).unwrap_err();
    assert!(
        e.to_string()
            .contains("no program for the right foot is attached"),
        "{e}"
    );
    s.advance(&j, Status::Designing, "pat", None).unwrap();
    planned(&mut s, &j, Some("left"), "l2"); // re-planned: the newer one is signed
    planned(&mut s, &j, Some("right"), "r");
    s.advance(&j, Status::Review, "tom", None).unwrap();
    let (_, sigs) = s.approve(&j, "pat", PW, None).unwrap();
    let signed: Vec<_> = sigs
        .iter()
        .map(|g| (g.kind.as_str(), g.side.as_deref(), g.sha256.as_str()))
        .collect();
    assert_eq!(
        signed,
        [
            ("program", Some("left"), "l21"),
            ("design", Some("left"), "l22"),
            ("program", Some("right"), "r1"),
            ("design", Some("right"), "r2"),
        ]
    );
    assert!(sigs.iter().all(|g| g.scan_sha256.as_deref() == Some("5c")));
    // the scan was attached once, by the first plan, with its hash
    let rec = s.job(&j).unwrap();
    assert_eq!(rec.files.iter().filter(|f| f.kind == "scan").count(), 1);
    let r = s.audit(Some(&j)).unwrap();
    assert_eq!((r.approvals, r.signatures), (1, 4));
    assert!(r.problems.is_empty(), "{:?}", r.problems);
}

#[test]
fn sessions_are_tokens_that_expire_end_and_die_with_a_disabled_user() {
    let (_d, mut s) = lab();
    assert!(matches!(
        s.login("tom", "wrong password", 1),
        Err(StoreError::LoginFailed)
    ));
    assert!(matches!(
        s.login("nobody", PW, 1),
        Err(StoreError::LoginFailed)
    ));
    let (t, _) = s.login("tom", PW, 1).unwrap();
    assert_eq!(s.session_user(&t).unwrap().name, "tom");
    assert!(matches!(
        s.session_user("0000"),
        Err(StoreError::SessionInvalid)
    ));
    // nobody changes their own role; an admin changes others'
    assert!(matches!(
        s.set_role("ada", "ada", Role::Tech),
        Err(StoreError::OwnRole)
    ));
    assert!(s.set_role("tom", "pat", Role::Tech).is_err());
    s.set_disabled("ada", "tom", true).unwrap();
    assert!(s.session_user(&t).is_err(), "disabling ends sessions");
    assert!(matches!(
        s.login("tom", PW, 1),
        Err(StoreError::LoginFailed)
    ));
    assert!(matches!(
        s.create_job("tom", &fixture("foot-left-eva.rx"), &[]),
        Err(StoreError::Disabled(_))
    ));
    s.set_disabled("ada", "tom", false).unwrap();
    let (t, _) = s.login("tom", PW, 1).unwrap();
    assert!(s.logout(&t).unwrap());
    assert!(s.session_user(&t).is_err());
    // own password with the current one; an admin resets others'
    assert!(
        s.set_password("tom", "tom", "another password", Some("wrong one"))
            .is_err()
    );
    s.set_password("tom", "tom", "another password", Some(PW))
        .unwrap();
    assert!(
        s.set_password("tom", "pat", "another password", None)
            .is_err()
    );
    s.set_password("ada", "tom", "reset password", None)
        .unwrap();
    s.login("tom", "reset password", 1).unwrap();
}

#[test]
fn a_history_row_edited_outside_fab_is_found_by_the_audit() {
    let (d, mut s) = lab();
    let j = s
        .create_job("tom", &fixture("foot-left-eva.rx"), &[])
        .unwrap()
        .number;
    s.advance(&j, Status::Designing, "tom", None).unwrap();
    s.note(&j, "tom", "first note").unwrap();
    s.note(&j, "tom", "second note").unwrap();
    assert!(s.audit(None).unwrap().problems.is_empty());
    drop(s);
    let conn = rusqlite::Connection::open(d.path().join("jobs.db")).unwrap();
    conn.execute_batch(
        "DROP TRIGGER history_append_only_update;
         UPDATE history SET note = 'nothing to see' WHERE note = 'first note';",
    )
    .unwrap();
    drop(conn);
    let s = Store::open(&d.path().join("jobs.db")).unwrap();
    let r = s.audit(Some(&j)).unwrap();
    assert_eq!(r.problems.len(), 1, "{:?}", r.problems);
    assert_eq!(r.problems[0].row, 3);
    assert!(r.problems[0].what.contains("does not match its hash"));
}

#[test]
fn an_rx_changed_outside_fab_is_found_by_the_audit() {
    let (d, mut s) = lab();
    let j = s
        .create_job("tom", &fixture("foot-left-eva.rx"), &[])
        .unwrap()
        .number;
    let created = s.history(&j).unwrap()[0].note.clone().unwrap();
    assert!(created.starts_with("rx sha256 "), "{created}");
    assert!(s.audit(None).unwrap().problems.is_empty());
    drop(s);
    let conn = rusqlite::Connection::open(d.path().join("jobs.db")).unwrap();
    let n = conn
        .execute(
            "UPDATE jobs SET rx_json = replace(rx_json, '\"heel_cup_mm\":10.0', '\"heel_cup_mm\":18.0')",
            [],
        )
        .unwrap();
    assert_eq!(n, 1);
    drop(conn);
    let s = Store::open(&d.path().join("jobs.db")).unwrap();
    assert_eq!(s.job(&j).unwrap().status, Status::Received);
    let r = s.audit(Some(&j)).unwrap();
    assert_eq!(r.problems.len(), 1, "{:?}", r.problems);
    assert!(
        r.problems[0]
            .what
            .contains("its Rx is not the one recorded")
    );
}

#[test]
fn a_status_set_outside_fab_is_found_by_the_audit() {
    let (d, mut s) = lab();
    let j = s
        .create_job("tom", &fixture("foot-left-eva.rx"), &[])
        .unwrap()
        .number;
    drop(s);
    let conn = rusqlite::Connection::open(d.path().join("jobs.db")).unwrap();
    conn.execute("UPDATE jobs SET status = 'approved'", [])
        .unwrap();
    drop(conn);
    let s = Store::open(&d.path().join("jobs.db")).unwrap();
    let r = s.audit(None).unwrap();
    assert_eq!(r.problems.len(), 1, "{:?}", r.problems);
    assert_eq!(r.problems[0].job, j);
    assert!(matches!(
        s.approved_set(&j),
        Err(StoreError::NotApproved { .. })
    ));
}

#[test]
fn the_database_file_is_private_and_marked_as_fabs() {
    let (d, s) = lab();
    let p = d.path().join("jobs.db");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&p).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    drop(s);
    let conn = rusqlite::Connection::open(&p).unwrap();
    let id: i32 = conn
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .unwrap();
    assert_eq!(id, fab_ticket::store::APPLICATION_ID);
}

#[test]
fn an_empty_file_or_another_programs_database_is_refused_and_left_alone() {
    let d = tempfile::tempdir().unwrap();
    let empty = d.path().join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    let e = Store::open(&empty).err().unwrap();
    assert!(matches!(e, StoreError::Empty { .. }), "{e}");
    assert_eq!(std::fs::metadata(&empty).unwrap().len(), 0);

    let other = d.path().join("other.db");
    let conn = rusqlite::Connection::open(&other).unwrap();
    conn.execute_batch("CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT);")
        .unwrap();
    drop(conn);
    let before = std::fs::read(&other).unwrap();
    let e = Store::open(&other).err().unwrap();
    assert!(matches!(e, StoreError::Foreign { .. }), "{e}");
    assert!(e.to_string().contains("not a fab job database"), "{e}");
    assert_eq!(std::fs::read(&other).unwrap(), before, "nothing added");

    let tagged = d.path().join("tagged.db");
    let conn = rusqlite::Connection::open(&tagged).unwrap();
    conn.pragma_update(None, "application_id", 0x1234).unwrap();
    conn.execute_batch(MIGRATIONS[0]).unwrap();
    conn.pragma_update(None, "user_version", 1).unwrap();
    drop(conn);
    let e = Store::open(&tagged).err().unwrap();
    assert!(e.to_string().contains("another program's file"), "{e}");
}

#[test]
fn one_corrupt_job_row_is_named_and_the_others_are_listed() {
    let (d, mut s) = lab();
    let rx = fixture("foot-left-eva.rx");
    let a = s.create_job("tom", &rx, &[]).unwrap().number;
    let b = s.create_job("tom", &rx, &[]).unwrap().number;
    let c = s.create_job("tom", &rx, &[]).unwrap().number;
    drop(s);
    let conn = rusqlite::Connection::open(d.path().join("jobs.db")).unwrap();
    conn.execute(
        "UPDATE jobs SET rx_json = '{\"patient\": \"MRN-004512\", broken' WHERE number = ?1",
        [&b],
    )
    .unwrap();
    conn.execute("UPDATE jobs SET status = 'lost' WHERE number = ?1", [&c])
        .unwrap();
    drop(conn);
    let s = Store::open(&d.path().join("jobs.db")).unwrap();
    let list = s.list(None).unwrap();
    let listed: Vec<_> = list.jobs.iter().map(|j| j.number.as_str()).collect();
    assert_eq!(listed, [a.as_str()]);
    let bad: Vec<_> = list
        .unreadable
        .iter()
        .map(|u| (u.number.as_str(), u.what.as_str()))
        .collect();
    assert_eq!(bad, [(b.as_str(), "Rx"), (c.as_str(), "status")]);
    for u in &list.unreadable {
        assert!(!u.problem.contains("MRN"), "{}", u.problem);
    }
    let e = s.job(&b).unwrap_err().to_string();
    assert!(e.contains(&b) && !e.contains("MRN"), "{e}");
    assert!(s.job(&a).is_ok());
}

#[cfg(unix)]
#[test]
fn a_read_only_database_is_read_and_not_written() {
    use std::os::unix::fs::PermissionsExt;
    let (d, mut s) = lab();
    let j = s
        .create_job("tom", &fixture("foot-left-eva.rx"), &[])
        .unwrap()
        .number;
    let (t, _) = s.login("tom", PW, 1).unwrap();
    drop(s);
    let p = d.path().join("jobs.db");
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o400)).unwrap();
    // as root the permission does not bind: open it read-only as fab does a file it cannot write
    let root = std::fs::OpenOptions::new().write(true).open(&p).is_ok();
    let mut s = if root {
        Store::open_read_only(&p).unwrap()
    } else {
        Store::open(&p).unwrap()
    };
    assert!(s.is_read_only());
    assert_eq!(s.job(&j).unwrap().status, Status::Received);
    assert_eq!(s.jobs(None).unwrap().len(), 1);
    assert_eq!(s.session_user(&t).unwrap().name, "tom");
    let e = s.note(&j, "tom", "x").unwrap_err();
    assert!(matches!(e, StoreError::ReadOnly { .. }), "{e}");
}

#[test]
fn history_is_append_only_and_schema_is_migrated() {
    let (d, mut s) = lab();
    s.create_job("tom", &fixture("foot-left-eva.rx"), &[])
        .unwrap();
    assert_eq!(s.schema_version().unwrap(), MIGRATIONS.len() as i64);
    drop(s);
    let conn = rusqlite::Connection::open(d.path().join("jobs.db")).unwrap();
    let e = conn
        .execute("UPDATE history SET note = 'x'", [])
        .unwrap_err();
    assert!(e.to_string().contains("append-only"), "{e}");
    let e = conn.execute("DELETE FROM history", []).unwrap_err();
    assert!(e.to_string().contains("append-only"), "{e}");
    // A database from a newer fab is refused, not damaged.
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    let e = Store::open(&d.path().join("jobs.db")).err().unwrap();
    assert!(e.to_string().contains("schema version 99, newer"), "{e}");
}

#[test]
fn upgrading_from_schema_1_keeps_the_data() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("old.db");
    let conn = rusqlite::Connection::open(&p).unwrap();
    conn.execute_batch(MIGRATIONS[0]).unwrap();
    conn.pragma_update(None, "user_version", 1).unwrap();
    conn.execute(
        "INSERT INTO users (name, role, added_at) VALUES ('ada', 'admin', '2026-01-01')",
        [],
    )
    .unwrap();
    conn.execute_batch(
        "INSERT INTO jobs (number, kind, status, patient, rx_text, rx_json, created_at,
                           created_by, updated_at)
         VALUES ('J2025-0001', 'foot-orthotic', 'designing', 'MRN-1', 'x', '{}', '2025-01-01',
                 'ada', '2025-01-01');
         INSERT INTO history (job_id, at, actor, role, action, to_status)
         VALUES (1, '2025-01-01', 'ada', 'admin', 'created', 'received');
         INSERT INTO history (job_id, at, actor, role, action, from_status, to_status)
         VALUES (1, '2025-01-02', 'ada', 'admin', 'status', 'received', 'designing');",
    )
    .unwrap();
    drop(conn);
    let mut s = Store::open(&p).unwrap();
    assert_eq!(s.schema_version().unwrap(), MIGRATIONS.len() as i64);
    assert_eq!(s.users().unwrap()[0].name, "ada");
    // the rows already there are chained, and stay append-only
    let r = s.audit(None).unwrap();
    assert_eq!((r.rows, r.problems.len()), (2, 0), "{:?}", r.problems);
    // nobody has a password yet: the admin takes the database into use, once
    assert!(matches!(
        s.login("ada", PW, 1),
        Err(StoreError::LoginFailed)
    ));
    s.claim_admin("ada", PW).unwrap();
    s.login("ada", PW, 1).unwrap();
    assert!(matches!(
        s.claim_admin("ada", "another password"),
        Err(StoreError::Exists { .. })
    ));
    s.set_tables("ada", Some("[[hcpcs]]\ncode = \"L3000\"\ndevice = \"foot-orthotic\"\nwhen = [\"any\"]\nquantity = \"one\"\ndescription = \"UCB\"\n")).unwrap();
    assert_eq!(s.tables().unwrap().hcpcs.len(), 1);
}

#[test]
fn a_file_that_is_not_a_database_is_a_clear_error() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("notes.txt");
    std::fs::write(
        &p,
        "this is not sqlite, just some text that is long enough to matter",
    )
    .unwrap();
    let e = Store::open(&p).err().unwrap();
    let msg = e.to_string();
    assert!(msg.contains("is not a fab job database"), "{msg}");
    assert!(msg.contains("notes.txt"), "{msg}");
    let e = Store::open(&d.path().join("missing-dir/jobs.db"))
        .err()
        .unwrap();
    assert!(e.to_string().contains("missing-dir"), "{e}");
    assert!(e.to_string().contains("fab init --admin NAME"), "{e}");
}
