//! Wavefront OBJ, as scanning apps write it: `v x y z [w]` vertices, `f` faces of three or more
//! corners (`i`, `i/t`, `i//n`, `i/t/n`; negative indices count back from the last vertex),
//! polygons split into triangle fans. Everything else (normals, texture coordinates, groups,
//! materials) is skipped. Errors name the line.

use crate::stl::Soup;

/// Why text is not a usable OBJ.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ObjError {
    #[error("OBJ, line {line}: {what}")]
    Line { line: usize, what: String },
    #[error("OBJ, line {line}: vertex {vertex} has a non-finite coordinate ({value})")]
    NonFinite {
        line: usize,
        vertex: usize,
        value: f64,
    },
}

/// The most triangles an OBJ's faces may make (a polygon of `n` corners makes `n - 2`): far
/// beyond any scan (scanners export a few million), and a bound on memory, since a face's corner
/// can be two bytes of text but its triangle is 72 bytes of coordinates.
pub const MAX_TRIANGLES: usize = 20_000_000;

/// True when the text looks like an OBJ (a `v ` line before any other statement).
pub fn looks_like_obj(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(4096)];
    let Ok(text) = std::str::from_utf8(head) else {
        return false;
    };
    for line in text.lines() {
        let l = line.trim_start();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let word = l.split_whitespace().next().unwrap_or("");
        match word {
            "v" => return true,
            "mtllib" | "o" | "g" | "s" | "usemtl" | "vn" | "vt" => continue,
            _ => return false,
        }
    }
    false
}

/// Parses OBJ text into a triangle soup (file units).
pub fn parse(bytes: &[u8]) -> Result<Soup, ObjError> {
    parse_at_most(bytes, MAX_TRIANGLES)
}

/// [`parse`], refusing faces that make more than `max_triangles`.
fn parse_at_most(bytes: &[u8], max_triangles: usize) -> Result<Soup, ObjError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        ObjError::Line {
            line,
            what: "not UTF-8 text".into(),
        }
    })?;
    let mut verts: Vec<[f64; 3]> = Vec::new();
    // corners by index while reading (12 bytes a triangle, not 72), checked against the limit
    let mut tris: Vec<[u32; 3]> = Vec::new();
    let mut corners: Vec<usize> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let l = raw.split('#').next().unwrap_or("");
        let mut words = l.split_whitespace();
        match words.next() {
            Some("v") => {
                let mut p = [0.0; 3];
                for (k, c) in p.iter_mut().enumerate() {
                    let w = words.next().ok_or_else(|| ObjError::Line {
                        line,
                        what: format!("a vertex needs 3 coordinates, found {k}"),
                    })?;
                    *c = w.parse::<f64>().map_err(|_| ObjError::Line {
                        line,
                        what: format!("found `{}`, expected a number", shown(w)),
                    })?;
                    if !c.is_finite() {
                        return Err(ObjError::NonFinite {
                            line,
                            vertex: verts.len() + 1,
                            value: *c,
                        });
                    }
                }
                if verts.len() >= u32::MAX as usize {
                    return Err(ObjError::Line {
                        line,
                        what: format!("more than {} vertices", u32::MAX),
                    });
                }
                verts.push(p);
            }
            Some("f") => {
                corners.clear();
                for w in words {
                    let idx = w.split('/').next().unwrap_or("");
                    let n: i64 = idx.parse().map_err(|_| ObjError::Line {
                        line,
                        what: format!("found `{}`, expected a vertex index", shown(w)),
                    })?;
                    let resolved = if n > 0 {
                        n - 1
                    } else if n < 0 {
                        verts.len() as i64 + n
                    } else {
                        -1
                    };
                    if resolved < 0 || resolved >= verts.len() as i64 {
                        return Err(ObjError::Line {
                            line,
                            what: format!(
                                "vertex index {n} is outside the {} vertices defined so far",
                                verts.len()
                            ),
                        });
                    }
                    corners.push(resolved as usize);
                }
                if corners.len() < 3 {
                    return Err(ObjError::Line {
                        line,
                        what: format!("a face needs 3 or more corners, found {}", corners.len()),
                    });
                }
                if tris.len() + corners.len() - 2 > max_triangles {
                    return Err(ObjError::Line {
                        line,
                        what: format!(
                            "the faces so far make more than {max_triangles} triangles, the most \
                             fab reads"
                        ),
                    });
                }
                for k in 1..corners.len() - 1 {
                    tris.push([corners[0], corners[k], corners[k + 1]].map(|c| c as u32));
                }
            }
            _ => {}
        }
    }
    Ok(Soup {
        triangles: tris.iter().map(|t| t.map(|c| verts[c as usize])).collect(),
    })
}

/// A word of the file as an error shows it: at most 40 characters.
fn shown(w: &str) -> String {
    let mut s: String = w.chars().take(40).collect();
    if s.len() < w.len() {
        s.push_str("...");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quads_negative_indices_and_slashes() {
        let text = "# cube side\nv 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nvn 0 0 1\nf 1//1 2//1 3//1 4//1\nf -4/1 -2/1 -1/1\n";
        assert!(looks_like_obj(text.as_bytes()));
        let s = parse(text.as_bytes()).unwrap();
        assert_eq!(s.triangles.len(), 3);
        assert_eq!(
            s.triangles[1],
            [[0.0, 0.0, 0.0], [1.0, 1.0, 0.0], [0.0, 1.0, 0.0]]
        );
        assert_eq!(s.triangles[2][0], [0.0, 0.0, 0.0]);
    }

    #[test]
    fn bad_index_names_the_line() {
        let e = parse(b"v 0 0 0\nv 1 0 0\nf 1 2 3\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "OBJ, line 3: vertex index 3 is outside the 2 vertices defined so far"
        );
        assert!(!looks_like_obj(b"solid x\n"));
    }

    #[test]
    fn a_long_bad_word_is_shown_cut_short() {
        let text = format!("v 0 0 {}\n", "9".repeat(100_000) + "x");
        let e = parse(text.as_bytes()).unwrap_err().to_string();
        assert!(e.len() < 120 && e.contains("line 1"), "{e}");
    }

    #[test]
    fn faces_past_the_triangle_limit_are_refused_naming_the_line() {
        // a polygon of 12 corners makes 10 triangles: 3 + 10 > 12
        let text =
            "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\nf 1 2 3\nf 1 2 3\nf 1 2 3 1 2 3 1 2 3 1 2 3\n";
        assert_eq!(
            parse_at_most(text.as_bytes(), 13).unwrap().triangles.len(),
            13
        );
        let e = parse_at_most(text.as_bytes(), 12).unwrap_err();
        assert_eq!(
            e.to_string(),
            "OBJ, line 7: the faces so far make more than 12 triangles, the most fab reads"
        );
    }
}
