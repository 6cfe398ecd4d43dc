//! `fab plan LIMB.stl --rx SOCKET.rx` (or `--job`, or a limb scan alone): a socket positive
//! carved on a rotary carver.
//!
//! The limb is rectified exactly as `fab mesh modify` does it (`rectify::socket_scan`), laid
//! along X with a stem for the mandrel (`fab_geometry::socket`), and carved from a foam cylinder
//! by roughing levels and a finishing helix (`fab_toolpath::rotary`), written in inverse time for
//! LinuxCNC. The files are the foot plan's: OUT.nc, OUT-design.stl (program coordinates, the part
//! at A = 0), OUT-setup.html, OUT-preview.png (the design unrolled), written all or nothing.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use fab_geometry::socket::{SocketParams, socket_positive};
use fab_ticket::order::WorkOrder;
use fab_ticket::rx::DeviceKind;
use fab_ticket::store::Store;
use fab_toolpath::gcode::{RotaryHeader, write_rotary_program};
use fab_toolpath::rotary::{CarveParams, carve};
use fab_toolpath::{Cutter, Machine, Tool};
use sha2::{Digest, Sha256};

use super::plan::{Args, Outputs, absolute, file_name, hex};
use crate::plan::rotary_sheet;

/// The default carver for socket positives.
pub const DEFAULT_MACHINE: &str = "linuxcnc-rotary";

/// Where the stem's end face is from the chuck's face, mm: room for the largest ball beyond it.
const STEM_FACE_X: f64 = 20.0;

