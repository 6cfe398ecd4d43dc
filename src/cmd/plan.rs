//! `fab plan SCAN -o OUT.nc`: the lab's main job. From a foot scan (and the job's or an Rx's
//! modifications) to a program the CNC operator can run: OUT.nc, OUT-design.stl (the exact
//! surface the program means to cut, in program coordinates), OUT-setup.html (the operator's
//! setup sheet) and OUT-preview.png. Progress on stderr, one summary line (or `--json`) on
//! stdout. Files carry the job number only, never a patient reference.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use fab_geometry::Units;
use fab_ticket::order::WorkOrder;
use fab_ticket::rx::DeviceKind;
use fab_ticket::tables::{MaterialRow, Mills};
use fab_ticket::workflow::Status;
use fab_toolpath::gcode::{Blank, Dialect, ProgramFile, ProgramHeader, write_program};
use fab_toolpath::{Cutter, Machine, Move};
use sha2::{Digest, Sha256};

use crate::plan::{self, Settings, preview, setup_sheet};

/// Arguments of `fab plan`.
#[derive(clap::Args)]
pub struct Args {
    /// Scan of the foot or residual limb: STL (binary or ASCII), OBJ or PLY. Two foot scans
    /// (left and right) for a pair of orthoses milled directly, nested on one blank; none with
    /// --job to use the scans attached to the job
    #[arg(value_name = "SCAN", num_args = 0..=2)]
    pub scans: Vec<PathBuf>,
    /// The one scan planned (set from `scans`)
    #[arg(skip)]
    pub scan: PathBuf,
    /// Job number: plan with the job's work order and attach the program and design to it
    #[arg(long, conflicts_with = "rx")]
    pub job: Option<String>,
    /// Prescription file: plan with its modifications (no job is touched)
    #[arg(long)]
    pub rx: Option<PathBuf>,
    /// Machine profile: a bundled name (linuxcnc-router, grbl-hobby, fanuc-mill, mach3-router,
    /// linuxcnc-rotary) or a TOML file [default: linuxcnc-router for a foot, linuxcnc-rotary for
    /// a socket positive]
    #[arg(long)]
    pub machine: Option<String>,
    /// G-code dialect (default: the machine's): linuxcnc, grbl, fanuc, mach3
    #[arg(long)]
    pub dialect: Option<Dialect>,
    /// Finishing tool (a ball end mill from the machine's tool table) [default: the work order's
    /// material row, else the bundled table's]
    #[arg(long)]
    pub finish_tool: Option<Cutter>,
    /// Roughing and cut-out tool (flat or bull-nose from the machine's tool table), e.g. flat:10,
    /// bull:12:2 [default: the work order's material row, else the bundled table's]
    #[arg(long)]
    pub rough_tool: Option<Cutter>,
    /// Finishing stepover, mm [default: the work order's material row; or from --scallop]
    #[arg(long, conflicts_with = "scallop")]
    pub stepover: Option<f64>,
    /// Scallop height target on flat areas, mm: sets the stepover for the finishing ball
    #[arg(long)]
    pub scallop: Option<f64>,
    /// Finishing raster angle, degrees from the machine's X (the foot's length)
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    pub angle: f64,
    /// Add a finishing cross pass at 90 degrees to the first
    #[arg(long)]
    pub cross_pass: bool,
    /// Stock left by roughing for finishing, mm [default: the work order's material row]
    #[arg(long)]
    pub allowance: Option<f64>,
    /// Cutting feed, mm/min [default: the work order's material row]
    #[arg(long)]
    pub feed: Option<f64>,
    /// Plunge and ramp feed, mm/min [default: the work order's material row]
    #[arg(long)]
    pub plunge: Option<f64>,
    /// Spindle speed, rpm [default: the work order's material row]
    #[arg(long)]
    pub spindle: Option<f64>,
    /// Deepest roughing step, mm [default: the work order's material row]
    #[arg(long)]
    pub stepdown: Option<f64>,
    /// Conventional milling instead of climb
    #[arg(long)]
    pub conventional: bool,
    /// Cut the part out without holding tabs
    #[arg(long)]
    pub no_tabs: bool,
    /// Height above the floor up to which the foot is kept on the positive, mm
    #[arg(long)]
    pub trim_height: Option<f64>,
    /// Units of the scan: auto, mm, cm, m, in
    #[arg(long, default_value = "auto")]
    pub units: Units,
    #[command(flatten)]
    pub db: crate::cmd::job::Db,
    /// Print the summary as JSON
    #[arg(long)]
    pub json: bool,
    /// Program to write (OUT.nc); the other files are named after it
    #[arg(short = 'o', long = "output")]
    pub output: PathBuf,
}

