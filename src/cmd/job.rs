//! `fab job`: create jobs from prescriptions, list and show them (with the work order), move them
//! through the lab, attach files, read their history.
//!
//! Database: `--db PATH`, else `FAB_DB`, else `<user data dir>/fab/jobs.db` (made by `fab init`).
//! Acting user: the session's (`fab login`, or `FAB_TOKEN`). Approving is an electronic
//! signature: the prosthetist's password, asked at that moment. A refused move exits 1 with the
//! reason and changes nothing.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Subcommand;
use fab_ticket::Tables;
use fab_ticket::store::{NewFile, Store};
use fab_ticket::workflow::{Status, next_statuses};
use sha2::{Digest, Sha256};

/// Where the job database is, and the session that says who is acting (shared by `fab job`,
/// `fab user`, `fab plan --job`, `fab init` and `fab login`).
#[derive(clap::Args)]
pub struct Db {
    /// Job database file [default: $FAB_DB, else <data dir>/fab/jobs.db]
    #[arg(long, global = true, value_name = "PATH")]
    pub db: Option<PathBuf>,
    /// Refuse unless the session is this user's (a check: who acts is whoever logged in)
    /// [default: $FAB_USER]
    #[arg(long = "as", global = true, value_name = "NAME")]
    pub actor: Option<String>,
    /// The session's user, once checked
    #[arg(skip)]
    session: std::sync::OnceLock<String>,
}

impl Db {
    /// The database path: `--db`, else `FAB_DB`, else the user's data directory.
    pub fn path(&self) -> anyhow::Result<PathBuf> {
        if let Some(p) = &self.db {
            return Ok(p.clone());
        }
        if let Some(p) = std::env::var_os("FAB_DB").filter(|p| !p.is_empty()) {
            return Ok(PathBuf::from(p));
        }
        Ok(dirs::data_dir()
            .context("no user data directory here: give --db PATH or set FAB_DB")?
            .join("fab")
            .join("jobs.db"))
    }

    /// Opens the existing database, without a session (for `fab login`).
    pub fn open_unauthenticated(&self) -> anyhow::Result<Store> {
        Ok(Store::open(&self.path()?)?)
    }

    /// Opens the existing database for the session's user: every command that reads patient
    /// data or changes anything comes through here.
    pub fn open(&self) -> anyhow::Result<Store> {
        let store = self.open_unauthenticated()?;
        self.authenticate(&store)?;
        Ok(store)
    }

    fn authenticate(&self, store: &Store) -> anyhow::Result<String> {
        if let Some(u) = self.session.get() {
            return Ok(u.clone());
        }
        let Some(token) = super::login::token()? else {
            bail!("not logged in: log in with `fab login NAME` (or give FAB_TOKEN)");
        };
        let user = store.session_user(&token)?;
        let claimed = self
            .actor
            .clone()
            .or_else(|| std::env::var("FAB_USER").ok().filter(|u| !u.is_empty()));
        if let Some(c) = claimed
            && c != user.name
        {
            bail!(
                "logged in as {}, not {c}: --as and FAB_USER do not choose who acts (log in as \
                 {c} with `fab login {c}`)",
                user.name
            );
        }
        let _ = self.session.set(user.name.clone());
        Ok(user.name)
    }

    /// The acting user: the session's.
    pub fn actor(&self) -> anyhow::Result<String> {
        if let Some(u) = self.session.get() {
            return Ok(u.clone());
        }
        let store = self.open_unauthenticated()?;
        self.authenticate(&store)
    }
}

const WORKFLOW_HELP: &str = "\
Workflow: received -> designing -> review -> approved -> milling -> finishing -> qc -> shipped;
review -> designing (changes requested); on-hold and cancelled from any open state; on-hold goes
back to where it was.
Roles: tech (received->designing->review, milling->finishing->qc->shipped), prosthetist
(review->approved or ->designing, qc->shipped, cancels), operator (approved->milling->finishing),
admin (everything but the review decisions; adds users). Anyone may hold and resume a job.
Every command needs a session: `fab login NAME` (or FAB_TOKEN from `fab login --print-token`).
Approving (`fab job approve JOB`, or advance --to approved) is an electronic signature: it asks
the prosthetist's password (--password-stdin for scripts) and signs each program and design (both
sides of a bilateral job), with their SHA-256; nothing is approved while one is missing. After
review they are locked. `fab job verify` checks a file against the signed set; `fab job audit`
checks the hash-chained history and the signatures.
A refused move exits 1 with the reason and changes nothing.";

