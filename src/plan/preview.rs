//! The preview picture: the blank seen from above, the design as a shaded height map (lit from
//! the front-left), the finishing path over it in blue, the cut-out in red and the work zero
//! (front-left corner of the blank's top) marked. Front of the machine at the bottom.

use fab_geometry::design::Design;
use fab_toolpath::{Move, Operation};

/// PNG bytes of the preview, `width` pixels wide.
pub fn render(d: &Design, ops: &[Operation], width: usize) -> Result<Vec<u8>, png::EncodingError> {
    let width = width.max(16);
    let px = d.blank[0] / width as f64;
    let height = ((d.blank[1] / px).ceil() as usize).max(1);
    let mut hm = vec![f64::NEG_INFINITY; width * height];
    // pixel (i, j) centre: x = (i + 0.5) px, y = blank_y - (j + 0.5) px
    for t in &d.mesh.triangles {
        let [a, b, c] = t.map(|k| d.mesh.vertices[k as usize]);
        let den = (b.y - c.y) * (a.x - c.x) + (c.x - b.x) * (a.y - c.y);
        if den.abs() < 1e-12 {
            continue;
        }
        let (xmin, xmax) = (a.x.min(b.x).min(c.x), a.x.max(b.x).max(c.x));
        let (ymin, ymax) = (a.y.min(b.y).min(c.y), a.y.max(b.y).max(c.y));
        let i0 = ((xmin / px - 0.5).floor().max(0.0)) as usize;
        let i1 = ((xmax / px - 0.5).ceil().max(0.0) as usize).min(width - 1);
        let j0 = (((d.blank[1] - ymax) / px - 0.5).floor().max(0.0)) as usize;
        let j1 = ((((d.blank[1] - ymin) / px) - 0.5).ceil().max(0.0) as usize).min(height - 1);
        for j in j0..=j1 {
            let y = d.blank[1] - (j as f64 + 0.5) * px;
            for i in i0..=i1 {
                let x = (i as f64 + 0.5) * px;
                let l1 = ((b.y - c.y) * (x - c.x) + (c.x - b.x) * (y - c.y)) / den;
                let l2 = ((c.y - a.y) * (x - c.x) + (a.x - c.x) * (y - c.y)) / den;
                let l3 = 1.0 - l1 - l2;
                if l1 < 0.0 || l2 < 0.0 || l3 < 0.0 {
                    continue;
                }
                let z = l1 * a.z + l2 * b.z + l3 * c.z;
                let cell = &mut hm[j * width + i];
                *cell = cell.max(z);
            }
        }
    }
    let mut rgb = vec![0u8; width * height * 3];
    let light = {
        let (x, y, z): (f64, f64, f64) = (-1.0, -1.0, 1.5);
        let n = (x * x + y * y + z * z).sqrt();
        (x / n, y / n, z / n)
    };
    for j in 0..height {
        for i in 0..width {
            let k = j * width + i;
            let z = hm[k];
            let color = if z.is_finite() {
                let at = |ii: usize, jj: usize| {
                    let v = hm[jj * width + ii];
                    if v.is_finite() { v } else { z }
                };
                let dzdx =
                    (at((i + 1).min(width - 1), j) - at(i.saturating_sub(1), j)) / (2.0 * px);
                // image rows run towards -Y
                let dzdy =
                    (at(i, j.saturating_sub(1)) - at(i, (j + 1).min(height - 1))) / (2.0 * px);
                let n = (dzdx * dzdx + dzdy * dzdy + 1.0).sqrt();
                let shade = ((-dzdx * light.0 - dzdy * light.1 + light.2) / n).clamp(0.0, 1.0);
                let s = 0.25 + 0.75 * shade;
                [(235.0 * s) as u8, (205.0 * s) as u8, (160.0 * s) as u8]
            } else {
                [200, 200, 200]
            };
            rgb[k * 3..k * 3 + 3].copy_from_slice(&color);
        }
    }
    let to_px = |p: [f64; 3]| (p[0] / px - 0.5, (d.blank[1] - p[1]) / px - 0.5);
    for op in ops {
        let (color, alpha) = match op.name.as_str() {
            "finishing" => ([30u8, 80, 220], 0.3),
            "profile" => ([220, 30, 30], 0.9),
            _ => continue,
        };
        // a mask of the pixels the path covers, blended once (dense rasters stay a tint)
        let mut mask = vec![false; width * height];
        let mut pos: Option<[f64; 3]> = None;
        for m in &op.moves {
            let q = m.end();
            if let (Some(p), Move::Feed { .. } | Move::Arc { .. }) = (pos, m) {
                line(&mut mask, width, height, to_px(p), to_px(q));
            }
            pos = Some(q);
        }
        for (k, _) in mask.iter().enumerate().filter(|(_, m)| **m) {
            blend(&mut rgb[k * 3..k * 3 + 3], color, alpha);
        }
    }
    // work zero: a black ring at the front-left corner
    for a in 0..64 {
        let t = a as f64 / 64.0 * std::f64::consts::TAU;
        for r in [5.0, 6.0] {
            let (x, y) = (
                (r * t.cos()).round(),
                (height as f64 - 1.0 - r * t.sin()).round(),
            );
            if x >= 0.0 && y >= 0.0 && x < width as f64 && y < height as f64 {
                let k = (y as usize * width + x as usize) * 3;
                blend(&mut rgb[k..k + 3], [0, 0, 0], 1.0);
            }
        }
    }
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, width as u32, height as u32);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc.write_header()?;
        w.write_image_data(&rgb)?;
        w.finish()?;
    }
    Ok(out)
}

fn blend(px: &mut [u8], c: [u8; 3], alpha: f64) {
    for ch in 0..3 {
        px[ch] = (px[ch] as f64 * (1.0 - alpha) + c[ch] as f64 * alpha).round() as u8;
    }
}

fn line(mask: &mut [bool], w: usize, h: usize, a: (f64, f64), b: (f64, f64)) {
    let n = ((b.0 - a.0).abs().max((b.1 - a.1).abs()).ceil() as usize).max(1);
    for s in 0..=n {
        let t = s as f64 / n as f64;
        let (x, y) = (
            (a.0 + t * (b.0 - a.0)).round(),
            (a.1 + t * (b.1 - a.1)).round(),
        );
        if x >= 0.0 && y >= 0.0 && x < w as f64 && y < h as f64 {
            mask[y as usize * w + x as usize] = true;
        }
    }
}
