//! `fab job`: create jobs from prescriptions, list and show them (with the work order), move them
//! through the lab, attach files, read their history.
//!
//! Database: `--db PATH`, else `FAB_DB`, else `<user data dir>/fab/jobs.db`. Acting user:
//! `--as NAME`, else `FAB_USER`. A refused move exits 1 with the reason and changes nothing.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Subcommand;
use fab_ticket::Tables;
use fab_ticket::store::{NewFile, Store};
use fab_ticket::workflow::{Status, next_statuses};
use sha2::{Digest, Sha256};

/// Where the job database is and who is acting (shared by `fab job` and `fab user`).
#[derive(clap::Args)]
pub struct Db {
    /// Job database file [default: $FAB_DB, else <data dir>/fab/jobs.db]
    #[arg(long, global = true, value_name = "PATH")]
    pub db: Option<PathBuf>,
    /// Acting lab user [default: $FAB_USER]
    #[arg(long = "as", global = true, value_name = "NAME")]
    pub actor: Option<String>,
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
        let dir = dirs::data_dir()
            .context("no user data directory here: give --db PATH or set FAB_DB")?
            .join("fab");
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        Ok(dir.join("jobs.db"))
    }

    /// Opens the database (creating and migrating it as needed).
    pub fn open(&self) -> anyhow::Result<Store> {
        Ok(Store::open(&self.path()?)?)
    }

    /// The acting user: `--as`, else `FAB_USER`.
    pub fn actor(&self) -> anyhow::Result<String> {
        self.actor
            .clone()
            .or_else(|| std::env::var("FAB_USER").ok().filter(|u| !u.is_empty()))
            .context("no acting user: give --as NAME or set FAB_USER")
    }
}

const WORKFLOW_HELP: &str = "\
Workflow: received -> designing -> review -> approved -> milling -> finishing -> qc -> shipped;
review -> designing (changes requested); on-hold and cancelled from any open state; on-hold goes
back to where it was.
Roles: tech (received->designing->review, milling->finishing->qc->shipped), prosthetist
(review->approved or ->designing, qc->shipped, cancels), operator (approved->milling->finishing),
admin (everything but the review decisions; adds users). Anyone may hold and resume a job.
Approving records the SHA-256 of the program and design attached; after review they are locked.
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
        /// Print the change as JSON
        #[arg(long)]
        json: bool,
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
        /// Print the attachment as JSON
        #[arg(long)]
        json: bool,
    },
    /// Check a file against what was approved: exit 0 only if the job was approved and the
    /// file is, byte for byte (SHA-256), the program (or design) recorded at the approval
    Verify {
        /// Job number
        job: String,
        /// The file to check, e.g. the program on the machine's controller
        file: PathBuf,
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
            let jobs = store.jobs(status)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&jobs)?);
            } else if jobs.is_empty() {
                eprintln!("no jobs");
            } else {
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
            json,
        } => {
            let actor = db.actor()?;
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
            json,
        } => {
            let actor = db.actor()?;
            let sha = sha256_file(&file)?;
            check_mesh(&kind, &file)?;
            let f = store.attach_file(&job, &kind, &stored_path(&file), &sha, &actor)?;
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
        } => verify(&store, &job, &file, &kind, json)?,
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

#[derive(serde::Serialize)]
struct Verified<'a> {
    job: &'a str,
    kind: &'a str,
    file: String,
    sha256: String,
    approved_sha256: &'a str,
    approved_by: &'a str,
    approved_at: &'a str,
    matches: bool,
}

/// `fab job verify`: the file against the program or design named by the job's approval. The
/// approval's history entry records their SHA-256, and after review no program or design can
/// be attached, so the latest one of the kind, if the approval names its hash, is what the
/// prosthetist approved.
fn verify(store: &Store, job: &str, file: &Path, kind: &str, json: bool) -> anyhow::Result<()> {
    let rec = store.job(job)?;
    let history = store.history(job)?;
    let Some(approval) = history
        .iter()
        .rev()
        .find(|h| h.action == "status" && h.to == Some(Status::Approved))
    else {
        bail!(
            "job {}: not approved (status {}): there is no approved {kind} to check {} against",
            rec.number,
            rec.status,
            file.display()
        );
    };
    let recorded = rec.latest_file(kind).filter(|f| {
        approval
            .note
            .as_deref()
            .is_some_and(|n| n.contains(&f.sha256))
    });
    let Some(recorded) = recorded else {
        bail!("job {}: approved with no {kind} attached", rec.number);
    };
    let sha = sha256_file(file)?;
    let matches = sha == recorded.sha256;
    if json {
        let v = Verified {
            job: &rec.number,
            kind,
            file: file.display().to_string(),
            sha256: sha.clone(),
            approved_sha256: &recorded.sha256,
            approved_by: &approval.actor,
            approved_at: &approval.at,
            matches,
        };
        println!("{}", serde_json::to_string(&v)?);
    }
    if !matches {
        bail!(
            "{} is NOT the {kind} approved for job {}: its SHA-256 is {sha}, the approved one ({}) is {}",
            file.display(),
            rec.number,
            recorded.path,
            recorded.sha256
        );
    }
    if !json {
        println!(
            "job {}: {} is the {kind} approved by {} at {} (sha256 {sha})",
            rec.number,
            file.display(),
            approval.actor,
            approval.at
        );
    }
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
