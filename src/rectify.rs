//! From a work order's modifications (`fab-ticket`, plain data) to geometry operations
//! (`fab-geometry`, plain data). `fab mesh modify` and `fab plan` both use it, so a prescription
//! means the same shape everywhere.
//!
//! Foot (the positive, in the lab frame): arch fill low/medium/high fills 25/50/75 % of the
//! arch height; met pad, rear- and forefoot posts as given; heel cup and flanges become one trim
//! height (kept apart in [`FootOps::trim`], since a positive to be formed over is milled taller
//! than the orthosis). Heel lift and top cover belong to the finished device, not the positive;
//! the extension is the orthosis's length ([`FootOps::extension_fraction`]).
//!
//! Foot orthosis milled directly ([`device_ops`]): the same arch fill and met pad on the foot; the
//! extension, heel cup, flanges, posts, heel lift, top cover and shell thickness become the
//! device's parameters (`fab_geometry::device`).
//!
//! Socket (the positive, in scan coordinates): the reduction first, as a radial scale about the
//! limb axis; then each relief (build-up) and load (push-in) at its landmark moved by that same
//! scale, or where there is none at the region's usual place found from the limb axis, the
//! anterior direction and the side ([`REGIONS`]), each with the region's radius.

use anyhow::{Context, Result, bail};
use fab_geometry::measure::LimbMeasurements;
use fab_geometry::modify::{FootPart, Op, Region as Shape};
use fab_geometry::nalgebra::{Point3, Vector3};
use fab_geometry::orient::FootSide;
use fab_geometry::{Mesh, nearest, section};
use fab_ticket::order::{
    ArchFill, Extension, Modification, PostDirection, Region, Side, WorkOrder,
};
use fab_ticket::rx::{Device, Prescription};

/// What a foot prescription does to the positive.
#[derive(Debug, Clone, Default)]
pub struct FootOps {
    /// Shape changes, in order.
    pub shape: Vec<Op>,
    /// Heel cup and flanges, as a trim height.
    pub trim: Vec<Op>,
    /// Where the orthosis ends, as a fraction of foot length from the heel.
    pub extension_fraction: Option<f64>,
    /// What was not turned into geometry, and why.
    pub notes: Vec<String>,
}

fn ticket_side(s: FootSide) -> Side {
    match s {
        FootSide::Left => Side::Left,
        FootSide::Right => Side::Right,
    }
}

/// The operations for the foot `side` (found on the scan by `orient::foot`). Refuses when the
/// work order has no orthosis for that foot.
pub fn foot_ops(order: &WorkOrder, side: FootSide) -> Result<FootOps> {
    let s = ticket_side(side);
    if !order.sides.contains(&s) {
        bail!(
            "the scan is a {side} foot but the prescription is for the {} foot",
            order
                .sides
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join(" and ")
        );
    }
    let mut out = FootOps::default();
    let (mut heel_cup, mut flanges) = (None, None);
    let (mut rear, mut fore) = (None, None);
    for m in order.modifications_for(s) {
        match m {
            Modification::ArchFill { level, .. } => {
                let fraction = match level {
                    ArchFill::Low => 0.25,
                    ArchFill::Medium => 0.5,
                    ArchFill::High => 0.75,
                };
                out.shape.push(Op::ArchFill { side, fraction });
            }
            Modification::MetPad { height_mm, .. } => out.shape.push(Op::MetPad {
                side,
                height: *height_mm,
            }),
            Modification::HeelCup { depth_mm, .. } => heel_cup = Some(*depth_mm),
            Modification::Flanges {
                medial_mm,
                lateral_mm,
                ..
            } => flanges = Some((*medial_mm, *lateral_mm)),
            Modification::RearfootPost {
                degrees, direction, ..
            } => rear = Some(signed(*degrees, *direction)),
            Modification::ForefootPost {
                degrees, direction, ..
            } => fore = Some(signed(*degrees, *direction)),
            Modification::HeelLift { height_mm, .. } => out.notes.push(format!(
                "heel lift {height_mm} mm: added under the finished device, not to the positive"
            )),
            Modification::Extension { to, .. } => {
                out.extension_fraction = Some(match to {
                    Extension::Metatarsal => 0.62,
                    Extension::Sulcus => 0.8,
                    Extension::Toes => 1.0,
                });
            }
            other => out
                .notes
                .push(format!("{other}: not a foot modification, ignored")),
        }
    }
    for (part, deg) in [(FootPart::Rearfoot, rear), (FootPart::Forefoot, fore)] {
        if let Some(degrees) = deg.filter(|d| *d != 0.0) {
            out.shape.push(Op::Post {
                part,
                side,
                degrees,
            });
        }
    }
    if heel_cup.is_some() || flanges.is_some() {
        let cup = heel_cup.unwrap_or(10.0);
        let (medial, lateral) = flanges.unwrap_or((cup.min(10.0), cup.min(10.0) / 2.0));
        out.trim.push(Op::TrimHeight {
            side,
            heel_cup: cup,
            medial,
            lateral,
        });
    }
    Ok(out)
}

