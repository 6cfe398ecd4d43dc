//! True offset surfaces: every output point at distance `|D|` from the input mesh.
//!
//! A naive offset moves vertices along their normals and folds over itself in concave regions
//! and wherever an inward offset is larger than a feature. Here the offset is instead the level
//! set of the exact distance to the input, so it cannot fold:
//!
//! 1. **Field.** Exact point-to-mesh distance from a BVH ([`crate::query`]). A *closed* mesh
//!    (every edge shared by two opposite triangles) gets a sign from angle-weighted
//!    pseudo-normals, and the output is the level set `signed distance = D`: outward for `D > 0`,
//!    inward for `D < 0`.
//! 2. **Open meshes have no inside**, so an outward or inward offset of one is not defined: it is
//!    refused ([`OffsetError::Open`]) unless [`OffsetOptions::two_sided`] asks for a two-sided
//!    sheet. A scan open at a cut (a residual limb at its proximal trim) is then offset as the
//!    level set `unsigned distance = D` (`D > 0`; a negative `D` is refused, so `+D` and `-D`
//!    never give the same surface): one closed surface wrapping the scan on both sides and
//!    rounding its open rim with a half-torus of radius `D`. Every point is exactly `D` from the
//!    scan and the result is watertight. [`OffsetReport::mode`] says which was done, and
//!    `fab mesh offset` prints it. (Closing the scan first would invent geometry at the cut; the
//!    lab trims there anyway.)
//! 3. **Sparse narrow band by scan conversion** (`scan`, `band`). Each face, edge and vertex of
//!    the input has a convex region holding every point whose nearest point lies on it (a prism,
//!    a wedge, a cone, from its neighbours alone). Scanning each region over the grid of cell `h`
//!    at distances within `2 sqrt(3) h` of the level, each point keeping its nearest feature,
//!    gives the exact value of every point that near the level with one closest-point test, not
//!    a tree search. The 2x2x2-cell leaves whose centre is within the leaf's half-diagonal of the
//!    level are kept (the distance is 1-Lipschitz, so no other leaf holds surface); a leaf centre
//!    is confirmed by the tree (a point deep inside a thin part can be reached only by a farther
//!    feature). Values live in a sparse block grid; nothing for the rest. A mesh much finer than
//!    the grid (mean triangle under one cell face, e.g. a scan subdivided for smoothness) would
//!    make several regions per grid point, each with its own set-up, so its band is found instead
//!    by an octree descent with a tree query per block centre and leaf corner ([`BandSearch`]).
//!    The same regions, grown by half a cell and tested at the centres of the crossed cells of
//!    the blocks they reach, give each cell the surface crosses a list of the few triangles that
//!    can be nearest to any point in it (`lists`, ~4 on a foot): the exact queries of projection
//!    and refinement in those cells test their list, not the tree (after a scanned band only).
//! 4. **Dual extraction** (`nets`): one vertex per patch of the surface in each cell, one quad per
//!    grid edge the surface crosses, with marching cubes' topology (asymptotic decider on faces),
//!    so the result is a closed 2-manifold. Each vertex is placed at the least-squares point of
//!    the exact tangent planes at its cell's corners (dual contouring: on a crease where the cell
//!    holds one, and never outside the cell, but for the rim of a blade, which may lie up to a
//!    cell outside), then projected exactly onto the level set:
//!    `p <- c + |D| (p - c) / |p - c|` with `c` the nearest input point, repeated with the new `c`.
//!    Each quad is split along the diagonal whose triangles face the surface normals best.
//! 5. **Adaptive refinement.** Each edge off the level set by more than the tolerance, at its
//!    midpoint or, for an edge across a crease, where it passes the crease, is split there
//!    (at the crease point when there is one) and the new vertex projected; conforming splits
//!    keep the mesh watertight. Only triangles whose corner normals disagree are measured (all
//!    three edges of such a triangle, since an edge whose two ends agree can still span a
//!    dimple), and those across a crease also inside (centroid and halfway to each corner). A
//!    few rounds: curved parts and creases get small triangles, flat parts stay coarse. A split
//!    that would fold the surface, or leave a child with no area (three corners on one crease
//!    line), moves to the projected midpoint; if that folds too, to the point of the surface
//!    straight above the edge along its ends' mean normal (a nearest-point projection near a
//!    corner where three sheets meet can slide onto the third sheet, to the side of the edge);
//!    if that folds too, it is kept where every child still faces as its parent did, else
//!    withdrawn. A vertex on a crease sharper than a right angle (the rim of a blade an inward
//!    offset leaves of a thin part) carries both faces' normals, and a triangle may follow
//!    either face.
//! 6. **Short edges collapsed** (under 10 um, with the link condition and without turning a
//!    triangle away from the surface normals) and **slivers flipped** (altitude under 2 um), so
//!    the output survives `f32` STL and the loader's 1 um weld and sliver removal as the same
//!    closed surface.
//! 7. **Crossing triangles taken apart** (`mend`): searched for over the whole surface when it
//!    is already suspect (sharp creases, folds, a place left off), else round the triangles
//!    across a valley, where a chord can pass under the other side's triangles; each crossing is
//!    undone by the collapse or flip of an edge at its triangles that leaves fewer crossings
//!    round about and the new triangles within half the error allowed (else two in turn, or one
//!    among the triangles round them, then the same within 0.8 of the error allowed). Before
//!    that, the places refinement found off and could not split, and on a suspect surface every
//!    triangle off by more than 0.8 of the error allowed (a triangle across a valley whose
//!    corners' normals agree is never measured by refinement), get the collapse or flip that
//!    leaves them least off.
//!
//! The modules are one pipeline, each using only those before it: `grid` (the sparse block
//! grid), `scan` (feature regions), `lists` (candidate triangles per crossed cell), `field` (the
//! distance and projection, through the lists once there are some), `band`, `nets` (the
//! crossed cells and the dual surface), `refine`, `collapse`, `mend`; `check` stands apart.
//!
//! Everything runs in parallel (rayon) over blocks, corners, vertices and edges, with no
//! allocation per distance query. `FAB_OFFSET_TRACE=1` prints the time of each phase on stderr.
//!
//! [`check`] measures a finished offset against its input independently of all this (its own
//! tree and sample points): distance error, side, closedness, self-intersections.
//!
//! Known limits:
//! - Creases converge linearly (one halving per refinement round).
//! - An inward offset deeper than a part is half thick leaves a blade; where the blade is thinner
//!   than the triangles (the feet's toes beyond about 7 mm inward) a few triangles of its two
//!   faces can stay off and cross (at 8 mm in, foot-left keeps 0.17 mm and a crossing pair,
//!   foot-right passes; at 10 mm both fail).
//! - The grid cannot be coarser than about 1 mm for an inward offset or an open scan: a scan's
//!   faceted rim, or an inward offset's creases along every convex ridge, put several creases in
//!   one cell, and the dual vertex can sit on one only (at 1.5 mm, 4 of 14 turned feet at 4 mm
//!   in and 4 of 12 turned limbs at 3 to 8 mm miss; all are flagged). An outward offset of a
//!   closed mesh is rounded wherever the input is convex, and is made at [`OUTWARD_CELL`]
//!   (1.5 mm) by default, again at 1 mm if that surface is flagged.
//!
//! Such surfaces are flagged rather than passed off as sound: [`OffsetReport::needs_check`] says
//! when vertices sit on creases sharper than a right angle, triangles stay folded, a place
//! refinement found off could not be mended, or crossing triangles were found and not taken
//! apart, and `fab mesh offset` then runs [`check`] before writing and refuses a surface that
//! fails. Every failure met in the sweeps (`tests/offset_sweep.rs`) was flagged; that is a
//! finding on the fixtures, not a proof.

