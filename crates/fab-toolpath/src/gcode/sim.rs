//! Carve simulation on a height map: plays a program's moves with its declared tools over a
//! block of stock and compares the carved surface with the design (a triangle soup seen from
//! +Z), giving gouge, mean radial error (MRE), inter-quartile range (IQR), the same against the
//! best carve the finishing ball could make at all ("path" figures), uncut cells and rapid moves
//! through material.
//!
//! The method and figures follow the lab's independent checker (`carve-check`,
//! `shared/tools/carve_check.py`) so the two can be compared: cells of `res` mm on the design's
//! XY bounds padded by the largest tool diameter; the design rasterised at cell centres (highest
//! triangle; cells steeper than `max_slope` left out); stock top at the design's top unless
//! given; each move sampled every `res / 2` mm (arcs first split into chords of 0.02 mm sagitta)
//! and each sample stamps the tool's lower profile (ball, flat, bull); the one-cell ring along
//! the design's outline is left out of every figure.
//!
//! Fast: flat `Vec<f64>` grids; triangles binned per row; each cutting segment stamped once per
//! cell it reaches (the nearest of its samples, then a short walk along the convex tip-height
//! profile: the same values as stamping every sample, checked by a property test), binned per
//! band of rows and stamped in parallel with rayon (the height map is a minimum, so order does
//! not matter except for rapids, which are played sample by sample in program order between
//! parallel batches, counting the cells they cut). On fab's plans of the fixture feet the
//! figures equal carve-check's to 1e-13 mm.

use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::Serialize;

use crate::cutter::Cutter;
use crate::gcode::check::{MoveKind, PlayedMove};

/// Settings of the simulation.
#[derive(Clone, Debug)]
pub struct SimOptions {
    /// Cell size, mm.
    pub res: f64,
    /// Compare only where the design is at most this steep, degrees.
    pub max_slope_deg: f64,
    /// Top of the stock; default the top of the design.
    pub stock_top: Option<f64>,
    /// Tool number of the finishing ball; default the highest-numbered ball used.
    pub finish_tool: Option<u32>,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            res: 0.25,
            max_slope_deg: 60.0,
            stock_top: None,
            finish_tool: None,
        }
    }
}

/// Why a simulation cannot run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SimError {
    #[error("the design has no triangles")]
    EmptyDesign,
    #[error("the design has a coordinate that is not a finite number")]
    NonFinite,
    #[error(
        "no cutting move uses a declared tool: declare each as (TOOL Tn BALL|FLAT|BULL Dd [CRr])"
    )]
    NoTools,
    #[error(
        "tools used {used:?} but declared {declared:?}: declare each as (TOOL Tn BALL|FLAT|BULL Dd [CRr])"
    )]
    Undeclared { used: Vec<u32>, declared: Vec<u32> },
    #[error("cell size must be positive, got {0}")]
    BadRes(f64),
    #[error("--max-slope must be more than 0 and at most 90 degrees, got {0}")]
    BadSlope(f64),
    #[error("--finish-tool {tool}: the program cuts with no T{tool} (it cuts with {used:?})")]
    UnknownFinishTool { tool: u32, used: Vec<u32> },
    #[error("height map of {nx} x {ny} cells is too large; use a coarser cell size")]
    TooLarge { nx: usize, ny: usize },
}

/// What the carve came out as, mm.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CarveReport {
    pub res: f64,
    pub cells_compared: usize,
    pub cells_in_design: usize,
    pub uncut: usize,
    pub gouge: f64,
    #[serde(rename = "MRE")]
    pub mre: f64,
    #[serde(rename = "IQR")]
    pub iqr: f64,
    pub p95_excess: f64,
    #[serde(rename = "path_MRE")]
    pub path_mre: f64,
    #[serde(rename = "path_IQR")]
    pub path_iqr: f64,
    pub path_gouge: f64,
    /// Where the carve goes deepest below the design (cell centre, X and Y), if below at all.
    pub gouge_at: Option<[f64; 2]>,
    /// Where it goes deepest below the finishing tool's best carve, if below at all.
    pub path_gouge_at: Option<[f64; 2]>,
    pub rapid_in_stock_samples: usize,
    pub finish_tool: u32,
}

