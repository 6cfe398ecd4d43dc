//! Repair of a triangle soup into a clean indexed mesh: welding coincident vertices, dropping
//! degenerate and duplicate triangles, making the winding consistent and outward.

use nalgebra::Point3;

use crate::fasthash::{self, Cell, FastMap};
use crate::mesh::Mesh;
use crate::topology;

/// Vertices closer than this (mm) are welded into one.
pub const WELD_TOLERANCE_MM: f64 = 1e-3;

/// Triangles with less area than this (mm²) after welding are dropped as degenerate.
pub const DEGENERATE_AREA_MM2: f64 = 1e-12;

/// Welds the corners of a soup (already in mm) into an indexed mesh: corners within `tol` of
/// each other become one vertex. A hash grid of cells 4 `tol` wide, each cell holding a linked
/// list of its vertices in flat arrays: a corner is looked up in its own cell first (exact
/// duplicates, the common case, stop there), then only in the neighbours across faces it is
/// within `tol` of, so two points within `tol` always weld. O(n), no allocation per corner.
pub fn weld(soup: &[[[f64; 3]; 3]], tol: f64) -> Mesh {
    let cell = 4.0 * tol;
    let inv = 1.0 / cell;
    // cell -> first vertex in it; next[v] -> the next vertex in v's cell (u32::MAX ends)
    let mut head: FastMap<Cell, u32> = fasthash::map_with_capacity(soup.len() / 2 + 16);
    let mut next: Vec<u32> = Vec::with_capacity(soup.len() / 2 + 16);
    let mut vertices: Vec<Point3<f64>> = Vec::with_capacity(soup.len() / 2 + 16);
    let mut triangles = Vec::with_capacity(soup.len());
    let tol2 = tol * tol;
    let find_in = |c: &[i64; 3],
                   p: &[f64; 3],
                   head: &FastMap<Cell, u32>,
                   next: &[u32],
                   vertices: &[Point3<f64>]|
     -> Option<u32> {
        let mut v = *head.get(&Cell(*c))?;
        while v != u32::MAX {
            let q = &vertices[v as usize];
            let d2 = (q.x - p[0]).powi(2) + (q.y - p[1]).powi(2) + (q.z - p[2]).powi(2);
            if d2 <= tol2 {
                return Some(v);
            }
            v = next[v as usize];
        }
        None
    };
    for tri in soup {
        let mut idx = [0u32; 3];
        for (k, p) in tri.iter().enumerate() {
            let f = p.map(|x| x * inv);
            let c = f.map(|x| x.floor() as i64);
            let mut found = find_in(&c, p, &head, &next, &vertices);
            if found.is_none() {
                // per axis: the neighbour cell across a face closer than tol, if any
                let side = |k: usize| -> i64 {
                    let frac = f[k] - c[k] as f64;
                    if frac * cell <= tol {
                        -1
                    } else if (1.0 - frac) * cell <= tol {
                        1
                    } else {
                        0
                    }
                };
                let s = [side(0), side(1), side(2)];
                'search: for dx in [0, s[0]] {
                    for dy in [0, s[1]] {
                        for dz in [0, s[2]] {
                            if (dx, dy, dz) == (0, 0, 0) {
                                continue;
                            }
                            found = find_in(
                                &[c[0] + dx, c[1] + dy, c[2] + dz],
                                p,
                                &head,
                                &next,
                                &vertices,
                            );
                            if found.is_some() {
                                break 'search;
                            }
                        }
                    }
                }
            }
            idx[k] = match found {
                Some(v) => v,
                None => {
                    let v = vertices.len() as u32;
                    vertices.push(Point3::new(p[0], p[1], p[2]));
                    let prev = head.insert(Cell(c), v).unwrap_or(u32::MAX);
                    next.push(prev);
                    v
                }
            };
        }
        triangles.push(idx);
    }
    Mesh::new(vertices, triangles)
}

/// What [`clean`] dropped.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize)]
pub struct Cleaned {
    /// Triangles with a repeated corner or no area.
    pub degenerate: usize,
    /// Triangles using the same three vertices as an earlier one (either winding).
    pub duplicate: usize,
}

