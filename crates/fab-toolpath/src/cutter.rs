//! Cutter shapes: ball, flat and bull-nose end mills, all described by a diameter and a corner
//! radius (ball: corner radius = diameter / 2; flat: 0). Spec strings as on the command line:
//! `ball:6`, `flat:10`, `bull:12:2` (diameter, corner radius, mm).

use serde::{Deserialize, Serialize};

/// A rotationally symmetric end mill. Z of a cutter location is its tip (lowest point).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Cutter {
    Ball { diameter: f64 },
    Flat { diameter: f64 },
    Bull { diameter: f64, corner_radius: f64 },
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
}