struct Grid {
    x0: f64,
    y0: f64,
    h: f64,
    nx: usize,
    ny: usize,
}

/// Design height at every cell centre (-inf outside) and whether the cell is flat enough.
fn raster_design(tris: &[[[f64; 3]; 3]], g: &Grid, max_slope_cos: f64) -> (Vec<f64>, Vec<bool>) {
    // Bin triangles by the rows they cover (CSR).
    let row_range = |t: &[[f64; 3]; 3]| {
        let ymin = t[0][1].min(t[1][1]).min(t[2][1]);
        let ymax = t[0][1].max(t[1][1]).max(t[2][1]);
        let j0 = ((ymin - g.y0) / g.h).floor().max(0.0) as usize;
        let j1 = (((ymax - g.y0) / g.h).ceil() as isize).min(g.ny as isize - 1);
        (j0, j1)
    };
    let mut count = vec![0u32; g.ny + 1];
    for t in tris {
        let (j0, j1) = row_range(t);
        for j in j0 as isize..=j1 {
            count[j as usize + 1] += 1;
        }
    }
    for j in 0..g.ny {
        count[j + 1] += count[j];
    }
    let mut fill = count.clone();
    let mut idx = vec![0u32; count[g.ny] as usize];
    for (k, t) in tris.iter().enumerate() {
        let (j0, j1) = row_range(t);
        for j in j0 as isize..=j1 {
            let s = &mut fill[j as usize];
            idx[*s as usize] = k as u32;
            *s += 1;
        }
    }
    let mut z = vec![f64::NEG_INFINITY; g.nx * g.ny];
    let mut ok = vec![false; g.nx * g.ny];
    z.par_chunks_mut(g.nx)
        .zip(ok.par_chunks_mut(g.nx))
        .enumerate()
        .for_each(|(j, (zrow, okrow))| {
            let y = g.y0 + j as f64 * g.h;
            for &k in &idx[count[j] as usize..count[j + 1] as usize] {
                let [a, b, c] = tris[k as usize];
                let nxv = (b[1] - a[1]) * (c[2] - a[2]) - (b[2] - a[2]) * (c[1] - a[1]);
                let nyv = (b[2] - a[2]) * (c[0] - a[0]) - (b[0] - a[0]) * (c[2] - a[2]);
                let nzv = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]);
                let nn = (nxv * nxv + nyv * nyv + nzv * nzv).sqrt();
                if nn == 0.0 {
                    continue;
                }
                let den = (b[1] - c[1]) * (a[0] - c[0]) + (c[0] - b[0]) * (a[1] - c[1]);
                if den == 0.0 {
                    continue;
                }
                let steep = nzv.abs() / nn < max_slope_cos;
                let xmin = a[0].min(b[0]).min(c[0]);
                let xmax = a[0].max(b[0]).max(c[0]);
                let i0 = ((xmin - g.x0) / g.h).floor().max(0.0) as usize;
                let i1 = (((xmax - g.x0) / g.h).ceil() as isize).min(g.nx as isize - 1);
                for i in i0 as isize..=i1 {
                    let i = i as usize;
                    let x = g.x0 + i as f64 * g.h;
                    let l1 = ((b[1] - c[1]) * (x - c[0]) + (c[0] - b[0]) * (y - c[1])) / den;
                    let l2 = ((c[1] - a[1]) * (x - c[0]) + (a[0] - c[0]) * (y - c[1])) / den;
                    let l3 = 1.0 - l1 - l2;
                    if l1 < -1e-12 || l2 < -1e-12 || l3 < -1e-12 {
                        continue;
                    }
                    let zz = l1 * a[2] + l2 * b[2] + l3 * c[2];
                    if zz > zrow[i] {
                        zrow[i] = zz;
                        okrow[i] = !steep;
                    }
                }
            }
        });
    (z, ok)
}

/// Lower profile of a tool: radius and corner radius.
#[derive(Clone, Copy)]
struct Profile {
    r: f64,
    cr: f64,
}

