//! # fab-toolpath: cutters, drop-cutter, milling strategies and G-code
//!
//! Takes a design surface as a triangle soup (in mm, machine frame) and produces what a CNC router
//! runs: the exact drop-cutter CL surface for ball, flat and bull-nose cutters (`cutter`, `drop`),
//! fields and level lines on a grid (`contour`), roughing, finishing, waterline and profile
//! strategies (`strategy`), linking, and G-code in the dialect of
//! the lab's controller (`gcode`); rotary carving (A about X) of socket positives with the exact
//! radial drop-cutter (`rotary`, written by `gcode::rotary`), plus a parser and checker for programs (`gcode::parse`).
//!
//! It knows nothing of meshes' repair or of prescriptions: the `fab` binary composes it with
//! `fab-geometry` and `fab-ticket`.

pub mod contour;
pub mod cutter;
pub mod drop;
pub mod estimate;
pub mod gcode;
pub mod link;
pub mod machine;
pub mod path;
pub mod rotary;
pub mod simplify;
pub mod strategy;

pub use cutter::{Cutter, CutterError};
pub use drop::{DropIndex, Grid, drop_grid};
pub use estimate::estimate_time;
pub use gcode::{
    Blank, Dialect, GcodeError, ProgramFile, ProgramHeader, check_moves, check_travel,
    write_program,
};
pub use machine::{Machine, MachineError, ToolEntry};
pub use path::{Move, Operation, Tool};
