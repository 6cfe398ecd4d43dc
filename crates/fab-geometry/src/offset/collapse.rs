//! Collapsing edges too short for the file formats and loaders downstream: STL stores `f32`
//! (about 3e-5 mm at foot scale) and `load` welds corners within 1e-3 mm, so an edge shorter
//! than that would be welded away there and leave the surface open. Each such edge is collapsed
//! to its midpoint when that is a clean local operation (the link condition holds and no
//! neighbouring triangle turns over); the surface stays a closed manifold.

use rayon::prelude::*;

use crate::query::{V3, cross, dot, lerp, norm2, sub};

/// Collapses edges shorter than `min_len`; returns how many.
pub(crate) fn collapse_short_edges(
    vertices: &mut [V3],
    normals: &[V3],
    facing: f64,
    triangles: &mut Vec<[u32; 3]>,
    min_len: f64,
) -> usize {
    let min2 = min_len * min_len;
    // Found in parallel (the whole surface is walked for a few short edges); the collected
    // order is the serial walk's, and the sort by length is stable, so the order is fixed.
    let verts: &[V3] = vertices;
    let mut short: Vec<(f64, u32, u32)> = triangles
        .par_iter()
        .flat_map_iter(|t| {
            (0..3).filter_map(move |k| {
                let (a, b) = (t[k], t[(k + 1) % 3]);
                let l2 = norm2(sub(verts[a as usize], verts[b as usize]));
                (a < b && l2 < min2).then_some((l2, a, b))
            })
        })
        .collect();
    if short.is_empty() {
        return 0;
    }
    short.sort_by(|x, y| x.0.total_cmp(&y.0));
    // Vertex -> triangles, for the vertices involved only.
    let mut around: std::collections::HashMap<u32, Vec<u32>> = std::collections::HashMap::new();
    for &(_, a, b) in &short {
        around.entry(a).or_default();
        around.entry(b).or_default();
    }
    let mut involved = vec![false; vertices.len()];
    for &(_, a, b) in &short {
        involved[a as usize] = true;
        involved[b as usize] = true;
    }
    for (i, t) in triangles.iter().enumerate() {
        for v in t {
            if !involved[*v as usize] {
                continue;
            }
            if let Some(list) = around.get_mut(v) {
                list.push(i as u32);
            }
        }
    }
    let mut dead = vec![false; triangles.len()];
    let mut done = 0;
    for (_, a, b) in short {
        let (Some(ta), Some(tb)) = (around.get(&a), around.get(&b)) else {
            continue;
        };
        let live = |ts: &Vec<u32>| -> Vec<u32> {
            ts.iter().copied().filter(|&t| !dead[t as usize]).collect()
        };
        let (ta, tb) = (live(ta), live(tb));
        let shared: Vec<u32> = ta.iter().copied().filter(|t| tb.contains(t)).collect();
        if shared.len() != 2 {
            continue;
        }
        let ring = |ts: &[u32], me: u32| -> Vec<u32> {
            let mut r: Vec<u32> = ts
                .iter()
                .flat_map(|&t| triangles[t as usize])
                .filter(|&v| v != me)
                .collect();
            r.sort_unstable();
            r.dedup();
            r
        };
        let (ra, rb) = (ring(&ta, a), ring(&tb, b));
        let common: Vec<u32> = ra
            .iter()
            .copied()
            .filter(|v| rb.binary_search(v).is_ok() && *v != a && *v != b)
            .collect();
        if common.len() != 2 {
            continue; // link condition fails: collapsing would pinch the surface
        }
        let m = lerp(vertices[a as usize], vertices[b as usize], 0.5);
        // No remaining triangle around a or b may turn over.
        let flips = ta
            .iter()
            .chain(tb.iter())
            .filter(|t| !shared.contains(t))
            .any(|&t| {
                let tri = triangles[t as usize];
                let p = tri.map(|v| vertices[v as usize]);
                let q = tri.map(|v| {
                    if v == a || v == b {
                        m
                    } else {
                        vertices[v as usize]
                    }
                });
                let n0 = cross(sub(p[1], p[0]), sub(p[2], p[0]));
                let n1 = cross(sub(q[1], q[0]), sub(q[2], q[0]));
                // Nor lean away from the surface normal at any of its corners (the test the
                // refinement makes of its splits): a sliver's own normal says little.
                let l1 = norm2(n1).sqrt();
                dot(n0, n1) <= 0.0
                    || l1 == 0.0
                    || tri.iter().any(|&v| {
                        let nv = normals[if v == b { a } else { v } as usize];
                        facing * dot(n1, nv) <= -0.1 * l1
                    })
            });
        if flips {
            continue;
        }
        for &t in &shared {
            dead[t as usize] = true;
        }
        vertices[a as usize] = m;
        for &t in &tb {
            if !dead[t as usize] {
                for v in triangles[t as usize].iter_mut() {
                    if *v == b {
                        *v = a;
                    }
                }
            }
        }
        let moved = tb.clone();
        around.entry(a).or_default().extend(moved);
        around.remove(&b);
        done += 1;
    }
    let mut i = 0;
    triangles.retain(|_| {
        i += 1;
        !dead[i - 1]
    });
    done
}

