//! STL, binary and ASCII: a reader that never trusts the file and an atomic binary writer.
//!
//! The reader checks sizes before it allocates: a binary header that promises more triangles
//! than the file holds (up to 4 billion) is refused from the file length alone, so memory stays
//! proportional to the file. ASCII is parsed by hand, token by token, with line numbers in errors;
//! a large file is read in parallel pieces cut at facet lines, and binary records are decoded in
//! parallel, with the same triangles and errors as one pass. Coordinates must be finite. The result is a triangle soup in the file's own units; welding,
//! cleaning and units live in [`crate::repair`] and [`crate::load`].

use std::io::Write;
use std::path::Path;

use rayon::prelude::*;

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
    // decoded in parallel; the first non-finite coordinate, if any, is then reported
    let triangles: Vec<[[f64; 3]; 3]> = bytes[84..]
        .par_chunks_exact(50)
        .map(|rec| {
            [0, 1, 2].map(|v| {
                [0, 1, 2].map(|k| {
                    let o = 12 + v * 12 + k * 4;
                    f32::from_le_bytes([rec[o], rec[o + 1], rec[o + 2], rec[o + 3]]) as f64
                })
            })
        })
        .collect();
    let finite = |t: &[[f64; 3]; 3]| t.iter().flatten().all(|x| x.is_finite());
    if let Some(t) = triangles.par_iter().position_first(|t| !finite(t)) {
        let (vertex, value) = (0..3)
            .flat_map(|v| triangles[t][v].map(|x| (v, x)))
            .find(|(_, x)| !x.is_finite())
            .expect("a non-finite coordinate");
        return Err(StlError::NonFinite {
            triangle: t,
            vertex,
            value,
            line: None,
        });
    }
    Ok(Soup { triangles })
}

/// ASCII STL: `solid`, then `facet normal nx ny nz / outer loop / vertex x y z (x3) / endloop /
/// endfacet` repeated, then `endsolid`. Several solids in one file are accepted. Normals are
/// read and ignored (orientation comes from the winding).
///
/// A large file is cut at `facet` lines into pieces parsed in parallel; any error, or pieces
/// that do not join up (a cut that was not between two facets of one solid), sends it to the
/// sequential reader, which gives the same triangles and the error with its line.
pub fn parse_ascii(bytes: &[u8]) -> Result<Soup, StlError> {
    if bytes.len() >= PARALLEL_ASCII_BYTES
        && let Some(soup) = parse_ascii_parallel(bytes, rayon::current_num_threads() * 4)
    {
        return Ok(soup);
    }
    parse_ascii_sequential(bytes)
}

/// ASCII files at least this long are parsed in parallel pieces.
const PARALLEL_ASCII_BYTES: usize = 1 << 20;

/// Where a piece of an ASCII STL starts or ends: outside any solid, or inside one between
/// facets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Between {
    Solids,
    Facets,
}

/// The ASCII reader over `pieces` parts cut at `facet` tokens that start a line; `None` on any
/// error or when the pieces do not join into one valid file.
fn parse_ascii_parallel(bytes: &[u8], pieces: usize) -> Option<Soup> {
    let mut cuts = vec![0];
    for i in 1..pieces {
        let from = (bytes.len() / pieces * i).max(*cuts.last()?);
        if let Some(c) = next_facet_line(bytes, from)
            && c > *cuts.last()?
        {
            cuts.push(c);
        }
    }
    cuts.push(bytes.len());
    if cuts.len() < 3 {
        return None;
    }
    let parts: Vec<Option<Piece>> = cuts
        .par_windows(2)
        .enumerate()
        .map(|(i, w)| {
            let start = if i == 0 {
                Between::Solids
            } else {
                Between::Facets
            };
            parse_ascii_piece(&bytes[w[0]..w[1]], start)
        })
        .collect();
    let last = parts.len() - 1;
    let mut total = 0;
    for (i, p) in parts.iter().enumerate() {
        let (tris, end) = p.as_ref()?;
        let expected = if i == last {
            Between::Solids
        } else {
            Between::Facets
        };
        if *end != expected {
            return None;
        }
        total += tris.len();
    }
    let mut triangles = Vec::with_capacity(total);
    for p in parts {
        triangles.extend_from_slice(&p?.0);
    }
    Some(Soup { triangles })
}