impl Profile {
    fn of(c: &Cutter) -> Profile {
        Profile {
            r: c.radius(),
            cr: c.corner_radius(),
        }
    }
    /// Height of the tool surface above its tip at horizontal distance `d` (d <= r).
    #[inline]
    fn lift(&self, d: f64) -> f64 {
        let flat = self.r - self.cr;
        if d <= flat {
            0.0
        } else {
            let e = d - flat;
            self.cr - (self.cr * self.cr - e * e).max(0.0).sqrt()
        }
    }
}

/// One tool position to stamp.
#[derive(Clone, Copy)]
struct Sample {
    x: f64,
    y: f64,
    z: f64,
    tool: u16,
}

/// Stamps one sample into rows `rows` of the height map (`hm` holds those rows). Returns the
/// number of cells lowered by more than `tol` (for rapids).
#[inline]
fn stamp(
    hm: &mut [f64],
    row0: usize,
    rows: std::ops::Range<usize>,
    g: &Grid,
    s: &Sample,
    p: Profile,
    tol: f64,
) -> usize {
    let k = (p.r / g.h).ceil() as isize + 1;
    let ci = ((s.x - g.x0) / g.h).round() as isize;
    let cj = ((s.y - g.y0) / g.h).round() as isize;
    let j0 = (cj - k).max(rows.start as isize);
    let j1 = (cj + k + 1).min(rows.end as isize);
    let mut bad = 0;
    let r2 = p.r * p.r;
    for j in j0..j1 {
        let yy = g.y0 + j as f64 * g.h - s.y;
        let rem = r2 - yy * yy;
        if rem < 0.0 {
            continue;
        }
        let half = rem.sqrt();
        // The chord of the disc on this row, one cell wider each side so that `d > r` alone
        // decides the boundary cells (as carve-check does).
        let i0 = (((s.x - half - g.x0) / g.h).ceil() as isize - 1)
            .max(ci - k)
            .max(0);
        let i1 = (((s.x + half - g.x0) / g.h).floor() as isize + 1)
            .min(ci + k)
            .min(g.nx as isize - 1);
        let row = &mut hm[(j as usize - row0) * g.nx..(j as usize - row0 + 1) * g.nx];
        for i in i0..=i1 {
            let xx = g.x0 + i as f64 * g.h - s.x;
            let d = (xx * xx + yy * yy).sqrt();
            if d > p.r {
                continue;
            }
            let zt = s.z + p.lift(d);
            let cell = &mut row[i as usize];
            if zt < *cell {
                if zt < *cell - tol {
                    bad += 1;
                }
                *cell = zt;
            }
        }
    }
    bad
}

const BAND: usize = 16;

/// A cutting segment sampled at `n + 1` equally spaced points, stamped in one go, with the
/// same figures as stamping each sample (as carve-check does) at a fraction of the work: each
/// cell once instead of once per sample covering it. At a cell, the tool tip height over the
/// samples, z(s) + lift(d(s)), is convex in the sample index s (z linear; lift convex and
/// non-decreasing in d, d convex in s), and the lift is least at the nearest sample (found by
/// projection). So the minimum lies at the nearest sample or, walking from it towards falling
/// Z, where the value stops falling; level segments never walk.
#[derive(Clone, Copy)]
struct Level {
    p: [f64; 3],
    q: [f64; 3],
    n: usize,
    tool: u16,
}

