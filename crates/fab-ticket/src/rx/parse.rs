//! The Rx text parser (nom). Line-oriented: each non-blank, non-comment line is `key: value`;
//! values are lexed with nom and checked (units, ranges, words) as they are read, so every error
//! carries the line and column where it was found.

use std::collections::HashMap;

use nom::{
    IResult, Parser,
    bytes::complete::take_while1,
    character::complete::{char, digit1, space0},
    combinator::{opt, recognize},
};

use super::keys::{self, COMMON_KEYS, REPEATABLE};
use super::*;

/// Parses the text of a prescription.
///
/// Errors name the line and column, what was found and what was expected; the first error stops
/// the parse. Never panics, whatever the input. An error on a line that carries a patient
/// reference or a clinical note (`patient:`, `notes:`) does not repeat its value.
pub fn parse(text: &str) -> Result<Prescription, RxError> {
    parse_text(text).map_err(|e| {
        let line = text.lines().nth(e.line.saturating_sub(1)).unwrap_or("");
        match private_key(line) {
            Some(key) => RxError {
                found: "(not shown)".into(),
                message: format!(
                    "the `{key}` value is not valid: expected {} (the value is not repeated \
                     here)",
                    e.expected
                ),
                ..e
            },
            None => e,
        }
    })
}

/// Keys whose values identify a patient or say something clinical: never repeated in an error.
pub const PRIVATE_KEYS: &[&str] = &["patient", "notes"];

/// The key of a line that carries a private value (`patient`, `notes`), if it is one.
pub fn private_key(line: &str) -> Option<&'static str> {
    let content = strip_comment(line);
    let key = content.split(':').next()?.trim();
    let key = key
        .strip_prefix("left.")
        .or_else(|| key.strip_prefix("right."))
        .unwrap_or(key);
    PRIVATE_KEYS
        .iter()
        .copied()
        .find(|k| k.eq_ignore_ascii_case(key))
}

/// A line of an Rx as an error may show it: the value of a private key and any comment (free
/// text) left out.
pub fn shown_line(line: &str) -> String {
    let content = strip_comment(line);
    let mut shown = match private_key(line) {
        Some(_) => format!(
            "{}: (not shown)",
            content.split(':').next().unwrap_or("").trim_end()
        ),
        None => content.trim_end().to_string(),
    };
    if content.len() < line.len() {
        shown.push_str(" # (comment not shown)");
    }
    shown
}

fn parse_text(text: &str) -> Result<Prescription, RxError> {
    // a UTF-8 byte order mark, as Windows editors write one, is not part of the first line
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut st = State::default();
    let mut last_line = 0;
    for (i, raw) in text.lines().enumerate() {
        let no = i + 1;
        last_line = no;
        let content = strip_comment(raw);
        if content.trim().is_empty() {
            continue;
        }
        st.line(raw, content, no)?;
    }
    st.finish(last_line + 1)
}

/// The line up to a `#` that is not inside a double-quoted string.
fn strip_comment(line: &str) -> &str {
    let mut in_quote = false;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        if in_quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_quote = false;
            }
        } else if c == '"' {
            in_quote = true;
        } else if c == '#' {
            return &line[..i];
        }
    }
    line
}

fn is_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_'
}

fn key_part(input: &str) -> IResult<&str, (&str, &str)> {
    let (rest, (_, key, _, _, _)) =
        (space0, take_while1(is_key_char), space0, char(':'), space0).parse(input)?;
    Ok((rest, (key, rest)))
}

fn number_token(input: &str) -> IResult<&str, &str> {
    recognize((opt(char('-')), digit1, opt((char('.'), digit1)))).parse(input)
}

fn word_token(input: &str) -> IResult<&str, &str> {
    take_while1(|c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')(input)
}

fn unit_token(input: &str) -> IResult<&str, &str> {
    take_while1(|c: char| c.is_ascii_alphabetic() || c == '%')(input)
}

/// A cursor over one line's value, with error helpers that know the column.
#[derive(Clone, Copy)]
struct Cur<'a> {
    line: &'a str,
    rest: &'a str,
    no: usize,
}

impl<'a> Cur<'a> {
    fn col(&self) -> usize {
        // `rest` is always a sub-slice of `line`.
        let off = (self.rest.as_ptr() as usize).saturating_sub(self.line.as_ptr() as usize);
        self.line.get(..off).map_or(1, |s| s.chars().count() + 1)
    }