mod band;
mod check;
mod collapse;
mod field;
mod grid;
mod lists;
mod mend;
mod nets;
mod refine;
mod scan;

use crate::Mesh;
use crate::query::{Bvh, PseudoNormals};
use nalgebra::Point3;

pub use check::{OffsetCheck, check};

use field::Field;
use grid::{Grid, TOP};

/// Default grid cell, mm: fine enough to resolve the features of a foot or limb scan; the
/// refinement, not the grid, brings the accuracy.
pub const DEFAULT_CELL: f64 = 1.0;
/// Default grid cell for an outward offset of a closed mesh, mm (at most `|D| / 2`), tried before
/// [`DEFAULT_CELL`]. Such an offset is rounded (radius at least `D`) wherever the input is convex
/// and has creases only where the input is concave, so a coarser grid resolves it: 70 outward
/// offsets of both feet (7 poses, 2.5 to 8 mm) all meet the targets at it, with ~40 % fewer
/// triangles in ~30 % less time. Inward offsets (creases along every convex ridge) and open
/// scans (a faceted rim) miss there, so they keep [`DEFAULT_CELL`]; and a surface made at this
/// cell that is flagged ([`OffsetReport::needs_check`]) is made again at [`DEFAULT_CELL`].
pub const OUTWARD_CELL: f64 = 1.5;
/// The accuracy target, mm: the default [`OffsetOptions::max_error`].
pub const MAX_ERROR: f64 = 0.05;
/// Default tolerance on the distance of edge midpoints, mm: 0.9 of the 0.02 mm target at the
/// 99th percentile. Refinement leaves the error at many midpoints just under it, so the 99th
/// percentile over corners, midpoints and inner points lands near 0.93 of it: about 0.017 mm at
/// worst over 202 offsets (the 90-offset sweep, and 112 outward offsets of the feet in 8 poses),
/// where 0.015 gave about 0.014 with ~12 % more triangles and ~7 % more time.
pub const DEFAULT_TOLERANCE: f64 = 0.018;
/// The coarsest grid cell that may be asked for, mm: coarser cannot resolve a foot's toes or a
/// limb's rim (the surface then fails its check, or vanishes).
pub const MAX_CELL: f64 = 5.0;
/// The largest offset distance, mm, either way: far beyond any shell, liner or socket wall.
pub const MAX_DISTANCE: f64 = 200.0;
/// The range of [`OffsetOptions::tolerance`], mm: finer than 1 um is below what refinement can
/// resolve at scan scale (each round would split nearly every edge, about 4x the triangles a
/// round: 1.5 M triangles at 0.001 mm on a foot, memory exhausted at 0); coarser than 1 mm is no
/// offset to machine.
pub const TOLERANCE_RANGE: std::ops::RangeInclusive<f64> = 1e-3..=1.0;
/// Shortest edge left in the output, mm: well above `f32` rounding at scan scale and the 1e-3 mm
/// weld tolerance of [`crate::load`].
const MIN_EDGE: f64 = 2e-3;
/// Edges shorter than this are collapsed at the end: far below the tolerance (moving a vertex by
/// half of it changes no distance by more than that), and two slivers sharing such an edge
/// cannot be flipped away, only collapsed.
const COLLAPSE_EDGE: f64 = 1e-2;
/// Mean triangle area, in grid cells' faces, from which the band is scan converted
/// ([`band::by_scan`]) rather than searched by the tree ([`band::by_tree`]). Measured on
/// foot-left +3 split into 1, 4 and 16 (`perf stat`, scan vs tree CPU): 5.9 mm² 502 vs 642 ms,
/// 1.48 mm² 836 vs 911 ms, 0.37 mm² 1873 vs 1581 ms.
const SCAN_MIN_AREA: f64 = 1.0;
/// Room made for refinement's new vertices and triangles, as a fraction of the extracted ones
/// (on foot-left +3 it adds half as many again): the arrays are then made once, while the band's
/// and the extraction's freed memory can hold them, rather than doubled (and copied)
/// mid-refinement. A surface that needs more grows as a vector does.
const GROWTH: (usize, usize) = (3, 5);

