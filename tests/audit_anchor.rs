//! `fab job audit --anchor FILE`: the chain's head kept away from the database. The chain alone
//! cannot show rows cut from its end (what is left still chains); a head noted earlier can.

mod lab;

use lab::Lab;

fn audit(lab: &Lab, anchor: &std::path::Path) -> (Option<i32>, String, String) {
    let o = lab
        .fab("oli")
        .args(["job", "audit", "--anchor", anchor.to_str().unwrap()])
        .output()
        .unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn an_anchored_head_shows_rows_cut_from_the_end_and_a_rewritten_history() {
    let lab = Lab::usual();
    let anchor = lab.dir.path().join("heads.txt");
    let job = lab
        .ok(
            "tom",
            &["job", "new", "--rx", "fixtures/rx/foot-left-eva.rx"],
        )
        .trim()
        .to_string();
    let (code, out, err) = audit(&lab, &anchor);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("0 earlier head(s) still in the chain"),
        "{err}"
    );
    let head = out.trim().rsplit(' ').next().unwrap().to_string();
    let first = std::fs::read_to_string(&anchor).unwrap();
    assert!(
        first.ends_with(&format!(" rows 1 head {head}\n")),
        "{first}"
    );
    // the same head again is not noted twice
    assert_eq!(audit(&lab, &anchor).0, Some(0));
    assert_eq!(std::fs::read_to_string(&anchor).unwrap(), first);

    lab.ok("tom", &["job", "advance", &job, "--to", "designing"]);
    lab.ok("tom", &["job", "advance", &job, "--to", "on-hold"]);
    let (code, _, err) = audit(&lab, &anchor);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("1 earlier head(s) still in the chain"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&anchor).unwrap().lines().count(), 2);

    // the last row cut off (and the job's status put back, as someone covering it would): the
    // chain still verifies, the anchor does not
    let db = rusqlite::Connection::open(&lab.db).unwrap();
    db.execute_batch(
        "DROP TRIGGER history_append_only_delete;
         DELETE FROM history WHERE id = (SELECT max(id) FROM history);
         UPDATE jobs SET status = 'designing', hold_from = NULL;",
    )
    .unwrap();
    drop(db);
    lab.ok("oli", &["job", "audit"]);
    let (code, _, err) = audit(&lab, &anchor);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("the history has 2 row(s), fewer than the 3 anchored at")
            && err.contains("rows were cut from its end"),
        "{err}"
    );

    // a head that is not the chain's: rewritten
    let other = lab.dir.path().join("other.txt");
    std::fs::write(
        &other,
        format!("2026-12-07T00:00:00.000Z rows 1 head {}\n", "ab".repeat(32)),
    )
    .unwrap();
    let (code, _, err) = audit(&lab, &other);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("the history's row 1 no longer has the head anchored"),
        "{err}"
    );
    std::fs::write(&other, "not a head\n").unwrap();
    let (code, _, err) = audit(&lab, &other);
    assert_eq!(code, Some(1));
    assert!(err.contains("line 1: not a chain head"), "{err}");
}
