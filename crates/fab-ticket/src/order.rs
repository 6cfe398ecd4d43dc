//! The work order: what the lab will do for a prescription, in order, and who does each step;
//! the shape modifications as plain data (for `fab-geometry` to apply); the blank and milling
//! set-up and the HCPCS codes suggested by the lab's [`Tables`].

use std::fmt;

use serde::{Deserialize, Serialize};

pub use crate::rx::{ArchFill, Extension, PostDirection, Region};
use crate::rx::{
    ArchFillChoice, Date, Device, DeviceKind, FootParams, MetPad, Post, Prescription, RxSide,
    SocketDesign, SocketStage, Suspension, TopCover, TranstibialSocket,
};
use crate::tables::{MaterialRow, Mills, Quantity, Tables};
use crate::workflow::{Role, Status};

/// One foot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Side {
    Left,
    Right,
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::Left => "left",
            Side::Right => "right",
        })
    }
}

/// A change to the scanned shape, as plain data. Lengths in millimetres, angles in degrees.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub enum Modification {
    ArchFill {
        side: Side,
        level: ArchFill,
    },
    MetPad {
        side: Side,
        height_mm: f64,
    },
    HeelCup {
        side: Side,
        depth_mm: f64,
    },
    Flanges {
        side: Side,
        medial_mm: f64,
        lateral_mm: f64,
    },
    RearfootPost {
        side: Side,
        degrees: f64,
        direction: PostDirection,
    },
    ForefootPost {
        side: Side,
        degrees: f64,
        direction: PostDirection,
    },
    HeelLift {
        side: Side,
        height_mm: f64,
    },
    Extension {
        side: Side,
        to: Extension,
    },
    /// Global circumferential reduction of a socket positive.
    Reduction {
        percent: f64,
    },
    /// Build-up on the positive (the socket stands off the limb here).
    Relief {
        region: Region,
        depth_mm: f64,
        landmark: Option<[f64; 3]>,
    },
    /// Push-in on the positive (the socket bears load here).
    Load {
        region: Region,
        depth_mm: f64,
        landmark: Option<[f64; 3]>,
    },
    /// Posterior trim height above the distal end.
    Trimline {
        height_mm: f64,
    },
}

impl fmt::Display for Modification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Modification::*;
        let at = |l: &Option<[f64; 3]>| match l {
            Some([x, y, z]) => format!(" at ({x}, {y}, {z}) mm"),
            None => " (no landmark: place it on the scan)".to_string(),
        };
        match self {
            ArchFill { side, level } => write!(f, "{side}: arch fill {}", lower(level)),
            MetPad { side, height_mm } => write!(f, "{side}: metatarsal pad {height_mm} mm"),
            HeelCup { side, depth_mm } => write!(f, "{side}: heel cup {depth_mm} mm deep"),
            Flanges {
                side,
                medial_mm,
                lateral_mm,
            } => write!(
                f,
                "{side}: flanges medial {medial_mm} mm, lateral {lateral_mm} mm"
            ),
            RearfootPost {
                side,
                degrees,
                direction,
            } => write!(
                f,
                "{side}: rearfoot post {degrees} deg {}",
                lower(direction)
            ),
            ForefootPost {
                side,
                degrees,
                direction,
            } => write!(
                f,
                "{side}: forefoot post {degrees} deg {}",
                lower(direction)
            ),
            HeelLift { side, height_mm } => write!(f, "{side}: heel lift {height_mm} mm"),
            Extension { side, to } => write!(f, "{side}: extension to the {}", lower(to)),
            Reduction { percent } => write!(f, "circumferential reduction {percent} %"),
            Relief {
                region,
                depth_mm,
                landmark,
            } => write!(
                f,
                "relief (build-up) {} {depth_mm} mm{}",
                lower(region),
                at(landmark)
            ),
            Load {
                region,
                depth_mm,
                landmark,
            } => write!(
                f,
                "load (push-in) {} {depth_mm} mm{}",
                lower(region),
                at(landmark)
            ),
            Trimline { height_mm } => {
                write!(f, "posterior trimline {height_mm} mm above the distal end")
            }
        }
    }
}

/// The kebab-case serde name of a unit enum value, for readable output.
fn lower<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// One step of the work: at which status, by whom, what.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub status: Status,
    pub role: Role,
    pub action: String,
}

/// A suggested HCPCS code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HcpcsCode {
    pub code: String,
    pub quantity: u32,
    pub description: String,
}