    fn skip_ws(&mut self) {
        self.rest = self.rest.trim_start();
    }

    /// The token at the cursor, for `found`.
    fn found(&self) -> String {
        let t: String = self
            .rest
            .trim_start()
            .chars()
            .take_while(|c| !c.is_whitespace())
            .take(40)
            .collect();
        if t.is_empty() {
            "end of line".to_string()
        } else {
            format!("`{t}`")
        }
    }

    fn err(&self, kind: RxErrorKind, expected: &str, message: String) -> RxError {
        let mut c = Cur { ..*self };
        c.skip_ws();
        RxError::new(kind, self.no, c.col(), self.found(), expected, message)
    }

    fn expected(&self, kind: RxErrorKind, expected: &str) -> RxError {
        self.err(
            kind,
            expected,
            format!("expected {expected}, found {}", self.found()),
        )
    }

    fn peek_word(&self) -> Option<&'a str> {
        word_token(self.rest.trim_start()).ok().map(|(_, w)| w)
    }

    fn choice<T: Copy>(&mut self, options: &[(&str, T)]) -> Result<T, RxError> {
        self.skip_ws();
        let list = options
            .iter()
            .map(|(n, _)| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let expected = format!("one of {list}");
        if let Ok((rest, w)) = word_token(self.rest)
            && let Some((_, v)) = options.iter().find(|(n, _)| *n == w)
        {
            self.rest = rest;
            return Ok(*v);
        }
        Err(self.expected(RxErrorKind::BadValue, &expected))
    }

    fn number(&mut self, what: &str) -> Result<(f64, Cur<'a>), RxError> {
        self.skip_ws();
        let at = Cur { ..*self };
        match number_token(self.rest) {
            Ok((rest, tok)) => {
                // A number glued to letters other than a unit (`5x`) is caught by the unit check.
                let v: f64 = tok
                    .parse()
                    .map_err(|_| at.expected(RxErrorKind::Syntax, what))?;
                if !v.is_finite() {
                    return Err(at.expected(RxErrorKind::Syntax, what));
                }
                self.rest = rest;
                Ok((v, at))
            }
            Err(_) => Err(at.expected(RxErrorKind::Syntax, what)),
        }
    }

    fn unit(&mut self, unit: &str, value: f64) -> Result<(), RxError> {
        self.skip_ws();
        match unit_token(self.rest) {
            Ok((rest, u)) if u == unit => {
                self.rest = rest;
                Ok(())
            }
            Ok(_) => Err(self.err(
                RxErrorKind::Unit,
                &format!("`{unit}`"),
                format!(
                    "expected unit `{unit}` after {value}, found {}",
                    self.found()
                ),
            )),
            Err(_) => Err(self.err(
                RxErrorKind::Unit,
                &format!("`{unit}`"),
                format!(
                    "a quantity needs its unit: expected `{unit}` after {value}, found {}",
                    self.found()
                ),
            )),
        }
    }

    /// `<number> <unit>` within `lo..=hi`.
    fn quantity(&mut self, key: &str, unit: &str, lo: f64, hi: f64) -> Result<f64, RxError> {
        let what = format!("a number of {unit} ({lo} to {hi})");
        let (v, at) = self.number(&what)?;
        self.unit(unit, v)?;
        if !(lo..=hi).contains(&v) {
            return Err(at.err(
                RxErrorKind::OutOfRange,
                &format!("{lo} to {hi} {unit}"),
                format!("`{key}` {v} {unit} is out of range: expected {lo} to {hi} {unit}"),
            ));
        }
        Ok(v)
    }

    fn text(&mut self, what: &str) -> Result<String, RxError> {
        self.skip_ws();
        let t = self.rest.trim_end();
        if t.is_empty() {
            return Err(self.expected(RxErrorKind::Syntax, what));
        }
        if t.contains('"') {
            return Err(self.err(
                RxErrorKind::BadValue,
                what,
                format!("expected {what} without double quotes, found `{t}`"),
            ));
        }
        self.rest = &self.rest[self.rest.len()..];
        Ok(t.to_string())
    }

    fn quoted(&mut self) -> Result<String, RxError> {
        self.skip_ws();
        let expected = "a double-quoted string";
        let Some(body) = self.rest.strip_prefix('"') else {
            return Err(self.expected(RxErrorKind::Syntax, expected));
        };
        let mut out = String::new();
        let mut chars = body.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.rest = &body[i + 1..];
                    return Ok(out);
                }
                '\\' => match chars.next() {
                    Some((_, e @ ('"' | '\\'))) => out.push(e),
                    Some((j, _)) => {
                        let at = Cur {
                            rest: &body[j - 1..],
                            ..*self
                        };
                        return Err(at.err(
                            RxErrorKind::Syntax,
                            "`\\\"` or `\\\\`",
                            format!(
                                "unknown escape {} in a quoted string: expected `\\\"` or `\\\\`",
                                at.found()
                            ),
                        ));
                    }
                    None => break,
                },
                c => out.push(c),
            }
        }
        let end = Cur {
            rest: &self.rest[self.rest.len()..],
            ..*self
        };
        Err(end.err(
            RxErrorKind::Syntax,
            "a closing `\"`",
            "unterminated quoted string: expected a closing `\"`".to_string(),
        ))
    }

    fn end(&mut self) -> Result<(), RxError> {
        self.skip_ws();
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(self.err(
                RxErrorKind::Syntax,
                "end of line",
                format!("unexpected {} after the value", self.found()),
            ))
        }
    }
}

