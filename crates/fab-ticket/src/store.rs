//! The job database: SQLite (bundled) through rusqlite.
//!
//! - Schema created and upgraded by numbered [`MIGRATIONS`] (`PRAGMA user_version`).
//! - WAL journal, `synchronous = FULL` (a change reported done survives a crash), a busy timeout,
//!   and every change in one `BEGIN IMMEDIATE` transaction, retried with back-off on the rare
//!   `SQLITE_BUSY` the timeout does not cover. Reads of the status happen inside the write
//!   transaction, so concurrent moves of one job cannot lose an update.
//! - The history is append-only (triggers refuse UPDATE and DELETE on it).
//! - What is milled is what was approved: programs and designs attach only while a job is
//!   received or designing, and the approval's history entry names their SHA-256.
//! - Users: the first user may be added by anyone and must be an `admin`; later users only by
//!   an admin.
//! - Job numbers are lab numbers `J<year>-<seq>` from a per-year counter, never derived from
//!   patient data. The Rx is kept verbatim (and parsed, as JSON) in the database.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{
    Connection, ErrorCode, OptionalExtension, Transaction, TransactionBehavior, params,
};
use serde::{Deserialize, Serialize};

use crate::Tables;
use crate::order::WorkOrder;
use crate::rx::{self, DeviceKind, Prescription, RxError};
use crate::tables::TablesError;
use crate::workflow::{self, MoveError, Role, Status};

/// Numbered schema migrations; migration `i` takes the schema from version `i` to `i + 1`.
pub const MIGRATIONS: &[&str] = &[
    // 1: users, jobs, attached files, the history, job number counters.
    r#"
    CREATE TABLE users (
        name       TEXT PRIMARY KEY,
        role       TEXT NOT NULL CHECK (role IN ('tech', 'prosthetist', 'operator', 'admin')),
        added_at   TEXT NOT NULL,
        added_by   TEXT
    );
    CREATE TABLE jobs (
        id         INTEGER PRIMARY KEY,
        number     TEXT NOT NULL UNIQUE,
        kind       TEXT NOT NULL,
        status     TEXT NOT NULL,
        hold_from  TEXT,
        patient    TEXT NOT NULL,
        rx_text    TEXT NOT NULL,
        rx_json    TEXT NOT NULL,
        created_at TEXT NOT NULL,
        created_by TEXT NOT NULL REFERENCES users(name),
        updated_at TEXT NOT NULL
    );
    CREATE TABLE files (
        id          INTEGER PRIMARY KEY,
        job_id      INTEGER NOT NULL REFERENCES jobs(id),
        kind        TEXT NOT NULL,
        path        TEXT NOT NULL,
        sha256      TEXT NOT NULL,
        attached_at TEXT NOT NULL,
        attached_by TEXT NOT NULL REFERENCES users(name)
    );
    CREATE TABLE history (
        id          INTEGER PRIMARY KEY,
        job_id      INTEGER NOT NULL REFERENCES jobs(id),
        at          TEXT NOT NULL,
        actor       TEXT NOT NULL,
        role        TEXT NOT NULL,
        action      TEXT NOT NULL,
        from_status TEXT,
        to_status   TEXT,
        note        TEXT
    );
    CREATE TABLE job_numbers (
        year INTEGER PRIMARY KEY,
        last INTEGER NOT NULL
    );
    CREATE TRIGGER history_append_only_update BEFORE UPDATE ON history
        BEGIN SELECT RAISE(ABORT, 'the job history is append-only'); END;
    CREATE TRIGGER history_append_only_delete BEFORE DELETE ON history
        BEGIN SELECT RAISE(ABORT, 'the job history is append-only'); END;
    "#,
    // 2: indexes for listing and history, and lab settings (a tables override).
    r#"
    CREATE INDEX jobs_status ON jobs(status);
    CREATE INDEX history_job ON history(job_id, id);
    CREATE INDEX files_job ON files(job_id, id);
    CREATE TABLE settings (
        key        TEXT PRIMARY KEY,
        value      TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        updated_by TEXT NOT NULL
    );
    "#,
];