/// What the lab will do for one prescription.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkOrder {
    pub kind: DeviceKind,
    /// The sides made (a socket: the one side given, if any).
    pub sides: Vec<Side>,
    pub due: Option<Date>,
    pub steps: Vec<Step>,
    pub modifications: Vec<Modification>,
    /// The material-table row that matched (`material` `*` is the device's fallback): blank and
    /// milling set-up.
    pub milling: MaterialRow,
    pub hcpcs: Vec<HcpcsCode>,
    /// Things the technician should know (assumptions made, landmarks missing...).
    pub remarks: Vec<String>,
}

impl WorkOrder {
    /// Builds the work order for `rx` from the lab's tables.
    pub fn from_prescription(rx: &Prescription, tables: &Tables) -> WorkOrder {
        let kind = rx.kind();
        let mut remarks = Vec::new();
        let sides = match rx.side {
            Some(RxSide::Left) => vec![Side::Left],
            Some(RxSide::Right) => vec![Side::Right],
            Some(RxSide::Bilateral) => vec![Side::Left, Side::Right],
            None if kind == DeviceKind::FootOrthotic => {
                remarks.push("the Rx gives no side: making a pair (left and right)".into());
                vec![Side::Left, Side::Right]
            }
            None => vec![],
        };
        let (modifications, features, material) = match &rx.device {
            Device::FootOrthotic(f) => {
                let per_side: Vec<(Side, FootParams)> = sides
                    .iter()
                    .map(|&s| {
                        let over = if s == Side::Left { &f.left } else { &f.right };
                        (s, f.shared.overridden_by(over))
                    })
                    .collect();
                let mods = per_side
                    .iter()
                    .flat_map(|(s, p)| foot_modifications(*s, p))
                    .collect();
                let features = per_side
                    .iter()
                    .map(|(_, p)| foot_features(p))
                    .collect::<Vec<_>>();
                let material = per_side
                    .iter()
                    .find_map(|(_, p)| p.shell.as_ref())
                    .map(|s| lower(&s.material));
                if material.is_none() {
                    remarks.push("the Rx gives no shell material: using the default blank".into());
                }
                (mods, features, material)
            }
            Device::TranstibialSocket(s) => {
                let mods = socket_modifications(s, &mut remarks);
                (mods, vec![socket_features(s)], s.material.clone())
            }
        };
        let row = tables.material(kind, material.as_deref());
        let milling = row.clone();
        let hcpcs = tables
            .hcpcs
            .iter()
            .filter(|h| h.device == kind)
            .filter_map(|h| {
                let holds = |fs: &Vec<&str>| h.when.iter().all(|w| fs.contains(&w.as_str()));
                let n = features.iter().filter(|fs| holds(fs)).count() as u32;
                let quantity = match h.quantity {
                    Quantity::PerSide => n,
                    Quantity::One => u32::from(n > 0),
                };
                (quantity > 0).then(|| HcpcsCode {
                    code: h.code.clone(),
                    quantity,
                    description: h.description.clone(),
                })
            })
            .collect();
        let steps = steps(rx, &modifications, &milling);
        WorkOrder {
            kind,
            sides,
            due: rx.due,
            steps,
            modifications,
            milling,
            hcpcs,
            remarks,
        }
    }

    /// The modifications for one side (foot), in order.
    pub fn modifications_for(&self, side: Side) -> impl Iterator<Item = &Modification> {
        self.modifications
            .iter()
            .filter(move |m| m.side() == Some(side))
    }
}

impl Modification {
    /// The side a foot modification is for (`None` for socket modifications).
    pub fn side(&self) -> Option<Side> {
        use Modification::*;
        match self {
            ArchFill { side, .. }
            | MetPad { side, .. }
            | HeelCup { side, .. }
            | Flanges { side, .. }
            | RearfootPost { side, .. }
            | ForefootPost { side, .. }
            | HeelLift { side, .. }
            | Extension { side, .. } => Some(*side),
            Reduction { .. } | Relief { .. } | Load { .. } | Trimline { .. } => None,
        }
    }
}

