//! Planning direct-milled orthoses: one device, or a pair nested on one blank, milled in one
//! program (`fab_geometry::device` makes and lays them out; `fab_toolpath::strategy` mills
//! them): Z-level roughing of every part's zone against all parts at once, a finishing raster
//! over the foot sides with level lines on their steep walls (inside the outlines: the outer
//! walls are the cut-out's), then each part cut out along its own outline with tabs.

use fab_geometry::design::{Design, DesignParams};
use fab_geometry::device::Device;
use fab_geometry::device::nest::{self, Layout};
use fab_toolpath::strategy::{self, ClSurface, DropSurface, Rect, Zone};
use fab_toolpath::{Machine, Operation};

use super::{
    CHANNEL_CLEARANCE, OpSettings, PlanError, Settings, Setup, Tabs, finished_ops, raster,
};

/// A planned blank of orthoses before it is written.
pub struct OrthosisPlan {
    pub layout: Layout,
    /// The parts as one design (all solids in one mesh, the blank, the heights), as the preview
    /// and the sheet draw it.
    pub design: Design,
    pub ops: Vec<Operation>,
    pub op_settings: Vec<OpSettings>,
    pub tabs: Tabs,
    /// Tool-tip points of the finishing passes before simplification.
    pub cl_points: usize,
}

/// Least room between two parts on the blank beyond the cut-out's path either side, mm.
pub const PART_GAP_CLEARANCE: f64 = 1.0;

/// Plans `devices` (one, or a left and a right) on one blank for `machine`. `step` is called
/// before each long step (progress).
pub fn plan(
    devices: &[Device],
    s: &Settings,
    machine: &Machine,
    step: &mut dyn FnMut(&str),
) -> Result<OrthosisPlan, PlanError> {
    let setup = Setup::of(s, machine)?;
    let linker = setup.linker;
    step("laying out the blank");
    let r_rough = s.rough_tool.radius();
    let layout = nest::layout(
        devices,
        &nest::LayoutParams {
            side_margin: s.design.side_margin,
            // the cut-out's path round each part, and room between them
            gap: 2.0 * (r_rough + CHANNEL_CLEARANCE) + PART_GAP_CLEARANCE,
            top_margin: s.design.top_margin,
        },
    );
    let solids = layout.mesh();
    let tops = layout.tops();
    let ext = layout.extent();
    let outlines: Vec<Vec<[f64; 2]>> = layout.parts.iter().map(|p| p.outline.clone()).collect();
    let design = Design {
        mesh: solids.clone(),
        to_machine: layout.parts[0].to_machine,
        base: ext,
        outline: layout.parts[0].outline.clone(),
        base_z: layout.edge_z,
        top_z: layout.top_z,
        bottom_z: layout.bottom_z,
        blank: layout.blank,
        params: DesignParams {
            base_margin: 0.0,
            base_thickness: 0.0,
            ..s.design
        },
    };
    // Roughing: every part's zone (its outline and the channel round it) down to a millimetre
    // over the blank's bottom, against all parts' solids, so one part's channel never cuts into
    // the other; what stays round the parts falls away with the cut-out.
    step("roughing");
    let solid_soup = solids.to_soup();
    let mut rp = setup.rough_params(s);
    // deep levels only: the finishing ball follows every surface of the foot side, so the
    // terraces between them (a stepdown at most, over the allowance) are its to take
    rp.step_up = s.stepdown;
    rp.flats = false;
    let floor = DropSurface::new(&solid_soup, rp.floor_cutter(), 0.0);
    let zone = Zone {
        outlines: &outlines,
        reach: r_rough + CHANNEL_CLEARANCE,
    };
    let channel_floor = layout.bottom_z + 1.0;
    let rough = strategy::rough(&floor, None, zone, 0.0, channel_floor, &rp, &linker)?;
    drop((floor, solid_soup));

    // Finishing: the raster over the foot sides only (each line where the ball meets a top, in
    // pieces where it leaves one: over an edge the ball rolls onto the wall's top corner and
    // stops, never down the outer wall, which the cut-out takes), then level lines on the steep
    // parts inside the outlines (the heel cup's and flanges' inner walls).
    step("finishing");
    let top_soup = tops.to_soup();
    let below = layout.bottom_z - 1.0;
    let (mut fp, wp) = setup.finish_params(s);
    fp.pieces_on_design = true;
    let level = DropSurface::new(&top_soup, s.finish_tool, 0.0);
    let area = Rect {
        xmin: ext[0],
        ymin: ext[1],
        xmax: ext[2],
        ymax: ext[3],
    }
    .grown(s.finish_tool.radius());
    let mut passes = raster(&top_soup, s, &fp, area, below, &level)?;
    let lines = strategy::waterline(
        &level,
        area,
        layout.edge_z.min(lowest_top(&layout)),
        layout.top_z,
        &wp,
    )?;
    passes.extend(inside_only(lines, &outlines));
    let cl_points = passes.iter().map(Vec::len).sum();
    let finish = strategy::finish(&passes, &fp, &linker, &|x, y| level.point(x, y));
    drop(top_soup);

    // The cut-out: each part along its own outline, from the top of its highest wall to the
    // blank's bottom, with tabs; one operation.
    step("profile");
    let pp = setup.profile_params(s);
    let mut profile: Option<Operation> = None;
    for part in &layout.parts {
        let from = part
            .outline_z
            .iter()
            .fold(f64::NEG_INFINITY, |a, &b| a.max(b))
            + s.allowance;
        let op = strategy::profile(&part.outline, from.min(0.0), layout.bottom_z, &pp, &linker)?;
        match &mut profile {
            None => profile = Some(op),
            Some(p) => p.moves.extend(op.moves),
        }
    }
    let profile = profile.expect("a part");

    step("simplifying");
    let (ops, op_settings) = finished_ops(
        [rough, finish, profile],
        (&rp, &fp, &pp),
        s,
        [
            format!(
                "Z levels over the parts and a channel round each, {} mm stock left",
                rp.allowance
            ),
            format!(
                "raster over the foot sides at {}\u{b0}{}, level lines on the heel cup's and flanges' inner walls",
                s.angle_deg,
                if s.cross_pass { " and across" } else { "" }
            ),
            format!(
                "cut-out along each orthosis's outline ({} part{}), ramped laps",
                layout.parts.len(),
                if layout.parts.len() == 1 { "" } else { "s" }
            ),
        ],
    );
    let tabs = Tabs {
        count: if pp.tab_width > 0.0 {
            pp.tabs * layout.parts.len()
        } else {
            0
        },
        width: pp.tab_width,
        height: pp.tab_height,
        top_z: layout.bottom_z + pp.tab_height,
        bottom_z: layout.bottom_z,
    };
    Ok(OrthosisPlan {
        layout,
        design,
        ops,
        op_settings,
        tabs,
        cl_points,
    })
}