/// Plans the socket positive of `args.scan` (the scan's bytes already read) for `order`.
pub fn run(
    args: &Args,
    order: Option<&WorkOrder>,
    mut store: Option<Store>,
    out: &Outputs,
    inputs: &[&Path],
    scan_bytes: Vec<u8>,
    rx: Option<&fab_ticket::rx::Prescription>,
) -> anyhow::Result<()> {
    let anterior = rx.and_then(crate::rectify::anterior_landmark);
    // a scan of the bare skin: the positive is grown by the liner's thickness
    let skin_liner = match rx.map(|r| &r.device) {
        Some(fab_ticket::rx::Device::TranstibialSocket(s))
            if s.scan == Some(fab_ticket::rx::ScanSurface::Skin) =>
        {
            match s.liner_mm {
                Some(l) if l > 0.0 => Some(l),
                _ => bail!(
                    "the Rx says the scan is of the skin (scan: skin) but gives no liner thickness to grow the positive by (liner: N mm)"
                ),
            }
        }
        _ => None,
    };
    let t0 = Instant::now();
    let machine = Machine::resolve(args.machine.as_deref().unwrap_or(DEFAULT_MACHINE))?;
    let dialect = args.dialect.unwrap_or(machine.dialect);
    let Some(rot) = machine.rotary else {
        bail!(
            "machine {} has no rotary axis: socket positives are carved on a rotary carver (e.g. --machine linuxcnc-rotary)",
            machine.name
        );
    };
    for (flag, given) in [
        ("--angle", args.angle != 0.0),
        ("--cross-pass", args.cross_pass),
        ("--conventional", args.conventional),
        ("--no-tabs", args.no_tabs),
        ("--trim-height", args.trim_height.is_some()),
    ] {
        if given {
            bail!(
                "{flag} is for foot positives on a router; a socket positive is carved on a rotary carver"
            );
        }
    }
    let bundled = fab_ticket::Tables::bundled();
    let (row, row_source) = match order {
        Some(o) => (o.milling.clone(), "work order"),
        None => (
            bundled
                .material(DeviceKind::TranstibialSocket, None)
                .clone(),
            "material table",
        ),
    };
    let mut sources: Vec<(&'static str, String, &'static str)> = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    // ball-nose tools from the machine's table only
    let pick = |wanted: Option<Cutter>, spec: &str, what: &str, notes: &mut Vec<String>| {
        let (w, from) = match wanted {
            Some(w) => (w, "option"),
            None => (
                spec.parse::<Cutter>()
                    .with_context(|| format!("the {row_source}'s {what} tool '{spec}'"))?,
                row_source,
            ),
        };
        if !matches!(w, Cutter::Ball { .. }) {
            if from == "option" {
                bail!("--{what}-tool {w}: a rotary carver carves with ball-nose tools only");
            }
        } else if let Some(n) = machine.pocket_of(&w) {
            return Ok((
                Tool {
                    number: n,
                    cutter: w,
                },
                from,
            ));
        } else if from == "option" {
            bail!(
                "--{what}-tool {w}: machine {} has no such tool; its tools are {}",
                machine.name,
                machine.tool_list()
            );
        }
        let near = machine
            .tools
            .iter()
            .filter(|t| matches!(t.cutter, Cutter::Ball { .. }))
            .min_by(|a, b| {
                let da = (a.cutter.diameter() - w.diameter()).abs();
                let db = (b.cutter.diameter() - w.diameter()).abs();
                da.total_cmp(&db)
            });
        match near {
            Some(t) => {
                notes.push(format!(
                    "the {row_source} asks for a {w} {what} tool; the carver takes its nearest ball nose, T{} {}",
                    t.number, t.cutter
                ));
                Ok((
                    Tool {
                        number: t.number,
                        cutter: t.cutter,
                    },
                    "machine (its nearest)",
                ))
            }
            None => bail!(
                "machine {} has no ball-nose tool; its tools are {}",
                machine.name,
                machine.tool_list()
            ),
        }
    };
    let (finish_tool, src) = pick(args.finish_tool, &row.finish_tool, "finish", &mut notes)?;
    sources.push(("finish tool", finish_tool.cutter.to_string(), src));
    let (rough_tool, src) = pick(args.rough_tool, &row.rough_tool, "rough", &mut notes)?;
    sources.push(("rough tool", rough_tool.cutter.to_string(), src));
    let mut value = |what: &'static str, opt: Option<f64>, row_v: f64, unit: &str| -> f64 {
        let (v, src) = match opt {
            Some(v) => (v, "option"),
            None => (row_v, row_source),
        };
        sources.push((what, format!("{v} {unit}"), src));
        v
    };
    let allowance = value("stock allowance", args.allowance, row.stock_mm, "mm");
    let feed = value("surface speed (feed)", args.feed, row.feed_mm_min, "mm/min");
    let plunge = value("plunge feed", args.plunge, row.plunge_mm_min, "mm/min");
    let spindle = value("spindle", args.spindle, row.spindle_rpm as f64, "rpm");
    let stepdown = value("roughing stepdown", args.stepdown, row.stepdown_mm, "mm");
    for (what, v, lo, hi) in [
        ("feed", feed, 1.0, 1e5),
        ("plunge feed", plunge, 1.0, 1e5),
        ("spindle", spindle, 1.0, 2e5),
        ("roughing stepdown", stepdown, 0.5, 100.0),
        ("stock allowance", allowance, 0.0, 10.0),
    ] {
        if !(v.is_finite() && v >= lo && v <= hi) {
            bail!("the {what} must be {lo} to {hi}, got {v}");
        }
    }
    let rf = finish_tool.cutter.radius();
    // the finishing pitch: from the scallop target, the stepover given, or the row's stepover
    let (pitch, scallop) = if let Some(h) = args.scallop {
        if !(h.is_finite() && h > 0.0 && h < rf) {
            bail!("--scallop must be a positive number of mm below the ball's radius, got {h}");
        }
        let p = 2.0 * (2.0 * rf * h - h * h).sqrt();
        sources.push(("helix pitch", format!("{p:.3} mm"), "option (--scallop)"));
        (p, h)
    } else {
        let p = value("helix pitch", args.stepover, row.stepover_mm, "mm");
        if !(p.is_finite() && p >= 0.05 && p < 2.0 * rf) {
            bail!(
                "the helix pitch must be 0.05 mm to the ball's diameter ({:.1} mm), got {p}",
                2.0 * rf
            );
        }
        (p, rf - (rf * rf - p * p / 4.0).sqrt())
    };
    let feed = if feed > machine.max_feed {
        notes.push(format!(
            "feed {feed} mm/min capped at {}'s {} mm/min",
            machine.name, machine.max_feed
        ));
        machine.max_feed
    } else {
        feed
    };
    let plunge = plunge.min(machine.max_feed);

    // the scan: a residual limb, rectified as `fab mesh modify` does it
    let scan_sha = hex(&Sha256::digest(&scan_bytes));
    let loaded = fab_geometry::load_bytes(&scan_bytes, args.units)
        .with_context(|| format!("scan {}", args.scan.display()))?;
    drop(scan_bytes);
    let topo = fab_geometry::topology::report(&loaded.mesh);
    let kind = fab_geometry::kind::classify(&loaded.mesh, &topo);
    if kind.kind != fab_geometry::kind::ScanKind::Limb {
        bail!(
            "{}: {}; a socket positive is carved from a residual limb scan",
            args.scan.display(),
            kind.reason
        );
    }
    let scan = loaded.mesh;
    let rect =
        crate::rectify::socket_scan(order, &scan, anterior, &args.scan.display().to_string())?;
    notes.extend(rect.notes.iter().cloned());
    let leg =
        crate::rectify::check_leg_side(rx, order.and_then(|o| o.sides.first().copied()), &rect.lm)
            .with_context(|| format!("{}", args.scan.display()))?;
    notes.push(leg);
    let mut design = socket_positive(
        &rect.mesh,
        &rect.lm.distal(),
        &rect.lm.axis(),
        &rect.lm.anterior(),
        &SocketParams {
            // grown by the liner below, the stem's face comes back to STEM_FACE_X and the stem
            // to its length beyond the cut
            stem_face_x: STEM_FACE_X + skin_liner.unwrap_or(0.0),
            stem_length: SocketParams::default().stem_length - skin_liner.unwrap_or(0.0),
        },
    )
    .with_context(|| format!("laying out the positive of {}", args.scan.display()))?;
    if let Some(l) = skin_liner {
        let (grown, report) = fab_geometry::offset::offset(
            &design.mesh,
            &fab_geometry::offset::OffsetOptions::new(l),
        )
        .with_context(|| format!("growing the positive by the {l} mm liner"))?;
        notes.push(format!(
            "the scan is of the skin: the positive grown {l} mm (the liner) by a true offset ({} refinement rounds)",
            report.refine_rounds
        ));
        design.mesh = grown;
        design.stem_face_x -= l;
        design.distal_x += l;
        design.max_radius = design
            .mesh
            .vertices
            .iter()
            .map(|q| q.y.hypot(q.z))
            .fold(0.0, f64::max);
    }
    if design.holes_closed > 0 {
        notes.push(format!(
            "{} small hole(s) in the scan closed flat on the positive",
            design.holes_closed
        ));
    }
    // the blank: the row's margins round the largest radius and beyond the distal end
    let blank_r = design.max_radius + row.margin_xy_mm.max(1.0);
    let blank_x = (
        design.stem_face_x,
        design.distal_x + row.margin_z_mm.max(0.0),
    );
    sources.push((
        "blank beyond the largest radius",
        format!("{} mm", row.margin_xy_mm.max(1.0)),
        row_source,
    ));
    sources.push((
        "blank beyond the distal end",
        format!("{} mm", row.margin_z_mm.max(0.0)),
        row_source,
    ));
    let length = blank_x.1 - blank_x.0;
    if blank_r > rot.max_radius || length > rot.max_length {
        bail!(
            "the blank ({:.0} mm across, {length:.0} mm long) is larger than {} takes ({:.0} mm across, {:.0} mm long)",
            2.0 * blank_r,
            machine.name,
            2.0 * rot.max_radius,
            rot.max_length
        );
    }
    let params = CarveParams {
        rough_tool,
        finish_tool,
        blank_radius: blank_r,
        blank_x,
        allowance,
        stepdown,
        rough_pitch: 1.5 * rough_tool.cutter.radius(),
        finish_pitch: pitch,
        feed,
        plunge_feed: plunge,
        spindle_rpm: spindle.min(machine.max_spindle_rpm),
        clearance: 5.0,
        a_max_rate: rot.a_max_rate,
        max_feed: machine.max_feed,
        a_limit: rot.a_travel.max,
    };
    let soup = design.mesh.to_soup();
    let plan = carve(&soup, &params).context("planning the rotary passes")?;

    let side = order.and_then(|o| o.sides.first().map(|s| s.to_string()));
    let what = match order {
        None => "socket positive, no modifications (no job or Rx given)".to_string(),
        Some(_) if rect.applied.is_empty() => {
            "socket positive, no shape modifications in the work order".to_string()
        }
        Some(_) => format!("socket positive, rectified: {}", rect.applied.join("; ")),
    };
    let job = args.job.clone().unwrap_or_else(|| "unassigned".into());
    let header = RotaryHeader {
        job: job.clone(),
        scan_sha256: scan_sha.clone(),
        fab_version: env!("CARGO_PKG_VERSION").into(),
        blank_diameter: 2.0 * blank_r,
        blank_length: length,
        blank_x0: blank_x.0,
        work_zero: "on the rotation axis at the chuck face, A0 with the anterior side up".into(),
        notes: std::iter::once(what.clone())
            .chain(std::iter::once(format!(
                "stem X{:.1} to X{:.1}, proximal cut X{:.1} to X{:.1}, distal end X{:.1}",
                design.stem_face_x, design.cut_x.0, design.cut_x.0, design.cut_x.1, design.distal_x
            )))
            .chain(notes.iter().cloned())
            .collect(),
    };
    let file = write_rotary_program(&header, &plan.ops, &machine, dialect)?;
    let program_sha = hex(&Sha256::digest(file.text.as_bytes()));
    let design_bytes = fab_geometry::stl::to_binary(&design.mesh);
    let design_sha = hex(&Sha256::digest(&design_bytes));
    let unrolled = rotary_sheet::unrolled(&design, &scan)?;
    let sheet = rotary_sheet::html(&rotary_sheet::Sheet {
        job: &job,
        what: &what,
        side: side.as_deref(),
        blank_material: &row.blank,
        blank_radius: blank_r,
        blank_x,
        design: &design,
        plan: &plan,
        machine: &machine,
        program_name: &file_name(&out.program),
        program_sha256: &program_sha,
        design_name: &file_name(&out.design),
        preview_name: &file_name(&out.preview),
        unrolled: &unrolled,
        estimated: file.estimated,
        settings: &sources,
        scallop,
    });
    let writes: Vec<(PathBuf, Vec<u8>)> = vec![
        (out.program.clone(), file.text.clone().into_bytes()),
        (out.design.clone(), design_bytes),
        (out.preview.clone(), unrolled.png.clone()),
        (out.sheet.clone(), sheet.into_bytes()),
    ];
    let paths: Vec<&Path> = writes.iter().map(|(p, _)| p.as_path()).collect();
    crate::outputs::check(&paths, inputs)?;
    if let Some(dir) = args.output.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create output directory {}", dir.display()))?;
    }
    crate::outputs::write_all(&writes)?;
    if let (Some(st), Some(j)) = (store.as_mut(), &args.job) {
        crate::cmd::job::attach_plan(
            st,
            &args.db,
            j,
            (&absolute(&args.scan), &scan_sha),
            side.as_deref().unwrap_or("unspecified"),
            &[(absolute(&out.program), program_sha.clone())],
            (&absolute(&out.design), &design_sha),
        )?;
    }
    let wall = t0.elapsed().as_secs_f64();
    let est = fab_toolpath::estimate::format_duration(file.estimated);
    let moves: usize = plan.ops.iter().map(|o| o.moves.len()).sum();
    if args.json {
        let v = serde_json::json!({
            "job": job,
            "part": what,
            "kind": "socket positive",
            "side": side,
            "units": loaded.report.units.units.to_string(),
            "units_reason": loaded.report.units.reason,
            "triangles": scan.triangles.len(),
            "design_triangles": design.mesh.triangles.len(),
            "cl_points": plan.cl_points,
            "moves": moves,
            "roughing_levels": plan.levels,
            "finishing_turns": plan.finish_turns,
            "helix_pitch_mm": pitch,
            "scallop_mm": scallop,
            "estimated_run_time_s": file.estimated.as_secs_f64(),
            "program_bytes": file.text.len(),
            "program_sha256": program_sha,
            "scan_sha256": scan_sha,
            "blank": { "diameter_mm": 2.0 * blank_r, "length_mm": length, "x0_mm": blank_x.0 },
            "design": {
                "stem_face_x_mm": design.stem_face_x,
                "cut_x_mm": [design.cut_x.0, design.cut_x.1],
                "distal_x_mm": design.distal_x,
                "max_radius_mm": design.max_radius,
            },
            "work_zero": "on the rotation axis at the chuck face, A0 with the anterior side up",
            "machine": machine.name,
            "dialect": dialect.name(),
            "tools": plan.ops.iter().map(|o| serde_json::json!({
                "operation": o.name, "number": o.tool.number, "cutter": o.tool.cutter.to_string()
            })).collect::<Vec<_>>(),
            "settings": sources.iter().map(|(what, v, from)| serde_json::json!({
                "setting": what, "value": v, "from": from
            })).collect::<Vec<_>>(),
            "notes": notes,
            "wall_s": wall,
            "outputs": {
                "program": [out.program.display().to_string()],
                "design": out.design.display().to_string(),
                "setup_sheet": out.sheet.display().to_string(),
                "preview": out.preview.display().to_string(),
            },
        });
        println!("{v}");
    } else {
        println!(
            "planned {what}: {} triangles, {} CL points, {moves} moves, est. run time {est}, {} ({:.1} KiB), {wall:.2} s",
            scan.triangles.len(),
            plan.cl_points,
            out.program.display(),
            file.text.len() as f64 / 1024.0,
        );
        for n in &notes {
            eprintln!("note: {n}");
        }
    }
    Ok(())
}