fn foot_modifications(side: Side, p: &FootParams) -> Vec<Modification> {
    let mut m = Vec::new();
    let level = match p.arch_fill {
        Some(ArchFillChoice::Low) => Some(ArchFill::Low),
        Some(ArchFillChoice::Medium) => Some(ArchFill::Medium),
        Some(ArchFillChoice::High) => Some(ArchFill::High),
        Some(ArchFillChoice::None) | None => None,
    };
    if let Some(level) = level {
        m.push(Modification::ArchFill { side, level });
    }
    if let Some(MetPad::Height { mm }) = p.met_pad
        && mm > 0.0
    {
        m.push(Modification::MetPad {
            side,
            height_mm: mm,
        });
    }
    if let Some(d) = p.heel_cup_mm
        && d > 0.0
    {
        m.push(Modification::HeelCup { side, depth_mm: d });
    }
    if p.medial_flange_mm.is_some() || p.lateral_flange_mm.is_some() {
        m.push(Modification::Flanges {
            side,
            medial_mm: p.medial_flange_mm.unwrap_or(0.0),
            lateral_mm: p.lateral_flange_mm.unwrap_or(0.0),
        });
    }
    if let Some(Post::Wedge { degrees, direction }) = p.rearfoot_post
        && degrees > 0.0
    {
        m.push(Modification::RearfootPost {
            side,
            degrees,
            direction,
        });
    }
    if let Some(Post::Wedge { degrees, direction }) = p.forefoot_post
        && degrees > 0.0
    {
        m.push(Modification::ForefootPost {
            side,
            degrees,
            direction,
        });
    }
    if let Some(h) = p.heel_lift_mm
        && h > 0.0
    {
        m.push(Modification::HeelLift { side, height_mm: h });
    }
    if let Some(to) = p.extension {
        m.push(Modification::Extension { side, to });
    }
    m
}

fn foot_features(p: &FootParams) -> Vec<&'static str> {
    let mut f = vec!["any"];
    let pad = matches!(p.met_pad, Some(MetPad::Height { mm }) if mm > 0.0);
    f.push(if pad { "met-pad" } else { "no-met-pad" });
    if p.heel_lift_mm.is_some_and(|h| h > 0.0) {
        f.push("heel-lift");
    }
    if matches!(p.rearfoot_post, Some(Post::Wedge { degrees, .. }) if degrees > 0.0) {
        f.push("rearfoot-post");
    }
    if matches!(p.forefoot_post, Some(Post::Wedge { degrees, .. }) if degrees > 0.0) {
        f.push("forefoot-post");
    }
    if matches!(p.top_cover, Some(TopCover::Cover { .. })) {
        f.push("top-cover");
    }
    f
}

fn socket_modifications(s: &TranstibialSocket, remarks: &mut Vec<String>) -> Vec<Modification> {
    let mut m = Vec::new();
    if let Some(p) = s.reduction_percent
        && p > 0.0
    {
        m.push(Modification::Reduction { percent: p });
    }
    for r in &s.reliefs {
        let landmark = s.landmark(r.region);
        if landmark.is_none() {
            remarks.push(format!(
                "relief at {} has no landmark: the technician places it on the scan",
                lower(&r.region)
            ));
        }
        m.push(Modification::Relief {
            region: r.region,
            depth_mm: r.depth_mm,
            landmark,
        });
    }
    for r in &s.loads {
        let landmark = s.landmark(r.region);
        if landmark.is_none() {
            remarks.push(format!(
                "load at {} has no landmark: the technician places it on the scan",
                lower(&r.region)
            ));
        }
        m.push(Modification::Load {
            region: r.region,
            depth_mm: r.depth_mm,
            landmark,
        });
    }
    if let Some(h) = s.trimline_mm {
        m.push(Modification::Trimline { height_mm: h });
    }
    m
}

fn socket_features(s: &TranstibialSocket) -> Vec<&'static str> {
    let mut f = vec!["any"];
    match s.design {
        Some(SocketDesign::Ptb) => f.push("ptb"),
        Some(SocketDesign::Tsb) => f.push("tsb"),
        None => {}
    }
    match s.suspension {
        Some(Suspension::PinLock) => f.push("pin-lock"),
        Some(Suspension::Suction) => f.push("suction"),
        Some(Suspension::Sleeve) => f.push("sleeve"),
        Some(Suspension::Supracondylar) => f.push("supracondylar"),
        None => {}
    }
    if s.suspension != Some(Suspension::PinLock) {
        f.push("no-pin-lock");
    }
    if s.liner_mm.is_some_and(|l| l > 0.0) {
        f.push("liner");
    }
    match s.socket {
        Some(SocketStage::Check) => f.push("check"),
        Some(SocketStage::Definitive) => f.push("definitive"),
        None => {}
    }
    f
}