/// The files one plan writes, named after the program.
pub struct Outputs {
    pub program: PathBuf,
    pub design: PathBuf,
    pub sheet: PathBuf,
    pub preview: PathBuf,
}

impl Outputs {
    pub fn for_program(program: &Path) -> Outputs {
        let stem = program.with_extension("");
        let with = |suffix: &str| {
            let mut s = stem.clone().into_os_string();
            s.push(suffix);
            PathBuf::from(s)
        };
        Outputs {
            program: program.to_path_buf(),
            design: with("-design.stl"),
            sheet: with("-setup.html"),
            preview: with("-preview.png"),
        }
    }
}

pub(crate) fn progress() -> indicatif::ProgressBar {
    let quiet = !std::io::stderr().is_terminal() || std::env::var_os("NO_COLOR").is_some();
    if quiet {
        return indicatif::ProgressBar::hidden();
    }
    let pb = indicatif::ProgressBar::new_spinner();
    pb.set_style(
        indicatif::ProgressStyle::with_template("{spinner} fab plan: {msg} ({elapsed})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    pb.enable_steady_tick(std::time::Duration::from_millis(120));
    pb
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn run(mut args: Args) -> anyhow::Result<()> {
    let t0 = Instant::now();
    let out = Outputs::for_program(&args.output);
    if args.output.extension().is_none() {
        bail!(
            "output {} has no extension: name the program e.g. OUT.nc",
            args.output.display()
        );
    }
    if args.scans.is_empty() && args.job.is_none() {
        bail!(
            "name the scan to plan (fab plan SCAN -o OUT.nc), or a job whose scans to use (--job JOB)"
        );
    }
    // refuse now, before anything is computed, outputs that are inputs or read-only
    let check_outputs = |scans: &[PathBuf], rx: Option<&Path>| -> anyhow::Result<()> {
        let inputs: Vec<&Path> = scans.iter().map(PathBuf::as_path).chain(rx).collect();
        crate::outputs::check(
            &[
                out.program.as_path(),
                out.design.as_path(),
                out.sheet.as_path(),
                out.preview.as_path(),
            ],
            &inputs,
        )
    };
    check_outputs(&args.scans, args.rx.as_deref())?;

    // the work order: from the job, from an Rx file, or none (an unmodified positive)
    let mut store = None;
    let order = if let Some(job) = &args.job {
        let st = args.db.open()?;
        let rec = st.job(job)?;
        // refuse now, before anything is computed or written, what the store would refuse later
        let at = if rec.status == Status::OnHold {
            rec.hold_from.unwrap_or(rec.status)
        } else {
            rec.status
        };
        if !matches!(at, Status::Received | Status::Designing) {
            bail!(
                "job {job} is {}: a program may only be planned while the job is received or designing (move it back to designing to change the design)",
                rec.status
            );
        }
        let order = rec.work_order(&st.tables()?);
        store = Some(st);
        Some(order)
    } else if let Some(rx) = &args.rx {
        let text = std::fs::read_to_string(rx)
            .with_context(|| format!("cannot read prescription {}", rx.display()))?;
        let parsed = fab_ticket::rx::parse(&text)
            .with_context(|| format!("prescription {}", rx.display()))?;
        Some(WorkOrder::from_prescription(
            &parsed,
            &fab_ticket::Tables::bundled(),
        ))
    } else {
        None
    };
    // the scans: as named, or the job's
    if args.scans.is_empty()
        && let (Some(st), Some(job)) = (&store, &args.job)
    {
        args.scans = job_scans(&st.job(job)?, job)?;
        check_outputs(&args.scans, None)?;
    }
    let scans = args.scans.clone();
    let inputs: Vec<&Path> = scans
        .iter()
        .map(PathBuf::as_path)
        .chain(args.rx.as_deref())
        .collect();
    if let Some(o) = &order
        && o.kind == DeviceKind::FootOrthotic
        && o.milling.mills == Mills::Orthosis
    {
        return crate::cmd::plan_orthosis::run(&args, o, store, &out, &inputs, t0);
    }
    if scans.len() != 1 {
        bail!(
            "{} scans given: fab plan mills one positive from one scan; two foot scans are planned together only for a pair of orthoses milled directly (a material row with mills = \"orthosis\", e.g. an EVA shell)",
            scans.len()
        );
    }
    args.scan = scans[0].clone();
    // a socket positive (the work order says so, or a limb scan with none) goes to the carver
    let scan_bytes = std::fs::read(&args.scan)
        .with_context(|| format!("cannot read scan {}", args.scan.display()))?;
    let socket = match &order {
        Some(o) => o.kind == DeviceKind::TranstibialSocket,
        None => {
            let loaded = fab_geometry::load_bytes(&scan_bytes, args.units)
                .with_context(|| format!("scan {}", args.scan.display()))?;
            let topo = fab_geometry::topology::report(&loaded.mesh);
            fab_geometry::kind::classify(&loaded.mesh, &topo).kind
                == fab_geometry::kind::ScanKind::Limb
        }
    };
    if socket {
        // the Rx itself: its landmarks and what the scan shows
        let rx = match (&args.job, &args.rx, &store) {
            (Some(job), _, Some(st)) => Some(st.job(job)?.rx),
            (None, Some(rx), _) => std::fs::read_to_string(rx)
                .ok()
                .and_then(|t| fab_ticket::rx::parse(&t).ok()),
            _ => None,
        };
        return crate::cmd::plan_socket::run(
            &args,
            order.as_ref(),
            store,
            &out,
            &inputs,
            scan_bytes,
            rx.as_ref(),
        );
    }
    let machine = Machine::resolve(args.machine.as_deref().unwrap_or("linuxcnc-router"))?;
    let dialect = args.dialect.unwrap_or(machine.dialect);
    // the lab's material row: the work order's, else the bundled table's for a foot positive
    let bundled = fab_ticket::Tables::bundled();
    let (row, row_source) = match &order {
        Some(o) => (o.milling.clone(), "work order"),
        None => (
            bundled.material(DeviceKind::FootOrthotic, None).clone(),
            "material table",
        ),
    };
    let Resolved {
        mut settings,
        sources,
        notes: tool_notes,
    } = resolve_settings(&args, &machine, &row, row_source)?;
    if let Some(t) = args.trim_height {
        settings.design.trim_height = t;
    }

    let pb = progress();
    pb.set_message("loading the scan");
    let bytes = scan_bytes;
    let scan_sha = hex(&Sha256::digest(&bytes));
    let loaded = fab_geometry::load_bytes(&bytes, args.units)
        .with_context(|| format!("scan {}", args.scan.display()))?;
    drop(bytes);
    pb.set_message("orienting the foot");
    let frame = fab_geometry::orient::foot(&loaded.mesh)
        .with_context(|| format!("orienting the foot in {}", args.scan.display()))?;
    let mut lab = frame.apply(&loaded.mesh);
    is_a_foot(&lab, &args.scan)?;
    let side = side_word(&frame.side);
    let said = tool_notes.clone();
    let mut notes = tool_notes;
    let what = match &order {
        None => {
            format!("foot orthosis positive, {side} foot, no modifications (no job or Rx given)")
        }
        Some(o) => {
            pb.set_message("modifying the foot");
            let ops = crate::rectify::foot_ops(o, frame.side)?;
            fab_geometry::modify::apply(&mut lab, &ops.shape)
                .context("applying the work order's modifications")?;
            // the positive is formed over, then trimmed: mill it taller than the trim line
            for t in &ops.trim {
                if let fab_geometry::modify::Op::TrimHeight {
                    heel_cup,
                    medial,
                    lateral,
                    ..
                } = t
                    && args.trim_height.is_none()
                {
                    let h = heel_cup.max(*medial).max(*lateral) + 10.0;
                    settings.design.trim_height = settings.design.trim_height.max(h);
                }
                notes.push(format!("trim line after forming: {}", t.describe()));
            }
            notes.extend(ops.notes.iter().cloned());
            let applied: Vec<String> = ops.shape.iter().map(|o| o.describe()).collect();
            if applied.is_empty() {
                format!(
                    "foot orthosis positive, {side} foot, no shape modifications in the work order"
                )
            } else {
                format!(
                    "foot orthosis positive, {side} foot, modified: {}",
                    applied.join("; ")
                )
            }
        }
    };

    let mut step = |s: &str| pb.set_message(s.to_string());
    let planned = plan::plan(&lab, &settings, &machine, &mut step)?;

    pb.set_message("writing G-code");
    let d = &planned.design;
    let job = args.job.clone().unwrap_or_else(|| "unassigned".into());
    let header = ProgramHeader {
        job: job.clone(),
        scan_sha256: scan_sha.clone(),
        fab_version: env!("CARGO_PKG_VERSION").into(),
        blank: Blank {
            x: d.blank[0],
            y: d.blank[1],
            z: d.blank[2],
        },
        work_zero: "top of blank, front-left corner".into(),
        notes: [
            what.clone(),
            format!(
                "part length along X, heel at X{:.0}, plantar side up; trim height {} mm",
                d.base[0], d.params.trim_height
            ),
        ]
        .into_iter()
        .chain(notes.iter().cloned())
        .collect(),
    };
    let files = write_program(&header, &planned.ops, &machine, dialect)?;
    if let Some(dir) = args.output.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create output directory {}", dir.display()))?;
    }
    // everything is made in memory first, then written all or nothing
    let ProgramWrites {
        mut writes,
        bytes: program_bytes,
        sha256: program_sha,
        paths: program_paths,
    } = program_writes(&files, &out);
    pb.set_message("writing design, preview, setup sheet");
    let design_bytes = fab_geometry::stl::to_binary(&d.mesh);
    let design_sha = hex(&Sha256::digest(&design_bytes));
    writes.push((out.design.clone(), design_bytes));
    let picture = preview::render(d, &planned.ops, 900)?;
    writes.push((out.preview.clone(), picture.png.clone()));
    let estimated: std::time::Duration = files.iter().map(|f| f.estimated).sum();
    let moves: usize = planned.ops.iter().map(|o| o.moves.len()).sum();
    // the job's status and approval, read as they stand (the sheet shows them)
    let approval = match (store.as_ref(), &args.job) {
        (Some(st), Some(job)) => Some(setup_sheet::Approval::of(
            st.job(job)?.status,
            &st.history(job)?,
        )),
        _ => None,
    };
    let sheet = setup_sheet::html(&setup_sheet::Sheet {
        job: &job,
        what: &what,
        side: frame.side,
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
        orthoses: &[],
    });
    writes.push((out.sheet.clone(), sheet.into_bytes()));
    let paths: Vec<&Path> = writes.iter().map(|(p, _)| p.as_path()).collect();
    crate::outputs::check(&paths, &inputs)?;
    crate::outputs::write_all(&writes)?;
    if let (Some(st), Some(job)) = (store.as_mut(), &args.job) {
        pb.set_message("attaching to the job");
        // the SHA-256 of the bytes written: what is attached is what was made; with the scan
        // they came from (attached now if it was not) and the foot they are for
        let programs: Vec<(PathBuf, String)> = writes
            .iter()
            .filter(|(p, _)| program_paths.contains(p))
            .map(|(p, bytes)| (absolute(p), hex(&Sha256::digest(bytes))))
            .collect();
        crate::cmd::job::attach_plan(
            st,
            &args.db,
            job,
            (&absolute(&args.scan), &scan_sha),
            side_word(&frame.side),
            &programs,
            (&absolute(&out.design), &design_sha),
        )?;
    }
    pb.finish_and_clear();

    let wall = t0.elapsed().as_secs_f64();
    let est = fab_toolpath::estimate::format_duration(estimated);
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
            "side": side_word(&frame.side),
            "units": loaded.report.units.units.to_string(),
            "units_reason": loaded.report.units.reason,
            "triangles": loaded.mesh.triangles.len(),
            "design_triangles": d.mesh.triangles.len(),
            "cl_points": planned.cl_points,
            "moves": moves,
            "rapids": rapids,
            "estimated_run_time_s": estimated.as_secs_f64(),
            "program_bytes": program_bytes,
            "program_sha256": program_sha,
            "scan_sha256": scan_sha,
            "blank_mm": d.blank,
            "work_zero": "top of blank, front-left corner",
            "machine": machine.name,
            "dialect": dialect.name(),
            "tools": json_tools(&planned.ops),
            "stepover_mm": settings.stepover,
            "settings": json_settings(&sources),
            "notes": notes,
            "wall_s": wall,
            "outputs": json_outputs(&program_paths, &out),
        });
        println!("{v}");
    } else {
        println!(
            "planned {what}: {} triangles, {} CL points, {moves} moves, est. run time {est}, {} ({:.1} KiB), {wall:.2} s",
            loaded.mesh.triangles.len(),
            planned.cl_points,
            out.program.display(),
            program_bytes as f64 / 1024.0,
        );
        // what the program does otherwise than asked (a tool substituted, a value capped)
        for n in &said {
            eprintln!("note: {n}");
        }
    }
    Ok(())
}

