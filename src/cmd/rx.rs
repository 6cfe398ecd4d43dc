//! `fab rx` (not built yet).

/// Arguments of `fab rx`.
#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("fab rx is not built yet")
}
