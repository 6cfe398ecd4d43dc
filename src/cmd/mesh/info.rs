//! `fab mesh info FILE [--units U] [--kind K] [--at MM,...] [--json]`: what loading did, the
//! topology, and for a foot its side, lab frame and measurements, for a residual limb its axis,
//! circumferences, volume and area.

use std::path::PathBuf;

use anyhow::{Context, Result};
use fab_geometry::load::{LoadReport, Units, load_path};
use fab_geometry::measure::{self, FootMeasurements, LimbMeasurements};
use fab_geometry::{orient, topology};
use serde::Serialize;

use super::{Kind, resolve_kind};

/// Arguments of `fab mesh info`.
#[derive(clap::Args)]
pub struct Args {
    /// The scan (STL binary or ASCII, OBJ or PLY)
    file: PathBuf,
    /// Units of the scan's coordinates: auto decides from the body part's size
    #[arg(long, default_value = "auto")]
    units: Units,
    /// What the scan is
    #[arg(long, value_enum, default_value = "auto")]
    kind: Kind,
    /// Limb circumferences at these distances from the distal end, mm (default every 20 mm)
    #[arg(long, value_delimiter = ',')]
    at: Vec<f64>,
    /// Limb: a point on the tibial crest (scan coordinates, mm) that fixes the anterior
    /// direction; without it the crest is found from the cross-sections
    #[arg(long, value_parser = parse_point, allow_hyphen_values = true, value_name = "X,Y,Z")]
    anterior: Option<[f64; 3]>,
    /// Print JSON instead of text
    #[arg(long)]
    json: bool,
}

/// `X,Y,Z` in mm.
fn parse_point(s: &str) -> Result<[f64; 3], String> {
    let v: Vec<f64> = s
        .split(',')
        .map(|x| {
            x.trim()
                .parse::<f64>()
                .map_err(|_| format!("`{x}` is not a number"))
        })
        .collect::<Result<_, _>>()?;
    match v[..] {
        [x, y, z] if v.iter().all(|c| c.is_finite()) => Ok([x, y, z]),
        _ => Err(format!("expected X,Y,Z (three numbers, mm), found `{s}`")),
    }
}

#[derive(Serialize)]
struct Hole {
    vertices: usize,
    perimeter_mm: f64,
}

#[derive(Serialize)]
struct Topology {
    vertices: usize,
    triangles: usize,
    watertight: bool,
    holes: Vec<Hole>,
    non_manifold_edges: usize,
    components: usize,
}

#[derive(Serialize)]
struct FootInfo {
    side: orient::FootSide,
    evidence: Vec<String>,
    /// Scan -> lab frame: rotation matrix rows and translation (mm).
    to_lab_rotation: [[f64; 3]; 3],
    to_lab_translation: [f64; 3],
    measurements: FootMeasurements,
}

#[derive(Serialize)]
struct Info {
    file: String,
    load: LoadReport,
    topology: Topology,
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    foot: Option<FootInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    limb: Option<LimbMeasurements>,
    /// Why the scan was not analysed as a body part (`kind` is then `unrecognised`).
    #[serde(skip_serializing_if = "Option::is_none")]
    not_analysed: Option<String>,
}

