//! `fab mesh`: inspect, rectify and offset scans.

pub mod offset;

use clap::Subcommand;

/// Arguments of `fab mesh`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: MeshCommand,
}

#[derive(Subcommand)]
enum MeshCommand {
    /// True offset surface of a scan (D in mm, negative inward)
    Offset(offset::Args),
}

pub fn run(args: Args) -> anyhow::Result<()> {
    match args.command {
        MeshCommand::Offset(a) => offset::run(a),
    }
}
