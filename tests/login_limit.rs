//! Failed logins are limited per login name in the job database, so the limit holds across
//! commands and processes, and the web's logins keep it too: five wrong passwords in five
//! minutes, then even the right one waits; unknown names alike (the limit tells nothing about
//! which names exist); a success clears the count.

mod lab;
mod serve_support;

use lab::{Lab, password};
use serve_support::Server;

/// `fab login NAME` with `pw` on stdin: (exit code, stderr).
fn login(lab: &Lab, name: &str, pw: &str) -> (Option<i32>, String) {
    let o = lab
        .bare()
        .args(["login", name, "--password-stdin", "--print-token"])
        .write_stdin(format!("{pw}\n"))
        .output()
        .unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn failures(lab: &Lab, name: &str) -> i64 {
    let db = rusqlite::Connection::open(&lab.db).unwrap();
    db.query_row(
        "SELECT count(*) FROM login_failures WHERE name = ?1",
        [name],
        |r| r.get(0),
    )
    .unwrap()
}

#[test]
fn five_failed_logins_then_the_name_waits_on_the_command_line_and_the_web() {
    let lab = Lab::usual();
    for _ in 0..5 {
        let (code, err) = login(&lab, "pat", "guess guess guess");
        assert_eq!(code, Some(1));
        assert!(err.contains("wrong user name or password"), "{err}");
    }
    // the right password now waits too, and says how long
    let (code, err) = login(&lab, "pat", &password("pat"));
    assert_eq!(code, Some(1));
    assert!(
        err.contains(
            "too many failed logins as `pat` in the last 5 minutes: try again in 5 minute(s)"
        ),
        "{err}"
    );
    assert_eq!(
        failures(&lab, "pat"),
        5,
        "a refused attempt is not counted again"
    );
    // someone else is not held up
    assert_eq!(login(&lab, "tom", &password("tom")).0, Some(0));
    // the web keeps the same limit (its own per-address one aside)
    let srv = Server::start(&lab);
    let (r, session) = srv.login("pat", &password("pat"));
    assert_eq!(r.status, 429);
    assert!(
        r.body.contains("too many failed logins as `pat`"),
        "{}",
        r.body
    );
    assert!(session.is_none());
    drop(srv);

    // a name that does not exist is limited the same way
    for _ in 0..5 {
        assert!(
            login(&lab, "nobody", "guess guess guess")
                .1
                .contains("wrong user name")
        );
    }
    assert!(
        login(&lab, "nobody", "guess")
            .1
            .contains("too many failed logins as `nobody`")
    );

    // five minutes on (the failures aged in the database), pat logs in, and that clears them
    let db = rusqlite::Connection::open(&lab.db).unwrap();
    db.execute(
        "UPDATE login_failures SET at = '2000-01-01T00:00:00.000Z' WHERE name = 'pat'",
        [],
    )
    .unwrap();
    let (code, err) = login(&lab, "pat", &password("pat"));
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(failures(&lab, "pat"), 0);
    // one more failure after a success starts counting from one
    assert_eq!(login(&lab, "pat", "guess guess guess").0, Some(1));
    assert_eq!(failures(&lab, "pat"), 1);
    assert_eq!(login(&lab, "pat", &password("pat")).0, Some(0));
}
