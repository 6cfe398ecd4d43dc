//! Rotary carving (4 axes, A about X): socket positives on a carver.
//!
//! The blank is a cylinder turning about the machine's X axis; a vertical ball-nose tool moves
//! along X and in Z over the axis (Y = 0). Program coordinates: X along the axis from the chuck's
//! face, Y and Z zero on the axis; the design is the part at A = 0 in those coordinates, and at
//! angle A a design point `p` sits at `Rx(A) p` (right-hand rule about +X).
//!
//! Layers, as for the router: `radial` is the exact radial drop-cutter (the ball's centre on a
//! ray from the axis), `helix` makes one helical pass from it, `passes` turns a design into
//! roughing levels and a finishing helix as `RotaryOp`s, which `gcode::rotary` writes in inverse
//! time (G93) and checks against the carver.

pub mod helix;
pub mod passes;
pub mod radial;

pub use helix::{HelixError, HelixParams, HelixPoint, helix};
pub use passes::{CarveParams, CarvePlan, carve};
pub use radial::RadialIndex;

use crate::path::Tool;

/// One motion of a rotary program, the tool tip in program coordinates (Y = 0 throughout).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum RotaryMove {
    /// Rapid (G0) in X and Z, A unchanged; only clear of the blank, or straight out to it.
    Rapid { x: f64, z: f64 },
    /// Cutting move (G1) to X, Z and A (degrees) taking `minutes` (inverse time, G93).
    Feed {
        x: f64,
        z: f64,
        a: f64,
        minutes: f64,
    },
    /// The controller's A count set to `a` (G92), the part not turning: only clear of the blank.
    ResetA { a: f64 },
}

/// One operation of a rotary program: a ball-nose tool and its moves.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RotaryOp {
    /// "roughing", "finishing".
    pub name: String,
    pub tool: Tool,
    pub spindle_rpm: f64,
    /// Surface speed asked for, mm/min (each move's time keeps to it).
    pub feed: f64,
    pub moves: Vec<RotaryMove>,
}

impl RotaryOp {
    /// Nominal time of the operation's cutting moves, minutes.
    pub fn cutting_minutes(&self) -> f64 {
        self.moves
            .iter()
            .map(|m| match m {
                RotaryMove::Feed { minutes, .. } => *minutes,
                _ => 0.0,
            })
            .sum()
    }
}
