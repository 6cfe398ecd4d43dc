//! Machine profiles: what a lab's CNC can do (travel, feed and spindle limits, rapid rate,
//! dialect, tool table), read from TOML.
//!
//! A few profiles are bundled (`fixtures/machines/*.toml`, embedded in the library so
//! `Machine::bundled("linuxcnc-router")` works from anywhere); a lab's own profile is loaded by
//! path. `Machine::resolve` takes either.
//!
//! ## Frames
//! Travel is given in the machine's own frame with the table top at Z = 0 and its front-left
//! corner at X = Y = 0, so Z is the height of the tool tip above the table. fab's programs use a
//! work zero at the top of the blank at its front-left corner; the blank sits on the table at
//! `blank_origin` (default the table's front-left corner). A program point `p` is therefore at
//! `blank_origin + (p.x, p.y, p.z + blank height)` on the machine.
//!
//! ```toml
//! name = "linuxcnc-router"
//! description = "LinuxCNC 3-axis router, 1200 x 600 x 200 mm"
//! dialect = "linuxcnc"
//! max_feed = 10000.0          # mm/min
//! max_spindle_rpm = 24000.0
//! rapid_rate = 15000.0        # mm/min
//! acceleration = 1000.0       # mm/s^2, optional: run-time estimate with acceleration
//! tool_change_s = 30.0        # optional, seconds per tool change in the estimate
//! [travel]
//! x = { min = 0.0, max = 1200.0 }
//! y = { min = 0.0, max = 600.0 }
//! z = { min = 0.0, max = 200.0 }
//! [[tools]]
//! number = 2
//! cutter = { kind = "ball", diameter = 6.0 }
//! description = "6 mm ball nose, long reach"
//! ```

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::cutter::Cutter;
use crate::gcode::Dialect;

/// Errors reading a machine profile.
#[derive(Debug, thiserror::Error)]
pub enum MachineError {
    #[error(
        "no bundled machine profile named '{name}' (bundled: {known}); give a profile's file path to use a lab's own"
    )]
    UnknownBundled { name: String, known: String },
    #[error("cannot read machine profile {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("machine profile {origin}: {message}")]
    Parse { origin: String, message: String },
    #[error("machine profile {origin}: {message}")]
    Invalid { origin: String, message: String },
}

/// The lower and upper limit of one axis, mm.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AxisRange {
    pub min: f64,
    pub max: f64,
}

impl AxisRange {
    pub fn contains(&self, v: f64) -> bool {
        v >= self.min - 1e-9 && v <= self.max + 1e-9
    }
}

/// Travel limits of the three axes in the machine frame (table top at Z = 0).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Travel {
    pub x: AxisRange,
    pub y: AxisRange,
    pub z: AxisRange,
}

/// One pocket of the machine's tool table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolEntry {
    pub number: u32,
    pub cutter: Cutter,
    #[serde(default)]
    pub description: String,
}

/// A CNC machine as the lab has it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Machine {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// The controller's dialect; `--dialect` may override it when writing.
    pub dialect: Dialect,
    pub travel: Travel,
    /// Highest cutting feed, mm/min.
    pub max_feed: f64,
    pub max_spindle_rpm: f64,
    /// Rapid (G0) rate, mm/min.
    pub rapid_rate: f64,
    /// Acceleration, mm/s^2; when given the run-time estimate accounts for it.
    #[serde(default)]
    pub acceleration: Option<f64>,
    /// Seconds per tool change (and spindle spin-up) in the estimate.
    #[serde(default = "default_tool_change_s")]
    pub tool_change_s: f64,
    /// Where the blank's front-left-bottom corner sits in the machine frame, mm.
    #[serde(default)]
    pub blank_origin: [f64; 3],
    /// How far below the bottom of the blank (into the spoil board) the tool tip may go, mm.
    #[serde(default = "default_below_blank")]
    pub max_below_blank: f64,
    /// Program number for dialects that want one (Fanuc `O`), 1..=9999.
    #[serde(default = "default_program_number")]
    pub program_number: u32,
    #[serde(default)]
    pub tools: Vec<ToolEntry>,
    /// The rotary axis of a rotary carver (A about X); none on a 3-axis router.
    #[serde(default)]
    pub rotary: Option<RotaryAxis>,
}

