//! Reads G-code text into lines of words and comments, with nom.
//!
//! Syntax accepted (the common ground of LinuxCNC, GRBL, Fanuc and Mach3): an optional `/`
//! block-delete, words of one letter and a decimal number (`X-12.5`, `g1`, `N10`, `O1000`),
//! comments in parentheses (never nested) and after `;`, `%` lines. Spaces and tabs may stand
//! inside a word, as the controllers drop them before reading a line (`X1 0.5` is `X10.5`).
//! Exponents (`X1e3`), parameters and expressions (`#1`, `[..]`) and O-word subroutines and
//! control flow (`o100 sub`, `o<name> call`) are refused. Every error names its line and column
//! (1-based), what was found and what was expected.
//!
//! `parse_program` reads up to the program's end (a line with M2 or M30, or the closing `%` of a
//! program whose first line is `%`); the controller reads nothing after it, so a line there that
//! is not G-code is kept as `Line::unread` rather than refused.

use nom::bytes::complete::take_while;
use nom::character::complete::{char, satisfy, space0};
use nom::sequence::{delimited, preceded};
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
    /// Length of the line in bytes, without its `\n` (a `\r` before it counts, as it does for
    /// LinuxCNC, which reads at most 252).
    pub bytes: usize,
    /// For a line after the program's end that is not G-code: why (the controller never reads
    /// it). `words` and `comments` are then empty.
    pub unread: Option<String>,
}

impl Line {
    /// The value of the first word with `letter`.
    pub fn get(&self, letter: char) -> Option<&Word> {
        self.words.iter().find(|w| w.letter == letter)
    }

    /// Whether the line holds nothing: no word, comment, `%` or `/`.
    pub fn is_blank(&self) -> bool {
        self.words.is_empty()
            && self.comments.is_empty()
            && !self.percent
            && !self.block_delete
            && self.unread.is_none()
    }

