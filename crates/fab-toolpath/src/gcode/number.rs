//! Numbers as G-code wants them: fixed decimal notation with a decimal point, never an exponent,
//! never `-0.000`.

/// `v` with `decimals` digits after the point; `-0.000` becomes `0.000`. `v` must be finite.
pub fn fixed(v: f64, decimals: usize) -> String {
    let mut s = String::with_capacity(12);
    fixed_into(&mut s, v, decimals);
    s
}

/// `fixed` into a reused buffer; returns the value written (`v` rounded to `decimals` places).
/// Rounds half away from zero; integer formatting, as a G-code file has millions of numbers.
pub fn fixed_into(buf: &mut String, v: f64, decimals: usize) -> f64 {
    use std::fmt::Write as _;
    debug_assert!(v.is_finite());
    buf.clear();
    let scale = 10u64.pow(decimals.min(9) as u32);
    let m = (v * scale as f64).round();
    if m.abs() < 1e15 {
        let a = m.abs() as u64;
        if m < 0.0 {
            buf.push('-');
        }
        if decimals == 0 {
            let _ = write!(buf, "{a}");
        } else {
            let _ = write!(
                buf,
                "{}.{:0width$}",
                a / scale,
                a % scale,
                width = decimals.min(9)
            );
        }
        m / scale as f64
    } else {
        let _ = write!(buf, "{v:.decimals$}");
        if buf.starts_with('-') && buf[1..].bytes().all(|b| b == b'0' || b == b'.') {
            buf.remove(0);
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn no_negative_zero_and_no_exponent() {
        assert_eq!(fixed(-0.0, 3), "0.000");
        assert_eq!(fixed(-0.0004, 3), "0.000");
        assert_eq!(fixed(-0.0005001, 3), "-0.001");
        assert_eq!(fixed(2.5, 0), "3");
        assert_eq!(fixed(-12.3456, 4), "-12.3456");
        assert_eq!(fixed(0.05, 1), "0.1");
        assert_eq!(fixed(7.0, 3), "7.000");
        assert_eq!(fixed(1e-9, 3), "0.000");
        assert_eq!(fixed(1.5e6, 3), "1500000.000");
        assert_eq!(fixed(12.0, 1), "12.0");
    }

    proptest! {
        #[test]
        fn always_plain_decimal_and_close(v in -1.0e6f64..1.0e6) {
            let s = fixed(v, 3);
            prop_assert!(s.bytes().all(|b| b.is_ascii_digit() || b == b'.' || b == b'-'));
            prop_assert!(s.contains('.'));
            prop_assert!(s != "-0.000");
            prop_assert!((s.parse::<f64>().unwrap() - v).abs() <= 0.0005 + 1e-9);
        }
    }
}
