//! `fab rx`: check a prescription, print its canonical (or JSON) form, or the work order it gives.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Subcommand;
use fab_ticket::Tables;
use fab_ticket::order::WorkOrder;
use fab_ticket::rx::{self, Prescription, RxError};

/// Arguments of `fab rx`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Validate an Rx file (text, or its JSON form): exit 0 if valid, 1 with the first error
    Check {
        /// The prescription file
        file: PathBuf,
        /// Print the result as JSON on stdout
        #[arg(long)]
        json: bool,
    },
    /// Print the canonical form of an Rx (parsing it gives back the same prescription)
    Fmt {
        /// The prescription file
        file: PathBuf,
        /// Print the JSON form instead
        #[arg(long)]
        json: bool,
    },
    /// Print the work order an Rx gives (steps, modifications, blank, HCPCS), without a database
    Order {
        /// The prescription file
        file: PathBuf,
        /// Lab tables file (TOML) replacing the bundled material/HCPCS tables
        #[arg(long, value_name = "FILE", env = "FAB_TABLES")]
        tables: Option<PathBuf>,
        /// Print the work order as JSON
        #[arg(long)]
        json: bool,
    },
}

pub fn run(args: Args) -> anyhow::Result<()> {
    match args.cmd {
        Cmd::Check { file, json } => {
            let text = read(&file)?;
            match parse_text(&text) {
                Ok(p) => {
                    let wo = WorkOrder::from_prescription(&p, &Tables::bundled());
                    if json {
                        let v = serde_json::json!({
                            "ok": true, "file": file, "kind": p.kind(),
                            "modifications": wo.modifications.len(),
                        });
                        println!("{v}");
                    } else {
                        println!(
                            "{}: ok ({}, {} modification(s))",
                            file.display(),
                            p.kind(),
                            wo.modifications.len()
                        );
                    }
                    Ok(())
                }
                Err(e) => {
                    if json {
                        let v = serde_json::json!({
                            "ok": false, "file": file, "line": e.line, "column": e.column,
                            "found": e.found, "expected": e.expected, "message": e.message,
                        });
                        println!("{v}");
                    }
                    Err(located(&file, &text, e))
                }
            }
        }
        Cmd::Fmt { file, json } => {
            let p = read_rx(&file)?;
            if json {
                println!("{}", p.to_json());
            } else {
                print!("{}", rx::fmt(&p));
            }
            Ok(())
        }
        Cmd::Order { file, tables, json } => {
            let p = read_rx(&file)?;
            let tables = match tables {
                Some(t) => Tables::load(&t)?,
                None => Tables::bundled(),
            };
            let wo = WorkOrder::from_prescription(&p, &tables);
            if json {
                println!("{}", serde_json::to_string_pretty(&wo)?);
            } else {
                print!("{wo}");
            }
            Ok(())
        }
    }
}

fn read(file: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(file).with_context(|| format!("cannot read Rx file {}", file.display()))
}

/// Text or JSON, by content.
fn parse_text(text: &str) -> Result<Prescription, RxError> {
    if text.trim_start().starts_with('{') {
        Prescription::from_json(text)
    } else {
        rx::parse(text)
    }
}

/// Reads and parses an Rx file; errors name the file, line and column and show the line.
pub(crate) fn read_rx(file: &Path) -> anyhow::Result<Prescription> {
    let text = read(file)?;
    parse_text(&text).map_err(|e| located(file, &text, e))
}

/// `FILE:LINE:COL: message`, then the offending line with a caret under the column. The line is
/// shown without a patient reference, clinical note or comment ([`rx::shown_line`]); a JSON Rx's
/// line is not shown (it is often the whole file).
pub(crate) fn located(file: &Path, text: &str, e: RxError) -> anyhow::Error {
    let mut msg = format!("{}:{}:{}: {}", file.display(), e.line, e.column, e.message);
    let json = text.trim_start().starts_with('{');
    if let Some(line) = text.lines().nth(e.line.saturating_sub(1))
        && !json
    {
        let no = e.line.to_string();
        let pad = " ".repeat(no.len());
        let caret = " ".repeat(e.column.saturating_sub(1));
        let shown: String = rx::shown_line(line).chars().take(120).collect();
        msg.push_str(&format!("\n  {no} | {shown}\n  {pad} | {caret}^"));
    }
    anyhow::anyhow!(msg)
}
