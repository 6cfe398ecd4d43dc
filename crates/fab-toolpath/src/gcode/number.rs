//! Numbers as G-code wants them: fixed decimal notation with a decimal point, never an exponent,
//! never `-0.000`.

/// `v` with `decimals` digits after the point; `-0.000` becomes `0.000`. `v` must be finite.
pub fn fixed(v: f64, decimals: usize) -> String {
    debug_assert!(v.is_finite());
    let s = format!("{v:.decimals$}");
    if s.starts_with('-') && s[1..].bytes().all(|b| b == b'0' || b == b'.') {
        s[1..].to_string()
    } else {
        s
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
