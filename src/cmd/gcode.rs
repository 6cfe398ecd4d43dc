//! `fab gcode check`: reads a G-code program (nom parser; errors name line and column), checks
//! it against a dialect and a machine (on LinuxCNC, what its interpreter refuses; missing
//! G21/G90/M30, travel, feed and spindle limits) and, with `--design`, simulates the carve with
//! the program's declared tools and reports gouge, MRE and IQR against the design surface. The
//! carve fails the check where it goes more than `--gouge-limit` below the design, leaves design
//! cells uncut or rapids through material.
//!
//! Exit codes: 0 the program passes, 1 it does not (or cannot be read), 2 usage.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Subcommand;
use fab_geometry::load::{Units, load_path};
use fab_toolpath::estimate::format_duration;
use fab_toolpath::gcode::{
    CarveReport, CheckOptions, CheckReport, Finding, Severity, SimOptions, check_program,
    parse_program, simulate_carve,
};
use fab_toolpath::{Cutter, Dialect, Machine};

/// Arguments of `fab gcode`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: GcodeCommand,
}

#[derive(Subcommand)]
enum GcodeCommand {
    /// Check a program: syntax, dialect, machine limits and, with --design, the carve
    Check(CheckArgs),
}

/// Arguments of `fab gcode check`.
#[derive(clap::Args)]
pub struct CheckArgs {
    /// The program (G-code text)
    file: PathBuf,
    /// Design surface (STL, mm, in the program's coordinates): simulate the carve against it
    #[arg(long, value_name = "STL")]
    design: Option<PathBuf>,
    /// Machine profile: a bundled name (linuxcnc-router, grbl-hobby, fanuc-mill, mach3-router)
    /// or a TOML file; checks travel, feed and spindle limits
    #[arg(long, value_name = "NAME|FILE")]
    machine: Option<String>,
    /// Dialect to check against: linuxcnc, grbl, fanuc or mach3 (default: the machine's, else
    /// linuxcnc)
    #[arg(long, value_name = "D")]
    dialect: Option<Dialect>,
    /// Height-map cell size for the carve simulation, mm
    #[arg(long, default_value_t = 0.25, value_name = "MM")]
    res: f64,
    /// Compare only where the design is at most this steep, degrees
    #[arg(long, default_value_t = 60.0, value_name = "DEG")]
    max_slope: f64,
    /// Top of the stock, mm (default: the top of the design)
    #[arg(long, value_name = "Z", allow_hyphen_values = true)]
    stock_top: Option<f64>,
    /// Tool number of the finishing ball (default: the highest-numbered ball used)
    #[arg(long, value_name = "N")]
    finish_tool: Option<u32>,
    /// Fail (exit 1) when the carve goes deeper than this below the design surface, mm
    #[arg(
        long,
        alias = "max-gouge",
        default_value_t = 0.02,
        value_name = "MM",
        allow_hyphen_values = true
    )]
    gouge_limit: f64,
    /// Print the result as JSON on stdout
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    match args.command {
        GcodeCommand::Check(a) => check(a),
    }
}

fn read_text(path: &Path) -> anyhow::Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    match String::from_utf8(bytes) {
        Ok(s) => Ok(s),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let text = &e.as_bytes()[..at];
            let line = text.iter().filter(|b| **b == b'\n').count() + 1;
            let col = at - text.iter().rposition(|b| *b == b'\n').map_or(0, |p| p + 1) + 1;
            bail!(
                "{}: line {line}, column {col}: not text (a byte that is not UTF-8); is this a G-code program?",
                path.display()
            )
        }
    }
}

fn cutter_text(c: &Cutter) -> String {
    match *c {
        Cutter::Ball { diameter } => format!("ball D{diameter:.3}"),
        Cutter::Flat { diameter } => format!("flat D{diameter:.3}"),
        Cutter::Bull {
            diameter,
            corner_radius,
        } => format!("bull D{diameter:.3} CR{corner_radius:.3}"),
    }
}

