//! The job database: users and roles, jobs from the example Rx files, the workflow as stored,
//! refusals that change nothing, attachments, the append-only history, migrations.

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

/// A fresh database with an admin, a tech, a prosthetist and an operator.
fn lab() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(&dir.path().join("jobs.db")).unwrap();
    s.add_user(None, "ada", Role::Admin).unwrap();
    s.add_user(Some("ada"), "tom", Role::Tech).unwrap();
    s.add_user(Some("ada"), "pat", Role::Prosthetist).unwrap();
    s.add_user(Some("ada"), "oli", Role::Operator).unwrap();
    (dir, s)
}

#[test]
fn first_user_must_be_admin_and_later_ones_need_an_admin() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(&dir.path().join("jobs.db")).unwrap();
    assert!(matches!(
        s.add_user(None, "tom", Role::Tech),
        Err(StoreError::FirstUserNotAdmin)
    ));
    s.add_user(None, "ada", Role::Admin).unwrap();
    assert!(matches!(
        s.add_user(None, "tom", Role::Tech),
        Err(StoreError::NoActor)
    ));
    s.add_user(Some("ada"), "tom", Role::Tech).unwrap();
    let e = s.add_user(Some("tom"), "eve", Role::Admin).unwrap_err();
    assert_eq!(e.to_string(), "tom is a tech; adding a user takes an admin");
    assert!(matches!(
        s.add_user(Some("ada"), "tom", Role::Operator),
        Err(StoreError::UserExists(_))
    ));
    assert!(matches!(
        s.add_user(Some("ada"), "Jane Doe", Role::Tech),
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
        let t = s.advance(j, to, who, Some("ok")).unwrap();
        assert_eq!(t.to, to);
    }
    let h = s.history(j).unwrap();
    assert_eq!(h[0].action, "created");
    assert_eq!(h[1].action, "attached");
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
    s.attach_file(&j, "design", Path::new("J-left-design.stl"), "bb", "tom")
        .unwrap();
    s.advance(&j, Status::Review, "tom", None).unwrap();
    s.advance(&j, Status::Approved, "pat", Some("fine"))
        .unwrap();
    let h = s.history(&j).unwrap();
    assert_eq!(
        h.last().unwrap().note.as_deref(),
        Some("fine; approved program J-left.nc sha256 aa, design J-left-design.stl sha256 bb")
    );
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
    drop(conn);
    let mut s = Store::open(&p).unwrap();
    assert_eq!(s.schema_version().unwrap(), 2);
    assert_eq!(s.users().unwrap()[0].name, "ada");
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
    assert!(msg.starts_with("cannot open the job database"), "{msg}");
    assert!(msg.contains("notes.txt"), "{msg}");
    let e = Store::open(&d.path().join("missing-dir/jobs.db"))
        .err()
        .unwrap();
    assert!(e.to_string().contains("missing-dir"), "{e}");
}
