//! `fab drop FILE --tool ball:6 --step 0.5 -o cl.csv`: the drop-cutter CL grid of a mesh, as CSV,
//! so that anyone can compare fab with another CAM kernel.
//!
//! The grid covers the mesh's own XY bounds, as loaded (no re-orientation): `x_i = xmin + i*step`
//! for `i = 0..=floor((xmax - xmin) / step)`, same for y. Rows are y-major (every x of the first
//! y, then the next y). A point with no triangle under the cutter gets the mesh's minimum Z; every
//! other point its exact drop, which near the outline may be lower than that (the cutter's side
//! touching a low edge).

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use fab_geometry::load::{Units, load_path};
use fab_toolpath::Cutter;
use fab_toolpath::drop::{Grid, drop_grid};

/// Arguments of `fab drop`.
#[derive(clap::Args)]
pub struct Args {
    /// Scan or design surface (STL, binary or ASCII)
    pub file: PathBuf,
    /// Cutter: ball:D, flat:D or bull:D:CR (diameter and corner radius in mm)
    #[arg(long, default_value = "ball:6")]
    pub tool: String,
    /// Grid step in mm
    #[arg(long, allow_hyphen_values = true, default_value_t = 0.5)]
    pub step: f64,
    /// Output CSV (x,y,z with a header); without it the CSV goes to stdout
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Units of the file: auto, mm, cm, m, in
    #[arg(long, default_value = "auto")]
    pub units: Units,
    /// Print the summary as JSON (stdout; needs -o, the CSV then goes to the file)
    #[arg(long, requires = "output")]
    pub json: bool,
}

/// What `fab drop` did, for the summary line or `--json`.
#[derive(serde::Serialize)]
struct Summary<'a> {
    file: &'a Path,
    output: Option<&'a Path>,
    units: String,
    tool: String,
    triangles: usize,
    step: f64,
    x0: f64,
    y0: f64,
    nx: usize,
    ny: usize,
    points: usize,
    points_without_contact: usize,
    min_z: f64,
    max_z: f64,
    drop_seconds: f64,
    wall_seconds: f64,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let start = Instant::now();
    let cutter: Cutter = args.tool.parse().context("bad --tool")?;
    if !(args.step.is_finite() && args.step > 0.0) {
        anyhow::bail!(
            "bad --step {:?}: expected a grid step in mm greater than 0",
            args.step
        );
    }
    if let Some(out) = &args.output {
        crate::outputs::check(&[out.as_path()], &[args.file.as_path()])?;
    }
    eprintln!("fab drop: loading {}", args.file.display());
    let loaded = load_path(&args.file, args.units)?;
    let mesh = &loaded.mesh;
    eprintln!(
        "fab drop: {} triangles in {} ({})",
        mesh.triangles.len(),
        loaded.report.units.units,
        loaded.report.units.reason
    );
    let (lo, hi) = mesh
        .bounds()
        .context("the mesh has no vertices after loading")?;
    let grid = Grid::try_over(lo.x, hi.x, lo.y, hi.y, args.step).with_context(|| {
        format!(
            "bad --step {:?}: no grid of that step over the mesh",
            args.step
        )
    })?;
    eprintln!(
        "fab drop: {} x {} grid ({} points), {cutter}",
        grid.nx,
        grid.ny,
        grid.len()
    );
    let soup = mesh.to_soup();
    let t0 = Instant::now();
    let mut z = drop_grid(&soup, &cutter, &grid);
    let drop_seconds = t0.elapsed().as_secs_f64();
    let mut without = 0;
    for v in &mut z {
        if *v == f64::NEG_INFINITY {
            *v = lo.z;
            without += 1;
        }
    }

    match &args.output {
        Some(path) => {
            crate::cmd::create_parent_dir(path)?;
            crate::outputs::write_streamed(path, |w| write_csv(w, &grid, &z))?
        }
        None => {
            let stdout = std::io::stdout();
            let mut w = BufWriter::new(stdout.lock());
            write_csv(&mut w, &grid, &z)?;
            w.flush()?;
        }
    }

    let summary = Summary {
        file: &args.file,
        output: args.output.as_deref(),
        units: loaded.report.units.units.to_string(),
        tool: cutter.to_string(),
        triangles: soup.len(),
        step: args.step,
        x0: grid.x0,
        y0: grid.y0,
        nx: grid.nx,
        ny: grid.ny,
        points: grid.len(),
        points_without_contact: without,
        min_z: z.iter().copied().fold(f64::INFINITY, f64::min),
        max_z: z.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        drop_seconds,
        wall_seconds: start.elapsed().as_secs_f64(),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else if args.output.is_some() {
        println!(
            "{} triangles, {} CL points ({} x {}), tool {}, z {:.3}..{:.3} mm, drop {:.3} s, wall {:.3} s",
            summary.triangles,
            summary.points,
            summary.nx,
            summary.ny,
            summary.tool,
            summary.min_z,
            summary.max_z,
            summary.drop_seconds,
            summary.wall_seconds
        );
    }
    Ok(())
}