/// An empty vector with room for `n` items and refinement's growth ([`GROWTH`]).
fn with_room<T>(n: usize) -> Vec<T> {
    Vec::with_capacity(n + n * GROWTH.0 / GROWTH.1)
}
/// A collapse or flip that takes crossing triangles apart may leave its new triangles at most
/// this share of [`OffsetOptions::max_error`] off the surface at the check's sample points: the
/// first where some change so held mends them, else the second.
const MEND_ERROR: [f64; 2] = [0.5, 0.8];
/// The most grid cells the band may be expected to touch, so a tiny cell cannot exhaust memory.
const MAX_BAND_CELLS: f64 = 4.0e7;

/// How to offset.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OffsetOptions {
    /// Offset distance `D` in mm: positive outward, negative inward.
    pub distance: f64,
    /// Grid cell in mm; `None` = the default: [`OUTWARD_CELL`] for an outward offset of a closed
    /// mesh (made again at [`DEFAULT_CELL`] if flagged), else [`DEFAULT_CELL`]; either capped at
    /// `|D| / 2` so thin sheets are seen.
    pub cell: Option<f64>,
    /// Largest allowed distance error of an edge midpoint, mm.
    pub tolerance: f64,
    /// Most refinement rounds.
    pub max_rounds: u32,
    /// The largest distance error a surface may be suspected of ([`OffsetReport::needs_check`])
    /// before a surface made at the default [`OUTWARD_CELL`] is made again at [`DEFAULT_CELL`], mm.
    pub max_error: f64,
    /// For an open mesh: offset it as a two-sided sheet at unsigned distance `D`, which must then
    /// be positive. Without it an open mesh is refused ([`OffsetError::Open`]). No effect on a
    /// closed mesh.
    pub two_sided: bool,
}

impl OffsetOptions {
    /// Default resolution and tolerance for distance `d`.
    pub fn new(distance: f64) -> Self {
        Self {
            distance,
            cell: None,
            tolerance: DEFAULT_TOLERANCE,
            max_rounds: 8,
            max_error: MAX_ERROR,
            two_sided: false,
        }
    }
}