/// What a foot prescription makes of an orthosis milled directly: the shape changes of the foot
/// (arch fill, met pad) and the device's own parameters (extension, heel cup, flanges, posts,
/// heel lift, top cover, thickness), with notes of the defaults taken.
#[derive(Debug, Clone)]
pub struct DeviceOps {
    pub shape: Vec<Op>,
    pub params: fab_geometry::device::DeviceParams,
    pub notes: Vec<String>,
}

/// The orthosis for the foot `side`, as [`foot_ops`] reads the work order, with the Rx's shell
/// and top cover. Posts and heel lift are built into the device (tilting and raising its seat
/// over the flat bottom), not applied to the foot.
pub fn device_ops(order: &WorkOrder, rx: &Prescription, side: FootSide) -> Result<DeviceOps> {
    let foot = foot_ops(order, side)?;
    let s = ticket_side(side);
    let mut p = fab_geometry::device::DeviceParams::new(side);
    let mut notes = Vec::new();
    let (mut cup, mut flanges) = (None, None);
    for m in order.modifications_for(s) {
        match m {
            Modification::HeelCup { depth_mm, .. } => cup = Some(*depth_mm),
            Modification::Flanges {
                medial_mm,
                lateral_mm,
                ..
            } => flanges = Some((*medial_mm, *lateral_mm)),
            Modification::RearfootPost {
                degrees, direction, ..
            } => p.rearfoot_post = signed(*degrees, *direction),
            Modification::ForefootPost {
                degrees, direction, ..
            } => p.forefoot_post = signed(*degrees, *direction),
            Modification::HeelLift { height_mm, .. } => p.heel_lift = *height_mm,
            _ => {}
        }
    }
    match cup {
        Some(c) => p.heel_cup = c,
        None => notes.push(format!(
            "the Rx gives no heel cup: {} mm, the usual least",
            p.heel_cup
        )),
    }
    if let Some((m, l)) = flanges {
        p.medial_flange = m;
        p.lateral_flange = l;
    }
    match foot.extension_fraction {
        Some(f) => p.extension = f,
        None => notes.push(format!(
            "the Rx gives no extension: to the sulcus ({:.0} % of the foot's length)",
            p.extension * 100.0
        )),
    }
    if let Device::FootOrthotic(f) = &rx.device {
        let over = if side == FootSide::Left {
            &f.left
        } else {
            &f.right
        };
        let fp = f.shared.overridden_by(over);
        match &fp.shell {
            Some(sh) => p.thickness = sh.thickness_mm,
            None => notes.push(format!(
                "the Rx gives no shell: {} mm thick at the thinnest",
                p.thickness
            )),
        }
        if let Some(fab_ticket::rx::TopCover::Cover { thickness_mm, .. }) = &fp.top_cover {
            p.top_cover = *thickness_mm;
        }
    }
    let shape: Vec<Op> = foot
        .shape
        .into_iter()
        .filter(|o| !matches!(o, Op::Post { .. }))
        .collect();
    notes.extend(
        foot.notes
            .into_iter()
            .filter(|n| !n.starts_with("heel lift")),
    );
    Ok(DeviceOps {
        shape,
        params: p,
        notes,
    })
}

