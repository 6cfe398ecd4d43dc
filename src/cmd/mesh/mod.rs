//! `fab mesh`: inspect, rectify and offset scans.

pub mod info;
pub mod modify;
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
    /// Everything about a scan: load report, topology, orientation and measurements
    Info(info::Args),
    /// Apply a prescription's shape modifications to a scan, write the rectified STL
    Modify(modify::Args),
    /// True offset surface of a scan (D in mm, negative inward)
    Offset(offset::Args),
}

pub fn run(args: Args) -> anyhow::Result<()> {
    match args.command {
        MeshCommand::Info(a) => info::run(a),
        MeshCommand::Modify(a) => modify::run(a),
        MeshCommand::Offset(a) => offset::run(a),
    }
}

/// What kind of body part a scan is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// Decide from the scan: open at a large cut -> limb, else foot
    Auto,
    Foot,
    Limb,
}

/// Resolves `Auto` by `fab_geometry::kind::classify`, the rule `fab plan` follows too: open
/// at a cut across the end of its long axis is a residual limb; anything else is a foot.
pub fn resolve_kind(
    kind: Kind,
    mesh: &fab_geometry::Mesh,
    topo: &fab_geometry::topology::TopologyReport,
) -> Kind {
    match kind {
        Kind::Auto => match fab_geometry::kind::classify(mesh, topo).kind {
            fab_geometry::kind::ScanKind::Limb => Kind::Limb,
            fab_geometry::kind::ScanKind::Foot => Kind::Foot,
        },
        k => k,
    }
}

/// A spinner on stderr naming the step under way; drawn only when stderr is a terminal (and
/// without colour), so scripts and tests see nothing.
pub fn progress() -> indicatif::ProgressBar {
    let bar =
        indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}