/// The lowest point of any part's top.
fn lowest_top(layout: &Layout) -> f64 {
    layout
        .parts
        .iter()
        .flat_map(|p| p.top.vertices.iter())
        .map(|v| v.z)
        .fold(f64::INFINITY, f64::min)
}

/// The level lines cut to the pieces whose tool centres lie inside an outline: outside, the ball
/// only rolls over an outer wall's top corner, which the cut-out finishes.
fn inside_only(lines: Vec<Vec<[f64; 3]>>, outlines: &[Vec<[f64; 2]>]) -> Vec<Vec<[f64; 3]>> {
    let inside = |q: &[f64; 3]| outlines.iter().any(|o| contains(o, q[0], q[1]));
    let mut out = Vec::new();
    for line in lines {
        let closed = line.len() > 2 && line.first() == line.last();
        let mut piece: Vec<[f64; 3]> = Vec::new();
        let mut pieces = Vec::new();
        for q in &line {
            if inside(q) {
                piece.push(*q);
            } else if !piece.is_empty() {
                pieces.push(std::mem::take(&mut piece));
            }
        }
        if !piece.is_empty() {
            pieces.push(piece);
        }
        // a closed loop cut open: its last piece runs on into its first
        if closed && pieces.len() > 1 && inside(&line[0]) {
            let first = pieces.remove(0);
            pieces
                .last_mut()
                .expect("pieces")
                .extend(first.into_iter().skip(1));
        }
        out.extend(pieces.into_iter().filter(|p| p.len() >= 2));
    }
    out
}

/// Whether `(x, y)` is inside the polygon (crossing number).
fn contains(poly: &[[f64; 2]], x: f64, y: f64) -> bool {
    let n = poly.len();
    let mut inside = false;
    for k in 0..n {
        let (a, b) = (poly[k], poly[(k + 1) % n]);
        if (a[1] > y) != (b[1] > y) && x < a[0] + (y - a[1]) * (b[0] - a[0]) / (b[1] - a[1]) {
            inside = !inside;
        }
    }
    inside
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_lines_outside_the_outline_are_dropped() {
        let square = vec![vec![[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0]]];
        // a closed loop crossing out of the square and back: one open piece inside, joined
        // across the loop's start
        let line = vec![
            [5.0, 5.0, 1.0],
            [9.0, 5.0, 1.0],
            [12.0, 5.0, 1.0],
            [12.0, 8.0, 1.0],
            [9.0, 8.0, 1.0],
            [5.0, 8.0, 1.0],
            [5.0, 5.0, 1.0],
        ];
        let out = inside_only(vec![line], &square);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].first(), Some(&[9.0, 8.0, 1.0]));
        assert_eq!(out[0].last(), Some(&[9.0, 5.0, 1.0]));
        assert!(out[0].iter().all(|q| q[0] < 10.0));
    }
}
