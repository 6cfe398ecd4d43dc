//! The foot orthosis itself, milled directly from a block (EVA, foam, polypropylene): the design
//! a router cuts when the lab does not form a shell over a positive.
//!
//! The device stands on its flat bottom (the shoe side, `Z = 0`) with the foot side up, in the
//! foot's lab frame (heel at the origin, toes along +Y, the foot above it). It is a height field
//! over its outline, built on a regular grid ([`field`]):
//! - the plantar surface of the (already rectified: arch fill, met pad) foot seen from below,
//!   moved down by the top cover's thickness where one is prescribed: the lower envelope of balls
//!   of that radius on the surface, i.e. its true offset along the normals;
//! - a rim height over the sole: the heel cup's depth above the heel's lowest point round the
//!   rear of the foot, the medial and lateral flanges' heights above the sole beside them (at
//!   three tenths of the width in from the middle, as the positive's trim) along the midfoot, a low edge under the forefoot; the top is the lower of the two, so the heel cup
//!   and flanges are walls that follow the foot up to their height and stand `wall` beyond it;
//! - the outline: where the foot is below the rim, grown by the wall, cut at the extension
//!   (metatarsal heads, sulcus, toes; a fraction of the foot's length), closed (no notch the
//!   cut-out tool cannot follow) and opened (its ends rounded), all through exact distance
//!   transforms, then taken row by row across the foot's length;
//! - posts as tilts of the rear- and forefoot about the long axis relative to the flat bottom
//!   (varus: medial side up), blended over the midfoot like the positive's; a heel lift raising
//!   the heel seat, fading out under the arch;
//! - the whole lifted so that its thinnest point is exactly the shell's thickness.
//!
//! The mesh is closed: the top as strips between rows across the foot, vertical walls along the
//! outline and a flat bottom. [`measure`] reads the device back from a mesh (length, heel-cup
//! depth, posts, least thickness) and [`nest`] lays one or two devices out on a blank in the
//! machine frame.

pub mod field;
pub mod measure;
pub mod nest;

use nalgebra::Point3;

use crate::mesh::Mesh;
use crate::modify::falloff;
use crate::orient::FootSide;
use field::Grid;

pub use measure::DeviceMeasurements;

/// What the Rx and the material row make of the device. Lengths in mm, angles in degrees.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DeviceParams {
    pub side: FootSide,
    /// Where the device ends, as a fraction of the foot's length from the heel (metatarsal
    /// 0.62, sulcus 0.80, toes 1.0).
    pub extension: f64,
    /// Heel cup depth above the heel's lowest point.
    pub heel_cup: f64,
    /// Flange heights above the sole beside them, along the midfoot.
    pub medial_flange: f64,
    pub lateral_flange: f64,
    /// Edge height above the sole where there is neither heel cup nor flange (the forefoot).
    pub edge: f64,
    /// Rearfoot and forefoot posts, positive varus (medial side up), negative valgus.
    pub rearfoot_post: f64,
    pub forefoot_post: f64,
    /// Heel lift: the heel seat raised by this much, fading out under the arch.
    pub heel_lift: f64,
    /// Top cover thickness: the foot side lowered by it (0: none).
    pub top_cover: f64,
    /// Least thickness anywhere, measured from the flat bottom (the shell's thickness).
    pub thickness: f64,
    /// Width of the walls (heel cup, flanges, edge) beyond the foot at their top.
    pub wall: f64,
    /// Radius of the outline's rounded ends.
    pub end_radius: f64,
    /// Grid step of the height field.
    pub grid: f64,
}

impl DeviceParams {
    /// Sensible values for `side` (a 10 mm heel cup, no flanges, posts or cover, 6 mm thick,
    /// to the sulcus).
    pub fn new(side: FootSide) -> DeviceParams {
        DeviceParams {
            side,
            extension: 0.8,
            heel_cup: 10.0,
            medial_flange: 0.0,
            lateral_flange: 0.0,
            edge: 3.0,
            rearfoot_post: 0.0,
            forefoot_post: 0.0,
            heel_lift: 0.0,
            top_cover: 0.0,
            thickness: 6.0,
            wall: 4.0,
            end_radius: 15.0,
            grid: 0.5,
        }
    }

