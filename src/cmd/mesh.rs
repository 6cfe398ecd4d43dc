//! `fab mesh` (not built yet).

/// Arguments of `fab mesh`.
#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("fab mesh is not built yet")
}
