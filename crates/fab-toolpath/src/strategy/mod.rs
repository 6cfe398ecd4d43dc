//! Milling strategies for a 3-axis router: roughing (`rough`: contour-parallel Z levels),
//! finishing (`finish`: a parallel raster; `waterline`: level lines on steep sides) and the
//! cut-out (`profile`). Each turns a design surface into an [`Operation`](crate::Operation): one
//! tool, its moves, in the machine frame (mm, work zero at the top of the blank).
//!
//! Strategies never compute cutter contact themselves: they ask a [`ClSurface`], the
//! cutter-location surface of one cutter over the design (the drop-cutter of `crate::drop`,
//! behind [`DropSurface`]), for whole grids (fast, parallel) and for single points (to refine a
//! straight move between grid points so it never cuts into the design).

pub mod finish;
pub mod profile;
pub mod rough;
mod stock;
pub mod waterline;

pub use finish::{FinishParams, finish};
pub use profile::{ProfileParams, profile};
pub use rough::{RoughParams, Zone, rough};
pub use waterline::{WaterlineParams, waterline};

/// The cutter-location (CL) surface of one cutter over a design: the lowest tip Z at which the
/// cutter touches no triangle of the design.
pub trait ClSurface: Sync {
    /// CL z at `(x0 + i*step, y0 + j*step)` for `i < nx`, `j < ny`, y-major (index `j*nx + i`),
    /// `f64::NEG_INFINITY` where the cutter is over no triangle.
    fn grid(&self, x0: f64, y0: f64, step: f64, nx: usize, ny: usize) -> Vec<f64>;
    /// CL z at one point; `None` where the cutter is over no triangle.
    fn point(&self, x: f64, y: f64) -> Option<f64>;
}

/// An axis-aligned rectangle in the XY plane of the machine frame, mm.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Rect {
    pub xmin: f64,
    pub ymin: f64,
    pub xmax: f64,
    pub ymax: f64,
}

impl Rect {
    pub fn width(&self) -> f64 {
        self.xmax - self.xmin
    }
    pub fn height(&self) -> f64 {
        self.ymax - self.ymin
    }
    pub fn contains(&self, x: f64, y: f64) -> bool {
        x >= self.xmin && x <= self.xmax && y >= self.ymin && y <= self.ymax
    }
    /// Grown by `d` on every side.
    pub fn grown(&self, d: f64) -> Rect {
        Rect {
            xmin: self.xmin - d,
            ymin: self.ymin - d,
            xmax: self.xmax + d,
            ymax: self.ymax + d,
        }
    }
    fn corners(&self) -> [[f64; 2]; 4] {
        [
            [self.xmin, self.ymin],
            [self.xmax, self.ymin],
            [self.xmax, self.ymax],
            [self.xmin, self.ymax],
        ]
    }
}

/// Why a strategy could not produce a toolpath.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StrategyError {
    #[error("{what} must be {expected}, got {found:?}")]
    Parameter {
        what: &'static str,
        expected: &'static str,
        found: f64,
    },
    #[error("{0}: the cutter touches no part of the design inside the machining area")]
    NothingToCut(&'static str),
    #[error(
        "{what}: the toolpath would need {needed} points, more than the limit of {limit}; use a \
         larger step"
    )]
    TooLarge {
        what: &'static str,
        needed: usize,
        limit: usize,
    },
    #[error("{what}: {needed} would be needed, more than the limit of {limit}; use a larger step")]
    TooMany {
        what: &'static str,
        needed: String,
        limit: usize,
    },
}

/// Most levels or laps one operation makes (roughing levels, waterline levels, cut-out laps):
/// 10 000 is a 100 mm deep part at 0.01 mm per level.
pub const MAX_LEVELS: usize = 10_000;

/// Refuses, before anything is allocated, `span / step` levels (or laps) of `what` beyond
/// [`MAX_LEVELS`].
pub(crate) fn check_levels(what: &'static str, span: f64, step: f64) -> Result<(), StrategyError> {
    let n = (span / step).ceil();
    if n <= MAX_LEVELS as f64 {
        return Ok(());
    }
    Err(StrategyError::TooMany {
        what,
        needed: if n.is_finite() {
            format!("{n:.0}")
        } else {
            "unboundedly many".into()
        },
        limit: MAX_LEVELS,
    })
}

/// A feed in mm/min: from 1 (slower is no cut, and a program's F would round to 0) to 1 000 000.
pub(crate) fn check_feed(what: &'static str, v: f64) -> Result<(), StrategyError> {
    if v.is_finite() && (1.0..=1e6).contains(&v) {
        Ok(())
    } else {
        Err(StrategyError::Parameter {
            what,
            expected: "a feed from 1 to 1000000 mm/min",
            found: v,
        })
    }
}