/// How long one statement waits for another writer before SQLite reports busy.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// Whole-transaction retries after a busy report the timeout did not cover.
const BUSY_RETRIES: u32 = 40;

/// A job-database error. Refusals (workflow, role, unknown job or user) say why; nothing was
/// changed when one is returned.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the job database {path}: {error}")]
    Open {
        path: PathBuf,
        error: rusqlite::Error,
    },
    #[error(
        "the job database {path} has schema version {found}, newer than this fab knows ({known}); \
         use a newer fab"
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        known: usize,
    },
    #[error(
        "the job database stayed busy (other fab processes writing); nothing was changed, try again"
    )]
    Busy,
    #[error("job database error: {0}")]
    Sqlite(rusqlite::Error),
    #[error("no job {0}")]
    NoJob(String),
    #[error("no user `{0}`: add one with `fab user add NAME --role ROLE` (by an admin)")]
    NoUser(String),
    #[error("no acting user: give --as NAME or set FAB_USER")]
    NoActor,
    #[error("user `{0}` exists already")]
    UserExists(String),
    #[error("`{0}` is not a user name: use letters, digits, `.`, `_` or `-` (at most 64)")]
    BadUserName(String),
    #[error("there are no users yet: the first user must be an admin (`--role admin`)")]
    FirstUserNotAdmin,
    #[error(
        "{actor} is {} {role}; {what} takes {} {allowed}",
        workflow::article(role.as_str()),
        workflow::article(allowed)
    )]
    Forbidden {
        actor: String,
        role: Role,
        what: String,
        allowed: String,
    },
    #[error("job {job}: {refusal}")]
    Refused { job: String, refusal: MoveError },
    #[error("job {job}: {reason}")]
    Locked { job: String, reason: String },
    #[error("the Rx is invalid: {0}")]
    Rx(RxError),
    #[error("job {job}: its stored Rx cannot be read: {message}")]
    Corrupt { job: String, message: String },
    #[error("{0}")]
    Tables(TablesError),
}

impl From<RxError> for StoreError {
    fn from(e: RxError) -> StoreError {
        StoreError::Rx(e)
    }
}

impl From<TablesError> for StoreError {
    fn from(e: TablesError) -> StoreError {
        StoreError::Tables(e)
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> StoreError {
        StoreError::Sqlite(e)
    }
}

impl StoreError {
    fn is_busy(&self) -> bool {
        matches!(
            self,
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _))
                if matches!(e.code, ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
        )
    }
}

/// A lab user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub name: String,
    pub role: Role,
    pub added_at: String,
    pub added_by: Option<String>,
}

/// A file attached to a job (scan, program, design...), with its SHA-256.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileRecord {
    pub kind: String,
    pub path: String,
    pub sha256: String,
    pub attached_at: String,
    pub attached_by: String,
}

/// A file to attach: kind, path, SHA-256 (hex).
#[derive(Debug, Clone, PartialEq)]
pub struct NewFile<'a> {
    pub kind: &'a str,
    pub path: &'a Path,
    pub sha256: &'a str,
}

/// One job as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobRecord {
    pub number: String,
    pub kind: DeviceKind,
    pub status: Status,
    /// Where the job was when it was put on hold.
    pub hold_from: Option<Status>,
    /// The Rx as it was received, verbatim.
    pub rx_text: String,
    /// The Rx, parsed.
    pub rx: Prescription,
    pub created_at: String,
    pub created_by: String,
    pub updated_at: String,
    pub files: Vec<FileRecord>,
}

impl JobRecord {
    /// The clinic's patient reference (stays in the database and the lab's screens).
    pub fn patient(&self) -> &str {
        &self.rx.patient
    }

    /// The work order for this job's Rx.
    pub fn work_order(&self, tables: &Tables) -> WorkOrder {
        WorkOrder::from_prescription(&self.rx, tables)
    }

    /// The latest attached file of a kind.
    pub fn latest_file(&self, kind: &str) -> Option<&FileRecord> {
        self.files.iter().rev().find(|f| f.kind == kind)
    }
}

