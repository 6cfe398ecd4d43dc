//! Marching tetrahedra over the Kuhn (Freudenthal) split of each grid cube into six tetrahedra
//! along its main diagonal. The split is the same in every cube, so neighbouring cubes cut their
//! shared faces along the same diagonal and the extracted surface is watertight and manifold,
//! with none of the ambiguous cases of marching cubes.
//!
//! Cube corners are numbered by bits: x = 1, y = 2, z = 4. Every edge of a Kuhn tetrahedron
//! joins a corner `a` to a corner `b` whose bits contain `a`'s, so an edge is named by its lower
//! corner and the direction `a ^ b` (1..=7).

use std::sync::OnceLock;

/// One output triangle: three tetrahedron edges, each as (lower corner, upper corner) in cube
/// bits, ordered so the normal points from the inside (value below the level) to the outside.
pub(crate) type TriEdges = [(u8, u8); 3];

/// The six tetrahedra of a cube, as chains 0 -> a -> a|b -> 7.
const TETS: [[u8; 4]; 6] = [
    [0, 1, 3, 7],
    [0, 1, 5, 7],
    [0, 2, 3, 7],
    [0, 2, 6, 7],
    [0, 4, 5, 7],
    [0, 4, 6, 7],
];

fn corner(c: u8) -> [f64; 3] {
    [(c & 1) as f64, ((c >> 1) & 1) as f64, ((c >> 2) & 1) as f64]
}

fn mid((a, b): (u8, u8)) -> [f64; 3] {
    let (p, q) = (corner(a), corner(b));
    [
        (p[0] + q[0]) / 2.0,
        (p[1] + q[1]) / 2.0,
        (p[2] + q[2]) / 2.0,
    ]
}

fn ordered(a: u8, b: u8) -> (u8, u8) {
    if a & b == a { (a, b) } else { (b, a) }
}

/// Orients a triangle so its normal points along `dir` (decided on edge midpoints, where the
/// triangle is never degenerate).
fn orient(t: TriEdges, dir: [f64; 3]) -> TriEdges {
    let [p, q, r] = t.map(mid);
    let u = [q[0] - p[0], q[1] - p[1], q[2] - p[2]];
    let v = [r[0] - p[0], r[1] - p[1], r[2] - p[2]];
    let n = [
        u[1] * v[2] - u[2] * v[1],
        u[2] * v[0] - u[0] * v[2],
        u[0] * v[1] - u[1] * v[0],
    ];
    if n[0] * dir[0] + n[1] * dir[1] + n[2] * dir[2] >= 0.0 {
        t
    } else {
        [t[0], t[2], t[1]]
    }
}

/// For each tetrahedron of the cube and each of the 16 inside/outside patterns of its corners
/// (bit `v` set when tetrahedron corner `v` is inside), the triangles to emit.
pub(crate) fn table() -> &'static [[Vec<TriEdges>; 16]; 6] {
    static TABLE: OnceLock<[[Vec<TriEdges>; 16]; 6]> = OnceLock::new();
    TABLE.get_or_init(|| {
        std::array::from_fn(|ti| {
            let tet = TETS[ti];
            std::array::from_fn(|m| {
                let ins: Vec<u8> = (0..4).filter(|v| m >> v & 1 == 1).map(|v| tet[v]).collect();
                let outs: Vec<u8> = (0..4).filter(|v| m >> v & 1 == 0).map(|v| tet[v]).collect();
                let centre = |s: &[u8]| {
                    let mut c = [0.0; 3];
                    for &x in s {
                        let p = corner(x);
                        for k in 0..3 {
                            c[k] += p[k] / s.len() as f64;
                        }
                    }
                    c
                };
                if ins.is_empty() || outs.is_empty() {
                    return Vec::new();
                }
                let (ci, co) = (centre(&ins), centre(&outs));
                let dir = [co[0] - ci[0], co[1] - ci[1], co[2] - ci[2]];
                match ins.len() {
                    1 | 3 => {
                        let (lone, rest) = if ins.len() == 1 {
                            (ins[0], outs)
                        } else {
                            (outs[0], ins)
                        };
                        let t = [0, 1, 2].map(|k| ordered(lone, rest[k]));
                        vec![orient(t, dir)]
                    }
                    _ => {
                        let (i1, i2, o1, o2) = (ins[0], ins[1], outs[0], outs[1]);
                        let q = [
                            ordered(i1, o1),
                            ordered(i1, o2),
                            ordered(i2, o2),
                            ordered(i2, o1),
                        ];
                        vec![
                            orient([q[0], q[1], q[2]], dir),
                            orient([q[0], q[2], q[3]], dir),
                        ]
                    }
                }
            })
        })
    })
}

/// The tetrahedra, for callers that walk the cube's corners.
pub(crate) const CUBE_TETS: [[u8; 4]; 6] = TETS;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_edge_is_a_chain_edge() {
        for cases in table() {
            for tris in cases {
                for t in tris {
                    for &(a, b) in t {
                        assert_eq!(a & b, a);
                        assert_ne!(a, b);
                    }
                }
            }
        }
    }

    #[test]
    fn patterns_emit_the_right_number_of_triangles() {
        for cases in table() {
            for (m, tris) in cases.iter().enumerate() {
                let n = (m as u32).count_ones();
                let expect = match n {
                    0 | 4 => 0,
                    1 | 3 => 1,
                    _ => 2,
                };
                assert_eq!(tris.len(), expect);
            }
        }
    }
}