pub(crate) fn check_positive(what: &'static str, v: f64, max: f64) -> Result<(), StrategyError> {
    if v.is_finite() && v > 0.0 && v <= max {
        Ok(())
    } else {
        Err(StrategyError::Parameter {
            what,
            expected: "a positive number of mm within the machine's reach",
            found: v,
        })
    }
}

/// Rotation about Z by `angle` radians: `(x, y) -> (x cos - y sin, x sin + y cos)`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Rot2 {
    c: f64,
    s: f64,
}

impl Rot2 {
    pub fn new(angle: f64) -> Self {
        Rot2 {
            c: angle.cos(),
            s: angle.sin(),
        }
    }
    #[inline]
    pub fn apply(&self, x: f64, y: f64) -> (f64, f64) {
        (x * self.c - y * self.s, x * self.s + y * self.c)
    }
    #[inline]
    pub fn inverse(&self, x: f64, y: f64) -> (f64, f64) {
        (x * self.c + y * self.s, -x * self.s + y * self.c)
    }
}

/// A CL surface backed by the exact drop-cutter (`crate::drop`): grids by triangle
/// rasterisation, points through the bucketed index.
pub struct DropSurface {
    tris: Vec<[[f64; 3]; 3]>,
    cutter: crate::Cutter,
    index: crate::drop::DropIndex,
}

impl DropSurface {
    /// The CL surface of `cutter` over `tris`, seen in a frame turned by `-angle` radians about Z
    /// (so a raster along that frame's X runs at `angle` in the machine frame).
    pub fn new(tris: &[[[f64; 3]; 3]], cutter: crate::Cutter, angle: f64) -> Self {
        let tris: Vec<[[f64; 3]; 3]> = if angle == 0.0 {
            tris.to_vec()
        } else {
            let rot = Rot2::new(angle);
            tris.iter()
                .map(|t| {
                    t.map(|p| {
                        let (x, y) = rot.inverse(p[0], p[1]);
                        [x, y, p[2]]
                    })
                })
                .collect()
        };
        let index = crate::drop::DropIndex::new(&tris, cutter);
        DropSurface {
            tris,
            cutter,
            index,
        }
    }
}

impl ClSurface for DropSurface {
    fn grid(&self, x0: f64, y0: f64, step: f64, nx: usize, ny: usize) -> Vec<f64> {
        let grid = crate::drop::Grid {
            x0,
            y0,
            step,
            nx,
            ny,
        };
        crate::drop::drop_grid(&self.tris, &self.cutter, &grid)
    }
    fn point(&self, x: f64, y: f64) -> Option<f64> {
        self.index.drop_point(x, y)
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! Analytic CL surfaces for testing strategies without the drop-cutter: a ball of radius
    //! `r` over a flat floor with a spherical dome on it has a closed-form CL surface.
    use super::ClSurface;

    /// Ball cutter of radius `r` over the plane `z = floor` (inside `rect`) with a dome: sphere of
    /// radius `big` centred at `(cx, cy, floor)`, the upper half.
    pub struct DomeOnPlane {
        pub r: f64,
        pub floor: f64,
        pub big: f64,
        pub cx: f64,
        pub cy: f64,
        pub rect: super::Rect,
    }

    impl ClSurface for DomeOnPlane {
        fn grid(&self, x0: f64, y0: f64, step: f64, nx: usize, ny: usize) -> Vec<f64> {
            let mut out = Vec::with_capacity(nx * ny);
            for j in 0..ny {
                for i in 0..nx {
                    out.push(
                        self.point(x0 + i as f64 * step, y0 + j as f64 * step)
                            .unwrap_or(f64::NEG_INFINITY),
                    );
                }
            }
            out
        }
        fn point(&self, x: f64, y: f64) -> Option<f64> {
            // plane part: the ball touches the plane when its centre is within r of the rect
            let dx = (self.rect.xmin - x).max(0.0).max(x - self.rect.xmax);
            let dy = (self.rect.ymin - y).max(0.0).max(y - self.rect.ymax);
            let dd = (dx * dx + dy * dy).sqrt();
            if dd > self.r {
                return None;
            }
            // over the rectangle's edge the ball rests on the edge line
            let plane = self.floor - (self.r - (self.r * self.r - dd * dd).sqrt());
            let d = ((x - self.cx).powi(2) + (y - self.cy).powi(2)).sqrt();
            let rr = self.big + self.r;
            let dome = if d < rr {
                self.floor + (rr * rr - d * d).sqrt() - self.r
            } else {
                f64::NEG_INFINITY
            };
            Some(plane.max(dome))
        }
    }
}