/// A line of `fab job list`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobSummary {
    pub number: String,
    pub kind: DeviceKind,
    pub status: Status,
    pub due: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// One history entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub role: Role,
    /// `created`, `status`, `attached` or `note`.
    pub action: String,
    pub from: Option<Status>,
    pub to: Option<Status>,
    pub note: Option<String>,
}

/// A status change that was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transition {
    pub job: String,
    pub from: Status,
    pub to: Status,
    pub actor: String,
    pub role: Role,
    pub at: String,
}

/// File kinds that make up the design a prosthetist approves: they may only be attached while
/// the job is received or designing, so what is milled is what was approved.
pub const DESIGN_KINDS: &[&str] = &["program", "design"];

/// An open job database.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl Store {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let open_err = |error| StoreError::Open {
            path: path.to_path_buf(),
            error,
        };
        let conn = Connection::open(path).map_err(open_err)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_err)?;
        let mut store = Store {
            conn,
            path: path.to_path_buf(),
        };
        store
            .retry(|s| {
                s.conn
                    .query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0))?;
                Ok(())
            })
            .map_err(|e| match e {
                StoreError::Sqlite(error) => open_err(error),
                e => e,
            })?;
        store
            .conn
            .execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")
            .map_err(open_err)?;
        store.migrate()?;
        Ok(store)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version (number of migrations applied).
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        // Most opens find the schema current: check without taking the write lock.
        if self.retry(|s| s.schema_version())? == MIGRATIONS.len() as i64 {
            return Ok(());
        }
        let path = self.path.clone();
        self.write(|tx| {
            let v: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            if v as usize > MIGRATIONS.len() {
                return Err(StoreError::TooNew {
                    path: path.clone(),
                    found: v,
                    known: MIGRATIONS.len(),
                });
            }
            for (i, sql) in MIGRATIONS.iter().enumerate().skip(v as usize) {
                tx.execute_batch(sql)?;
                tx.pragma_update(None, "user_version", (i + 1) as i64)?;
            }
            Ok(())
        })
    }

    /// Runs `f` again while it reports SQLITE_BUSY, with growing, jittered sleeps.
    fn retry<T>(
        &mut self,
        mut f: impl FnMut(&mut Store) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut delay_ms = 2u64;
        for attempt in 0..=BUSY_RETRIES {
            match f(self) {
                Err(e) if e.is_busy() => {
                    if attempt == BUSY_RETRIES {
                        return Err(StoreError::Busy);
                    }
                    let jitter = u64::from(
                        SystemTime::now()
                            .duration_since(UNIX_EPOCH)
                            .map_or(0, |d| d.subsec_nanos()),
                    ) % delay_ms.max(1);
                    std::thread::sleep(Duration::from_millis(delay_ms + jitter));
                    delay_ms = (delay_ms * 2).min(250);
                }
                other => return other,
            }
        }
        Err(StoreError::Busy)
    }

    /// Runs `f` in one `BEGIN IMMEDIATE` transaction, committed if `f` succeeds, retried whole
    /// on SQLITE_BUSY.
    fn write<T>(
        &mut self,
        mut f: impl FnMut(&Transaction) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.retry(|s| {
            let tx = s
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            let v = f(&tx)?;
            tx.commit()?;
            Ok(v)
        })
    }

    // ----- users -----

    /// Adds a user. With no users yet, anyone may add the first, which must be an admin; after
    /// that `actor` must be an admin.
    pub fn add_user(
        &mut self,
        actor: Option<&str>,
        name: &str,
        role: Role,
    ) -> Result<User, StoreError> {
        let ok_name = !name.is_empty()
            && name.len() <= 64
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if !ok_name {
            return Err(StoreError::BadUserName(name.to_string()));
        }
        self.write(|tx| {
            let count: i64 = tx.query_row("SELECT count(*) FROM users", [], |r| r.get(0))?;
            let added_by = if count == 0 {
                if role != Role::Admin {
                    return Err(StoreError::FirstUserNotAdmin);
                }
                actor.map(str::to_string)
            } else {
                let actor = actor.ok_or(StoreError::NoActor)?;
                let r = role_of(tx, actor)?;
                if r != Role::Admin {
                    return Err(StoreError::Forbidden {
                        actor: actor.to_string(),
                        role: r,
                        what: "adding a user".into(),
                        allowed: "admin".into(),
                    });
                }
                Some(actor.to_string())
            };
            let exists: bool = tx.query_row(
                "SELECT EXISTS(SELECT 1 FROM users WHERE name = ?1)",
                [name],
                |r| r.get(0),
            )?;
            if exists {
                return Err(StoreError::UserExists(name.to_string()));
            }
            let at = now();
            tx.execute(
                "INSERT INTO users (name, role, added_at, added_by) VALUES (?1, ?2, ?3, ?4)",
                params![name, role.as_str(), at, added_by],
            )?;
            Ok(User {
                name: name.to_string(),
                role,
                added_at: at,
                added_by: added_by.clone(),
            })
        })
    }

    /// All users, by name.
    pub fn users(&self) -> Result<Vec<User>, StoreError> {
        let mut st = self
            .conn
            .prepare("SELECT name, role, added_at, added_by FROM users ORDER BY name")?;
        let rows = st.query_map([], |r| {
            Ok(User {
                name: r.get(0)?,
                role: parse_col(r, 1)?,
                added_at: r.get(2)?,
                added_by: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    // ----- jobs -----

    /// Creates a job from an Rx (text, or its JSON form), attaching `files`, all in one
    /// transaction. The Rx is validated first; nothing is written if it is invalid.
    pub fn create_job(
        &mut self,
        actor: &str,
        rx_text: &str,
        files: &[NewFile],
    ) -> Result<JobRecord, StoreError> {
        let rx = if rx_text.trim_start().starts_with('{') {
            Prescription::from_json(rx_text)?
        } else {
            rx::parse(rx_text)?
        };
        let rx_json = serde_json::to_string(&rx).expect("a prescription always serialises");
        let number = self.write(|tx| {
            let role = role_of(tx, actor)?;
            if !matches!(role, Role::Tech | Role::Prosthetist | Role::Admin) {
                return Err(StoreError::Forbidden {
                    actor: actor.to_string(),
                    role,
                    what: "creating a job".into(),
                    allowed: "tech, prosthetist or admin".into(),
                });
            }
            let at = now();
            let year: i64 = at[0..4].parse().unwrap_or(1970);
            let seq: i64 = tx.query_row(
                "INSERT INTO job_numbers (year, last) VALUES (?1, 1)
                 ON CONFLICT (year) DO UPDATE SET last = last + 1 RETURNING last",
                [year],
                |r| r.get(0),
            )?;
            let number = format!("J{year}-{seq:04}");
            tx.execute(
                "INSERT INTO jobs (number, kind, status, patient, rx_text, rx_json, created_at,
                                   created_by, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?7)",
                params![
                    number,
                    rx.kind().as_str(),
                    Status::Received.as_str(),
                    rx.patient,
                    rx_text,
                    rx_json,
                    at,
                    actor
                ],
            )?;
            let id = tx.last_insert_rowid();
            history(
                tx,
                id,
                &at,
                actor,
                role,
                "created",
                None,
                Some(Status::Received),
                None,
            )?;
            for f in files {
                insert_file(tx, id, &at, actor, role, f)?;
            }
            Ok(number)
        })?;
        self.job(&number)
    }

    /// Attaches a file (scan, program, design...) with its SHA-256 to a job. Programs and designs
    /// are refused once the job has gone to review (what is milled is what was approved).
    pub fn attach_file(
        &mut self,
        job: &str,
        kind: &str,
        path: &Path,
        sha256: &str,
        actor: &str,
    ) -> Result<FileRecord, StoreError> {
        let f = NewFile { kind, path, sha256 };
        self.write(|tx| {
            let role = role_of(tx, actor)?;
            let (id, status, hold_from) = job_row(tx, job)?;
            let effective = if status == Status::OnHold {
                hold_from.unwrap_or(status)
            } else {
                status
            };
            if status.is_closed() {
                return Err(StoreError::Locked {
                    job: canonical(job),
                    reason: format!("it is {status}; a closed job takes no more files"),
                });
            }
            if DESIGN_KINDS.contains(&kind)
                && !matches!(effective, Status::Received | Status::Designing)
            {
                return Err(StoreError::Locked {
                    job: canonical(job),
                    reason: format!(
                        "it is {status}; a {kind} may only be attached while received or designing \
                         (move it back to designing to change the design)"
                    ),
                });
            }
            let at = now();
            insert_file(tx, id, &at, actor, role, &f)?;
            tx.execute(
                "UPDATE jobs SET updated_at = ?1 WHERE id = ?2",
                params![at, id],
            )?;
            Ok(FileRecord {
                kind: kind.to_string(),
                path: path.display().to_string(),
                sha256: sha256.to_string(),
                attached_at: at,
                attached_by: actor.to_string(),
            })
        })
    }

    /// Moves a job to `to`, if the workflow and the actor's role allow it; records the change.
    pub fn advance(
        &mut self,
        job: &str,
        to: Status,
        actor: &str,
        note: Option<&str>,
    ) -> Result<Transition, StoreError> {
        self.write(|tx| {
            let role = role_of(tx, actor)?;
            let (id, from, hold_from) = job_row(tx, job)?;
            workflow::check(from, hold_from, to, role).map_err(|refusal| StoreError::Refused {
                job: canonical(job),
                refusal,
            })?;
            let new_hold = (to == Status::OnHold).then_some(from);
            let at = now();
            // An approval names exactly what was approved: the latest program and design.
            let approved = if to == Status::Approved {
                approved_files(tx, id)?
            } else {
                None
            };
            let note = match (note, approved.as_deref()) {
                (Some(n), Some(a)) => Some(format!("{n}; {a}")),
                (None, Some(a)) => Some(a.to_string()),
                (n, None) => n.map(str::to_string),
            };
            let note = note.as_deref();
            let n = tx.execute(
                "UPDATE jobs SET status = ?1, hold_from = ?2, updated_at = ?3
                 WHERE id = ?4 AND status = ?5",
                params![
                    to.as_str(),
                    new_hold.map(Status::as_str),
                    at,
                    id,
                    from.as_str()
                ],
            )?;
            debug_assert_eq!(
                n, 1,
                "the write lock is held: the status cannot have changed"
            );
            history(
                tx,
                id,
                &at,
                actor,
                role,
                "status",
                Some(from),
                Some(to),
                note,
            )?;
            Ok(Transition {
                job: canonical(job),
                from,
                to,
                actor: actor.to_string(),
                role,
                at,
            })
        })
    }

    /// Adds a note to a job's history (no status change).
    pub fn note(&mut self, job: &str, actor: &str, note: &str) -> Result<HistoryEntry, StoreError> {
        self.write(|tx| {
            let role = role_of(tx, actor)?;
            let (id, status, _) = job_row(tx, job)?;
            let at = now();
            history(
                tx,
                id,
                &at,
                actor,
                role,
                "note",
                Some(status),
                Some(status),
                Some(note),
            )?;
            Ok(HistoryEntry {
                seq: tx.last_insert_rowid(),
                at,
                actor: actor.to_string(),
                role,
                action: "note".into(),
                from: Some(status),
                to: Some(status),
                note: Some(note.to_string()),
            })
        })
    }

    /// A job with its parsed Rx and attached files.
    pub fn job(&self, job: &str) -> Result<JobRecord, StoreError> {
        let row = self
            .conn
            .query_row(
                "SELECT id, kind, status, hold_from, rx_text, rx_json, created_at, created_by,
                        updated_at
                 FROM jobs WHERE number = ?1",
                [canonical(job)],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        parse_col::<Status>(r, 2)?,
                        r.get::<_, Option<String>>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, String>(5)?,
                        r.get::<_, String>(6)?,
                        r.get::<_, String>(7)?,
                        r.get::<_, String>(8)?,
                    ))
                },
            )
            .optional()?
            .ok_or_else(|| StoreError::NoJob(canonical(job)))?;
        let (id, _kind, status, hold_from, rx_text, rx_json, created_at, created_by, updated_at) =
            row;
        let rx: Prescription = serde_json::from_str(&rx_json).map_err(|e| StoreError::Corrupt {
            job: canonical(job),
            message: e.to_string(),
        })?;
        let hold_from = hold_from.and_then(|h| h.parse().ok());
        let mut st = self.conn.prepare(
            "SELECT kind, path, sha256, attached_at, attached_by FROM files
             WHERE job_id = ?1 ORDER BY id",
        )?;
        let files = st
            .query_map([id], |r| {
                Ok(FileRecord {
                    kind: r.get(0)?,
                    path: r.get(1)?,
                    sha256: r.get(2)?,
                    attached_at: r.get(3)?,
                    attached_by: r.get(4)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(JobRecord {
            number: canonical(job),
            kind: rx.kind(),
            status,
            hold_from,
            rx_text,
            rx,
            created_at,
            created_by,
            updated_at,
            files,
        })
    }

    /// Jobs, oldest first, optionally only those in `status`.
    pub fn jobs(&self, status: Option<Status>) -> Result<Vec<JobSummary>, StoreError> {
        let mut st = self.conn.prepare(
            "SELECT number, kind, status, json_extract(rx_json, '$.due'), created_at, updated_at
             FROM jobs WHERE ?1 IS NULL OR status = ?1 ORDER BY id",
        )?;
        let rows = st.query_map([status.map(Status::as_str)], |r| {
            Ok(JobSummary {
                number: r.get(0)?,
                kind: parse_col(r, 1)?,
                status: parse_col(r, 2)?,
                due: r.get(3)?,
                created_at: r.get(4)?,
                updated_at: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A job's history, oldest first.
    pub fn history(&self, job: &str) -> Result<Vec<HistoryEntry>, StoreError> {
        let id: i64 = self
            .conn
            .query_row(
                "SELECT id FROM jobs WHERE number = ?1",
                [canonical(job)],
                |r| r.get(0),
            )
            .optional()?
            .ok_or_else(|| StoreError::NoJob(canonical(job)))?;
        let mut st = self.conn.prepare(
            "SELECT id, at, actor, role, action, from_status, to_status, note FROM history
             WHERE job_id = ?1 ORDER BY id",
        )?;
        let rows = st.query_map([id], |r| {
            Ok(HistoryEntry {
                seq: r.get(0)?,
                at: r.get(1)?,
                actor: r.get(2)?,
                role: parse_col(r, 3)?,
                action: r.get(4)?,
                from: opt_status(r.get(5)?),
                to: opt_status(r.get(6)?),
                note: r.get(7)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    // ----- lab tables kept in the database -----

    /// The lab's tables: those stored in the database (`set_tables`), else the bundled ones.
    pub fn tables(&self) -> Result<Tables, StoreError> {
        let text: Option<String> = self
            .conn
            .query_row("SELECT value FROM settings WHERE key = 'tables'", [], |r| {
                r.get(0)
            })
            .optional()?;
        match text {
            Some(t) => Ok(Tables::from_toml(&t, "(stored in the job database)")?),
            None => Ok(Tables::bundled()),
        }
    }

    /// Stores a lab tables file in the database (admin only); `None` goes back to the bundled
    /// tables. The text is validated first.
    pub fn set_tables(&mut self, actor: &str, toml: Option<&str>) -> Result<(), StoreError> {
        if let Some(t) = toml {
            Tables::from_toml(t, "(new tables)")?;
        }
        self.write(|tx| {
            let role = role_of(tx, actor)?;
            if role != Role::Admin {
                return Err(StoreError::Forbidden {
                    actor: actor.to_string(),
                    role,
                    what: "changing the lab tables".into(),
                    allowed: "admin".into(),
                });
            }
            match toml {
                Some(t) => tx.execute(
                    "INSERT INTO settings (key, value, updated_at, updated_by)
                     VALUES ('tables', ?1, ?2, ?3)
                     ON CONFLICT (key) DO UPDATE SET value = ?1, updated_at = ?2, updated_by = ?3",
                    params![t, now(), actor],
                )?,
                None => tx.execute("DELETE FROM settings WHERE key = 'tables'", [])?,
            };
            Ok(())
        })
    }

    /// `PRAGMA integrity_check`: `"ok"` for a sound database.
    pub fn integrity_check(&self) -> Result<String, StoreError> {
        Ok(self
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?)
    }
}

fn role_of(tx: &Transaction, actor: &str) -> Result<Role, StoreError> {
    let role: Option<String> = tx
        .query_row("SELECT role FROM users WHERE name = ?1", [actor], |r| {
            r.get(0)
        })
        .optional()?;
    let role = role.ok_or_else(|| StoreError::NoUser(actor.to_string()))?;
    role.parse().map_err(|m: String| StoreError::Corrupt {
        job: "-".into(),
        message: m,
    })
}

/// `approved program PATH sha256 H, design PATH sha256 H` for the latest of each, if any.
fn approved_files(tx: &Transaction, job_id: i64) -> Result<Option<String>, StoreError> {
    let mut parts = Vec::new();
    for kind in DESIGN_KINDS {
        let f: Option<(String, String)> = tx
            .query_row(
                "SELECT path, sha256 FROM files WHERE job_id = ?1 AND kind = ?2
                 ORDER BY id DESC LIMIT 1",
                params![job_id, kind],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        if let Some((path, sha)) = f {
            parts.push(format!("{kind} {path} sha256 {sha}"));
        }
    }
    Ok((!parts.is_empty()).then(|| format!("approved {}", parts.join(", "))))
}

/// A job number as stored: numbers are made upper-case (`J2026-0001`), and an operator typing
/// `j2026-0001` or a stray space means the same job.
fn canonical(job: &str) -> String {
    job.trim().to_ascii_uppercase()
}

fn job_row(tx: &Transaction, job: &str) -> Result<(i64, Status, Option<Status>), StoreError> {
    tx.query_row(
        "SELECT id, status, hold_from FROM jobs WHERE number = ?1",
        [canonical(job)],
        |r| Ok((r.get(0)?, parse_col::<Status>(r, 1)?, opt_status(r.get(2)?))),
    )
    .optional()?
    .ok_or_else(|| StoreError::NoJob(canonical(job)))
}

#[allow(clippy::too_many_arguments)]
fn history(
    tx: &Transaction,
    job_id: i64,
    at: &str,
    actor: &str,
    role: Role,
    action: &str,
    from: Option<Status>,
    to: Option<Status>,
    note: Option<&str>,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO history (job_id, at, actor, role, action, from_status, to_status, note)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            job_id,
            at,
            actor,
            role.as_str(),
            action,
            from.map(Status::as_str),
            to.map(Status::as_str),
            note
        ],
    )?;
    Ok(())
}

fn insert_file(
    tx: &Transaction,
    job_id: i64,
    at: &str,
    actor: &str,
    role: Role,
    f: &NewFile,
) -> Result<(), StoreError> {
    let path = f.path.display().to_string();
    tx.execute(
        "INSERT INTO files (job_id, kind, path, sha256, attached_at, attached_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![job_id, f.kind, path, f.sha256, at, actor],
    )?;
    let note = format!("{} {} sha256 {}", f.kind, path, f.sha256);
    history(
        tx,
        job_id,
        at,
        actor,
        role,
        "attached",
        None,
        None,
        Some(&note),
    )
}

fn opt_status(s: Option<String>) -> Option<Status> {
    s.and_then(|s| s.parse().ok())
}

/// Reads a text column through `FromStr`/serde names (statuses, roles, device kinds).
fn parse_col<T: serde::de::DeserializeOwned>(r: &rusqlite::Row, i: usize) -> rusqlite::Result<T> {
    let s: String = r.get(i)?;
    serde_json::from_value(serde_json::Value::String(s.clone())).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
    })
}

/// Now, as an RFC 3339 UTC timestamp with milliseconds.
pub fn now() -> String {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_millis()
    )
}