/// A rotary carver's A axis: it turns the blank about the machine's X axis.
///
/// Programs for it put work zero on the rotation axis at the chuck's face: X along the axis
/// (away from the chuck), Y and Z of zero on the axis, the tool vertical. `blank_origin` is then
/// where that point is in the machine frame, so a program point `p` is at `blank_origin + p`.
///
/// ```toml
/// [rotary]
/// a_max_rate = 36000.0      # deg/min, the fastest the A axis turns
/// a_acceleration = 720.0    # deg/s^2
/// a_travel = { min = -99999.0, max = 99999.0 }   # deg, as the controller counts them
/// max_radius = 120.0        # mm, the largest blank the carver swings
/// max_length = 600.0        # mm, the longest blank between the chuck and the tail
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotaryAxis {
    /// Fastest rotation, degrees per minute.
    pub a_max_rate: f64,
    /// Angular acceleration, degrees per s^2.
    pub a_acceleration: f64,
    /// The range of A the controller takes, degrees; programs reset A (G92) to stay inside.
    pub a_travel: AxisRange,
    /// Largest blank radius the carver swings, mm.
    pub max_radius: f64,
    /// Longest blank it holds, mm.
    pub max_length: f64,
}

fn default_tool_change_s() -> f64 {
    20.0
}
fn default_below_blank() -> f64 {
    1.0
}
fn default_program_number() -> u32 {
    1000
}

/// Bundled profiles: (name, TOML text).
const BUNDLED: &[(&str, &str)] = &[
    (
        "linuxcnc-router",
        include_str!("../../../fixtures/machines/linuxcnc-router.toml"),
    ),
    (
        "grbl-hobby",
        include_str!("../../../fixtures/machines/grbl-hobby.toml"),
    ),
    (
        "fanuc-mill",
        include_str!("../../../fixtures/machines/fanuc-mill.toml"),
    ),
    (
        "mach3-router",
        include_str!("../../../fixtures/machines/mach3-router.toml"),
    ),
    (
        "linuxcnc-rotary",
        include_str!("../../../fixtures/machines/linuxcnc-rotary.toml"),
    ),
];

/// Longest profile name, characters: it is written into programs' comments.
const MAX_NAME: usize = 64;

