//! Topology of a mesh: edges and their triangles, boundary loops (holes), non-manifold edges,
//! connected components, and dropping stray fragments.

use std::collections::HashMap;

use nalgebra::Point3;
use rayon::prelude::*;

use crate::mesh::Mesh;

/// One undirected edge and the triangles using it.
#[derive(Clone, Copy, Debug)]
pub struct EdgeUse {
    /// Smaller vertex index first.
    pub key: (u32, u32),
    /// How many triangles use it: 1 boundary, 2 manifold, more non-manifold.
    pub count: u32,
    /// How many of them walk it from `key.0` to `key.1` (the rest walk it backwards).
    pub forward: u32,
    /// The first two uses: (triangle, true when the triangle walks the edge from `key.0` to
    /// `key.1`).
    pub first: [(u32, bool); 2],
}

impl EdgeUse {
    /// The two triangles of a manifold edge.
    #[inline]
    pub fn pair(&self) -> Option<((u32, bool), (u32, bool))> {
        (self.count == 2).then_some((self.first[0], self.first[1]))
    }
}

/// Every undirected edge of the mesh with its triangles, grouped by their smaller vertex. O(n):
/// a counting sort of the half-edges by smaller vertex into flat buckets, then each (small)
/// bucket grouped by the other vertex.
pub fn edges(mesh: &Mesh) -> Vec<EdgeUse> {
    let nv = mesh.vertices.len();
    let mut start = vec![0u32; nv + 1];
    for tri in &mesh.triangles {
        for k in 0..3 {
            let (a, b) = (tri[k], tri[(k + 1) % 3]);
            start[a.min(b) as usize + 1] += 1;
        }
    }
    for v in 0..nv {
        start[v + 1] += start[v];
    }
    // (other vertex, triangle, forward)
    let mut fill: Vec<u32> = start[..nv].to_vec();
    let mut half = vec![(0u32, 0u32, false); start[nv] as usize];
    for (t, tri) in mesh.triangles.iter().enumerate() {
        for k in 0..3 {
            let (a, b) = (tri[k], tri[(k + 1) % 3]);
            let lo = a.min(b) as usize;
            half[fill[lo] as usize] = (a.max(b), t as u32, a < b);
            fill[lo] += 1;
        }
    }
    // the buckets of consecutive vertex ranges, in parallel: sorted and their edges counted,
    // then the edges written straight into each range's part of the result
    let ranges = nv.div_ceil(1 << 16).max(1);
    let step = nv.div_ceil(ranges).max(1);
    let first_vertex = |r: usize| (r * step).min(nv);
    let mut parts: Vec<&mut [(u32, u32, bool)]> = Vec::with_capacity(ranges);
    let mut rest = half.as_mut_slice();
    for r in 0..ranges {
        let len = (start[first_vertex(r + 1)] - start[first_vertex(r)]) as usize;
        let (part, tail) = rest.split_at_mut(len);
        parts.push(part);
        rest = tail;
    }
    let bucket = |v: usize, r: usize| {
        let base = start[first_vertex(r)] as usize;
        start[v] as usize - base..start[v + 1] as usize - base
    };
    let counts: Vec<usize> = parts
        .par_iter_mut()
        .enumerate()
        .map(|(r, part)| {
            let mut edges = 0;
            for v in first_vertex(r)..first_vertex(r + 1) {
                let b = &mut part[bucket(v, r)];
                b.sort_unstable_by_key(|h| (h.0, h.1));
                edges += b.chunk_by(|x, y| x.0 == y.0).count();
            }
            edges
        })
        .collect();
    let empty = EdgeUse {
        key: (0, 0),
        count: 0,
        forward: 0,
        first: [(u32::MAX, false); 2],
    };
    let mut out = vec![empty; counts.iter().sum()];
    let mut outs: Vec<&mut [EdgeUse]> = Vec::with_capacity(ranges);
    let mut rest = out.as_mut_slice();
    for &c in &counts {
        let (o, tail) = rest.split_at_mut(c);
        outs.push(o);
        rest = tail;
    }
    parts
        .into_par_iter()
        .zip(outs)
        .enumerate()
        .for_each(|(r, (part, out))| {
            let mut slots = out.iter_mut();
            for v in first_vertex(r)..first_vertex(r + 1) {
                for uses in part[bucket(v, r)].chunk_by(|x, y| x.0 == y.0) {
                    let e = slots.next().expect("counted above");
                    *e = EdgeUse {
                        key: (v as u32, uses[0].0),
                        count: uses.len() as u32,
                        forward: uses.iter().filter(|u| u.2).count() as u32,
                        first: [0, 1]
                            .map(|k| uses.get(k).map_or((u32::MAX, false), |u| (u.1, u.2))),
                    };
                }
            }
        });
    out
}

