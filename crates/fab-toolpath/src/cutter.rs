//! Cutter shapes: ball, flat and bull-nose end mills, all described by a diameter and a corner
//! radius (ball: corner radius = diameter / 2; flat: 0). Spec strings as on the command line:
//! `ball:6`, `flat:10`, `bull:12:2` (diameter, corner radius, mm).
//!
//! Every cutter is a torus-ended cylinder: a flat disk of radius `R - r` at the tip, rounded by a
//! corner of radius `r` out to the full radius `R` (`r = R` for a ball, `r = 0` for a flat end).
//! [`Cutter::height_at`] is the height of the cutter's surface above its tip at a distance from
//! its axis, the profile every drop-cutter contact is computed from.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Largest diameter accepted in a spec (mm): larger is certainly a typo for this lab's routers.
pub const MAX_DIAMETER_MM: f64 = 100.0;
/// Smallest diameter accepted (mm): the finest engraving bits; smaller is a typo (and a grid or
/// a scallop computed for it would be absurd).
pub const MIN_DIAMETER_MM: f64 = 0.1;
/// Smallest corner radius of a bull-nose cutter (mm); a sharper corner is a flat end mill.
pub const MIN_CORNER_RADIUS_MM: f64 = 0.01;

/// A rotationally symmetric end mill. Z of a cutter location is its tip (lowest point).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Cutter {
    Ball { diameter: f64 },
    Flat { diameter: f64 },
    Bull { diameter: f64, corner_radius: f64 },
}

/// Why a cutter spec or cutter is not usable.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CutterError {
    #[error("empty tool spec: expected KIND:DIAMETER[:CORNER], e.g. ball:6, flat:10, bull:12:2")]
    Empty,
    #[error("unknown cutter kind '{0}' in tool spec: expected ball, flat or bull (e.g. ball:6)")]
    UnknownKind(String),
    #[error("tool spec '{spec}': {what} '{found}' is not a number of millimetres")]
    NotANumber {
        spec: String,
        what: &'static str,
        found: String,
    },
    #[error("tool spec '{spec}': expected {expected}")]
    WrongArity {
        spec: String,
        expected: &'static str,
    },
    #[error(
        "cutter diameter {0:?} mm is out of range: expected {MIN_DIAMETER_MM} to {MAX_DIAMETER_MM} mm"
    )]
    Diameter(f64),
    #[error(
        "corner radius {corner_radius} mm is out of range for a {diameter} mm bull-nose cutter: expected at least {MIN_CORNER_RADIUS_MM} mm and at most half the diameter ({} mm)",
        diameter / 2.0
    )]
    CornerRadius { diameter: f64, corner_radius: f64 },
}

impl Cutter {
    pub fn diameter(&self) -> f64 {
        match *self {
            Cutter::Ball { diameter }
            | Cutter::Flat { diameter }
            | Cutter::Bull { diameter, .. } => diameter,
        }
    }

    pub fn radius(&self) -> f64 {
        self.diameter() / 2.0
    }

    /// Radius of the torus tube (ball: the radius; flat: 0).
    pub fn corner_radius(&self) -> f64 {
        match *self {
            Cutter::Ball { diameter } => diameter / 2.0,
            Cutter::Flat { .. } => 0.0,
            Cutter::Bull { corner_radius, .. } => corner_radius,
        }
    }

    /// Radius of the flat part of the tip (`radius - corner_radius`): 0 for a ball.
    pub fn flat_radius(&self) -> f64 {
        self.radius() - self.corner_radius()
    }

    /// Checks the dimensions: a diameter in [[`MIN_DIAMETER_MM`], [`MAX_DIAMETER_MM`]], and for a
    /// bull-nose a corner radius in [[`MIN_CORNER_RADIUS_MM`], diameter / 2].
    pub fn validate(&self) -> Result<(), CutterError> {
        let d = self.diameter();
        if !(d.is_finite() && (MIN_DIAMETER_MM..=MAX_DIAMETER_MM).contains(&d)) {
            return Err(CutterError::Diameter(d));
        }
        if let Cutter::Bull {
            diameter,
            corner_radius,
        } = *self
            && !(corner_radius.is_finite()
                && corner_radius >= MIN_CORNER_RADIUS_MM
                && corner_radius <= diameter / 2.0)
        {
            return Err(CutterError::CornerRadius {
                diameter,
                corner_radius,
            });
        }
        Ok(())
    }

    /// Height of the cutter surface above its tip at horizontal distance `rho` from its axis
    /// (`rho <= radius`): 0 on the flat part, then the corner's circular arc.
    #[inline]
    pub fn height_at(&self, rho: f64) -> f64 {
        let r = self.corner_radius();
        let w = rho - (self.radius() - r);
        if w <= 0.0 {
            0.0
        } else {
            r - (r * r - w * w).max(0.0).sqrt()
        }
    }
}

fn number(spec: &str, what: &'static str, s: &str) -> Result<f64, CutterError> {
    let s = s.trim();
    let s = s.strip_suffix("mm").unwrap_or(s).trim_end();
    s.parse::<f64>().map_err(|_| CutterError::NotANumber {
        spec: spec.to_string(),
        what,
        found: s.to_string(),
    })
}