const REGIONS: &[(&str, Region)] = &[
    ("fibular-head", Region::FibularHead),
    ("tibial-crest", Region::TibialCrest),
    ("tibial-tubercle", Region::TibialTubercle),
    ("distal-tibia", Region::DistalTibia),
    ("distal-end", Region::DistalEnd),
    ("patellar-tendon", Region::PatellarTendon),
    ("medial-flare", Region::MedialFlare),
    ("lateral-flare", Region::LateralFlare),
    ("popliteal", Region::Popliteal),
    ("hamstrings", Region::Hamstrings),
];

/// Where an override or `side:` was given, to report it after the whole file is read.
#[derive(Clone, Copy)]
struct At {
    line: usize,
    column: usize,
}

#[derive(Default)]
struct State {
    kind: Option<DeviceKind>,
    device: Option<Device>,
    header_line: usize,
    seen: HashMap<String, usize>,
    patient: Option<String>,
    practitioner: Option<String>,
    clinic: Option<String>,
    date: Option<(Date, At)>,
    due: Option<(Date, At)>,
    side: Option<RxSide>,
    notes: Vec<String>,
    first_override: Option<(String, At)>,
}

impl State {
    fn line(&mut self, raw: &str, content: &str, no: usize) -> Result<(), RxError> {
        let start = Cur {
            line: raw,
            rest: content,
            no,
        };
        let (rest, key) = match key_part(content) {
            Ok((rest, (key, _))) => (rest, key),
            Err(_) => {
                return Err(start.err(
                    RxErrorKind::Syntax,
                    "`key: value`",
                    format!("expected `key: value`, found {}", start.found()),
                ));
            }
        };
        let key_at = {
            let mut c = Cur { ..start };
            c.skip_ws();
            At {
                line: no,
                column: c.col(),
            }
        };
        let mut cur = Cur {
            line: raw,
            rest,
            no,
        };
        let key_err = |kind, expected: &str, message: String| {
            RxError::new(
                kind,
                no,
                key_at.column,
                format!("`{key}`"),
                expected,
                message,
            )
        };

        if key.chars().any(|c| c.is_ascii_uppercase()) {
            let lower = key.to_ascii_lowercase();
            return Err(key_err(
                RxErrorKind::Syntax,
                &format!("`{lower}`"),
                format!("keys are lower-case: expected `{lower}`, found `{key}`"),
            ));
        }

        // The header.
        let Some(kind) = self.kind else {
            if key != "rx" {
                return Err(key_err(
                    RxErrorKind::Header,
                    "`rx: foot-orthotic` or `rx: transtibial-socket`",
                    format!(
                        "the first line must be `rx: foot-orthotic` or `rx: transtibial-socket`, \
                         found `{key}:`"
                    ),
                ));
            }
            let kind = cur.choice(&[
                ("foot-orthotic", DeviceKind::FootOrthotic),
                ("transtibial-socket", DeviceKind::TranstibialSocket),
            ])?;
            cur.end()?;
            self.kind = Some(kind);
            self.header_line = no;
            self.seen.insert("rx".into(), no);
            self.device = Some(match kind {
                DeviceKind::FootOrthotic => Device::FootOrthotic(FootOrthotic::default()),
                DeviceKind::TranstibialSocket => {
                    Device::TranstibialSocket(TranstibialSocket::default())
                }
            });
            return Ok(());
        };

        // Prefix, classification.
        let (prefix, base) = if let Some(b) = key.strip_prefix("left.") {
            (Some(RxSide::Left), b)
        } else if let Some(b) = key.strip_prefix("right.") {
            (Some(RxSide::Right), b)
        } else {
            (None, key)
        };
        let is_common = COMMON_KEYS.contains(&base) || base == "rx";
        let owner = keys::device_of(base);
        if !is_common && owner.is_none() {
            let near = keys::nearest(base, kind);
            let near = match prefix {
                Some(RxSide::Left) => format!("left.{near}"),
                Some(RxSide::Right) => format!("right.{near}"),
                _ => near.to_string(),
            };
            return Err(key_err(
                RxErrorKind::UnknownKey,
                &format!("`{near}`"),
                format!("unknown key `{key}`; did you mean `{near}`?"),
            ));
        }
        if let Some(owner) = owner
            && owner != kind
        {
            return Err(key_err(
                RxErrorKind::WrongDevice,
                &format!("a {kind} key"),
                format!("`{base}` is a {owner} key, but this Rx is {kind}"),
            ));
        }
        if let Some(p) = prefix {
            let p = if p == RxSide::Left { "left" } else { "right" };
            if owner != Some(DeviceKind::FootOrthotic) {
                return Err(key_err(
                    RxErrorKind::Override,
                    "a foot-orthotic key after the side prefix",
                    format!("`{p}.` overrides apply to foot-orthotic keys only; `{base}` has none"),
                ));
            }
            if self.first_override.is_none() {
                self.first_override = Some((key.to_string(), key_at));
            }
        }
        if !REPEATABLE.contains(&base) {
            if let Some(first) = self.seen.get(key) {
                return Err(key_err(
                    RxErrorKind::Repeated,
                    "each key once",
                    format!("`{key}` is given twice (first on line {first})"),
                ));
            }
            self.seen.insert(key.to_string(), no);
        }

        match base {
            "rx" => unreachable!("`rx` is caught as repeated above"),
            "patient" => {
                let expected = "a clinic reference such as `MRN-004512` (no spaces; not a name)";
                cur.skip_ws();
                let ok = word_token(cur.rest)
                    .ok()
                    .filter(|(rest, _)| rest.trim().is_empty())
                    .map(|(_, w)| w);
                match ok {
                    Some(w) => {
                        self.patient = Some(w.to_string());
                        cur.rest = &cur.rest[cur.rest.len()..];
                    }
                    None => return Err(cur.expected(RxErrorKind::BadValue, expected)),
                }
            }
            "practitioner" => self.practitioner = Some(cur.text("the practitioner's name")?),
            "clinic" => self.clinic = Some(cur.text("the clinic's name")?),
            "date" | "due" => {
                cur.skip_ws();
                let at = At {
                    line: no,
                    column: cur.col(),
                };
                let tok = word_token(cur.rest).map(|(_, w)| w).unwrap_or("");
                let d: Date = tok.parse().map_err(|m: String| {
                    cur.err(
                        RxErrorKind::BadValue,
                        "a date YYYY-MM-DD",
                        format!("expected a date YYYY-MM-DD, found {}: {m}", cur.found()),
                    )
                })?;
                cur.rest = &cur.rest[tok.len()..];
                if base == "date" {
                    self.date = Some((d, at));
                } else {
                    self.due = Some((d, at));
                }
            }
            "side" => {
                let at = Cur { ..cur };
                let side = cur.choice(&[
                    ("left", RxSide::Left),
                    ("right", RxSide::Right),
                    ("bilateral", RxSide::Bilateral),
                ])?;
                if side == RxSide::Bilateral && kind == DeviceKind::TranstibialSocket {
                    return Err(at.err(
                        RxErrorKind::BadValue,
                        "`left` or `right`",
                        "a transtibial socket is for one side: expected `left` or `right`, \
                         found `bilateral`"
                            .to_string(),
                    ));
                }
                self.side = Some(side);
            }
            "notes" => self.notes.push(cur.quoted()?),
            _ => match self.device.as_mut() {
                Some(Device::FootOrthotic(foot)) => {
                    let target = match prefix {
                        None => &mut foot.shared,
                        Some(RxSide::Left) => &mut foot.left,
                        Some(_) => &mut foot.right,
                    };
                    foot_value(&mut cur, base, target)?;
                }
                Some(Device::TranstibialSocket(sock)) => socket_value(&mut cur, base, sock)?,
                None => unreachable!("device is set with the header"),
            },
        }
        cur.end()
    }