/// For each triangle, the triangles sharing a manifold edge with it (up to 3).
pub fn triangle_neighbours(mesh: &Mesh, edges: &[EdgeUse]) -> Vec<[u32; 3]> {
    let mut nb = vec![[u32::MAX; 3]; mesh.triangles.len()];
    let mut fill = |t: u32, o: u32| {
        let slot = nb[t as usize].iter_mut().find(|s| **s == u32::MAX);
        if let Some(s) = slot {
            *s = o;
        }
    };
    for e in edges {
        if let Some(((a, _), (b, _))) = e.pair() {
            fill(a, b);
            fill(b, a);
        }
    }
    nb
}

/// Connected components over shared edges: a component id per triangle, and the count.
pub fn components(mesh: &Mesh) -> (Vec<u32>, usize) {
    // Union-find over vertices: triangles sharing a vertex are connected.
    let n = mesh.vertices.len();
    let mut parent: Vec<u32> = (0..n as u32).collect();
    fn find(p: &mut [u32], mut x: u32) -> u32 {
        while p[x as usize] != x {
            p[x as usize] = p[p[x as usize] as usize];
            x = p[x as usize];
        }
        x
    }
    for t in &mesh.triangles {
        let a = find(&mut parent, t[0]);
        for &v in &t[1..] {
            let b = find(&mut parent, v);
            if a != b {
                parent[b as usize] = a;
            }
        }
    }
    let mut ids: HashMap<u32, u32> = HashMap::new();
    let comp: Vec<u32> = mesh
        .triangles
        .iter()
        .map(|t| {
            let r = find(&mut parent, t[0]);
            let next = ids.len() as u32;
            *ids.entry(r).or_insert(next)
        })
        .collect();
    (comp, ids.len())
}

/// A hole or open cut: a closed chain of boundary edges.
#[derive(Clone, Debug, serde::Serialize)]
pub struct BoundaryLoop {
    /// Vertex indices in order along the loop.
    pub vertices: Vec<u32>,
    /// Length of the loop in mm.
    pub perimeter: f64,
}

/// One connected component.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Component {
    pub triangles: usize,
    pub area: f64,
    /// Diagonal of its bounding box, mm.
    pub diagonal: f64,
}

/// What a mesh's topology is.
#[derive(Clone, Debug, serde::Serialize)]
pub struct TopologyReport {
    pub vertices: usize,
    pub triangles: usize,
    pub edges: usize,
    /// No boundary edges and no non-manifold edges.
    pub watertight: bool,
    /// Boundary loops, largest first.
    pub boundary_loops: Vec<BoundaryLoop>,
    /// Edges shared by more than two triangles.
    pub non_manifold_edges: usize,
    /// Manifold edges whose two triangles walk it the same way (inconsistent orientation).
    pub inconsistent_edges: usize,
    /// Components, largest (by triangles) first.
    pub components: Vec<Component>,
}

impl TopologyReport {
    /// Number of holes (boundary loops).
    pub fn holes(&self) -> usize {
        self.boundary_loops.len()
    }
}

/// The topology report of a mesh.
pub fn report(mesh: &Mesh) -> TopologyReport {
    let es = edges(mesh);
    let mut non_manifold = 0;
    let mut inconsistent = 0;
    let mut boundary: Vec<(u32, u32)> = Vec::new();
    for e in &es {
        match e.count {
            1 => {
                let (_, fwd) = e.first[0];
                // Directed as the triangle walks it.
                boundary.push(if fwd { e.key } else { (e.key.1, e.key.0) });
            }
            2 => {
                if e.first[0].1 == e.first[1].1 {
                    inconsistent += 1;
                }
            }
            _ => non_manifold += 1,
        }
    }
    let boundary_loops = loops(mesh, &boundary);
    let (comp, n) = components(mesh);
    let mut comps = vec![
        Component {
            triangles: 0,
            area: 0.0,
            diagonal: 0.0
        };
        n
    ];
    let mut lo = vec![Point3::new(f64::MAX, f64::MAX, f64::MAX); n];
    let mut hi = vec![Point3::new(f64::MIN, f64::MIN, f64::MIN); n];
    for (t, &c) in comp.iter().enumerate() {
        let c = c as usize;
        comps[c].triangles += 1;
        comps[c].area += mesh.triangle_normal(t).norm() / 2.0;
        for p in mesh.triangle(t) {
            lo[c] = lo[c].inf(&p);
            hi[c] = hi[c].sup(&p);
        }
    }
    for c in 0..n {
        comps[c].diagonal = (hi[c] - lo[c]).norm();
    }
    comps.sort_by_key(|c| std::cmp::Reverse(c.triangles));
    TopologyReport {
        vertices: mesh.vertices.len(),
        triangles: mesh.triangles.len(),
        edges: es.len(),
        watertight: boundary_loops.is_empty() && non_manifold == 0,
        boundary_loops,
        non_manifold_edges: non_manifold,
        inconsistent_edges: inconsistent,
        components: comps,
    }
}

