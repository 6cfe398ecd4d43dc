//! The lab-editable tables behind a work order: material -> blank and milling set-up, and the
//! suggested HCPCS codes. Bundled defaults live in `fixtures/tables/*.toml` (compiled in); a lab
//! file given by path replaces whichever sections (`[[material]]`, `[[hcpcs]]`) it has.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::rx::DeviceKind;

const BUNDLED_MATERIALS: &str = include_str!("../../../fixtures/tables/materials.toml");
const BUNDLED_HCPCS: &str = include_str!("../../../fixtures/tables/hcpcs.toml");

/// Features an HCPCS row may require, per device (see `fixtures/tables/hcpcs.toml`).
pub const FOOT_FEATURES: &[&str] = &[
    "any",
    "met-pad",
    "no-met-pad",
    "heel-lift",
    "rearfoot-post",
    "forefoot-post",
    "top-cover",
];
pub const SOCKET_FEATURES: &[&str] = &[
    "any",
    "ptb",
    "tsb",
    "pin-lock",
    "no-pin-lock",
    "suction",
    "sleeve",
    "supracondylar",
    "liner",
    "check",
    "definitive",
];

/// A table could not be read or holds something unusable.
#[derive(Debug, thiserror::Error)]
pub enum TablesError {
    #[error("cannot read tables file {path}: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("tables file {origin}: {message}")]
    Parse { origin: String, message: String },
    #[error("tables file {origin}, {section} row {row}{}: {message}", line.map(|l| format!(" (line {l})")).unwrap_or_default())]
    Invalid {
        origin: String,
        section: &'static str,
        row: usize,
        /// The line of the row's `[[section]]` header in the file, where it has one.
        line: Option<usize>,
        message: String,
    },
}

/// One row of the material table: the blank and milling set-up for a device and material.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaterialRow {
    pub device: DeviceKind,
    /// Shell material (foot) or a word of the socket's `material:`; `*` is the fallback.
    pub material: String,
    pub blank: String,
    pub process: String,
    pub margin_xy_mm: f64,
    pub margin_z_mm: f64,
    pub rough_tool: String,
    pub finish_tool: String,
    pub stepover_mm: f64,
    pub stock_mm: f64,
    pub feed_mm_min: f64,
    pub plunge_mm_min: f64,
    pub spindle_rpm: u32,
    /// Deepest roughing step (rows written before it existed: 10 mm, a foam's).
    #[serde(default = "default_stepdown")]
    pub stepdown_mm: f64,
    /// What the router makes of the blank: a positive to form the device over (the default), or
    /// (foot orthoses) the orthosis itself, milled directly.
    #[serde(default)]
    pub mills: Mills,
}

/// What a material row's blank becomes on the router.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mills {
    /// A positive model; the device is formed over it.
    #[default]
    Positive,
    /// The orthosis itself, from the block (foot orthoses only).
    Orthosis,
}

fn default_stepdown() -> f64 {
    10.0
}

/// How many of a code a job needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Quantity {
    /// One.
    One,
    /// One per side that has every feature (foot orthoses).
    PerSide,
}

/// One row of the HCPCS table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HcpcsRow {
    pub code: String,
    pub device: DeviceKind,
    /// Features that must all hold.
    pub when: Vec<String>,
    pub quantity: Quantity,
    pub description: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    material: Option<Vec<MaterialRow>>,
    hcpcs: Option<Vec<HcpcsRow>>,
}

/// The material and HCPCS tables a work order is built from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tables {
    pub materials: Vec<MaterialRow>,
    pub hcpcs: Vec<HcpcsRow>,
}

impl Tables {
    /// The tables compiled into fab (`fixtures/tables/`).
    pub fn bundled() -> Tables {
        let m = parse_file(BUNDLED_MATERIALS, "bundled materials.toml")
            .expect("the bundled material table is valid (a unit test checks it)");
        let h = parse_file(BUNDLED_HCPCS, "bundled hcpcs.toml")
            .expect("the bundled HCPCS table is valid (a unit test checks it)");
        Tables {
            materials: m.material.unwrap_or_default(),
            hcpcs: h.hcpcs.unwrap_or_default(),
        }
    }

    /// A lab's tables file: its `[[material]]` and `[[hcpcs]]` sections replace the bundled ones;
    /// a section it lacks stays bundled.
    pub fn load(path: &Path) -> Result<Tables, TablesError> {
        let text = std::fs::read_to_string(path).map_err(|error| TablesError::Io {
            path: path.to_path_buf(),
            error,
        })?;
        Tables::from_toml(&text, &path.display().to_string())
    }

