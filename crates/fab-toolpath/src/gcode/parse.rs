//! Reads G-code text into lines of words and comments, with nom.
//!
//! Syntax accepted (the common ground of LinuxCNC, GRBL, Fanuc and Mach3): an optional `/`
//! block-delete, words of one letter and a decimal number (`X-12.5`, `g1`, `N10`, `O1000`),
//! comments in parentheses (never nested) and after `;`, `%` lines. Exponents (`X1e3`),
//! parameters and expressions (`#1`, `[..]`) are refused. Every error names its line and column
//! (1-based), what was found and what was expected.

use nom::branch::alt;
use nom::bytes::complete::take_while;
use nom::character::complete::{char, digit0, digit1, one_of, satisfy, space0};
use nom::combinator::opt;
use nom::sequence::{delimited, pair, preceded};
use nom::{IResult, Parser};

/// One word: a letter and its number.
#[derive(Clone, Debug, PartialEq)]
pub struct Word {
    /// Upper case.
    pub letter: char,
    pub value: f64,
    /// The number as written (to tell `10` from `10.`).
    pub raw: String,
    /// 1-based column of the letter.
    pub col: usize,
}

/// A comment (without its delimiters).
#[derive(Clone, Debug, PartialEq)]
pub struct Comment {
    pub text: String,
    pub col: usize,
}

/// One line of a program.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Line {
    /// 1-based line number in the file.
    pub line: usize,
    pub block_delete: bool,
    /// A `%` line (program delimiter).
    pub percent: bool,
    pub words: Vec<Word>,
    pub comments: Vec<Comment>,
}

impl Line {
    /// The value of the first word with `letter`.
    pub fn get(&self, letter: char) -> Option<&Word> {
        self.words.iter().find(|w| w.letter == letter)
    }
}

/// A syntax error, with where it is.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("line {line}, column {col}: {message}")]
pub struct ParseError {
    pub line: usize,
    pub col: usize,
    pub message: String,
}

/// The largest magnitude a G-code value may have: far beyond any machine's travel (mm or inch),
/// feed or spindle speed, yet small enough that lengths and run times stay finite.
pub const MAX_VALUE: f64 = 1e9;

fn number(i: &str) -> IResult<&str, &str> {
    let (rest, _) = (
        opt(one_of("+-")),
        alt((
            pair(digit1, opt(pair(char('.'), digit0))).map(|_| ()),
            pair(char('.'), digit1).map(|_| ()),
        )),
    )
        .parse(i)?;
    Ok((rest, &i[..i.len() - rest.len()]))
}

fn paren_comment(i: &str) -> IResult<&str, &str> {
    delimited(char('('), take_while(|c| c != '(' && c != ')'), char(')')).parse(i)
}

fn word(i: &str) -> IResult<&str, (char, &str)> {
    (
        satisfy(|c| c.is_ascii_alphabetic()),
        preceded(space0, number),
    )
        .parse(i)
}

fn shown(rest: &str) -> String {
    if rest.is_empty() {
        "the end of the line".to_string()
    } else {
        let s: String = rest.chars().take(12).collect();
        format!("'{s}'")
    }
}

