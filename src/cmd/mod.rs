//! One module per command family. Each exposes `Args` (clap) and `run(Args) -> anyhow::Result<()>`.
//! Results go to stdout, progress and errors to stderr.

pub mod drop;
pub mod gcode;
pub mod job;
pub mod mesh;
pub mod plan;
pub mod rx;
pub mod user;

/// Prints an error as one clear line, then its causes as detail lines. Never a backtrace.
pub fn report(err: &anyhow::Error) {
    eprintln!("error: {err}");
    for cause in err.chain().skip(1) {
        eprintln!("  caused by: {cause}");
    }
}