    fn validate(&self) -> Result<(), DeviceError> {
        let checks: [(&'static str, f64, f64, f64); 13] = [
            ("extension", self.extension, 0.3, 1.1),
            ("heel cup", self.heel_cup, 0.0, 60.0),
            ("medial flange", self.medial_flange, 0.0, 60.0),
            ("lateral flange", self.lateral_flange, 0.0, 60.0),
            ("edge height", self.edge, 0.0, 30.0),
            ("rearfoot post", self.rearfoot_post, -20.0, 20.0),
            ("forefoot post", self.forefoot_post, -20.0, 20.0),
            ("heel lift", self.heel_lift, 0.0, 40.0),
            ("top cover", self.top_cover, 0.0, 20.0),
            ("thickness", self.thickness, 1.0, 60.0),
            ("wall", self.wall, 1.0, 30.0),
            ("end radius", self.end_radius, 1.0, 100.0),
            ("grid step", self.grid, 0.1, 5.0),
        ];
        for (what, v, lo, hi) in checks {
            if !(v.is_finite() && v >= lo && v <= hi) {
                return Err(DeviceError::Parameter {
                    what,
                    lo,
                    hi,
                    found: v,
                });
            }
        }
        Ok(())
    }
}

/// The orthosis, lab frame: bottom at `Z = 0`, foot side up, heel toward -Y.
#[derive(Clone, Debug)]
pub struct Device {
    /// The closed solid: top, walls, bottom.
    pub mesh: Mesh,
    /// The top (foot side) alone: what the finishing ball follows.
    pub top: Mesh,
    /// The outline, counter-clockwise seen from +Z, no repeated closing point.
    pub outline: Vec<[f64; 2]>,
    /// Height of the top at each outline point (the walls' tops).
    pub outline_z: Vec<f64>,
    /// Length of the foot it is for (heel to the longest toe), mm.
    pub foot_length: f64,
    pub params: DeviceParams,
    /// As measured on `mesh`.
    pub measured: DeviceMeasurements,
}

/// Why a device could not be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DeviceError {
    #[error("device {what} must be between {lo} and {hi}, got {found}")]
    Parameter {
        what: &'static str,
        lo: f64,
        hi: f64,
        found: f64,
    },
    #[error("the foot is {0:.0} mm long: not a foot in millimetres in the lab frame")]
    NotAFoot(f64),
    #[error("the foot has no plantar surface under its {0:.0} % of length to the extension")]
    NoOutline(f64),
    #[error("the device would need a grid of {0} points: the foot is far too large")]
    TooLarge(usize),
}

/// C1 step from 0 (at or before `a`) to 1 (at or after `b`).
fn ramp(x: f64, a: f64, b: f64) -> f64 {
    1.0 - falloff((x - a) / (b - a))
}

/// Weight of the rearfoot (1 under the heel, 0 from 45 % of the length on): the posted part
/// (the same blend as [`crate::modify::Op::Post`]).
pub fn rearfoot_weight(f: f64) -> f64 {
    1.0 - ramp(f, 0.3, 0.45)
}

/// Weight of the forefoot (0 up to 50 % of the length, 1 from 65 %).
pub fn forefoot_weight(f: f64) -> f64 {
    ramp(f, 0.5, 0.65)
}

/// Closing radius of the outline: notches narrower than this are filled, so the cut-out's tool
/// (10 mm or less) follows the outline everywhere.
const CLOSE_RADIUS: f64 = 8.0;

