//! `fab mesh offset FILE --distance D -o OUT.stl [--units U] [--cell MM] [--check|--no-check] [--json]`: the
//! true offset surface of a scan, every point at distance |D| mm from it (D > 0 outward, D < 0
//! inward). A closed scan is offset as a solid. An open one (a limb open at its proximal cut) has
//! no inside: it is refused, with a word to close it first, unless `--two-sided` asks for a
//! two-sided sheet at unsigned distance D (D > 0; a negative D is refused), and the command says
//! which was made. The output is written
//! atomically (a new temporary file in the same directory, then renamed); an output that is the
//! scan (under any name) or a read-only file is refused before any work. With `--check`, the surface
//! is measured against the scan before it is written (exact distance at 8 points of every
//! triangle, side, closedness, self-intersections), and a surface that fails is not written.
//! The check also runs unasked where the offset says the method is unsure of its result (creases
//! sharper than a right angle, which an inward offset deeper than a part is half thick leaves;
//! folds; a place refinement found off and could not mend), so such a surface is not written
//! unmeasured; `--no-check` skips it.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use fab_geometry::load::{Units, load_path};
use fab_geometry::offset::{self, OffsetMode, OffsetOptions};
use serde::Serialize;

/// Arguments of `fab mesh offset`.
#[derive(clap::Args)]
pub struct Args {
    /// The scan (STL binary or ASCII, OBJ or PLY)
    file: PathBuf,
    /// Offset distance in mm: positive outward, negative inward
    #[arg(short, long, allow_hyphen_values = true)]
    distance: f64,
    /// Where to write the offset surface (binary STL, mm)
    #[arg(short, long)]
    output: PathBuf,
    /// Units of the scan's coordinates
    #[arg(long, default_value = "auto")]
    units: Units,
    /// Grid cell in mm (default 1.5 for an outward offset of a closed scan, made again at 1 if
    /// its surface is flagged as for --check; 1 otherwise; at most |D|/2); refinement brings the
    /// accuracy
    #[arg(long, allow_hyphen_values = true)]
    cell: Option<f64>,
    /// Largest distance error refinement allows where it measures (edge midpoints, where an edge
    /// crosses a crease, inside triangles across a crease), mm
    #[arg(long, allow_hyphen_values = true, default_value_t = offset::DEFAULT_TOLERANCE)]
    tolerance: f64,
    /// Measure the surface against the scan before writing it (exact distance at every corner,
    /// edge midpoint and 4 inner points of every triangle; side; closed; self-intersections);
    /// exit 1 without writing if it fails. Done unasked when the surface has creases sharper than
    /// a right angle (a deep inward offset of a thin part), folds, or a place refinement found
    /// off by more than --max-error and could not mend
    #[arg(long)]
    check: bool,
    /// Never check the surface, not even where it has sharp creases (a warning says so)
    #[arg(long, conflicts_with = "check")]
    no_check: bool,
    /// The largest distance error the check accepts, mm
    #[arg(long, allow_hyphen_values = true, default_value_t = offset::MAX_ERROR, conflicts_with = "no_check")]
    max_error: f64,
    /// For an open scan (no inside, so no outward or inward): offset it as a two-sided sheet,
    /// every point D mm from the scan on both sides and around its open rim (D must be positive).
    /// Without it an open scan is refused. No effect on a closed scan
    #[arg(long)]
    two_sided: bool,
    /// Print JSON instead of text
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct CheckSummary {
    samples: usize,
    p99_error_mm: f64,
    max_error_mm: f64,
    /// Where the largest error is (mm, the scan's frame).
    worst_at: [f64; 3],
    /// Vertices on the wrong side of a closed scan (none for an open one).
    wrong_side: Option<usize>,
    closed: bool,
    crossing_pairs: usize,
    max_error_allowed_mm: f64,
    passed: bool,
}

#[derive(Serialize)]
struct Summary {
    input: String,
    output: String,
    units: String,
    distance_mm: f64,
    /// `solid` or `sheet`.
    mode: &'static str,
    /// One sentence on what was computed.
    method: String,
    input_triangles: usize,
    triangles: usize,
    vertices: usize,
    cell_mm: f64,
    /// The default coarse grid first tried (an outward offset of a closed scan), when its surface
    /// was flagged and the offset was made again at 1 mm.
    coarse_refused_mm: Option<f64>,
    /// How the exact distances near the surface were found: `scan` (scan conversion of the
    /// scan's faces, edges and vertices) or `tree` (a search per grid point, for a mesh much
    /// finer than the grid).
    band_search: &'static str,
    tolerance_mm: f64,
    refine_rounds: u32,
    /// Vertices on creases sharper than a right angle, and folded triangles: where the method is
    /// unsure of its result (none in an ordinary offset).
    sharp_vertices: usize,
    folded_triangles: usize,
    /// The largest error refinement measured where it could not split, mm.
    unsplit_error_mm: f64,
    /// Why the check ran or not: `requested` (--check), `auto` (sharp creases, folds or an
    /// unmended place), `skipped` (--no-check), `none` (not asked, not needed).
    check_run: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    check: Option<CheckSummary>,
    /// The offset alone (the mesh in memory, as a library call would time it), s.
    offset_seconds: f64,
    /// The whole command: loading, the offset, any check, writing the STL, s.
    seconds: f64,
}

pub fn run(args: Args) -> Result<()> {
    let start = Instant::now();
    if !(args.max_error.is_finite() && args.max_error > 0.0) {
        anyhow::bail!(
            "--max-error must be a positive number of mm (got {})",
            args.max_error
        );
    }
    crate::outputs::check(&[args.output.as_path()], &[args.file.as_path()])?;
    let loaded = load_path(&args.file, args.units)?;
    let mesh = loaded.mesh;
    if !args.json {
        eprintln!(
            "loaded {} ({} triangles; units {:?}: {})",
            args.file.display(),
            mesh.triangles.len(),
            loaded.report.units.units,
            loaded.report.units.reason
        );
        eprintln!("offsetting by {:?} mm ...", args.distance);
    }
    let mut opts = OffsetOptions::new(args.distance);
    opts.cell = args.cell;
    opts.tolerance = args.tolerance;
    opts.max_error = args.max_error;
    opts.two_sided = args.two_sided;
    let offset_start = Instant::now();
    let (out, report) = offset::offset(&mesh, &opts).map_err(|e| {
        let hint = match e {
            offset::OffsetError::Open(_) => " (--two-sided)",
            offset::OffsetError::BadTolerance(_) => " (--tolerance)",
            offset::OffsetError::BadCell(_) | offset::OffsetError::TooFine { .. } => " (--cell)",
            _ => "",
        };
        anyhow::anyhow!("cannot offset {}: {e}{hint}", args.file.display())
    })?;
    let offset_seconds = offset_start.elapsed().as_secs_f64();
    let unsure = report.needs_check(args.max_error);
    let check_run = match (args.check, args.no_check, unsure) {
        (true, _, _) => "requested",
        (false, true, _) => "skipped",
        (false, false, true) => "auto",
        (false, false, false) => "none",
    };
    // The warning that a surface goes out unchecked is printed also with --json (on stderr).
    if unsure && (!args.json || args.no_check) {
        eprintln!(
            "{}the surface has {}, where it can be off or cross itself{}",
            if args.no_check { "warning: " } else { "" },
            unsure_reasons(&report, args.max_error),
            if args.no_check {
                "; not checked (--no-check)"
            } else {
                ": checking it before writing (--no-check skips this)"
            }
        );
    }
    let check = (args.check || (unsure && !args.no_check)).then(|| {
        if !args.json {
            eprintln!("checking the surface against the scan ...");
        }
        let c = offset::check(&mesh, &out, args.distance);
        let passed = c.max <= args.max_error
            && c.wrong_side.unwrap_or(0) == 0
            && c.closed
            && c.crossing_pairs == 0;
        CheckSummary {
            samples: c.samples,
            p99_error_mm: c.p99,
            max_error_mm: c.max,
            worst_at: c.worst_at,
            wrong_side: c.wrong_side,
            closed: c.closed,
            crossing_pairs: c.crossing_pairs,
            max_error_allowed_mm: args.max_error,
            passed,
        }
    });
    if let Some(c) = check.as_ref().filter(|c| !c.passed) {
        anyhow::bail!(
            "the offset surface failed its check and was not written: {}{}",
            check_line(c),
            if report.sharp_vertices > 0 && report.mode == OffsetMode::Solid && args.distance < 0.0
            {
                "; an inward offset this deep leaves blades thinner than the triangles: a smaller \
                 inward distance avoids them (--no-check writes it unchecked)"
            } else {
                " (--no-check writes it unchecked)"
            }
        );
    }
    crate::cmd::create_parent_dir(&args.output)?;
    fab_geometry::write_stl(&args.output, &out)?;
    let (mode, method) = match report.mode {
        OffsetMode::Solid => (
            "solid",
            format!(
                "closed scan: solid offset, {} by {} mm",
                if args.distance > 0.0 {
                    "outward"
                } else {
                    "inward"
                },
                args.distance.abs()
            ),
        ),
        OffsetMode::Sheet { boundary_edges } => (
            "sheet",
            format!(
                "open scan ({boundary_edges} boundary edges): offset as a two-sided sheet, every point {} mm from the scan on both sides and around its open rim",
                args.distance.abs()
            ),
        ),
    };
    let summary = Summary {
        input: args.file.display().to_string(),
        output: args.output.display().to_string(),
        units: format!("{:?}", loaded.report.units.units).to_lowercase(),
        distance_mm: args.distance,
        mode,
        method,
        input_triangles: mesh.triangles.len(),
        triangles: out.triangles.len(),
        vertices: out.vertices.len(),
        cell_mm: report.cell,
        coarse_refused_mm: report.coarse_refused,
        band_search: match report.band_search {
            offset::BandSearch::Scan => "scan",
            offset::BandSearch::Tree => "tree",
        },
        tolerance_mm: args.tolerance,
        refine_rounds: report.refine_rounds,
        sharp_vertices: report.sharp_vertices,
        folded_triangles: report.folded_triangles,
        unsplit_error_mm: report.unsplit_error,
        check_run,
        check,
        offset_seconds,
        seconds: start.elapsed().as_secs_f64(),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        println!("{}", summary.method);
        println!(
            "wrote {}: {} triangles, {} vertices (grid {} mm, tolerance {} mm, {} refinement rounds) in {:.2} s",
            summary.output,
            summary.triangles,
            summary.vertices,
            summary.cell_mm,
            summary.tolerance_mm,
            summary.refine_rounds,
            summary.seconds
        );
        if let Some(c) = summary.coarse_refused_mm {
            println!(
                "(the surface on the default {c} mm grid was flagged, so it was made again at {} mm)",
                summary.cell_mm
            );
        }
        if let Some(c) = &summary.check {
            println!("check passed: {}", check_line(c));
        }
    }
    Ok(())
}

/// What makes the offset unsure of its surface, in words.
fn unsure_reasons(r: &offset::OffsetReport, max_error: f64) -> String {
    let mut why = Vec::new();
    if r.sharp_vertices > 0 {
        why.push(format!(
            "{} vertices on creases sharper than a right angle (the rims of blades an inward \
             offset deeper than a part is half thick leaves)",
            r.sharp_vertices
        ));
    }
    if r.folded_triangles > 0 {
        why.push(format!("{} folded triangles", r.folded_triangles));
    }
    if r.unsplit_error > max_error {
        why.push(format!(
            "a place {:.3} mm off that refinement could not split",
            r.unsplit_error
        ));
    }
    if r.crossing_pairs > 0 {
        why.push(format!(
            "{} pairs of crossing triangles it could not take apart",
            r.crossing_pairs
        ));
    }
    why.join(", ")
}

/// The check's figures in one line.
fn check_line(c: &CheckSummary) -> String {
    let [x, y, z] = c.worst_at;
    format!(
        "distance error p99 {:.4} mm, max {:.4} mm at ({x:.2}, {y:.2}, {z:.2}) (allowed {} mm) over {} points; {}{}; {} crossing triangle pairs",
        c.p99_error_mm,
        c.max_error_mm,
        c.max_error_allowed_mm,
        c.samples,
        match c.wrong_side {
            Some(n) => format!("{n} vertices on the wrong side of the scan, "),
            None => String::new(),
        },
        if c.closed { "closed" } else { "NOT closed" },
        c.crossing_pairs
    )
}