/// Which surface was computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OffsetMode {
    /// Closed input: signed distance, outward or inward as `D`'s sign says.
    Solid,
    /// Open input, asked for ([`OffsetOptions::two_sided`]): the two-sided sheet at unsigned
    /// distance `D`.
    Sheet {
        /// Boundary edges of the input (why it is open).
        boundary_edges: usize,
    },
}

impl std::fmt::Display for OffsetMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OffsetMode::Solid => write!(f, "closed mesh: solid offset (signed distance)"),
            OffsetMode::Sheet { boundary_edges } => write!(
                f,
                "open mesh ({boundary_edges} boundary edges): two-sided sheet offset at unsigned distance |D|"
            ),
        }
    }
}

/// How the narrow band's exact values were found (see the module's step 3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BandSearch {
    /// Scan conversion of the mesh's faces, edges and vertices: for a mesh whose triangles are
    /// not much smaller than the grid's cells (a scan at its own resolution).
    Scan,
    /// A tree query per grid point: for a mesh much finer than the grid.
    Tree,
}

/// What the offset did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OffsetReport {
    pub mode: OffsetMode,
    /// How the band was found.
    pub band_search: BandSearch,
    /// Grid cell used, mm.
    pub cell: f64,
    /// The default [`OUTWARD_CELL`] (capped), when the surface made at it was flagged and this one
    /// was made at [`DEFAULT_CELL`] instead.
    pub coarse_refused: Option<f64>,
    /// Leaf blocks (2x2x2 cells) kept in the narrow band.
    pub band_leaves: usize,
    /// Grid points given an exact field value (by scan conversion or by tree queries, as
    /// `band_search` says; see the module's step 3).
    pub corner_queries: usize,
    /// Triangles straight from marching tetrahedra.
    pub extracted_triangles: usize,
    /// Refinement rounds run and edges split.
    pub refine_rounds: u32,
    pub refine_splits: usize,
    /// Edges left with a midpoint error above the tolerance (too short to split further).
    pub unresolved_edges: usize,
    /// Output vertices on a crease sharper than a right angle: the rim of a blade that an inward
    /// offset deeper than a part is half thick leaves. Where such a blade is thinner than the
    /// triangles, the surface can stay off or cross itself (see the module's known limits), so a
    /// surface with any is worth [`check`]ing before use. None in an ordinary offset.
    pub sharp_vertices: usize,
    /// Output triangles that face away from the surface normal at a corner (a fold refinement
    /// could not remove). None in an ordinary offset.
    pub folded_triangles: usize,
    /// The largest distance error, mm, at the places refinement found off but could not split
    /// (the split would have folded the surface, or the edge was too short) that are still in the
    /// final surface, measured there again (edge midpoints and crease crossings, centroids);
    /// 0 if there is no such place.
    pub unsplit_error: f64,
    /// Collapses and flips made to take apart crossing triangles.
    pub crossings_mended: usize,
    /// Pairs of crossing triangles found and not taken apart (searched for over the whole
    /// surface when it has sharp creases, folds or places left off, else round the triangles
    /// across a valley). None in an ordinary offset.
    pub crossing_pairs: usize,
}

impl OffsetReport {
    /// Whether the surface has the features where the method is known to fail (creases sharper
    /// than a right angle, folds, or a place refinement could not split that was off by more
    /// than `max_error` mm), so that it should be [`check`]ed before use. False for an ordinary
    /// offset.
    pub fn needs_check(&self, max_error: f64) -> bool {
        self.sharp_vertices > 0
            || self.folded_triangles > 0
            || self.unsplit_error > max_error
            || self.crossing_pairs > 0
    }
}

/// Why an offset could not be made.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum OffsetError {
    #[error("the mesh has no triangles")]
    Empty,
    #[error(
        "offset distance must be a non-zero number of mm from -{max} to {max} (got {0:?})",
        max = MAX_DISTANCE
    )]
    BadDistance(f64),
    #[error("grid cell must be a positive number of mm, at most {MAX_CELL} (got {0:?})")]
    BadCell(f64),
    #[error(
        "refinement tolerance must be from {lo} to {hi} mm (got {0:?})",
        lo = TOLERANCE_RANGE.start(),
        hi = TOLERANCE_RANGE.end()
    )]
    BadTolerance(f64),
    #[error(
        "the largest distance error allowed must be a finite positive number of mm (got {0:?})"
    )]
    BadMaxError(f64),
    #[error("the mesh has non-finite coordinates")]
    NonFinite,
    #[error(
        "a {cell} mm grid over this mesh would need about {} band cells (limit {limit:.0}); use a larger cell", crate::units::shown_size(*cells)
    )]
    TooFine { cell: f64, cells: f64, limit: f64 },
    #[error("the offset surface is empty: an inward offset of {0} mm removes the whole part")]
    Vanished(f64),
    /// The mesh bounds no solid and no two-sided sheet was asked for.
    #[error(
        "{0}, so it has no inside and an offset outward or inward is not defined: close the scan \
         first (cap its open cut), or offset it as a two-sided sheet"
    )]
    Open(crate::query::NotClosed),
    /// A two-sided sheet was asked for with a negative distance.
    #[error(
        "a two-sided sheet offset wraps both sides of the open mesh at the distance given: it \
         must be positive (got {0} mm; there is no inward side)"
    )]
    TwoSidedInward(f64),
}