fn signed(degrees: f64, d: PostDirection) -> f64 {
    match d {
        PostDirection::Varus => degrees,
        PostDirection::Valgus => -degrees,
    }
}

/// Where a limb region usually is, when the Rx gives no landmark: height as a fraction of the
/// limb's length from the distal end, angle from anterior toward lateral (degrees; 180 is
/// posterior), and the radius of the modification (mm).
pub struct RegionPlace {
    pub region: Region,
    pub height: f64,
    pub angle_to_lateral_deg: f64,
    pub radius_mm: f64,
}

/// The usual places of the limb regions (a transtibial limb, the cut at the knee).
pub const REGIONS: [RegionPlace; 10] = [
    place(Region::PatellarTendon, 0.92, 0.0, 20.0),
    place(Region::TibialTubercle, 0.85, 0.0, 15.0),
    place(Region::TibialCrest, 0.55, 0.0, 12.0),
    place(Region::DistalTibia, 0.12, 0.0, 20.0),
    place(Region::DistalEnd, 0.0, 0.0, 30.0),
    place(Region::FibularHead, 0.8, 90.0, 20.0),
    place(Region::MedialFlare, 0.82, -60.0, 25.0),
    place(Region::LateralFlare, 0.78, 60.0, 25.0),
    place(Region::Popliteal, 0.92, 180.0, 35.0),
    place(Region::Hamstrings, 0.9, 180.0, 25.0),
];

const fn place(region: Region, height: f64, angle: f64, radius: f64) -> RegionPlace {
    RegionPlace {
        region,
        height,
        angle_to_lateral_deg: angle,
        radius_mm: radius,
    }
}

fn region_place(r: Region) -> &'static RegionPlace {
    REGIONS
        .iter()
        .find(|p| p.region == r)
        .expect("every region has a place")
}

/// The operations for a transtibial socket positive, for a limb measured by
/// `measure::limb`. `side` is the leg (for medial/lateral), if the Rx says.
pub fn socket_ops(
    order: &WorkOrder,
    limb: &Mesh,
    lm: &LimbMeasurements,
    side: Option<Side>,
) -> Result<(Vec<Op>, Vec<String>)> {
    let mut ops = Vec::new();
    let mut notes = Vec::new();
    let axis = lm.axis();
    let distal = lm.distal();
    let mut factor = 1.0;
    for m in &order.modifications {
        if let Modification::Reduction { percent } = m {
            factor *= 1.0 - percent / 100.0;
        }
    }
    if factor != 1.0 {
        ops.push(Op::RadialScale {
            factor,
            point: lm.distal_end,
            direction: lm.axis,
        });
    }
    // where a scan point is after the reduction
    let scaled = |p: Point3<f64>| {
        let r = p - distal;
        let along = axis * r.dot(&axis);
        distal + along + (r - along) * factor
    };
    for m in &order.modifications {
        let (region, depth, landmark) = match m {
            Modification::Relief {
                region,
                depth_mm,
                landmark,
            } => (*region, *depth_mm, *landmark),
            Modification::Load {
                region,
                depth_mm,
                landmark,
            } => (*region, -*depth_mm, *landmark),
            Modification::Reduction { .. } => continue,
            Modification::Trimline { height_mm } => {
                notes.push(format!(
                    "posterior trimline {height_mm} mm above the distal end: marked on the socket, the positive is not cut"
                ));
                continue;
            }
            other => {
                notes.push(format!("{other}: not a socket modification, ignored"));
                continue;
            }
        };
        if depth == 0.0 {
            continue;
        }
        let place = region_place(region);
        let centre = match landmark {
            Some(p) => {
                let p = Point3::from(p);
                let Some((_, on_surface, _, off)) = nearest::on_mesh(limb, &p) else {
                    bail!("the limb scan has no surface to place {region} on");
                };
                if off > place.radius_mm {
                    // the modification would not reach the scan at all: the landmarks were
                    // taken on another scan or in another frame
                    bail!(
                        "{region}: the Rx's landmark ({:.1}, {:.1}, {:.1}) mm is {off:.1} mm off the scan's surface, farther than the {} mm the modification reaches: are the Rx and the scan of the same limb, in the same units and frame?",
                        p.x,
                        p.y,
                        p.z,
                        place.radius_mm
                    );
                }
                if off > 5.0 {
                    notes.push(format!(
                        "{region}: the landmark is {off:.1} mm off the scan's surface; the nearest surface point is used"
                    ));
                    on_surface
                } else {
                    p
                }
            }
            None => {
                let p = default_place(limb, lm, place, side).with_context(|| {
                    format!("cannot place {region} on the limb without a landmark")
                })?;
                notes.push(format!(
                    "{region}: no landmark in the Rx; placed at its usual spot ({:.1}, {:.1}, {:.1})",
                    p.x, p.y, p.z
                ));
                p
            }
        };
        let c = scaled(centre);
        let shape = if region == Region::TibialCrest {
            // a ridge along the axis through the point
            let half = 0.2 * lm.length;
            Shape::Capsule {
                from: (c - axis * half).coords.into(),
                to: (c + axis * half).coords.into(),
                radius: place.radius_mm,
            }
        } else {
            Shape::Sphere {
                centre: c.coords.into(),
                radius: place.radius_mm,
            }
        };
        ops.push(Op::Displace {
            region: shape,
            depth,
        });
    }
    Ok((ops, notes))
}

