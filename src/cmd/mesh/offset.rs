//! `fab mesh offset` (not built yet).

/// Arguments of `fab mesh offset`.
#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("fab mesh offset is not built yet")
}
