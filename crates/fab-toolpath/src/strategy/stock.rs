//! A coarse height map of the stock left by the cuts so far: where roughing needs to ramp in and
//! how high a link must lift. Cells are point samples; queries look one cell wider than the
//! tool so they err on the high (safe) side.

use super::Rect;

pub(crate) struct StockMap {
    x0: f64,
    y0: f64,
    cell: f64,
    nx: usize,
    ny: usize,
    z: Vec<f64>,
}

impl StockMap {
    pub fn new(area: Rect, cell: f64, top: f64) -> Self {
        let nx = (area.width() / cell).ceil() as usize + 1;
        let ny = (area.height() / cell).ceil() as usize + 1;
        StockMap {
            x0: area.xmin,
            y0: area.ymin,
            cell,
            nx,
            ny,
            z: vec![top; nx * ny],
        }
    }

    fn range(&self, lo: f64, hi: f64, o: f64, n: usize) -> std::ops::Range<usize> {
        let a = ((lo - o) / self.cell).floor().max(0.0) as usize;
        let b = (((hi - o) / self.cell).ceil() + 1.0).max(0.0) as usize;
        a.min(n)..b.min(n)
    }

    /// Lowers the stock to `z` under a flat disc of radius `r` swept from `a` to `b` (XY).
    pub fn cut(&mut self, a: [f64; 2], b: [f64; 2], r: f64, z: f64) {
        for k in self.swept_disc(a, b, r) {
            self.z[k] = self.z[k].min(z);
        }
    }

    /// Highest stock under a disc of radius `r` (plus one cell) swept from `a` to `b`.
    pub fn max_along(&self, a: [f64; 2], b: [f64; 2], r: f64) -> f64 {
        self.swept_disc(a, b, r + self.cell)
            .map(|k| self.z[k])
            .fold(f64::NEG_INFINITY, f64::max)
    }

    /// Indices of the cells whose centres lie under a disc of radius `r` swept from `a` to `b`.
    fn swept_disc(&self, a: [f64; 2], b: [f64; 2], r: f64) -> impl Iterator<Item = usize> + use<> {
        let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
        let l2 = dx * dx + dy * dy;
        let xs = self.range(a[0].min(b[0]) - r, a[0].max(b[0]) + r, self.x0, self.nx);
        let ys = self.range(a[1].min(b[1]) - r, a[1].max(b[1]) + r, self.y0, self.ny);
        let (x0, y0, cell, nx) = (self.x0, self.y0, self.cell, self.nx);
        ys.flat_map(move |j| xs.clone().map(move |i| (i, j)))
            .filter(move |&(i, j)| {
                let (x, y) = (x0 + i as f64 * cell, y0 + j as f64 * cell);
                let t = if l2 > 0.0 {
                    (((x - a[0]) * dx + (y - a[1]) * dy) / l2).clamp(0.0, 1.0)
                } else {
                    0.0
                };
                let (ex, ey) = (x - a[0] - t * dx, y - a[1] - t * dy);
                ex * ex + ey * ey <= r * r
            })
            .map(move |(i, j)| j * nx + i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cut_lowers_only_under_the_tool() {
        let area = Rect {
            xmin: 0.0,
            ymin: 0.0,
            xmax: 100.0,
            ymax: 50.0,
        };
        let mut s = StockMap::new(area, 1.0, 0.0);
        s.cut([10.0, 20.0], [90.0, 20.0], 5.0, -4.0);
        assert_eq!(s.max_along([20.0, 20.0], [80.0, 20.0], 3.0), -4.0);
        assert_eq!(s.max_along([20.0, 30.0], [80.0, 30.0], 3.0), 0.0);
        assert_eq!(s.max_along([50.0, 20.0], [50.0, 20.0], 0.0), -4.0);
    }
}