    /// As [`Tables::load`], from text; `origin` names it in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<Tables, TablesError> {
        let f = parse_file(text, origin)?;
        let mut t = Tables::bundled();
        if let Some(m) = f.material {
            t.materials = m;
        }
        if let Some(h) = f.hcpcs {
            t.hcpcs = h;
        }
        t.validate(origin).map_err(|e| match e {
            TablesError::Invalid {
                origin,
                section,
                row,
                message,
                ..
            } => TablesError::Invalid {
                line: row_line(text, section, row),
                origin,
                section,
                row,
                message,
            },
            e => e,
        })?;
        Ok(t)
    }

    /// The material row for a device and material: the first row whose material is `material`
    /// (or, for sockets, a word of it), else the device's `*` row.
    pub fn material(&self, device: DeviceKind, material: Option<&str>) -> &MaterialRow {
        let wanted = material.map(str::to_ascii_lowercase);
        let words: Vec<&str> = wanted
            .as_deref()
            .map(|w| {
                w.split(|c: char| !c.is_ascii_alphanumeric() && c != '-')
                    .collect()
            })
            .unwrap_or_default();
        self.materials
            .iter()
            .filter(|r| r.device == device)
            .find(|r| {
                let m = r.material.to_ascii_lowercase();
                m != "*" && (Some(&m) == wanted.as_ref() || words.contains(&m.as_str()))
            })
            .or_else(|| {
                self.materials
                    .iter()
                    .find(|r| r.device == device && r.material == "*")
            })
            .expect("validated tables hold a `*` row for every device")
    }

    fn validate(&self, origin: &str) -> Result<(), TablesError> {
        let bad = |section, row: usize, message: String| TablesError::Invalid {
            origin: origin.to_string(),
            section,
            row: row + 1,
            line: None,
            message,
        };
        for (i, r) in self.materials.iter().enumerate() {
            // (name, value, least, most): a stepover under 0.01 mm or a stepdown under 0.1 mm
            // would take the machine days, a feed under 1 mm/min is written F0
            for (name, v, lo, hi) in [
                ("margin_xy_mm", r.margin_xy_mm, 0.0, 500.0),
                ("margin_z_mm", r.margin_z_mm, 0.0, 500.0),
                ("stepover_mm", r.stepover_mm, 0.01, 50.0),
                ("stock_mm", r.stock_mm, 0.0, 50.0),
                ("feed_mm_min", r.feed_mm_min, 1.0, 1e6),
                ("plunge_mm_min", r.plunge_mm_min, 1.0, 1e6),
                ("stepdown_mm", r.stepdown_mm, 0.1, 200.0),
                ("spindle_rpm", r.spindle_rpm as f64, 0.0, 200_000.0),
            ] {
                if !(v.is_finite() && v >= lo && v <= hi) {
                    return Err(bad(
                        "material",
                        i,
                        format!("{name} = {v:?} must be from {lo} to {hi}"),
                    ));
                }
            }
            for (name, t) in [
                ("rough_tool", &r.rough_tool),
                ("finish_tool", &r.finish_tool),
            ] {
                if !tool_spec_ok(t) {
                    return Err(bad(
                        "material",
                        i,
                        format!("{name} = `{t}`: expected ball:D, flat:D or bull:D:CR (mm)"),
                    ));
                }
            }
            if r.mills == Mills::Orthosis && r.device != DeviceKind::FootOrthotic {
                return Err(bad(
                    "material",
                    i,
                    format!(
                        "mills = \"orthosis\" is for foot orthoses only; a {} is carved as a positive",
                        r.device
                    ),
                ));
            }
        }
        for device in [DeviceKind::FootOrthotic, DeviceKind::TranstibialSocket] {
            if !self
                .materials
                .iter()
                .any(|r| r.device == device && r.material == "*")
            {
                return Err(TablesError::Parse {
                    origin: origin.to_string(),
                    message: format!(
                        "the material table needs a `material = \"*\"` row for {device}"
                    ),
                });
            }
        }
        for (i, r) in self.hcpcs.iter().enumerate() {
            let known = match r.device {
                DeviceKind::FootOrthotic => FOOT_FEATURES,
                DeviceKind::TranstibialSocket => SOCKET_FEATURES,
            };
            if let Some(f) = r.when.iter().find(|f| !known.contains(&f.as_str())) {
                return Err(bad(
                    "hcpcs",
                    i,
                    format!(
                        "unknown feature `{f}` for {}: expected one of {}",
                        r.device,
                        known.join(", ")
                    ),
                ));
            }
            if r.code.trim().is_empty() {
                return Err(bad("hcpcs", i, "empty code".into()));
            }
        }
        Ok(())
    }
}

/// The line of the `row`th (from 1) `[[section]]` header of `text`, if it is written so.
fn row_line(text: &str, section: &str, row: usize) -> Option<usize> {
    let header = format!("[[{section}]]");
    text.lines()
        .enumerate()
        .filter(|(_, l)| {
            let l = l.trim_start();
            l.strip_prefix(header.as_str()).is_some_and(|rest| {
                rest.trim_start().is_empty() || rest.trim_start().starts_with('#')
            })
        })
        .nth(row.checked_sub(1)?)
        .map(|(i, _)| i + 1)
}

