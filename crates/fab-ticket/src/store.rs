//! The job database: SQLite (bundled) through rusqlite.
//!
//! - Schema created and upgraded by numbered [`MIGRATIONS`] (`PRAGMA user_version`).
//! - WAL journal, `synchronous = FULL` (a change reported done survives a crash), a busy timeout,
//!   and every change in one `BEGIN IMMEDIATE` transaction, retried with back-off on the rare
//!   `SQLITE_BUSY` the timeout does not cover. Reads of the status happen inside the write
//!   transaction, so concurrent moves of one job cannot lose an update.
//! - A database is made only by [`Store::create`] (file mode 0600, fab's `application_id`, its
//!   first admin with a password); [`Store::open`] opens an existing fab database and refuses a
//!   missing or empty file and any SQLite file that is not fab's. A read-only file is opened
//!   read-only (everything can be read, nothing changed).
//! - The history is append-only (triggers refuse UPDATE and DELETE on it) and hash-chained: each
//!   row's `hash` is the SHA-256 of its content and the previous row's hash, so a row edited or
//!   removed outside fab is found by [`Store::audit`].
//! - What is milled is what was approved: programs and designs attach only while a job is
//!   received or designing, and an approval is an electronic signature ([`Store::approve`]):
//!   the prosthetist's password at that moment, one `signatures` row per program and design
//!   (signer, time, meaning, SHA-256), listed in the approval's history entry.
//! - Users have argon2id passwords; sessions are random tokens kept as their SHA-256, with an
//!   expiry. Only an admin adds, disables or re-enables users, resets passwords or changes
//!   roles, and nobody changes their own role.
//! - Job numbers are lab numbers `J<year>-<seq>` from a per-year counter, never derived from
//!   patient data. The Rx is kept verbatim (and parsed, as JSON) in the database.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{
    Connection, ErrorCode, OptionalExtension, Transaction, TransactionBehavior, params,
};
use serde::{Deserialize, Serialize};

use crate::Tables;
use crate::auth::{self, AuthError};
use crate::order::WorkOrder;
use crate::rx::{self, DeviceKind, Prescription, RxError, RxSide};
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
    // 3: passwords and sessions, the hash chain over the history (filled and the append-only
    // triggers made again by `after_migration`), which scan and side each file belongs to,
    // and signatures.
    r#"
    DROP TRIGGER history_append_only_update;
    DROP TRIGGER history_append_only_delete;
    ALTER TABLE users ADD COLUMN password TEXT;
    ALTER TABLE users ADD COLUMN disabled_at TEXT;
    ALTER TABLE history ADD COLUMN prev_hash TEXT;
    ALTER TABLE history ADD COLUMN hash TEXT;
    ALTER TABLE files ADD COLUMN side TEXT;
    ALTER TABLE files ADD COLUMN batch INTEGER;
    ALTER TABLE files ADD COLUMN scan_sha256 TEXT;
    CREATE TABLE sessions (
        token_sha256 TEXT PRIMARY KEY,
        user         TEXT NOT NULL REFERENCES users(name),
        created_at   TEXT NOT NULL,
        expires_at   TEXT NOT NULL
    );
    CREATE TABLE signatures (
        id          INTEGER PRIMARY KEY,
        job_id      INTEGER NOT NULL REFERENCES jobs(id),
        history_id  INTEGER NOT NULL REFERENCES history(id),
        signer      TEXT NOT NULL,
        role        TEXT NOT NULL,
        at          TEXT NOT NULL,
        meaning     TEXT NOT NULL,
        kind        TEXT NOT NULL,
        side        TEXT,
        path        TEXT NOT NULL,
        sha256      TEXT NOT NULL,
        scan_sha256 TEXT
    );
    CREATE INDEX signatures_job ON signatures(job_id, history_id);
    CREATE TRIGGER signatures_append_only_update BEFORE UPDATE ON signatures
        BEGIN SELECT RAISE(ABORT, 'signatures are append-only'); END;
    CREATE TRIGGER signatures_append_only_delete BEFORE DELETE ON signatures
        BEGIN SELECT RAISE(ABORT, 'signatures are append-only'); END;
    "#,
    // 4: failed logins, per login name, for the limit every login (command line and web)
    // keeps.
    r#"
    CREATE TABLE login_failures (
        name TEXT NOT NULL,
        at   TEXT NOT NULL
    );
    CREATE INDEX login_failures_name ON login_failures(name, at);
    "#,
];

/// Failed logins allowed for one login name in [`LOGIN_WINDOW`]; then even the right password
/// waits until the oldest of them is older than the window.
pub const LOGIN_FAILURES: usize = 5;
/// The window [`LOGIN_FAILURES`] counts in.
pub const LOGIN_WINDOW: Duration = Duration::from_secs(300);

/// `PRAGMA application_id` of a fab job database (`FAB1`): fab opens no other SQLite file.
pub const APPLICATION_ID: i32 = 0x4641_4231;

/// What an approval means, recorded with each signature.
pub const APPROVAL_MEANING: &str = "approved for milling";

/// How long a session lasts unless `login` is told otherwise.
pub const SESSION_HOURS: u32 = 12;

const HISTORY_TRIGGERS: &str = r#"
    CREATE TRIGGER history_append_only_update BEFORE UPDATE ON history
        BEGIN SELECT RAISE(ABORT, 'the job history is append-only'); END;
    CREATE TRIGGER history_append_only_delete BEFORE DELETE ON history
        BEGIN SELECT RAISE(ABORT, 'the job history is append-only'); END;
"#;

/// The hash before the first history row.
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// How long one statement waits for another writer before SQLite reports busy.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// Whole-transaction retries after a busy report the timeout did not cover.
const BUSY_RETRIES: u32 = 40;

/// A job-database error. Refusals (workflow, role, unknown job or user) say why; nothing was
/// changed when one is returned.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no job database at {path}: make one with `fab init --admin NAME`")]
    Missing { path: PathBuf },
    #[error("{path} exists already: `fab init` makes a new job database, it changes no file")]
    Exists { path: PathBuf },
    #[error(
        "{path} is an empty file, not a job database: remove it, or make a database with \
         `fab init --admin NAME`"
    )]
    Empty { path: PathBuf },
    #[error("{path} is not a fab job database ({why}); fab leaves it as it is")]
    Foreign { path: PathBuf, why: String },
    #[error("cannot open the job database {path}: {error}")]
    Open {
        path: PathBuf,
        error: rusqlite::Error,
    },
    #[error("cannot make the job database {path}: {error}")]
    Create {
        path: PathBuf,
        error: std::io::Error,
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
        "the job database {path} is read-only here and needs an upgrade fab cannot write; open it \
         once where it is writable"
    )]
    ReadOnlyOld { path: PathBuf },
    #[error("the job database {path} is read-only here: it can be read, not changed")]
    ReadOnly { path: PathBuf },
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
    #[error("no acting user: log in with `fab login NAME`")]
    NoActor,
    #[error("user `{0}` exists already")]
    UserExists(String),
    #[error("`{0}` is not a user name: use letters, digits, `.`, `_` or `-` (at most 64)")]
    BadUserName(String),
    #[error("user `{0}` is disabled: an admin re-enables users with `fab user enable NAME`")]
    Disabled(String),
    #[error("wrong user name or password")]
    LoginFailed,
    #[error(
        "too many failed logins as `{name}` in the last {} minutes: try again in {minutes} \
         minute(s)",
        LOGIN_WINDOW.as_secs() / 60
    )]
    LoginLimited { name: String, minutes: u64 },
    #[error("the session has expired or was ended: log in again with `fab login NAME`")]
    SessionInvalid,
    #[error("that is not {0}'s password: nothing was signed or changed")]
    WrongPassword(String),
    #[error(
        "moving a job to approved is an electronic signature: it takes the prosthetist's \
         password (`fab job approve JOB`)"
    )]
    SignatureRequired,
    #[error("nobody changes their own role: another admin does it")]
    OwnRole,
    #[error("{0}: an admin does not disable their own account")]
    DisableSelf(String),
    #[error("{0}")]
    Auth(AuthError),
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
    #[error("job {job} cannot be approved: {reason}")]
    NothingToApprove { job: String, reason: String },
    #[error("job {job}: {reason}")]
    NotApproved { job: String, reason: String },
    #[error("the Rx is invalid: {0}")]
    Rx(RxError),
    #[error("job {job}: its stored {what} cannot be read ({message})")]
    Corrupt {
        job: String,
        what: String,
        message: String,
    },
    #[error("{0}")]
    Tables(TablesError),
}

