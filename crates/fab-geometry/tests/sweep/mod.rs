//! The stress variants of the closed fixtures that `offset_sweep` sweeps (see its
//! documentation).
#![allow(dead_code)]

use std::path::Path;

use fab_geometry::Mesh;
use fab_geometry::load::{Units, load_path};
use fab_geometry::query::{check_closed, self_intersections};
use nalgebra::{Point3, Rotation3, Unit, Vector3};

pub fn fixture(name: &str) -> Mesh {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/scans")
        .join(name);
    load_path(&path, Units::Auto).unwrap().mesh
}

/// `mesh` turned by `angle` radians about `axis`, moved off the grid by a fraction of a cell.
pub fn turned(mesh: &Mesh, axis: [f64; 3], angle: f64) -> Mesh {
    let r = Rotation3::from_axis_angle(
        &Unit::new_normalize(Vector3::new(axis[0], axis[1], axis[2])),
        angle,
    );
    Mesh::new(
        mesh.vertices
            .iter()
            .map(|p| r * p + Vector3::new(0.37, -0.21, 0.13))
            .collect(),
        mesh.triangles.clone(),
    )
}

/// Each triangle split into four at its edge midpoints (shared, so the mesh stays closed): a
/// scan four times as dense, its triangles much smaller than the grid's cells.
pub fn subdivided(mesh: &Mesh) -> Mesh {
    mesh.split4()
}

/// Every vertex moved by up to `amp` mm along each axis (a fixed pseudo-random sequence): scanner
/// noise.
pub fn noisy(mesh: &Mesh, amp: f64) -> Mesh {
    let mut s: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    };
    Mesh::new(
        mesh.vertices
            .iter()
            .map(|p| p + Vector3::new(next(), next(), next()) * amp)
            .collect(),
        mesh.triangles.clone(),
    )
}

/// `mesh` with its shortest edges collapsed to their midpoints, in passes (each vertex moved
/// once a pass), until at most `target` triangles are left. A collapse is made only where the
/// surface stays a closed 2-manifold (the ends share exactly the two opposite vertices) and no
/// triangle around it turns by more than about 60 degrees or loses its area.
pub fn decimated(mesh: &Mesh, target: usize) -> Mesh {
    let mut v = mesh.vertices.clone();
    let mut t = mesh.triangles.clone();
    while t.len() > target {
        let mut around: Vec<Vec<u32>> = vec![Vec::new(); v.len()];
        for (i, tri) in t.iter().enumerate() {
            for &c in tri {
                around[c as usize].push(i as u32);
            }
        }
        let mut edges: Vec<(f64, u32, u32)> = t
            .iter()
            .flat_map(|tri| (0..3).map(move |k| (tri[k], tri[(k + 1) % 3])))
            .filter(|(a, b)| a < b)
            .map(|(a, b)| ((v[a as usize] - v[b as usize]).norm(), a, b))
            .collect();
        edges.sort_by(|x, y| x.0.total_cmp(&y.0));
        let mut locked = vec![false; v.len()];
        let mut dead = vec![false; t.len()];
        let mut left = t.len();
        let normal = |p: [Point3<f64>; 3]| (p[1] - p[0]).cross(&(p[2] - p[0]));
        for (_, a, b) in edges {
            if left <= target {
                break;
            }
            if locked[a as usize] || locked[b as usize] {
                continue;
            }
            let (ta, tb) = (&around[a as usize], &around[b as usize]);
            let shared: Vec<u32> = ta.iter().copied().filter(|x| tb.contains(x)).collect();
            if shared.len() != 2 {
                continue;
            }
            let ring = |ts: &[u32], me: u32| {
                let mut r: Vec<u32> = ts
                    .iter()
                    .flat_map(|&x| t[x as usize])
                    .filter(|&c| c != me)
                    .collect();
                r.sort_unstable();
                r.dedup();
                r
            };
            let (ra, rb) = (ring(ta, a), ring(tb, b));
            let common = ra
                .iter()
                .filter(|c| **c != b && rb.binary_search(c).is_ok())
                .count();
            if common != 2 || ra.len() < 4 || rb.len() < 4 {
                continue;
            }
            let m = nalgebra::center(&v[a as usize], &v[b as usize]);
            let bends = ta
                .iter()
                .chain(tb)
                .filter(|x| !shared.contains(x))
                .any(|&x| {
                    let tri = t[x as usize];
                    let old = normal(tri.map(|c| v[c as usize]));
                    let new = normal(tri.map(|c| if c == a || c == b { m } else { v[c as usize] }));
                    new.norm() < 1e-3 * old.norm() || new.dot(&old) < 0.5 * new.norm() * old.norm()
                });
            if bends {
                continue;
            }
            for &x in &shared {
                dead[x as usize] = true;
            }
            left -= 2;
            v[a as usize] = m;
            for &x in tb {
                for c in t[x as usize].iter_mut() {
                    if *c == b {
                        *c = a;
                    }
                }
            }
            for &c in ra.iter().chain(&rb) {
                locked[c as usize] = true;
            }
            locked[a as usize] = true;
            locked[b as usize] = true;
        }
        let before = t.len();
        let mut i = 0;
        t.retain(|_| {
            i += 1;
            !dead[i - 1]
        });
        if t.len() == before {
            break;
        }
    }
    // Drop the vertices no triangle uses.
    let mut index = vec![u32::MAX; v.len()];
    let mut kept = Vec::new();
    for tri in &mut t {
        for c in tri.iter_mut() {
            if index[*c as usize] == u32::MAX {
                index[*c as usize] = kept.len() as u32;
                kept.push(v[*c as usize]);
            }
            *c = index[*c as usize];
        }
    }
    Mesh::new(kept, t)
}