fn stamp_level(
    hm: &mut [f64],
    row0: usize,
    rows: std::ops::Range<usize>,
    g: &Grid,
    s: &Level,
    p: Profile,
) {
    let (dx, dy, dz) = (s.q[0] - s.p[0], s.q[1] - s.p[1], s.q[2] - s.p[2]);
    let len2 = dx * dx + dy * dy;
    let n = s.n as f64;
    let walk: isize = if dz < 0.0 {
        1
    } else if dz > 0.0 {
        -1
    } else {
        0
    };
    let j0 =
        (((s.p[1].min(s.q[1]) - p.r - g.y0) / g.h).ceil() as isize - 1).max(rows.start as isize);
    let j1 =
        (((s.p[1].max(s.q[1]) + p.r - g.y0) / g.h).floor() as isize + 1).min(rows.end as isize - 1);
    let i0 = (((s.p[0].min(s.q[0]) - p.r - g.x0) / g.h).ceil() as isize - 1).max(0);
    let i1 =
        (((s.p[0].max(s.q[0]) + p.r - g.x0) / g.h).floor() as isize + 1).min(g.nx as isize - 1);
    // Tip height of sample k at (x, y), or +inf when the cell is outside its disc.
    let at = |k: f64, x: f64, y: f64| {
        let tt = k / n;
        let xx = x - (s.p[0] + tt * dx);
        let yy = y - (s.p[1] + tt * dy);
        let d = (xx * xx + yy * yy).sqrt();
        if d > p.r {
            f64::INFINITY
        } else {
            s.p[2] + tt * dz + p.lift(d)
        }
    };
    for j in j0..=j1 {
        let y = g.y0 + j as f64 * g.h;
        let row = &mut hm[(j as usize - row0) * g.nx..(j as usize - row0 + 1) * g.nx];
        for i in i0..=i1 {
            let x = g.x0 + i as f64 * g.h;
            let t = if len2 > 0.0 {
                ((x - s.p[0]) * dx + (y - s.p[1]) * dy) / len2
            } else {
                0.0
            };
            let mut k = (t * n).round().clamp(0.0, n);
            let mut best = at(k, x, y);
            if best == f64::INFINITY {
                continue;
            }
            if walk != 0 {
                loop {
                    let next = k + walk as f64;
                    if next < 0.0 || next > n {
                        break;
                    }
                    let v = at(next, x, y);
                    if v < best {
                        best = v;
                        k = next;
                    } else {
                        break;
                    }
                }
            }
            let cell = &mut row[i as usize];
            if best < *cell {
                *cell = best;
            }
        }
    }
}

/// CSR lists of the items touching each band of rows.
fn bin_bands(
    nb: usize,
    spans: impl Iterator<Item = (usize, usize)> + Clone,
) -> (Vec<u32>, Vec<u32>) {
    let mut count = vec![0u32; nb + 1];
    for (b0, b1) in spans.clone() {
        for b in b0..=b1 {
            count[b + 1] += 1;
        }
    }
    for b in 0..nb {
        count[b + 1] += count[b];
    }
    let mut fill = count.clone();
    let mut idx = vec![0u32; count[nb] as usize];
    for (k, (b0, b1)) in spans.enumerate() {
        for b in b0..=b1 {
            idx[fill[b] as usize] = k as u32;
            fill[b] += 1;
        }
    }
    (count, idx)
}

/// Stamps a batch of samples and level segments in parallel over bands of rows.
fn stamp_batch(
    hm: &mut [f64],
    g: &Grid,
    samples: &[Sample],
    levels: &[Level],
    profiles: &[Profile],
) {
    if samples.is_empty() && levels.is_empty() {
        return;
    }
    let nb = g.ny.div_ceil(BAND);
    let band_of = |y: f64, k: isize| {
        let cj = ((y - g.y0) / g.h).round() as isize + k;
        (cj.clamp(0, g.ny as isize - 1) as usize) / BAND
    };
    let kk = |t: u16| (profiles[t as usize].r / g.h).ceil() as isize + 1;
    let (sc, si) = bin_bands(
        nb,
        samples
            .iter()
            .map(|s| (band_of(s.y, -kk(s.tool)), band_of(s.y, kk(s.tool)))),
    );
    let (lc, li) = bin_bands(
        nb,
        levels.iter().map(|l| {
            let k = kk(l.tool) + 1;
            (
                band_of(l.p[1].min(l.q[1]), -k),
                band_of(l.p[1].max(l.q[1]), k),
            )
        }),
    );
    hm.par_chunks_mut(BAND * g.nx)
        .enumerate()
        .for_each(|(b, band)| {
            let row0 = b * BAND;
            let rows = row0..(row0 + BAND).min(g.ny);
            for &k in &li[lc[b] as usize..lc[b + 1] as usize] {
                let l = &levels[k as usize];
                stamp_level(band, row0, rows.clone(), g, l, profiles[l.tool as usize]);
            }
            for &k in &si[sc[b] as usize..sc[b + 1] as usize] {
                let s = &samples[k as usize];
                stamp(
                    band,
                    row0,
                    rows.clone(),
                    g,
                    s,
                    profiles[s.tool as usize],
                    f64::INFINITY,
                );
            }
        });
}

