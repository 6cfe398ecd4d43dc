//! The regular XY grid of cutter locations: `x_i = x0 + i * step` for `i in 0..nx`, same for y;
//! values stored y-major (`index = j * nx + i`).

/// Most points a grid may have: 25 M points is 200 MB of Z values (and a CSV of about 750 MB).
pub const MAX_GRID_POINTS: usize = 25_000_000;

/// A regular grid of XY positions, y-major.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Grid {
    pub x0: f64,
    pub y0: f64,
    pub step: f64,
    pub nx: usize,
    pub ny: usize,
}

/// Why a grid cannot be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GridError {
    #[error("grid step {0} mm is not usable: expected a finite step greater than 0")]
    Step(f64),
    #[error(
        "grid bounds x {xmin}..{xmax}, y {ymin}..{ymax} are not finite and ordered (min <= max)"
    )]
    Bounds {
        xmin: f64,
        xmax: f64,
        ymin: f64,
        ymax: f64,
    },
    #[error(
        "a {} x {} grid ({} points) is too large: at most {max} points; use a larger step",
        count_shown(*nx),
        count_shown(*ny),
        count_shown(*nx * *ny),
        max = MAX_GRID_POINTS
    )]
    TooLarge { nx: f64, ny: f64 },
}

/// A count as a person reads it: whole up to a billion, else with an exponent.
fn count_shown(n: f64) -> String {
    if n < 1e9 {
        format!("{n:.0}")
    } else {
        format!("{n:.2e}")
    }
}

/// Number of points `floor((max - min) / step) + 1`, with a relative slack of 1e-9 step so that a
/// span that is a whole number of steps keeps its last point despite rounding.
fn count(min: f64, max: f64, step: f64) -> f64 {
    ((max - min) / step + 1e-9).floor() + 1.0
}

impl Grid {
    /// The grid over `[xmin, xmax] x [ymin, ymax]`: `x_i = xmin + i * step`,
    /// `i = 0..=floor((xmax - xmin) / step)`, same for y.
    ///
    /// # Panics
    /// On a step that is not finite and positive, bounds that are not finite and ordered, or more
    /// than [`MAX_GRID_POINTS`] points; [`Grid::try_over`] returns those as errors.
    pub fn over(xmin: f64, xmax: f64, ymin: f64, ymax: f64, step: f64) -> Grid {
        match Grid::try_over(xmin, xmax, ymin, ymax, step) {
            Ok(g) => g,
            Err(e) => panic!("Grid::over: {e}"),
        }
    }

    /// [`Grid::over`], checking the step, the bounds and the size.
    pub fn try_over(
        xmin: f64,
        xmax: f64,
        ymin: f64,
        ymax: f64,
        step: f64,
    ) -> Result<Grid, GridError> {
        if !(step.is_finite() && step > 0.0) {
            return Err(GridError::Step(step));
        }
        let finite = [xmin, xmax, ymin, ymax].iter().all(|v| v.is_finite());
        if !finite || xmin > xmax || ymin > ymax {
            return Err(GridError::Bounds {
                xmin,
                xmax,
                ymin,
                ymax,
            });
        }
        let (nx, ny) = (count(xmin, xmax, step), count(ymin, ymax, step));
        if nx * ny > MAX_GRID_POINTS as f64 {
            return Err(GridError::TooLarge { nx, ny });
        }
        Ok(Grid {
            x0: xmin,
            y0: ymin,
            step,
            nx: nx as usize,
            ny: ny as usize,
        })
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.nx * self.ny
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    #[inline]
    pub fn x(&self, i: usize) -> f64 {
        self.x0 + i as f64 * self.step
    }

    #[inline]
    pub fn y(&self, j: usize) -> f64 {
        self.y0 + j as f64 * self.step
    }

    /// Index range `lo..=hi` of the points with coordinate in `[min, max]` along an axis of
    /// `n` points from `origin`, clamped to the grid; `None` when empty.
    #[inline]
    pub(crate) fn span(&self, origin: f64, n: usize, min: f64, max: f64) -> Option<(usize, usize)> {
        if min.is_nan() || max.is_nan() || min > max {
            return None;
        }
        let lo = ((min - origin) / self.step).ceil().max(0.0);
        let hi = ((max - origin) / self.step).floor().min(n as f64 - 1.0);
        if lo <= hi {
            Some((lo as usize, hi as usize))
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn over_counts_points_like_the_issue_says() {
        let g = Grid::over(0.0, 10.0, -1.0, 1.9, 0.5);
        assert_eq!((g.nx, g.ny), (21, 6));
        assert_eq!(g.x(20), 10.0);
        assert_eq!(g.y(5), 1.5);
        // 0.1 * 3 is 0.30000000000000004: the slack keeps the last point.
        assert_eq!(Grid::over(0.0, 0.3, 0.0, 0.0, 0.1).nx, 4);
        assert_eq!(Grid::over(2.0, 2.0, 3.0, 3.0, 1.0).len(), 1);
    }

    #[test]
    fn bad_grids_are_errors() {
        assert_eq!(
            Grid::try_over(0.0, 1.0, 0.0, 1.0, 0.0),
            Err(GridError::Step(0.0))
        );
        assert!(Grid::try_over(0.0, 1.0, 0.0, 1.0, -1.0).is_err());
        assert!(Grid::try_over(0.0, 1.0, 0.0, 1.0, f64::NAN).is_err());
        assert!(matches!(
            Grid::try_over(1.0, 0.0, 0.0, 1.0, 0.1),
            Err(GridError::Bounds { .. })
        ));
        let e = Grid::try_over(0.0, 1e6, 0.0, 1e6, 1e-3).unwrap_err();
        assert!(e.to_string().contains("too large"), "{e}");
    }

    #[test]
    fn span_clamps_to_the_grid() {
        let g = Grid::over(0.0, 10.0, 0.0, 10.0, 1.0);
        assert_eq!(g.span(0.0, g.nx, -5.0, 2.5), Some((0, 2)));
        assert_eq!(g.span(0.0, g.nx, 2.5, 2.7), None);
        assert_eq!(g.span(0.0, g.nx, 9.5, 50.0), Some((10, 10)));
        assert_eq!(g.span(0.0, g.nx, f64::NAN, 3.0), None);
    }
}
