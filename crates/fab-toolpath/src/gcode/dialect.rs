//! G-code dialects of the controllers found in O&P labs, and what each accepts.
//!
//! - `linuxcnc`: rejects unknown words and exponents, and refuses what its interpreter `rs274`
//!   refuses (see `check`); tool change `T.. M6` then `G43 H..`; comments in parentheses, never
//!   nested; `G64 P` path tolerance; lines of at most 252 bytes.
//! - `grbl` (1.1): no tool changer (`M6` is an error), no `O` program numbers, no `G43 H`, no
//!   `G64`; fab writes one program with `M5` + `M0` pauses at tool changes (see `write`).
//! - `fanuc`: `%` at both ends, an `O` program number, `N` line numbers, upper-case comments.
//! - `mach3`: like LinuxCNC for motion, but its arc-centre mode is a setting, so programs state
//!   `G91.1` (incremental I/J); `G64` without `P`; no `%`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A controller dialect.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    LinuxCnc,
    Grbl,
    Fanuc,
    Mach3,
}

/// Error for a dialect name that is none of the four.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("unknown G-code dialect '{0}' (expected linuxcnc, grbl, fanuc or mach3)")]
pub struct UnknownDialect(pub String);

impl FromStr for Dialect {
    type Err = UnknownDialect;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "linuxcnc" => Ok(Dialect::LinuxCnc),
            "grbl" => Ok(Dialect::Grbl),
            "fanuc" => Ok(Dialect::Fanuc),
            "mach3" => Ok(Dialect::Mach3),
            _ => Err(UnknownDialect(s.to_string())),
        }
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Dialect {
    pub const ALL: [Dialect; 4] = [
        Dialect::LinuxCnc,
        Dialect::Grbl,
        Dialect::Fanuc,
        Dialect::Mach3,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Dialect::LinuxCnc => "linuxcnc",
            Dialect::Grbl => "grbl",
            Dialect::Fanuc => "fanuc",
            Dialect::Mach3 => "mach3",
        }
    }

    /// Whether the controller changes tools with `T.. M6`.
    pub fn has_tool_change(self) -> bool {
        !matches!(self, Dialect::Grbl)
    }

    /// Whether `G43 H..` (tool length offset from the table) exists.
    pub fn has_tool_length_offset(self) -> bool {
        !matches!(self, Dialect::Grbl)
    }

    /// Whether programs carry `%` delimiters, an `O` number and `N` line numbers.
    pub fn fanuc_framing(self) -> bool {
        matches!(self, Dialect::Fanuc)
    }

    /// Whether the controller wants comments in upper case.
    pub fn upper_case_comments(self) -> bool {
        matches!(self, Dialect::Fanuc)
    }

    /// Longest line the controller (or its usual sender) takes, bytes; comments are kept
    /// shorter. LinuxCNC refuses a line of more than 252 ("Command too long").
    pub fn max_line_len(self) -> usize {
        match self {
            Dialect::Grbl => 80,
            Dialect::LinuxCnc => 252,
            _ => 254,
        }
    }

    /// The letters this dialect knows as words.
    pub fn known_letters(self) -> &'static str {
        match self {
            // rs274 as the lab runs it (axes X Y Z A B C): U, V and W are refused.
            Dialect::LinuxCnc => "ABCDEFGHIJKLMNOPQRSTXYZ",
            Dialect::Grbl => "FGIJKLMNPRSTXYZ",
            Dialect::Fanuc => "ABCDFGHIJKLMNOPQRSTUVWXYZ",
            Dialect::Mach3 => "ABCDFGHIJKLMNOPQRSTUVWXYZ",
        }
    }

    /// G codes (times 10, so G91.1 is 911) this dialect knows.
    pub fn known_g(self) -> &'static [u32] {
        match self {
            Dialect::Grbl => &[
                0, 10, 20, 30, 40, 100, 170, 180, 190, 200, 210, 280, 281, 300, 301, 382, 383, 384,
                385, 400, 431, 490, 530, 540, 550, 560, 570, 580, 590, 610, 800, 900, 910, 911,
                920, 921, 930, 940,
            ],
            Dialect::LinuxCnc => &[
                0, 10, 20, 30, 40, 50, 51, 52, 70, 80, 100, 170, 180, 190, 200, 210, 280, 281, 300,
                301, 330, 331, 382, 383, 384, 385, 400, 410, 411, 420, 421, 430, 431, 432, 490,
                530, 540, 550, 560, 570, 580, 590, 591, 592, 593, 610, 611, 640, 730, 760, 800,
                810, 820, 830, 840, 850, 860, 870, 880, 890, 900, 901, 910, 911, 920, 921, 922,
                923, 930, 940, 950, 960, 970, 980, 990,
            ],
            Dialect::Fanuc => &[
                0, 10, 20, 30, 40, 90, 100, 170, 180, 190, 200, 210, 280, 300, 400, 410, 420, 430,
                440, 490, 520, 530, 540, 550, 560, 570, 580, 590, 610, 620, 630, 640, 650, 660,
                670, 680, 690, 730, 740, 760, 800, 810, 820, 830, 840, 850, 860, 870, 880, 890,
                900, 910, 920, 930, 940, 950, 960, 970, 980, 990,
            ],
            Dialect::Mach3 => &[
                0, 10, 20, 30, 40, 100, 120, 130, 150, 160, 170, 180, 190, 200, 210, 280, 281, 300,
                310, 400, 410, 420, 430, 490, 500, 510, 520, 530, 540, 550, 560, 570, 580, 590,
                600, 610, 640, 680, 690, 730, 800, 810, 820, 830, 840, 850, 860, 870, 880, 890,
                900, 901, 910, 911, 920, 921, 922, 923, 930, 940, 950, 960, 970, 980, 990,
            ],
        }
    }

    /// M codes this dialect knows.
    pub fn known_m(self) -> &'static [u32] {
        match self {
            Dialect::Grbl => &[0, 1, 2, 3, 4, 5, 7, 8, 9, 30, 56],
            Dialect::LinuxCnc => &[
                0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 19, 30, 48, 49, 50, 51, 52, 53, 60, 61, 62, 63, 64,
                65, 66, 67, 68, 70, 71, 72, 73, 98, 99,
            ],
            Dialect::Fanuc => &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 19, 30, 98, 99],
            Dialect::Mach3 => &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 30, 47, 48, 49, 98, 99],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_is_refused() {
        for d in Dialect::ALL {
            assert_eq!(d.name().parse::<Dialect>().unwrap(), d);
            assert_eq!(d.to_string(), d.name());
        }
        assert_eq!("LinuxCNC".parse::<Dialect>().unwrap(), Dialect::LinuxCnc);
        let e = "haas".parse::<Dialect>().unwrap_err().to_string();
        assert!(e.contains("haas") && e.contains("grbl"), "{e}");
    }

    #[test]
    fn grbl_knows_no_tool_change_and_no_program_number() {
        assert!(!Dialect::Grbl.has_tool_change());
        assert!(!Dialect::Grbl.known_m().contains(&6));
        assert!(!Dialect::Grbl.known_letters().contains('O'));
        assert!(Dialect::LinuxCnc.known_m().contains(&6));
    }
}