/// A piece's triangles and where it ends.
type Piece = (Vec<[[f64; 3]; 3]>, Between);

/// The first `facet` token at or after `from` that is the first token of its line.
fn next_facet_line(bytes: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    loop {
        i += bytes.get(i..)?.iter().position(|&b| b == b'\n')? + 1;
        let mut j = i;
        while j < bytes.len() && bytes[j] != b'\n' && bytes[j].is_ascii_whitespace() {
            j += 1;
        }
        let rest = &bytes[j..];
        if rest.len() > 5 && rest.starts_with(b"facet") && rest[5].is_ascii_whitespace() {
            return Some(j);
        }
    }
}

/// One piece of an ASCII STL that starts `start`: its triangles and where it ends, or `None`
/// on anything the sequential reader would refuse.
fn parse_ascii_piece(bytes: &[u8], start: Between) -> Option<Piece> {
    let mut tok = Tokens::new(bytes);
    let mut triangles = Vec::with_capacity(bytes.len() / 160);
    let mut at = start;
    // a number read in place when it is the common form and ends at whitespace, else as a token
    let number = |tok: &mut Tokens| -> Option<f64> {
        tok.skip_space();
        let rest = &tok.bytes[tok.pos..];
        match fast_number_prefix(rest) {
            Some((x, used)) if rest.get(used).is_none_or(|b| b.is_ascii_whitespace()) => {
                tok.pos += used;
                Some(x)
            }
            _ => parse_number(tok.next()?.1),
        }
    };
    loop {
        let Some((_, word)) = tok.next() else {
            return Some((triangles, at));
        };
        match (at, word) {
            (Between::Solids, b"solid") => {
                tok.skip_line();
                at = Between::Facets;
                continue;
            }
            (Between::Facets, b"endsolid") => {
                tok.skip_line();
                at = Between::Solids;
                continue;
            }
            (Between::Facets, b"facet") => {}
            _ => return None,
        }
        if tok.next()?.1 != b"normal" {
            return None;
        }
        for _ in 0..3 {
            number(&mut tok)?;
        }
        if tok.next()?.1 != b"outer" || tok.next()?.1 != b"loop" {
            return None;
        }
        let mut tri = [[0.0; 3]; 3];
        for corner in tri.iter_mut() {
            if tok.next()?.1 != b"vertex" {
                return None;
            }
            for c in corner.iter_mut() {
                *c = number(&mut tok).filter(|x| x.is_finite())?;
            }
        }
        if tok.next()?.1 != b"endloop" || tok.next()?.1 != b"endfacet" {
            return None;
        }
        triangles.push(tri);
    }
}

/// A number token, as `str::parse::<f64>` reads it. The common form (`-1.234567e+01`: at most 19
/// significant digits making an integer below 2^53, and a power of ten of at most 22) is
/// computed directly as one exact integer times or divided by one exact power of ten, a single
/// correctly rounded operation and so the same value (Clinger's fast path); anything else goes
/// to the standard parser.
fn parse_number(w: &[u8]) -> Option<f64> {
    fast_number(w).or_else(|| std::str::from_utf8(w).ok()?.parse::<f64>().ok())
}

fn fast_number(w: &[u8]) -> Option<f64> {
    fast_number_prefix(w)
        .filter(|&(_, used)| used == w.len())
        .map(|(x, _)| x)
}