/// The program's files to write, named after OUT (a program split in parts: OUT-2.nc...):
/// their bytes, total size, the first's SHA-256 and their paths.
pub(crate) struct ProgramWrites {
    pub writes: Vec<(PathBuf, Vec<u8>)>,
    pub bytes: usize,
    pub sha256: String,
    pub paths: Vec<PathBuf>,
}

pub(crate) fn program_writes(files: &[ProgramFile], out: &Outputs) -> ProgramWrites {
    let mut w = ProgramWrites {
        writes: Vec::new(),
        bytes: 0,
        sha256: String::new(),
        paths: Vec::new(),
    };
    for f in files {
        let path = if f.suffix.is_empty() {
            out.program.clone()
        } else {
            let mut s = out.program.with_extension("").into_os_string();
            s.push(&f.suffix);
            s.push(".");
            s.push(out.program.extension().unwrap_or_default());
            PathBuf::from(s)
        };
        w.writes.push((path.clone(), f.text.clone().into_bytes()));
        w.bytes += f.text.len();
        if w.sha256.is_empty() {
            w.sha256 = hex(&Sha256::digest(f.text.as_bytes()));
        }
        w.paths.push(path);
    }
    w
}

/// The `--json` summary's tools: each operation's tool number and cutter.
pub(crate) fn json_tools(ops: &[fab_toolpath::Operation]) -> serde_json::Value {
    ops.iter()
        .map(|o| {
            serde_json::json!({
                "operation": o.name, "number": o.tool.number, "cutter": o.tool.cutter.to_string()
            })
        })
        .collect()
}

