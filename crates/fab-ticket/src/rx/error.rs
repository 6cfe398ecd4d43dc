//! [`RxError`]: where a prescription is wrong, what was found there and what was expected.

/// What kind of mistake an [`RxError`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RxErrorKind {
    /// The line is not `key: value`, or a value does not have the expected shape.
    Syntax,
    /// The first line is not `rx: foot-orthotic` / `rx: transtibial-socket`.
    Header,
    /// A key no Rx has (the message names the nearest valid key).
    UnknownKey,
    /// A key of the other device kind.
    WrongDevice,
    /// A key given twice that may appear once.
    Repeated,
    /// A required key is absent.
    Missing,
    /// A `left.`/`right.` override without `side: bilateral`, or on a key that has none.
    Override,
    /// A quantity without its unit, or with the wrong unit.
    Unit,
    /// A number outside its range.
    OutOfRange,
    /// A value the key does not take (not one of its words, a bad date...).
    BadValue,
    /// The JSON form could not be read.
    Json,
}

/// A prescription error. `Display` is one line: `line L, column C: message`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct RxError {
    pub kind: RxErrorKind,
    /// 1-based line number.
    pub line: usize,
    /// 1-based column (in characters).
    pub column: usize,
    /// What was found there (`end of line` when nothing was).
    pub found: String,
    /// What was expected there.
    pub expected: String,
    /// The full message (without the position).
    pub message: String,
}

impl RxError {
    pub(crate) fn new(
        kind: RxErrorKind,
        line: usize,
        column: usize,
        found: impl Into<String>,
        expected: impl Into<String>,
        message: String,
    ) -> RxError {
        RxError {
            kind,
            line,
            column,
            found: found.into(),
            expected: expected.into(),
            message,
        }
    }
}