/// The fast path of [`parse_number`] on the number at the start of `w`, and the bytes it used;
/// `None` where that form does not apply.
fn fast_number_prefix(w: &[u8]) -> Option<(f64, usize)> {
    const POW10: [f64; 23] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
        1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ];
    let (negative, mut i) = match w.first()? {
        b'-' => (true, 1),
        b'+' => (false, 1),
        _ => (false, 0),
    };
    let mut mantissa = 0u64;
    let mut digits = 0u32;
    let mut scale = 0i32;
    while let Some(d) = w.get(i).filter(|b| b.is_ascii_digit()) {
        mantissa = mantissa * 10 + (d - b'0') as u64;
        digits += 1;
        i += 1;
        if digits > 19 {
            return None;
        }
    }
    if w.get(i) == Some(&b'.') {
        i += 1;
        while let Some(d) = w.get(i).filter(|b| b.is_ascii_digit()) {
            mantissa = mantissa * 10 + (d - b'0') as u64;
            digits += 1;
            scale -= 1;
            i += 1;
            if digits > 19 {
                return None;
            }
        }
    }
    if digits == 0 {
        return None;
    }
    if matches!(w.get(i), Some(b'e' | b'E')) {
        i += 1;
        let negative_exp = match w.get(i) {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        let start = i;
        let mut exp = 0i32;
        while let Some(d) = w.get(i).filter(|b| b.is_ascii_digit()) {
            exp = exp * 10 + (d - b'0') as i32;
            i += 1;
            if i - start > 4 {
                return None;
            }
        }
        if i == start {
            return None;
        }
        scale += if negative_exp { -exp } else { exp };
    }
    if mantissa > 1 << 53 || scale.abs() > 22 {
        return None;
    }
    let m = mantissa as f64;
    let x = if scale >= 0 {
        m * POW10[scale as usize]
    } else {
        m / POW10[(-scale) as usize]
    };
    Some((if negative { -x } else { x }, i))
}