/// Arguments of `fab job`.
#[derive(clap::Args)]
#[command(after_help = WORKFLOW_HELP)]
pub struct Args {
    #[command(flatten)]
    db: Db,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Create a job from an Rx file (and attach scans); prints the job number
    New {
        /// The prescription (text Rx, or its JSON form)
        #[arg(long, value_name = "FILE")]
        rx: PathBuf,
        /// A scan to attach (with its SHA-256); may repeat
        #[arg(long, value_name = "FILE")]
        scan: Vec<PathBuf>,
        /// Print the new job as JSON
        #[arg(long)]
        json: bool,
    },
    /// List jobs, oldest first
    List {
        /// Only jobs in this status
        #[arg(long)]
        status: Option<Status>,
        /// Print as JSON
        #[arg(long)]
        json: bool,
    },
    /// Show a job and its work order
    Show {
        /// Job number, e.g. J2026-0001
        job: String,
        /// Lab tables file (TOML) [default: $FAB_TABLES, else the database's, else bundled]
        #[arg(long, value_name = "FILE")]
        tables: Option<PathBuf>,
        /// Print as JSON
        #[arg(long)]
        json: bool,
    },
    /// Move a job to another status (the workflow and your role must allow it)
    Advance {
        /// Job number
        job: String,
        /// The new status
        #[arg(long)]
        to: Status,
        /// Why (kept in the history)
        #[arg(long)]
        note: Option<String>,
        /// Approving: read the signing password from the first line of stdin
        #[arg(long)]
        password_stdin: bool,
        /// Print the change as JSON
        #[arg(long)]
        json: bool,
    },
    /// Approve a job for milling: an electronic signature of each program and design, with
    /// your password (prosthetists)
    Approve {
        /// Job number
        job: String,
        /// A note kept with the approval
        #[arg(long)]
        note: Option<String>,
        /// Read the signing password from the first line of stdin
        #[arg(long)]
        password_stdin: bool,
        /// Print the approval and its signatures as JSON
        #[arg(long)]
        json: bool,
    },
    /// Verify the history's hash chain, the approvals' signatures and the jobs' statuses;
    /// exit 1 naming the first row that does not verify
    Audit {
        /// Only this job's approvals and status (the chain is always checked whole)
        job: Option<String>,
        /// Print the report as JSON
        #[arg(long)]
        json: bool,
        /// A file of chain heads kept away from the database (another disk, a print-out): the
        /// heads in it must still be in the chain (none cut from its end, none rewritten);
        /// when they are, the current head is added
        #[arg(long, value_name = "FILE")]
        anchor: Option<PathBuf>,
    },
    /// A job's history: every change with actor, role, time, from, to and note
    History {
        /// Job number
        job: String,
        /// Print as JSON
        #[arg(long)]
        json: bool,
    },
    /// Attach a file (scan, program, design, photo...) with its SHA-256
    Attach {
        /// Job number
        job: String,
        /// The file
        file: PathBuf,
        /// What it is; programs and designs attach only while received or designing
        #[arg(long, default_value = "scan")]
        kind: String,
        /// The side it is for, on a bilateral job: left or right
        #[arg(long, value_parser = ["left", "right"])]
        side: Option<String>,
        /// Print the attachment as JSON
        #[arg(long)]
        json: bool,
    },
    /// Check a file against what was signed: exit 0 only if the job stands approved and the
    /// file is, byte for byte (SHA-256), one of the programs (or designs) its approval signed
    ///
    /// With the file alone, finds the approved job that signed it.
    Verify {
        /// Job number (or, alone, the file: any job that stands approved)
        job: String,
        /// The file to check, e.g. the program on the machine's controller
        file: Option<PathBuf>,
        /// Which approved file to compare with
        #[arg(long, default_value = "program", value_parser = ["program", "design"])]
        kind: String,
        /// Print the result as JSON (still exit 1 on a mismatch)
        #[arg(long)]
        json: bool,
    },
    /// Add a note to a job's history
    Note {
        /// Job number
        job: String,
        /// The note
        text: String,
        /// Print the history entry as JSON
        #[arg(long)]
        json: bool,
    },
    /// Show or change the lab tables kept in the database (changing them takes an admin)
    Tables {
        /// Store this tables file (TOML) in the database
        #[arg(long, value_name = "FILE", conflicts_with = "reset")]
        set: Option<PathBuf>,
        /// Go back to the bundled tables
        #[arg(long)]
        reset: bool,
    },
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let db = args.db;
    let mut store = db.open()?;
    match args.cmd {
        Cmd::New { rx, scan, json } => {
            let actor = db.actor()?;
            let text = std::fs::read_to_string(&rx)
                .with_context(|| format!("cannot read Rx file {}", rx.display()))?;
            // Validate with file/line/column detail before touching the database.
            super::rx::read_rx(&rx)?;
            let hashed = scan
                .iter()
                .map(|p| {
                    let sha = sha256_file(p)?;
                    check_mesh("scan", p)?;
                    Ok((stored_path(p), sha))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            let files: Vec<NewFile> = hashed
                .iter()
                .map(|(p, h)| NewFile {
                    kind: "scan",
                    path: p,
                    sha256: h,
                })
                .collect();
            let job = store.create_job(&actor, &text, &files)?;
            if json {
                let v = serde_json::json!({
                    "job": job.number, "status": job.status, "kind": job.kind, "files": job.files,
                });
                println!("{v}");
            } else {
                println!("{}", job.number);
            }
        }
        Cmd::List { status, json } => {
            let list = store.list(status)?;
            let jobs = &list.jobs;
            if json {
                println!("{}", serde_json::to_string_pretty(jobs)?);
            } else if jobs.is_empty() && list.unreadable.is_empty() {
                eprintln!("no jobs");
            } else if !jobs.is_empty() {
                println!(
                    "{:<12} {:<19} {:<10} {:<10} UPDATED",
                    "JOB", "KIND", "STATUS", "DUE"
                );
                for j in jobs {
                    println!(
                        "{:<12} {:<19} {:<10} {:<10} {}",
                        j.number,
                        j.kind.as_str(),
                        j.status.as_str(),
                        j.due.as_deref().unwrap_or("-"),
                        j.updated_at
                    );
                }
            }
            if !list.unreadable.is_empty() {
                for u in &list.unreadable {
                    eprintln!(
                        "job {}: its stored {} cannot be read ({})",
                        u.number, u.what, u.problem
                    );
                }
                bail!(
                    "{} job(s) could not be read (listed above); the others are listed",
                    list.unreadable.len()
                );
            }
        }
        Cmd::Show { job, tables, json } => {
            let tables = match tables.or_else(|| {
                std::env::var_os("FAB_TABLES")
                    .filter(|t| !t.is_empty())
                    .map(PathBuf::from)
            }) {
                Some(t) => Tables::load(&t)?,
                None => store.tables()?,
            };
            let rec = store.job(&job)?;
            let wo = rec.work_order(&tables);
            if json {
                let v = serde_json::json!({ "job": rec, "work_order": wo });
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                let rx = &rec.rx;
                println!("Job {}  {}  status: {}", rec.number, rec.kind, rec.status);
                if let Some(h) = rec.hold_from {
                    println!("On hold from: {h}");
                }
                let next: Vec<_> = next_statuses(rec.status, rec.hold_from)
                    .iter()
                    .map(|s| s.as_str())
                    .collect();
                if !next.is_empty() {
                    println!("Next: {}", next.join(", "));
                }
                println!("Patient: {}  Practitioner: {}", rx.patient, rx.practitioner);
                if let Some(c) = &rx.clinic {
                    println!("Clinic: {c}");
                }
                println!(
                    "Created {} by {}; updated {}",
                    rec.created_at, rec.created_by, rec.updated_at
                );
                if !rx.notes.is_empty() {
                    println!("Notes:");
                    for n in &rx.notes {
                        println!("  - {n}");
                    }
                }
                if !rec.files.is_empty() {
                    println!("Files:");
                    for f in &rec.files {
                        println!("  {:<8} {}  sha256 {}", f.kind, f.path, f.sha256);
                    }
                }
                println!();
                print!("{wo}");
            }
        }
        Cmd::Advance {
            job,
            to,
            note,
            password_stdin,
            json,
        } => {
            let actor = db.actor()?;
            if to == Status::Approved {
                return approve(
                    &mut store,
                    &job,
                    &actor,
                    note.as_deref(),
                    password_stdin,
                    json,
                );
            }
            let t = store.advance(&job, to, &actor, note.as_deref())?;
            if json {
                println!("{}", serde_json::to_string(&t)?);
            } else {
                println!(
                    "{}: {} -> {} by {} ({})",
                    t.job, t.from, t.to, t.actor, t.role
                );
            }
        }
        Cmd::Approve {
            job,
            note,
            password_stdin,
            json,
        } => {
            let actor = db.actor()?;
            approve(
                &mut store,
                &job,
                &actor,
                note.as_deref(),
                password_stdin,
                json,
            )?;
        }
        Cmd::Audit { job, json, anchor } => {
            let r = store.audit(job.as_deref())?;
            if json {
                println!("{}", serde_json::to_string_pretty(&r)?);
            }
            if let Some(p) = r.problems.first() {
                for p in &r.problems {
                    let row = if p.row > 0 {
                        format!("history row {} ", p.row)
                    } else {
                        String::new()
                    };
                    eprintln!("{row}(job {}): {}", p.job, p.what);
                }
                let row = if p.row > 0 {
                    format!("history row {} (job {})", p.row, p.job)
                } else {
                    format!("job {}", p.job)
                };
                bail!(
                    "the record does not verify: {row} is the first that fails: {}",
                    p.what
                );
            }
            if !json {
                println!(
                    "ok: {} history row(s) chained, {} approval(s), {} signature(s){}; chain head {}",
                    r.rows,
                    r.approvals,
                    r.signatures,
                    if r.unsigned_approvals > 0 {
                        format!(
                            " ({} approval(s) from before signatures were kept)",
                            r.unsigned_approvals
                        )
                    } else {
                        String::new()
                    },
                    r.head
                );
            }
            if let Some(file) = anchor {
                check_anchor(&store, &file, &r)?;
            }
        }
        Cmd::History { job, json } => {
            let h = store.history(&job)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&h)?);
            } else {
                for e in h {
                    let change = match (e.action.as_str(), e.from, e.to) {
                        ("status", Some(f), Some(t)) => format!("{f} -> {t}"),
                        ("created", _, Some(t)) => format!("created ({t})"),
                        (a, _, _) => a.to_string(),
                    };
                    let note = e.note.map(|n| format!("  {n}")).unwrap_or_default();
                    println!("{}  {} ({})  {change}{note}", e.at, e.actor, e.role);
                }
            }
        }
        Cmd::Attach {
            job,
            file,
            kind,
            side,
            json,
        } => {
            let actor = db.actor()?;
            let sha = sha256_file(&file)?;
            check_mesh(&kind, &file)?;
            let path = stored_path(&file);
            let f = store.attach(
                &job,
                &actor,
                &NewFile {
                    kind: &kind,
                    path: &path,
                    sha256: &sha,
                },
                side.as_deref(),
            )?;
            if json {
                println!("{}", serde_json::to_string(&f)?);
            } else {
                println!("{job}: attached {} {} sha256 {}", f.kind, f.path, f.sha256);
            }
        }
        Cmd::Verify {
            job,
            file,
            kind,
            json,
        } => match file {
            Some(file) => verify(&store, &job, &file, &kind, json)?,
            None => verify_any(&store, Path::new(&job), &kind, json)?,
        },
        Cmd::Note { job, text, json } => {
            let actor = db.actor()?;
            if text.trim().is_empty() {
                bail!("an empty note says nothing: give the note text");
            }
            let e = store.note(&job, &actor, &text)?;
            if json {
                println!("{}", serde_json::to_string(&e)?);
            } else {
                println!("{job}: noted");
            }
        }
        Cmd::Tables { set, reset } => {
            if let Some(path) = set {
                let actor = db.actor()?;
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("cannot read tables file {}", path.display()))?;
                Tables::load(&path)?;
                store.set_tables(&actor, Some(&text))?;
                println!("lab tables stored in {}", store.path().display());
            } else if reset {
                let actor = db.actor()?;
                store.set_tables(&actor, None)?;
                println!("lab tables back to the bundled ones");
            } else {
                let t = store.tables()?;
                println!(
                    "{} material row(s), {} HCPCS row(s)",
                    t.materials.len(),
                    t.hcpcs.len()
                );
                for m in &t.materials {
                    println!("  {} / {}: {}", m.device, m.material, m.blank);
                }
                for h in &t.hcpcs {
                    println!("  {} {} when {}", h.code, h.device, h.when.join(" + "));
                }
            }
        }
    }
    Ok(())
}