/// Parses one line (`n` is its 1-based number).
pub fn parse_line(text: &str, n: usize) -> Result<Line, ParseError> {
    let text = text.strip_suffix('\r').unwrap_or(text);
    let col = |rest: &str| text.len() - rest.len() + 1;
    let err = |rest: &str, message: String| ParseError {
        line: n,
        col: col(rest),
        message,
    };
    let mut line = Line {
        line: n,
        ..Line::default()
    };
    let mut rest = text.trim_start();
    if let Some(r) = rest.strip_prefix('/') {
        line.block_delete = true;
        rest = r;
    }
    if rest.trim_end() == "%" {
        line.percent = true;
        return Ok(line);
    }
    loop {
        rest = rest.trim_start();
        let Some(c) = rest.chars().next() else { break };
        match c {
            '(' => match paren_comment(rest) {
                Ok((r, body)) => {
                    line.comments.push(Comment {
                        text: body.to_string(),
                        col: col(rest),
                    });
                    rest = r;
                }
                Err(_) => {
                    let body = &rest[1..];
                    return Err(match body.find(['(', ')']) {
                        Some(k) if body.as_bytes()[k] == b'(' => err(
                            &body[k..],
                            "nested comment: '(' inside a comment (close the first with ')')"
                                .into(),
                        ),
                        _ => err(rest, "comment opened with '(' is never closed".into()),
                    });
                }
            },
            ';' => {
                line.comments.push(Comment {
                    text: rest[1..].trim().to_string(),
                    col: col(rest),
                });
                break;
            }
            '#' | '[' => {
                return Err(err(
                    rest,
                    format!(
                        "expected a word such as G1 or X10.5, found {}: parameters and expressions are not supported",
                        shown(rest)
                    ),
                ));
            }
            c if c.is_ascii_alphabetic() => match word(rest) {
                Ok((r, (letter, num))) => {
                    if let Some(e) = r.strip_prefix(['e', 'E'])
                        && e.starts_with(|c: char| c.is_ascii_digit() || c == '+' || c == '-')
                    {
                        return Err(err(
                            r,
                            format!(
                                "exponent in a number ('{}{}'): G-code wants plain decimals",
                                num,
                                &r[..1 + e
                                    .find(|c: char| !(c.is_ascii_digit() || c == '+' || c == '-'))
                                    .unwrap_or(e.len())]
                            ),
                        ));
                    }
                    let value: f64 = num
                        .parse()
                        .map_err(|_| err(rest, format!("bad number '{num}'")))?;
                    if !value.is_finite() || value.abs() >= MAX_VALUE {
                        return Err(err(
                            &rest[1..],
                            format!(
                                "number too large after '{}' ({} digits): no machine moves, feeds or turns that far (at most {MAX_VALUE:e})",
                                letter.to_ascii_uppercase(),
                                num.bytes().filter(u8::is_ascii_digit).count()
                            ),
                        ));
                    }
                    line.words.push(Word {
                        letter: letter.to_ascii_uppercase(),
                        value,
                        raw: num.to_string(),
                        col: col(rest),
                    });
                    rest = r;
                }
                Err(_) => {
                    let after = &rest[1..];
                    return Err(err(
                        after,
                        format!(
                            "expected a number after '{}', found {}",
                            c.to_ascii_uppercase(),
                            shown(after.trim_start())
                        ),
                    ));
                }
            },
            '%' => {
                return Err(err(rest, "'%' must stand on a line of its own".into()));
            }
            _ => {
                return Err(err(
                    rest,
                    format!("expected a word such as G1 or X10.5, found {}", shown(rest)),
                ));
            }
        }
    }
    Ok(line)
}

/// Parses a whole program; stops at the first syntax error.
pub fn parse_program(text: &str) -> Result<Vec<Line>, ParseError> {
    text.split('\n')
        .enumerate()
        .map(|(k, l)| parse_line(l, k + 1))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_comments_and_numbers() {
        let l = parse_line("N20 g1 X-12.5 y.5 Z 3. F1500 (cut) ; rest", 7).unwrap();
        let w: Vec<(char, f64)> = l.words.iter().map(|w| (w.letter, w.value)).collect();
        assert_eq!(
            w,
            [
                ('N', 20.0),
                ('G', 1.0),
                ('X', -12.5),
                ('Y', 0.5),
                ('Z', 3.0),
                ('F', 1500.0)
            ]
        );
        assert_eq!(l.words[2].col, 8);
        assert_eq!(l.words[4].raw, "3.");
        assert_eq!(l.comments[0].text, "cut");
        assert_eq!(l.comments[1].text, "rest");
        assert!(parse_line("%", 1).unwrap().percent);
        assert!(parse_line("/G0 X1", 1).unwrap().block_delete);
        assert_eq!(parse_line("G91.1", 1).unwrap().words[0].value, 91.1);
    }

    #[test]
    fn errors_name_line_column_found_and_expected() {
        let e = parse_line("G1 X1e3 F100", 4).unwrap_err();
        assert_eq!((e.line, e.col), (4, 6));
        assert!(e.message.contains("exponent"), "{e}");
        let e = parse_line("G1 X F100", 2).unwrap_err();
        assert_eq!((e.line, e.col), (2, 5));
        assert!(
            e.to_string()
                .contains("expected a number after 'X', found 'F100'"),
            "{e}"
        );
        let e = parse_line("G0 (a (b) c)", 1).unwrap_err();
        assert_eq!(e.col, 7);
        assert!(e.message.contains("nested"), "{e}");
        let e = parse_line("G0 (open", 1).unwrap_err();
        assert_eq!(e.col, 4);
        assert!(e.message.contains("never closed"));
        let e = parse_line("G1 X#1", 1).unwrap_err();
        assert_eq!(e.col, 5);
        let e = parse_line("G1 X1 *", 1).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("line 1, column 7: expected a word")
        );
        let e = parse_program("G21\nG90\nG1 X1..2\n").unwrap_err();
        assert_eq!((e.line, e.col), (3, 7));
    }
}