/// 0 below `lo`, 1 above `hi`, smooth between (largest slope 1.5 / (hi - lo)).
pub fn smoothstep(lo: f64, hi: f64, x: f64) -> f64 {
    let s = ((x - lo) / (hi - lo)).clamp(0.0, 1.0);
    s * s * (3.0 - 2.0 * s)
}

/// A foot in the lab frame (heel at the origin, toes along +Y, floor at Z = 0) with each vertex
/// moved along Y by `depth * ramp(y) * sum_k exp(-(x - x_k)^2 / (2 sigma^2))`: the ramp rises
/// from 0 at 50 mm behind the tip to 1 at 5 mm behind it, and `x_k` are `at` times the medial
/// side's sign (toes are mirrored between feet); with a `web` `(lo, hi)`, times a second ramp
/// rising from 0 at `z = lo` to 1 at `z = hi`, so the sole's lowest millimetres stay joined.
/// The map's Jacobian determinant is `1 + depth ramp' bump rise` (the rest is shear), positive
/// while `|depth| * 1.5 / 45 < 1`: the surface moves as a whole and stays closed. (Its flat
/// triangles could still cross where the map bends sharply between close sheets: the mesh is
/// split into four first, and [`variants`] asserts that none cross.)
pub fn toes_moved(
    foot: &Mesh,
    splits: usize,
    at: &[f64],
    sigma: f64,
    depth: f64,
    web: Option<(f64, f64)>,
) -> Mesh {
    assert!(depth.abs() * 1.5 / 45.0 < 1.0);
    let rise = |z: f64| web.map_or(1.0, |(lo, hi)| smoothstep(lo, hi, z));
    let frame = fab_geometry::orient::foot(foot).unwrap();
    let lab = frame.apply(&(0..splits).fold(foot.clone(), |m, _| m.split4()));
    let tip = lab.vertices.iter().map(|p| p.y).fold(f64::MIN, f64::max);
    let side = frame.side.medial_sign();
    let vertices = lab
        .vertices
        .iter()
        .map(|p| {
            let bump: f64 = at
                .iter()
                .map(|&x| (-(p.x - side * x).powi(2) / (2.0 * sigma * sigma)).exp())
                .sum();
            Point3::new(
                p.x,
                p.y + depth * smoothstep(tip - 50.0, tip - 5.0, p.y) * bump * rise(p.z),
                p.z,
            )
        })
        .collect();
    Mesh::new(vertices, lab.triangles)
}

/// Where the fixture feet's toes part, mm across the foot in the lab frame on the medial side's
/// sign (hallux at +16 to +36, then about 12 mm a toe; the scans fuse the toes, so these are
/// read off the forefoot's width, not found).
pub const CLEFTS: [f64; 4] = [10.0, -4.0, -16.0, -28.0];
/// The toes' middles, same frame.
pub const TOE_TIPS: [f64; 5] = [22.0, 3.0, -10.0, -22.0, -34.0];

/// The socket positive of the limb scan: closed (stem and flat end face over the open cut).
pub fn socket_positive(limb: &Mesh) -> Mesh {
    let axis = fab_geometry::measure::limb_axis(limb).unwrap();
    fab_geometry::socket::socket_positive(
        limb,
        &axis.distal,
        &axis.direction,
        &Vector3::y(),
        &Default::default(),
    )
    .unwrap()
    .mesh
}

/// Every closed fixture and its stress variants (see the module documentation), named, each
/// checked closed and free of crossing triangles.
pub fn variants() -> Vec<(String, Mesh)> {
    let mut out = Vec::new();
    for name in ["foot-left-m.stl", "foot-right-m.stl"] {
        let m = fixture(name);
        let short = name.trim_end_matches("-m.stl");
        let quarter = m.triangles.len() / 4;
        out.push((short.to_string(), m.clone()));
        out.push((format!("{short} turned"), turned(&m, [0.3, 0.8, -0.5], 2.2)));
        out.push((format!("{short} subdivided"), subdivided(&m)));
        out.push((format!("{short} noise 0.1 mm"), noisy(&m, 0.1)));
        out.push((format!("{short} decimated"), decimated(&m, quarter)));
        out.push((
            format!("{short} toes apart"),
            toes_moved(&m, 1, &CLEFTS, 4.0, -10.0, None),
        ));
        out.push((
            format!("{short} toes apart, narrow clefts"),
            toes_moved(&m, 1, &CLEFTS, 3.5, -12.0, None),
        ));
        out.push((
            format!("{short} toes sharpened"),
            toes_moved(&m, 1, &TOE_TIPS, 3.0, 8.0, None),
        ));
    }
    let limb = fixture("limb-transtibial.stl");
    assert!(
        check_closed(&limb).is_err(),
        "the limb scan is open at its cut"
    );
    out.push(("limb socket positive".into(), socket_positive(&limb)));
    for (name, m) in &out {
        assert!(check_closed(m).is_ok(), "{name} is not closed");
        assert!(self_intersections(m).is_empty(), "{name} crosses itself");
    }
    out
}
