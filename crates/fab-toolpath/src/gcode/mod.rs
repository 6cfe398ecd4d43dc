//! G-code: writing programs in a controller's dialect (`write`), reading them back with nom
//! (`parse`), checking them against a dialect and a machine (`check`), and simulating the carve
//! on a height map to compare it with the design (`sim`).

pub mod check;
pub mod dialect;
pub mod number;
pub mod parse;
pub mod rotary;
pub mod sim;
pub mod write;

pub use check::{
    CheckOptions, CheckReport, Finding, MoveKind, PlayedMove, Severity, check_program,
};
pub use dialect::{Dialect, UnknownDialect};
pub use parse::{ParseError, parse_program};
pub use rotary::{RotaryHeader, check_rotary, estimate_rotary, write_rotary_program};
pub use sim::{CarveReport, SimError, SimOptions, simulate_carve};
pub use write::{Blank, ProgramFile, ProgramHeader, check_moves, check_travel, write_program};

/// Why a program could not be written: the operations ask for something the machine cannot do
/// or the header carries something that may not go into a program.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GcodeError {
    #[error("no operation has any move: nothing to write")]
    Empty,
    #[error(
        "operation '{op}', move {index}: {axis} = {value:.3} mm in the program is {machine_value:.3} mm on the machine, outside {machine}'s travel {min:.3}..{max:.3} mm"
    )]
    OutOfTravel {
        op: String,
        index: usize,
        axis: char,
        value: f64,
        machine_value: f64,
        min: f64,
        max: f64,
        machine: String,
    },
    #[error(
        "operation '{op}', move {index}: Z = {z:.3} mm goes {depth:.3} mm below the bottom of the blank (the table; at most {allowed:.3} mm allowed)"
    )]
    BelowTable {
        op: String,
        index: usize,
        z: f64,
        depth: f64,
        allowed: f64,
    },
    #[error(
        "operation '{op}', move {index}: feed {feed:.1} mm/min is above {machine}'s limit of {max:.1} mm/min"
    )]
    FeedTooHigh {
        op: String,
        index: usize,
        feed: f64,
        max: f64,
        machine: String,
    },
    #[error("operation '{op}', move {index}: feed must be a positive number of mm/min, got {feed}")]
    BadFeed { op: String, index: usize, feed: f64 },
    #[error("operation '{op}': spindle {rpm:.0} rpm is outside {machine}'s range 1..{max:.0} rpm")]
    Spindle {
        op: String,
        rpm: f64,
        max: f64,
        machine: String,
    },
    #[error("operation '{op}', move {index}: coordinate is not a finite number")]
    NonFinite { op: String, index: usize },
    #[error("operation '{op}', move {index}: bad arc: {message}")]
    BadArc {
        op: String,
        index: usize,
        message: String,
    },
    #[error(
        "operation '{op}': tool T{number} is {wanted} but {machine}'s tool table has {table} in that pocket"
    )]
    ToolMismatch {
        op: String,
        number: u32,
        wanted: String,
        table: String,
        machine: String,
    },
    #[error("program header: {0}")]
    Header(String),
}
