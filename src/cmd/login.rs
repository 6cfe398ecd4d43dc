//! `fab init`, `fab login`, `fab logout`: making the job database and its first admin, and
//! sessions. Also the password prompt and the session file every command that needs a session
//! reads.
//!
//! A session is a random token from `fab login`, kept in the database only as its SHA-256 and
//! for the OS user in `<config dir>/session` (mode 0600; the config dir is `$FAB_CONFIG_DIR`,
//! else `$XDG_CONFIG_HOME/fab` or the platform's). `FAB_TOKEN` carries a token for one command
//! instead (`fab login --print-token` prints one for scripts).

use std::io::{BufRead, Write};
use std::path::PathBuf;

use anyhow::{Context, bail};
use fab_ticket::store::{SESSION_HOURS, Store};

use super::job::Db;

/// Arguments of `fab init`.
#[derive(clap::Args)]
#[command(
    after_help = "Makes a new job database (mode 0600) with its first user, an admin, and asks \
                  for that admin's password. No other command makes a database or a first user. \
                  On a database from a fab before passwords (no user has one), gives its admin \
                  NAME a password instead."
)]
pub struct InitArgs {
    #[command(flatten)]
    db: Db,
    /// The first user's login name (an admin)
    #[arg(long, value_name = "NAME")]
    admin: String,
    /// Read the password from the first line of stdin instead of asking at the terminal
    #[arg(long)]
    password_stdin: bool,
}

/// Arguments of `fab login`.
#[derive(clap::Args)]
#[command(
    after_help = "Starts a session: the token is kept in <config dir>/session (mode 0600; \
                  $FAB_CONFIG_DIR overrides the folder), or printed with --print-token for \
                  FAB_TOKEN."
)]
pub struct LoginArgs {
    #[command(flatten)]
    db: Db,
    /// Your login name
    name: String,
    /// Read the password from the first line of stdin instead of asking at the terminal
    #[arg(long)]
    password_stdin: bool,
    /// Print the token on stdout (for FAB_TOKEN) instead of keeping it in the session file
    #[arg(long)]
    print_token: bool,
    /// How long the session lasts, hours (1 to 720)
    #[arg(long, default_value_t = SESSION_HOURS, value_parser = clap::value_parser!(u32).range(1..=720))]
    hours: u32,
}

/// Arguments of `fab logout`.
#[derive(clap::Args)]
pub struct LogoutArgs {
    #[command(flatten)]
    db: Db,
}

pub fn init(args: InitArgs) -> anyhow::Result<()> {
    let path = args.db.path()?;
    super::create_parent_dir(&path)?;
    let password = new_password(&format!("password for {}", args.admin), args.password_stdin)?;
    match Store::create(&path, &args.admin, &password) {
        Ok(_) => println!(
            "made the job database {} with admin {}; log in with `fab login {}`",
            path.display(),
            args.admin,
            args.admin
        ),
        Err(fab_ticket::store::StoreError::Exists { .. }) => {
            // a database from before passwords: its admin takes it into use, once
            let mut store = Store::open(&path)?;
            store.claim_admin(&args.admin, &password)?;
            println!(
                "{} had no passwords yet: admin {} now has one; log in with `fab login {}` and \
                 set the others' with `fab user passwd NAME`",
                path.display(),
                args.admin,
                args.admin
            );
        }
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

pub fn login(args: LoginArgs) -> anyhow::Result<()> {
    let mut store = args.db.open_unauthenticated()?;
    let password = password(&format!("password for {}", args.name), args.password_stdin)?;
    let (token, expires) = store.login(&args.name, &password, args.hours)?;
    if args.print_token {
        println!("{token}");
        return Ok(());
    }
    let file = session_file()?;
    write_private(&file, format!("{token}\n").as_bytes())?;
    let role = store.active_role(&args.name)?;
    println!("logged in as {} ({role}) until {expires}", args.name);
    Ok(())
}

pub fn logout(args: LogoutArgs) -> anyhow::Result<()> {
    let file = session_file()?;
    let token = match token()? {
        Some(t) => t,
        None => bail!("not logged in"),
    };
    let mut store = args.db.open_unauthenticated()?;
    store.logout(&token)?;
    if std::env::var_os("FAB_TOKEN").is_none_or(|t| t.is_empty()) {
        match std::fs::remove_file(&file) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("cannot remove {}", file.display())),
        }
    }
    println!("logged out");
    Ok(())
}