    fn finish(self, end_line: usize) -> Result<Prescription, RxError> {
        let missing = |what: &str, message: String| {
            RxError::new(
                RxErrorKind::Missing,
                end_line,
                1,
                "end of file",
                what,
                message,
            )
        };
        let Some(device) = self.device else {
            return Err(RxError::new(
                RxErrorKind::Header,
                1,
                1,
                "end of file",
                "`rx: foot-orthotic` or `rx: transtibial-socket`",
                "empty prescription: expected a first line `rx: foot-orthotic` or \
                 `rx: transtibial-socket`"
                    .to_string(),
            ));
        };
        let patient = self.patient.ok_or_else(|| {
            missing(
                "`patient: <clinic reference>`",
                "missing required key `patient` (the clinic's reference, e.g. `MRN-004512`)"
                    .to_string(),
            )
        })?;
        let practitioner = self.practitioner.ok_or_else(|| {
            missing(
                "`practitioner: <name>`",
                "missing required key `practitioner`".to_string(),
            )
        })?;
        if let Some((key, at)) = self.first_override
            && self.side != Some(RxSide::Bilateral)
        {
            let side = match self.side {
                Some(RxSide::Left) => "`side: left`",
                Some(RxSide::Right) => "`side: right`",
                _ => "no `side:`",
            };
            return Err(RxError::new(
                RxErrorKind::Override,
                at.line,
                at.column,
                format!("`{key}`"),
                "`side: bilateral`",
                format!(
                    "`{key}` overrides one side, which needs `side: bilateral`; this Rx has {side}"
                ),
            ));
        }
        if let (Some((date, _)), Some((due, at))) = (self.date, self.due)
            && due < date
        {
            return Err(RxError::new(
                RxErrorKind::BadValue,
                at.line,
                at.column,
                format!("`{due}`"),
                format!("a date on or after {date}"),
                format!("due {due} is before the prescription date {date}"),
            ));
        }
        Ok(Prescription {
            patient,
            practitioner,
            clinic: self.clinic,
            date: self.date.map(|d| d.0),
            due: self.due.map(|d| d.0),
            side: self.side,
            notes: self.notes,
            device,
        })
    }
}