/// Drops degenerate triangles (repeated corners, area below [`DEGENERATE_AREA_MM2`], or a
/// sliver whose smallest altitude is below [`WELD_TOLERANCE_MM`]) and
/// duplicates (same three vertices as an earlier triangle, in either winding), then unused
/// vertices.
pub fn clean(mesh: &mut Mesh) -> Cleaned {
    let mut out = Cleaned::default();
    let verts = &mesh.vertices;
    let mut keep = vec![true; mesh.triangles.len()];
    // (sorted corners packed, triangle) for the triangles that are not degenerate
    let mut keys: Vec<(u128, u32)> = Vec::with_capacity(mesh.triangles.len());
    for (t, &[a, b, c]) in mesh.triangles.iter().enumerate() {
        let degenerate = a == b || b == c || a == c || {
            let (pa, pb, pc) = (verts[a as usize], verts[b as usize], verts[c as usize]);
            let twice_area = (pb - pa).cross(&(pc - pa)).norm();
            let longest = (pb - pa).norm().max((pc - pb).norm()).max((pa - pc).norm());
            // no area, or a sliver: a corner within the weld tolerance of the opposite edge
            twice_area / 2.0 < DEGENERATE_AREA_MM2 || twice_area / longest < WELD_TOLERANCE_MM
        };
        if degenerate {
            keep[t] = false;
            out.degenerate += 1;
            continue;
        }
        let mut k = [a, b, c];
        k.sort_unstable();
        keys.push((
            ((k[0] as u128) << 64) | ((k[1] as u128) << 32) | k[2] as u128,
            t as u32,
        ));
    }
    // duplicates: equal keys; the earliest triangle stays
    keys.sort_unstable();
    for w in keys.windows(2) {
        if w[0].0 == w[1].0 {
            keep[w[1].1 as usize] = false;
            out.duplicate += 1;
        }
    }
    let mut t = 0;
    mesh.triangles.retain(|_| {
        t += 1;
        keep[t - 1]
    });
    topology::compact_vertices(mesh);
    out
}

/// What [`orient`] changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize)]
pub struct Reoriented {
    /// Triangles flipped to agree with their neighbours.
    pub flipped_for_consistency: usize,
    /// Components turned inside out so their normals point outward.
    pub components_turned_outward: usize,
    /// Triangles in those components.
    pub triangles_turned_outward: usize,
}

