//! Loading a scan: STL bytes -> units decided -> welded, cleaned, consistently oriented mesh in
//! millimetres, with a report of every change made.
//!
//! ```no_run
//! use fab_geometry::load::{load_path, Units};
//! let loaded = load_path(std::path::Path::new("foot.stl"), Units::Auto)?;
//! println!("{}", loaded.report);
//! # Ok::<(), fab_geometry::load::LoadError>(())
//! ```

use std::fmt;

use rayon::prelude::*;
use std::path::{Path, PathBuf};

use crate::mesh::Mesh;
use crate::repair::{self, Cleaned, Reoriented};
use crate::stl::{self, Flavour, StlError};
use crate::topology::{self, DroppedFragments};
pub use crate::units::{Units, UnitsDecision, UnitsError};

/// A loaded scan: the repaired mesh in mm and what was done to it.
#[derive(Clone, Debug)]
pub struct Loaded {
    pub mesh: Mesh,
    pub report: LoadReport,
}

/// What loading found and changed.
#[derive(Clone, Debug, serde::Serialize)]
pub struct LoadReport {
    pub flavour: Flavour,
    /// Triangles in the file.
    pub triangles_read: usize,
    /// The units used and why.
    pub units: UnitsDecision,
    /// Welding tolerance used, mm.
    pub weld_tolerance_mm: f64,
    /// Triangle corners in the file (3 per triangle) and the distinct vertices they welded into.
    pub corners_read: usize,
    pub vertices: usize,
    /// Degenerate and duplicate triangles dropped.
    pub dropped: Cleaned,
    /// Triangles flipped for a consistent, outward winding.
    pub reoriented: Reoriented,
    /// Stray fragments dropped.
    pub fragments: DroppedFragments,
    /// Triangles in the loaded mesh.
    pub triangles: usize,
}

impl LoadReport {
    /// True when loading changed nothing but welding shared corners.
    pub fn unchanged(&self) -> bool {
        self.dropped == Cleaned::default()
            && self.reoriented == Reoriented::default()
            && self.fragments == DroppedFragments::default()
    }
}

impl fmt::Display for LoadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "read {} triangles ({})",
            self.triangles_read, self.flavour
        )?;
        writeln!(
            f,
            "units: {} (x{} to mm): {}",
            self.units.units, self.units.scale, self.units.reason
        )?;
        writeln!(
            f,
            "welded {} corners into {} vertices (tolerance {} mm)",
            self.corners_read, self.vertices, self.weld_tolerance_mm
        )?;
        writeln!(
            f,
            "dropped {} degenerate and {} duplicate triangles",
            self.dropped.degenerate, self.dropped.duplicate
        )?;
        writeln!(
            f,
            "reoriented {} triangles for consistency, {} components ({} triangles) turned outward",
            self.reoriented.flipped_for_consistency,
            self.reoriented.components_turned_outward,
            self.reoriented.triangles_turned_outward
        )?;
        if self.fragments.components > 0 {
            writeln!(
                f,
                "dropped {} stray fragments ({} triangles)",
                self.fragments.components, self.fragments.triangles
            )?;
        }
        write!(f, "{} triangles loaded", self.triangles)
    }
}

/// What was wrong.
#[derive(Debug, thiserror::Error)]
pub enum LoadErrorKind {
    #[error("cannot read: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Stl(#[from] StlError),
    #[error(transparent)]
    Obj(#[from] crate::obj::ObjError),
    #[error(transparent)]
    Ply(#[from] crate::ply::PlyError),
    #[error(transparent)]
    Units(#[from] UnitsError),
    #[error(
        "{flavour}: no triangles left after cleaning: {read} read, {degenerate} degenerate and {duplicate} duplicate dropped"
    )]
    NoTriangles {
        /// What the file was read as.
        flavour: Flavour,
        read: usize,
        degenerate: usize,
        duplicate: usize,
    },
}

/// A scan that could not be loaded: which file and why.
#[derive(Debug)]
pub struct LoadError {
    pub path: Option<PathBuf>,
    pub kind: LoadErrorKind,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.path {
            Some(p) => write!(f, "{}: {}", p.display(), self.kind),
            None => self.kind.fmt(f),
        }
    }
}

/// The message already carries the cause (`cannot read: Is a directory`); giving it again as a
/// source would make error reports print it twice.
impl std::error::Error for LoadError {}

impl<E: Into<LoadErrorKind>> From<E> for LoadError {
    fn from(e: E) -> Self {
        LoadError {
            path: None,
            kind: e.into(),
        }
    }
}

/// Loads a scan file (binary or ASCII STL, OBJ or PLY). Errors name the file.
pub fn load_path(path: &Path, units: Units) -> Result<Loaded, LoadError> {
    let named = |kind: LoadErrorKind| LoadError {
        path: Some(path.to_path_buf()),
        kind,
    };
    let bytes = std::fs::read(path).map_err(|e| named(e.into()))?;
    // the content decides, but a file named .obj or .ply that does not look like one is read
    // as what its name says, so the error is about that format rather than about STL
    let hint = match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("obj") => Some(Flavour::Obj),
        Some("ply") => Some(Flavour::Ply),
        _ => None,
    };
    // the file's bytes go as soon as they are parsed: the soup is all the rest needs
    let (soup, flavour) = parse_hinted(&bytes, hint).map_err(|e| named(e.kind))?;
    drop(bytes);
    repair_soup(soup, flavour, units).map_err(|e| named(e.kind))
}

