//! Structured mutations of a parser's input for the fuzz tests of each crate (included with
//! `#[path]`): bytes flipped, inserted, deleted, repeated or cut off, lines dropped, repeated or
//! swapped, and numbers replaced by the ones parsers get wrong (NaN, infinities, huge counts,
//! negative zero, 2^32, fractions where whole numbers belong). Plus a driver that runs a
//! property over a fixed number of cases and fails on a panic or on one case that takes too long.
#![allow(dead_code)]

use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

/// Numbers and words that break parsers, put in place of a number of the input.
pub const SPECIAL: &[&str] = &[
    "nan",
    "NaN",
    "inf",
    "-inf",
    "1e309",
    "-1e309",
    "1e-320",
    "1e300",
    "-0",
    "0",
    "-1",
    "4294967295",
    "4294967296",
    "18446744073709551616",
    "9223372036854775807",
    "-9223372036854775808",
    "2.5",
    "0x10",
    "1e20",
    "",
    "\"",
    "[",
    "]]",
    "=",
    "#",
    "%",
    "(",
    ";",
    "\u{e9}",
    "\u{0}",
];

/// One edit of the input; positions are fractions of its length, so one edit fits any input.
#[derive(Clone, Debug)]
pub enum Edit {
    Flip { at: u32, byte: u8 },
    Insert { at: u32, bytes: Vec<u8> },
    Delete { at: u32, len: u16 },
    Repeat { at: u32, len: u16, times: u8 },
    Truncate { at: u32 },
    Number { nth: u32, with: usize },
    DropLine { nth: u32 },
    RepeatLine { nth: u32, times: u8 },
    SwapLines { a: u32, b: u32 },
}

pub fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<u32>(), any::<u8>()).prop_map(|(at, byte)| Edit::Flip { at, byte }),
        (any::<u32>(), prop::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(at, bytes)| Edit::Insert { at, bytes }),
        (any::<u32>(), 1u16..512).prop_map(|(at, len)| Edit::Delete { at, len }),
        (any::<u32>(), 1u16..256, 2u8..8).prop_map(|(at, len, times)| Edit::Repeat {
            at,
            len,
            times
        }),
        any::<u32>().prop_map(|at| Edit::Truncate { at }),
        (any::<u32>(), 0..SPECIAL.len()).prop_map(|(nth, with)| Edit::Number { nth, with }),
        (any::<u32>(), 0..SPECIAL.len()).prop_map(|(nth, with)| Edit::Number { nth, with }),
        any::<u32>().prop_map(|nth| Edit::DropLine { nth }),
        (any::<u32>(), 2u8..6).prop_map(|(nth, times)| Edit::RepeatLine { nth, times }),
        (any::<u32>(), any::<u32>()).prop_map(|(a, b)| Edit::SwapLines { a, b }),
    ]
}

/// `frac` (of `u32::MAX`) of `n`, in `0..=n`.
fn at(frac: u32, n: usize) -> usize {
    ((frac as u64 * n as u64) / u32::MAX as u64) as usize
}

/// Byte ranges of the lines of `b` (without their `\n`).
fn lines(b: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, &c) in b.iter().enumerate() {
        if c == b'\n' {
            out.push((start, i));
            start = i + 1;
        }
    }
    if start < b.len() {
        out.push((start, b.len()));
    }
    out
}

/// Byte ranges of the numbers of `b` (an optional sign, digits, `.`, an exponent).
fn numbers(b: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() {
            let mut s = i;
            if s > 0 && (b[s - 1] == b'-' || b[s - 1] == b'+') {
                s -= 1;
            }
            let mut e = i;
            while e < b.len()
                && (b[e].is_ascii_digit()
                    || b[e] == b'.'
                    || ((b[e] == b'e' || b[e] == b'E')
                        && e + 1 < b.len()
                        && (b[e + 1].is_ascii_digit() || b[e + 1] == b'-')))
            {
                e += 1;
                if e < b.len() && (b[e - 1] == b'e' || b[e - 1] == b'E') && b[e] == b'-' {
                    e += 1;
                }
            }
            out.push((s, e));
            i = e.max(i + 1);
        } else {
            i += 1;
        }
    }
    out
}

