//! Planning a foot orthosis positive, end to end: the oriented (and modified) foot becomes a
//! design surface in the machine frame (`fab_geometry::design`), then roughing, finishing and
//! the cut-out (`fab_toolpath::strategy`), simplified, as one program for the lab's machine.
//!
//! `setup_sheet` writes the operator's HTML sheet (one A4 page), `preview` the PNG picture of the
//! part and toolpath and the sheet's annotated views of it. File handling and the command line
//! are in `cmd::plan`.

pub mod orthosis;
pub mod preview;
pub mod rotary_sheet;
pub mod setup_sheet;

use fab_geometry::Mesh;
use fab_geometry::design::{self, Design, DesignParams};
use fab_toolpath::link::Linker;
use fab_toolpath::simplify::{CHORD_TOLERANCE, simplify_operation};
use fab_toolpath::strategy::{
    self, ClSurface, DropSurface, FinishParams, ProfileParams, Rect, RoughParams, WaterlineParams,
    Zone,
};
use fab_toolpath::{Cutter, Machine, Operation, Tool};

/// What to plan with: tools, stepover, raster, sizes of the positive.
#[derive(Clone, Debug)]
pub struct Settings {
    pub rough_tool: Cutter,
    pub finish_tool: Cutter,
    pub stepover: f64,
    pub angle_deg: f64,
    pub cross_pass: bool,
    pub allowance: f64,
    pub climb: bool,
    pub tabs: bool,
    pub design: DesignParams,
    /// Cutting feed of every operation, mm/min (capped at the machine's).
    pub feed: f64,
    /// Feed of plunges and ramps into material, mm/min.
    pub plunge_feed: f64,
    /// Spindle speed, rpm (capped at the machine's).
    pub spindle_rpm: f64,
    /// Deepest roughing level step, mm.
    pub stepdown: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            rough_tool: Cutter::Flat { diameter: 10.0 },
            finish_tool: Cutter::Ball { diameter: 6.0 },
            stepover: 0.5,
            angle_deg: 0.0,
            cross_pass: false,
            allowance: 0.5,
            climb: true,
            tabs: true,
            design: DesignParams::default(),
            feed: 4000.0,
            plunge_feed: 1200.0,
            spindle_rpm: 18000.0,
            stepdown: 10.0,
        }
    }
}

/// A planned job before it is written.
pub struct Plan {
    pub design: Design,
    /// Roughing, finishing, profile (in the order they run), simplified.
    pub ops: Vec<Operation>,
    /// The settings each operation was planned with, one per operation of `ops`, in order (the
    /// setup sheet's table of operations).
    pub op_settings: Vec<OpSettings>,
    /// The cut-out's holding tabs.
    pub tabs: Tabs,
    /// Tool-tip points of the finishing passes before simplification (CL points used).
    pub cl_points: usize,
}

/// What one operation was planned with, beyond its tool and spindle (which `Operation` has).
#[derive(Clone, Debug, PartialEq)]
pub struct OpSettings {
    /// Cutting feed, mm/min.
    pub feed: f64,
    /// Feed of plunges and ramps into material, mm/min.
    pub plunge_feed: f64,
    /// Deepest step between two Z levels or laps, mm; `None` where the tool follows the surface.
    pub stepdown: Option<f64>,
    /// Distance between neighbouring passes, mm; `None` for a single contour.
    pub stepover: Option<f64>,
    /// How the operation cuts, in a few words.
    pub how: String,
}

/// The holding tabs the cut-out leaves (spread evenly along its path; see
/// `fab_toolpath::strategy::profile`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tabs {
    /// How many (0: cut out without tabs).
    pub count: usize,
    /// Width of material each leaves along the outline, mm.
    pub width: f64,
    /// Height above the blank's bottom, mm.
    pub height: f64,
    /// Z of their top (program coordinates), mm.
    pub top_z: f64,
    /// Z of the cut-out's bottom, mm.
    pub bottom_z: f64,
}

/// Clearance plane above the blank's top, mm.
pub const CLEARANCE: f64 = 2.0;

/// Chord tolerance of roughing's simplification, mm (at most a quarter of the allowance): with the
/// rings a quarter of the grid step inside the safe region, within the half-millimetre step the
/// floor cutter was grown by.
pub const ROUGH_TOLERANCE: f64 = 0.1;

/// Room between the roughing tool and the blank's uncut rest, beyond the cut-out's path, mm.
pub const CHANNEL_CLEARANCE: f64 = 0.5;