fn surface_area(mesh: &Mesh) -> f64 {
    (0..mesh.triangles.len())
        .map(|t| mesh.triangle_normal(t).norm() / 2.0)
        .sum()
}

/// Offsets `mesh` by `opts.distance` mm. See the module documentation for the method.
pub fn offset(mesh: &Mesh, opts: &OffsetOptions) -> Result<(Mesh, OffsetReport), OffsetError> {
    // Run on one of rayon's threads, so that each of the many parallel steps below is a join
    // within the pool; called from any other thread, each would be handed to the pool and waited
    // for (two thread wake-ups per step).
    rayon::scope(|_| offset_in_pool(mesh, opts))
}

fn offset_in_pool(mesh: &Mesh, opts: &OffsetOptions) -> Result<(Mesh, OffsetReport), OffsetError> {
    let d = opts.distance;
    if !(d != 0.0 && d.abs() <= MAX_DISTANCE) {
        return Err(OffsetError::BadDistance(d));
    }
    if !TOLERANCE_RANGE.contains(&opts.tolerance) {
        return Err(OffsetError::BadTolerance(opts.tolerance));
    }
    if !(opts.max_error.is_finite() && opts.max_error > 0.0) {
        return Err(OffsetError::BadMaxError(opts.max_error));
    }
    if mesh.triangles.is_empty() {
        return Err(OffsetError::Empty);
    }
    let (lo, hi) = mesh.bounds().ok_or(OffsetError::Empty)?;
    if !(lo.iter().chain(hi.iter()).all(|c| c.is_finite())) {
        return Err(OffsetError::NonFinite);
    }
    let radius = d.abs();
    let h = match opts.cell {
        Some(c) if !(c > 0.0 && c <= MAX_CELL) => return Err(OffsetError::BadCell(c)),
        Some(c) => c,
        None => DEFAULT_CELL.min(radius / 2.0),
    };
    let area = surface_area(mesh);
    // The band is about (area of the offset) / h^2 cells; the offset's area is at most that of
    // the input grown by |D| all round.
    let ext = hi - lo;
    let grown = area
        + 2.0
            * ((ext.x + 2.0 * radius) * (ext.y + 2.0 * radius)
                + (ext.y + 2.0 * radius) * (ext.z + 2.0 * radius)
                + (ext.x + 2.0 * radius) * (ext.z + 2.0 * radius));
    let cells = 8.0 * grown / (h * h);
    if cells > MAX_BAND_CELLS {
        return Err(OffsetError::TooFine {
            cell: h,
            cells,
            limit: MAX_BAND_CELLS,
        });
    }

    let trace = std::env::var_os("FAB_OFFSET_TRACE").is_some();
    let clock = std::time::Instant::now();
    let (bvh, normals) = rayon::join(|| Bvh::new(mesh), || PseudoNormals::new(mesh));
    if let Err(why) = &normals {
        if !opts.two_sided {
            return Err(OffsetError::Open(*why));
        }
        if d < 0.0 {
            return Err(OffsetError::TwoSidedInward(d));
        }
    }
    let input = Input {
        mesh,
        bvh: &bvh,
        normals: normals.as_ref().ok(),
        bounds: ([lo.x, lo.y, lo.z], [hi.x, hi.y, hi.z]),
        area,
        trace,
        clock,
    };
    let coarse = OUTWARD_CELL.min(radius / 2.0);
    if opts.cell.is_none() && input.normals.is_some() && d > 0.0 && coarse > h {
        let (out, report) = surface(&input, opts, coarse)?;
        if !report.needs_check(opts.max_error) {
            return Ok((out, report));
        }
        if trace {
            eprintln!("offset: the surface at {coarse} mm is flagged; again at {h} mm");
        }
        let (out, report) = surface(&input, opts, h)?;
        return Ok((
            out,
            OffsetReport {
                coarse_refused: Some(coarse),
                ..report
            },
        ));
    }
    surface(&input, opts, h)
}