/// The CSV: header `x,y,z`, then one line per grid point, y-major, 6 decimals (1 nm).
fn write_csv(w: &mut impl Write, grid: &Grid, z: &[f64]) -> std::io::Result<()> {
    writeln!(w, "x,y,z")?;
    let mut line = Vec::with_capacity(64);
    for j in 0..grid.ny {
        let y = grid.y(j);
        for i in 0..grid.nx {
            line.clear();
            fixed6(&mut line, grid.x(i));
            line.push(b',');
            fixed6(&mut line, y);
            line.push(b',');
            fixed6(&mut line, z[j * grid.nx + i]);
            line.push(b'\n');
            w.write_all(&line)?;
        }
    }
    Ok(())
}

/// Appends `v` with exactly 6 decimals (rounded half away from zero), as `{:.6}` would for the
/// magnitudes of a grid in mm, without float formatting's cost.
fn fixed6(out: &mut Vec<u8>, v: f64) {
    let scaled = (v.abs() * 1e6).round();
    if scaled.is_nan() || scaled >= 9.0e15 {
        // Not reachable for a checked grid; keep the general path for safety.
        out.extend_from_slice(format!("{v:.6}").as_bytes());
        return;
    }
    let n = scaled as u64;
    if v < 0.0 && n != 0 {
        out.push(b'-');
    }
    let (int, frac) = (n / 1_000_000, n % 1_000_000);
    let mut digits = [0u8; 20];
    let mut k = digits.len();
    let mut int = int;
    loop {
        k -= 1;
        digits[k] = b'0' + (int % 10) as u8;
        int /= 10;
        if int == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[k..]);
    out.push(b'.');
    let mut f = [b'0'; 6];
    let mut frac = frac;
    for d in f.iter_mut().rev() {
        *d = b'0' + (frac % 10) as u8;
        frac /= 10;
    }
    out.extend_from_slice(&f);
}

#[cfg(test)]
mod tests {
    use super::fixed6;

    #[test]
    fn fixed6_matches_std_formatting() {
        for v in [
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.5554070230573416,
            100.00000149011612,
            -3.2500005,
            195.506006,
            -0.0000004,
            123456.789,
            1e-7,
            0.9999995,
        ] {
            let mut out = Vec::new();
            fixed6(&mut out, v);
            let std = format!("{v:.6}");
            let ours = String::from_utf8(out).unwrap();
            // std rounds half to even on the exact binary value; allow 1 in the last digit there.
            let (a, b): (f64, f64) = (ours.parse().unwrap(), std.parse().unwrap());
            assert!((a - b).abs() <= 1.0000001e-6, "{v}: {ours} vs {std}");
            assert_eq!(ours.split('.').nth(1).unwrap().len(), 6, "{ours}");
        }
    }
}
