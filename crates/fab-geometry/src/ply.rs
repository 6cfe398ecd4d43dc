//! Stanford PLY, as structured-light scanners write it: ASCII, binary little- or big-endian;
//! the `vertex` element's `x y z` and the `face` element's index list (`vertex_indices` or
//! `vertex_index`), polygons split into fans; other elements and properties are read past.
//! Counts in the header are checked against the file before anything is allocated.

use crate::stl::Soup;

/// Why bytes are not a usable PLY.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlyError {
    #[error("PLY header, line {line}: {what}")]
    Header { line: usize, what: String },
    #[error("PLY data: {0}")]
    Data(String),
    #[error("PLY: vertex {vertex} has a non-finite coordinate ({value})")]
    NonFinite { vertex: usize, value: f64 },
}

/// True when the bytes start like a PLY file.
pub fn looks_like_ply(bytes: &[u8]) -> bool {
    bytes.starts_with(b"ply\n") || bytes.starts_with(b"ply\r\n")
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Scalar {
    I8,
    U8,
    I16,
    U16,
    I32,
    U32,
    F32,
    F64,
}

impl Scalar {
    fn parse(s: &str) -> Option<Scalar> {
        Some(match s {
            "char" | "int8" => Scalar::I8,
            "uchar" | "uint8" => Scalar::U8,
            "short" | "int16" => Scalar::I16,
            "ushort" | "uint16" => Scalar::U16,
            "int" | "int32" => Scalar::I32,
            "uint" | "uint32" => Scalar::U32,
            "float" | "float32" => Scalar::F32,
            "double" | "float64" => Scalar::F64,
            _ => return None,
        })
    }
    fn size(self) -> usize {
        match self {
            Scalar::I8 | Scalar::U8 => 1,
            Scalar::I16 | Scalar::U16 => 2,
            Scalar::I32 | Scalar::U32 | Scalar::F32 => 4,
            Scalar::F64 => 8,
        }
    }
}

#[derive(Clone, Debug)]
enum Prop {
    Scalar(String, Scalar),
    List(String, Scalar, Scalar),
}

#[derive(Clone, Debug)]
struct Element {
    name: String,
    count: usize,
    props: Vec<Prop>,
}

#[derive(Clone, Copy, PartialEq)]
enum Format {
    Ascii,
    Le,
    Be,
}

/// Reads values of a PLY body, ASCII or binary.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    format: Format,
}

impl Reader<'_> {
    /// Where the reader is, for errors: the line of an ASCII body, the byte of a binary one.
    fn at(&self) -> String {
        let pos = self.pos.min(self.bytes.len());
        if self.format == Format::Ascii {
            let line = 1 + self.bytes[..pos].iter().filter(|&&b| b == b'\n').count();
            format!("line {line}")
        } else {
            format!("byte {pos}")
        }
    }

    /// A whole number for a count or an index: integer types in binary always are; in ASCII a
    /// `2.5` or `1e400` is refused rather than truncated.
    fn whole(&mut self, t: Scalar) -> Result<f64, PlyError> {
        let v = self.value(t)?;
        if v.fract() != 0.0 || !v.is_finite() {
            return Err(PlyError::Data(format!(
                "{}: found `{v}`, expected a whole number",
                self.at()
            )));
        }
        Ok(v)
    }

    /// Refuses anything after the last element the header declares but whitespace (ASCII):
    /// a header that declares fewer rows than the file holds would otherwise drop the rest.
    fn finish(&mut self) -> Result<(), PlyError> {
        if self.format == Format::Ascii {
            while self.pos < self.bytes.len() && self.bytes[self.pos].is_ascii_whitespace() {
                self.pos += 1;
            }
        }
        let rest = self.bytes.len().saturating_sub(self.pos);
        if rest > 0 {
            return Err(PlyError::Data(format!(
                "{}: {rest} more bytes after the last element the header declares: the \
                 header's counts are fewer than the file holds",
                self.at(),
            )));
        }
        Ok(())
    }

    fn value(&mut self, t: Scalar) -> Result<f64, PlyError> {
        if self.format == Format::Ascii {
            while self.pos < self.bytes.len() && self.bytes[self.pos].is_ascii_whitespace() {
                self.pos += 1;
            }
            let start = self.pos;
            while self.pos < self.bytes.len() && !self.bytes[self.pos].is_ascii_whitespace() {
                self.pos += 1;
            }
            if start == self.pos {
                return Err(PlyError::Data(
                    "the file ends before the header's counts".into(),
                ));
            }
            let w = std::str::from_utf8(&self.bytes[start..self.pos]).unwrap_or("?");
            let shown: String = w.chars().take(40).collect();
            return w.parse::<f64>().map_err(|_| {
                PlyError::Data(format!("{}: found `{shown}`, expected a number", self.at()))
            });
        }
        let n = t.size();
        if self.pos + n > self.bytes.len() {
            return Err(PlyError::Data(
                "the file ends before the header's counts: truncated".into(),
            ));
        }
        let mut b = [0u8; 8];
        b[..n].copy_from_slice(&self.bytes[self.pos..self.pos + n]);
        if self.format == Format::Be {
            b[..n].reverse();
        }
        self.pos += n;
        Ok(match t {
            Scalar::I8 => b[0] as i8 as f64,
            Scalar::U8 => b[0] as f64,
            Scalar::I16 => i16::from_le_bytes([b[0], b[1]]) as f64,
            Scalar::U16 => u16::from_le_bytes([b[0], b[1]]) as f64,
            Scalar::I32 => i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64,
            Scalar::U32 => u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64,
            Scalar::F32 => f32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64,
            Scalar::F64 => f64::from_le_bytes(b),
        })
    }
}