/// What [`surface`] works from: the input and its tree, made once.
struct Input<'a> {
    mesh: &'a Mesh,
    bvh: &'a Bvh,
    /// The pseudo-normals of a closed mesh; `None` for an open one.
    normals: Option<&'a PseudoNormals>,
    bounds: ([f64; 3], [f64; 3]),
    area: f64,
    trace: bool,
    clock: std::time::Instant,
}

/// The offset surface of `input` on a grid of cell `h`.
fn surface(
    input: &Input,
    opts: &OffsetOptions,
    h: f64,
) -> Result<(Mesh, OffsetReport), OffsetError> {
    let Input {
        mesh,
        bvh,
        normals,
        bounds: (lo, hi),
        area,
        trace,
        clock,
    } = *input;
    let d = opts.distance;
    let radius = d.abs();
    let closed = normals.is_some();
    let (mode, level) = match normals {
        Some(_) => (OffsetMode::Solid, d),
        None => (
            OffsetMode::Sheet {
                boundary_edges: boundary_edges(mesh),
            },
            radius,
        ),
    };
    let field = Field {
        bvh,
        normals,
        level,
        radius,
        lists: None,
    };

    let grid = grid_around(lo, hi, radius, h);
    if trace {
        eprintln!("offset: tree {:?}", clock.elapsed());
    }
    // Scan conversion when the mesh's triangles are not much smaller than the grid's cells: each
    // feature's region costs a set-up and a walk over its rows, so a mesh of triangles far
    // smaller than a cell (several per grid point) is searched faster by the tree.
    let by_scan = area / mesh.triangles.len() as f64 >= SCAN_MIN_AREA * h * h;
    let features = by_scan.then(|| scan::Features::new(mesh, bvh, closed));
    let band = match &features {
        Some(f) => band::by_scan(&field, &grid, f),
        None => band::by_tree(&field, &grid),
    };
    if trace {
        eprintln!(
            "offset: band {:?} ({} leaves, {} corner queries)",
            clock.elapsed(),
            band.leaves.len(),
            band.corner_queries
        );
    }
    // The crossed cells, found once for both.
    let crossed = nets::classify(&band);
    let (nets, lists) = rayon::join(
        || nets::extract(&band, &grid, level, &crossed),
        || {
            features.as_ref().map(|f| {
                lists::Lists::new(
                    &band.cell_blocks,
                    &crossed.bits,
                    &crossed.first,
                    f,
                    field.level_set(),
                    &grid,
                )
            })
        },
    );
    // The band's values (3 MB on a foot) and the features set up for scanning are spent:
    // dropped now, their memory is used again by refinement instead of fresh pages.
    let (band_leaves, corner_queries) = (band.leaves.len(), band.corner_queries);
    drop(band);
    drop(features);
    let field = Field {
        lists: lists.as_ref(),
        ..field
    };
    if nets.quads.is_empty() && nets.polygons.is_empty() {
        return Err(OffsetError::Vanished(d));
    }
    if trace {
        eprintln!(
            "offset: dual surface and candidate lists {:?} ({} vertices, {} quads, {} polygons, {} missing; {} listed triangles)",
            clock.elapsed(),
            nets.vertices.len(),
            nets.quads.len(),
            nets.polygons.len(),
            nets.missing,
            lists.as_ref().map_or(0, |l| l.len())
        );
    }
    // Exact projection of the dual vertices onto the level set.
    use rayon::prelude::*;
    // (Made with room for refinement's new vertices.)
    let n = nets.vertices.len();
    let (mut vertices, mut normals) = (with_room(n), with_room(n));
    nets.vertices
        .par_iter()
        .zip(nets.hints.par_iter())
        .map(|(&p, &slot)| {
            let hit = field.nearest_from(p, slot);
            field.project(p, hit)
        })
        .unzip_into_vecs(&mut vertices, &mut normals);
    // A vertex the extraction put on a crease sharper than a right angle also faces the
    // crease's other side: its cell's corner direction most different from its own normal
    // (refinement's fold test accepts either).
    let mut creases = refine::Creases::new(
        normals
            .par_iter()
            .zip(nets.cones.par_iter())
            .enumerate()
            .filter_map(|(v, (&n, &[a, b]))| {
                let n2 = refine::crease_alt(n, a, b);
                (n2 != n).then_some((v as u32, n2))
            })
            .collect(),
    );
    if trace {
        eprintln!("offset: projected {:?}", clock.elapsed());
    }
    let mut triangles = triangulate(
        &nets.quads,
        &nets.polygons,
        &vertices,
        &normals,
        level.signum(),
    );
    drop(nets);
    let extracted_triangles = triangles.len();
    let count_folded =
        |tris: &[[u32; 3]], vs: &[[f64; 3]], ns: &[[f64; 3]], c: &refine::Creases| {
            tris.par_iter()
                .filter(|&&t| refine::folded(t, vs, ns, c, level.signum()))
                .count()
        };
    if trace {
        let folded = count_folded(&triangles, &vertices, &normals, &creases);
        eprintln!("offset: {folded} folded triangles after triangulation");
    }
    // Two dual vertices of neighbouring cells can land on the same point (a sharp corner pulls
    // both there); the sliver between them would stop refinement near it.
    collapse::collapse_short_edges(
        &mut vertices,
        &normals,
        level.signum(),
        &mut triangles,
        COLLAPSE_EDGE,
    );
    let refined = refine::refine(
        &field,
        &mut vertices,
        &mut normals,
        &mut creases,
        &mut triangles,
        refine::Goal {
            tol: opts.tolerance,
            max_rounds: opts.max_rounds,
            min_len: h / 64.0,
        },
    );
    if trace {
        eprintln!("offset: refined {:?}", clock.elapsed());
    }

    // Edges shorter than the loader's weld tolerance would be welded away on reading the STL.
    collapse::collapse_short_edges(
        &mut vertices,
        &normals,
        level.signum(),
        &mut triangles,
        COLLAPSE_EDGE,
    );
    // Slivers (a corner within that tolerance of the opposite edge) are dropped by the loader.
    for _ in 0..8 {
        collapse::collapse_short_edges(
            &mut vertices,
            &normals,
            level.signum(),
            &mut triangles,
            MIN_EDGE,
        );
        if collapse::flip_slivers(&vertices, &mut triangles, MIN_EDGE) == 0 {
            break;
        }
    }
    if trace {
        eprintln!("offset: short edges and slivers {:?}", clock.elapsed());
    }

    // Places refinement could not split that are off by more than is allowed: mended by
    // collapses and flips where one leaves them less off (see `mend`).
    let mend_places = |triangles: &mut Vec<[u32; 3]>, places: &[[u32; 3]]| {
        mend::mend_errors(&field, &vertices, &normals, &creases, triangles, places)
    };
    let mut unsplit_error = refined.left;
    if unsplit_error > opts.max_error {
        let m = mend_places(&mut triangles, &refined.places);
        unsplit_error = m.left;
        if trace {
            eprintln!(
                "offset: places left off {:?} ({} changes, {:.4} mm left, was {:.4})",
                clock.elapsed(),
                m.changes,
                m.left,
                refined.left
            );
        }
    }
    let mut folded_triangles = count_folded(&triangles, &vertices, &normals, &creases);
    // A suspect surface (sharp creases, folds) is measured whole: a triangle across a valley
    // whose corners' normals agree was never measured by refinement, and can be off by twice
    // what is allowed; such places are mended the same way.
    if creases.vertices().next().is_some() || folded_triangles > 0 {
        let places = mend::places_off(
            &field,
            &vertices,
            &normals,
            &triangles,
            MEND_ERROR[1] * opts.max_error,
        );
        if !places.is_empty() {
            let m = mend_places(&mut triangles, &places);
            unsplit_error = unsplit_error.max(m.left);
            folded_triangles = count_folded(&triangles, &vertices, &normals, &creases);
            if trace {
                eprintln!(
                    "offset: whole surface measured {:?} ({} places off, {} changes, {:.4} mm left)",
                    clock.elapsed(),
                    places.len(),
                    m.changes,
                    m.left
                );
            }
        }
    }
    // Crossing triangles mended: searched for everywhere on a surface already suspect, else
    // round the triangles across a valley (see `mend`).
    let everywhere = creases.vertices().next().is_some()
        || folded_triangles > 0
        || refined.left > opts.max_error;
    let mend_clock = std::time::Instant::now();
    let mended = mend::mend(
        &field,
        &vertices,
        &normals,
        &creases,
        &mut triangles,
        everywhere,
        MEND_ERROR.map(|share| share * opts.max_error),
    );
    if mended.changes > 0 {
        folded_triangles = count_folded(&triangles, &vertices, &normals, &creases);
    }
    if trace {
        eprintln!(
            "offset: crossings {:?} ({:?}; searched {}: {} pairs found, {} changes, {} left)",
            clock.elapsed(),
            mend_clock.elapsed(),
            if everywhere {
                "everywhere"
            } else {
                "in valleys"
            },
            mended.found,
            mended.changes,
            mended.left
        );
    }
    // Drop vertices no triangle uses (midpoints of withdrawn splits), keeping the order.
    let mut used = vec![u32::MAX; vertices.len()];
    for t in &triangles {
        for &v in t {
            used[v as usize] = 0;
        }
    }
    let sharp_vertices = creases
        .vertices()
        .filter(|&v| used[v as usize] == 0)
        .count();
    let mut kept = Vec::with_capacity(vertices.len());
    for (i, p) in vertices.iter().enumerate() {
        if used[i] == 0 {
            used[i] = kept.len() as u32;
            kept.push(Point3::new(p[0], p[1], p[2]));
        }
    }
    for t in &mut triangles {
        *t = t.map(|v| used[v as usize]);
    }
    let out = Mesh::new(kept, triangles);
    if trace {
        eprintln!("offset: done {:?}", clock.elapsed());
    }
    let report = OffsetReport {
        mode,
        band_search: if by_scan {
            BandSearch::Scan
        } else {
            BandSearch::Tree
        },
        cell: h,
        coarse_refused: None,
        band_leaves,
        corner_queries,
        extracted_triangles,
        refine_rounds: refined.rounds,
        refine_splits: refined.splits,
        unresolved_edges: refined.unresolved,
        sharp_vertices,
        folded_triangles,
        unsplit_error,
        crossings_mended: mended.changes,
        crossing_pairs: mended.left,
    };
    Ok((out, report))
}

