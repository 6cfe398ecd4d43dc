//! Length units of incoming scans and the automatic decision between them.
//!
//! Everything inside fab is in millimetres. Scans arrive in mm, cm, metres (phone apps) or inches;
//! `Units::Auto` decides from the size of the body part: the unit in which the scan's largest
//! extent is a plausible body part; when two units fit (cm and inches can), the one clearly nearer
//! the typical size; and it refuses to guess when the size fits none, or two equally well.

use std::fmt;
use std::str::FromStr;

/// The unit a scan's coordinates are in, or `Auto` to decide from its size.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Units {
    #[default]
    Auto,
    Mm,
    Cm,
    M,
    In,
}

impl Units {
    /// Millimetres per unit; `None` for `Auto`.
    pub fn mm_per_unit(self) -> Option<f64> {
        match self {
            Units::Auto => None,
            Units::Mm => Some(1.0),
            Units::Cm => Some(10.0),
            Units::M => Some(1000.0),
            Units::In => Some(25.4),
        }
    }

    /// The concrete units, in the order auto tries them.
    pub const CONCRETE: [Units; 4] = [Units::Mm, Units::Cm, Units::M, Units::In];
}

impl fmt::Display for Units {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Units::Auto => "auto",
            Units::Mm => "mm",
            Units::Cm => "cm",
            Units::M => "m",
            Units::In => "in",
        })
    }
}

/// A units name that is none of auto, mm, cm, m, in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown units `{0}`: expected one of auto, mm, cm, m, in")]
pub struct UnknownUnits(pub String);

impl FromStr for Units {
    type Err = UnknownUnits;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(Units::Auto),
            "mm" | "millimetre" | "millimeter" | "millimetres" | "millimeters" => Ok(Units::Mm),
            "cm" => Ok(Units::Cm),
            "m" | "metre" | "meter" | "metres" | "meters" => Ok(Units::M),
            "in" | "inch" | "inches" => Ok(Units::In),
            _ => Err(UnknownUnits(s.to_string())),
        }
    }
}

/// The size, in mm, that a scanned body part (foot, residual limb, hand, torso section) can
/// plausibly have as its largest bounding-box extent. The ratio of the two bounds is under 10,
/// so mm and cm never both fit; cm and inches can, and then auto refuses to guess.
pub const PLAUSIBLE_EXTENT_MM: (f64, f64) = (80.0, 700.0);

/// What units a scan was read in and why.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct UnitsDecision {
    /// What was asked for (`auto` or a unit).
    pub requested: Units,
    /// The unit used.
    pub units: Units,
    /// Millimetres per file unit.
    pub scale: f64,
    /// Largest bounding-box extent in the file's own numbers.
    pub extent_in_file: f64,
    /// The same in millimetres after scaling.
    pub extent_mm: f64,
    /// One sentence: why this unit.
    pub reason: String,
}

/// Why auto could not decide.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum UnitsError {
    #[error(
        "cannot tell the units: the largest extent is {} file units, which is a plausible body part ({lo}-{hi} mm) in none of mm, cm, m, in; pass --units", shown_size(*extent)
    )]
    FitsNone { extent: f64, lo: f64, hi: f64 },
    #[error(
        "cannot tell the units: the largest extent is {extent} file units, a plausible body part as {}; pass --units", .candidates.join(" or as ")
    )]
    Ambiguous {
        extent: f64,
        candidates: Vec<String>,
    },
}