/// Chains directed boundary edges into loops (largest first). At a pinch vertex with several
/// outgoing boundary edges, any is taken; every edge ends up in exactly one loop.
fn loops(mesh: &Mesh, boundary: &[(u32, u32)]) -> Vec<BoundaryLoop> {
    let mut out_edges: HashMap<u32, Vec<usize>> = HashMap::new();
    for (i, &(a, _)) in boundary.iter().enumerate() {
        out_edges.entry(a).or_default().push(i);
    }
    let mut used = vec![false; boundary.len()];
    let mut result = Vec::new();
    for start in 0..boundary.len() {
        if used[start] {
            continue;
        }
        used[start] = true;
        let mut verts = vec![boundary[start].0];
        let mut cur = boundary[start].1;
        let first = boundary[start].0;
        while cur != first {
            verts.push(cur);
            let next = out_edges
                .get(&cur)
                .and_then(|v| v.iter().copied().find(|&i| !used[i]));
            match next {
                Some(i) => {
                    used[i] = true;
                    cur = boundary[i].1;
                }
                None => break, // open chain (should not happen on a consistent mesh)
            }
        }
        let perimeter = (0..verts.len())
            .map(|i| {
                let a = mesh.vertices[verts[i] as usize];
                let b = mesh.vertices[verts[(i + 1) % verts.len()] as usize];
                (b - a).norm()
            })
            .sum();
        result.push(BoundaryLoop {
            vertices: verts,
            perimeter,
        });
    }
    result.sort_by_key(|l| std::cmp::Reverse(l.vertices.len()));
    result
}

/// What [`drop_fragments`] removed.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct DroppedFragments {
    pub components: usize,
    pub triangles: usize,
}

/// Removes stray fragments: components with fewer than 1 % of the main body's triangles and a
/// bounding box less than a fifth of its size. Unused vertices are removed too.
pub fn drop_fragments(mesh: &mut Mesh) -> DroppedFragments {
    let (comp, n) = components(mesh);
    if n <= 1 {
        return DroppedFragments::default();
    }
    let mut count = vec![0usize; n];
    let mut lo = vec![Point3::new(f64::MAX, f64::MAX, f64::MAX); n];
    let mut hi = vec![Point3::new(f64::MIN, f64::MIN, f64::MIN); n];
    for (t, &c) in comp.iter().enumerate() {
        count[c as usize] += 1;
        for p in mesh.triangle(t) {
            lo[c as usize] = lo[c as usize].inf(&p);
            hi[c as usize] = hi[c as usize].sup(&p);
        }
    }
    let main = (0..n).max_by_key(|&c| count[c]).unwrap();
    let main_diag = (hi[main] - lo[main]).norm();
    let stray: Vec<bool> = (0..n)
        .map(|c| {
            c != main
                && (count[c] as f64) < 0.01 * count[main] as f64
                && (hi[c] - lo[c]).norm() < 0.2 * main_diag
        })
        .collect();
    let mut dropped = DroppedFragments {
        components: stray.iter().filter(|&&s| s).count(),
        triangles: 0,
    };
    if dropped.components == 0 {
        return dropped;
    }
    let before = mesh.triangles.len();
    let mut t = 0;
    mesh.triangles.retain(|_| {
        let keep = !stray[comp[t] as usize];
        t += 1;
        keep
    });
    dropped.triangles = before - mesh.triangles.len();
    compact_vertices(mesh);
    dropped
}