/// Loads a scan from bytes: STL (binary or ASCII), OBJ or PLY, told apart by content.
pub fn load_bytes(bytes: &[u8], units: Units) -> Result<Loaded, LoadError> {
    load_bytes_hinted(bytes, units, None)
}

/// `load_bytes`, reading content that is neither a binary STL nor recognisably another format
/// as `hint` (OBJ or PLY, from the file's name) rather than as STL.
fn load_bytes_hinted(
    bytes: &[u8],
    units: Units,
    hint: Option<Flavour>,
) -> Result<Loaded, LoadError> {
    let (soup, flavour) = parse_hinted(bytes, hint)?;
    repair_soup(soup, flavour, units)
}

/// The triangle soup of a file's bytes and what they were read as (see [`load_bytes_hinted`]).
fn parse_hinted(bytes: &[u8], hint: Option<Flavour>) -> Result<(stl::Soup, Flavour), LoadError> {
    // A binary STL whose length matches its header is one, whatever its header text says.
    let binary_stl = bytes.len() >= 84
        && 84 + 50 * u32::from_le_bytes([bytes[80], bytes[81], bytes[82], bytes[83]]) as u64
            == bytes.len() as u64;
    let ply = crate::ply::looks_like_ply(bytes);
    let obj = crate::obj::looks_like_obj(bytes);
    let ascii_stl = bytes.trim_ascii_start().starts_with(b"solid");
    let hint = hint.filter(|_| !ascii_stl);
    Ok(
        if !binary_stl && (ply || (!obj && hint == Some(Flavour::Ply))) {
            (crate::ply::parse(bytes)?, Flavour::Ply)
        } else if !binary_stl && (obj || hint == Some(Flavour::Obj)) {
            (crate::obj::parse(bytes)?, Flavour::Obj)
        } else {
            stl::parse(bytes)?
        },
    )
}

/// Units, weld, clean, orient and fragments: a soup as read becomes the loaded mesh.
fn repair_soup(mut soup: stl::Soup, flavour: Flavour, units: Units) -> Result<Loaded, LoadError> {
    let read = soup.triangles.len();
    if read == 0 {
        return Err(LoadErrorKind::NoTriangles {
            flavour,
            read,
            degenerate: 0,
            duplicate: 0,
        }
        .into());
    }
    let extent = largest_extent(&soup.triangles);
    let decision = crate::units::decide(units, extent)?;
    if decision.scale != 1.0 {
        let s = decision.scale;
        soup.triangles.par_iter_mut().for_each(|t| {
            for p in t.iter_mut() {
                for x in p.iter_mut() {
                    *x *= s;
                }
            }
        });
    }
    let mut mesh = repair::weld(&soup.triangles, repair::WELD_TOLERANCE_MM);
    drop(soup);
    let dropped = repair::clean(&mut mesh);
    if mesh.triangles.is_empty() {
        return Err(LoadErrorKind::NoTriangles {
            flavour,
            read,
            degenerate: dropped.degenerate,
            duplicate: dropped.duplicate,
        }
        .into());
    }
    let reoriented = repair::orient(&mut mesh);
    let fragments = topology::drop_fragments(&mut mesh);
    let report = LoadReport {
        flavour,
        triangles_read: read,
        units: decision,
        weld_tolerance_mm: repair::WELD_TOLERANCE_MM,
        corners_read: read * 3,
        vertices: mesh.vertices.len(),
        dropped,
        reoriented,
        fragments,
        triangles: mesh.triangles.len(),
    };
    Ok(Loaded { mesh, report })
}

/// Largest bounding-box extent of a soup (0 for an empty one).
fn largest_extent(tris: &[[[f64; 3]; 3]]) -> f64 {
    if tris.is_empty() {
        return 0.0;
    }
    let bounds = |t: &[[f64; 3]; 3]| {
        let mut lo = [f64::MAX; 3];
        let mut hi = [f64::MIN; 3];
        for p in t {
            for k in 0..3 {
                lo[k] = lo[k].min(p[k]);
                hi[k] = hi[k].max(p[k]);
            }
        }
        (lo, hi)
    };
    let (lo, hi) = tris.par_iter().map(bounds).reduce(
        || ([f64::MAX; 3], [f64::MIN; 3]),
        |(alo, ahi), (blo, bhi)| {
            (
                [0, 1, 2].map(|k| alo[k].min(blo[k])),
                [0, 1, 2].map(|k| ahi[k].max(bhi[k])),
            )
        },
    );
    (0..3).map(|k| hi[k] - lo[k]).fold(0.0, f64::max)
}