/// `fab job approve`: lists what will be signed, asks the signer's password, signs.
fn approve(
    store: &mut Store,
    job: &str,
    actor: &str,
    note: Option<&str>,
    password_stdin: bool,
    json: bool,
) -> anyhow::Result<()> {
    // refuse before asking for a password what cannot be approved
    let role = store.active_role(actor)?;
    let rec = store.job(job)?;
    fab_ticket::workflow::check(rec.status, rec.hold_from, Status::Approved, role).map_err(
        |refusal| fab_ticket::store::StoreError::Refused {
            job: rec.number.clone(),
            refusal,
        },
    )?;
    let items = store.to_sign(job)?;
    eprintln!(
        "Signing job {} as {actor}, {}:",
        rec.number,
        fab_ticket::store::APPROVAL_MEANING
    );
    for s in &items {
        let side = s
            .side
            .as_deref()
            .map(|s| format!(" ({s})"))
            .unwrap_or_default();
        eprintln!("  {}{side} {}  sha256 {}", s.kind, s.path, s.sha256);
    }
    let password = super::login::password(&format!("{actor}'s password to sign"), password_stdin)?;
    let (t, sigs) = store.approve(job, actor, &password, note)?;
    if json {
        let v = serde_json::json!({
            "job": t.job, "from": t.from, "to": t.to, "actor": t.actor, "role": t.role,
            "at": t.at, "signatures": sigs,
        });
        println!("{v}");
    } else {
        println!(
            "{}: {} -> {} by {} ({}), {} signed: {}",
            t.job,
            t.from,
            t.to,
            t.actor,
            t.role,
            sigs.len(),
            fab_ticket::store::APPROVAL_MEANING
        );
    }
    Ok(())
}

