//! `fab gcode check` against LinuxCNC's own interpreter, `rs274 -g` (Debian package
//! linuxcnc-uspace; `scripts/test` installs it), on the corpus in `tests/gcode-corpus/`: small
//! programs, one per case, each named for what it tests and opening with a comment that says it.
//!
//! - `refused/`: rs274 refuses each; `fab gcode check` must refuse it too (exit 1), naming the
//!   line rs274 names, in words.
//! - `accepted/`: rs274 takes each; `fab gcode check` must pass it (exit 0).
//! - `lab-rules/`: rs274 takes each, but the lab does not: a cutting move with the spindle off,
//!   a move before the units or the distance mode are stated. fab refuses them on purpose.
//! - `unsupported/`: rs274 takes each, fab refuses it as it cannot play it (parameters and
//!   expressions, subroutines), saying so.
//!
//! rs274 prints its error and the offending line and still exits 0: its verdict is read from
//! its output (lines that are neither canonical calls such as `   7 N..... STRAIGHT_FEED(..)`
//! nor "executing" are errors), as `shared/tools/carve_check.py` reads it.

use std::path::{Path, PathBuf};
use std::process::Command;

/// What rs274 said about a program: its error lines (empty: it took the program).
fn rs274(path: &Path) -> Vec<String> {
    // Concurrent rs274 processes share LinuxCNC's state (one now and then dies of SIGBUS):
    // run them one at a time, and retry a run killed by a signal.
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    for _ in 0..5 {
        let out = match Command::new("rs274")
            .current_dir(dir.path())
            .arg("-g")
            .arg(path)
            .output()
        {
            Ok(out) => out,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
                "rs274, LinuxCNC's stand-alone interpreter, is not installed: this test needs it as its oracle (Debian package linuxcnc-uspace; scripts/test installs it)"
            ),
            Err(e) => panic!("cannot run rs274: {e}"),
        };
        if out.status.code().is_none() {
            continue; // killed by a signal: not an answer about the program
        }
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        return text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && *l != "executing" && !canonical_call(l))
            .map(str::to_string)
            .collect();
    }
    panic!(
        "rs274 was killed by a signal five times on {}",
        path.display()
    );
}

/// Whether `l` (trimmed) is one of rs274's canonical calls: `7 N..... STRAIGHT_FEED(..)`, or
/// with the line's number, `12 N10    STRAIGHT_TRAVERSE(..)`.
fn canonical_call(l: &str) -> bool {
    let Some((count, rest)) = l.split_once(' ') else {
        return false;
    };
    count.bytes().all(|b| b.is_ascii_digit())
        && rest.trim_start().starts_with('N')
        && l.ends_with(')')
}

/// `fab gcode check` on `path`: exit code, the text report (stdout and stderr) and the lines of
/// its errors, from `--json`.
fn fab(path: &Path) -> (i32, String, Vec<usize>) {
    let run = |json: bool| {
        let mut c = assert_cmd::Command::cargo_bin("fab").unwrap();
        c.env("NO_COLOR", "1").args(["gcode", "check"]);
        if json {
            c.arg("--json");
        }
        c.arg(path).output().unwrap()
    };
    let out = run(false);
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    let json = run(true);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout)
        .unwrap_or_else(|e| panic!("{}: --json gave no JSON ({e})", path.display()));
    let mut lines: Vec<usize> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "error")
        .map(|f| f["line"].as_u64().unwrap() as usize)
        .collect();
    lines.sort();
    assert_eq!(out.status.code(), json.status.code(), "{}", path.display());
    (out.status.code().unwrap(), text, lines)
}

fn cases(kind: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/gcode-corpus")
        .join(kind);
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "ngc"))
        .collect();
    v.sort();
    assert!(!v.is_empty(), "no cases in {}", dir.display());
    v
}

/// Cases where rs274 prints another line than the faulty one: it names the line where it gave up
/// seeking the subroutine O100 (the end of the file), fab the M98 that calls it.
const RS274_NAMES_ANOTHER_LINE: [&str; 1] = ["m98-subroutine-missing"];

#[test]
fn fab_agrees_with_rs274_on_every_corpus_case() {
    let mut report = Vec::new();
    let mut disagree = Vec::new();
    for kind in ["refused", "accepted", "lab-rules", "unsupported"] {
        for path in cases(kind) {
            let name = path.file_stem().unwrap().to_string_lossy().to_string();
            let text = std::fs::read_to_string(&path).unwrap();
            let oracle = rs274(&path);
            let (code, out, lines) = fab(&path);
            let case = format!("{kind}/{name}");
            // What rs274 must say for the case to mean what its folder says.
            let rs274_refuses = kind == "refused";
            if oracle.is_empty() == rs274_refuses {
                disagree.push(format!(
                    "{case}: the case is wrong: rs274 {} it ({oracle:?})",
                    if rs274_refuses { "takes" } else { "refuses" }
                ));
                continue;
            }
            let fab_refuses = kind != "accepted";
            if (code == 1) != fab_refuses || !(code == 0 || code == 1) {
                disagree.push(format!(
                    "{case}: rs274 {}, fab exits {code}:\n{out}",
                    if oracle.is_empty() {
                        "takes it".to_string()
                    } else {
                        format!("refuses it: {}", oracle.join(" | "))
                    }
                ));
                continue;
            }
            // Messages are words, never a Rust debug form.
            if ["Some(", "None", "Err(", "Ok(", "{", "}"]
                .iter()
                .any(|s| out.contains(s))
            {
                disagree.push(format!("{case}: fab's report is not plain words:\n{out}"));
            }
            if rs274_refuses {
                // fab's first error is on the line rs274 prints (after its message).
                let first = lines.first().copied();
                let fab_line = first
                    .and_then(|n| text.split('\n').nth(n - 1))
                    .map(str::trim);
                if let Some(rs_line) = oracle.get(1)
                    && !RS274_NAMES_ANOTHER_LINE.contains(&name.as_str())
                    && fab_line != Some(rs_line.as_str())
                {
                    disagree.push(format!(
                        "{case}: rs274 names the line '{rs_line}', fab line {first:?} {fab_line:?}:\n{out}"
                    ));
                }
                if !out.contains(&format!("line {}", first.unwrap_or(0))) {
                    disagree.push(format!("{case}: fab's report names no line:\n{out}"));
                }
            }
            if kind == "unsupported" && !out.contains("not supported") {
                disagree.push(format!(
                    "{case}: fab does not say it is not supported:\n{out}"
                ));
            }
            report.push(format!(
                "{case}: rs274 {}; fab {}",
                oracle.first().map_or("takes it", |s| s.as_str()),
                if code == 0 { "passes it" } else { "refuses it" }
            ));
        }
    }
    println!("{}", report.join("\n"));
    assert!(
        disagree.is_empty(),
        "fab and rs274 disagree on {} case(s):\n{}",
        disagree.len(),
        disagree.join("\n\n")
    );
    println!(
        "fab gcode check agrees with rs274 on all {} corpus cases",
        report.len()
    );
}