impl From<AuthError> for StoreError {
    fn from(e: AuthError) -> StoreError {
        StoreError::Auth(e)
    }
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
    /// A disabled user cannot log in or act.
    #[serde(default)]
    pub disabled: bool,
}

/// A file attached to a job (scan, program, design...), with its SHA-256.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileRecord {
    pub kind: String,
    pub path: String,
    pub sha256: String,
    pub attached_at: String,
    pub attached_by: String,
    /// The side it is for (`left`/`right`), where given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub side: Option<String>,
    /// The scan a program or design was planned from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scan_sha256: Option<String>,
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

/// One signed item of an approval: an electronic signature of one program or design.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Signature {
    /// `program` or `design`.
    pub kind: String,
    pub side: Option<String>,
    pub path: String,
    /// SHA-256 of exactly what is signed.
    pub sha256: String,
    /// The scan it was planned from, where known.
    pub scan_sha256: Option<String>,
    pub signer: String,
    pub role: Role,
    pub at: String,
    /// What the signature means: [`APPROVAL_MEANING`].
    pub meaning: String,
}

/// `fab job list`: the jobs that can be read, and those that cannot.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct JobList {
    pub jobs: Vec<JobSummary>,
    pub unreadable: Vec<Unreadable>,
}

/// A job row that cannot be read: its number, which column, what is wrong (never the content).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unreadable {
    pub number: String,
    pub what: String,
    pub problem: String,
}

/// What [`Store::audit`] found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditReport {
    /// History rows checked.
    pub rows: usize,
    /// The last row's hash: recorded elsewhere, it shows later that no row was dropped from
    /// the end.
    pub head: String,
    pub approvals: usize,
    pub signatures: usize,
    /// Approvals made before signatures were kept.
    pub unsigned_approvals: usize,
    pub problems: Vec<AuditProblem>,
}

/// A history row (`row`, 0 where the problem is not one row) that does not verify.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditProblem {
    pub row: i64,
    pub job: String,
    pub what: String,
}

/// File kinds that make up the design a prosthetist approves: they may only be attached while
/// the job is received or designing, so what is milled is what was approved.
pub const DESIGN_KINDS: &[&str] = &["program", "design"];

/// An open job database.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    read_only: bool,
}

/// Whether the file can be opened for writing by this process.
fn writable(path: &Path) -> bool {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .is_ok()
}

