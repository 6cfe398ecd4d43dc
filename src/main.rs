//! `fab`: the command line of an O&P fabrication lab.
//!
//! One binary over three libraries, data flowing one way:
//! scan -> mesh (`fab-geometry`) -> design surface -> toolpaths -> G-code (`fab-toolpath`),
//! with the work order (`fab-ticket`) saying what to do at each step. This file only parses the
//! command line and reports errors; each command family lives in `cmd/`.
//!
//! Exit codes: 0 done, 1 refused or invalid input, 2 usage error.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod alloc;
mod cmd;
mod outputs;
mod plan;
mod rectify;

#[derive(Parser)]
#[command(
    name = "fab",
    version,
    about = "Work orders, scan geometry and CNC toolpaths for an orthotics and prosthetics lab",
    long_about = None,
    propagate_version = true
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Make a new job database and its first admin
    Init(cmd::login::InitArgs),
    /// Start a session (kept for this OS user, or printed for FAB_TOKEN)
    Login(cmd::login::LoginArgs),
    /// End the session
    Logout(cmd::login::LogoutArgs),
    /// Serve the review pages (login, queue, job, approve) on loopback
    Serve(cmd::serve::Args),
    /// Prescriptions: check and format Rx files
    Rx(cmd::rx::Args),
    /// Lab users and their roles
    User(cmd::user::Args),
    /// Jobs: create, list, show, advance through the lab, history
    Job(cmd::job::Args),
    /// Scans: inspect, rectify and offset meshes
    Mesh(cmd::mesh::Args),
    /// Drop-cutter: the cutter-location grid of a mesh, as CSV
    Drop(cmd::drop::Args),
    /// Plan a milling job from a scan: G-code, design surface, setup sheet
    Plan(cmd::plan::Args),
    /// G-code: check a program (syntax, dialect, travel, carve against a design)
    Gcode(cmd::gcode::Args),
}

fn main() -> ExitCode {
    alloc::tune();
    // `fab job list | head`: when the reader goes away, stop quietly as Unix tools do, instead
    // of a "Broken pipe" error or a panic in `println!`
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE before any thread is started
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Init(a) => cmd::login::init(a),
        Command::Login(a) => cmd::login::login(a),
        Command::Logout(a) => cmd::login::logout(a),
        Command::Serve(a) => cmd::serve::run(a),
        Command::Rx(a) => cmd::rx::run(a),
        Command::User(a) => cmd::user::run(a),
        Command::Job(a) => cmd::job::run(a),
        Command::Mesh(a) => cmd::mesh::run(a),
        Command::Drop(a) => cmd::drop::run(a),
        Command::Plan(a) => cmd::plan::run(a),
        Command::Gcode(a) => cmd::gcode::run(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            cmd::report(&err);
            ExitCode::from(1)
        }
    }
}
