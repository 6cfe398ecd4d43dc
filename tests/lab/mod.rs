//! A job database for the CLI tests, made as a lab makes one: `fab init --admin ada`, users
//! added by ada, each logged in once (`fab login --print-token`); commands then run with that
//! user's token in `FAB_TOKEN`. Passwords go through `--password-stdin`.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::PathBuf;

use assert_cmd::Command;

/// Each user's password.
pub fn password(who: &str) -> String {
    format!("{who} has a long password")
}

pub struct Lab {
    pub dir: tempfile::TempDir,
    pub db: PathBuf,
    /// `FAB_CONFIG_DIR`: where `fab login` would keep a session file.
    pub cfg: PathBuf,
    tokens: HashMap<String, String>,
}

impl Lab {
    /// A database with admin `ada` and `users` (name, role), all logged in.
    pub fn new(users: &[(&str, &str)]) -> Lab {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("jobs.db");
        let cfg = dir.path().join("config");
        let mut lab = Lab {
            dir,
            db,
            cfg,
            tokens: HashMap::new(),
        };
        let o = lab
            .bare()
            .args(["init", "--admin", "ada", "--password-stdin"])
            .write_stdin(format!("{}\n", password("ada")))
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        lab.login("ada");
        for (name, role) in users {
            let o = lab
                .fab("ada")
                .args(["user", "add", name, "--role", role, "--password-stdin"])
                .write_stdin(format!("{}\n", password(name)))
                .output()
                .unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            lab.login(name);
        }
        lab
    }

    /// The usual four: ada (admin), tom (tech), pat (prosthetist), oli (operator).
    pub fn usual() -> Lab {
        Lab::new(&[("tom", "tech"), ("pat", "prosthetist"), ("oli", "operator")])
    }

    /// Logs `who` in and keeps the token.
    pub fn login(&mut self, who: &str) -> String {
        let o = self
            .bare()
            .args(["login", who, "--password-stdin", "--print-token"])
            .write_stdin(format!("{}\n", password(who)))
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let t = String::from_utf8(o.stdout).unwrap().trim().to_string();
        self.tokens.insert(who.to_string(), t.clone());
        t
    }

    pub fn token(&self, who: &str) -> &str {
        &self.tokens[who]
    }

    /// `fab` on this lab's database with no session (and no FAB_USER, FAB_TABLES), run in the
    /// repository.
    pub fn bare(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_fab"));
        c.current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("FAB_DB", &self.db)
            .env("FAB_CONFIG_DIR", &self.cfg)
            .env("NO_COLOR", "1")
            .env_remove("FAB_USER")
            .env_remove("FAB_TOKEN")
            .env_remove("FAB_TABLES");
        c
    }

    /// `fab` in `who`'s session.
    pub fn fab(&self, who: &str) -> Command {
        let mut c = self.bare();
        c.env("FAB_TOKEN", self.token(who));
        c
    }

    /// Runs `fab ARGS` as `who`; must succeed; returns stdout.
    pub fn ok(&self, who: &str, args: &[&str]) -> String {
        let o = self.fab(who).args(args).output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(0), "fab {args:?}: {err}");
        String::from_utf8(o.stdout).unwrap()
    }

    /// Approves `job` as `who`, signing with `who`'s password; returns stdout.
    pub fn approve(&self, who: &str, job: &str) -> String {
        let o = self
            .fab(who)
            .args(["job", "approve", job, "--password-stdin"])
            .write_stdin(format!("{}\n", password(who)))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(0), "fab job approve {job}: {err}");
        String::from_utf8(o.stdout).unwrap()
    }

    /// Attaches a small program and a design (a fixture mesh) to `job` for `side`, as a plan
    /// would; returns the program's path.
    pub fn attach_design(&self, who: &str, job: &str, side: Option<&str>, tag: &str) -> PathBuf {
        let nc = self.dir.path().join(format!("{job}-{tag}.nc"));
        std::fs::write(
            &nc,
            format!("%\n(JOB {job} {tag})\nG21 G90\nG0 Z10\nM30\n%\n"),
        )
        .unwrap();
        let design = match side {
            Some("right") => "fixtures/scans/foot-right-m.stl",
            _ => "fixtures/scans/foot-left-m.stl",
        };
        for (file, kind) in [(nc.to_str().unwrap(), "program"), (design, "design")] {
            let mut args = vec!["job", "attach", job, file, "--kind", kind];
            if let Some(s) = side {
                args.extend(["--side", s]);
            }
            self.ok(who, &args);
        }
        nc
    }
}
