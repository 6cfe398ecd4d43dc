//! The prescription (Rx): the data model, its text parser ([`parse`]) and canonical writer
//! ([`fmt`]).
//!
//! An Rx is a plain-text file of `key: value` lines (`#` starts a comment). The first line names
//! the device: `rx: foot-orthotic` or `rx: transtibial-socket`. Quantities carry their units
//! (`mm`, `deg`, `%`). The same model is serde-serialisable, so it reads and writes JSON too
//! ([`Prescription::from_json`] validates what it reads exactly as the text parser does).

mod error;
mod fmt;
mod keys;
mod parse;

use serde::{Deserialize, Serialize};

pub use error::{RxError, RxErrorKind};
pub use fmt::fmt;
pub use keys::{COMMON_KEYS, FOOT_KEYS, SOCKET_KEYS};
pub use parse::{PRIVATE_KEYS, parse, private_key, shown_line};

/// Which device a prescription is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeviceKind {
    /// Custom foot orthosis (insole), HCPCS L3000 series.
    FootOrthotic,
    /// Transtibial (below-knee) prosthetic socket.
    TranstibialSocket,
}

impl DeviceKind {
    /// The name used in the `rx:` line.
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceKind::FootOrthotic => "foot-orthotic",
            DeviceKind::TranstibialSocket => "transtibial-socket",
        }
    }
}

impl std::fmt::Display for DeviceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A calendar date, written `YYYY-MM-DD` (in text and JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Date {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

impl Date {
    /// A valid calendar date, or `None` (months 1-12, days within the month, leap years).
    pub fn new(year: u16, month: u8, day: u8) -> Option<Date> {
        let leap =
            (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
        let days = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        (year >= 1 && (1..=days).contains(&day)).then_some(Date { year, month, day })
    }
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl std::str::FromStr for Date {
    type Err = String;
    fn from_str(s: &str) -> Result<Date, String> {
        let b = s.as_bytes();
        let shape_ok = b.len() == 10
            && b[4] == b'-'
            && b[7] == b'-'
            && b.iter()
                .enumerate()
                .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
        if !shape_ok {
            return Err(format!("`{s}` is not a date of the form YYYY-MM-DD"));
        }
        let (y, m, d) = (
            s[0..4].parse().unwrap_or(0),
            s[5..7].parse().unwrap_or(0),
            s[8..10].parse().unwrap_or(0),
        );
        Date::new(y, m, d).ok_or_else(|| format!("`{s}` is not a calendar date"))
    }
}

impl TryFrom<String> for Date {
    type Error = String;
    fn try_from(s: String) -> Result<Date, String> {
        s.parse()
    }
}

impl From<Date> for String {
    fn from(d: Date) -> String {
        d.to_string()
    }
}

/// `side:` in an Rx.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RxSide {
    Left,
    Right,
    Bilateral,
}

/// Arch fill level on the positive; `none` is a value in its own right in the Rx.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ArchFillChoice {
    None,
    Low,
    Medium,
    High,
}

/// Arch fill level in a work order (no modification is emitted for `none`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ArchFill {
    Low,
    Medium,
    High,
}

/// Which way a post tilts the foot: varus = medial side up, valgus = lateral side up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PostDirection {
    Varus,
    Valgus,
}

/// How far the orthosis extends towards the toes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Extension {
    Metatarsal,
    Sulcus,
    Toes,
}

/// Named regions of a residual limb, for reliefs, loads and landmarks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Region {
    FibularHead,
    TibialCrest,
    TibialTubercle,
    DistalTibia,
    DistalEnd,
    PatellarTendon,
    MedialFlare,
    LateralFlare,
    Popliteal,
    Hamstrings,
}

/// Shell material of a foot orthosis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ShellMaterial {
    Polypropylene,
    Eva,
    Carbon,
}

/// `shell: <material> <thickness> mm`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shell {
    pub material: ShellMaterial,
    pub thickness_mm: f64,
}

/// `rearfoot-post:` / `forefoot-post:`: `none` or a wedge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Post {
    None,
    Wedge {
        degrees: f64,
        direction: PostDirection,
    },
}

/// `met-pad:`: `none` or a dome height.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MetPad {
    None,
    Height { mm: f64 },
}

/// Length of a top cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CoverLength {
    Full,
    ThreeQuarter,
}

/// `top-cover: none | <material> <0-6> mm [full|three-quarter]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TopCover {
    None,
    Cover {
        material: String,
        thickness_mm: f64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        length: Option<CoverLength>,
    },
}

/// The foot-orthotic keys of one side (or shared by both). Every field is optional: absent means
/// the Rx did not say.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(default)]
pub struct FootParams {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shell: Option<Shell>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub heel_cup_mm: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arch_fill: Option<ArchFillChoice>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub medial_flange_mm: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lateral_flange_mm: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rearfoot_post: Option<Post>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forefoot_post: Option<Post>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub met_pad: Option<MetPad>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extension: Option<Extension>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_cover: Option<TopCover>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub heel_lift_mm: Option<f64>,
}

impl FootParams {
    /// True when no key is set.
    pub fn is_empty(&self) -> bool {
        *self == FootParams::default()
    }