/// The grid of cell `h` over the box `lo..hi` grown by `radius` and two cells, centred on it,
/// a whole number of blocks per axis.
fn grid_around(lo: [f64; 3], hi: [f64; 3], radius: f64, h: f64) -> Grid {
    let pad = radius + 2.0 * h;
    let n = [0, 1, 2].map(|k| {
        let cells = ((hi[k] - lo[k] + 2.0 * pad) / h).ceil() as u32;
        cells.div_ceil(TOP).max(1) * TOP
    });
    let origin = [0, 1, 2].map(|k| {
        let mid = (lo[k] + hi[k]) / 2.0;
        mid - n[k] as f64 * h / 2.0
    });
    Grid { origin, h, n }
}

/// Number of edges used by one triangle only.
fn boundary_edges(mesh: &Mesh) -> usize {
    let mut e: Vec<(u32, u32)> = mesh
        .triangles
        .iter()
        .flat_map(|t| (0..3).map(move |k| (t[k].min(t[(k + 1) % 3]), t[k].max(t[(k + 1) % 3]))))
        .collect();
    e.sort_unstable();
    let mut count = 0;
    let mut i = 0;
    while i < e.len() {
        let mut j = i;
        while j < e.len() && e[j] == e[i] {
            j += 1;
        }
        if j - i == 1 {
            count += 1;
        }
        i = j;
    }
    count
}

