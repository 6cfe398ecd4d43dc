//! One module per command family. Each exposes `Args` (clap) and `run(Args) -> anyhow::Result<()>`.
//! Results go to stdout, progress and errors to stderr.

pub mod drop;
pub mod gcode;
pub mod job;
pub mod login;
pub mod mesh;
pub mod plan;
pub mod plan_orthosis;
pub mod plan_socket;
pub mod rx;
pub mod serve;
pub mod user;

/// Prints an error as one clear line, then its causes as detail lines. Never a backtrace.
pub fn report(err: &anyhow::Error) {
    eprintln!("error: {err}");
    for cause in err.chain().skip(1) {
        eprintln!("  caused by: {cause}");
    }
}

/// Creates the directory an output file goes in, as `fab plan` does, so `-o out/x.stl` works
/// on a fresh checkout.
pub fn create_parent_dir(output: &std::path::Path) -> anyhow::Result<()> {
    use anyhow::Context;
    if let Some(dir) = output.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create output directory {}", dir.display()))?;
    }
    Ok(())
}
