//! `fab plan FOOT.stl [OTHER-FOOT.stl] --rx RX` (or `--job JOB`) when the work order's material
//! row mills the orthosis itself (`mills = "orthosis"`, e.g. EVA): each foot rectified as for a
//! positive (arch fill, met pad), made into its device (`fab_geometry::device`: extension, heel
//! cup, flanges, posts, heel lift, cover, thickness), one or both laid out on one blank and
//! milled in one program (`plan::orthosis`). Writes OUT.nc, OUT-design.stl (every part, program
//! coordinates), OUT-setup.html and OUT-preview.png, all or nothing; with `--job`, attaches them
//! with the scans they came from (side `pair` for a nested pair).

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use fab_geometry::orient::FootSide;
use fab_ticket::order::WorkOrder;
use fab_ticket::rx::Prescription;
use fab_ticket::store::Store;
use fab_toolpath::gcode::{Blank, ProgramHeader, write_program};
use fab_toolpath::{Machine, Move};
use sha2::{Digest, Sha256};

use super::plan::{
    Args, Outputs, ProgramWrites, Resolved, absolute, file_name, hex, is_a_foot, json_outputs,
    json_settings, json_tools, program_writes, progress, resolve_settings, side_word,
};
use crate::plan::{orthosis, preview, setup_sheet};

/// One foot, read, oriented, rectified and made into its device.
struct Foot {
    path: PathBuf,
    sha: String,
    units: String,
    triangles: usize,
    device: fab_geometry::device::Device,
    notes: Vec<String>,
}

