//! STL, binary and ASCII: a reader that never trusts the file and an atomic binary writer.
//!
//! The reader checks sizes before it allocates: a binary header that promises more triangles
//! than the file holds (up to 4 billion) is refused from the file length alone, so memory stays
//! proportional to the file. ASCII is parsed by hand, token by token, with line numbers in errors.
//! Coordinates must be finite. The result is a triangle soup in the file's own units; welding,
//! cleaning and units live in [`crate::repair`] and [`crate::load`].

use std::io::Write;
use std::path::Path;

use crate::mesh::Mesh;

/// Which STL flavour a file was.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Flavour {
    Binary,
    Ascii,
    /// Wavefront OBJ (see [`crate::obj`]).
    Obj,
    /// Stanford PLY (see [`crate::ply`]).
    Ply,
}

impl std::fmt::Display for Flavour {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Flavour::Binary => "binary STL",
            Flavour::Ascii => "ASCII STL",
            Flavour::Obj => "OBJ",
            Flavour::Ply => "PLY",
        })
    }
}

/// Why bytes are not a usable STL.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StlError {
    #[error("the file is empty")]
    Empty,
    #[error(
        "neither STL flavour, OBJ nor PLY: {len} bytes, too short for a binary STL header (84 bytes), not starting with `solid`, no OBJ vertices"
    )]
    TooShort { len: usize },
    #[error(
        "binary STL header promises {promised} triangles ({needed} bytes) but the file has only {actual} bytes: truncated or not an STL"
    )]
    Truncated {
        promised: u32,
        needed: u64,
        actual: usize,
    },
    #[error(
        "binary STL header says {promised} triangles ({needed} bytes) but the file has {actual} bytes: {extra} bytes too many, not a well-formed STL"
    )]
    TrailingBytes {
        promised: u32,
        needed: u64,
        actual: usize,
        extra: u64,
    },
    #[error("ASCII STL, line {line}: found {found}, expected {expected}")]
    Ascii {
        line: usize,
        found: String,
        expected: &'static str,
    },
    #[error("triangle {triangle} (0-based){where_}: vertex {vertex} has a non-finite coordinate ({value})", where_ = line.map(|l| format!(", line {l}")).unwrap_or_default())]
    NonFinite {
        triangle: usize,
        vertex: usize,
        value: f64,
        line: Option<usize>,
    },
}

/// A triangle soup as read: corners in the file's units.
#[derive(Debug, Clone, Default)]
pub struct Soup {
    pub triangles: Vec<[[f64; 3]; 3]>,
}

/// Parses STL bytes, choosing the flavour from the content: a file whose length is exactly what
/// its binary header says is binary (even if its header starts with `solid`, as some exporters
/// write); otherwise text starting with `solid` is ASCII; otherwise it is treated as binary and
/// its header checked against the length.
pub fn parse(bytes: &[u8]) -> Result<(Soup, Flavour), StlError> {
    if bytes.is_empty() {
        return Err(StlError::Empty);
    }
    if bytes.len() >= 84 {
        let n = u32::from_le_bytes([bytes[80], bytes[81], bytes[82], bytes[83]]);
        let needed = 84 + 50 * n as u64;
        if needed == bytes.len() as u64 {
            return parse_binary(bytes).map(|s| (s, Flavour::Binary));
        }
    }
    if looks_ascii(bytes) {
        let text_like = bytes[..bytes.len().min(4096)].is_ascii();
        match parse_ascii(bytes) {
            Ok(s) => return Ok((s, Flavour::Ascii)),
            // a binary file whose header happens to start with `solid`: report it as binary
            Err(_) if !text_like && bytes.len() >= 84 => {}
            Err(e) => return Err(e),
        }
    }
    if bytes.len() < 84 {
        return Err(StlError::TooShort { len: bytes.len() });
    }
    parse_binary(bytes).map(|s| (s, Flavour::Binary))
}

fn looks_ascii(bytes: &[u8]) -> bool {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    bytes[start..].starts_with(b"solid")
}

/// Binary STL: 80-byte header, u32 count, 50 bytes per triangle. The count is checked against
/// the length before anything is allocated.
pub fn parse_binary(bytes: &[u8]) -> Result<Soup, StlError> {
    if bytes.len() < 84 {
        return Err(StlError::TooShort { len: bytes.len() });
    }
    let n = u32::from_le_bytes([bytes[80], bytes[81], bytes[82], bytes[83]]);
    let needed = 84 + 50 * n as u64;
    let actual = bytes.len() as u64;
    if actual < needed {
        return Err(StlError::Truncated {
            promised: n,
            needed,
            actual: bytes.len(),
        });
    }
    if actual > needed {
        return Err(StlError::TrailingBytes {
            promised: n,
            needed,
            actual: bytes.len(),
            extra: actual - needed,
        });
    }
    let mut triangles = Vec::with_capacity(n as usize);
    for (t, rec) in bytes[84..].chunks_exact(50).enumerate() {
        let mut tri = [[0.0f64; 3]; 3];
        for (v, corner) in tri.iter_mut().enumerate() {
            for (k, c) in corner.iter_mut().enumerate() {
                let o = 12 + v * 12 + k * 4;
                let x = f32::from_le_bytes([rec[o], rec[o + 1], rec[o + 2], rec[o + 3]]);
                if !x.is_finite() {
                    return Err(StlError::NonFinite {
                        triangle: t,
                        vertex: v,
                        value: x as f64,
                        line: None,
                    });
                }
                *c = x as f64;
            }
        }
        triangles.push(tri);
    }
    Ok(Soup { triangles })
}

