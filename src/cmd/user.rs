//! `fab user`: lab users and their roles. The first user of a new database may be added without
//! `--as` and must be an admin; after that only an admin adds users.

use clap::Subcommand;
use fab_ticket::workflow::Role;

use super::job::Db;

/// Arguments of `fab user`.
#[derive(clap::Args)]
#[command(
    after_help = "The first user of a new job database may be added without --as and must be an \
                  admin; after that only an admin (--as NAME or FAB_USER) adds users."
)]
pub struct Args {
    #[command(flatten)]
    db: Db,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Add a user (the first user must be an admin; later ones need --as an admin)
    Add {
        /// Login name: letters, digits, `.`, `_`, `-`
        name: String,
        /// tech, prosthetist, operator or admin
        #[arg(long)]
        role: Role,
        /// Print the new user as JSON
        #[arg(long)]
        json: bool,
    },
    /// List users and their roles
    List {
        /// Print as JSON
        #[arg(long)]
        json: bool,
    },
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let mut store = args.db.open()?;
    match args.cmd {
        Cmd::Add { name, role, json } => {
            let actor = args.db.actor().ok();
            let u = store.add_user(actor.as_deref(), &name, role)?;
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
                    println!("{:<20} {}", u.name, u.role);
                }
            }
        }
    }
    Ok(())
}