/// Plans the orthoses of `args.scans` for `order` (whose material row mills them directly).
pub fn run(
    args: &Args,
    order: &WorkOrder,
    mut store: Option<Store>,
    out: &Outputs,
    inputs: &[&Path],
    t0: Instant,
) -> anyhow::Result<()> {
    let rx: Prescription = match (&args.job, &args.rx, &store) {
        (Some(job), _, Some(st)) => st.job(job)?.rx,
        (None, Some(path), _) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read prescription {}", path.display()))?;
            fab_ticket::rx::parse(&text)
                .with_context(|| format!("prescription {}", path.display()))?
        }
        _ => bail!("an orthosis milled directly needs its prescription (--rx or --job)"),
    };
    let machine = Machine::resolve(args.machine.as_deref().unwrap_or("linuxcnc-router"))?;
    if machine.rotary.is_some() {
        bail!(
            "machine {} is a rotary carver: an orthosis is milled on a 3-axis router (e.g. --machine linuxcnc-router)",
            machine.name
        );
    }
    let dialect = args.dialect.unwrap_or(machine.dialect);
    let row = &order.milling;
    let Resolved {
        settings,
        sources,
        notes: said,
    } = resolve_settings(args, &machine, row, "work order")?;

    let pb = progress();
    let mut feet: Vec<Foot> = Vec::new();
    for path in &args.scans {
        pb.set_message(format!("loading and rectifying {}", file_name(path)));
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read scan {}", path.display()))?;
        let sha = hex(&Sha256::digest(&bytes));
        let loaded = fab_geometry::load_bytes(&bytes, args.units)
            .with_context(|| format!("scan {}", path.display()))?;
        drop(bytes);
        let frame = fab_geometry::orient::foot(&loaded.mesh)
            .with_context(|| format!("orienting the foot in {}", path.display()))?;
        let mut lab = frame.apply(&loaded.mesh);
        is_a_foot(&lab, path)?;
        if let Some(other) = feet.iter().find(|f| f.device.params.side == frame.side) {
            bail!(
                "{} and {} are both {} feet: a pair is one left and one right",
                other.path.display(),
                path.display(),
                side_word(&frame.side)
            );
        }
        let ops = crate::rectify::device_ops(order, &rx, frame.side)
            .with_context(|| format!("{}", path.display()))?;
        fab_geometry::modify::apply(&mut lab, &ops.shape)
            .context("applying the work order's modifications")?;
        let device = fab_geometry::device::orthosis(&lab, &ops.params)
            .with_context(|| format!("making the orthosis of {}", path.display()))?;
        let mut notes: Vec<String> = ops
            .notes
            .iter()
            .map(|n| format!("{} foot: {n}", frame.side))
            .collect();
        if !ops.shape.is_empty() {
            notes.push(format!(
                "{} foot modified: {}",
                frame.side,
                ops.shape
                    .iter()
                    .map(|o| o.describe())
                    .collect::<Vec<_>>()
                    .join("; ")
            ));
        }
        feet.push(Foot {
            path: path.clone(),
            sha,
            units: loaded.report.units.units.to_string(),
            triangles: loaded.mesh.triangles.len(),
            device,
            notes,
        });
    }
    // left first: the sheet and the summary read left, right
    feet.sort_by_key(|f| f.device.params.side != FootSide::Left);
    let devices: Vec<fab_geometry::device::Device> =
        feet.iter().map(|f| f.device.clone()).collect();
    let mut step = |s: &str| pb.set_message(s.to_string());
    let planned = orthosis::plan(&devices, &settings, &machine, &mut step)?;
    let lay = &planned.layout;

    pb.set_message("writing G-code");
    let sides: Vec<&str> = feet
        .iter()
        .map(|f| side_word(&f.device.params.side))
        .collect();
    let what = format!(
        "orthosis, milled directly from {} ({} foot{}), foot side up",
        row.blank,
        sides.join(" and "),
        if sides.len() > 1 {
            ", nested on one blank"
        } else {
            ""
        }
    );
    let mut notes: Vec<String> = said.clone();
    for f in &feet {
        notes.extend(f.notes.iter().cloned());
    }
    let job = args.job.clone().unwrap_or_else(|| "unassigned".into());
    let scan_sha = feet
        .iter()
        .map(|f| f.sha.as_str())
        .collect::<Vec<_>>()
        .join(",");
    let header = ProgramHeader {
        job: job.clone(),
        scan_sha256: scan_sha.clone(),
        fab_version: env!("CARGO_PKG_VERSION").into(),
        blank: Blank {
            x: lay.blank[0],
            y: lay.blank[1],
            z: lay.blank[2],
        },
        work_zero: "top of blank, front-left corner".into(),
        notes: std::iter::once(what.clone())
            .chain(lay.parts.iter().map(|p| {
                let e = p.outline.iter().fold([f64::MAX, f64::MIN], |r, q| {
                    [r[0].min(q[1]), r[1].max(q[1])]
                });
                format!(
                    "{} orthosis between Y{:.0} and Y{:.0}, heel towards {}X",
                    side_word(&p.side),
                    e[0],
                    e[1],
                    if p.toe_dir[0] > 0.0 { "-" } else { "+" }
                )
            }))
            .chain(notes.iter().cloned())
            .collect(),
    };
    let files = write_program(&header, &planned.ops, &machine, dialect)?;
    crate::cmd::create_parent_dir(&args.output)?;
    let ProgramWrites {
        mut writes,
        bytes: program_bytes,
        sha256: program_sha,
        paths: program_paths,
    } = program_writes(&files, out);
    pb.set_message("writing design, preview, setup sheet");
    let d = &planned.design;
    let design_bytes = fab_geometry::stl::to_binary(&d.mesh);
    let design_sha = hex(&Sha256::digest(&design_bytes));
    writes.push((out.design.clone(), design_bytes));
    let picture = preview::render(d, &planned.ops, 900)?;
    writes.push((out.preview.clone(), picture.png.clone()));
    let estimated: std::time::Duration = files.iter().map(|f| f.estimated).sum();
    let approval = match (store.as_ref(), &args.job) {
        (Some(st), Some(job)) => Some(setup_sheet::Approval::of(
            st.job(job)?.status,
            &st.history(job)?,
        )),
        _ => None,
    };
    let on_sheet: Vec<setup_sheet::OrthosisOnSheet> = lay
        .parts
        .iter()
        .map(|p| {
            let e = p
                .outline
                .iter()
                .fold([f64::MAX, f64::MAX, f64::MIN, f64::MIN], |r, q| {
                    [
                        r[0].min(q[0]),
                        r[1].min(q[1]),
                        r[2].max(q[0]),
                        r[3].max(q[1]),
                    ]
                });
            let heel_x = if p.toe_dir[0] > 0.0 { e[0] } else { e[2] };
            setup_sheet::OrthosisOnSheet {
                side: p.side,
                extent: e,
                heel: [heel_x, (e[1] + e[3]) / 2.0],
                measured: p.measured,
            }
        })
        .collect();
    let sheet = setup_sheet::html(&setup_sheet::Sheet {
        job: &job,
        what: &what,
        side: lay.parts[0].side,
        blank_material: &row.blank,
        design: d,
        ops: &planned.ops,
        op_settings: &planned.op_settings,
        tabs: &planned.tabs,
        machine: &machine,
        dialect,
        program_name: &file_name(&out.program),
        program_sha256: &program_sha,
        program_bytes,
        design_name: &file_name(&out.design),
        preview_name: &file_name(&out.preview),
        picture: &picture,
        scan_sha256: &scan_sha,
        estimated,
        settings: &sources,
        approval,
        orthoses: &on_sheet,
    });
    writes.push((out.sheet.clone(), sheet.into_bytes()));
    let paths: Vec<&Path> = writes.iter().map(|(p, _)| p.as_path()).collect();
    crate::outputs::check(&paths, inputs)?;
    crate::outputs::write_all(&writes)?;
    if let (Some(st), Some(job)) = (store.as_mut(), &args.job) {
        pb.set_message("attaching to the job");
        let programs: Vec<(PathBuf, String)> = writes
            .iter()
            .filter(|(p, _)| program_paths.contains(p))
            .map(|(p, bytes)| (absolute(p), hex(&Sha256::digest(bytes))))
            .collect();
        let scans: Vec<(PathBuf, String)> = feet
            .iter()
            .map(|f| (absolute(&f.path), f.sha.clone()))
            .collect();
        let side = if feet.len() > 1 {
            fab_ticket::store::PAIR
        } else {
            side_word(&feet[0].device.params.side)
        };
        crate::cmd::job::attach_plan_from(
            st,
            &args.db,
            job,
            &scans,
            side,
            &programs,
            (&absolute(&out.design), &design_sha),
        )?;
    }
    pb.finish_and_clear();

    let wall = t0.elapsed().as_secs_f64();
    let est = fab_toolpath::estimate::format_duration(estimated);
    let moves: usize = planned.ops.iter().map(|o| o.moves.len()).sum();
    let rapids = planned
        .ops
        .iter()
        .flat_map(|o| &o.moves)
        .filter(|m| matches!(m, Move::Rapid(_)))
        .count();
    if args.json {
        let v = serde_json::json!({
            "job": job,
            "part": what,
            "product": "orthosis",
            "devices": lay.parts.iter().zip(&feet).map(|(p, f)| serde_json::json!({
                "side": side_word(&p.side),
                "scan_sha256": f.sha,
                "units": f.units,
                "triangles": f.triangles,
                "foot_length_mm": p.foot_length,
                "toe_direction": p.toe_dir,
                "extent_mm": p.outline.iter().fold(
                    [f64::MAX, f64::MAX, f64::MIN, f64::MIN],
                    |r, q| [r[0].min(q[0]), r[1].min(q[1]), r[2].max(q[0]), r[3].max(q[1])],
                ),
                "measured": p.measured,
                "asked": {
                    "extension_fraction": f.device.params.extension,
                    "heel_cup_mm": f.device.params.heel_cup,
                    "medial_flange_mm": f.device.params.medial_flange,
                    "lateral_flange_mm": f.device.params.lateral_flange,
                    "rearfoot_post_deg": f.device.params.rearfoot_post,
                    "forefoot_post_deg": f.device.params.forefoot_post,
                    "heel_lift_mm": f.device.params.heel_lift,
                    "top_cover_mm": f.device.params.top_cover,
                    "thickness_mm": f.device.params.thickness,
                },
            })).collect::<Vec<_>>(),
            "design_triangles": d.mesh.triangles.len(),
            "cl_points": planned.cl_points,
            "moves": moves,
            "rapids": rapids,
            "estimated_run_time_s": estimated.as_secs_f64(),
            "program_bytes": program_bytes,
            "program_sha256": program_sha,
            "scan_sha256": scan_sha,
            "blank_mm": lay.blank,
            "blank_material": row.blank,
            "work_zero": "top of blank, front-left corner",
            "machine": machine.name,
            "dialect": dialect.name(),
            "tools": json_tools(&planned.ops),
            "stepover_mm": settings.stepover,
            "settings": json_settings(&sources),
            "notes": notes,
            "wall_s": wall,
            "outputs": json_outputs(&program_paths, out),
        });
        println!("{v}");
    } else {
        println!(
            "planned {what}: {} CL points, {moves} moves, est. run time {est}, {} ({:.1} KiB), {wall:.2} s",
            planned.cl_points,
            out.program.display(),
            program_bytes as f64 / 1024.0,
        );
        for p in &lay.parts {
            let m = &p.measured;
            println!(
                "  {} orthosis: {:.0} mm long ({:.2} of the foot), heel cup {:.1} mm, rearfoot {:+.1} deg, thinnest {:.1} mm",
                side_word(&p.side),
                m.length_mm,
                m.length_fraction,
                m.heel_cup_depth_mm,
                m.rearfoot_tilt_deg,
                m.least_thickness_mm
            );
        }
        for n in &said {
            eprintln!("note: {n}");
        }
    }
    Ok(())
}
