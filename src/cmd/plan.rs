//! `fab plan` (not built yet).

/// Arguments of `fab plan`.
#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("fab plan is not built yet")
}
