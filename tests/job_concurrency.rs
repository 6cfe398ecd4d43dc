//! Eight `fab` processes change one job database at once: four race to move the same job through
//! the whole workflow, two create jobs, two take their own jobs through the lab (with a hold and
//! notes). Every process must succeed or be refused cleanly (exit 1 with the reason), none may
//! see "database is locked", and the history must hold each status change exactly once, chained
//! as the workflow allows.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Barrier};
use std::time::Instant;

mod lab;

struct Run {
    start: Instant,
    end: Instant,
    args: Vec<String>,
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// The database and each user's session token, for the worker threads.
#[derive(Clone)]
struct Db {
    path: PathBuf,
    tokens: HashMap<String, String>,
}

/// `fab ARGS` in `who`'s session; an approval signs with `who`'s password on stdin.
fn fab(db: &Db, who: &str, args: &[&str]) -> Run {
    let approving = args.contains(&"approved");
    let mut args: Vec<&str> = args.to_vec();
    if approving {
        args.push("--password-stdin");
    }
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_fab"))
        .env("FAB_DB", &db.path)
        .env("FAB_TOKEN", &db.tokens[who])
        .env_remove("FAB_USER")
        .env_remove("FAB_TABLES")
        .args(&args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    if approving {
        let _ = writeln!(stdin, "{}", lab::password(who));
    }
    drop(stdin);
    let o = child.wait_with_output().unwrap();
    Run {
        start,
        end: Instant::now(),
        args: args.iter().map(|s| s.to_string()).collect(),
        code: o.status.code(),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

fn must(db: &Db, who: &str, args: &[&str]) -> String {
    let r = fab(db, who, args);
    assert_eq!(r.code, Some(0), "fab {args:?}: {}", r.stderr);
    r.stdout.trim().to_string()
}

const PATH: [(&str, &str); 7] = [
    ("tom", "designing"),
    ("tom", "review"),
    ("pat", "approved"),
    ("oli", "milling"),
    ("oli", "finishing"),
    ("tina", "qc"),
    ("tina", "shipped"),
];

fn history(db: &Db, job: &str) -> Vec<serde_json::Value> {
    let h = must(db, "ada", &["job", "history", job, "--json"]);
    serde_json::from_str::<serde_json::Value>(&h)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn eight_processes_at_once_no_lost_update_no_lock_errors() {
    let lab = lab::Lab::new(&[
        ("tom", "tech"),
        ("tina", "tech"),
        ("pat", "prosthetist"),
        ("oli", "operator"),
    ]);
    let db = Db {
        path: lab.db.clone(),
        tokens: ["ada", "tom", "tina", "pat", "oli"]
            .iter()
            .map(|u| (u.to_string(), lab.token(u).to_string()))
            .collect(),
    };
    let db = &db;
    let new = |rx: &str| must(db, "tom", &["job", "new", "--rx", rx]);
    let shared = new("fixtures/rx/foot-bilateral.rx");
    let own = [
        new("fixtures/rx/transtibial-ptb.rx"),
        new("fixtures/rx/foot-left-eva.rx"),
    ];
    // what the approvals sign: both feet of the bilateral job, the others' one program each
    lab.attach_design("tom", &shared, Some("left"), "l");
    lab.attach_design("tom", &shared, Some("right"), "r");
    for job in &own {
        lab.attach_design("tom", job, None, "p");
    }

    let barrier = Arc::new(Barrier::new(8));
    let mut handles = Vec::new();
    for w in 0..8usize {
        let (db, barrier, shared, own) =
            ((*db).clone(), barrier.clone(), shared.clone(), own.clone());
        handles.push(std::thread::spawn(move || {
            barrier.wait();
            let mut runs = Vec::new();
            match w {
                // Racers: the same job, the same moves.
                0..=3 => {
                    for (who, to) in PATH {
                        runs.push(fab(&db, who, &["job", "advance", &shared, "--to", to]));
                    }
                }
                // Creators.
                4 | 5 => {
                    for rx in [
                        "fixtures/rx/foot-left-eva.rx",
                        "fixtures/rx/transtibial-tsb.rx",
                        "fixtures/rx/foot-bilateral.rx",
                    ] {
                        runs.push(fab(&db, "pat", &["job", "new", "--rx", rx]));
                    }
                }
                // Each its own job through the lab, with a hold and notes.
                _ => {
                    let job = &own[w - 6];
                    for (i, (who, to)) in PATH.iter().enumerate() {
                        runs.push(fab(
                            &db,
                            who,
                            &[
                                "job",
                                "advance",
                                job,
                                "--to",
                                to,
                                "--note",
                                &format!("w{w} step {i}"),
                            ],
                        ));
                        if i == 3 {
                            runs.push(fab(
                                &db,
                                "oli",
                                &[
                                    "job",
                                    "advance",
                                    job,
                                    "--to",
                                    "on-hold",
                                    "--note",
                                    "spindle check",
                                ],
                            ));
                            runs.push(fab(&db, "oli", &["job", "advance", job, "--to", "milling"]));
                        }
                        runs.push(fab(
                            &db,
                            "tina",
                            &["job", "note", job, &format!("w{w} note {i}")],
                        ));
                    }
                }
            }
            (w, runs)
        }));
    }
    let results: Vec<(usize, Vec<Run>)> = handles.into_iter().map(|h| h.join().unwrap()).collect();

    // The processes really ran at the same time: find the most that overlapped.
    let mut edges: Vec<(Instant, i32)> = results
        .iter()
        .flat_map(|(_, runs)| runs.iter().flat_map(|r| [(r.start, 1), (r.end, -1)]))
        .collect();
    edges.sort();
    let (mut live, mut most) = (0, 0);
    for (_, d) in edges {
        live += d;
        most = most.max(live);
    }
    assert!(most >= 4, "at most {most} fab processes overlapped");

    let mut shared_moves = Vec::new();
    let mut created = Vec::new();
    for (w, runs) in &results {
        for r in runs {
            let what = format!("worker {w}: fab {:?} -> {:?}\n{}", r.args, r.code, r.stderr);
            assert!(!r.stderr.contains("locked"), "{what}");
            assert!(!r.stderr.contains("busy"), "{what}");
            assert!(!r.stderr.contains("panicked"), "{what}");
            match (*w, r.code) {
                (0..=3, Some(0)) => shared_moves.push(r.stdout.trim().to_string()),
                (0..=3, Some(1)) => {
                    // A clean refusal: someone else already made (or passed) this move, or the job is
                    // now where this role cannot move it.
                    // (an approval lists what it would sign before the error)
                    let line = r
                        .stderr
                        .lines()
                        .find(|l| l.starts_with("error: "))
                        .unwrap_or("");
                    assert!(
                        line.starts_with(&format!("error: job {shared}: ")),
                        "{what}"
                    );
                    assert!(
                        line.contains("is already")
                            || line.contains("does not move from")
                            || line.contains("may not move a job from")
                            || line.contains("a closed job does not move"),
                        "{what}"
                    );
                    assert_eq!(
                        r.stderr.lines().filter(|l| l.starts_with("error")).count(),
                        1,
                        "one clear line: {what}"
                    );
                }
                (4 | 5, Some(0)) => created.push(r.stdout.trim().to_string()),
                (6 | 7, Some(0)) => {}
                _ => panic!("unexpected outcome: {what}"),
            }
        }
    }

    // The shared job: each move made exactly once, the history chained and complete.
    assert_eq!(shared_moves.len(), PATH.len(), "{shared_moves:#?}");
    let h = history(&db, &shared);
    let moves: Vec<(String, String)> = h
        .iter()
        .filter(|e| e["action"] == "status")
        .map(|e| {
            (
                e["from"].as_str().unwrap().into(),
                e["to"].as_str().unwrap().into(),
            )
        })
        .collect();
    let mut from = "received".to_string();
    assert_eq!(moves.len(), PATH.len());
    for ((f, t), (_, want)) in moves.iter().zip(PATH) {
        assert_eq!((f.as_str(), t.as_str()), (from.as_str(), want));
        from = t.clone();
    }
    for (f, t) in &moves {
        assert!(
            shared_moves
                .iter()
                .any(|s| s.starts_with(&format!("{shared}: {f} -> {t} by ")))
        );
    }

    // Created jobs: all there, numbers unique.
    assert_eq!(created.len(), 6);
    let mut uniq = created.clone();
    uniq.sort();
    uniq.dedup();
    assert_eq!(uniq.len(), 6, "{created:?}");
    let list: serde_json::Value =
        serde_json::from_str(&must(&db, "ada", &["job", "list", "--json"])).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 3 + 6);

    // The workers' own jobs: every change recorded once, in order.
    for (i, job) in own.iter().enumerate() {
        let h = history(&db, job);
        let statuses: Vec<_> = h.iter().filter(|e| e["action"] == "status").collect();
        assert_eq!(statuses.len(), PATH.len() + 2, "{job}");
        assert_eq!(statuses[4]["to"], "on-hold");
        assert_eq!(statuses[5]["from"], "on-hold");
        assert_eq!(statuses[5]["to"], "milling");
        let notes = h.iter().filter(|e| e["action"] == "note").count();
        assert_eq!(notes, PATH.len(), "{job}");
        assert!(h.iter().any(|e| e["note"] == format!("w{} step 6", 6 + i)));
        let show: serde_json::Value =
            serde_json::from_str(&must(&db, "ada", &["job", "show", job, "--json"])).unwrap();
        assert_eq!(show["job"]["status"], "shipped");
    }
}