/// The surface point at a region's usual place on the limb.
fn default_place(
    limb: &Mesh,
    lm: &LimbMeasurements,
    place: &RegionPlace,
    side: Option<Side>,
) -> Result<Point3<f64>> {
    let axis = lm.axis();
    let anterior = lm.anterior();
    let level = lm.distal() + axis * (place.height * lm.length);
    if place.height == 0.0 {
        // the distal end: the surface point nearest the axis's distal end
        return Ok(nearest::on_mesh(limb, &lm.distal())
            .context("empty mesh")?
            .1);
    }
    let dir = if place.angle_to_lateral_deg == 0.0 || place.angle_to_lateral_deg == 180.0 {
        anterior * place.angle_to_lateral_deg.to_radians().cos()
    } else {
        let Some(side) = side else {
            bail!("the Rx gives no side, so medial and lateral are unknown");
        };
        // subject's left = axis x anterior (X = Y x Z with Y anterior, Z proximal is the right)
        let left = axis.cross(&anterior);
        let lateral: Vector3<f64> = if side == Side::Left { left } else { -left };
        let a = place.angle_to_lateral_deg.to_radians();
        anterior * a.cos() + lateral * a.sin()
    };
    let segs = section::cut(limb, &level, &axis);
    segs.iter()
        .flat_map(|s| s.iter().copied())
        .max_by(|p, q| {
            let score = |x: &Point3<f64>| {
                let r = x - level;
                r.dot(&dir) / r.norm().max(1e-9)
            };
            score(p).total_cmp(&score(q))
        })
        .context("the limb has no cross-section there")
}

/// A landmark on the front of the limb given in a socket Rx (tibial crest, tibial tubercle or
/// patellar tendon, in that order of preference): it fixes the limb's anterior direction.
pub fn anterior_landmark(rx: &Prescription) -> Option<Point3<f64>> {
    let Device::TranstibialSocket(s) = &rx.device else {
        return None;
    };
    [
        Region::TibialCrest,
        Region::TibialTubercle,
        Region::PatellarTendon,
    ]
    .iter()
    .find_map(|r| s.landmarks.iter().find(|l| l.region == *r))
    .map(|l| Point3::from(l.point_mm))
}