/// Why planning failed.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error(transparent)]
    Design(#[from] design::DesignError),
    #[error(transparent)]
    Strategy(#[from] strategy::StrategyError),
    #[error("finishing needs a ball end mill (e.g. ball:6), got {0}")]
    FinishNotBall(String),
    #[error("roughing and the cut-out need a flat or bull-nose end mill (e.g. flat:10), got {0}")]
    RoughIsBall(String),
    #[error("machine {machine} has no {tool} in its tool table; its tools are {tools}")]
    NotOnMachine {
        tool: String,
        machine: String,
        tools: String,
    },
}

/// The tool number for `cutter` on `machine`: its pocket in the tool table; never invented.
fn tool_number(machine: &Machine, cutter: &Cutter) -> Result<u32, PlanError> {
    machine
        .pocket_of(cutter)
        .ok_or_else(|| PlanError::NotOnMachine {
            tool: cutter.to_string(),
            machine: machine.name.clone(),
            tools: machine.tool_list(),
        })
}

/// What every 3-axis plan mills with on `machine`: feeds and spindle capped at its maxima, the
/// linking, and the two tools with their pockets (a ball to finish, an end mill to rough and
/// cut out).
pub(crate) struct Setup {
    pub feed: f64,
    pub plunge: f64,
    pub rpm: f64,
    pub linker: Linker,
    pub rough_tool: Tool,
    pub finish_tool: Tool,
}

impl Setup {
    pub(crate) fn of(s: &Settings, machine: &Machine) -> Result<Setup, PlanError> {
        if !matches!(s.finish_tool, Cutter::Ball { .. }) {
            return Err(PlanError::FinishNotBall(s.finish_tool.to_string()));
        }
        if matches!(s.rough_tool, Cutter::Ball { .. }) {
            return Err(PlanError::RoughIsBall(s.rough_tool.to_string()));
        }
        let feed = s.feed.min(machine.max_feed);
        let plunge = s.plunge_feed.min(machine.max_feed);
        Ok(Setup {
            feed,
            plunge,
            rpm: s.spindle_rpm.min(machine.max_spindle_rpm),
            linker: Linker {
                clearance_z: CLEARANCE,
                margin: 1.0,
                link_feed: feed,
                plunge_feed: plunge,
                rapid_rate: machine.rapid_rate,
            },
            rough_tool: Tool {
                number: tool_number(machine, &s.rough_tool)?,
                cutter: s.rough_tool,
            },
            finish_tool: Tool {
                number: tool_number(machine, &s.finish_tool)?,
                cutter: s.finish_tool,
            },
        })
    }

    /// Roughing with the end mill: the settings' allowance, direction, step-down and feeds
    /// (each plan sets how it treats terraces and flats).
    pub(crate) fn rough_params(&self, s: &Settings) -> RoughParams {
        let mut rp = RoughParams::new(self.rough_tool);
        rp.allowance = s.allowance;
        rp.climb = s.climb;
        rp.stepdown = s.stepdown;
        rp.feed = self.feed;
        rp.plunge_feed = self.plunge;
        rp.spindle_rpm = self.rpm;
        rp
    }

    /// Finishing with the ball: the raster (trimmed to where the ball meets the design) and the
    /// level lines, at the settings' stepover, angle and feeds; without a cross pass the level
    /// lines take the steep sides across the raster and the raster's ends there are left to
    /// them (with 10 degrees of overlap).
    pub(crate) fn finish_params(&self, s: &Settings) -> (FinishParams, WaterlineParams) {
        let mut wp = WaterlineParams::new(self.finish_tool, s.stepover);
        wp.climb = s.climb;
        let mut fp = FinishParams::new(self.finish_tool, s.stepover);
        fp.angle_deg = s.angle_deg;
        fp.cross_pass = s.cross_pass;
        fp.trim = true;
        if !s.cross_pass {
            wp.raster_angle_deg = Some(s.angle_deg);
            fp.steep_across_deg = Some(wp.steep_deg + 10.0);
        }
        fp.feed = self.feed;
        fp.plunge_feed = self.plunge;
        fp.spindle_rpm = self.rpm;
        (fp, wp)
    }

    /// The cut-out with the end mill: direction, tabs, step-down and feeds from the settings.
    pub(crate) fn profile_params(&self, s: &Settings) -> ProfileParams {
        let mut pp = ProfileParams::new(self.rough_tool);
        pp.climb = s.climb;
        if !s.tabs {
            pp.tab_width = 0.0;
        }
        pp.stepdown = s.stepdown;
        pp.feed = self.feed;
        pp.plunge_feed = self.plunge;
        pp.spindle_rpm = self.rpm;
        pp
    }
}

/// The finishing raster over `area` of the design `soup`, at the settings' angle (and across it
/// with a cross pass), never below `floor_z`.
pub(crate) fn raster(
    soup: &[[[f64; 3]; 3]],
    s: &Settings,
    fp: &FinishParams,
    area: Rect,
    floor_z: f64,
    level: &DropSurface,
) -> Result<Vec<Vec<[f64; 3]>>, PlanError> {
    let angles: Vec<f64> = if s.cross_pass {
        vec![s.angle_deg, s.angle_deg + 90.0]
    } else {
        vec![s.angle_deg]
    };
    let mut passes = Vec::new();
    for a in angles {
        let pass = if a.rem_euclid(360.0) == 0.0 {
            strategy::finish::finish_pass(level, a, area, floor_z, fp)?
        } else {
            let turned = DropSurface::new(soup, s.finish_tool, a.to_radians());
            strategy::finish::finish_pass(&turned, a, area, floor_z, fp)?
        };
        passes.extend(pass);
    }
    Ok(passes)
}

/// Roughing, finishing and the cut-out made ready to write: roughing's rings lie on a grid half
/// a millimetre fine and leave the allowance, so they are smoothed to a coarser tolerance
/// (fewer, longer moves the machine runs at speed); the rest exactly. With each its settings as
/// the sheet lists them, `how` each is done in words.
pub(crate) fn finished_ops(
    mut ops: [Operation; 3],
    params: (&RoughParams, &FinishParams, &ProfileParams),
    s: &Settings,
    how: [String; 3],
) -> (Vec<Operation>, Vec<OpSettings>) {
    let (rp, fp, pp) = params;
    for (k, op) in ops.iter_mut().enumerate() {
        let tol = if k == 0 {
            ROUGH_TOLERANCE.min(s.allowance / 4.0).max(CHORD_TOLERANCE)
        } else {
            CHORD_TOLERANCE
        };
        simplify_operation(op, tol, true);
    }
    let [rough_how, finish_how, profile_how] = how;
    let settings = vec![
        OpSettings {
            feed: rp.feed,
            plunge_feed: rp.plunge_feed,
            stepdown: Some(rp.stepdown),
            stepover: Some(rp.stepover),
            how: rough_how,
        },
        OpSettings {
            feed: fp.feed,
            plunge_feed: fp.plunge_feed,
            stepdown: None,
            stepover: Some(s.stepover),
            how: finish_how,
        },
        OpSettings {
            feed: pp.feed,
            plunge_feed: pp.plunge_feed,
            stepdown: Some(pp.stepdown),
            stepover: None,
            how: profile_how,
        },
    ];
    (ops.into(), settings)
}

/// Plans the positive of `lab` (a foot in the lab frame, already modified) for `machine`.
/// `step` is called with a short description before each long step (progress).
pub fn plan(
    lab: &Mesh,
    s: &Settings,
    machine: &Machine,
    step: &mut dyn FnMut(&str),
) -> Result<Plan, PlanError> {
    let setup = Setup::of(s, machine)?;
    let linker = setup.linker;
    step("design surface");
    let design = design::foot_positive(lab, &s.design)?;
    let soup = design.mesh.to_soup();
    let area = Rect {
        xmin: design.base[0],
        ymin: design.base[1],
        xmax: design.base[2],
        ymax: design.base[3],
    };
    // Roughing clears the material over the part and a channel round its outline down to a
    // little below the base's top; the rest of the blank falls away with the cut-out, which
    // starts at the channel's floor.
    step("roughing");
    let channel_floor = (design.base_z - 1.0).max(design.bottom_z);
    // how deep the channel is cut next to the outline: the base's top plus the allowance (the
    // tool's flat overhangs the base's edge there)
    let cut_to = (design.base_z + s.allowance).max(design.bottom_z + 1.0);
    let mut rp = setup.rough_params(s);
    rp.step_up = s.finish_tool.radius();
    let floor = DropSurface::new(&soup, rp.floor_cutter(), 0.0);
    let side = DropSurface::new(&soup, rp.side_cutter(), 0.0);
    let zone = Zone {
        outlines: std::slice::from_ref(&design.outline),
        reach: s.rough_tool.radius() + CHANNEL_CLEARANCE,
    };
    let rough = strategy::rough(&floor, Some(&side), zone, 0.0, channel_floor, &rp, &linker)?;
    drop((floor, side));

    // Finishing: a raster over the part (each line only where the ball meets it), then level
    // lines over its steep sides; the ball never goes below the base's top.
    step("finishing");
    let (fp, wp) = setup.finish_params(s);
    let level = DropSurface::new(&soup, s.finish_tool, 0.0);
    let part = area.grown(s.finish_tool.radius());
    let mut passes = raster(&soup, s, &fp, part, design.base_z, &level)?;
    passes.extend(strategy::waterline(
        &level,
        part,
        design.base_z,
        design.top_z,
        &wp,
    )?);
    let cl_points = passes.iter().map(Vec::len).sum();
    let finish = strategy::finish(&passes, &fp, &linker, &|x, y| level.point(x, y));

    step("profile");
    let pp = setup.profile_params(s);
    let profile = strategy::profile(&design.outline, cut_to, design.bottom_z, &pp, &linker)?;

    step("simplifying");
    let (ops, op_settings) = finished_ops(
        [rough, finish, profile],
        (&rp, &fp, &pp),
        s,
        [
            format!(
                "Z levels round the part, {} mm stock left, terraces at {} mm",
                rp.allowance, rp.step_up
            ),
            format!(
                "raster at {}\u{b0}{}, level lines on steep sides",
                s.angle_deg,
                if s.cross_pass { " and across" } else { "" }
            ),
            "cut-out along the base's outline, ramped laps".into(),
        ],
    );
    let tabs = Tabs {
        count: if pp.tab_width > 0.0 { pp.tabs } else { 0 },
        width: pp.tab_width,
        height: pp.tab_height,
        top_z: (design.bottom_z + pp.tab_height).min(cut_to),
        bottom_z: design.bottom_z,
    };
    Ok(Plan {
        design,
        ops,
        op_settings,
        tabs,
        cl_points,
    })
}