/// The `--json` summary's settings: what, value, where it came from.
pub(crate) fn json_settings(sources: &[(&str, String, &str)]) -> serde_json::Value {
    sources
        .iter()
        .map(|(what, v, from)| serde_json::json!({ "setting": what, "value": v, "from": from }))
        .collect()
}

/// The `--json` summary's files written.
pub(crate) fn json_outputs(programs: &[PathBuf], out: &Outputs) -> serde_json::Value {
    serde_json::json!({
        "program": programs.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
        "design": out.design.display().to_string(),
        "setup_sheet": out.sheet.display().to_string(),
        "preview": out.preview.display().to_string(),
    })
}

/// What a plan mills with: its settings, where each came from (what, value, source) and what
/// was done otherwise than asked (a tool substituted, a value capped).
pub(crate) struct Resolved {
    pub settings: Settings,
    pub sources: Vec<(&'static str, String, &'static str)>,
    pub notes: Vec<String>,
}

/// The settings of a 3-axis plan from the options, the material row (`row_source`: where it
/// came from) and the machine: tools only from the machine's table, values checked.
pub(crate) fn resolve_settings(
    args: &Args,
    machine: &Machine,
    row: &MaterialRow,
    row_source: &'static str,
) -> anyhow::Result<Resolved> {
    let mut sources: Vec<(&'static str, String, &'static str)> = Vec::new();
    let mut tool_notes = Vec::new();
    // tools come only from the machine's table: an option's tool must be there; the work
    // order's, if the machine lacks it, becomes the table's nearest of the same kind (said)
    let pick = |wanted: Option<Cutter>,
                spec: &str,
                what: &str,
                ball: bool,
                notes: &mut Vec<String>|
     -> anyhow::Result<(Cutter, &'static str)> {
        if let Some(w) = wanted {
            if machine.pocket_of(&w).is_some() {
                return Ok((w, "option"));
            }
            bail!(
                "--{what}-tool {w}: machine {} has no such tool; its tools are {}",
                machine.name,
                machine.tool_list()
            );
        }
        let w: Cutter = spec
            .parse()
            .with_context(|| format!("the {row_source}'s {what} tool '{spec}'"))?;
        if machine.pocket_of(&w).is_some() {
            return Ok((w, row_source));
        }
        let near = machine
            .tools
            .iter()
            .filter(|t| matches!(t.cutter, Cutter::Ball { .. }) == ball)
            .min_by(|a, b| {
                let da = (a.cutter.diameter() - w.diameter()).abs();
                let db = (b.cutter.diameter() - w.diameter()).abs();
                da.total_cmp(&db)
            });
        match near {
            Some(t) => {
                notes.push(format!(
                    "the {row_source} asks for a {w} {what} tool; {} has none, using its nearest, T{} {}",
                    machine.name, t.number, t.cutter
                ));
                Ok((t.cutter, "machine (its nearest)"))
            }
            None => bail!(
                "the {row_source} asks for a {w} {what} tool and machine {} has none of that kind; its tools are {}",
                machine.name,
                machine.tool_list()
            ),
        }
    };
    let (finish_tool, src) = pick(
        args.finish_tool,
        &row.finish_tool,
        "finish",
        true,
        &mut tool_notes,
    )?;
    sources.push(("finish tool", finish_tool.to_string(), src));
    let (rough_tool, src) = pick(
        args.rough_tool,
        &row.rough_tool,
        "rough",
        false,
        &mut tool_notes,
    )?;
    sources.push(("rough tool", rough_tool.to_string(), src));
    let mut settings = Settings {
        rough_tool,
        finish_tool,
        angle_deg: args.angle,
        cross_pass: args.cross_pass,
        climb: !args.conventional,
        tabs: !args.no_tabs,
        ..Settings::default()
    };
    let mut value = |what: &'static str, opt: Option<f64>, row_v: f64, unit: &str| -> f64 {
        let (v, src) = match opt {
            Some(v) => (v, "option"),
            None => (row_v, row_source),
        };
        sources.push((what, format!("{v} {unit}"), src));
        v
    };
    settings.allowance = value("stock allowance", args.allowance, row.stock_mm, "mm");
    settings.feed = value("feed", args.feed, row.feed_mm_min, "mm/min");
    settings.plunge_feed = value("plunge feed", args.plunge, row.plunge_mm_min, "mm/min");
    settings.spindle_rpm = value("spindle", args.spindle, row.spindle_rpm as f64, "rpm");
    settings.stepdown = value("roughing stepdown", args.stepdown, row.stepdown_mm, "mm");
    if let Some(h) = args.scallop {
        if !(h.is_finite() && h > 0.0) {
            bail!("--scallop must be a positive number of mm, got {h}");
        }
        settings.stepover =
            fab_toolpath::strategy::FinishParams::stepover_for_scallop(finish_tool.radius(), h);
        sources.push((
            "stepover",
            format!("{:.3} mm", settings.stepover),
            "option (--scallop)",
        ));
    } else {
        settings.stepover = value("stepover", args.stepover, row.stepover_mm, "mm");
    }
    for (what, v) in [
        ("feed", settings.feed),
        ("plunge feed", settings.plunge_feed),
        ("spindle", settings.spindle_rpm),
        ("roughing stepdown", settings.stepdown),
    ] {
        if !(v.is_finite() && v > 0.0) {
            bail!("the {what} must be a positive number, got {v}");
        }
    }
    if !(settings.allowance.is_finite() && settings.allowance >= 0.0) {
        bail!(
            "the stock allowance must be zero or more mm, got {}",
            settings.allowance
        );
    }
    if settings.feed > machine.max_feed {
        tool_notes.push(format!(
            "feed {} mm/min capped at {}'s {} mm/min",
            settings.feed, machine.name, machine.max_feed
        ));
    }
    if settings.spindle_rpm > machine.max_spindle_rpm {
        tool_notes.push(format!(
            "spindle {} rpm capped at {}'s {} rpm",
            settings.spindle_rpm, machine.name, machine.max_spindle_rpm
        ));
    }
    // the blank: the row's margin round the part, at least the roughing channel plus 1 mm
    let channel = 2.0 * rough_tool.radius() + crate::plan::CHANNEL_CLEARANCE + 1.0;
    settings.design.side_margin = row.margin_xy_mm.max(channel);
    if row.margin_xy_mm < channel {
        tool_notes.push(format!(
            "blank margin {} mm from the {row_source} raised to {channel} mm: room for the roughing channel round the part",
            row.margin_xy_mm
        ));
    }
    sources.push((
        "blank margin",
        format!("{} mm", settings.design.side_margin),
        row_source,
    ));
    settings.design.top_margin = row.margin_z_mm;
    sources.push((
        "blank above the part",
        format!("{} mm", row.margin_z_mm),
        row_source,
    ));
    Ok(Resolved {
        settings,
        sources,
        notes: tool_notes,
    })
}