#[derive(serde::Serialize)]
struct Verified<'a> {
    job: &'a str,
    kind: &'a str,
    file: String,
    sha256: String,
    matches: bool,
    signed: Option<&'a fab_ticket::store::Signature>,
    signed_sha256: Vec<&'a str>,
}

/// `fab job verify FILE`: the jobs standing approved whose approval signed this file.
fn verify_any(store: &Store, file: &Path, kind: &str, json: bool) -> anyhow::Result<()> {
    let sha = sha256_file(file)?;
    let found: Vec<_> = store
        .signed_with(&sha)?
        .into_iter()
        .filter(|(_, s)| s.kind == kind)
        .collect();
    let Some((job, _)) = found.first() else {
        bail!(
            "{} (sha256 {sha}) is not a {kind} signed for any job that stands approved",
            file.display()
        );
    };
    verify(store, job, file, kind, json)
}

/// `fab job verify`: the file against the programs (or designs) the job's standing approval
/// signed, after the history and the signatures verify.
fn verify(store: &Store, job: &str, file: &Path, kind: &str, json: bool) -> anyhow::Result<()> {
    let rec = store.job(job)?;
    let audit = store.audit(Some(job))?;
    if let Some(p) = audit.problems.first() {
        bail!(
            "job {}: the record does not verify (`fab job audit {}`): {}",
            rec.number,
            rec.number,
            p.what
        );
    }
    let sigs = store.approved_set(job)?;
    let of_kind: Vec<_> = sigs.iter().filter(|s| s.kind == kind).collect();
    if of_kind.is_empty() {
        bail!("job {}: its approval signed no {kind}", rec.number);
    }
    let sha = sha256_file(file)?;
    let signed = of_kind.iter().copied().find(|s| s.sha256 == sha);
    if json {
        let v = Verified {
            job: &rec.number,
            kind,
            file: file.display().to_string(),
            sha256: sha.clone(),
            matches: signed.is_some(),
            signed,
            signed_sha256: of_kind.iter().map(|s| s.sha256.as_str()).collect(),
        };
        println!("{}", serde_json::to_string(&v)?);
    }
    let Some(s) = signed else {
        let list: Vec<String> = of_kind
            .iter()
            .map(|s| format!("{} ({})", s.sha256, s.path))
            .collect();
        bail!(
            "{} is NOT a {kind} signed for job {}: its SHA-256 is {sha}; signed: {}",
            file.display(),
            rec.number,
            list.join(", ")
        );
    };
    if !json {
        let side = s
            .side
            .as_deref()
            .map(|s| format!(" ({s})"))
            .unwrap_or_default();
        println!(
            "job {}: {} is the {kind}{side} signed by {} ({}) at {}, {} (sha256 {sha})",
            rec.number,
            file.display(),
            s.signer,
            s.role,
            s.at,
            s.meaning
        );
    }
    Ok(())
}

