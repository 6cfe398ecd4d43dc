//! `fab user` (not built yet).

/// Arguments of `fab user`.
#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("fab user is not built yet")
}