/// The scans attached to `job`, newest first, at most one a side (two for a bilateral job),
/// each checked to be the file that was attached (its SHA-256).
fn job_scans(rec: &fab_ticket::store::JobRecord, job: &str) -> anyhow::Result<Vec<PathBuf>> {
    let want = if rec.rx.side == Some(fab_ticket::rx::RxSide::Bilateral) {
        2
    } else {
        1
    };
    let mut seen: Vec<&str> = Vec::new();
    let mut out = Vec::new();
    for f in rec.files.iter().rev().filter(|f| f.kind == "scan") {
        if out.len() == want || seen.contains(&f.sha256.as_str()) {
            continue;
        }
        seen.push(&f.sha256);
        let p = PathBuf::from(&f.path);
        let now = crate::cmd::job::sha256_file(&p)
            .with_context(|| format!("job {job}'s scan {}", p.display()))?;
        if now != f.sha256 {
            bail!(
                "job {job}'s scan {} has changed since it was attached (SHA-256 {} then, {} now): attach it again or name the scan",
                p.display(),
                &f.sha256[..12.min(f.sha256.len())],
                &now[..12]
            );
        }
        out.push(p);
    }
    if out.is_empty() {
        bail!(
            "job {job} has no scan attached: name the scan (fab plan SCAN --job {job} -o OUT.nc)"
        );
    }
    out.reverse();
    Ok(out)
}