/// ASCII STL: `solid`, then `facet normal nx ny nz / outer loop / vertex x y z (x3) / endloop /
/// endfacet` repeated, then `endsolid`. Several solids in one file are accepted. Normals are
/// read and ignored (orientation comes from the winding).
pub fn parse_ascii(bytes: &[u8]) -> Result<Soup, StlError> {
    let mut tok = Tokens::new(bytes);
    let mut triangles = Vec::new();
    let mut solids = 0usize;
    loop {
        let Some((line, word)) = tok.next() else {
            if solids == 0 {
                return Err(StlError::Ascii {
                    line: tok.line,
                    found: "end of file".into(),
                    expected: "`solid`",
                });
            }
            break;
        };
        if word != b"solid" {
            return Err(tok.err(line, word, "`solid`"));
        }
        solids += 1;
        tok.skip_line();
        loop {
            let (line, word) = tok.need("`facet` or `endsolid`")?;
            match word {
                b"endsolid" => {
                    tok.skip_line();
                    break;
                }
                b"facet" => {}
                _ => return Err(tok.err(line, word, "`facet` or `endsolid`")),
            }
            tok.expect(b"normal", "`normal`")?;
            for _ in 0..3 {
                tok.number("a normal component")?;
            }
            tok.expect(b"outer", "`outer`")?;
            tok.expect(b"loop", "`loop`")?;
            let mut tri = [[0.0; 3]; 3];
            for (v, corner) in tri.iter_mut().enumerate() {
                tok.expect(b"vertex", "`vertex`")?;
                for c in corner.iter_mut() {
                    let (line, x) = tok.number("a vertex coordinate")?;
                    if !x.is_finite() {
                        return Err(StlError::NonFinite {
                            triangle: triangles.len(),
                            vertex: v,
                            value: x,
                            line: Some(line),
                        });
                    }
                    *c = x;
                }
            }
            tok.expect(b"endloop", "`endloop`")?;
            tok.expect(b"endfacet", "`endfacet`")?;
            triangles.push(tri);
        }
    }
    Ok(Soup { triangles })
}

struct Tokens<'a> {
    bytes: &'a [u8],
    pos: usize,
    line: usize,
}

impl<'a> Tokens<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self {
            bytes,
            pos: 0,
            line: 1,
        }
    }

    fn next(&mut self) -> Option<(usize, &'a [u8])> {
        while self.pos < self.bytes.len() && self.bytes[self.pos].is_ascii_whitespace() {
            if self.bytes[self.pos] == b'\n' {
                self.line += 1;
            }
            self.pos += 1;
        }
        if self.pos >= self.bytes.len() {
            return None;
        }
        let start = self.pos;
        while self.pos < self.bytes.len() && !self.bytes[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
        Some((self.line, &self.bytes[start..self.pos]))
    }

    /// Skips the rest of the current line (a solid's name).
    fn skip_line(&mut self) {
        while self.pos < self.bytes.len() && self.bytes[self.pos] != b'\n' {
            self.pos += 1;
        }
    }

    fn need(&mut self, expected: &'static str) -> Result<(usize, &'a [u8]), StlError> {
        let line = self.line;
        self.next().ok_or(StlError::Ascii {
            line,
            found: "end of file".into(),
            expected,
        })
    }

    fn expect(&mut self, word: &[u8], expected: &'static str) -> Result<(), StlError> {
        let (line, w) = self.need(expected)?;
        if w == word {
            Ok(())
        } else {
            Err(self.err(line, w, expected))
        }
    }

    fn number(&mut self, expected: &'static str) -> Result<(usize, f64), StlError> {
        let (line, w) = self.need(expected)?;
        std::str::from_utf8(w)
            .ok()
            .and_then(|s| s.parse::<f64>().ok())
            .map(|x| (line, x))
            .ok_or_else(|| self.err(line, w, expected))
    }

    fn err(&self, line: usize, found: &[u8], expected: &'static str) -> StlError {
        let shown: String = String::from_utf8_lossy(&found[..found.len().min(40)]).into_owned();
        StlError::Ascii {
            line,
            found: format!("`{shown}`"),
            expected,
        }
    }
}

