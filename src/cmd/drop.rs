//! `fab drop` (not built yet).

/// Arguments of `fab drop`.
#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("fab drop is not built yet")
}