/// Applies `edits` to `input` in turn.
pub fn apply(input: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut b = input.to_vec();
    for e in edits {
        let n = b.len();
        match e {
            Edit::Flip { at: f, byte } => {
                if n > 0 {
                    let i = at(*f, n - 1);
                    b[i] = *byte;
                }
            }
            Edit::Insert { at: f, bytes } => {
                let i = at(*f, n);
                b.splice(i..i, bytes.iter().copied());
            }
            Edit::Delete { at: f, len } => {
                let i = at(*f, n);
                let j = (i + *len as usize).min(n);
                b.drain(i..j);
            }
            Edit::Repeat { at: f, len, times } => {
                let i = at(*f, n);
                let j = (i + *len as usize).min(n);
                let piece = b[i..j].to_vec();
                for _ in 1..*times {
                    b.splice(j..j, piece.iter().copied());
                }
            }
            Edit::Truncate { at: f } => b.truncate(at(*f, n)),
            Edit::Number { nth, with } => {
                let nums = numbers(&b);
                if !nums.is_empty() {
                    let (s, e) = nums[at(*nth, nums.len() - 1)];
                    b.splice(s..e, SPECIAL[*with].bytes());
                }
            }
            Edit::DropLine { nth } => {
                let ls = lines(&b);
                if !ls.is_empty() {
                    let (s, e) = ls[at(*nth, ls.len() - 1)];
                    b.drain(s..(e + 1).min(n));
                }
            }
            Edit::RepeatLine { nth, times } => {
                let ls = lines(&b);
                if !ls.is_empty() {
                    let (s, e) = ls[at(*nth, ls.len() - 1)];
                    let mut piece = b[s..e].to_vec();
                    piece.push(b'\n');
                    let end = (e + 1).min(n);
                    for _ in 1..*times {
                        b.splice(end..end, piece.iter().copied());
                    }
                }
            }
            Edit::SwapLines { a, b: c } => {
                let ls = lines(&b);
                if ls.len() >= 2 {
                    let (x, y) = (at(*a, ls.len() - 1), at(*c, ls.len() - 1));
                    let (x, y) = (x.min(y), x.max(y));
                    if x != y {
                        let (l1, l2) = (ls[x], ls[y]);
                        let mut out = b[..l1.0].to_vec();
                        out.extend_from_slice(&b[l2.0..l2.1]);
                        out.extend_from_slice(&b[l1.1..l2.0]);
                        out.extend_from_slice(&b[l1.0..l1.1]);
                        out.extend_from_slice(&b[l2.1..]);
                        b = out;
                    }
                }
            }
        }
    }
    b
}

/// A seed (by index into `seeds`) and 1 to 6 edits of it.
pub fn mutated(seeds: usize) -> impl Strategy<Value = (usize, Vec<Edit>)> {
    (0..seeds, prop::collection::vec(edit(), 1..6))
}

/// Arbitrary bytes, bare or after a prefix that makes a parser take them for its format.
pub fn arbitrary(prefixes: &'static [&'static str]) -> impl Strategy<Value = Vec<u8>> {
    (
        0..prefixes.len() + 1,
        prop::collection::vec(any::<u8>(), 0..1024),
    )
        .prop_map(move |(k, tail)| {
            let mut b = prefixes
                .get(k)
                .map_or(Vec::new(), |p| p.as_bytes().to_vec());
            b.extend(tail);
            b
        })
}

/// Arbitrary printable lines (with the characters parsers split on), for text formats.
pub fn arbitrary_lines() -> impl Strategy<Value = String> {
    prop::collection::vec("[ -~\t\u{e9}]{0,60}", 0..12).prop_map(|l| l.join("\n"))
}

/// Runs `check` on `cases` values of `strategy`: fails on a panic (proptest reports it with the
/// smallest input it finds) or on one case that takes longer than `slow`.
pub fn run<S: Strategy>(
    name: &str,
    cases: u32,
    slow: Duration,
    strategy: S,
    check: impl Fn(S::Value),
) where
    S::Value: std::fmt::Debug,
{
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        // a failing case is shrunk for at most 20 s
        max_shrink_time: 20_000,
        ..Config::default()
    });
    let started = Instant::now();
    let result = runner.run(&strategy, |v| {
        let t = Instant::now();
        check(v);
        if t.elapsed() > slow {
            return Err(TestCaseError::fail(format!(
                "one case took {:?} (more than {slow:?})",
                t.elapsed()
            )));
        }
        Ok(())
    });
    eprintln!("{name}: {cases} cases in {:.2?}", started.elapsed());
    if let Err(e) = result {
        panic!("{name}: {e}");
    }
}