/// Removes vertices no triangle uses, renumbering the triangles.
pub fn compact_vertices(mesh: &mut Mesh) {
    let mut map = vec![u32::MAX; mesh.vertices.len()];
    let mut verts = Vec::with_capacity(mesh.vertices.len());
    for tri in mesh.triangles.iter_mut() {
        for v in tri.iter_mut() {
            let m = &mut map[*v as usize];
            if *m == u32::MAX {
                *m = verts.len() as u32;
                verts.push(mesh.vertices[*v as usize]);
            }
            *v = *m;
        }
    }
    mesh.vertices = verts;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A unit tetrahedron, outward.
    pub fn tetra(offset: f64, size: f64) -> Mesh {
        let p = |x: f64, y: f64, z: f64| Point3::new(offset + x * size, y * size, z * size);
        Mesh::new(
            vec![p(0., 0., 0.), p(1., 0., 0.), p(0., 1., 0.), p(0., 0., 1.)],
            vec![[0, 2, 1], [0, 1, 3], [0, 3, 2], [1, 2, 3]],
        )
    }

    #[test]
    fn tetra_is_watertight_one_component() {
        let r = report(&tetra(0.0, 1.0));
        assert!(r.watertight);
        assert_eq!(
            (r.edges, r.components.len(), r.inconsistent_edges),
            (6, 1, 0)
        );
    }

    #[test]
    fn open_tetra_has_one_triangular_hole() {
        let mut m = tetra(0.0, 1.0);
        m.triangles.pop();
        let r = report(&m);
        assert!(!r.watertight);
        assert_eq!(r.boundary_loops.len(), 1);
        assert_eq!(r.boundary_loops[0].vertices.len(), 3);
    }

    #[test]
    fn small_far_fragment_is_dropped_big_one_kept() {
        // Main body: many tetrahedra glued? Use a fine tetra soup: 200 copies sharing nothing
        // would be 200 components, so instead build one body of 400 triangles by repeating.
        let mut m = tetra(0.0, 100.0);
        // Subdivide by duplicating the body into a big strip of joined tetrahedra is overkill:
        // a fragment must have < 1 % of the main body's triangles, so give the body 404.
        for _ in 0..100 {
            let base = m.vertices.len() as u32;
            let t = tetra(0.0, 100.0);
            m.vertices.extend(t.vertices);
            // share vertex 0 with the main body so it stays one component
            m.triangles.extend(
                t.triangles
                    .iter()
                    .map(|tri| tri.map(|v| if v == 0 { 0 } else { v + base })),
            );
        }
        let mut frag = tetra(500.0, 1.0);
        let base = m.vertices.len() as u32;
        m.vertices.append(&mut frag.vertices);
        m.triangles
            .extend(frag.triangles.iter().map(|t| t.map(|v| v + base)));
        let d = drop_fragments(&mut m);
        assert_eq!(
            d,
            DroppedFragments {
                components: 1,
                triangles: 4
            }
        );
        assert_eq!(m.triangles.len(), 404);
        assert!(m.vertices.iter().all(|p| p.x < 200.0));
    }

    #[test]
    fn edges_of_a_large_mesh_match_a_map_of_half_edges() {
        // a 320 x 320 grid (over 65536 vertices: several vertex ranges), with a few triangles
        // repeated and flipped so that edges have 1, 2, 3 and 4 uses
        let n = 320u32;
        let vertices = (0..n * n)
            .map(|i| Point3::new((i % n) as f64, (i / n) as f64, 0.0))
            .collect();
        let mut triangles = Vec::new();
        for y in 0..n - 1 {
            for x in 0..n - 1 {
                let v = y * n + x;
                triangles.push([v, v + 1, v + n + 1]);
                triangles.push([v, v + n + 1, v + n]);
            }
        }
        for t in (0..triangles.len()).step_by(997) {
            let [a, b, c] = triangles[t];
            triangles.push([a, c, b]);
            triangles.push([a, b, c]);
        }
        let mesh = Mesh::new(vertices, triangles);
        let mut map: std::collections::BTreeMap<(u32, u32), Vec<(u32, bool)>> = Default::default();
        for (t, tri) in mesh.triangles.iter().enumerate() {
            for k in 0..3 {
                let (a, b) = (tri[k], tri[(k + 1) % 3]);
                map.entry((a.min(b), a.max(b)))
                    .or_default()
                    .push((t as u32, a < b));
            }
        }
        let es = edges(&mesh);
        assert_eq!(es.len(), map.len());
        for (e, (key, uses)) in es.iter().zip(&map) {
            assert_eq!(e.key, *key);
            assert_eq!(e.count as usize, uses.len());
            assert_eq!(e.forward as usize, uses.iter().filter(|u| u.1).count());
            assert_eq!(e.first[0], uses[0]);
            if uses.len() > 1 {
                assert_eq!(e.first[1], uses[1]);
            }
        }
        assert!(es.iter().any(|e| e.count == 4));
    }
}