/// Attaches what `fab plan --job` made, in one transaction: the programs and the design, each
/// recording the scan it came from (`(path, sha256)`, attached to the job now if it was not
/// already) and the foot it is for (`left`/`right`).
pub fn attach_plan(
    store: &mut Store,
    db: &Db,
    job: &str,
    scan: (&Path, &str),
    side: &str,
    programs: &[(PathBuf, String)],
    design: (&Path, &str),
) -> anyhow::Result<()> {
    attach_plan_from(
        store,
        db,
        job,
        &[(scan.0.to_path_buf(), scan.1.to_string())],
        side,
        programs,
        design,
    )
}

/// [`attach_plan`] for a plan made from several scans (a pair of orthoses on one blank: side
/// `pair`).
pub fn attach_plan_from(
    store: &mut Store,
    db: &Db,
    job: &str,
    scans: &[(PathBuf, String)],
    side: &str,
    programs: &[(PathBuf, String)],
    design: (&Path, &str),
) -> anyhow::Result<()> {
    let actor = db.actor()?;
    let outputs: Vec<NewFile> = programs
        .iter()
        .map(|(p, sha)| NewFile {
            kind: "program",
            path: p,
            sha256: sha,
        })
        .chain([NewFile {
            kind: "design",
            path: design.0,
            sha256: design.1,
        }])
        .collect();
    let scans: Vec<NewFile> = scans
        .iter()
        .map(|(p, sha)| NewFile {
            kind: "scan",
            path: p,
            sha256: sha,
        })
        .collect();
    let side = matches!(side, "left" | "right" | fab_ticket::store::PAIR).then_some(side);
    store.attach_plan_from(job, &actor, &scans, side, &outputs)?;
    Ok(())
}

