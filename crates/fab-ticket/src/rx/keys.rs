//! The keys an Rx may carry, per device kind, and the nearest-key suggestion for typos.

use super::DeviceKind;

/// Keys of every Rx (besides `rx` itself).
pub const COMMON_KEYS: &[&str] = &[
    "patient",
    "practitioner",
    "clinic",
    "date",
    "due",
    "side",
    "notes",
];

/// foot-orthotic keys (each may also be given as `left.<key>` / `right.<key>`).
pub const FOOT_KEYS: &[&str] = &[
    "shell",
    "heel-cup",
    "arch-fill",
    "medial-flange",
    "lateral-flange",
    "rearfoot-post",
    "forefoot-post",
    "met-pad",
    "extension",
    "top-cover",
    "heel-lift",
];

/// transtibial-socket keys.
pub const SOCKET_KEYS: &[&str] = &[
    "design",
    "liner",
    "scan",
    "suspension",
    "reduction",
    "relief",
    "load",
    "landmark",
    "socket",
    "material",
    "trimline",
];

/// Keys that may appear more than once.
pub(crate) const REPEATABLE: &[&str] = &["notes", "relief", "load", "landmark"];

/// The device kind whose own keys include `key`, if any.
pub(crate) fn device_of(key: &str) -> Option<DeviceKind> {
    if FOOT_KEYS.contains(&key) {
        Some(DeviceKind::FootOrthotic)
    } else if SOCKET_KEYS.contains(&key) {
        Some(DeviceKind::TranstibialSocket)
    } else {
        None
    }
}

/// The valid key nearest to `key` (Levenshtein distance) among the keys of `kind`.
pub(crate) fn nearest(key: &str, kind: DeviceKind) -> &'static str {
    let own = match kind {
        DeviceKind::FootOrthotic => FOOT_KEYS,
        DeviceKind::TranstibialSocket => SOCKET_KEYS,
    };
    COMMON_KEYS
        .iter()
        .chain(own)
        .min_by_key(|k| strsim::levenshtein(key, k))
        .copied()
        .unwrap_or("patient")
}
