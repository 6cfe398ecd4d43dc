//! `fab job` (not built yet).

/// Arguments of `fab job`.
#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("fab job is not built yet")
}
