//! `fab user`: lab users, their roles and passwords. The first user is made by `fab init`; after
//! that only an admin adds, disables and re-enables users, resets passwords and changes roles
//! (never their own). Every user command needs a session (`fab login`).

use clap::Subcommand;
use fab_ticket::workflow::Role;

use super::job::Db;
use super::login::{new_password, password};

/// Arguments of `fab user`.
#[derive(clap::Args)]
#[command(
    after_help = "The first user is made by `fab init --admin NAME`. Admins add users (with a \
                  first password), disable and re-enable them, reset passwords and change \
                  roles, never their own; anyone changes their own password with the current \
                  one. --password-stdin reads passwords one per line."
)]
pub struct Args {
    #[command(flatten)]
    db: Db,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Add a user with a first password (admins)
    Add {
        /// Login name: letters, digits, `.`, `_`, `-`
        name: String,
        /// tech, prosthetist, operator or admin
        #[arg(long)]
        role: Role,
        /// Read the new user's password from the first line of stdin
        #[arg(long)]
        password_stdin: bool,
        /// Print the new user as JSON
        #[arg(long)]
        json: bool,
    },
    /// List users, their roles and whether they are disabled
    List {
        /// Print as JSON
        #[arg(long)]
        json: bool,
    },
    /// Set a password: an admin resets anyone's (their sessions end); anyone changes their own
    /// with the current one
    Passwd {
        /// Whose password [default: yours]
        name: Option<String>,
        /// Read the passwords from stdin, one per line (your current one first when changing
        /// your own)
        #[arg(long)]
        password_stdin: bool,
    },
    /// Disable a user: no login, sessions ended (admins)
    Disable { name: String },
    /// Re-enable a disabled user (admins)
    Enable { name: String },
    /// Change another user's role (admins; nobody changes their own)
    Role {
        name: String,
        /// tech, prosthetist, operator or admin
        #[arg(long)]
        role: Role,
    },
    /// Who the session is
    Whoami,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let mut store = args.db.open()?;
    let actor = args.db.actor()?;
    match args.cmd {
        Cmd::Add {
            name,
            role,
            password_stdin,
            json,
        } => {
            // an admin only: refused before a password is asked for
            let r = store.active_role(&actor)?;
            if r != Role::Admin {
                return Err(fab_ticket::store::StoreError::Forbidden {
                    actor,
                    role: r,
                    what: "adding a user".into(),
                    allowed: "admin".into(),
                }
                .into());
            }
            let pw = new_password(&format!("password for {name}"), password_stdin)?;
            let u = store.add_user(&actor, &name, role, &pw)?;
            if json {
                println!("{}", serde_json::to_string(&u)?);
            } else {
                println!("added {} ({})", u.name, u.role);
            }
        }
        Cmd::List { json } => {
            let users = store.users()?;
            if json {
                println!("{}", serde_json::to_string_pretty(&users)?);
            } else {
                for u in users {
                    let off = if u.disabled { "  (disabled)" } else { "" };
                    println!("{:<20} {}{off}", u.name, u.role);
                }
            }
        }
        Cmd::Passwd {
            name,
            password_stdin,
        } => {
            let name = name.unwrap_or_else(|| actor.clone());
            let admin = store.active_role(&actor)? == Role::Admin;
            let current = if admin {
                None
            } else {
                Some(password("current password", password_stdin)?)
            };
            let new = new_password(&format!("new password for {name}"), password_stdin)?;
            store.set_password(&actor, &name, &new, current.as_deref())?;
            println!("password of {name} set");
        }
        Cmd::Disable { name } => {
            store.set_disabled(&actor, &name, true)?;
            println!("{name} disabled");
        }
        Cmd::Enable { name } => {
            store.set_disabled(&actor, &name, false)?;
            println!("{name} enabled");
        }
        Cmd::Role { name, role } => {
            store.set_role(&actor, &name, role)?;
            println!(
                "{name} is now {} {role}",
                fab_ticket::workflow::article(role.as_str())
            );
        }
        Cmd::Whoami => {
            let u = store.user(&actor)?;
            println!("{} ({})", u.name, u.role);
        }
    }
    Ok(())
}