fn steps(rx: &Prescription, mods: &[Modification], m: &MaterialRow) -> Vec<Step> {
    let step = |status, role, action: String| Step {
        status,
        role,
        action,
    };
    let n = mods.len();
    let (design, finish) = match &rx.device {
        Device::FootOrthotic(f) => {
            let shell = f
                .shared
                .shell
                .as_ref()
                .map(|s| format!("{} {} mm", lower(&s.material), s.thickness_mm))
                .unwrap_or_else(|| "the shell".into());
            let finish = if m.mills == Mills::Orthosis {
                format!(
                    "cut the tabs, smooth the edges{}; the {shell} orthosis is milled directly, with its posts: no shell is formed",
                    match f.shared.top_cover {
                        Some(TopCover::Cover { .. }) => ", glue the top cover",
                        _ => "",
                    }
                )
            } else {
                format!(
                    "form {shell} over the positive, grind, post and cover; trim to the outline"
                )
            };
            (
                format!(
                    "orient each foot scan (plantar side, heel-to-toe axis) and apply the \
                     {n} modification(s) below"
                ),
                finish,
            )
        }
        Device::TranstibialSocket(s) => {
            let stage = match s.socket {
                Some(SocketStage::Check) => "check socket",
                _ => "socket",
            };
            (
                format!(
                    "align the limb scan (long axis, anterior), place landmarks and apply the \
                     {n} rectification(s) below"
                ),
                format!("form the {stage} over the positive, trim at the trimline, smooth edges"),
            )
        }
    };
    vec![
        step(
            Status::Received,
            Role::Tech,
            "check the scan(s) against the Rx; attach missing scans".into(),
        ),
        step(Status::Designing, Role::Tech, design),
        step(
            Status::Review,
            Role::Prosthetist,
            "review the design; approve it or request changes".into(),
        ),
        step(
            Status::Milling,
            Role::Operator,
            if m.mills == Mills::Orthosis {
                format!(
                    "mill the orthosis directly from {} (a pair nested on one block): rough with {}, finish with {} at {} mm stepover, cut out with tabs",
                    m.blank, m.rough_tool, m.finish_tool, m.stepover_mm
                )
            } else {
                format!(
                    "mill from {}: rough with {}, finish with {} at {} mm stepover",
                    m.blank, m.rough_tool, m.finish_tool, m.stepover_mm
                )
            },
        ),
        step(Status::Finishing, Role::Tech, finish),
        step(
            Status::Qc,
            Role::Tech,
            "check the device against the Rx and the approved design".into(),
        ),
        step(
            Status::Shipped,
            Role::Tech,
            "pack and ship to the clinic with the job number".into(),
        ),
    ]
}

impl fmt::Display for WorkOrder {
    /// The work order as a technician reads it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sides: Vec<_> = self.sides.iter().map(|s| s.to_string()).collect();
        write!(f, "Work order: {}", self.kind)?;
        if !sides.is_empty() {
            write!(f, " ({})", sides.join(" and "))?;
        }
        writeln!(f)?;
        if let Some(d) = self.due {
            writeln!(f, "Due: {d}")?;
        }
        writeln!(f, "\nSteps:")?;
        for (i, s) in self.steps.iter().enumerate() {
            writeln!(f, "  {}. [{}] {}: {}", i + 1, s.status, s.role, s.action)?;
        }
        writeln!(f, "\nModifications:")?;
        if self.modifications.is_empty() {
            writeln!(f, "  none")?;
        }
        for (i, m) in self.modifications.iter().enumerate() {
            writeln!(f, "  {}. {m}", i + 1)?;
        }
        let m = &self.milling;
        writeln!(
            f,
            "\nBlank and milling (material table row `{}`):",
            m.material
        )?;
        writeln!(f, "  blank: {}", m.blank)?;
        writeln!(f, "  process: {}", m.process)?;
        writeln!(
            f,
            "  margins: {} mm around, {} mm above",
            m.margin_xy_mm, m.margin_z_mm
        )?;
        writeln!(
            f,
            "  rough: {} in steps of up to {} mm leaving {} mm; finish: {} at {} mm stepover",
            m.rough_tool, m.stepdown_mm, m.stock_mm, m.finish_tool, m.stepover_mm
        )?;
        writeln!(
            f,
            "  feed {} mm/min, plunge {} mm/min, spindle {} rpm",
            m.feed_mm_min, m.plunge_mm_min, m.spindle_rpm
        )?;
        writeln!(f, "\nSuggested HCPCS codes:")?;
        if self.hcpcs.is_empty() {
            writeln!(f, "  none")?;
        }
        for h in &self.hcpcs {
            writeln!(f, "  {} x{}  {}", h.code, h.quantity, h.description)?;
        }
        if !self.remarks.is_empty() {
            writeln!(f, "\nRemarks:")?;
            for r in &self.remarks {
                writeln!(f, "  - {r}")?;
            }
        }
        Ok(())
    }
}