/// A landmark on the front of the limb among the work order's modifications (tibial crest,
/// tibial tubercle or patellar tendon, in that order of preference).
pub fn anterior_of_order(order: &WorkOrder) -> Option<Point3<f64>> {
    [
        Region::TibialCrest,
        Region::TibialTubercle,
        Region::PatellarTendon,
    ]
    .iter()
    .find_map(|want| {
        order.modifications.iter().find_map(|m| match m {
            Modification::Relief {
                region,
                landmark: Some(p),
                ..
            }
            | Modification::Load {
                region,
                landmark: Some(p),
                ..
            } if region == want => Some(Point3::from(*p)),
            _ => None,
        })
    })
}

/// A residual limb rectified as its work order asks (none: as scanned), in scan coordinates.
pub struct SocketScan {
    pub mesh: Mesh,
    pub lm: LimbMeasurements,
    /// The operations applied, in words.
    pub applied: Vec<String>,
    pub notes: Vec<String>,
}

/// Rectifies a residual limb for a socket positive: what `fab mesh modify` writes and `fab plan`
/// carves. `name` names the scan in errors. `anterior` (a point on the front of the limb, scan
/// coordinates) fixes the anterior direction; else the order's landmarks, else the sections.
pub fn socket_scan(
    order: Option<&WorkOrder>,
    scan: &Mesh,
    anterior: Option<Point3<f64>>,
    name: &str,
) -> Result<SocketScan> {
    let anterior = anterior.or_else(|| order.and_then(anterior_of_order));
    let lm = fab_geometry::measure::limb(scan, &[], anterior)
        .with_context(|| format!("{name}: cannot measure the limb"))?;
    let mut notes = vec![format!("anterior direction: from {}", lm.anterior_from)];
    let mut mesh = scan.clone();
    let mut applied = Vec::new();
    if let Some(o) = order {
        let (ops, n) = socket_ops(o, scan, &lm, o.sides.first().copied())
            .map_err(|e| anyhow::anyhow!("{name}: {e:#}"))?;
        notes.extend(n);
        let a = fab_geometry::modify::apply(&mut mesh, &ops)
            .map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
        applied = a.lines;
    }
    Ok(SocketScan {
        mesh,
        lm,
        applied,
        notes,
    })
}

/// Checks the leg the work order names against the limb as scanned, where fab can tell: the
/// fibular head is lateral, so with the limb's axis (distal -> proximal) and anterior direction
/// its landmark must lie on the leg's outer side. Returns what was found, in words; an error
/// when the landmark is on the other side (the Rx is for the other leg, or the scan mirrored).
pub fn check_leg_side(
    rx: Option<&Prescription>,
    side: Option<Side>,
    lm: &LimbMeasurements,
) -> Result<String> {
    let Some(side) = side else {
        return Ok("the Rx names no leg: the side is not checked".into());
    };
    let fibular = match rx.map(|r| &r.device) {
        Some(Device::TranstibialSocket(s)) => s.landmark(Region::FibularHead),
        _ => None,
    };
    let Some(p) = fibular else {
        return Ok(format!(
            "the {side} leg is not checked against the scan: no fibular-head landmark in the Rx"
        ));
    };
    if !lm.anterior_from.contains("landmark") {
        return Ok(format!(
            "the {side} leg is not checked against the scan: its front was found from the sections, not from a landmark"
        ));
    }
    let (u, a) = (lm.axis(), lm.anterior());
    // the patient's right, for a limb standing on its axis and facing its anterior direction
    let right = a.cross(&u);
    let s = (Point3::from(p) - lm.distal()).dot(&right);
    let lateral_is_right = side == Side::Right;
    if (s > 0.0) != lateral_is_right && s.abs() > 5.0 {
        bail!(
            "the Rx is for the {side} leg, but its fibular-head landmark lies on the limb's medial side for that leg (the fibular head is lateral): is the Rx for the other leg, or the scan mirrored?"
        );
    }
    Ok(format!(
        "the {side} leg agrees with the scan: the fibular head is on its lateral side"
    ))
}