fn check(a: CheckArgs) -> anyhow::Result<()> {
    if !(a.res.is_finite() && a.res > 0.0) {
        bail!("--res must be a positive number of mm, got {}", a.res);
    }
    if !(a.gouge_limit.is_finite() && a.gouge_limit >= 0.0) {
        bail!(
            "--gouge-limit must be a number of mm, 0 or more, got {}",
            a.gouge_limit
        );
    }
    let machine = a
        .machine
        .as_deref()
        .map(Machine::resolve)
        .transpose()
        .context("--machine")?;
    let dialect = a
        .dialect
        .or(machine.as_ref().map(|m| m.dialect))
        .unwrap_or(Dialect::LinuxCnc);
    let text = read_text(&a.file)?;
    let lines = match parse_program(&text) {
        Ok(l) => l,
        Err(e) => {
            if a.json {
                let out = serde_json::json!({
                    "file": a.file.display().to_string(),
                    "ok": false,
                    "findings": [Finding {
                        severity: Severity::Error,
                        line: e.line,
                        col: e.col,
                        message: e.message.clone(),
                    }],
                });
                println!("{out}");
                return Err(anyhow::anyhow!("{}: {e}", a.file.display()));
            }
            bail!("{}: {e}", a.file.display());
        }
    };
    let mut report = check_program(
        &lines,
        &CheckOptions {
            dialect,
            machine: machine.clone(),
        },
    );

    let carve = match &a.design {
        None => None,
        Some(design) => {
            let loaded = load_path(design, Units::Mm)
                .with_context(|| format!("design {}", design.display()))?;
            let soup = loaded.mesh.to_soup();
            let spinner = indicatif::ProgressBar::new_spinner();
            spinner.set_message(format!(
                "simulating the carve: {} moves over {} design triangles",
                report.moves.len(),
                soup.len()
            ));
            spinner.enable_steady_tick(std::time::Duration::from_millis(120));
            let opts = SimOptions {
                res: a.res,
                max_slope_deg: a.max_slope,
                stock_top: a.stock_top,
                finish_tool: a.finish_tool,
            };
            let c = simulate_carve(&soup, &report.moves, &report.tools, &opts);
            spinner.finish_and_clear();
            let c =
                c.with_context(|| format!("cannot simulate the carve of {}", a.file.display()))?;
            Some(c)
        }
    };
    if let Some(c) = &carve {
        let mut add = |severity, message: String| {
            report.findings.push(Finding {
                severity,
                line: 0,
                col: 0,
                message,
            })
        };
        if c.rapid_in_stock_samples > 0 {
            add(
                Severity::Error,
                format!(
                    "rapid moves pass through material ({} samples): a crash on the machine",
                    c.rapid_in_stock_samples
                ),
            );
        }
        if c.gouge > a.gouge_limit {
            add(
                Severity::Error,
                format!(
                    "the carve goes {:.3} mm below the design surface{} (limit {} mm, --gouge-limit): material the part should keep is cut away",
                    c.gouge,
                    at(c.gouge_at),
                    a.gouge_limit
                ),
            );
        }
        if c.uncut > 0 {
            add(
                Severity::Error,
                format!(
                    "{} cells of the design ({:.0} mm2) are never cut: no tool reaches them, so material is left there",
                    c.uncut,
                    c.uncut as f64 * c.res * c.res
                ),
            );
        }
    }
    let errors = report.errors().count();
    if a.json {
        print_json(&a.file, &report, carve.as_ref(), a.gouge_limit)?;
    } else {
        print_text(&a.file, &report, carve.as_ref(), a.gouge_limit);
    }
    if errors > 0 {
        bail!(
            "{}: {errors} error{} (see above)",
            a.file.display(),
            if errors == 1 { "" } else { "s" }
        );
    }
    Ok(())
}

/// " at X.. Y.." for a cell, or nothing.
fn at(p: Option<[f64; 2]>) -> String {
    p.map(|[x, y]| format!(" at X{x:.2} Y{y:.2}"))
        .unwrap_or_default()
}