/// Refuses a scan that is no foot at this scale: a length (heel to toe, lab Y) outside
/// 100-400 mm (wrong --units, most often), or an open cut across the length low down (a
/// residual limb, open at its proximal end, oriented as if it were a foot). An ankle cut (at the
/// top) or a plantar-only scan (open all round its rim) are feet.
pub(crate) fn is_a_foot(lab: &fab_geometry::Mesh, scan: &Path) -> anyhow::Result<()> {
    let (lo, hi) = lab.bounds().context("the scan has no vertices")?;
    let length = hi.y - lo.y;
    if !(100.0..=400.0).contains(&length) {
        bail!(
            "{}: the foot would be {length:.1} mm long from heel to toe, not a foot (100-400 mm): check --units",
            scan.display()
        );
    }
    let height = hi.z - lo.z;
    let topo = fab_geometry::topology::report(lab);
    for l in topo.boundary_loops.iter().filter(|l| l.perimeter > 100.0) {
        let n = l.vertices.len().max(1) as f64;
        let z = l
            .vertices
            .iter()
            .map(|&v| lab.vertices[v as usize].z)
            .sum::<f64>()
            / n;
        let (ylo, yhi) = l.vertices.iter().fold((f64::MAX, f64::MIN), |(a, b), &v| {
            let y = lab.vertices[v as usize].y;
            (a.min(y), b.max(y))
        });
        // a plantar-only scan is open all round its rim (the loop spans the foot's length): fine
        if z < lo.z + 0.5 * height && yhi - ylo < 0.5 * length {
            bail!(
                "{}: the scan is open ({:.0} mm cut) low down, not at the ankle: it looks like a residual limb, not a foot; fab plan mills foot orthosis positives",
                scan.display(),
                l.perimeter
            );
        }
    }
    Ok(())
}

pub(crate) fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

pub(crate) fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

pub(crate) fn side_word(s: &fab_geometry::orient::FootSide) -> &'static str {
    match s {
        fab_geometry::orient::FootSide::Left => "left",
        fab_geometry::orient::FootSide::Right => "right",
    }
}