impl Store {
    /// Opens the existing fab database at `path` and brings its schema up to date. A missing or
    /// empty file, or an SQLite file that is not fab's, is refused and left untouched. A file
    /// this process cannot write is opened read-only.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let p = || path.to_path_buf();
        let meta = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(StoreError::Missing { path: p() });
            }
            Err(e) => {
                return Err(StoreError::Create {
                    path: p(),
                    error: e,
                });
            }
        };
        if !meta.is_file() {
            return Err(StoreError::Foreign {
                path: p(),
                why: "not a file".into(),
            });
        }
        if meta.len() == 0 {
            return Err(StoreError::Empty { path: p() });
        }
        let mut magic = [0u8; 16];
        let read = std::fs::File::open(path)
            .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic));
        if let Err(e) = read {
            if e.kind() == std::io::ErrorKind::UnexpectedEof {
                return Err(StoreError::Foreign {
                    path: p(),
                    why: "not an SQLite file".into(),
                });
            }
            return Err(StoreError::Create {
                path: p(),
                error: e,
            });
        }
        if &magic != b"SQLite format 3\0" {
            return Err(StoreError::Foreign {
                path: p(),
                why: "not an SQLite file".into(),
            });
        }
        Store::open_as(path, !writable(path))
    }

    /// Opens the existing fab database at `path` read-only, as [`Store::open`] does for a file
    /// it cannot write: everything can be read, nothing changed.
    pub fn open_read_only(path: &Path) -> Result<Store, StoreError> {
        Store::open(path)?; // the same refusals (missing, empty, foreign) first
        Store::open_as(path, true)
    }

    fn open_as(path: &Path, read_only: bool) -> Result<Store, StoreError> {
        let p = || path.to_path_buf();
        let mut store = Store::connect(path, read_only)?;
        store.check_identity()?;
        if read_only {
            let v = store.schema_version()?;
            if v as usize > MIGRATIONS.len() {
                return Err(StoreError::TooNew {
                    path: p(),
                    found: v,
                    known: MIGRATIONS.len(),
                });
            }
            if v as usize != MIGRATIONS.len() {
                return Err(StoreError::ReadOnlyOld { path: p() });
            }
        } else {
            store.set_wal()?;
            store.migrate()?;
        }
        Ok(store)
    }

    /// Makes a new job database at `path` (the file must not exist; it is made with mode 0600)
    /// with `admin` as its first user, an admin with `password`. On any failure the new file is
    /// removed.
    pub fn create(path: &Path, admin: &str, password: &str) -> Result<Store, StoreError> {
        check_user_name(admin)?;
        let hash = auth::hash_password(password)?;
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        match opts.open(path) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(StoreError::Exists {
                    path: path.to_path_buf(),
                });
            }
            Err(error) => {
                return Err(StoreError::Create {
                    path: path.to_path_buf(),
                    error,
                });
            }
        }
        let made = (|| {
            let mut store = Store::connect(path, false)?;
            store
                .conn
                .pragma_update(None, "application_id", APPLICATION_ID)?;
            store.set_wal()?;
            store.migrate()?;
            store.write(|tx| {
                tx.execute(
                    "INSERT INTO users (name, role, added_at, added_by, password)
                     VALUES (?1, 'admin', ?2, NULL, ?3)",
                    params![admin, now(), hash],
                )?;
                Ok(())
            })?;
            Ok(store)
        })();
        if made.is_err() {
            for suffix in ["", "-wal", "-shm", "-journal"] {
                let mut f = path.as_os_str().to_owned();
                f.push(suffix);
                let _ = std::fs::remove_file(PathBuf::from(f));
            }
        }
        made
    }

    fn connect(path: &Path, read_only: bool) -> Result<Store, StoreError> {
        use rusqlite::OpenFlags;
        let open_err = |error| StoreError::Open {
            path: path.to_path_buf(),
            error,
        };
        let flags = if read_only {
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
        } else {
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX
        };
        let mut conn = Connection::open_with_flags(path, flags).map_err(open_err)?;
        if read_only
            && conn
                .query_row("SELECT count(*) FROM sqlite_master", [], |r| {
                    r.get::<_, i64>(0)
                })
                .is_err()
        {
            // a WAL database in a folder where its shared-memory file cannot be made: read
            // the file as it stands
            let mut uri = std::ffi::OsString::from("file:");
            uri.push(path.as_os_str());
            uri.push("?immutable=1");
            conn = Connection::open_with_flags(
                std::path::Path::new(&uri),
                flags | OpenFlags::SQLITE_OPEN_URI,
            )
            .map_err(open_err)?;
        }
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_err)?;
        conn.execute_batch("PRAGMA foreign_keys = ON;")
            .map_err(open_err)?;
        Ok(Store {
            conn,
            path: path.to_path_buf(),
            read_only,
        })
    }

    fn set_wal(&mut self) -> Result<(), StoreError> {
        let path = self.path.clone();
        let open_err = |error| StoreError::Open {
            path: path.clone(),
            error,
        };
        self.retry(|s| {
            s.conn
                .query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0))?;
            Ok(())
        })
        .map_err(|e| match e {
            StoreError::Sqlite(error) => open_err(error),
            e => e,
        })?;
        self.conn
            .execute_batch("PRAGMA synchronous = FULL;")
            .map_err(open_err)
    }

    /// Refuses an SQLite file that is not fab's: fab's `application_id`, or (a database made
    /// before fab set one) no application id, a schema version fab wrote and fab's tables.
    fn check_identity(&mut self) -> Result<(), StoreError> {
        let foreign = |why: &str| StoreError::Foreign {
            path: self.path.clone(),
            why: why.to_string(),
        };
        let read = |conn: &Connection| -> rusqlite::Result<(i32, i64, i64)> {
            let app: i32 = conn.query_row("PRAGMA application_id", [], |r| r.get(0))?;
            let v: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            let tables: i64 = conn.query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table'
                 AND name IN ('users', 'jobs', 'files', 'history', 'job_numbers')",
                [],
                |r| r.get(0),
            )?;
            Ok((app, v, tables))
        };
        let (app, v, tables) = match read(&self.conn) {
            Ok(x) => x,
            Err(rusqlite::Error::SqliteFailure(e, _))
                if matches!(e.code, ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) =>
            {
                return Err(foreign("not an SQLite database, or a damaged one"));
            }
            Err(e) => return Err(e.into()),
        };
        if app == APPLICATION_ID {
            return Ok(());
        }
        if app != 0 {
            return Err(foreign(&format!(
                "another program's file: application id {app:#x}"
            )));
        }
        if (1..=2).contains(&v) && tables == 5 {
            // made by a fab before the application id: adopted, and marked as fab's
            if !self.read_only {
                self.conn
                    .pragma_update(None, "application_id", APPLICATION_ID)?;
            }
            return Ok(());
        }
        Err(foreign("an SQLite file fab did not make"))
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether this database was opened read-only (its file is not writable here).
    pub fn is_read_only(&self) -> bool {
        self.read_only
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
                after_migration(tx, i)?;
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
        if self.read_only {
            return Err(StoreError::ReadOnly {
                path: self.path.clone(),
            });
        }
        self.retry(|s| {
            let tx = s
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            let v = f(&tx)?;
            tx.commit()?;
            Ok(v)
        })
    }

    // ----- users and sessions -----

    /// Adds a user with a password; `actor` must be an admin.
    pub fn add_user(
        &mut self,
        actor: &str,
        name: &str,
        role: Role,
        password: &str,
    ) -> Result<User, StoreError> {
        check_user_name(name)?;
        let hash = auth::hash_password(password)?;
        self.write(|tx| {
            require_admin(tx, actor, "adding a user")?;
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
                "INSERT INTO users (name, role, added_at, added_by, password)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![name, role.as_str(), at, actor, hash],
            )?;
            Ok(User {
                name: name.to_string(),
                role,
                added_at: at,
                added_by: Some(actor.to_string()),
                disabled: false,
            })
        })
    }

    /// Sets the password of admin `name` in a database made before fab kept passwords (no user
    /// has one yet): how such a database is taken into use by `fab init`. Refused once any
    /// user has a password.
    pub fn claim_admin(&mut self, name: &str, password: &str) -> Result<(), StoreError> {
        let hash = auth::hash_password(password)?;
        let path = self.path.clone();
        self.write(|tx| {
            let with_password: i64 = tx.query_row(
                "SELECT count(*) FROM users WHERE password IS NOT NULL",
                [],
                |r| r.get(0),
            )?;
            if with_password > 0 {
                return Err(StoreError::Exists { path: path.clone() });
            }
            let role = role_of(tx, name)?;
            if role != Role::Admin {
                return Err(StoreError::Forbidden {
                    actor: name.to_string(),
                    role,
                    what: "taking an existing database into use".into(),
                    allowed: "admin".into(),
                });
            }
            tx.execute(
                "UPDATE users SET password = ?1 WHERE name = ?2",
                params![hash, name],
            )?;
            Ok(())
        })
    }

    /// All users, by name.
    pub fn users(&self) -> Result<Vec<User>, StoreError> {
        let mut st = self.conn.prepare(
            "SELECT name, role, added_at, added_by, disabled_at FROM users ORDER BY name",
        )?;
        let rows = st.query_map([], |r| {
            Ok(User {
                name: r.get(0)?,
                role: parse_col(r, 1)?,
                added_at: r.get(2)?,
                added_by: r.get(3)?,
                disabled: r.get::<_, Option<String>>(4)?.is_some(),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A user by name.
    pub fn user(&self, name: &str) -> Result<User, StoreError> {
        self.users()?
            .into_iter()
            .find(|u| u.name == name)
            .ok_or_else(|| StoreError::NoUser(name.to_string()))
    }

    /// Sets a user's password. An admin resets anyone's (and ends their sessions); others change
    /// only their own, giving the current one.
    pub fn set_password(
        &mut self,
        actor: &str,
        name: &str,
        new_password: &str,
        current: Option<&str>,
    ) -> Result<(), StoreError> {
        let hash = auth::hash_password(new_password)?;
        let actor_role = self.active_role(actor)?;
        if actor_role != Role::Admin {
            if actor != name {
                return Err(StoreError::Forbidden {
                    actor: actor.to_string(),
                    role: actor_role,
                    what: "setting another user's password".into(),
                    allowed: "admin".into(),
                });
            }
            self.check_password(actor, current.unwrap_or(""))?;
        }
        self.write(|tx| {
            let n = tx.execute(
                "UPDATE users SET password = ?1 WHERE name = ?2",
                params![hash, name],
            )?;
            if n == 0 {
                return Err(StoreError::NoUser(name.to_string()));
            }
            if actor != name {
                tx.execute("DELETE FROM sessions WHERE user = ?1", [name])?;
            }
            Ok(())
        })
    }

    /// Disables (or re-enables) a user: a disabled user cannot log in, and their sessions end.
    /// Admins only; an admin does not disable themself.
    pub fn set_disabled(
        &mut self,
        actor: &str,
        name: &str,
        disabled: bool,
    ) -> Result<(), StoreError> {
        if disabled && actor == name {
            return Err(StoreError::DisableSelf(name.to_string()));
        }
        self.write(|tx| {
            require_admin(
                tx,
                actor,
                if disabled {
                    "disabling a user"
                } else {
                    "enabling a user"
                },
            )?;
            let at = disabled.then(now);
            let n = tx.execute(
                "UPDATE users SET disabled_at = ?1 WHERE name = ?2",
                params![at, name],
            )?;
            if n == 0 {
                return Err(StoreError::NoUser(name.to_string()));
            }
            if disabled {
                tx.execute("DELETE FROM sessions WHERE user = ?1", [name])?;
            }
            Ok(())
        })
    }

    /// Changes another user's role (admins only; nobody changes their own).
    pub fn set_role(&mut self, actor: &str, name: &str, role: Role) -> Result<(), StoreError> {
        if actor == name {
            return Err(StoreError::OwnRole);
        }
        self.write(|tx| {
            require_admin(tx, actor, "changing a role")?;
            let n = tx.execute(
                "UPDATE users SET role = ?1 WHERE name = ?2",
                params![role.as_str(), name],
            )?;
            if n == 0 {
                return Err(StoreError::NoUser(name.to_string()));
            }
            Ok(())
        })
    }

    /// The role of an active (existing, not disabled) user.
    pub fn active_role(&self, name: &str) -> Result<Role, StoreError> {
        user_role(&self.conn, name)
    }

    /// Checks `password` against `name`'s; any mismatch (no such user, disabled, no password
    /// set, wrong password) is [`StoreError::WrongPassword`].
    pub fn check_password(&self, name: &str, password: &str) -> Result<(), StoreError> {
        let (hash, disabled): (Option<String>, Option<String>) = self
            .conn
            .query_row(
                "SELECT password, disabled_at FROM users WHERE name = ?1",
                [name],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?
            .unwrap_or((None, None));
        let ok = disabled.is_none() && hash.is_some_and(|h| auth::verify_password(password, &h));
        if ok {
            Ok(())
        } else {
            Err(StoreError::WrongPassword(name.to_string()))
        }
    }

    /// Starts a session: checks the password and returns a new token (kept here only as its
    /// SHA-256) and when it expires. Any failure reads the same: wrong user name or password.
    pub fn login(
        &mut self,
        name: &str,
        password: &str,
        hours: u32,
    ) -> Result<(String, String), StoreError> {
        // the limit first, the same for names that exist and names that do not, so it tells
        // nothing about which do
        let since = timestamp(SystemTime::now() - LOGIN_WINDOW);
        let recent: Vec<String> = {
            let mut st = self
                .conn
                .prepare("SELECT at FROM login_failures WHERE name = ?1 AND at > ?2 ORDER BY at")?;
            st.query_map(params![name, since], |r| r.get(0))?
                .collect::<Result<_, _>>()?
        };
        if recent.len() >= LOGIN_FAILURES {
            let oldest = parse_timestamp(&recent[0]).unwrap_or_else(SystemTime::now);
            let free = oldest + LOGIN_WINDOW;
            let wait = free
                .duration_since(SystemTime::now())
                .unwrap_or_default()
                .as_secs();
            return Err(StoreError::LoginLimited {
                name: name.to_string(),
                minutes: wait.div_ceil(60).max(1),
            });
        }
        let known: Option<(Option<String>, Option<String>)> = self
            .conn
            .query_row(
                "SELECT password, disabled_at FROM users WHERE name = ?1",
                [name],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let ok = match &known {
            Some((Some(h), None)) => auth::verify_password(password, h),
            _ => {
                // as slow as a real check, so timing does not tell which names exist
                let _ = auth::verify_password(password, &DUMMY_HASH);
                false
            }
        };
        if !ok {
            let at = now();
            self.write(|tx| {
                tx.execute(
                    "INSERT INTO login_failures (name, at) VALUES (?1, ?2)",
                    params![name, at],
                )?;
                // what no limit will count again
                tx.execute("DELETE FROM login_failures WHERE at <= ?1", [&since])?;
                Ok(())
            })?;
            return Err(StoreError::LoginFailed);
        }
        let token = auth::new_token()?;
        let token_hash = auth::sha256_hex(token.as_bytes());
        let created = SystemTime::now();
        let expires = created + Duration::from_secs(u64::from(hours) * 3600);
        let (created, expires) = (timestamp(created), timestamp(expires));
        self.write(|tx| {
            tx.execute("DELETE FROM sessions WHERE expires_at < ?1", [&created])?;
            tx.execute("DELETE FROM login_failures WHERE name = ?1", [name])?;
            tx.execute(
                "INSERT INTO sessions (token_sha256, user, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4)",
                params![token_hash, name, created, expires],
            )?;
            Ok(())
        })?;
        Ok((token, expires))
    }

    /// The user a session token belongs to, if it is known, not expired, and its user is
    /// active.
    pub fn session_user(&self, token: &str) -> Result<User, StoreError> {
        let token_hash = auth::sha256_hex(token.trim().as_bytes());
        let row: Option<(String, String)> = self
            .conn
            .query_row(
                "SELECT user, expires_at FROM sessions WHERE token_sha256 = ?1",
                [token_hash],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((name, expires)) = row else {
            return Err(StoreError::SessionInvalid);
        };
        if expires <= now() {
            return Err(StoreError::SessionInvalid);
        }
        let user = self.user(&name)?;
        if user.disabled {
            return Err(StoreError::Disabled(name));
        }
        Ok(user)
    }

    /// Ends a session.
    pub fn logout(&mut self, token: &str) -> Result<bool, StoreError> {
        let token_hash = auth::sha256_hex(token.trim().as_bytes());
        self.write(|tx| {
            Ok(tx.execute(
                "DELETE FROM sessions WHERE token_sha256 = ?1",
                [&token_hash],
            )? > 0)
        })
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
            // the Rx as received and as read are in the chain: changed later, the audit says so
            let sealed = rx_seal(rx_text, &rx_json);
            history(
                tx,
                id,
                &at,
                actor,
                role,
                "created",
                None,
                Some(Status::Received),
                Some(&sealed),
            )?;
            for f in files {
                insert_file(tx, id, &at, actor, role, f, &Origin::default())?;
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
        self.attach(job, actor, &NewFile { kind, path, sha256 }, None)
    }

    /// Attaches a file, for one side of a bilateral job (`left`/`right`) where given.
    pub fn attach(
        &mut self,
        job: &str,
        actor: &str,
        f: &NewFile,
        side: Option<&str>,
    ) -> Result<FileRecord, StoreError> {
        if let Some(s) = side
            && !matches!(s, "left" | "right")
        {
            return Err(StoreError::Locked {
                job: canonical(job),
                reason: format!("`{s}` is not a side: left or right"),
            });
        }
        self.write(|tx| {
            let role = role_of(tx, actor)?;
            let id = attachable(tx, job, f.kind)?;
            let at = now();
            let origin = Origin {
                side: side.map(str::to_string),
                batch: Some(next_batch(tx)?),
                scan_sha256: None,
            };
            let rec = insert_file(tx, id, &at, actor, role, f, &origin)?;
            tx.execute(
                "UPDATE jobs SET updated_at = ?1 WHERE id = ?2",
                params![at, id],
            )?;
            Ok(rec)
        })
    }

    /// Attaches what one plan made from `scan` (programs, design) in one transaction: the scan
    /// must be attached to the job already (by SHA-256) or is attached now; each output records
    /// the scan it came from and the side it is for.
    pub fn attach_plan(
        &mut self,
        job: &str,
        actor: &str,
        scan: &NewFile,
        side: Option<&str>,
        outputs: &[NewFile],
    ) -> Result<Vec<FileRecord>, StoreError> {
        self.attach_plan_from(job, actor, std::slice::from_ref(scan), side, outputs)
    }

    /// [`Store::attach_plan`] for a plan made from several scans (a pair of orthoses nested in
    /// one program: side [`PAIR`]): each scan attached unless it is already, each output
    /// recording every scan's SHA-256 (comma-separated, in the order given).
    pub fn attach_plan_from(
        &mut self,
        job: &str,
        actor: &str,
        scans: &[NewFile],
        side: Option<&str>,
        outputs: &[NewFile],
    ) -> Result<Vec<FileRecord>, StoreError> {
        self.write(|tx| {
            let role = role_of(tx, actor)?;
            let id = attachable(tx, job, "program")?;
            let at = now();
            let mut out = Vec::new();
            for scan in scans {
                let known: bool = tx.query_row(
                    "SELECT EXISTS(SELECT 1 FROM files WHERE job_id = ?1 AND kind = 'scan'
                                    AND sha256 = ?2)",
                    params![id, scan.sha256],
                    |r| r.get(0),
                )?;
                if !known {
                    out.push(insert_file(
                        tx,
                        id,
                        &at,
                        actor,
                        role,
                        scan,
                        &Origin::default(),
                    )?);
                }
            }
            let origin = Origin {
                side: side.map(str::to_string),
                batch: Some(next_batch(tx)?),
                scan_sha256: Some(scans.iter().map(|s| s.sha256).collect::<Vec<_>>().join(",")),
            };
            for f in outputs {
                out.push(insert_file(tx, id, &at, actor, role, f, &origin)?);
            }
            tx.execute(
                "UPDATE jobs SET updated_at = ?1 WHERE id = ?2",
                params![at, id],
            )?;
            Ok(out)
        })
    }

    /// Whether `job` would take a file of `kind` now (the same refusals as [`Store::attach`]),
    /// so a long computation can be refused before it starts.
    pub fn check_attachable(&self, job: &str, kind: &str) -> Result<(), StoreError> {
        attachable(&self.conn, job, kind).map(|_| ())
    }

    /// Moves a job to `to`, if the workflow and the actor's role allow it; records the change.
    /// Approval is not a move made here: it is a signature ([`Store::approve`]).
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
            if to == Status::Approved {
                return Err(StoreError::SignatureRequired);
            }
            let at = now();
            set_status(tx, id, from, to, &at)?;
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

    /// The programs and designs an approval of `job` would sign now, or why it cannot be
    /// approved (a program or design missing, for a side of a bilateral job too).
    pub fn to_sign(&self, job: &str) -> Result<Vec<Signature>, StoreError> {
        let (id, _, _) = job_row(&self.conn, job)?;
        let rx = job_rx(&self.conn, id, job)?;
        signed_set(&self.conn, id, &rx).map_err(|reason| StoreError::NothingToApprove {
            job: canonical(job),
            reason,
        })
    }

    /// Approves a job: an electronic signature. `password` must be `actor`'s, now; the actor
    /// must be allowed to approve (a prosthetist) and the job in review with every program and
    /// design it needs. Records the move with a note listing what is signed, and one signature
    /// per program and design: signer, role, time, meaning, path and SHA-256.
    pub fn approve(
        &mut self,
        job: &str,
        actor: &str,
        password: &str,
        note: Option<&str>,
    ) -> Result<(Transition, Vec<Signature>), StoreError> {
        // the role and workflow first: a tech is told it takes a prosthetist, not asked again
        {
            let role = self.active_role(actor)?;
            let (_, from, hold_from) = job_row(&self.conn, job)?;
            workflow::check(from, hold_from, Status::Approved, role).map_err(|refusal| {
                StoreError::Refused {
                    job: canonical(job),
                    refusal,
                }
            })?;
        }
        self.check_password(actor, password)?;
        self.write(|tx| {
            let role = role_of(tx, actor)?;
            let (id, from, hold_from) = job_row(tx, job)?;
            workflow::check(from, hold_from, Status::Approved, role).map_err(|refusal| {
                StoreError::Refused {
                    job: canonical(job),
                    refusal,
                }
            })?;
            let rx = job_rx(tx, id, job)?;
            let mut items =
                signed_set(tx, id, &rx).map_err(|reason| StoreError::NothingToApprove {
                    job: canonical(job),
                    reason,
                })?;
            let at = now();
            for s in &mut items {
                s.signer = actor.to_string();
                s.role = role;
                s.at = at.clone();
            }
            set_status(tx, id, from, Status::Approved, &at)?;
            let m = manifest(&items);
            let note = match note {
                Some(n) => format!("{m}; note: {n}"),
                None => m,
            };
            let hid = history(
                tx,
                id,
                &at,
                actor,
                role,
                "status",
                Some(from),
                Some(Status::Approved),
                Some(&note),
            )?;
            for s in &items {
                tx.execute(
                    "INSERT INTO signatures (job_id, history_id, signer, role, at, meaning, kind,
                                             side, path, sha256, scan_sha256)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                    params![
                        id,
                        hid,
                        s.signer,
                        s.role.as_str(),
                        s.at,
                        s.meaning,
                        s.kind,
                        s.side,
                        s.path,
                        s.sha256,
                        s.scan_sha256
                    ],
                )?;
            }
            Ok((
                Transition {
                    job: canonical(job),
                    from,
                    to: Status::Approved,
                    actor: actor.to_string(),
                    role,
                    at,
                },
                items.clone(),
            ))
        })
    }

    /// The signatures of a job's standing approval: the job must be approved or past it (not
    /// cancelled); the signatures are those of its latest approval.
    pub fn approved_set(&self, job: &str) -> Result<Vec<Signature>, StoreError> {
        let (id, status, hold_from) = job_row(&self.conn, job)?;
        let at = if status == Status::OnHold {
            hold_from.unwrap_or(status)
        } else {
            status
        };
        if !matches!(
            at,
            Status::Approved | Status::Milling | Status::Finishing | Status::Qc | Status::Shipped
        ) {
            return Err(StoreError::NotApproved {
                job: canonical(job),
                reason: format!("it is {status}, not approved: nothing is signed for milling"),
            });
        }
        let hid: Option<i64> = self
            .conn
            .query_row(
                "SELECT id FROM history WHERE job_id = ?1 AND action = 'status'
                 AND to_status = 'approved' ORDER BY id DESC LIMIT 1",
                [id],
                |r| r.get(0),
            )
            .optional()?;
        let sigs = match hid {
            Some(h) => signatures_of(&self.conn, h)?,
            None => vec![],
        };
        if sigs.is_empty() {
            return Err(StoreError::NotApproved {
                job: canonical(job),
                reason: "its approval carries no signature (approved before fab kept them)".into(),
            });
        }
        Ok(sigs)
    }

    /// The jobs standing approved whose approval signed a file with this SHA-256, with the
    /// signature.
    pub fn signed_with(&self, sha256: &str) -> Result<Vec<(String, Signature)>, StoreError> {
        let mut st = self.conn.prepare(
            "SELECT DISTINCT j.number FROM signatures s JOIN jobs j ON j.id = s.job_id
             WHERE s.sha256 = ?1 ORDER BY j.id",
        )?;
        let jobs: Vec<String> = st
            .query_map([sha256], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let mut out = Vec::new();
        for job in jobs {
            if let Ok(sigs) = self.approved_set(&job) {
                out.extend(
                    sigs.into_iter()
                        .filter(|s| s.sha256 == sha256)
                        .map(|s| (job.clone(), s)),
                );
            }
        }
        Ok(out)
    }

    /// Adds a note to a job's history (no status change).
    pub fn note(&mut self, job: &str, actor: &str, note: &str) -> Result<HistoryEntry, StoreError> {
        self.write(|tx| {
            let role = role_of(tx, actor)?;
            let (id, status, _) = job_row(tx, job)?;
            let at = now();
            let seq = history(
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
                seq,
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
                        r.get::<_, String>(2)?,
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
        let corrupt = |what: &str, message: String| StoreError::Corrupt {
            job: canonical(job),
            what: what.into(),
            message,
        };
        let status: Status = status
            .parse()
            .map_err(|_| corrupt("status", "not a status fab knows".into()))?;
        let rx: Prescription =
            serde_json::from_str(&rx_json).map_err(|e| corrupt("Rx", json_problem(&e)))?;
        let hold_from = hold_from.and_then(|h| h.parse().ok());
        let mut st = self.conn.prepare(
            "SELECT kind, path, sha256, attached_at, attached_by, side, scan_sha256 FROM files
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
                    side: r.get(5)?,
                    scan_sha256: r.get(6)?,
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

    /// Jobs, oldest first, optionally only those in `status`; fails on the first job that
    /// cannot be read ([`Store::list`] lists the others and names it).
    pub fn jobs(&self, status: Option<Status>) -> Result<Vec<JobSummary>, StoreError> {
        let list = self.list(status)?;
        match list.unreadable.into_iter().next() {
            Some(u) => Err(StoreError::Corrupt {
                job: u.number,
                what: u.what,
                message: u.problem,
            }),
            None => Ok(list.jobs),
        }
    }

    /// Jobs, oldest first, optionally only those in `status`: those that can be read, and each
    /// one that cannot with what is wrong with it (its number and the column, never its
    /// content).
    pub fn list(&self, status: Option<Status>) -> Result<JobList, StoreError> {
        let mut st = self.conn.prepare(
            "SELECT number, kind, status, rx_json, created_at, updated_at
             FROM jobs WHERE ?1 IS NULL OR status = ?1 ORDER BY id",
        )?;
        let mut rows = st.query([status.map(Status::as_str)])?;
        let mut list = JobList::default();
        while let Some(r) = rows.next()? {
            let number: String = r
                .get::<_, String>(0)
                .unwrap_or_else(|_| "(no number)".into());
            let bad = |what: &str, problem: &str| Unreadable {
                number: number.clone(),
                what: what.into(),
                problem: problem.into(),
            };
            let kind = match r.get::<_, String>(1).ok().and_then(|k| {
                serde_json::from_value::<DeviceKind>(serde_json::Value::String(k)).ok()
            }) {
                Some(k) => k,
                None => {
                    list.unreadable
                        .push(bad("kind", "not a device kind fab knows"));
                    continue;
                }
            };
            let Some(st) = r
                .get::<_, String>(2)
                .ok()
                .and_then(|s| s.parse::<Status>().ok())
            else {
                list.unreadable
                    .push(bad("status", "not a status fab knows"));
                continue;
            };
            let rx: Result<serde_json::Value, String> = match r.get::<_, String>(3) {
                Ok(t) => serde_json::from_str(&t).map_err(|e| json_problem(&e)),
                Err(_) => Err("not text".into()),
            };
            let due = match rx {
                Ok(v) => v.get("due").and_then(|d| d.as_str()).map(str::to_string),
                Err(p) => {
                    list.unreadable.push(bad("Rx", &p));
                    continue;
                }
            };
            let (Ok(created_at), Ok(updated_at)) = (r.get(4), r.get(5)) else {
                list.unreadable.push(bad("dates", "not text"));
                continue;
            };
            list.jobs.push(JobSummary {
                number,
                kind,
                status: st,
                due,
                created_at,
                updated_at,
            });
        }
        Ok(list)
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

    /// The hash of the history's `position`-th row (from 1, in chain order), or the hash before
    /// the first for 0; `None` when it has fewer rows. With a chain head kept outside the
    /// database, this says whether the history still holds it.
    pub fn chain_hash(&self, position: usize) -> Result<Option<String>, StoreError> {
        if position == 0 {
            return Ok(Some(GENESIS.to_string()));
        }
        let offset = i64::try_from(position - 1).unwrap_or(i64::MAX);
        Ok(self
            .conn
            .query_row(
                "SELECT hash FROM history ORDER BY id LIMIT 1 OFFSET ?1",
                [offset],
                |r| r.get::<_, Option<String>>(0),
            )
            .optional()?
            .flatten())
    }

    /// Verifies the history's hash chain (every row, all jobs: the chain is one), the
    /// signatures of approvals (of `job`, or all), and that each job's status is the one its
    /// history ends in. Problems are listed in row order; the first is the first row that does
    /// not verify.
    pub fn audit(&self, job: Option<&str>) -> Result<AuditReport, StoreError> {
        let only: Option<i64> = match job {
            Some(j) => Some(job_row(&self.conn, j)?.0),
            None => None,
        };
        let mut report = AuditReport {
            rows: 0,
            head: GENESIS.to_string(),
            approvals: 0,
            signatures: 0,
            unsigned_approvals: 0,
            problems: vec![],
        };
        let numbers: std::collections::HashMap<i64, String> = {
            let mut st = self.conn.prepare("SELECT id, number FROM jobs")?;
            st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?
        };
        let number = |id: i64| {
            numbers
                .get(&id)
                .cloned()
                .unwrap_or_else(|| format!("#{id}"))
        };
        let mut st = self.conn.prepare(
            "SELECT id, job_id, at, actor, role, action, from_status, to_status, note,
                    prev_hash, hash
             FROM history ORDER BY id",
        )?;
        let mut rows = st.query([])?;
        let mut prev = GENESIS.to_string();
        // the last status each job's history gives it
        let mut last_status: std::collections::HashMap<i64, Option<String>> = Default::default();
        let mut approvals: Vec<(i64, i64, String, String, String, Option<String>)> = vec![];
        while let Some(r) = rows.next()? {
            report.rows += 1;
            let row = ChainRow {
                id: r.get(0)?,
                job_id: r.get(1)?,
                at: r.get(2)?,
                actor: r.get(3)?,
                role: r.get(4)?,
                action: r.get(5)?,
                from: r.get(6)?,
                to: r.get(7)?,
                note: r.get(8)?,
            };
            let prev_hash: Option<String> = r.get(9)?;
            let hash: Option<String> = r.get(10)?;
            let problem = |what: String| AuditProblem {
                row: row.id,
                job: number(row.job_id),
                what,
            };
            if prev_hash.as_deref() != Some(prev.as_str()) {
                report.problems.push(problem(
                    "its link to the row before does not match (a row before it was removed, \
                     added or changed outside fab)"
                        .into(),
                ));
            }
            let expected = row.hash(prev_hash.as_deref().unwrap_or(GENESIS));
            if hash.as_deref() != Some(expected.as_str()) {
                report.problems.push(problem(
                    "its content does not match its hash (changed outside fab)".into(),
                ));
            }
            prev = hash.unwrap_or_default();
            if matches!(row.action.as_str(), "created" | "status") {
                last_status.insert(row.job_id, row.to.clone());
            }
            if row.action == "status"
                && row.to.as_deref() == Some("approved")
                && only.is_none_or(|j| j == row.job_id)
            {
                approvals.push((row.id, row.job_id, row.at, row.actor, row.role, row.note));
            }
        }
        report.head = prev;
        // each approval's signatures are the ones its (chained) history row lists
        for (hid, job_id, at, actor, role, note) in approvals {
            report.approvals += 1;
            let sigs = signatures_of(&self.conn, hid)?;
            report.signatures += sigs.len();
            let note = note.unwrap_or_default();
            let signed = note.starts_with(MANIFEST_PREFIX);
            let problem = |what: &str| AuditProblem {
                row: hid,
                job: number(job_id),
                what: what.into(),
            };
            if !signed && sigs.is_empty() {
                report.unsigned_approvals += 1;
                continue;
            }
            let m = manifest(&sigs);
            let listed = note == m || note.starts_with(&format!("{m}; note: "));
            let by_signer = sigs
                .iter()
                .all(|s| s.signer == actor && s.at == at && s.role.as_str() == role);
            if sigs.is_empty() {
                report
                    .problems
                    .push(problem("the approval's signatures are missing"));
            } else if !listed {
                report.problems.push(problem(
                    "the approval's signatures are not the programs and designs its history \
                     row lists (changed outside fab)",
                ));
            } else if !by_signer {
                report.problems.push(problem(
                    "a signature names another signer or time than the approval",
                ));
            }
        }
        // signatures that belong to no approval, and jobs whose status is not their history's
        let mut st = self.conn.prepare(
            "SELECT s.id, s.job_id FROM signatures s LEFT JOIN history h ON h.id = s.history_id
             WHERE h.id IS NULL OR h.job_id != s.job_id OR h.action != 'status'
                OR h.to_status IS NOT 'approved'",
        )?;
        let stray: Vec<(i64, i64)> = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        for (sid, job_id) in stray {
            if only.is_none_or(|j| j == job_id) {
                report.problems.push(AuditProblem {
                    row: 0,
                    job: number(job_id),
                    what: format!("signature {sid} belongs to no approval in the history"),
                });
            }
        }
        let mut st = self.conn.prepare(
            "SELECT j.id, j.status, j.rx_text, j.rx_json, h.note FROM jobs j
             LEFT JOIN history h ON h.job_id = j.id AND h.action = 'created'
             ORDER BY j.id",
        )?;
        type JobCheck = (i64, String, String, String, Option<String>);
        let statuses: Vec<JobCheck> = st
            .query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })?
            .collect::<Result<_, _>>()?;
        for (id, status, rx_text, rx_json, created) in statuses {
            if only.is_some_and(|j| j != id) {
                continue;
            }
            // jobs created before the seal have none to check
            if let Some(seal) = created.filter(|n| n.starts_with(RX_SEAL))
                && seal != rx_seal(&rx_text, &rx_json)
            {
                report.problems.push(AuditProblem {
                    row: 0,
                    job: number(id),
                    what: "its Rx is not the one recorded when it was created (changed outside \
                           fab)"
                        .into(),
                });
            }
            let said = last_status.get(&id).cloned().flatten();
            if said.as_deref() != Some(status.as_str()) {
                report.problems.push(AuditProblem {
                    row: 0,
                    job: number(id),
                    what: format!(
                        "its status is not the one its history ends in ({})",
                        said.as_deref().unwrap_or("none")
                    ),
                });
            }
        }
        Ok(report)
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

fn check_user_name(name: &str) -> Result<(), StoreError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(StoreError::BadUserName(name.to_string()))
    }
}

/// The role of an existing, active user.
fn user_role(conn: &Connection, actor: &str) -> Result<Role, StoreError> {
    let row: Option<(String, Option<String>)> = conn
        .query_row(
            "SELECT role, disabled_at FROM users WHERE name = ?1",
            [actor],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let (role, disabled) = row.ok_or_else(|| StoreError::NoUser(actor.to_string()))?;
    if disabled.is_some() {
        return Err(StoreError::Disabled(actor.to_string()));
    }
    role.parse().map_err(|_| StoreError::Corrupt {
        job: "-".into(),
        what: format!("role of user {actor}"),
        message: "not a role fab knows".into(),
    })
}

fn role_of(tx: &Transaction, actor: &str) -> Result<Role, StoreError> {
    user_role(tx, actor)
}

fn require_admin(tx: &Transaction, actor: &str, what: &str) -> Result<(), StoreError> {
    let role = role_of(tx, actor)?;
    if role != Role::Admin {
        return Err(StoreError::Forbidden {
            actor: actor.to_string(),
            role,
            what: what.into(),
            allowed: "admin".into(),
        });
    }
    Ok(())
}

/// An argon2id hash of a password nobody has, checked when a login names no user so a failed
/// login takes the same time either way.
static DUMMY_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    auth::hash_password("no user has this password").unwrap_or_default()
});

/// What a serde_json error says, without the text it was reading.
fn json_problem(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let what = match e.classify() {
        Category::Io => "cannot be read",
        Category::Syntax | Category::Eof => "not valid JSON",
        Category::Data => "not a prescription fab can read",
    };
    format!("{what}, at line {} column {}", e.line(), e.column())
}

/// A job number as stored: numbers are made upper-case (`J2026-0001`), and an operator typing
/// `j2026-0001` or a stray space means the same job.
fn canonical(job: &str) -> String {
    job.trim().to_ascii_uppercase()
}

fn job_row(conn: &Connection, job: &str) -> Result<(i64, Status, Option<Status>), StoreError> {
    let row: Option<(i64, String, Option<String>)> = conn
        .query_row(
            "SELECT id, status, hold_from FROM jobs WHERE number = ?1",
            [canonical(job)],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let (id, status, hold) = row.ok_or_else(|| StoreError::NoJob(canonical(job)))?;
    let status = status.parse().map_err(|_| StoreError::Corrupt {
        job: canonical(job),
        what: "status".into(),
        message: "not a status fab knows".into(),
    })?;
    Ok((id, status, opt_status(hold)))
}

/// The job's Rx as stored.
fn job_rx(conn: &Connection, id: i64, job: &str) -> Result<Prescription, StoreError> {
    let text: String =
        conn.query_row("SELECT rx_json FROM jobs WHERE id = ?1", [id], |r| r.get(0))?;
    serde_json::from_str(&text).map_err(|e| StoreError::Corrupt {
        job: canonical(job),
        what: "Rx".into(),
        message: json_problem(&e),
    })
}

/// The job's id if it takes a file of `kind` now: not closed, and programs and designs only
/// while received or designing.
fn attachable(conn: &Connection, job: &str, kind: &str) -> Result<i64, StoreError> {
    let (id, status, hold_from) = job_row(conn, job)?;
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
    if DESIGN_KINDS.contains(&kind) && !matches!(effective, Status::Received | Status::Designing) {
        return Err(StoreError::Locked {
            job: canonical(job),
            reason: format!(
                "it is {status}; a {kind} may only be attached while received or designing \
                 (move it back to designing to change the design)"
            ),
        });
    }
    Ok(id)
}

fn next_batch(tx: &Transaction) -> Result<i64, StoreError> {
    Ok(
        tx.query_row("SELECT coalesce(max(batch), 0) + 1 FROM files", [], |r| {
            r.get(0)
        })?,
    )
}

fn set_status(
    tx: &Transaction,
    id: i64,
    from: Status,
    to: Status,
    at: &str,
) -> Result<(), StoreError> {
    let new_hold = (to == Status::OnHold).then_some(from);
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
    Ok(())
}

/// Where an attached file came from: the side it is for, the plan (batch) it was made in, the
/// scan it was made from.
#[derive(Default)]
struct Origin {
    side: Option<String>,
    batch: Option<i64>,
    scan_sha256: Option<String>,
}

/// The programs and designs an approval signs: for each side the Rx asks for (left and right
/// for a bilateral Rx, else whichever was planned), the programs of the latest plan and its
/// design. Signer, role and time are left for the approval to fill.
fn signed_set(conn: &Connection, job_id: i64, rx: &Prescription) -> Result<Vec<Signature>, String> {
    struct F {
        kind: String,
        side: Option<String>,
        batch: Option<i64>,
        path: String,
        sha256: String,
        scan_sha256: Option<String>,
    }
    let files: Vec<F> = (|| {
        let mut st = conn.prepare(
            "SELECT kind, side, batch, path, sha256, scan_sha256 FROM files
             WHERE job_id = ?1 AND kind IN ('program', 'design') ORDER BY id",
        )?;
        st.query_map([job_id], |r| {
            Ok(F {
                kind: r.get(0)?,
                side: r.get(1)?,
                batch: r.get(2)?,
                path: r.get(3)?,
                sha256: r.get(4)?,
                scan_sha256: r.get(5)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<F>>>()
    })()
    .map_err(|e| format!("its files cannot be read: {e}"))?;
    let sides: Vec<Option<&str>> = if rx.side == Some(RxSide::Bilateral) {
        vec![Some("left"), Some("right")]
    } else {
        vec![None]
    };
    let mut out: Vec<Signature> = Vec::new();
    for side in sides {
        // a pair nested in one program is for either foot
        let for_side =
            |f: &&F| side.is_none() || f.side.as_deref() == side || f.side.as_deref() == Some(PAIR);
        let words = side
            .map(|s| format!(" for the {s} foot"))
            .unwrap_or_default();
        let Some(last) = files
            .iter()
            .rev()
            .filter(for_side)
            .find(|f| f.kind == "program")
        else {
            return Err(format!(
                "no program{words} is attached: plan one with `fab plan SCAN --job JOB`"
            ));
        };
        let same_plan = |f: &&F| f.side == last.side && f.batch.is_some() && f.batch == last.batch;
        let mut programs: Vec<&F> = files
            .iter()
            .filter(|f| f.kind == "program")
            .filter(same_plan)
            .collect();
        if programs.is_empty() {
            programs.push(last);
        }
        let design = files
            .iter()
            .rev()
            .filter(|f| f.kind == "design")
            .find(same_plan)
            .or_else(|| {
                files
                    .iter()
                    .rev()
                    .filter(for_side)
                    .find(|f| f.kind == "design")
            });
        let Some(design) = design else {
            return Err(format!(
                "no design{words} is attached: plan it with `fab plan SCAN --job JOB`, or \
                 attach it with `--kind design`"
            ));
        };
        for f in programs.into_iter().chain([design]) {
            if out.iter().any(|s| s.path == f.path && s.sha256 == f.sha256) {
                continue; // a pair's program and design, signed once
            }
            out.push(Signature {
                kind: f.kind.clone(),
                side: f.side.clone(),
                path: f.path.clone(),
                sha256: f.sha256.clone(),
                scan_sha256: f.scan_sha256.clone(),
                signer: String::new(),
                role: Role::Prosthetist,
                at: String::new(),
                meaning: APPROVAL_MEANING.to_string(),
            });
        }
    }
    Ok(out)
}

/// The side of a program or design that holds both feet (a pair nested on one blank).
pub const PAIR: &str = "pair";

/// How a job's `created` history note begins: the SHA-256 of its Rx.
const RX_SEAL: &str = "rx sha256 ";

/// The `created` history note: the SHA-256 of the Rx as received and as read.
fn rx_seal(rx_text: &str, rx_json: &str) -> String {
    format!(
        "{RX_SEAL}{}, read as sha256 {}",
        auth::sha256_hex(rx_text.as_bytes()),
        auth::sha256_hex(rx_json.as_bytes())
    )
}

/// How a signed approval's history note begins.
const MANIFEST_PREFIX: &str = "signed, ";

/// The approval's history note: what is signed, one item per program and design.
fn manifest(items: &[Signature]) -> String {
    let meaning = items
        .first()
        .map_or(APPROVAL_MEANING, |s| s.meaning.as_str());
    let list: Vec<String> = items
        .iter()
        .map(|s| {
            let side = s
                .side
                .as_deref()
                .map(|s| format!(" ({s})"))
                .unwrap_or_default();
            let scan = s
                .scan_sha256
                .as_deref()
                .map(|h| format!(", from scan sha256 {h}"))
                .unwrap_or_default();
            format!("{}{side} {} sha256 {}{scan}", s.kind, s.path, s.sha256)
        })
        .collect();
    format!("{MANIFEST_PREFIX}{meaning}: {}", list.join("; "))
}

fn signatures_of(conn: &Connection, history_id: i64) -> Result<Vec<Signature>, StoreError> {
    let mut st = conn.prepare(
        "SELECT kind, side, path, sha256, scan_sha256, signer, role, at, meaning
         FROM signatures WHERE history_id = ?1 ORDER BY id",
    )?;
    let rows = st.query_map([history_id], |r| {
        Ok(Signature {
            kind: r.get(0)?,
            side: r.get(1)?,
            path: r.get(2)?,
            sha256: r.get(3)?,
            scan_sha256: r.get(4)?,
            signer: r.get(5)?,
            role: parse_col(r, 6)?,
            at: r.get(7)?,
            meaning: r.get(8)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// One history row as the chain hashes it.
struct ChainRow {
    id: i64,
    job_id: i64,
    at: String,
    actor: String,
    role: String,
    action: String,
    from: Option<String>,
    to: Option<String>,
    note: Option<String>,
}

impl ChainRow {
    /// SHA-256 of the previous row's hash and this row's content, as a JSON array.
    fn hash(&self, prev: &str) -> String {
        let v = serde_json::json!([
            prev,
            self.id,
            self.job_id,
            self.at,
            self.actor,
            self.role,
            self.action,
            self.from,
            self.to,
            self.note
        ]);
        auth::sha256_hex(v.to_string().as_bytes())
    }
}

/// Appends a history row, chained to the last one; returns its id.
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
) -> Result<i64, StoreError> {
    let (last, prev): (i64, Option<String>) = tx
        .query_row(
            "SELECT id, hash FROM history ORDER BY id DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
        .unwrap_or((0, None));
    let prev = prev.unwrap_or_else(|| GENESIS.to_string());
    let row = ChainRow {
        id: last + 1,
        job_id,
        at: at.to_string(),
        actor: actor.to_string(),
        role: role.as_str().to_string(),
        action: action.to_string(),
        from: from.map(|s| s.as_str().to_string()),
        to: to.map(|s| s.as_str().to_string()),
        note: note.map(str::to_string),
    };
    let hash = row.hash(&prev);
    tx.execute(
        "INSERT INTO history (id, job_id, at, actor, role, action, from_status, to_status, note,
                              prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            row.id, job_id, at, actor, row.role, action, row.from, row.to, note, prev, hash
        ],
    )?;
    Ok(row.id)
}

/// Work a migration needs beyond its SQL: after migration 3 (index 2), the chain over the rows
/// already there, then the append-only triggers again.
fn after_migration(tx: &Transaction, index: usize) -> Result<(), StoreError> {
    if index != 2 {
        return Ok(());
    }
    let rows: Vec<ChainRow> = {
        let mut st = tx.prepare(
            "SELECT id, job_id, at, actor, role, action, from_status, to_status, note
             FROM history ORDER BY id",
        )?;
        st.query_map([], |r| {
            Ok(ChainRow {
                id: r.get(0)?,
                job_id: r.get(1)?,
                at: r.get(2)?,
                actor: r.get(3)?,
                role: r.get(4)?,
                action: r.get(5)?,
                from: r.get(6)?,
                to: r.get(7)?,
                note: r.get(8)?,
            })
        })?
        .collect::<Result<_, _>>()?
    };
    let mut prev = GENESIS.to_string();
    for row in rows {
        let hash = row.hash(&prev);
        tx.execute(
            "UPDATE history SET prev_hash = ?1, hash = ?2 WHERE id = ?3",
            params![prev, hash, row.id],
        )?;
        prev = hash;
    }
    tx.execute_batch(HISTORY_TRIGGERS)?;
    Ok(())
}

fn insert_file(
    tx: &Transaction,
    job_id: i64,
    at: &str,
    actor: &str,
    role: Role,
    f: &NewFile,
    origin: &Origin,
) -> Result<FileRecord, StoreError> {
    let path = f.path.display().to_string();
    tx.execute(
        "INSERT INTO files (job_id, kind, path, sha256, attached_at, attached_by, side, batch,
                            scan_sha256)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            job_id,
            f.kind,
            path,
            f.sha256,
            at,
            actor,
            origin.side,
            origin.batch,
            origin.scan_sha256
        ],
    )?;
    let side = origin
        .side
        .as_deref()
        .map(|s| format!(" ({s})"))
        .unwrap_or_default();
    let scan = origin
        .scan_sha256
        .as_deref()
        .map(|h| format!(", from scan sha256 {h}"))
        .unwrap_or_default();
    let note = format!("{}{side} {} sha256 {}{scan}", f.kind, path, f.sha256);
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
    )?;
    Ok(FileRecord {
        kind: f.kind.to_string(),
        path,
        sha256: f.sha256.to_string(),
        attached_at: at.to_string(),
        attached_by: actor.to_string(),
        side: origin.side.clone(),
        scan_sha256: origin.scan_sha256.clone(),
    })
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
    timestamp(SystemTime::now())
}

/// A timestamp as [`timestamp`] writes it, read back; `None` for anything else.
fn parse_timestamp(s: &str) -> Option<SystemTime> {
    let b = s.as_bytes();
    if b.len() != 24 || b[4] != b'-' || b[10] != b'T' || b[19] != b'.' || b[23] != b'Z' {
        return None;
    }
    let n = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (n(0..4)?, n(5..7)?, n(8..10)?);
    let (hh, mm, ss, ms) = (n(11..13)?, n(14..16)?, n(17..19)?, n(20..23)?);
    // days since 1970-01-01 from a civil date (Howard Hinnant's algorithm, the inverse of
    // `timestamp`'s)
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + hh * 3600 + mm * 60 + ss;
    let secs = u64::try_from(secs).ok()?;
    Some(UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_millis(ms as u64))
}

/// A time as an RFC 3339 UTC timestamp with milliseconds.
pub fn timestamp(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
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

#[cfg(test)]
mod timestamp_tests {
    use super::*;

    #[test]
    fn a_timestamp_reads_back_as_the_time_it_was_written_from() {
        // 1970, 2000-02-29 (a leap day), 2025-12-07, 2099-12-31T23:59:59.999, 2001
        for ms in [
            0u64,
            951_782_400_000,
            1_765_065_600_123,
            4_102_444_799_999,
            1_000_000_000_123,
        ] {
            let t = UNIX_EPOCH + Duration::from_millis(ms);
            assert_eq!(parse_timestamp(&timestamp(t)), Some(t), "{}", timestamp(t));
        }
        assert_eq!(parse_timestamp("2026-12-07"), None);
        assert_eq!(parse_timestamp("2026-12-07T00:00:00.000+01"), None);
    }
}
