//! A writer killed with SIGKILL in the middle of writing leaves a database that passes
//! `PRAGMA integrity_check` and still holds every change it reported done.
//!
//! The writer is this test binary itself, re-run as a child process with `FAB_CRASH_CHILD_DB`
//! set: it commits changes in a loop and prints `done ...` after each commit. The parent kills it
//! with SIGKILL mid-stream, three times over, on one database.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fab_ticket::store::Store;

const RX: &str = "rx: foot-orthotic\npatient: MRN-000001\npractitioner: A. Tester\nside: left\n\
                  shell: polypropylene 3 mm\nheel-cup: 12 mm\narch-fill: medium\n";

/// The child: writes until killed. A no-op in a normal test run.
#[test]
fn child_writer() {
    let Some(db) = std::env::var_os("FAB_CRASH_CHILD_DB") else {
        return;
    };
    let round: u32 = std::env::var("FAB_CRASH_ROUND").unwrap().parse().unwrap();
    let mut s = Store::open(std::path::Path::new(&db)).unwrap();
    let mut out = std::io::stdout().lock();
    let mut job = s.create_job("ada", RX, &[]).unwrap().number;
    writeln!(out, "done job {job}").unwrap();
    out.flush().unwrap();
    for i in 0.. {
        if i % 10 == 9 {
            job = s.create_job("ada", RX, &[]).unwrap().number;
            writeln!(out, "done job {job}").unwrap();
        } else {
            let note = format!("r{round}-n{i}");
            s.note(&job, "ada", &note).unwrap();
            writeln!(out, "done note {job} {note}").unwrap();
        }
        out.flush().unwrap();
    }
}

#[test]
fn sigkill_mid_write_keeps_every_reported_change() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("jobs.db");
    Store::create(&db, "ada", "a long password").unwrap();

    let mut reported: Vec<String> = Vec::new();
    for round in 0..3u32 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["child_writer", "--exact", "--nocapture", "--test-threads=1"])
            .env("FAB_CRASH_CHILD_DB", &db)
            .env("FAB_CRASH_ROUND", round.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        // Let it commit a good number of changes, then kill it at an arbitrary moment.
        let target = 40 + 37 * round as usize;
        let start = Instant::now();
        let mut seen = 0;
        while seen < target && start.elapsed() < Duration::from_secs(30) {
            match lines.next() {
                Some(Ok(l)) if l.starts_with("done ") => {
                    reported.push(l);
                    seen += 1;
                }
                Some(_) => {}
                None => break,
            }
        }
        std::thread::sleep(Duration::from_micros(300 + 700 * round as u64));
        child.kill().unwrap(); // SIGKILL on Unix
        let status = child.wait().unwrap();
        assert!(!status.success(), "the writer was killed, not finished");
        // Whatever it printed before dying was reported done too.
        reported.extend(
            lines
                .map_while(Result::ok)
                .filter(|l| l.starts_with("done ")),
        );
        assert!(
            seen >= target,
            "round {round}: the writer reported only {seen} changes"
        );
    }

    let s = Store::open(&db).unwrap();
    assert_eq!(s.integrity_check().unwrap(), "ok");
    let mut notes = 0;
    for line in &reported {
        let parts: Vec<&str> = line.split(' ').collect();
        match parts.as_slice() {
            ["done", "job", job] => {
                s.job(job)
                    .unwrap_or_else(|e| panic!("reported {job} is gone: {e}"));
            }
            ["done", "note", job, note] => {
                let h = s.history(job).unwrap();
                assert!(
                    h.iter().any(|e| e.note.as_deref() == Some(note)),
                    "reported note {note} on {job} is gone"
                );
                notes += 1;
            }
            _ => panic!("unexpected line {line}"),
        }
    }
    assert!(notes > 100, "only {notes} notes were reported");
    // Job numbers stayed unique and consecutive across the crashes.
    let jobs = s.jobs(None).unwrap();
    for (i, j) in jobs.iter().enumerate() {
        assert!(
            j.number.ends_with(&format!("-{:04}", i + 1)),
            "{}",
            j.number
        );
    }
}