/// `fab job audit --anchor FILE`: every head in FILE (lines `TIME rows N head HASH`) must still
/// be the hash of the chain's N-th row; then the current head is appended. Run after the chain
/// itself verified.
fn check_anchor(
    store: &Store,
    file: &Path,
    r: &fab_ticket::store::AuditReport,
) -> anyhow::Result<()> {
    use std::io::Write as _;
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", file.display())),
    };
    let mut last = None;
    let mut held = 0;
    for (k, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let w: Vec<&str> = line.split_whitespace().collect();
        let parsed = match w.as_slice() {
            [at, "rows", n, "head", h] if h.len() == 64 => n.parse().ok().map(|n| (*at, n, *h)),
            _ => None,
        };
        let Some((at, rows, head)) = parsed else {
            bail!(
                "{} line {}: not a chain head (`TIME rows N head HASH`)",
                file.display(),
                k + 1
            );
        };
        match store.chain_hash(rows)? {
            None => bail!(
                "the history has {} row(s), fewer than the {rows} anchored at {at} ({} line {}): rows were cut from its end",
                r.rows,
                file.display(),
                k + 1
            ),
            Some(h) if h != head => bail!(
                "the history's row {rows} no longer has the head anchored at {at} ({} line {}): the history was rewritten",
                file.display(),
                k + 1
            ),
            Some(_) => {}
        }
        held += 1;
        last = Some((rows, head.to_string()));
    }
    if last.as_ref() != Some(&(r.rows, r.head.clone())) {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(file)
            .with_context(|| format!("cannot write {}", file.display()))?;
        let now = fab_ticket::store::now();
        writeln!(f, "{now} rows {} head {}", r.rows, r.head)
            .with_context(|| format!("cannot write {}", file.display()))?;
    }
    eprintln!(
        "anchor {}: {held} earlier head(s) still in the chain; the head of its {} row(s) noted",
        file.display(),
        r.rows
    );
    Ok(())
}

/// The path as stored: absolute where it can be resolved.
/// A scan or design must be a mesh fab can read (STL, OBJ, PLY with triangles): a job must not
/// carry the Rx, an empty file or a broken export as its scan. Other kinds are not checked.
fn check_mesh(kind: &str, p: &Path) -> anyhow::Result<()> {
    if kind != "scan" && kind != "design" {
        return Ok(());
    }
    // read errors were reported when the file was hashed
    fab_geometry::load::load_path(p, fab_geometry::load::Units::Mm)
        .map(|_| ())
        .map_err(|e| anyhow::anyhow!("{} is not a usable {kind}: {}", p.display(), e.kind))
}

fn stored_path(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

/// The SHA-256 of a file, in lower-case hex, read in chunks.
pub(crate) fn sha256_file(path: &Path) -> anyhow::Result<String> {
    let mut f =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f
            .read(&mut buf)
            .with_context(|| format!("cannot read {}", path.display()))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}