pub fn run(args: Args) -> Result<()> {
    let bar = super::progress();
    bar.set_message(format!("loading {}", args.file.display()));
    let loaded = load_path(&args.file, args.units)?;
    let mesh = &loaded.mesh;
    bar.set_message("topology and measurements");
    let topo = topology::report(mesh);
    let kind = resolve_kind(args.kind, mesh, &topo);
    let name = args.file.display().to_string();
    let mut info = Info {
        file: name.clone(),
        load: loaded.report.clone(),
        topology: Topology {
            vertices: topo.vertices,
            triangles: topo.triangles,
            watertight: topo.watertight,
            holes: topo
                .boundary_loops
                .iter()
                .map(|l| Hole {
                    vertices: l.vertices.len(),
                    perimeter_mm: l.perimeter,
                })
                .collect(),
            non_manifold_edges: topo.non_manifold_edges,
            components: topo.components.len(),
        },
        kind: "foot",
        foot: None,
        limb: None,
        not_analysed: None,
    };
    // With `--kind auto` a scan that is neither a foot nor a limb (a fragment, a test part) still
    // gets its load and topology report, and the reason; asked for a kind, failing is an error.
    let guessed = matches!(args.kind, Kind::Auto);
    match kind {
        Kind::Limb => {
            info.kind = "limb";
            match measure::limb(
                mesh,
                &args.at,
                args.anterior.map(fab_geometry::nalgebra::Point3::from),
            ) {
                Ok(l) => info.limb = Some(l),
                Err(e) if guessed => {
                    info.kind = "unrecognised";
                    info.not_analysed = Some(format!("cannot measure it as a limb: {e}"));
                }
                Err(e) => {
                    return Err(anyhow::Error::new(e))
                        .with_context(|| format!("{name}: cannot measure the limb"));
                }
            }
        }
        _ => 'foot: {
            let frame = match orient::foot(mesh) {
                Ok(f) => f,
                Err(e) if guessed => {
                    info.kind = "unrecognised";
                    info.not_analysed = Some(format!(
                        "cannot orient it as a foot: {e} (--kind limb measures it as a limb)"
                    ));
                    break 'foot;
                }
                Err(e) => {
                    return Err(anyhow::Error::new(e)).with_context(|| {
                        format!("{name}: cannot orient it as a foot (try --kind limb)")
                    });
                }
            };
            let lab = frame.apply(mesh);
            let m = frame.to_lab.rotation.to_rotation_matrix();
            let r = m.matrix();
            info.foot = Some(FootInfo {
                side: frame.side,
                evidence: frame.evidence.clone(),
                to_lab_rotation: [0, 1, 2].map(|i| [r[(i, 0)], r[(i, 1)], r[(i, 2)]]),
                to_lab_translation: frame.to_lab.translation.vector.into(),
                measurements: measure::foot(&lab),
            });
        }
    }
    bar.finish_and_clear();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&info)?);
    } else {
        print_text(&info);
    }
    Ok(())
}

fn print_text(i: &Info) {
    println!("{}", i.file);
    for line in i.load.to_string().lines() {
        println!("  {line}");
    }
    let t = &i.topology;
    println!(
        "topology: {} vertices, {} triangles, {}, {} component{}, {} non-manifold edges",
        t.vertices,
        t.triangles,
        if t.watertight { "watertight" } else { "open" },
        t.components,
        if t.components == 1 { "" } else { "s" },
        t.non_manifold_edges
    );
    for (k, h) in t.holes.iter().enumerate() {
        println!(
            "  hole {}: {} edges, perimeter {:.1} mm",
            k + 1,
            h.vertices,
            h.perimeter_mm
        );
    }
    if let Some(why) = &i.not_analysed {
        println!("body part: not analysed ({why})");
    }
    if let Some(f) = &i.foot {
        let m = &f.measurements;
        println!("foot: {}", f.side);
        for e in &f.evidence {
            println!("  {e}");
        }
        println!("  length       {:7.1} mm", m.length);
        println!("  ball width   {:7.1} mm", m.ball_width);
        println!("  heel width   {:7.1} mm", m.heel_width);
        println!("  arch height  {:7.1} mm", m.arch_height);
        println!(
            "  outline      {} points (footprint below {} mm, lab frame; --json lists them)",
            m.outline.len(),
            measure::OUTLINE_HEIGHT_MM
        );
    }
    if let Some(l) = &i.limb {
        println!("residual limb:");
        println!(
            "  axis (distal -> proximal) ({:.3}, {:.3}, {:.3}), distal end at ({:.1}, {:.1}, {:.1})",
            l.axis[0], l.axis[1], l.axis[2], l.distal_end[0], l.distal_end[1], l.distal_end[2]
        );
        println!(
            "  anterior ({:.3}, {:.3}, {:.3}), from {}",
            l.anterior[0], l.anterior[1], l.anterior[2], l.anterior_from
        );
        println!("  length       {:7.1} mm", l.length);
        println!("  cut perimeter {:6.1} mm", l.cut_perimeter);
        println!(
            "  volume       {:7.1} ml (closed by a flat cap at the cut)",
            l.volume / 1000.0
        );
        println!("  surface area {:7.1} cm2", l.area / 100.0);
        println!("  circumferences (mm from the distal end: mm):");
        for (d, c) in &l.circumferences {
            println!("    {d:6.1}: {c:6.1}");
        }
    }
}