fn post(cur: &mut Cur, key: &str) -> Result<Post, RxError> {
    if cur.peek_word() == Some("none") {
        cur.choice(&[("none", ())])?;
        return Ok(Post::None);
    }
    let degrees = cur.quantity(key, "deg", 0.0, 10.0)?;
    let direction = cur.choice(&[
        ("varus", PostDirection::Varus),
        ("valgus", PostDirection::Valgus),
    ])?;
    Ok(Post::Wedge { degrees, direction })
}

fn foot_value(cur: &mut Cur, key: &str, p: &mut FootParams) -> Result<(), RxError> {
    match key {
        "shell" => {
            let material = cur.choice(&[
                ("polypropylene", ShellMaterial::Polypropylene),
                ("eva", ShellMaterial::Eva),
                ("carbon", ShellMaterial::Carbon),
            ])?;
            let thickness_mm = cur.quantity(key, "mm", 1.0, 6.0)?;
            p.shell = Some(Shell {
                material,
                thickness_mm,
            });
        }
        "heel-cup" => p.heel_cup_mm = Some(cur.quantity(key, "mm", 0.0, 30.0)?),
        "arch-fill" => {
            p.arch_fill = Some(cur.choice(&[
                ("none", ArchFillChoice::None),
                ("low", ArchFillChoice::Low),
                ("medium", ArchFillChoice::Medium),
                ("high", ArchFillChoice::High),
            ])?)
        }
        "medial-flange" => p.medial_flange_mm = Some(cur.quantity(key, "mm", 0.0, 25.0)?),
        "lateral-flange" => p.lateral_flange_mm = Some(cur.quantity(key, "mm", 0.0, 25.0)?),
        "rearfoot-post" => p.rearfoot_post = Some(post(cur, key)?),
        "forefoot-post" => p.forefoot_post = Some(post(cur, key)?),
        "met-pad" => {
            p.met_pad = Some(if cur.peek_word() == Some("none") {
                cur.choice(&[("none", ())])?;
                MetPad::None
            } else {
                MetPad::Height {
                    mm: cur.quantity(key, "mm", 0.0, 10.0)?,
                }
            })
        }
        "extension" => {
            p.extension = Some(cur.choice(&[
                ("metatarsal", Extension::Metatarsal),
                ("sulcus", Extension::Sulcus),
                ("toes", Extension::Toes),
            ])?)
        }
        "top-cover" => {
            p.top_cover = Some(match cur.peek_word() {
                Some("none") => {
                    cur.choice(&[("none", ())])?;
                    TopCover::None
                }
                Some(w) if w.starts_with(|c: char| c.is_ascii_alphabetic()) => {
                    cur.skip_ws();
                    cur.rest = &cur.rest[w.len()..];
                    let thickness_mm = cur.quantity(key, "mm", 0.0, 6.0)?;
                    let length = if cur.rest.trim().is_empty() {
                        None
                    } else {
                        Some(cur.choice(&[
                            ("full", CoverLength::Full),
                            ("three-quarter", CoverLength::ThreeQuarter),
                        ])?)
                    };
                    TopCover::Cover {
                        material: w.to_string(),
                        thickness_mm,
                        length,
                    }
                }
                _ => {
                    return Err(cur.expected(
                        RxErrorKind::BadValue,
                        "`none` or `<material> <0-6> mm [full|three-quarter]`",
                    ));
                }
            })
        }
        "heel-lift" => p.heel_lift_mm = Some(cur.quantity(key, "mm", 0.0, 15.0)?),
        _ => unreachable!("only foot-orthotic keys reach foot_value"),
    }
    Ok(())
}

