//! `fab gcode` (not built yet).

/// Arguments of `fab gcode`.
#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("fab gcode is not built yet")
}