/// The ASCII reader, one token after another, with line numbers in its errors.
fn parse_ascii_sequential(bytes: &[u8]) -> Result<Soup, StlError> {
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

    /// Skips whitespace, counting lines.
    fn skip_space(&mut self) {
        while self.pos < self.bytes.len() && self.bytes[self.pos].is_ascii_whitespace() {
            if self.bytes[self.pos] == b'\n' {
                self.line += 1;
            }
            self.pos += 1;
        }
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
        parse_number(w)
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
    #[error("cannot write {path}: it exists and is read-only (not replaced)")]
    ReadOnly { path: String },
    #[error("cannot write {path}: it is a folder")]
    Folder { path: String },
}

/// Binary STL bytes of a mesh (coordinates in mm, f32 as the format holds them).
pub fn to_binary(mesh: &Mesh) -> Vec<u8> {
    let mut out = vec![0u8; 84 + 50 * mesh.triangles.len()];
    let (head, records) = out.split_at_mut(84);
    head[..80].fill(b' ');
    let text = b"fab-geometry binary STL, millimetres";
    head[..text.len()].copy_from_slice(text);
    head[80..].copy_from_slice(&(mesh.triangles.len() as u32).to_le_bytes());
    // One 50-byte record per triangle (normal, three corners as f32, a zero attribute count),
    // written in parallel: an offset surface has hundreds of thousands.
    records.par_chunks_mut(50).enumerate().for_each(|(t, rec)| {
        let n = mesh.triangle_normal(t);
        let n = if n.norm() > 0.0 { n.normalize() } else { n };
        let [a, b, c] = mesh.triangle(t);
        let xs = [n.x, n.y, n.z, a.x, a.y, a.z, b.x, b.y, b.z, c.x, c.y, c.z];
        for (slot, x) in rec.chunks_exact_mut(4).zip(xs) {
            slot.copy_from_slice(&(x as f32).to_le_bytes());
        }
    });
    out
}

/// Writes `mesh` as binary STL to `path` atomically (see [`write_atomic`]).
pub fn write_stl(path: &Path, mesh: &Mesh) -> Result<(), WriteError> {
    if mesh.triangles.len() > u32::MAX as usize {
        return Err(WriteError::TooLarge {
            path: path.display().to_string(),
            triangles: mesh.triangles.len(),
        });
    }
    write_atomic(path, &to_binary(mesh))
}

/// Writes bytes to `path` all or nothing: into a new temporary file in the same folder (a random
/// name, created exclusively, so never an existing file nor through a planted symlink), synced,
/// then renamed over `path`. On failure the temporary file is removed and `path` is untouched.
/// An existing `path` that is read-only or a folder is refused, not replaced.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    let shown = || path.display().to_string();
    if let Ok(m) = std::fs::symlink_metadata(path) {
        if m.is_dir() {
            return Err(WriteError::Folder { path: shown() });
        }
        if m.permissions().readonly() {
            return Err(WriteError::ReadOnly { path: shown() });
        }
    }
    let io = |cause| WriteError::Io {
        path: shown(),
        cause,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    let prefix = format!(".{name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    // an output file as any other the user makes (the umask applies), not tempfile's 0600
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let mut tmp = builder.tempfile_in(dir).map_err(io)?;
    tmp.write_all(bytes).map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    // on failure the temporary file is removed when `persist`'s error is dropped
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The files in `dir`, sorted.
    fn listing(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn write_atomic_replaces_whole_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.stl");
        std::fs::write(&out, b"old").unwrap();
        write_atomic(&out, b"new bytes").unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), b"new bytes");
        assert_eq!(listing(dir.path()), ["out.stl"]);
        #[cfg(unix)]
        {
            // readable by others as any file the user makes (umask 022 here), not 0600
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&out).unwrap().permissions().mode();
            let umask = umask_of_files_in(dir.path());
            assert_eq!(mode & 0o777, 0o666 & !umask, "{mode:o}");
        }
    }

    /// The process's umask, read from a file made the ordinary way.
    #[cfg(unix)]
    fn umask_of_files_in(dir: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        let probe = dir.join("probe");
        std::fs::write(&probe, b"").unwrap();
        let mode = std::fs::metadata(&probe).unwrap().permissions().mode();
        std::fs::remove_file(&probe).unwrap();
        0o666 & !(mode & 0o777)
    }

    #[test]
    fn write_atomic_refuses_read_only_and_folders() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("old.stl");
        std::fs::write(&out, b"approved").unwrap();
        let mut perm = std::fs::metadata(&out).unwrap().permissions();
        perm.set_readonly(true);
        std::fs::set_permissions(&out, perm).unwrap();
        let e = write_atomic(&out, b"new").unwrap_err();
        assert!(matches!(e, WriteError::ReadOnly { .. }), "{e}");
        assert!(e.to_string().contains("read-only"), "{e}");
        assert_eq!(std::fs::read(&out).unwrap(), b"approved");
        let e = write_atomic(dir.path(), b"new").unwrap_err();
        assert!(matches!(e, WriteError::Folder { .. }), "{e}");
        assert_eq!(listing(dir.path()), ["old.stl"]);
    }

    /// The temporary name is not predictable: links planted under every name the old writer
    /// would have used (process id) are left alone, and so are their targets.
    #[cfg(unix)]
    #[test]
    fn write_atomic_never_writes_through_a_planted_link() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim.txt");
        std::fs::write(&victim, b"precious").unwrap();
        let planted = dir
            .path()
            .join(format!(".out.stl.{}.tmp", std::process::id()));
        std::os::unix::fs::symlink(&victim, &planted).unwrap();
        let out = dir.path().join("out.stl");
        write_atomic(&out, b"mesh").unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
        assert_eq!(std::fs::read(&out).unwrap(), b"mesh");
        assert!(
            std::fs::symlink_metadata(&planted)
                .unwrap()
                .file_type()
                .is_symlink()
        );
    }

    #[test]
    fn write_atomic_into_a_missing_folder_fails_cleanly() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("no/such/out.stl");
        let e = write_atomic(&out, b"x").unwrap_err();
        assert!(e.to_string().contains("out.stl"), "{e}");
        assert!(listing(dir.path()).is_empty());
    }

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

    /// ASCII text of `n` facets in `solids` solids, with untidy whitespace (tabs, CRLF,
    /// indentation) and a solid name holding the word facet.
    fn ascii(n: usize, solids: usize) -> String {
        let mut out = String::new();
        for s in 0..solids {
            out.push_str(&format!("solid part{s} facet\r\n"));
            for i in 0..n {
                let x = (s * n + i) as f64 * 0.25;
                let indent = if i % 3 == 0 { "\t" } else { "  " };
                out.push_str(&format!(
                    "{indent}facet normal 0 0 1\r\n  outer loop\n    vertex {x} 0 0\n    vertex {} 1.5e-1 0\n\tvertex 0 {x} -2\n  endloop\n{indent}endfacet\n",
                    x + 1.0
                ));
            }
            out.push_str(&format!("endsolid part{s}\n"));
        }
        out
    }

    #[test]
    fn parallel_ascii_pieces_give_the_sequential_triangles() {
        let text = ascii(300, 3);
        let seq = parse_ascii_sequential(text.as_bytes()).unwrap();
        assert_eq!(seq.triangles.len(), 900);
        for pieces in [2, 3, 7, 64, 5000] {
            let par = parse_ascii_parallel(text.as_bytes(), pieces).unwrap();
            assert_eq!(par.triangles, seq.triangles, "{pieces} pieces");
        }
    }

    #[test]
    fn parallel_ascii_pieces_refuse_what_the_sequential_reader_refuses() {
        let good = ascii(200, 2);
        // a facet between two solids, a non-finite vertex, a missing endsolid
        let stray = good.replacen("endsolid part0\n", "endsolid part0\nfacet normal 0 0 1 outer loop vertex 0 0 0 vertex 1 0 0 vertex 0 1 0 endloop endfacet\n", 1);
        let nan = good.replacen("vertex 26 0 0", "vertex 26 nan 0", 1);
        let open = good
            .trim_end()
            .trim_end_matches("endsolid part1")
            .to_string();
        for bad in [stray, nan, open] {
            assert!(parse_ascii_sequential(bad.as_bytes()).is_err());
            for pieces in [2, 3, 9, 400] {
                assert!(parse_ascii_parallel(bad.as_bytes(), pieces).is_none());
            }
        }
    }

    #[test]
    fn binary_reports_the_first_non_finite_coordinate() {
        let mut tris = vec![TRI; 1000];
        tris[700][2][1] = f32::INFINITY;
        tris[900][0][0] = f32::NAN;
        let e = parse(&binary(1000, &tris)).unwrap_err();
        assert!(
            matches!(
                e,
                StlError::NonFinite {
                    triangle: 700,
                    vertex: 2,
                    line: None,
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn numbers_read_as_the_standard_parser_reads_them() {
        let mut seed = 0x9E3779B97F4A7C15u64;
        let mut words: Vec<String> = [
            "0",
            "-0",
            "+1",
            "1.",
            ".5",
            "-.5e3",
            "2.223890e+02",
            "4.598250E+01",
            "1e22",
            "1e23",
            "9007199254740993",
            "12345678901234567890",
            "1e-400",
            "1e400",
            "nan",
            "inf",
            "-inf",
            "1e",
            "e5",
            ".",
            "-",
            "1.2.3",
            "0x10",
            "1e+",
            "3.4028235e38",
            "1_0",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for _ in 0..20000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let x = f64::from_bits(seed);
            let f = (seed % 1000) as f32 * 0.731 - 300.0;
            words.push(format!("{x:e}"));
            words.push(format!("{f:e}"));
            words.push(format!("{:.6e}", f));
            words.push(format!("{}", f));
            words.push(format!("{:.9}", x.abs().fract()));
        }
        for w in &words {
            let std = w.parse::<f64>().ok();
            let ours = parse_number(w.as_bytes());
            assert_eq!(ours.map(f64::to_bits), std.map(f64::to_bits), "{w}");
        }
    }
}