    /// Whether the line ends the program with M2 or M30.
    pub fn ends_program(&self) -> bool {
        self.words
            .iter()
            .any(|w| w.letter == 'M' && (w.value == 2.0 || w.value == 30.0))
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

/// A decimal number: an optional sign, digits with at most one decimal point (`1`, `1.`, `.5`),
/// spaces and tabs allowed between its characters; returned without them. Spaces after the
/// number are left unread.
fn number(i: &str) -> IResult<&str, String> {
    let fail = || nom::Err::Error(nom::error::Error::new(i, nom::error::ErrorKind::Digit));
    let b = i.as_bytes();
    let blank = |c: u8| c == b' ' || c == b'\t';
    let mut k = 0;
    let mut out = String::new();
    if k < b.len() && (b[k] == b'+' || b[k] == b'-') {
        out.push(b[k] as char);
        k += 1;
        while k < b.len() && blank(b[k]) {
            k += 1;
        }
    }
    let (mut digits, mut dot) = (0usize, false);
    let mut end = k;
    while k < b.len() {
        match b[k] {
            c if c.is_ascii_digit() => {
                out.push(c as char);
                digits += 1;
                k += 1;
                end = k;
            }
            b'.' if !dot => {
                out.push('.');
                dot = true;
                k += 1;
                end = k;
            }
            c if blank(c) => {
                let mut j = k;
                while j < b.len() && blank(b[j]) {
                    j += 1;
                }
                match b.get(j) {
                    Some(c) if c.is_ascii_digit() || (*c == b'.' && !dot) => k = j,
                    _ => break,
                }
            }
            _ => break,
        }
    }
    if digits == 0 {
        return Err(fail());
    }
    Ok((&i[end..], out))
}

fn paren_comment(i: &str) -> IResult<&str, &str> {
    delimited(char('('), take_while(|c| c != '(' && c != ')'), char(')')).parse(i)
}

fn word(i: &str) -> IResult<&str, (char, String)> {
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

const O_WORD_CONTROL: &str = "O-word subroutines and control flow (such as 'o100 sub', 'o100 call', 'o<name> if') are not supported: fab cannot play them, so it cannot check the program";

/// Whether `rest` (what follows an O word) starts with an O-word keyword such as `sub` or `call`.
fn o_keyword(rest: &str) -> bool {
    const KEYWORDS: [&str; 15] = [
        "sub",
        "endsub",
        "call",
        "return",
        "do",
        "while",
        "endwhile",
        "if",
        "elseif",
        "else",
        "endif",
        "break",
        "continue",
        "repeat",
        "endrepeat",
    ];
    let r = rest.trim_start();
    let word: String = r
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect::<String>()
        .to_ascii_lowercase();
    KEYWORDS.contains(&word.as_str())
}

/// Parses one line (`n` is its 1-based number).
pub fn parse_line(text: &str, n: usize) -> Result<Line, ParseError> {
    let bytes = text.len();
    let text = text.strip_suffix('\r').unwrap_or(text);
    let col = |rest: &str| text.len() - rest.len() + 1;
    let err = |rest: &str, message: String| ParseError {
        line: n,
        col: col(rest),
        message,
    };
    let mut line = Line {
        line: n,
        bytes,
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
            'o' | 'O' if rest[1..].trim_start().starts_with('<') => {
                return Err(err(rest, O_WORD_CONTROL.into()));
            }
            c if c.is_ascii_alphabetic() => match word(rest) {
                Ok((r, (letter, num))) => {
                    if letter.eq_ignore_ascii_case(&'o') && o_keyword(r) {
                        return Err(err(rest, O_WORD_CONTROL.into()));
                    }
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

/// Parses a whole program; stops at the first syntax error before the program's end (a line with
/// M2 or M30, or the closing `%` of a program whose first line that is not blank is `%`). After
/// the end, a line that is not G-code comes back with `unread` set.
pub fn parse_program(text: &str) -> Result<Vec<Line>, ParseError> {
    let mut out = Vec::new();
    let mut ended = false;
    let mut starts_with_percent: Option<bool> = None;
    for (k, text) in text.split('\n').enumerate() {
        let n = k + 1;
        if ended {
            out.push(parse_line(text, n).unwrap_or_else(|e| Line {
                line: n,
                bytes: text.len(),
                unread: Some(e.message),
                ..Line::default()
            }));
            continue;
        }
        let l = parse_line(text, n)?;
        match starts_with_percent {
            None if !l.is_blank() => starts_with_percent = Some(l.percent),
            Some(true) if l.percent => ended = true,
            _ => {}
        }
        ended |= l.ends_program();
        out.push(l);
    }
    Ok(out)
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

    #[test]
    fn spaces_inside_a_word_are_dropped_as_the_controllers_do() {
        let l = parse_line("G 1 X1 0 Y - 2 . 5\tF 100", 1).unwrap();
        let w: Vec<(char, f64, &str)> = l
            .words
            .iter()
            .map(|w| (w.letter, w.value, w.raw.as_str()))
            .collect();
        assert_eq!(
            w,
            [
                ('G', 1.0, "1"),
                ('X', 10.0, "10"),
                ('Y', -2.5, "-2.5"),
                ('F', 100.0, "100")
            ]
        );
        assert_eq!(l.words[2].col, 10);
        // A second point still ends the number.
        assert!(parse_line("G0 X1. .5", 1).is_err());
        assert!(parse_line("G0 X.", 1).is_err());
    }

    #[test]
    fn o_word_subroutines_are_refused_by_name() {
        for text in ["o100 sub", "O100 CALL", "o<probe> call", "o101 if [1 GT 0]"] {
            let e = parse_line(text, 3).unwrap_err();
            assert_eq!((e.line, e.col), (3, 1), "{text}");
            assert!(e.message.contains("not supported"), "{text}: {e}");
        }
        // A program number alone is a word like any other.
        assert_eq!(
            parse_line("O1000 (PART)", 1).unwrap().words[0].value,
            1000.0
        );
    }

    #[test]
    fn the_program_ends_at_m30_or_the_closing_percent() {
        // After M30, text that is not G-code is kept as unread, not refused.
        let lines = parse_program("G21\nM30\nnot G-code #1\nG0 X1\n").unwrap();
        assert_eq!(lines.len(), 5);
        assert!(
            lines[2]
                .unread
                .as_deref()
                .unwrap()
                .contains("expected a number after 'N'")
        );
        assert_eq!(lines[3].words.len(), 2);
        // Between % lines the second % ends it; a first % after a blank line counts.
        let lines = parse_program("\n%\nG21\n%\n#1=2\n").unwrap();
        assert!(lines[4].unread.is_some());
        // Before the end a syntax error is an error.
        assert_eq!(parse_program("G21\n#1=2\nM30\n").unwrap_err().line, 2);
        // Lengths count the bytes of the line with its CR.
        let lines = parse_program("G21\r\nM30").unwrap();
        assert_eq!((lines[0].bytes, lines[1].bytes), (4, 3));
    }
}