/// The orthosis for `lab`, a foot in the lab frame (heel at the origin, toes +Y, floor at
/// `Z = 0`), already rectified (arch fill, met pad).
pub fn orthosis(lab: &Mesh, p: &DeviceParams) -> Result<Device, DeviceError> {
    p.validate()?;
    let Some((lo, hi)) = lab.bounds() else {
        return Err(DeviceError::NotAFoot(0.0));
    };
    let length = hi.y - lo.y;
    if !(100.0..=450.0).contains(&length) {
        return Err(DeviceError::NotAFoot(length));
    }
    let m = p.side.medial_sign();
    let margin = p.wall + CLOSE_RADIUS + 2.0 * p.grid + 2.0;
    let y_end = lo.y + p.extension * length;
    let g = Grid::covering(
        lo.x - margin,
        lo.y - margin,
        hi.x + margin,
        y_end.min(hi.y) + margin,
        p.grid,
    );
    if g.len() > 20_000_000 {
        return Err(DeviceError::TooLarge(g.len()));
    }
    let f_of = |y: f64| (y - lo.y) / length;
    // the plantar surface, lowered by the top cover
    let plantar = field::envelope_below(&field::lowest(lab, &g), &g, p.top_cover);

    // the sole's lowest point across each row, its centre and width (moving window of 5 mm)
    let (nx, ny) = (g.nx, g.ny);
    let mut row_min = vec![f64::INFINITY; ny];
    let mut row_span = vec![(f64::INFINITY, f64::NEG_INFINITY); ny];
    for j in 0..ny {
        for i in 0..nx {
            let z = plantar[i + j * nx];
            if z.is_finite() {
                row_min[j] = row_min[j].min(z);
                row_span[j].0 = row_span[j].0.min(g.x(i));
                row_span[j].1 = row_span[j].1.max(g.x(i));
            }
        }
    }
    let valid: Vec<usize> = (0..ny).filter(|&j| row_min[j].is_finite()).collect();
    if valid.is_empty() {
        return Err(DeviceError::NoOutline(p.extension * 100.0));
    }
    // rows beyond the foot take the nearest row's values
    for j in 0..ny {
        if !row_min[j].is_finite() {
            let near = valid
                .iter()
                .copied()
                .min_by_key(|&v| v.abs_diff(j))
                .expect("non-empty");
            row_min[j] = row_min[near];
            row_span[j] = row_span[near];
        }
    }
    // the sole beside each side: at three tenths of the width in from the middle, medial and
    // lateral (where the positive's trim is measured from too), over a 5 mm moving window
    let sole_at = |j: usize, x: f64| -> f64 {
        let i = (((x - g.x0) / g.h).round().max(0.0) as usize).min(nx - 1);
        // the nearest node across with a surface
        (0..nx)
            .flat_map(|d| [i.checked_sub(d), Some(i + d)])
            .flatten()
            .filter(|&ii| ii < nx)
            .map(|ii| plantar[ii + j * nx])
            .find(|z| z.is_finite())
            .unwrap_or(row_min[j])
    };
    let sides: Vec<(f64, f64)> = (0..ny)
        .map(|j| {
            let (a, b) = row_span[j];
            let (cx, w) = ((a + b) / 2.0, b - a);
            (sole_at(j, cx + 0.3 * w * m), sole_at(j, cx - 0.3 * w * m))
        })
        .collect();
    let half = (2.5 / p.grid).round() as usize;
    let smooth: Vec<(f64, f64)> = (0..ny)
        .map(|j| {
            let (a, b) = (j.saturating_sub(half), (j + half).min(ny - 1));
            let n = (b - a + 1) as f64;
            let (sm, sl) = sides[a..=b]
                .iter()
                .fold((0.0, 0.0), |r, q| (r.0 + q.0, r.1 + q.1));
            (sm / n, sl / n)
        })
        .collect();
    let heel_base = (0..ny)
        .filter(|&j| f_of(g.y(j)) < 0.25)
        .flat_map(|j| (0..nx).map(move |i| i + j * nx))
        .map(|k| plantar[k])
        .fold(f64::INFINITY, f64::min);
    let heel_base = if heel_base.is_finite() {
        heel_base
    } else {
        row_min[0]
    };
    // the rim over the sole
    let rim = |i: usize, j: usize| -> f64 {
        let (x, f) = (g.x(i), f_of(g.y(j)));
        let (a, b) = row_span[j];
        let (cx, w) = ((a + b) / 2.0, (b - a).max(1.0));
        let wm = ramp((x - cx) * m / w, -0.15, 0.15); // 1 on the medial side
        let flange = wm * p.medial_flange + (1.0 - wm) * p.lateral_flange;
        let sole = wm * smooth[j].0 + (1.0 - wm) * smooth[j].1;
        let wh = 1.0 - ramp(f, 0.2, 0.35); // heel cup over the rear of the foot
        let wf = 1.0 - ramp(f, 0.55, 0.7); // flanges along the midfoot
        let side = sole + wf * flange.max(p.edge) + (1.0 - wf) * p.edge;
        wh * (heel_base + p.heel_cup.max(p.edge)) + (1.0 - wh) * side
    };
    let mut top = vec![0.0; g.len()];
    let mut foot = vec![false; g.len()];
    for j in 0..ny {
        for i in 0..nx {
            let k = i + j * nx;
            let h = rim(i, j);
            foot[k] = plantar[k] < h && g.y(j) <= y_end;
            top[k] = plantar[k].min(h);
        }
    }
    // the outline: the foot under the rim grown by the wall, cut at the extension, closed,
    // opened; phi < 0 inside, the distance to the opened set less the end radius
    let mut region = field::dilate(&foot, &g, p.wall);
    for j in 0..ny {
        if g.y(j) > y_end {
            region[j * nx..(j + 1) * nx]
                .iter_mut()
                .for_each(|r| *r = false);
        }
    }
    let region = field::erode(&field::dilate(&region, &g, CLOSE_RADIUS), &g, CLOSE_RADIUS);
    let core = field::erode(&region, &g, p.end_radius);
    if !core.iter().any(|&c| c) {
        return Err(DeviceError::NoOutline(p.extension * 100.0));
    }
    let phi: Vec<f64> = field::distance2(&core, &g)
        .iter()
        .map(|d| d.sqrt() - p.end_radius)
        .collect();
    // posts and heel lift, relative to the flat bottom
    let heel_cx = {
        let j = ((lo.y + 0.13 * length - g.y0) / g.h).round() as usize;
        let (a, b) = row_span[j.min(ny - 1)];
        (a + b) / 2.0
    };
    let fore_cx = {
        let j = ((lo.y + 0.7 * length - g.y0) / g.h).round() as usize;
        let (a, b) = row_span[j.min(ny - 1)];
        (a + b) / 2.0
    };
    let (tr, tf) = (
        p.rearfoot_post.to_radians().tan(),
        p.forefoot_post.to_radians().tan(),
    );
    for j in 0..ny {
        let f = f_of(g.y(j));
        let (wr, wf) = (rearfoot_weight(f), forefoot_weight(f));
        let lift = p.heel_lift * (1.0 - ramp(f, 0.3, 0.55));
        for i in 0..nx {
            let x = g.x(i);
            top[i + j * nx] += lift + wr * tr * m * (x - heel_cx) + wf * tf * m * (x - fore_cx);
        }
    }
    let (mut mesh, n_top, mut top_mesh, ring) = build_mesh(&g, &phi, &top)?;
    // lift it so that its thinnest point is the shell's thickness
    let least = top_mesh
        .vertices
        .iter()
        .map(|v| v.z)
        .fold(f64::INFINITY, f64::min);
    let dz = p.thickness - least;
    for v in mesh.vertices[..n_top]
        .iter_mut()
        .chain(top_mesh.vertices.iter_mut())
    {
        v.z += dz;
    }
    let outline = ring
        .iter()
        .map(|&v| {
            [
                top_mesh.vertices[v as usize].x,
                top_mesh.vertices[v as usize].y,
            ]
        })
        .collect();
    let outline_z = ring
        .iter()
        .map(|&v| top_mesh.vertices[v as usize].z)
        .collect();
    let measured = measure::measure(&mesh, p.side, [0.0, 1.0], length);
    Ok(Device {
        mesh,
        top: top_mesh,
        outline,
        outline_z,
        foot_length: length,
        params: *p,
        measured,
    })
}