fn socket_value(cur: &mut Cur, key: &str, s: &mut TranstibialSocket) -> Result<(), RxError> {
    match key {
        "design" => {
            s.design = Some(cur.choice(&[("ptb", SocketDesign::Ptb), ("tsb", SocketDesign::Tsb)])?)
        }
        "liner" => s.liner_mm = Some(cur.quantity(key, "mm", 0.0, 12.0)?),
        "scan" => {
            s.scan = Some(cur.choice(&[
                ("over-liner", ScanSurface::OverLiner),
                ("skin", ScanSurface::Skin),
            ])?)
        }
        "suspension" => {
            s.suspension = Some(cur.choice(&[
                ("pin-lock", Suspension::PinLock),
                ("suction", Suspension::Suction),
                ("sleeve", Suspension::Sleeve),
                ("supracondylar", Suspension::Supracondylar),
            ])?)
        }
        "reduction" => s.reduction_percent = Some(cur.quantity(key, "%", 0.0, 10.0)?),
        "relief" | "load" => {
            let region = cur.choice(REGIONS)?;
            let depth_mm = cur.quantity(key, "mm", 0.0, 10.0)?;
            let list = if key == "relief" {
                &mut s.reliefs
            } else {
                &mut s.loads
            };
            list.push(RegionDepth { region, depth_mm });
        }
        "landmark" => {
            let at = Cur { ..*cur };
            let region = cur.choice(REGIONS)?;
            if s.landmark(region).is_some() {
                let name = REGIONS.iter().find(|r| r.1 == region).map_or("", |r| r.0);
                return Err(at.err(
                    RxErrorKind::Repeated,
                    "one landmark per region",
                    format!("a landmark for `{name}` is given twice"),
                ));
            }
            let mut point = [0.0; 3];
            for (i, axis) in ["x", "y", "z"].iter().enumerate() {
                point[i] = cur
                    .number(&format!("the {axis} coordinate (mm) of the landmark"))?
                    .0;
            }
            cur.unit("mm", point[2])?;
            s.landmarks.push(Landmark {
                region,
                point_mm: point,
            });
        }
        "socket" => {
            s.socket = Some(cur.choice(&[
                ("check", SocketStage::Check),
                ("definitive", SocketStage::Definitive),
            ])?)
        }
        "material" => s.material = Some(cur.text("the socket material")?),
        "trimline" => s.trimline_mm = Some(cur.quantity(key, "mm", 0.0, 600.0)?),
        _ => unreachable!("only transtibial-socket keys reach socket_value"),
    }
    Ok(())
}

/// The Rx name of a region (as written in the text form).
pub(crate) fn region_name(region: Region) -> &'static str {
    REGIONS.iter().find(|r| r.1 == region).map_or("?", |r| r.0)
}