/// Why a mesh could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The message carries the cause; it is not also a `source`, so reports name it once.
    #[error("cannot write {path}: {cause}")]
    Io { path: String, cause: std::io::Error },
    #[error("cannot write {path}: {triangles} triangles is more than binary STL can hold")]
    TooLarge { path: String, triangles: usize },
}

/// Binary STL bytes of a mesh (coordinates in mm, f32 as the format holds them).
pub fn to_binary(mesh: &Mesh) -> Vec<u8> {
    let mut out = Vec::with_capacity(84 + 50 * mesh.triangles.len());
    let mut header = [b' '; 80];
    let text = b"fab-geometry binary STL, millimetres";
    header[..text.len()].copy_from_slice(text);
    out.extend_from_slice(&header);
    out.extend_from_slice(&(mesh.triangles.len() as u32).to_le_bytes());
    for t in 0..mesh.triangles.len() {
        let n = mesh.triangle_normal(t);
        let n = if n.norm() > 0.0 { n.normalize() } else { n };
        for x in [n.x, n.y, n.z] {
            out.extend_from_slice(&(x as f32).to_le_bytes());
        }
        for p in mesh.triangle(t) {
            for x in [p.x, p.y, p.z] {
                out.extend_from_slice(&(x as f32).to_le_bytes());
            }
        }
        out.extend_from_slice(&[0, 0]);
    }
    out
}

/// Writes `mesh` as binary STL to `path` atomically: a temp file in the same directory, then a
/// rename, so a failure never leaves a half-written file.
pub fn write_stl(path: &Path, mesh: &Mesh) -> Result<(), WriteError> {
    if mesh.triangles.len() > u32::MAX as usize {
        return Err(WriteError::TooLarge {
            path: path.display().to_string(),
            triangles: mesh.triangles.len(),
        });
    }
    write_atomic(path, &to_binary(mesh))
}

/// Writes bytes to `path` through a temp file in the same directory and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    let io = |cause| WriteError::Io {
        path: path.display().to_string(),
        cause,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(io(e));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binary(n_claimed: u32, tris: &[[[f32; 3]; 3]]) -> Vec<u8> {
        let mut b = vec![0u8; 80];
        b.extend_from_slice(&n_claimed.to_le_bytes());
        for t in tris {
            b.extend_from_slice(&[0u8; 12]);
            for v in t {
                for x in v {
                    b.extend_from_slice(&x.to_le_bytes());
                }
            }
            b.extend_from_slice(&[0, 0]);
        }
        b
    }

    const TRI: [[f32; 3]; 3] = [[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]];

    #[test]
    fn binary_round_trip_counts() {
        let (s, f) = parse(&binary(2, &[TRI, TRI])).unwrap();
        assert_eq!(f, Flavour::Binary);
        assert_eq!(s.triangles.len(), 2);
        assert_eq!(s.triangles[0][1], [1.0, 0.0, 0.0]);
    }

    #[test]
    fn four_billion_promise_is_refused_without_allocating() {
        let e = parse(&binary(u32::MAX, &[TRI])).unwrap_err();
        assert!(
            matches!(
                e,
                StlError::Truncated {
                    promised: u32::MAX,
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn ascii_with_solid_header_in_binary_is_binary() {
        let mut b = binary(1, &[TRI]);
        b[..5].copy_from_slice(b"solid");
        assert_eq!(parse(&b).unwrap().1, Flavour::Binary);
    }

    #[test]
    fn binary_with_solid_header_and_wrong_count_is_reported_as_binary() {
        let mut b = binary(3, &[TRI]);
        b[..5].copy_from_slice(b"solid");
        b[100] = 0xff;
        assert!(matches!(
            parse(&b).unwrap_err(),
            StlError::Truncated { promised: 3, .. }
        ));
    }

    #[test]
    fn ascii_parses_and_reports_line_of_error() {
        let ok = "solid x\nfacet normal 0 0 1\nouter loop\nvertex 0 0 0\nvertex 1 0 0\nvertex 0 1 0\nendloop\nendfacet\nendsolid x\n";
        let (s, f) = parse(ok.as_bytes()).unwrap();
        assert_eq!((s.triangles.len(), f), (1, Flavour::Ascii));
        let bad = ok.replace("vertex 1 0 0", "vertex 1 zero 0");
        let e = parse(bad.as_bytes()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "ASCII STL, line 5: found `zero`, expected a vertex coordinate"
        );
        let nan = ok.replace("vertex 1 0 0", "vertex 1 nan 0");
        assert!(matches!(
            parse(nan.as_bytes()).unwrap_err(),
            StlError::NonFinite { line: Some(5), .. }
        ));
    }
}