fn print_json(
    file: &Path,
    r: &CheckReport,
    carve: Option<&CarveReport>,
    gouge_limit: f64,
) -> anyhow::Result<()> {
    let tools: serde_json::Map<String, serde_json::Value> = r
        .tools
        .iter()
        .map(|(n, c)| (format!("T{n}"), serde_json::to_value(c).unwrap_or_default()))
        .collect();
    let out = serde_json::json!({
        "file": file.display().to_string(),
        "ok": r.ok(),
        "dialect": r.dialect,
        "machine": r.machine,
        "lines": r.lines,
        "moves": r.moves.len(),
        "feed_length_mm": r.feed_length,
        "rapid_length_mm": r.rapid_length,
        "estimated_s": r.estimated_s,
        "extent": r.extent,
        "blank": r.blank,
        "tools": tools,
        "errors": r.errors().count(),
        "warnings": r.findings.iter().filter(|f| f.severity == Severity::Warning).count(),
        "findings": r.findings,
        "carve": carve,
        "gouge_limit_mm": carve.map(|_| gouge_limit),
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

fn print_text(file: &Path, r: &CheckReport, carve: Option<&CarveReport>, gouge_limit: f64) {
    println!(
        "{}: {} dialect, {} lines, {} moves (cutting {:.1} mm, rapid {:.1} mm), estimated run time {}{}",
        file.display(),
        r.dialect,
        r.lines,
        r.moves.len(),
        r.feed_length,
        r.rapid_length,
        std::time::Duration::try_from_secs_f64(r.estimated_s.max(0.0))
            .map_or_else(|_| "unknown".to_string(), format_duration),
        r.machine
            .as_deref()
            .map(|m| format!(" on {m}"))
            .unwrap_or_default()
    );
    if !r.tools.is_empty() {
        let t: Vec<String> = r
            .tools
            .iter()
            .map(|(n, c)| format!("T{n} {}", cutter_text(c)))
            .collect();
        println!("tools: {}", t.join(", "));
    }
    for f in &r.findings {
        let sev = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        if f.line > 0 {
            println!("{sev}: line {}, column {}: {}", f.line, f.col, f.message);
        } else {
            println!("{sev}: {}", f.message);
        }
    }
    if let Some(c) = carve {
        let finish = r
            .tools
            .get(&c.finish_tool)
            .map(|t| format!(" ({})", cutter_text(t)))
            .unwrap_or_default();
        println!(
            "carve vs design ({} mm cells, {} compared of {}):",
            c.res, c.cells_compared, c.cells_in_design
        );
        println!(
            "  gouge {:.3} mm{} (limit {gouge_limit} mm): the deepest the carve goes below the design surface, that is material cut away that the part should keep",
            c.gouge,
            at(c.gouge_at)
        );
        println!(
            "  MRE {:+.3} mm, IQR {:.3} mm, p95 excess {:.3} mm: carved minus design, its mean, its spread (inter-quartile range) and its 95th percentile (material left on)",
            c.mre, c.iqr, c.p95_excess
        );
        println!(
            "  path gouge {:.3} mm{}: how far the carve goes below the best surface the finishing tool T{}{finish} could leave by itself (the design with every hollow too narrow for it filled in). It measures the toolpath against that tool's reach, not the part, which the gouge alone judges: a path gouge above the gouge means other cuts (roughing, level lines, the profile) reached places the finishing tool cannot, such as inside corners and the foot of steep walls, without going below the design. It fails nothing.",
            c.path_gouge,
            at(c.path_gouge_at),
            c.finish_tool
        );
        println!(
            "  path MRE {:+.3} mm, path IQR {:.3} mm: the carve against that best surface (scallops and toolpath error alone)",
            c.path_mre, c.path_iqr
        );
        println!(
            "  uncut cells {}, rapid samples in stock {}",
            c.uncut, c.rapid_in_stock_samples
        );
    }
    let errors = r.errors().count();
    println!(
        "{}",
        if errors == 0 {
            "verdict: ok".to_string()
        } else {
            format!(
                "verdict: {errors} error{}",
                if errors == 1 { "" } else { "s" }
            )
        }
    );
}
