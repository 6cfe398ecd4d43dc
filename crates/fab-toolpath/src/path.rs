//! What strategies produce and G-code writers consume: operations, each one tool and a sequence
//! of moves of the tool tip in the machine frame (mm, mm/min).

use serde::{Deserialize, Serialize};

use crate::cutter::Cutter;

/// One motion of the tool tip.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Move {
    /// Rapid (G0) to a point; only ever above the clearance plane or straight up/down to it.
    Rapid([f64; 3]),
    /// Straight cutting move (G1) at `feed` mm/min.
    Feed { to: [f64; 3], feed: f64 },
    /// Circular (or helical, Z changing linearly) move in the XY plane (G2 clockwise, G3
    /// counter-clockwise seen from +Z) about `center` (absolute XY), at `feed` mm/min.
    Arc {
        to: [f64; 3],
        center: [f64; 2],
        ccw: bool,
        feed: f64,
    },
}

impl Move {
    pub fn end(&self) -> [f64; 3] {
        match *self {
            Move::Rapid(p) => p,
            Move::Feed { to, .. } | Move::Arc { to, .. } => to,
        }
    }
}

/// A tool as loaded in the machine: its pocket number and shape.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tool {
    pub number: u32,
    pub cutter: Cutter,
}

/// One strategy's output: a tool, its spindle speed and its moves, in order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Operation {
    /// Short name for comments and the setup sheet, e.g. "roughing", "finishing", "profile".
    pub name: String,
    pub tool: Tool,
    pub spindle_rpm: f64,
    pub moves: Vec<Move>,
}
