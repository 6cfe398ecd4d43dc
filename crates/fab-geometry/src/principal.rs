//! Principal axes of a surface: area-weighted centroid and covariance of its triangles, and the
//! eigenvectors of that covariance, largest spread first.

use nalgebra::{Matrix3, Point3, SymmetricEigen, Vector3};

use crate::mesh::Mesh;

/// Centroid and principal axes of a surface.
#[derive(Clone, Copy, Debug)]
pub struct Principal {
    pub centroid: Point3<f64>,
    /// Unit axes, largest variance first; a right-handed frame.
    pub axes: [Vector3<f64>; 3],
    /// Variances along the axes, mm².
    pub variances: [f64; 3],
}

/// Principal axes of the mesh surface, weighting each triangle by its area (so the result does
/// not depend on how densely the scanner sampled each region).
pub fn of_surface(mesh: &Mesh) -> Principal {
    let mut area_sum = 0.0;
    let mut c = Vector3::zeros();
    for t in 0..mesh.triangles.len() {
        let [a, b, d] = mesh.triangle(t);
        let w = (b - a).cross(&(d - a)).norm() / 2.0;
        c += w * (a.coords + b.coords + d.coords) / 3.0;
        area_sum += w;
    }
    if area_sum <= 0.0 {
        return Principal {
            centroid: Point3::origin(),
            axes: [Vector3::x(), Vector3::y(), Vector3::z()],
            variances: [0.0; 3],
        };
    }
    c /= area_sum;
    let mut cov = Matrix3::zeros();
    for t in 0..mesh.triangles.len() {
        let [a, b, d] = mesh.triangle(t);
        let w = (b - a).cross(&(d - a)).norm() / 2.0;
        // second moment of a triangle about c: (1/12)(sum vi vi^T + (sum vi)(sum vi)^T) * area
        let (va, vb, vd) = (a.coords - c, b.coords - c, d.coords - c);
        let s = va + vb + vd;
        cov += w / 12.0
            * (va * va.transpose() + vb * vb.transpose() + vd * vd.transpose() + s * s.transpose());
    }
    cov /= area_sum;
    let eig = SymmetricEigen::new(cov);
    let mut idx = [0usize, 1, 2];
    idx.sort_by(|&i, &j| eig.eigenvalues[j].total_cmp(&eig.eigenvalues[i]));
    let e0: Vector3<f64> = eig.eigenvectors.column(idx[0]).into();
    let e1: Vector3<f64> = eig.eigenvectors.column(idx[1]).into();
    let e2 = e0.cross(&e1);
    Principal {
        centroid: Point3::from(c),
        axes: [e0.normalize(), e1.normalize(), e2.normalize()],
        variances: idx.map(|i| eig.eigenvalues[i]),
    }
}

/// Principal axes of a 2D point set: (centroid, major axis unit vector, variances major/minor).
pub fn of_points_2d(points: &[[f64; 2]]) -> ([f64; 2], [f64; 2], [f64; 2]) {
    let n = points.len().max(1) as f64;
    let (mut mx, mut my) = (0.0, 0.0);
    for p in points {
        mx += p[0];
        my += p[1];
    }
    mx /= n;
    my /= n;
    let (mut sxx, mut syy, mut sxy) = (0.0, 0.0, 0.0);
    for p in points {
        let (dx, dy) = (p[0] - mx, p[1] - my);
        sxx += dx * dx;
        syy += dy * dy;
        sxy += dx * dy;
    }
    sxx /= n;
    syy /= n;
    sxy /= n;
    let tr = sxx + syy;
    let det = sxx * syy - sxy * sxy;
    let disc = (tr * tr / 4.0 - det).max(0.0).sqrt();
    let (l1, l2) = (tr / 2.0 + disc, tr / 2.0 - disc);
    let axis = if sxy.abs() > 1e-12 {
        let v = [l1 - syy, sxy];
        let len = (v[0] * v[0] + v[1] * v[1]).sqrt();
        [v[0] / len, v[1] / len]
    } else if sxx >= syy {
        [1.0, 0.0]
    } else {
        [0.0, 1.0]
    };
    ([mx, my], axis, [l1, l2])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_2d_of_a_tilted_line() {
        let pts: Vec<[f64; 2]> = (0..100)
            .map(|i| {
                [
                    i as f64 * 0.6,
                    i as f64 * 0.8 + if i % 2 == 0 { 0.1 } else { -0.1 },
                ]
            })
            .collect();
        let (_, a, v) = of_points_2d(&pts);
        assert!(
            (a[0].abs() - 0.6).abs() < 1e-3 && (a[1].abs() - 0.8).abs() < 1e-3,
            "{a:?}"
        );
        assert!(v[0] > 100.0 * v[1]);
    }
}