    /// These values with `over`'s set values taking precedence (a `left.`/`right.` override).
    pub fn overridden_by(&self, over: &FootParams) -> FootParams {
        FootParams {
            shell: over.shell.clone().or_else(|| self.shell.clone()),
            heel_cup_mm: over.heel_cup_mm.or(self.heel_cup_mm),
            arch_fill: over.arch_fill.or(self.arch_fill),
            medial_flange_mm: over.medial_flange_mm.or(self.medial_flange_mm),
            lateral_flange_mm: over.lateral_flange_mm.or(self.lateral_flange_mm),
            rearfoot_post: over
                .rearfoot_post
                .clone()
                .or_else(|| self.rearfoot_post.clone()),
            forefoot_post: over
                .forefoot_post
                .clone()
                .or_else(|| self.forefoot_post.clone()),
            met_pad: over.met_pad.clone().or_else(|| self.met_pad.clone()),
            extension: over.extension.or(self.extension),
            top_cover: over.top_cover.clone().or_else(|| self.top_cover.clone()),
            heel_lift_mm: over.heel_lift_mm.or(self.heel_lift_mm),
        }
    }
}

/// A foot-orthotic prescription: shared values, and per-side overrides (only with
/// `side: bilateral`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FootOrthotic {
    #[serde(default)]
    pub shared: FootParams,
    #[serde(default, skip_serializing_if = "FootParams::is_empty")]
    pub left: FootParams,
    #[serde(default, skip_serializing_if = "FootParams::is_empty")]
    pub right: FootParams,
}

/// Socket design style.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SocketDesign {
    /// Patellar tendon bearing.
    Ptb,
    /// Total surface bearing.
    Tsb,
}

/// How the socket is held on the limb.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Suspension {
    PinLock,
    Suction,
    Sleeve,
    Supracondylar,
}

/// What the limb scan shows: the limb over its liner (the usual practice) or the bare skin, in
/// which case the positive is offset outward by the liner's thickness.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScanSurface {
    OverLiner,
    Skin,
}

/// A check (test) socket or the definitive one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SocketStage {
    Check,
    Definitive,
}

/// `relief: <region> <depth> mm` or `load: <region> <depth> mm`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionDepth {
    pub region: Region,
    pub depth_mm: f64,
}

/// `landmark: <region> <x> <y> <z> mm`: where the region is on the scan, in scan coordinates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Landmark {
    pub region: Region,
    pub point_mm: [f64; 3],
}

/// A transtibial-socket prescription.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(default)]
pub struct TranstibialSocket {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub design: Option<SocketDesign>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub liner_mm: Option<f64>,
    /// `scan: over-liner | skin` (none: over the liner).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scan: Option<ScanSurface>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suspension: Option<Suspension>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reduction_percent: Option<f64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reliefs: Vec<RegionDepth>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub loads: Vec<RegionDepth>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub landmarks: Vec<Landmark>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub socket: Option<SocketStage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub material: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trimline_mm: Option<f64>,
}

/// The region as the Rx writes it (`fibular-head`).
impl std::fmt::Display for Region {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(parse::region_name(*self))
    }
}

impl TranstibialSocket {
    /// The landmark given for `region`, if any.
    pub fn landmark(&self, region: Region) -> Option<[f64; 3]> {
        self.landmarks
            .iter()
            .find(|l| l.region == region)
            .map(|l| l.point_mm)
    }
}

/// The device-specific part of an Rx; `rx` names the kind in JSON.
// One per prescription, never in bulk: unboxed variants keep pattern matching plain.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rx", rename_all = "kebab-case")]
pub enum Device {
    FootOrthotic(FootOrthotic),
    TranstibialSocket(TranstibialSocket),
}

/// A parsed prescription.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Prescription {
    /// The clinic's patient reference (e.g. `MRN-004512`), never a name. Stays in the database.
    pub patient: String,
    pub practitioner: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clinic: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<Date>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<Date>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub side: Option<RxSide>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    pub device: Device,
}

impl Prescription {
    /// Which device this Rx is for.
    pub fn kind(&self) -> DeviceKind {
        match self.device {
            Device::FootOrthotic(_) => DeviceKind::FootOrthotic,
            Device::TranstibialSocket(_) => DeviceKind::TranstibialSocket,
        }
    }

    /// Reads the JSON form and validates it exactly as the text parser would (ranges, required
    /// keys, overrides), so a JSON Rx is never looser than a text one.
    pub fn from_json(json: &str) -> Result<Prescription, RxError> {
        let rx: Prescription = serde_json::from_str(json).map_err(|e| {
            use serde_json::error::Category;
            // serde's own words may quote a value (a patient reference): only the field names
            let what = match e.classify() {
                Category::Syntax => "not valid JSON".to_string(),
                Category::Eof => "the JSON ends early".to_string(),
                Category::Io => "the JSON cannot be read".to_string(),
                Category::Data => {
                    let m = e.to_string();
                    let m = m.split(" at line ").next().unwrap_or("");
                    if m.starts_with("unknown field") || m.starts_with("missing field") {
                        m.split(", expected").next().unwrap_or(m).to_string()
                    } else {
                        "a value is not of a kind the prescription takes there".to_string()
                    }
                }
            };
            RxError::new(
                RxErrorKind::Json,
                e.line(),
                e.column(),
                "",
                "a prescription in JSON",
                format!("invalid JSON prescription: {what}"),
            )
        })?;
        let reparsed = parse(&fmt(&rx)).map_err(|e| {
            RxError::new(
                e.kind,
                1,
                1,
                "",
                e.expected,
                format!("the JSON prescription is not valid: {}", e.message),
            )
        })?;
        if reparsed != rx {
            return Err(RxError::new(
                RxErrorKind::Json,
                1,
                1,
                "",
                "values the text form can carry",
                "JSON prescription holds values the Rx format cannot express (a text value \
                 with `#`, a quote or a line break?)"
                    .to_string(),
            ));
        }
        Ok(rx)
    }

    /// The JSON form (pretty-printed).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a prescription always serialises")
    }
}