/// fab's config folder: `$FAB_CONFIG_DIR`, else `<config dir>/fab`.
pub fn config_dir() -> anyhow::Result<PathBuf> {
    if let Some(d) = std::env::var_os("FAB_CONFIG_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(d));
    }
    Ok(dirs::config_dir()
        .context("no config folder here: set FAB_CONFIG_DIR, or give FAB_TOKEN")?
        .join("fab"))
}

/// Where `fab login` keeps the session token.
pub fn session_file() -> anyhow::Result<PathBuf> {
    Ok(config_dir()?.join("session"))
}

/// The session token: `FAB_TOKEN`, else the session file's; `None` when neither is there.
pub fn token() -> anyhow::Result<Option<String>> {
    if let Some(t) = std::env::var("FAB_TOKEN")
        .ok()
        .filter(|t| !t.trim().is_empty())
    {
        return Ok(Some(t.trim().to_string()));
    }
    let file = session_file()?;
    match std::fs::read_to_string(&file) {
        Ok(t) if !t.trim().is_empty() => Ok(Some(t.trim().to_string())),
        Ok(_) => Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => {
            Err(e).with_context(|| format!("cannot read the session file {}", file.display()))
        }
    }
}

/// Writes `bytes` to `path` readable by its owner only (0600, folder 0700 when made), through a
/// fresh temporary beside it renamed over it.
fn write_private(path: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path.parent().context("the session file has no folder")?;
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir)
        .with_context(|| format!("cannot create {}", dir.display()))?;
    let tmp = dir.join(format!(
        ".session-{}",
        fab_ticket::auth::new_token()?.get(..16).unwrap_or("0")
    ));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let written = (|| {
        let mut f = opts.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("cannot write the session file {}", path.display()));
    }
    Ok(())
}

/// A password: the first line of stdin with `from_stdin`, else asked at the terminal without
/// echo.
pub fn password(prompt: &str, from_stdin: bool) -> anyhow::Result<String> {
    if from_stdin {
        return stdin_line(prompt);
    }
    ask(prompt)
}

/// A new password: from stdin once, or asked twice at the terminal.
pub fn new_password(prompt: &str, from_stdin: bool) -> anyhow::Result<String> {
    let p = password(prompt, from_stdin)?;
    fab_ticket::auth::check_new_password(&p)?;
    if !from_stdin {
        let again = ask(&format!("{prompt} (again)"))?;
        if again != p {
            bail!("the two passwords differ: nothing was changed");
        }
    }
    Ok(p)
}

/// The next line of stdin (without its line end): one password per line.
pub fn stdin_line(what: &str) -> anyhow::Result<String> {
    let mut line = String::new();
    let n = std::io::stdin()
        .lock()
        .read_line(&mut line)
        .with_context(|| format!("cannot read the {what} from stdin"))?;
    if n == 0 {
        bail!("no {what} on stdin (--password-stdin reads one line)");
    }
    let line = line.strip_suffix('\n').unwrap_or(&line);
    let line = line.strip_suffix('\r').unwrap_or(line);
    if line.is_empty() {
        bail!("an empty {what} on stdin");
    }
    Ok(line.to_string())
}

/// Asks at the terminal with echo off.
#[cfg(unix)]
fn ask(prompt: &str) -> anyhow::Result<String> {
    use std::os::fd::AsRawFd;
    let tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .map_err(|_| {
            anyhow::anyhow!("no terminal to ask for the {prompt}: give --password-stdin")
        })?;
    let fd = tty.as_raw_fd();
    // SAFETY: tcgetattr/tcsetattr on a terminal file descriptor we hold open, with a termios
    // value the first call filled
    let mut term: libc::termios = unsafe { std::mem::zeroed() };
    if unsafe { libc::tcgetattr(fd, &mut term) } != 0 {
        bail!("no terminal to ask for the {prompt}: give --password-stdin");
    }
    let saved = term;
    term.c_lflag &= !libc::ECHO;
    term.c_lflag |= libc::ECHONL;
    unsafe { libc::tcsetattr(fd, libc::TCSANOW, &term) };
    let mut w = &tty;
    let _ = write!(w, "{prompt}: ");
    let _ = w.flush();
    let mut line = String::new();
    let read = std::io::BufReader::new(&tty).read_line(&mut line);
    unsafe { libc::tcsetattr(fd, libc::TCSANOW, &saved) };
    read.with_context(|| format!("cannot read the {prompt}"))?;
    let line = line.trim_end_matches(['\n', '\r']).to_string();
    if line.is_empty() {
        bail!("no {prompt} given: nothing was changed");
    }
    Ok(line)
}

#[cfg(not(unix))]
fn ask(prompt: &str) -> anyhow::Result<String> {
    bail!("cannot ask for the {prompt} here: give --password-stdin")
}