impl Machine {
    /// Names of the bundled profiles.
    pub fn bundled_names() -> Vec<&'static str> {
        BUNDLED.iter().map(|(n, _)| *n).collect()
    }

    /// The default machine: the LinuxCNC router.
    pub fn default_machine() -> Machine {
        Machine::bundled("linuxcnc-router").expect("bundled linuxcnc-router profile is valid")
    }

    /// A bundled profile by name.
    pub fn bundled(name: &str) -> Result<Machine, MachineError> {
        let text = BUNDLED
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, t)| *t)
            .ok_or_else(|| MachineError::UnknownBundled {
                name: name.to_string(),
                known: Machine::bundled_names().join(", "),
            })?;
        Machine::from_toml(text, &format!("bundled '{name}'"))
    }

    /// A profile from a TOML file.
    pub fn load(path: &Path) -> Result<Machine, MachineError> {
        let text = std::fs::read_to_string(path).map_err(|source| MachineError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Machine::from_toml(&text, &path.display().to_string())
    }

    /// A bundled name, or else a path to a TOML file.
    pub fn resolve(name_or_path: &str) -> Result<Machine, MachineError> {
        if BUNDLED.iter().any(|(n, _)| *n == name_or_path) {
            return Machine::bundled(name_or_path);
        }
        let path = Path::new(name_or_path);
        if path.exists() || name_or_path.contains('/') || name_or_path.ends_with(".toml") {
            return Machine::load(path);
        }
        Machine::bundled(name_or_path)
    }

    /// Parses and validates a profile; `origin` names it in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<Machine, MachineError> {
        let parse = |e: toml::de::Error| MachineError::Parse {
            origin: origin.to_string(),
            message: e.to_string().trim().replace('\n', " "),
        };
        // tables must be tables: serde would also take a struct from an array
        let raw: toml::Table = toml::from_str(text).map_err(parse)?;
        for key in ["travel", "rotary"] {
            if let Some(v) = raw.get(key)
                && !v.is_table()
            {
                return Err(MachineError::Invalid {
                    origin: origin.to_string(),
                    message: format!("{key} must be a table ([{key}] with named entries)"),
                });
            }
        }
        if let Some(t) = raw.get("travel").and_then(|v| v.as_table()) {
            for (axis, v) in t {
                if !v.is_table() {
                    return Err(MachineError::Invalid {
                        origin: origin.to_string(),
                        message: format!("travel.{axis} must be {{ min = .., max = .. }}"),
                    });
                }
            }
        }
        let m: Machine = raw.try_into().map_err(parse)?;
        m.validate(origin)?;
        Ok(m)
    }

    fn validate(&self, origin: &str) -> Result<(), MachineError> {
        let bad = |message: String| MachineError::Invalid {
            origin: origin.to_string(),
            message,
        };
        let chars = self.name.chars().count();
        if chars == 0 || chars > MAX_NAME {
            return Err(bad(format!(
                "name must be 1 to {MAX_NAME} characters, got {chars}"
            )));
        }
        if let Some(c) = self
            .name
            .chars()
            .find(|c| c.is_control() || matches!(c, '(' | ')' | ';' | '%'))
        {
            return Err(bad(format!(
                "name must not hold {c:?}: it is written into programs' comments"
            )));
        }
        if self.description.chars().count() > 200 {
            return Err(bad("description must be at most 200 characters".into()));
        }
        let in_range = |what: &str, v: f64, lo: f64, hi: f64, unit: &str| {
            if v.is_finite() && v >= lo && v <= hi {
                Ok(())
            } else {
                Err(bad(format!("{what} must be {lo} to {hi} {unit}, got {v}")))
            }
        };
        for (axis, r) in [
            ("x", self.travel.x),
            ("y", self.travel.y),
            ("z", self.travel.z),
        ] {
            in_range(&format!("travel.{axis}.min"), r.min, -1e5, 1e5, "mm")?;
            in_range(&format!("travel.{axis}.max"), r.max, -1e5, 1e5, "mm")?;
            if r.min >= r.max {
                return Err(bad(format!(
                    "travel.{axis}: min {} must be below max {}",
                    r.min, r.max
                )));
            }
        }
        in_range("max_feed", self.max_feed, 1.0, 1e5, "mm/min")?;
        in_range("max_spindle_rpm", self.max_spindle_rpm, 1.0, 2e5, "rpm")?;
        in_range("rapid_rate", self.rapid_rate, 1.0, 2e5, "mm/min")?;
        if let Some(a) = self.acceleration {
            in_range("acceleration", a, 1.0, 1e5, "mm/s^2")?;
        }
        in_range("tool_change_s", self.tool_change_s, 0.0, 3600.0, "s")?;
        in_range("max_below_blank", self.max_below_blank, 0.0, 50.0, "mm")?;
        for (i, v) in self.blank_origin.iter().enumerate() {
            in_range(&format!("blank_origin[{i}]"), *v, -1e5, 1e5, "mm")?;
        }
        if let Some(r) = &self.rotary {
            in_range("rotary.a_max_rate", r.a_max_rate, 1.0, 1e6, "deg/min")?;
            in_range(
                "rotary.a_acceleration",
                r.a_acceleration,
                1.0,
                1e6,
                "deg/s^2",
            )?;
            in_range("rotary.a_travel.min", r.a_travel.min, -1e6, 0.0, "deg")?;
            in_range("rotary.a_travel.max", r.a_travel.max, 360.0, 1e6, "deg")?;
            in_range("rotary.max_radius", r.max_radius, 1.0, 1000.0, "mm")?;
            in_range("rotary.max_length", r.max_length, 1.0, 5000.0, "mm")?;
        }
        if self.tools.len() > 1000 {
            return Err(bad(format!(
                "[[tools]] lists {} tools; at most 1000",
                self.tools.len()
            )));
        }
        if !(1..=9999).contains(&self.program_number) {
            return Err(bad(format!(
                "program_number must be 1..=9999, got {}",
                self.program_number
            )));
        }
        let mut seen = std::collections::BTreeSet::new();
        for t in &self.tools {
            if !seen.insert(t.number) {
                return Err(bad(format!(
                    "tool T{} appears twice in [[tools]]",
                    t.number
                )));
            }
            let d = t.cutter.diameter();
            let cr = t.cutter.corner_radius();
            if !(1..=99999).contains(&t.number) {
                return Err(bad(format!(
                    "tool number must be 1 to 99999, got {}",
                    t.number
                )));
            }
            if t.description.chars().count() > 200 {
                return Err(bad(format!(
                    "tool T{}: description must be at most 200 characters",
                    t.number
                )));
            }
            if !(d.is_finite() && d > 0.0 && d <= 200.0 && cr >= 0.0 && cr <= d / 2.0 + 1e-12) {
                return Err(bad(format!(
                    "tool T{}: diameter must be above 0 and at most 200 mm, the corner radius at most half of it",
                    t.number
                )));
            }
        }
        Ok(())
    }

    /// The tool-table entry of pocket `number`, if the table lists it.
    pub fn tool(&self, number: u32) -> Option<&ToolEntry> {
        self.tools.iter().find(|t| t.number == number)
    }

    /// The pocket holding `cutter` (same kind and sizes within 1 µm); none if the table lacks
    /// it (a tool number is never invented: the table is what the machine has).
    pub fn pocket_of(&self, cutter: &Cutter) -> Option<u32> {
        self.tools
            .iter()
            .find(|t| same_cutter(&t.cutter, cutter))
            .map(|t| t.number)
    }

    /// The tool table in words, for a message: `T1 flat:10, T2 ball:6, ...`.
    pub fn tool_list(&self) -> String {
        self.tools
            .iter()
            .map(|t| format!("T{} {}", t.number, t.cutter))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Machine-frame position of a program point for a blank of height `blank_z` (mm).
    pub fn to_machine(&self, p: [f64; 3], blank_z: f64) -> [f64; 3] {
        [
            self.blank_origin[0] + p[0],
            self.blank_origin[1] + p[1],
            self.blank_origin[2] + p[2] + blank_z,
        ]
    }
}

