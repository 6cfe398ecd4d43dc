//! `fab mesh modify FILE --rx RX -o OUT.stl`: applies what a prescription asks to a scan.
//!
//! A foot scan is oriented into the lab frame first (heel at the origin, toes +Y, floor Z = 0)
//! and written in it; the prescription must be for that foot. A residual limb stays in scan
//! coordinates (where the Rx's landmarks are). Where the material row mills the orthosis
//! directly (EVA), the output is the orthosis itself (`fab_geometry::device`), measured. The output is written atomically; an output that
//! is one of the inputs (scan, Rx, tables; under any name) or a read-only file is refused before
//! any work.

use std::path::PathBuf;

use anyhow::{Context, Result};
use fab_geometry::load::{Units, load_path};
use fab_geometry::modify::{self, Op};
use fab_geometry::{measure, orient, stl, topology};
use fab_ticket::Tables;
use fab_ticket::order::WorkOrder;
use fab_ticket::rx::DeviceKind;
use fab_ticket::tables::Mills;
use serde::Serialize;

use super::{Kind, resolve_kind};
use crate::rectify;

/// Arguments of `fab mesh modify`.
#[derive(clap::Args)]
pub struct Args {
    /// The scan (STL binary or ASCII, OBJ or PLY)
    file: PathBuf,
    /// The prescription whose modifications to apply
    #[arg(long)]
    rx: PathBuf,
    /// Where to write the rectified mesh (binary STL, mm)
    #[arg(short, long)]
    output: PathBuf,
    /// Units of the scan's coordinates
    #[arg(long, default_value = "auto")]
    units: Units,
    /// The lab's tables (materials, HCPCS), if not the bundled ones
    #[arg(long)]
    tables: Option<PathBuf>,
    /// Foot only: leave out the heel-cup/flange trim (keep the whole positive)
    #[arg(long)]
    no_trim: bool,
    /// Print JSON instead of text
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Summary {
    input: String,
    output: String,
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    side: Option<String>,
    frame: &'static str,
    operations: Vec<Op>,
    applied: Vec<String>,
    notes: Vec<String>,
    triangles: usize,
    watertight: bool,
    /// An orthosis milled directly (the material row says so): the device written, as measured
    /// on it, and what the Rx asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    device: Option<fab_geometry::device::DeviceMeasurements>,
    #[serde(skip_serializing_if = "Option::is_none")]
    device_asked: Option<fab_geometry::device::DeviceParams>,
}

pub fn run(args: Args) -> Result<()> {
    let mut inputs = vec![args.file.as_path(), args.rx.as_path()];
    inputs.extend(args.tables.as_deref());
    crate::outputs::check(&[args.output.as_path()], &inputs)?;
    let text = std::fs::read_to_string(&args.rx)
        .with_context(|| format!("cannot read the prescription {}", args.rx.display()))?;
    let rx =
        fab_ticket::rx::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", args.rx.display()))?;
    let tables = match &args.tables {
        Some(p) => Tables::load(p)?,
        None => Tables::bundled(),
    };
    let order = WorkOrder::from_prescription(&rx, &tables);
    let bar = super::progress();
    bar.set_message(format!("loading {}", args.file.display()));
    let loaded = load_path(&args.file, args.units)?;
    bar.set_message("orienting and measuring");
    let name = args.file.display().to_string();
    let mut mesh = loaded.mesh;
    let topo = topology::report(&mesh);
    let mut notes = order.remarks.clone();
    let mut device = None;
    let (kind, side, frame, ops) = match order.kind {
        DeviceKind::FootOrthotic => {
            if resolve_kind(Kind::Auto, &mesh, &topo) == Kind::Limb {
                notes.push("the scan is open at a large cut, like a limb; treating it as a foot as the Rx says".into());
            }
            let f = orient::foot(&mesh)
                .with_context(|| format!("{name}: cannot orient it as a foot"))?;
            mesh = f.apply(&mesh);
            if order.milling.mills == Mills::Orthosis {
                let d = rectify::device_ops(&order, &rx, f.side)
                    .map_err(|e| anyhow::anyhow!("{name}: {e:#}"))?;
                notes.extend(d.notes.iter().cloned());
                notes.push(format!(
                    "the {} orthosis is milled directly: written is the device, standing on its flat bottom (Z = 0), foot side up",
                    f.side
                ));
                device = Some(d.params);
                (
                    "orthosis",
                    Some(f.side.to_string()),
                    "lab (heel at origin, toes +Y, the device's bottom at Z = 0)",
                    d.shape,
                )
            } else {
                let fo = rectify::foot_ops(&order, f.side)
                    .map_err(|e| anyhow::anyhow!("{name}: {e:#}"))?;
                notes.extend(fo.notes);
                if let Some(e) = fo.extension_fraction {
                    notes.push(format!(
                        "the orthosis extends to {:.0} % of the foot length (profile cut)",
                        e * 100.0
                    ));
                }
                let mut ops = fo.shape;
                if args.no_trim {
                    if !fo.trim.is_empty() {
                        notes.push("heel cup / flange trim left out (--no-trim)".into());
                    }
                } else {
                    ops.extend(fo.trim);
                }
                (
                    "foot",
                    Some(f.side.to_string()),
                    "lab (heel at origin, toes +Y, floor Z = 0)",
                    ops,
                )
            }
        }
        DeviceKind::TranstibialSocket => {
            // an anterior landmark in the Rx fixes the anterior direction
            let anterior = rectify::anterior_landmark(&rx);
            let lm = measure::limb(&mesh, &[], anterior)
                .with_context(|| format!("{name}: cannot measure the limb"))?;
            notes.push(format!("anterior direction: from {}", lm.anterior_from));
            let (ops, n) = rectify::socket_ops(&order, &mesh, &lm, order.sides.first().copied())
                .map_err(|e| anyhow::anyhow!("{name}: {e:#}"))?;
            notes.extend(n);
            (
                "limb",
                order.sides.first().map(|s| s.to_string()),
                "scan",
                ops,
            )
        }
    };
    let applied = modify::apply(&mut mesh, &ops).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    let mut measured = None;
    if let Some(p) = &device {
        let d = fab_geometry::device::orthosis(&mesh, p)
            .with_context(|| format!("{name}: making the orthosis"))?;
        measured = Some(d.measured);
        mesh = d.mesh;
    }
    crate::cmd::create_parent_dir(&args.output)?;
    stl::write_stl(&args.output, &mesh)?;
    let after = topology::report(&mesh);
    let summary = Summary {
        input: name,
        output: args.output.display().to_string(),
        kind,
        side,
        frame,
        operations: ops,
        applied: applied.lines,
        notes,
        triangles: mesh.triangles.len(),
        watertight: after.watertight,
        device: measured,
        device_asked: device,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        println!(
            "{} ({}{}) -> {} ({} frame)",
            summary.input,
            summary.kind,
            summary
                .side
                .as_deref()
                .map(|s| format!(", {s}"))
                .unwrap_or_default(),
            summary.output,
            summary.frame
        );
        if summary.applied.is_empty() {
            println!("  no shape modifications in the prescription");
        }
        for line in &summary.applied {
            println!("  applied: {line}");
        }
        for n in &summary.notes {
            println!("  note: {n}");
        }
        if let Some(m) = &summary.device {
            println!(
                "  orthosis as measured: {:.0} mm long ({:.2} of the foot), heel cup {:.1} mm, rearfoot {:+.1} deg (+ medial up), thinnest {:.1} mm",
                m.length_mm,
                m.length_fraction,
                m.heel_cup_depth_mm,
                m.rearfoot_tilt_deg,
                m.least_thickness_mm
            );
        }
        println!(
            "  {} triangles, {}",
            summary.triangles,
            if summary.watertight {
                "watertight"
            } else {
                "open"
            }
        );
    }
    Ok(())
}