fn parse_file(text: &str, origin: &str) -> Result<File, TablesError> {
    toml::from_str(text).map_err(|e| TablesError::Parse {
        origin: origin.to_string(),
        message: e.to_string().trim_end().replace('\n', " | "),
    })
}

/// `ball:6`, `flat:10`, `bull:12:2`: positive numbers, a corner radius only on bull.
fn tool_spec_ok(spec: &str) -> bool {
    let parts: Vec<&str> = spec.split(':').collect();
    let num = |s: &str| s.parse::<f64>().is_ok_and(|v| v.is_finite() && v > 0.0);
    match parts.as_slice() {
        ["ball" | "flat", d] => num(d),
        ["bull", d, r] => num(d) && num(r),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_tables_are_valid_and_have_fallbacks() {
        let t = Tables::bundled();
        t.validate("bundled").unwrap();
        assert!(t.materials.len() >= 4 && t.hcpcs.len() >= 5);
        let eva = t.material(DeviceKind::FootOrthotic, Some("eva"));
        assert_eq!(eva.blank, "EVA block, 45 shore A");
        let other = t.material(DeviceKind::FootOrthotic, Some("cork"));
        assert_eq!(other.material, "*");
        let petg = t.material(
            DeviceKind::TranstibialSocket,
            Some("clear PETG check socket"),
        );
        assert_eq!(petg.material, "petg");
        let none = t.material(DeviceKind::TranstibialSocket, None);
        assert_eq!(none.material, "*");
    }

    #[test]
    fn a_lab_file_replaces_only_its_sections() {
        let text = r#"
[[hcpcs]]
code = "L3000"
device = "foot-orthotic"
when = ["any"]
quantity = "per-side"
description = "UCB"
"#;
        let t = Tables::from_toml(text, "lab.toml").unwrap();
        assert_eq!(t.hcpcs.len(), 1);
        assert_eq!(t.materials, Tables::bundled().materials);
    }

    #[test]
    fn bad_tables_are_refused_with_where() {
        let e = Tables::from_toml("[[hcpcs]]\ncode = 3\n", "lab.toml").unwrap_err();
        assert!(e.to_string().starts_with("tables file lab.toml: "), "{e}");
        assert!(e.to_string().contains("line 2"), "{e}");
        let text =
            BUNDLED_MATERIALS.replacen("finish_tool = \"ball:6\"", "finish_tool = \"ball\"", 1);
        let e = Tables::from_toml(&text, "lab.toml").unwrap_err();
        let line = BUNDLED_MATERIALS
            .lines()
            .position(|l| l == "[[material]]")
            .unwrap()
            + 1;
        assert_eq!(
            e.to_string(),
            format!(
                "tables file lab.toml, material row 1 (line {line}): finish_tool = `ball`: \
                 expected ball:D, flat:D or bull:D:CR (mm)"
            )
        );
        let text = BUNDLED_HCPCS.replacen("[\"met-pad\"]", "[\"metpad\"]", 1);
        let e = Tables::from_toml(&text, "lab.toml").unwrap_err();
        assert!(e.to_string().contains("unknown feature `metpad`"), "{e}");
        // numbers out of their stated range, with the row and its line
        for (from, to, what) in [
            (
                "stepover_mm = 1.0",
                "stepover_mm = 1e-300",
                "stepover_mm = 1e-300 must be from 0.01 to 50",
            ),
            (
                "stepover_mm = 1.0",
                "stepover_mm = nan",
                "stepover_mm = NaN",
            ),
            (
                "feed_mm_min = 10000.0",
                "feed_mm_min = 0.5",
                "feed_mm_min = 0.5 must be from 1 to 1000000",
            ),
            ("stock_mm = 0.5", "stock_mm = inf", "stock_mm = inf"),
            ("margin_z_mm = 1.0", "margin_z_mm = 1e308", "from 0 to 500"),
        ] {
            assert!(BUNDLED_MATERIALS.contains(from), "{from}");
            let text = BUNDLED_MATERIALS.replacen(from, to, 1);
            let e = Tables::from_toml(&text, "lab.toml")
                .unwrap_err()
                .to_string();
            assert!(e.contains(what) && e.contains("(line "), "{to}: {e}");
        }
        // an unknown key is refused, not ignored
        let text = BUNDLED_MATERIALS.replacen("stock_mm", "stok_mm = 1.0\nstock_mm", 1);
        let e = Tables::from_toml(&text, "lab.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("stok_mm") && e.contains("line"), "{e}");
        let e = Tables::load(Path::new("/nonexistent/tables.toml")).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/tables.toml"), "{e}");
    }
}