/// Makes the winding consistent across manifold edges (breadth-first from a seed in each
/// component, flipping neighbours that disagree), then turns each component outward: a
/// component whose signed volume about its own centroid is negative is flipped whole. For an
/// open scan (a limb open at the cut) the signed volume of the open surface still tells inside
/// from outside as long as the opening is a minor part of it.
pub fn orient(mesh: &mut Mesh) -> Reoriented {
    let mut out = Reoriented::default();
    let es = topology::edges(mesh);
    // neighbour list with "same direction" flag per manifold edge
    let n = mesh.triangles.len();
    let mut adj: Vec<[(u32, bool); 3]> = vec![[(u32::MAX, false); 3]; n];
    let mut push = |t: u32, o: u32, same: bool| {
        if let Some(s) = adj[t as usize].iter_mut().find(|s| s.0 == u32::MAX) {
            *s = (o, same);
        }
    };
    for e in &es {
        if let Some(((a, fa), (b, fb))) = e.pair() {
            push(a, b, fa == fb);
            push(b, a, fa == fb);
        }
    }
    let mut flip = vec![false; n];
    let mut comp = vec![u32::MAX; n];
    let mut ncomp = 0u32;
    let mut queue = std::collections::VecDeque::new();
    for seed in 0..n {
        if comp[seed] != u32::MAX {
            continue;
        }
        comp[seed] = ncomp;
        queue.push_back(seed as u32);
        while let Some(t) = queue.pop_front() {
            for &(o, same) in &adj[t as usize] {
                if o == u32::MAX || comp[o as usize] != u32::MAX {
                    continue;
                }
                comp[o as usize] = ncomp;
                // same direction on a shared edge means one of the two must flip
                flip[o as usize] = flip[t as usize] ^ same;
                queue.push_back(o);
            }
        }
        ncomp += 1;
    }
    for (t, f) in flip.iter().enumerate() {
        if *f {
            mesh.triangles[t].swap(1, 2);
            out.flipped_for_consistency += 1;
        }
    }
    // Outward per component: signed volume about the component centroid.
    let nc = ncomp as usize;
    let mut centroid = vec![nalgebra::Vector3::zeros(); nc];
    let mut count = vec![0usize; nc];
    for (t, &c) in comp.iter().enumerate() {
        for p in mesh.triangle(t) {
            centroid[c as usize] += p.coords;
        }
        count[c as usize] += 3;
    }
    for c in 0..nc {
        centroid[c] /= count[c] as f64;
    }
    let mut vol = vec![0.0f64; nc];
    for (t, &c) in comp.iter().enumerate() {
        let [a, b, d] = mesh.triangle(t);
        let o = centroid[c as usize];
        vol[c as usize] += (a.coords - o).dot(&(b.coords - o).cross(&(d.coords - o)));
    }
    out.components_turned_outward = vol.iter().filter(|&&v| v < 0.0).count();
    if out.components_turned_outward > 0 {
        for (t, &c) in comp.iter().enumerate() {
            if vol[c as usize] < 0.0 {
                mesh.triangles[t].swap(1, 2);
                out.triangles_turned_outward += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cube_soup() -> Vec<[[f64; 3]; 3]> {
        // unit cube scaled to 10 mm, outward winding
        let v = |i: usize| -> [f64; 3] {
            [
                (i & 1) as f64 * 10.0,
                ((i >> 1) & 1) as f64 * 10.0,
                ((i >> 2) & 1) as f64 * 10.0,
            ]
        };
        let quads = [
            [0, 2, 3, 1],
            [4, 5, 7, 6],
            [0, 1, 5, 4],
            [2, 6, 7, 3],
            [0, 4, 6, 2],
            [1, 3, 7, 5],
        ];
        let mut s = Vec::new();
        for q in quads {
            s.push([v(q[0]), v(q[1]), v(q[2])]);
            s.push([v(q[0]), v(q[2]), v(q[3])]);
        }
        s
    }

    fn signed_volume(m: &Mesh) -> f64 {
        (0..m.triangles.len())
            .map(|t| {
                let [a, b, c] = m.triangle(t);
                a.coords.dot(&b.coords.cross(&c.coords)) / 6.0
            })
            .sum()
    }

    #[test]
    fn weld_joins_corners_within_tolerance_across_cells() {
        let mut s = cube_soup();
        // nudge one corner by less than the tolerance, across a cell boundary
        s[0][0] = [0.0 - 0.4e-3, 0.0, 0.0];
        let m = weld(&s, WELD_TOLERANCE_MM);
        assert_eq!(m.vertices.len(), 8);
        assert!(topology::report(&m).watertight);
    }

    #[test]
    fn weld_always_joins_points_within_tolerance_and_never_farther() {
        let tol = WELD_TOLERANCE_MM;
        let mut s: u64 = 0x2545F4914F6CDD1D;
        let mut rnd = || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s % 1_000_001) as f64 / 1_000_000.0
        };
        for _ in 0..2000 {
            let p = [rnd() * 0.02, rnd() * 0.02, rnd() * 0.02];
            let dir = [rnd() - 0.5, rnd() - 0.5, rnd() - 0.5];
            let n = (dir[0] * dir[0] + dir[1] * dir[1] + dir[2] * dir[2]).sqrt();
            let near = 0.999 * tol * rnd();
            let q = [0, 1, 2].map(|k| p[k] + dir[k] / n * near);
            let far = [0, 1, 2].map(|k| p[k] + dir[k] / n * 1.01 * tol);
            let m = weld(&[[p, q, far]], tol);
            let t = m.triangles[0];
            assert_eq!(t[0], t[1], "{p:?} and {q:?} are {near} apart");
            assert_ne!(t[0], t[2], "{p:?} and {far:?} are farther than tol");
        }
    }

    #[test]
    fn clean_drops_degenerate_and_duplicates() {
        let mut s = cube_soup();
        s.push(s[0]);
        let r = s[1];
        s.push([r[0], r[2], r[1]]); // duplicate, opposite winding
        s.push([[1.0, 1.0, 1.0], [1.0, 1.0, 1.0], [2.0, 2.0, 2.0]]);
        let mut m = weld(&s, WELD_TOLERANCE_MM);
        let c = clean(&mut m);
        assert_eq!(
            c,
            Cleaned {
                degenerate: 1,
                duplicate: 2
            }
        );
        assert_eq!(m.triangles.len(), 12);
        assert_eq!(m.vertices.len(), 8);
    }

    #[test]
    fn orient_fixes_flipped_triangles_and_inside_out_meshes() {
        let s = cube_soup();
        let mut m = weld(&s, WELD_TOLERANCE_MM);
        m.triangles[3].swap(0, 1);
        m.triangles[7].swap(0, 1);
        let r = orient(&mut m);
        // seeded at triangle 0, which is right: exactly the two wrong ones flip
        assert_eq!(
            r,
            Reoriented {
                flipped_for_consistency: 2,
                ..Default::default()
            }
        );
        assert_eq!(topology::report(&m).inconsistent_edges, 0);
        assert!((signed_volume(&m) - 1000.0).abs() < 1e-9);

        for t in m.triangles.iter_mut() {
            t.swap(1, 2);
        }
        let r = orient(&mut m);
        assert_eq!(r.components_turned_outward, 1);
        assert!((signed_volume(&m) - 1000.0).abs() < 1e-9);
    }
}