/// The closed mesh, the top alone and the outline of the device whose outline is `phi < 0` and
/// whose top is `top` (both on `g`). Rows of the grid across the foot's length, each sampled at
/// the same number of points between its outline crossings, make the top's strips; the ends
/// close on an apex where `phi` crosses zero along the middle column. The bottom is at `Z = 0`;
/// the mesh's first `n_top` vertices are the top's (returned as the second value).
#[allow(clippy::type_complexity)]
fn build_mesh(
    g: &Grid,
    phi: &[f64],
    top: &[f64],
) -> Result<(Mesh, usize, Mesh, Vec<u32>), DeviceError> {
    let nx = g.nx;
    // each row's outermost crossings of phi = 0
    let mut rows: Vec<(f64, f64, f64)> = Vec::new(); // (y, xl, xr)
    for j in 0..g.ny {
        let at = |i: usize| phi[i + j * nx];
        let cross = |i: usize| {
            let (a, b) = (at(i), at(i + 1));
            g.x(i) + g.h * a / (a - b)
        };
        let left = (0..nx - 1).find(|&i| (at(i) < 0.0) != (at(i + 1) < 0.0));
        let right = (0..nx - 1)
            .rev()
            .find(|&i| (at(i) < 0.0) != (at(i + 1) < 0.0));
        if let (Some(l), Some(r)) = (left, right)
            && l < r
        {
            let (xl, xr) = (cross(l), cross(r));
            if xr - xl > 2.0 * g.h {
                rows.push((g.y(j), xl, xr));
            }
        }
    }
    if rows.len() < 3 {
        return Err(DeviceError::NoOutline(0.0));
    }
    let widest = rows.iter().map(|r| r.2 - r.1).fold(0.0, f64::max);
    let n = ((widest / g.h).ceil() as usize).max(2) + 1;
    // the ends: where phi crosses zero along the column through the end row's middle
    let apex = |row: &(f64, f64, f64), dir: f64| -> [f64; 2] {
        let x = (row.1 + row.2) / 2.0;
        let mut y = row.0;
        let step = g.h / 8.0;
        while g.sample(phi, x, y + dir * step) < 0.0 && (y - row.0).abs() < 50.0 {
            y += dir * step;
        }
        // between y and the next step: linear
        let (a, b) = (g.sample(phi, x, y), g.sample(phi, x, y + dir * step));
        [x, y + dir * step * (a / (a - b)).clamp(0.0, 1.0)]
    };
    let start = apex(&rows[0], -1.0);
    let end = apex(rows.last().expect("rows"), 1.0);
    let z_at = |x: f64, y: f64| g.sample(top, x, y);
    let mut top_v: Vec<Point3<f64>> = Vec::with_capacity(rows.len() * n + 2);
    for &(y, xl, xr) in &rows {
        for k in 0..n {
            let x = xl + (xr - xl) * k as f64 / (n - 1) as f64;
            top_v.push(Point3::new(x, y, z_at(x, y)));
        }
    }
    let s_apex = top_v.len() as u32;
    top_v.push(Point3::new(start[0], start[1], z_at(start[0], start[1])));
    let e_apex = top_v.len() as u32;
    top_v.push(Point3::new(end[0], end[1], z_at(end[0], end[1])));
    let idx = |r: usize, k: usize| (r * n + k) as u32;
    let mut top_t: Vec<[u32; 3]> = Vec::with_capacity(2 * rows.len() * n);
    for r in 0..rows.len() - 1 {
        for k in 0..n - 1 {
            // counter-clockwise seen from +Z (x right, y up)
            top_t.push([idx(r, k), idx(r, k + 1), idx(r + 1, k + 1)]);
            top_t.push([idx(r, k), idx(r + 1, k + 1), idx(r + 1, k)]);
        }
    }
    let last = rows.len() - 1;
    for k in 0..n - 1 {
        top_t.push([s_apex, idx(0, k + 1), idx(0, k)]);
        top_t.push([e_apex, idx(last, k), idx(last, k + 1)]);
    }
    // the outline counter-clockwise: heel apex, right side up, toe apex, left side down
    let mut ring: Vec<u32> = vec![s_apex];
    ring.extend((0..rows.len()).map(|r| idx(r, n - 1)));
    ring.push(e_apex);
    ring.extend((0..rows.len()).rev().map(|r| idx(r, 0)));
    let top_mesh = Mesh::new(top_v.clone(), top_t.clone());
    // the solid: the top, a wall under each outline edge, the bottom as strips between rows
    let mut verts = top_v;
    let mut tris = top_t;
    let nb = verts.len() as u32;
    for &v in &ring {
        let p = verts[v as usize];
        verts.push(Point3::new(p.x, p.y, 0.0));
    }
    let m = ring.len();
    for a in 0..m {
        let b = (a + 1) % m;
        let (ta, tb) = (ring[a], ring[b]);
        let (ba, bb) = (nb + a as u32, nb + b as u32);
        // outward: the outline runs counter-clockwise, so the outside is on its right
        tris.push([ta, ba, bb]);
        tris.push([ta, bb, tb]);
    }
    // bottom: ring positions of row r's right and left points
    let rpos = |r: usize| 1 + r; // right side
    let lpos = |r: usize| 2 + rows.len() + (rows.len() - 1 - r); // left side
    let b = |pos: usize| nb + pos as u32;
    for r in 0..rows.len() - 1 {
        // facing -Z: clockwise seen from above
        tris.push([b(lpos(r)), b(rpos(r + 1)), b(rpos(r))]);
        tris.push([b(lpos(r)), b(lpos(r + 1)), b(rpos(r + 1))]);
    }
    tris.push([b(0), b(lpos(0)), b(rpos(0))]);
    tris.push([b(rows.len() + 1), b(rpos(last)), b(lpos(last))]);
    Ok((Mesh::new(verts, tris), nb as usize, top_mesh, ring))
}

#[cfg(test)]
mod tests;