impl FromStr for Cutter {
    type Err = CutterError;

    /// Parses `ball:D`, `flat:D` or `bull:D:CR` (mm; case-insensitive kind) and validates it.
    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let spec = spec.trim();
        if spec.is_empty() {
            return Err(CutterError::Empty);
        }
        let parts: Vec<&str> = spec.split(':').collect();
        let kind = parts[0].trim().to_ascii_lowercase();
        let cutter = match kind.as_str() {
            "ball" | "flat" => {
                if parts.len() != 2 {
                    return Err(CutterError::WrongArity {
                        spec: spec.to_string(),
                        expected: "KIND:DIAMETER for ball and flat cutters, e.g. ball:6",
                    });
                }
                let diameter = number(spec, "diameter", parts[1])?;
                if kind == "ball" {
                    Cutter::Ball { diameter }
                } else {
                    Cutter::Flat { diameter }
                }
            }
            "bull" => {
                if parts.len() != 3 {
                    return Err(CutterError::WrongArity {
                        spec: spec.to_string(),
                        expected: "bull:DIAMETER:CORNER_RADIUS, e.g. bull:12:2",
                    });
                }
                Cutter::Bull {
                    diameter: number(spec, "diameter", parts[1])?,
                    corner_radius: number(spec, "corner radius", parts[2])?,
                }
            }
            _ => return Err(CutterError::UnknownKind(parts[0].trim().to_string())),
        };
        cutter.validate()?;
        Ok(cutter)
    }
}

impl fmt::Display for Cutter {
    /// The spec form, which [`Cutter::from_str`] reads back: `ball:6`, `flat:10`, `bull:12:2`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Cutter::Ball { diameter } => write!(f, "ball:{diameter}"),
            Cutter::Flat { diameter } => write!(f, "flat:{diameter}"),
            Cutter::Bull {
                diameter,
                corner_radius,
            } => write!(f, "bull:{diameter}:{corner_radius}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_kinds() {
        assert_eq!("ball:6".parse(), Ok(Cutter::Ball { diameter: 6.0 }));
        assert_eq!(" FLAT:10 ".parse(), Ok(Cutter::Flat { diameter: 10.0 }));
        assert_eq!(
            "bull:12:2".parse(),
            Ok(Cutter::Bull {
                diameter: 12.0,
                corner_radius: 2.0
            })
        );
        assert_eq!("ball:6.35mm".parse(), Ok(Cutter::Ball { diameter: 6.35 }));
    }

    #[test]
    fn display_round_trips() {
        for s in ["ball:6", "flat:10", "bull:12:2", "ball:6.35"] {
            let c: Cutter = s.parse().unwrap();
            assert_eq!(c.to_string(), s);
            assert_eq!(c.to_string().parse::<Cutter>(), Ok(c));
        }
    }

    #[test]
    fn bad_specs_say_what_is_wrong() {
        let err = |s: &str| s.parse::<Cutter>().unwrap_err().to_string();
        assert!(err("").contains("empty tool spec"));
        assert!(err("drill:6").contains("unknown cutter kind 'drill'"));
        assert!(err("ball:six").contains("diameter 'six' is not a number"));
        assert!(err("ball").contains("KIND:DIAMETER"));
        assert!(err("ball:6:1").contains("KIND:DIAMETER"));
        assert!(err("bull:12").contains("bull:DIAMETER:CORNER_RADIUS"));
        assert!(err("ball:0").contains("out of range"));
        assert!(err("ball:-3").contains("out of range"));
        assert!(err("ball:NaN").contains("out of range"));
        assert!(err("flat:inf").contains("out of range"));
        assert!(err("bull:12:7").contains("at most half the diameter (6 mm)"));
        assert!(err("bull:12:0").contains("corner radius 0 mm is out of range"));
        assert!(err("bull:12:x").contains("corner radius 'x'"));
        assert!(err("ball:0.05").contains("expected 0.1 to 100 mm"));
        assert!(err("ball:1e-300").contains("diameter 1e-300 mm"));
        assert!(err("bull:12:0.001").contains("at least 0.01 mm"));
    }

    #[test]
    fn profile_heights() {
        let ball = Cutter::Ball { diameter: 6.0 };
        assert_eq!(ball.height_at(0.0), 0.0);
        assert!((ball.height_at(3.0) - 3.0).abs() < 1e-12);
        assert!((ball.height_at(1.5) - (3.0 - (9.0f64 - 2.25).sqrt())).abs() < 1e-12);
        let flat = Cutter::Flat { diameter: 10.0 };
        assert_eq!(flat.height_at(5.0), 0.0);
        let bull = Cutter::Bull {
            diameter: 12.0,
            corner_radius: 2.0,
        };
        assert_eq!(bull.height_at(4.0), 0.0);
        assert!((bull.height_at(6.0) - 2.0).abs() < 1e-12);
        assert!((bull.height_at(5.0) - (2.0 - 3.0f64.sqrt())).abs() < 1e-12);
    }
}
