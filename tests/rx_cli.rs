//! `fab rx check|fmt|order` on the example prescriptions and on broken ones.

use assert_cmd::Command;

fn fab() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_fab"));
    c.env_remove("FAB_DB")
        .env_remove("FAB_USER")
        .env_remove("FAB_TABLES");
    c
}

const FIXTURES: [&str; 4] = [
    "fixtures/rx/foot-bilateral.rx",
    "fixtures/rx/foot-left-eva.rx",
    "fixtures/rx/transtibial-ptb.rx",
    "fixtures/rx/transtibial-tsb.rx",
];

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn check_accepts_every_example() {
    for f in FIXTURES {
        let o = fab().args(["rx", "check", f]).output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{f}: {}", stderr(&o));
        let out = String::from_utf8(o.stdout).unwrap();
        assert!(out.starts_with(&format!("{f}: ok (")), "{out}");
    }
}

#[test]
fn check_reports_file_line_column_and_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.rx");
    std::fs::write(
        &bad,
        "rx: transtibial-socket\npatient: MRN-1\npractitioner: A\nreduction: 4\n",
    )
    .unwrap();
    let o = fab().args(["rx", "check"]).arg(&bad).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    let first = err.lines().next().unwrap();
    assert_eq!(
        first,
        format!(
            "error: {}:4:13: a quantity needs its unit: expected `%` after 4, found end of line",
            bad.display()
        )
    );
    assert!(
        err.contains("  4 | reduction: 4\n    |             ^"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");

    let o = fab()
        .args(["rx", "check", "--json"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(
        (v["line"].as_u64(), v["column"].as_u64()),
        (Some(4), Some(13))
    );
    assert_eq!(v["expected"], "`%`");
}

#[test]
fn fmt_output_parses_back_to_the_same_prescription() {
    let dir = tempfile::tempdir().unwrap();
    for f in FIXTURES {
        let o = fab().args(["rx", "fmt", f]).output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let canon = dir.path().join("canon.rx");
        std::fs::write(&canon, &o.stdout).unwrap();
        let again = fab().args(["rx", "fmt"]).arg(&canon).output().unwrap();
        assert_eq!(
            again.stdout, o.stdout,
            "{f}: canonical form is a fixed point"
        );
        // JSON form of both is identical, and the JSON file itself checks.
        let j1 = fab()
            .args(["rx", "fmt", "--json", f])
            .output()
            .unwrap()
            .stdout;
        let j2 = fab()
            .args(["rx", "fmt", "--json"])
            .arg(&canon)
            .output()
            .unwrap()
            .stdout;
        assert_eq!(j1, j2, "{f}");
        let json = dir.path().join("rx.json");
        std::fs::write(&json, &j1).unwrap();
        fab().args(["rx", "check"]).arg(&json).assert().success();
    }
}

#[test]
fn order_prints_the_work_order() {
    let o = fab()
        .args(["rx", "order", "--json", "fixtures/rx/transtibial-ptb.rx"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["modifications"][0]["op"], "reduction");
    assert_eq!(v["modifications"][0]["percent"], 4.0);
    // the bundled socket row's finishing ball for the rotary carver (3/4 in)
    assert_eq!(v["milling"]["finish_tool"], "ball:19.05");
    let text = fab()
        .args(["rx", "order", "fixtures/rx/foot-left-eva.rx"])
        .output()
        .unwrap();
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.contains("left: rearfoot post 2 deg valgus"), "{text}");
    assert!(text.contains("blank: EVA block, 45 shore A"), "{text}");
    // A lab tables file that is broken is refused with its name.
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("lab.toml");
    std::fs::write(&t, "[[material]]\ndevice = 3\n").unwrap();
    let o = fab()
        .args(["rx", "order", "fixtures/rx/foot-left-eva.rx", "--tables"])
        .arg(&t)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).starts_with(&format!("error: tables file {}", t.display())),
        "{}",
        stderr(&o)
    );
}

#[test]
fn usage_errors_exit_2_and_missing_files_exit_1() {
    fab().args(["rx"]).assert().code(2);
    fab().args(["rx", "check"]).assert().code(2);
    fab().args(["rx", "check", "--help"]).assert().code(0);
    let o = fab()
        .args(["rx", "check", "/nonexistent/x.rx"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).starts_with("error: cannot read Rx file /nonexistent/x.rx"));
    // Binary garbage is an error, not a panic.
    let dir = tempfile::tempdir().unwrap();
    let g = dir.path().join("garbage.rx");
    std::fs::write(&g, [0xffu8, 0xfe, 0, 1, 2, b'\n', b'#']).unwrap();
    let o = fab().args(["rx", "check"]).arg(&g).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(!stderr(&o).contains("panicked"));
}