/// A cutting segment as one item, sampled every `step` mm (at least its two ends).
fn push_cut(levels: &mut Vec<Level>, p: [f64; 3], q: [f64; 3], step: f64, tool: u16) {
    let d = [q[0] - p[0], q[1] - p[1], q[2] - p[2]];
    let len = (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt();
    levels.push(Level {
        p,
        q,
        n: ((len / step).ceil() as usize).max(1),
        tool,
    });
}

/// Points along an arc, as carve-check splits it: chords of at most 0.02 mm sagitta.
fn arc_points(from: [f64; 3], to: [f64; 3], c: [f64; 2], ccw: bool) -> Vec<[f64; 3]> {
    let r = (from[0] - c[0]).hypot(from[1] - c[1]);
    let a0 = (from[1] - c[1]).atan2(from[0] - c[0]);
    let sweep = crate::estimate::arc_sweep(from, to, c, ccw);
    let steps = if r > 0.0 {
        ((sweep.abs() * r / (8.0 * r * 0.02).sqrt().max(1e-3)) as usize + 1).max(2)
    } else {
        2
    };
    (1..=steps)
        .map(|s| {
            let t = s as f64 / steps as f64;
            let a = a0 + sweep * t;
            [
                c[0] + r * a.cos(),
                c[1] + r * a.sin(),
                from[2] + (to[2] - from[2]) * t,
            ]
        })
        .collect()
}

fn push_segment(out: &mut Vec<Sample>, p: [f64; 3], q: [f64; 3], step: f64, tool: u16) {
    let d = [q[0] - p[0], q[1] - p[1], q[2] - p[2]];
    let len = (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt();
    let n = ((len / step).ceil() as usize).max(1);
    for s in 0..=n {
        let t = s as f64 / n as f64;
        out.push(Sample {
            x: p[0] + t * d[0],
            y: p[1] + t * d[1],
            z: p[2] + t * d[2],
            tool,
        });
    }
}

/// numpy's default (linear) percentile of sorted values.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let pos = p / 100.0 * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// The best surface a ball of radius `r` can leave on `design` (-inf outside): drop the ball on
/// every cell, then take the lower envelope of the balls. The disc kernel is kept as one
/// contiguous run of cells per row offset, so the inner loops are plain slices (no branches:
/// -inf and +inf carry through max and min).
fn open_with_ball(design: &[f64], g: &Grid, r: f64) -> Vec<f64> {
    let k = (r / g.h).ceil() as isize;
    // rows[dj + k] = (w, s) with s[di + w] = sqrt(r^2 - d^2) for |di| <= w.
    let mut rows: Vec<(isize, Vec<f64>)> = Vec::new();
    for dj in -k..=k {
        let y2 = ((dj as f64) * g.h).powi(2);
        let mut w = 0isize;
        while ((w + 1) as f64 * g.h).powi(2) + y2 <= r * r {
            w += 1;
        }
        if y2 > r * r {
            rows.push((-1, Vec::new()));
            continue;
        }
        let s = (-w..=w)
            .map(|di| (r * r - ((di as f64) * g.h).powi(2) - y2).max(0.0).sqrt())
            .collect();
        rows.push((w, s));
    }
    // Pass 1: the ball's tip height where it rests on the design (cl), -inf where no design.
    let mut cl = disc_pass(
        design,
        &rows,
        g,
        k,
        |_| true,
        f64::NEG_INFINITY,
        |best, d, sv| best.max(d + sv),
    );
    // Cells with no resting ball take no part in the envelope.
    for c in cl.iter_mut() {
        *c = if *c == f64::NEG_INFINITY {
            f64::INFINITY
        } else {
            *c - r
        };
    }
    // Pass 2: the lower envelope of the resting balls, on design cells only.
    let mut out = disc_pass(
        &cl,
        &rows,
        g,
        k,
        |c| design[c] != f64::NEG_INFINITY,
        f64::INFINITY,
        |best, c, sv| best.min(c - sv),
    );
    for o in out.iter_mut() {
        *o += r;
    }
    out
}

/// One pass of `open_with_ball`: for each cell that `keep` selects, folds `op(acc, src[n], s)`
/// over the disc's cells `n` and kernel values `s`, from `init`; other cells stay at `init`.
fn disc_pass(
    src: &[f64],
    rows: &[(isize, Vec<f64>)],
    g: &Grid,
    k: isize,
    keep: impl Fn(usize) -> bool + Sync,
    init: f64,
    op: impl Fn(f64, f64, f64) -> f64 + Sync,
) -> Vec<f64> {
    let (nx, ny) = (g.nx as isize, g.ny as isize);
    let mut out = vec![init; src.len()];
    out.par_chunks_mut(g.nx).enumerate().for_each(|(j, row)| {
        let j = j as isize;
        for i in 0..nx {
            if !keep((j * nx + i) as usize) {
                continue;
            }
            let mut best = init;
            for (dj, (w, s)) in (-k..=k).zip(rows) {
                let jj = j + dj;
                if *w < 0 || jj < 0 || jj >= ny {
                    continue;
                }
                let lo = (-w).max(-i);
                let hi = (*w).min(nx - 1 - i);
                let vals = &src[(jj * nx + i + lo) as usize..=(jj * nx + i + hi) as usize];
                let kern = &s[(lo + w) as usize..=(hi + w) as usize];
                for (v, sv) in vals.iter().zip(kern) {
                    best = op(best, *v, *sv);
                }
            }
            row[i as usize] = best;
        }
    });
    out
}

/// Simulates `moves` (from `check_program`) with `tools` over stock and compares the carve
/// with the design triangles (mm, the program's coordinates).
pub fn simulate_carve(
    design: &[[[f64; 3]; 3]],
    moves: &[PlayedMove],
    tools: &BTreeMap<u32, Cutter>,
    opts: &SimOptions,
) -> Result<CarveReport, SimError> {
    let h = opts.res;
    if !(h.is_finite() && h > 0.0) {
        return Err(SimError::BadRes(h));
    }
    let slope = opts.max_slope_deg;
    if !(slope > 0.0 && slope <= 90.0) {
        return Err(SimError::BadSlope(slope));
    }
    if design.is_empty() {
        return Err(SimError::EmptyDesign);
    }
    let mut lo = [f64::INFINITY; 3];
    let mut hi = [f64::NEG_INFINITY; 3];
    for t in design {
        for p in t {
            for k in 0..3 {
                if !p[k].is_finite() {
                    return Err(SimError::NonFinite);
                }
                lo[k] = lo[k].min(p[k]);
                hi[k] = hi[k].max(p[k]);
            }
        }
    }
    let used: Vec<u32> = moves
        .iter()
        .filter(|m| m.kind != MoveKind::Rapid)
        .filter_map(|m| m.tool)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    if used.is_empty() {
        return Err(SimError::NoTools);
    }
    if used.iter().any(|t| !tools.contains_key(t)) {
        return Err(SimError::Undeclared {
            used,
            declared: tools.keys().copied().collect(),
        });
    }
    if let Some(tool) = opts.finish_tool
        && !used.contains(&tool)
    {
        return Err(SimError::UnknownFinishTool { tool, used });
    }
    let pad = used.iter().map(|t| tools[t].diameter()).fold(0.0, f64::max) + 2.0 * h;
    let nx = ((hi[0] - lo[0] + 2.0 * pad) / h).ceil() as usize + 1;
    let ny = ((hi[1] - lo[1] + 2.0 * pad) / h).ceil() as usize + 1;
    if nx.saturating_mul(ny) > 200_000_000 {
        return Err(SimError::TooLarge { nx, ny });
    }
    let g = Grid {
        x0: lo[0] - pad,
        y0: lo[1] - pad,
        h,
        nx,
        ny,
    };
    let (design_z, ok) = raster_design(design, &g, opts.max_slope_deg.to_radians().cos());
    let stock_top = opts.stock_top.unwrap_or(hi[2]);
    let mut hm = vec![stock_top; nx * ny];

    // Tool profiles by index; tool None or undeclared: no cut (radius 0).
    let numbers: Vec<u32> = tools.keys().copied().collect();
    let mut profiles: Vec<Profile> = tools.values().map(Profile::of).collect();
    profiles.push(Profile { r: 0.0, cr: 0.0 });
    let none = (profiles.len() - 1) as u16;
    let index = |t: Option<u32>| {
        t.and_then(|t| numbers.iter().position(|n| *n == t))
            .map(|i| i as u16)
            .unwrap_or(none)
    };

    let step = h / 2.0;
    let mut batch: Vec<Sample> = Vec::new();
    let mut levels: Vec<Level> = Vec::new();
    let mut rapid_bad = 0usize;
    let mut scratch = Vec::new();
    for m in moves {
        let ti = index(m.tool);
        let p = profiles[ti as usize];
        if p.r <= 0.0 {
            continue;
        }
        match m.kind {
            MoveKind::Feed => push_cut(&mut levels, m.from, m.to, step, ti),
            MoveKind::Arc { center, ccw } => {
                let mut prev = m.from;
                for q in arc_points(m.from, m.to, center, ccw) {
                    push_cut(&mut levels, prev, q, step, ti);
                    prev = q;
                }
            }
            MoveKind::Rapid => {
                // carve-check plays rapids whose tip comes within a tool radius of the stock
                // top; the tip is the tool's lowest point, so one that stays at or above the
                // top removes nothing and is skipped (same figures, far less work).
                let low = m.from[2].min(m.to[2]);
                if low < stock_top + p.r && low < stock_top {
                    // Play what came before, then this rapid in order, counting cells it cuts.
                    stamp_batch(&mut hm, &g, &batch, &levels, &profiles);
                    batch.clear();
                    levels.clear();
                    scratch.clear();
                    push_segment(&mut scratch, m.from, m.to, step, ti);
                    for s in &scratch {
                        rapid_bad += stamp(&mut hm, 0, 0..ny, &g, s, p, 0.05);
                    }
                }
            }
        }
    }
    stamp_batch(&mut hm, &g, &batch, &levels, &profiles);

    // Figures.
    let inside: Vec<bool> = design_z.iter().map(|z| *z > f64::NEG_INFINITY).collect();
    let touched: Vec<bool> = (0..nx * ny)
        .map(|c| inside[c] && (hm[c] < stock_top - 1e-6 || design_z[c] > stock_top - 0.05))
        .collect();
    let uncut = (0..nx * ny).filter(|&c| inside[c] && !touched[c]).count();
    let interior = |c: usize| {
        let (i, j) = (c % nx, c / nx);
        inside[c]
            && i > 0
            && j > 0
            && i + 1 < nx
            && j + 1 < ny
            && inside[c - 1]
            && inside[c + 1]
            && inside[c - nx]
            && inside[c + nx]
    };
    let sel: Vec<usize> = (0..nx * ny)
        .filter(|&c| interior(c) && ok[c] && touched[c])
        .collect();
    let finish = opts.finish_tool.unwrap_or_else(|| {
        used.iter()
            .copied()
            .filter(|t| matches!(tools[t], Cutter::Ball { .. }))
            .max()
            .unwrap_or(*used.last().unwrap())
    });
    let fr = tools.get(&finish).map(|c| c.radius()).unwrap_or(0.0);
    let design_in: Vec<f64> = design_z.clone();
    let ideal = open_with_ball(&design_in, &g, fr);
    let mut err: Vec<f64> = sel.iter().map(|&c| hm[c] - design_z[c]).collect();
    let mut perr: Vec<f64> = sel.iter().map(|&c| hm[c] - ideal[c]).collect();
    let n = err.len();
    let mean = |v: &[f64]| {
        if v.is_empty() {
            0.0
        } else {
            v.iter().sum::<f64>() / v.len() as f64
        }
    };
    let mre = mean(&err);
    let path_mre = mean(&perr);
    let deepest = |e: &[f64]| {
        (0..e.len())
            .min_by(|&a, &b| e[a].total_cmp(&e[b]))
            .filter(|&k| e[k] < 0.0)
            .map(|k| {
                [
                    g.x0 + (sel[k] % nx) as f64 * h,
                    g.y0 + (sel[k] / nx) as f64 * h,
                ]
            })
    };
    let (gouge_at, path_gouge_at) = (deepest(&err), deepest(&perr));
    err.sort_by(f64::total_cmp);
    perr.sort_by(f64::total_cmp);
    let gouge = if n > 0 { (-err[0]).max(0.0) } else { 0.0 };
    let path_gouge = if n > 0 { (-perr[0]).max(0.0) } else { 0.0 };
    Ok(CarveReport {
        res: h,
        cells_compared: n,
        cells_in_design: inside.iter().filter(|b| **b).count(),
        uncut,
        gouge,
        mre,
        iqr: percentile(&err, 75.0) - percentile(&err, 25.0),
        p95_excess: percentile(&err, 95.0),
        path_mre,
        path_iqr: percentile(&perr, 75.0) - percentile(&perr, 25.0),
        path_gouge,
        gouge_at,
        path_gouge_at,
        rapid_in_stock_samples: rapid_bad,
        finish_tool: finish,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Stamping a segment in one go leaves exactly what stamping each of its samples does.
        #[test]
        fn segment_stamp_equals_stamping_every_sample(
            p in proptest::array::uniform3(-4.0f64..4.0),
            q in proptest::array::uniform3(-4.0f64..4.0),
            level in proptest::bool::ANY,
            kind in 0usize..3,
        ) {
            let q = if level { [q[0], q[1], p[2]] } else { q };
            let cutter = [
                Cutter::Ball { diameter: 3.0 },
                Cutter::Flat { diameter: 3.0 },
                Cutter::Bull { diameter: 4.0, corner_radius: 0.5 },
            ][kind];
            let prof = Profile::of(&cutter);
            let g = Grid { x0: -8.0, y0: -8.0, h: 0.25, nx: 65, ny: 65 };
            let step = g.h / 2.0;
            let mut a = vec![1.0; g.nx * g.ny];
            let mut b = a.clone();
            let mut samples = Vec::new();
            push_segment(&mut samples, p, q, step, 0);
            for smp in &samples {
                stamp(&mut a, 0, 0..g.ny, &g, smp, prof, f64::INFINITY);
            }
            let mut levels = Vec::new();
            push_cut(&mut levels, p, q, step, 0);
            stamp_level(&mut b, 0, 0..g.ny, &g, &levels[0], prof);
            for (x, y) in a.iter().zip(&b) {
                proptest::prop_assert!((x - y).abs() < 1e-12, "{} vs {}", x, y);
            }
        }
    }

    #[test]
    fn percentiles_interpolate_like_numpy() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(percentile(&v, 25.0), 1.75);
        assert_eq!(percentile(&v, 75.0), 3.25);
        assert_eq!(percentile(&v, 50.0), 2.5);
    }

    #[test]
    fn bull_profile_is_flat_then_round() {
        let p = Profile::of(&Cutter::Bull {
            diameter: 12.0,
            corner_radius: 2.0,
        });
        assert_eq!(p.lift(3.9), 0.0);
        assert!((p.lift(6.0) - 2.0).abs() < 1e-12);
        let b = Profile::of(&Cutter::Ball { diameter: 6.0 });
        assert!((b.lift(3.0) - 3.0).abs() < 1e-12);
        assert!((b.lift(1.0) - (3.0 - 8f64.sqrt())).abs() < 1e-12);
    }
}