/// Parses a PLY file into a triangle soup (file units).
pub fn parse(bytes: &[u8]) -> Result<Soup, PlyError> {
    // header
    let end = find(bytes, b"end_header").ok_or(PlyError::Header {
        line: 1,
        what: "no `end_header`".into(),
    })?;
    let mut body = end + b"end_header".len();
    if bytes.get(body) == Some(&b'\r') {
        body += 1;
    }
    if bytes.get(body) == Some(&b'\n') {
        body += 1;
    }
    let header = std::str::from_utf8(&bytes[..end]).map_err(|_| PlyError::Header {
        line: 1,
        what: "the header is not text".into(),
    })?;
    let mut format = None;
    let mut elements: Vec<Element> = Vec::new();
    for (i, line) in header.lines().enumerate().skip(1) {
        let line_no = i + 1;
        let bad = |what: String| PlyError::Header {
            line: line_no,
            what,
        };
        let w: Vec<&str> = line.split_whitespace().collect();
        match w.as_slice() {
            [] | ["comment", ..] | ["obj_info", ..] => {}
            ["format", f, _] => {
                format = Some(match *f {
                    "ascii" => Format::Ascii,
                    "binary_little_endian" => Format::Le,
                    "binary_big_endian" => Format::Be,
                    other => return Err(bad(format!("unknown format `{other}`"))),
                })
            }
            ["element", name, count] => elements.push(Element {
                name: name.to_string(),
                count: count
                    .parse()
                    .map_err(|_| bad(format!("`{count}` is not a count")))?,
                props: Vec::new(),
            }),
            ["property", "list", ct, it, name] => {
                let (Some(c), Some(t)) = (Scalar::parse(ct), Scalar::parse(it)) else {
                    return Err(bad(format!("unknown list types `{ct} {it}`")));
                };
                elements
                    .last_mut()
                    .ok_or_else(|| bad("a property before any element".into()))?
                    .props
                    .push(Prop::List(name.to_string(), c, t));
            }
            ["property", t, name] => {
                let t = Scalar::parse(t).ok_or_else(|| bad(format!("unknown type `{t}`")))?;
                elements
                    .last_mut()
                    .ok_or_else(|| bad("a property before any element".into()))?
                    .props
                    .push(Prop::Scalar(name.to_string(), t));
            }
            _ => return Err(bad(format!("cannot read `{line}`"))),
        }
    }
    let format = format.ok_or(PlyError::Header {
        line: 2,
        what: "no `format` line".into(),
    })?;
    // Counts against the file: every element row takes at least its minimum size.
    let remaining = bytes.len() - body;
    let mut minimum: u128 = 0;
    for e in &elements {
        let row: usize = e
            .props
            .iter()
            .map(|p| match (format, p) {
                (Format::Ascii, _) => 2,
                (_, Prop::Scalar(_, t)) => t.size(),
                (_, Prop::List(_, c, _)) => c.size(),
            })
            .sum();
        minimum += e.count as u128 * row.max(1) as u128;
    }
    if minimum > remaining as u128 {
        return Err(PlyError::Data(format!(
            "the header promises {} ({minimum} bytes at least) but only {remaining} bytes follow it: truncated or not a PLY",
            elements
                .iter()
                .map(|e| format!("{} {}", e.count, e.name))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let mut r = Reader {
        bytes,
        pos: body,
        format,
    };
    let mut verts: Vec<[f64; 3]> = Vec::new();
    let mut tris = Vec::new();
    let mut list = Vec::new();
    for e in &elements {
        let is_vertex = e.name == "vertex";
        let is_face = e.name == "face";
        if is_vertex {
            verts.reserve(e.count);
        }
        for row in 0..e.count {
            let mut p = [f64::NAN; 3];
            for prop in &e.props {
                match prop {
                    Prop::Scalar(name, t) => {
                        let v = r.value(*t)?;
                        if is_vertex && let Some(k) = ["x", "y", "z"].iter().position(|n| n == name)
                        {
                            p[k] = v;
                        }
                    }
                    Prop::List(name, c, t) => {
                        let n = r.whole(*c)?;
                        if !(0.0..=1e6).contains(&n) {
                            return Err(PlyError::Data(format!(
                                "{}: {} {row}: a list of {n} items",
                                r.at(),
                                e.name
                            )));
                        }
                        let indices =
                            is_face && (name == "vertex_indices" || name == "vertex_index");
                        list.clear();
                        for _ in 0..n as usize {
                            list.push(if indices { r.whole(*t)? } else { r.value(*t)? });
                        }
                        if indices {
                            if list.len() < 3 {
                                return Err(PlyError::Data(format!(
                                    "face {row} has {} corners",
                                    list.len()
                                )));
                            }
                            let idx = |x: f64| -> Result<usize, PlyError> {
                                if x >= 0.0 && (x as usize) < verts.len() {
                                    Ok(x as usize)
                                } else {
                                    Err(PlyError::Data(format!(
                                        "face {row} uses vertex {x}, but there are {}",
                                        verts.len()
                                    )))
                                }
                            };
                            let a = idx(list[0])?;
                            for k in 1..list.len() - 1 {
                                tris.push([
                                    verts[a],
                                    verts[idx(list[k])?],
                                    verts[idx(list[k + 1])?],
                                ]);
                            }
                        }
                    }
                }
            }
            if is_vertex {
                for &x in &p {
                    if !x.is_finite() {
                        return Err(PlyError::NonFinite {
                            vertex: row,
                            value: x,
                        });
                    }
                }
                verts.push(p);
            }
        }
    }
    r.finish()?;
    Ok(Soup { triangles: tris })
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ASCII: &str = "ply\nformat ascii 1.0\ncomment x\nelement vertex 4\nproperty float x\nproperty float y\nproperty float z\nproperty uchar red\nelement face 1\nproperty list uchar int vertex_indices\nend_header\n0 0 0 1\n1 0 0 1\n1 1 0 1\n0 1 0 1\n4 0 1 2 3\n";

    #[test]
    fn ascii_quad_is_two_triangles() {
        let s = parse(ASCII.as_bytes()).unwrap();
        assert_eq!(s.triangles.len(), 2);
        assert_eq!(
            s.triangles[1],
            [[0.0, 0.0, 0.0], [1.0, 1.0, 0.0], [0.0, 1.0, 0.0]]
        );
    }

    #[test]
    fn binary_both_endians() {
        for (fmt, be) in [("binary_little_endian", false), ("binary_big_endian", true)] {
            let mut b = format!("ply\nformat {fmt} 1.0\nelement vertex 3\nproperty double x\nproperty double y\nproperty double z\nelement face 1\nproperty list uchar uint vertex_indices\nend_header\n").into_bytes();
            for p in [[0.0f64, 0.0, 0.0], [2.0, 0.0, 0.0], [0.0, 3.0, 0.0]] {
                for x in p {
                    b.extend(if be { x.to_be_bytes() } else { x.to_le_bytes() });
                }
            }
            b.push(3);
            for i in [0u32, 1, 2] {
                b.extend(if be { i.to_be_bytes() } else { i.to_le_bytes() });
            }
            let s = parse(&b).unwrap();
            assert_eq!(
                s.triangles,
                vec![[[0.0, 0.0, 0.0], [2.0, 0.0, 0.0], [0.0, 3.0, 0.0]]]
            );
        }
    }

    /// A header that declares fewer faces (or vertices) than the file holds: the rest would be
    /// dropped silently, so the file is refused, naming where the extra data starts.
    #[test]
    fn more_rows_than_the_header_declares_are_refused() {
        let text = ASCII.replace("element face 1", "element face 0");
        let e = parse(text.as_bytes()).unwrap_err();
        let m = e.to_string();
        assert!(m.contains("line 16") && m.contains("header"), "{m}");
        // trailing whitespace is no data
        assert!(parse(format!("{ASCII}\n \n").as_bytes()).is_ok());
        // binary: one byte too many
        let mut b = b"ply\nformat binary_little_endian 1.0\nelement vertex 3\nproperty float x\nproperty float y\nproperty float z\nelement face 1\nproperty list uchar int vertex_indices\nend_header\n".to_vec();
        for x in [0f32, 0., 0., 1., 0., 0., 0., 1., 0.] {
            b.extend(x.to_le_bytes());
        }
        b.push(3);
        for i in [0i32, 1, 2] {
            b.extend(i.to_le_bytes());
        }
        assert_eq!(parse(&b).unwrap().triangles.len(), 1);
        b.push(0);
        let e = parse(&b).unwrap_err();
        assert!(e.to_string().contains("1 more bytes"), "{e}");
    }

    #[test]
    fn indices_and_counts_must_be_whole() {
        for (from, to) in [("4 0 1 2 3", "4 0 1.5 2 3"), ("4 0 1 2 3", "3.5 0 1 2 3")] {
            let text = ASCII.replace(from, to);
            let e = parse(text.as_bytes()).unwrap_err();
            assert!(e.to_string().contains("whole number"), "{e}");
            assert!(e.to_string().contains("line 16"), "{e}");
        }
    }

    #[test]
    fn huge_counts_are_refused_before_allocating() {
        let text = ASCII.replace("element vertex 4", "element vertex 4000000000");
        let e = parse(text.as_bytes()).unwrap_err();
        assert!(e.to_string().contains("4000000000 vertex"), "{e}");
    }
}