/// Splits each quad along the diagonal whose two triangles lean least away from the surface
/// normals at their corners (`facing`: +1 where triangles face along the vertex normals, for an
/// outward offset; -1 for an inward one), the shorter diagonal on a tie; the rare larger polygons
/// (at tube faces) are fanned from their first vertex, which `nets` makes a tube vertex.
fn triangulate(
    quads: &[[u32; 4]],
    polygons: &[Vec<u32>],
    vs: &[[f64; 3]],
    ns: &[[f64; 3]],
    facing: f64,
) -> Vec<[u32; 3]> {
    use crate::query::{cross, dot, norm2, sub};
    use rayon::prelude::*;
    let lean = |t: [u32; 3]| -> f64 {
        let [a, b, c] = t.map(|i| vs[i as usize]);
        let n = cross(sub(b, a), sub(c, a));
        let l = norm2(n).sqrt();
        if l == 0.0 {
            return -1.0;
        }
        t.iter()
            .map(|&i| facing * dot(n, ns[i as usize]) / l)
            .fold(f64::INFINITY, f64::min)
    };
    // Two triangles per quad, written in place, with room for refinement's (see [`GROWTH`]).
    let fans = polygons.iter().map(|p| p.len() - 2).sum::<usize>();
    let n = 2 * quads.len() + fans;
    let mut out: Vec<[u32; 3]> = with_room(n);
    out.resize(2 * quads.len(), [0; 3]);
    out.par_chunks_mut(2)
        .zip(quads)
        .for_each(|(out, &[a, b, c, d])| {
            let one = [[a, b, c], [a, c, d]];
            let two = [[a, b, d], [b, c, d]];
            let s1 = lean(one[0]).min(lean(one[1]));
            let s2 = lean(two[0]).min(lean(two[1]));
            let l1 = norm2(sub(vs[a as usize], vs[c as usize]));
            let l2 = norm2(sub(vs[b as usize], vs[d as usize]));
            out.copy_from_slice(if s1 > s2 + 1e-3 || ((s1 - s2).abs() <= 1e-3 && l1 <= l2) {
                &one
            } else {
                &two
            });
        });
    for p in polygons {
        for k in 1..p.len() - 1 {
            out.push([p[0], p[k], p[k + 1]]);
        }
    }
    out
}