/// Same kind of cutter with the same sizes within 1 µm.
pub fn same_cutter(a: &Cutter, b: &Cutter) -> bool {
    let kind = |c: &Cutter| match c {
        Cutter::Ball { .. } => 0,
        Cutter::Flat { .. } => 1,
        Cutter::Bull { .. } => 2,
    };
    kind(a) == kind(b)
        && (a.diameter() - b.diameter()).abs() < 1e-3
        && (a.corner_radius() - b.corner_radius()).abs() < 1e-3
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bundled_profile_loads_with_its_dialect() {
        for name in Machine::bundled_names() {
            let m = Machine::bundled(name).unwrap();
            assert_eq!(m.name, name);
            assert!(!m.tools.is_empty(), "{name} has a tool table");
        }
        assert_eq!(
            Machine::bundled("grbl-hobby").unwrap().dialect,
            Dialect::Grbl
        );
        assert_eq!(
            Machine::bundled("fanuc-mill").unwrap().dialect,
            Dialect::Fanuc
        );
        assert_eq!(
            Machine::bundled("mach3-router").unwrap().dialect,
            Dialect::Mach3
        );
        let r = Machine::bundled("linuxcnc-router").unwrap();
        assert_eq!(r.dialect, Dialect::LinuxCnc);
        assert_eq!(r.travel.x.max, 1200.0);
        assert_eq!(r.travel.y.max, 600.0);
        assert_eq!(r.travel.z.max, 200.0);
    }

    #[test]
    fn unknown_name_lists_the_bundled_ones() {
        let e = Machine::bundled("haas").unwrap_err().to_string();
        assert!(e.contains("haas") && e.contains("linuxcnc-router"), "{e}");
    }

    #[test]
    fn bad_profiles_are_refused_with_the_reason() {
        let base = include_str!("../../../fixtures/machines/linuxcnc-router.toml");
        let e = Machine::from_toml(&base.replace("max_feed = ", "max_feed = -"), "t")
            .unwrap_err()
            .to_string();
        assert!(e.contains("max_feed"), "{e}");
        let e = Machine::from_toml(
            &base.replace("dialect = \"linuxcnc\"", "dialect = \"haas\""),
            "t",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("haas") || e.contains("dialect"), "{e}");
        let e = Machine::from_toml("name = 1", "t").unwrap_err().to_string();
        assert!(e.starts_with("machine profile t:"), "{e}");
    }

    #[test]
    fn lab_profile_loads_by_path() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("lab.toml");
        let text = include_str!("../../../fixtures/machines/grbl-hobby.toml")
            .replace("name = \"grbl-hobby\"", "name = \"lab-shapeoko\"");
        std::fs::write(&p, text).unwrap();
        let m = Machine::resolve(p.to_str().unwrap()).unwrap();
        assert_eq!(m.name, "lab-shapeoko");
        assert!(Machine::resolve("/no/such/machine.toml").is_err());
    }

    #[test]
    fn tool_numbers_come_from_the_table() {
        let m = Machine::default_machine();
        let n = m.pocket_of(&Cutter::Ball { diameter: 6.0 }).unwrap();
        assert_eq!(m.tool(n).unwrap().cutter, Cutter::Ball { diameter: 6.0 });
        assert_eq!(m.pocket_of(&Cutter::Ball { diameter: 3.175 }), None);
        assert!(
            m.tool_list().contains(&format!("T{n} ball:6")),
            "{}",
            m.tool_list()
        );
    }
}