/// Flips the longest edge of every sliver (a triangle whose smallest altitude is below
/// `min_alt`, a corner almost on the opposite edge): the loader drops such triangles as
/// degenerate, which would open the surface. The flip keeps the surface closed and oriented and
/// is skipped where it would fold or duplicate an edge. Returns how many.
pub(crate) fn flip_slivers(vertices: &[V3], triangles: &mut [[u32; 3]], min_alt: f64) -> usize {
    let altitude = |t: [u32; 3]| {
        let p = t.map(|v| vertices[v as usize]);
        let twice = norm2(cross(sub(p[1], p[0]), sub(p[2], p[0]))).sqrt();
        let longest = (0..3)
            .map(|k| norm2(sub(p[(k + 1) % 3], p[k])))
            .fold(0.0, f64::max)
            .sqrt();
        twice / longest.max(1e-300)
    };
    let slivers: Vec<usize> = (0..triangles.len())
        .into_par_iter()
        .filter(|&t| altitude(triangles[t]) < min_alt)
        .collect();
    if slivers.is_empty() {
        return 0;
    }
    // Every edge looked up below has a corner of a sliver at one end, and the flips insert the
    // edges they make: only the triangles around sliver corners need to be in the map (a few
    // hundred, where mapping all of them costs more than the rest of the post-processing).
    let mut corner = vec![false; vertices.len()];
    for &t in &slivers {
        for v in triangles[t] {
            corner[v as usize] = true;
        }
    }
    let mut owner: std::collections::HashMap<(u32, u32), u32> = std::collections::HashMap::new();
    for (i, t) in triangles.iter().enumerate() {
        if t.iter().any(|&v| corner[v as usize]) {
            for k in 0..3 {
                owner.insert((t[k], t[(k + 1) % 3]), i as u32);
            }
        }
    }
    let mut touched = vec![false; triangles.len()];
    let mut done = 0;
    for t in slivers {
        if touched[t] {
            continue;
        }
        let tri = triangles[t];
        let p = tri.map(|v| vertices[v as usize]);
        let k = (0..3)
            .max_by(|&i, &j| {
                norm2(sub(p[(i + 1) % 3], p[i])).total_cmp(&norm2(sub(p[(j + 1) % 3], p[j])))
            })
            .unwrap();
        let (a, b, c) = (tri[k], tri[(k + 1) % 3], tri[(k + 2) % 3]);
        let Some(&u) = owner.get(&(b, a)) else {
            continue;
        };
        let u = u as usize;
        if touched[u] {
            continue;
        }
        let ut = triangles[u];
        let Some(&d) = ut.iter().find(|&&v| v != a && v != b) else {
            continue;
        };
        if d == c || owner.contains_key(&(c, d)) || owner.contains_key(&(d, c)) {
            continue;
        }
        let q = |v: u32| vertices[v as usize];
        let nu = cross(sub(q(ut[1]), q(ut[0])), sub(q(ut[2]), q(ut[0])));
        let n1 = cross(sub(q(d), q(a)), sub(q(c), q(a)));
        let n2 = cross(sub(q(b), q(d)), sub(q(c), q(d)));
        if dot(n1, nu) <= 0.0 || dot(n2, nu) <= 0.0 {
            continue;
        }
        let (t1, t2) = ([a, d, c], [d, b, c]);
        if altitude(t1) < min_alt || altitude(t2) < min_alt {
            continue;
        }
        for e in [(a, b), (b, a), (b, c), (c, a), (a, d), (d, b)] {
            owner.remove(&e);
        }
        triangles[t] = t1;
        triangles[u] = t2;
        for (e, o) in [
            ((a, d), t),
            ((d, c), t),
            ((c, a), t),
            ((d, b), u),
            ((b, c), u),
            ((c, d), u),
        ] {
            owner.insert(e, o as u32);
        }
        touched[t] = true;
        touched[u] = true;
        done += 1;
    }
    done
}