/// A size as a person reads it: up to 4 decimals where that is short, else 4 significant digits
/// with an exponent (a 1e300 extent is not 300 digits).
pub fn shown_size(v: f64) -> String {
    if v == 0.0 || (v.abs() >= 1e-3 && v.abs() < 1e7) {
        let s = format!("{v:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        format!("{v:.3e}")
    }
}

/// Decides the units of a scan whose largest bounding-box extent is `extent` in file units.
pub fn decide(requested: Units, extent: f64) -> Result<UnitsDecision, UnitsError> {
    let (lo, hi) = PLAUSIBLE_EXTENT_MM;
    if let Some(scale) = requested.mm_per_unit() {
        let mm = extent * scale;
        let mut reason = format!("--units {requested} was given");
        if !(lo..=hi).contains(&mm) {
            reason += &format!(
                " (warning: that makes it {} mm, not a plausible body part of {lo}-{hi} mm)",
                shown_size(mm)
            );
        }
        return Ok(UnitsDecision {
            requested,
            units: requested,
            scale,
            extent_in_file: extent,
            extent_mm: mm,
            reason,
        });
    }
    let fits: Vec<Units> = Units::CONCRETE
        .into_iter()
        .filter(|u| {
            let mm = extent * u.mm_per_unit().unwrap();
            (lo..=hi).contains(&mm)
        })
        .collect();
    match fits.as_slice() {
        [u] => {
            let scale = u.mm_per_unit().unwrap();
            Ok(UnitsDecision {
                requested,
                units: *u,
                scale,
                extent_in_file: extent,
                extent_mm: extent * scale,
                reason: format!(
                    "largest extent {} in the file is a plausible body part ({lo}-{hi} mm) only in {u} ({:.1} mm)",
                    short(extent),
                    extent * scale
                ),
            })
        }
        [a, b] if typical_fit(extent, *a, *b).is_some() => {
            let (u, other) = typical_fit(extent, *a, *b).unwrap();
            let scale = u.mm_per_unit().unwrap();
            Ok(UnitsDecision {
                requested,
                units: u,
                scale,
                extent_in_file: extent,
                extent_mm: extent * scale,
                reason: format!(
                    "largest extent {} in the file is a plausible body part in {u} ({:.1} mm) and in {other} ({:.1} mm); {u} is far nearer the typical {TYPICAL_EXTENT_MM:.0} mm of a foot or limb",
                    short(extent),
                    extent * scale,
                    extent * other.mm_per_unit().unwrap()
                ),
            })
        }
        [] => Err(UnitsError::FitsNone {
            extent: short(extent),
            lo,
            hi,
        }),
        many => Err(UnitsError::Ambiguous {
            extent: short(extent),
            candidates: many
                .iter()
                .map(|u| format!("{u} ({:.0} mm)", extent * u.mm_per_unit().unwrap()))
                .collect(),
        }),
    }
}

/// The typical largest extent of a scanned foot or residual limb, mm (the geometric middle of
/// the plausible range).
pub const TYPICAL_EXTENT_MM: f64 = 236.6;

/// When two units both fit, the one whose size is far nearer the typical one (at least twice as
/// near, in ratio terms), with the other; `None` when neither is clearly nearer.
fn typical_fit(extent: f64, a: Units, b: Units) -> Option<(Units, Units)> {
    let dist = |u: Units| {
        (extent * u.mm_per_unit().unwrap() / TYPICAL_EXTENT_MM)
            .ln()
            .abs()
    };
    let (da, db) = (dist(a), dist(b));
    if da * 2.0 <= db {
        Some((a, b))
    } else if db * 2.0 <= da {
        Some((b, a))
    } else {
        None
    }
}

fn short(x: f64) -> f64 {
    (x * 1e4).round() / 1e4
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_display_round_trip() {
        for u in [Units::Auto, Units::Mm, Units::Cm, Units::M, Units::In] {
            assert_eq!(u.to_string().parse::<Units>().unwrap(), u);
        }
        assert!("furlong".parse::<Units>().is_err());
    }

    #[test]
    fn auto_decides_metres_and_millimetres() {
        assert_eq!(decide(Units::Auto, 0.26).unwrap().units, Units::M);
        assert_eq!(decide(Units::Auto, 260.0).unwrap().units, Units::Mm);
        let d = decide(Units::Auto, 0.26).unwrap();
        assert!((d.extent_mm - 260.0).abs() < 1e-9);
        assert!(d.reason.contains("only in m"), "{}", d.reason);
    }

    #[test]
    fn auto_refuses_sizes_that_fit_none_or_several() {
        assert!(matches!(
            decide(Units::Auto, 5000.0),
            Err(UnitsError::FitsNone { .. })
        ));
        assert!(matches!(
            decide(Units::Auto, 0.001),
            Err(UnitsError::FitsNone { .. })
        ));
        // 15.2 units: 152 mm in cm, 386 mm in inches; both plausible, neither typical.
        let e = decide(Units::Auto, 15.2).unwrap_err();
        assert!(
            e.to_string().contains("cm (152 mm)") && e.to_string().contains("in (386 mm)"),
            "{e}"
        );
    }

    #[test]
    fn auto_prefers_the_clearly_more_typical_of_two_fits() {
        // a 10.6 inch foot: 106 mm in cm would be tiny, 269 mm in inches is a foot
        let d = decide(Units::Auto, 10.6).unwrap();
        assert_eq!(d.units, Units::In, "{}", d.reason);
        assert!(d.reason.contains("far nearer the typical"), "{}", d.reason);
        // 22 units: 220 mm in cm, 559 mm in inches
        assert_eq!(decide(Units::Auto, 22.0).unwrap().units, Units::Cm);
    }

    #[test]
    fn explicit_units_are_used_as_given() {
        let d = decide(Units::In, 10.0).unwrap();
        assert_eq!((d.units, d.scale), (Units::In, 25.4));
    }
}
