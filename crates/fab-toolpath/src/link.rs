//! Linking: how the tool gets from the end of one cut to the start of the next.
//!
//! Rapids (G0) only ever run above the clearance plane, or straight up to it. A link whose path
//! is clear below the clearance plane (the strategy says how high the material or design rises
//! along it) is cut short: up only as high as needed plus a margin, across and down at feed,
//! unless going over the clearance plane at the machine's rapid rate is quicker (a long link).
//! Entries come down from the clearance plane at the plunge feed.

use crate::path::Move;

/// Heights and feeds of the links between cuts.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Linker {
    /// Z of the clearance plane: above the stock everywhere; rapids run at or above it.
    pub clearance_z: f64,
    /// Height kept above whatever a link must pass over, mm.
    pub margin: f64,
    /// Feed of links below the clearance plane, mm/min.
    pub link_feed: f64,
    /// Feed of moves down into the material, mm/min.
    pub plunge_feed: f64,
    /// The machine's rapid rate, mm/min: a link goes over the clearance plane where that takes
    /// less time than across at `link_feed` (0: never).
    #[serde(default)]
    pub rapid_rate: f64,
}

impl Linker {
    /// Appends the moves from `from` to `to`, where the highest thing (material, design, as
    /// tool-tip Z) along the straight XY path between them is `needed_z`.
    pub fn link(&self, from: [f64; 3], to: [f64; 3], needed_z: f64, out: &mut Vec<Move>) {
        let h = needed_z.max(from[2]).max(to[2]) + self.margin;
        if h >= self.clearance_z || !h.is_finite() || self.over_is_quicker(from, to, h) {
            out.push(Move::Rapid([from[0], from[1], self.clearance_z]));
            self.enter(to, out);
            return;
        }
        if from[2] < h {
            out.push(Move::Feed {
                to: [from[0], from[1], h],
                feed: self.link_feed,
            });
        }
        out.push(Move::Feed {
            to: [to[0], to[1], h],
            feed: self.link_feed,
        });
        out.push(Move::Feed {
            to,
            feed: self.plunge_feed,
        });
    }

    /// Whether going from `from` to `to` over the clearance plane (up and across at the rapid
    /// rate, down at the plunge feed) takes less time than up to `h` and across at the link
    /// feed, down at the plunge feed (nominal rates).
    fn over_is_quicker(&self, from: [f64; 3], to: [f64; 3], h: f64) -> bool {
        if self.rapid_rate.is_nan() || self.rapid_rate <= self.link_feed {
            return false;
        }
        let across = (to[0] - from[0]).hypot(to[1] - from[1]);
        let low = ((h - from[2]).max(0.0) + across) / self.link_feed
            + (h - to[2]).max(0.0) / self.plunge_feed;
        let high = ((self.clearance_z - from[2]).max(0.0) + across) / self.rapid_rate
            + (self.clearance_z - to[2]).max(0.0) / self.plunge_feed;
        high < low
    }

    /// From anywhere at or above the clearance plane: across at the clearance plane, then down
    /// to `to` at the plunge feed.
    pub fn enter(&self, to: [f64; 3], out: &mut Vec<Move>) {
        out.push(Move::Rapid([to[0], to[1], self.clearance_z]));
        if to[2] < self.clearance_z {
            out.push(Move::Feed {
                to,
                feed: self.plunge_feed,
            });
        }
    }

    /// Straight up from `from` to the clearance plane.
    pub fn exit(&self, from: [f64; 3], out: &mut Vec<Move>) {
        if from[2] < self.clearance_z {
            out.push(Move::Rapid([from[0], from[1], self.clearance_z]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const L: Linker = Linker {
        clearance_z: 5.0,
        margin: 1.0,
        link_feed: 5000.0,
        plunge_feed: 500.0,
        rapid_rate: 0.0,
    };

    #[test]
    fn a_low_link_stays_low_and_feeds() {
        let mut m = Vec::new();
        L.link([0.0, 0.0, -10.0], [10.0, 0.0, -9.0], -8.0, &mut m);
        assert_eq!(
            m,
            vec![
                Move::Feed {
                    to: [0.0, 0.0, -7.0],
                    feed: 5000.0
                },
                Move::Feed {
                    to: [10.0, 0.0, -7.0],
                    feed: 5000.0
                },
                Move::Feed {
                    to: [10.0, 0.0, -9.0],
                    feed: 500.0
                },
            ]
        );
    }

    #[test]
    fn a_high_link_goes_by_the_clearance_plane_and_rapids_only_there() {
        let mut m = Vec::new();
        L.link([0.0, 0.0, -10.0], [10.0, 5.0, -9.0], 4.5, &mut m);
        assert_eq!(m[0], Move::Rapid([0.0, 0.0, 5.0]));
        assert_eq!(m[1], Move::Rapid([10.0, 5.0, 5.0]));
        assert_eq!(
            m[2],
            Move::Feed {
                to: [10.0, 5.0, -9.0],
                feed: 500.0
            }
        );
        for w in m.windows(2) {
            if let Move::Rapid(p) = w[1] {
                let a = w[0].end();
                let vertical = a[0] == p[0] && a[1] == p[1];
                assert!(vertical || (a[2] >= 5.0 && p[2] >= 5.0));
            }
        }
    }

    #[test]
    fn a_long_link_goes_over_where_the_rapid_rate_makes_that_quicker() {
        let fast = Linker {
            rapid_rate: 15000.0,
            ..L
        };
        // 200 mm across 2 mm under the plane: 40 mm of descent at 500 is 4.8 s over the plane
        // against 2.4 s across at 5000 plus 0.36 s down: stays low
        let mut m = Vec::new();
        fast.link([0.0, 0.0, -30.0], [200.0, 0.0, -30.0], -31.0, &mut m);
        assert!(m.iter().all(|x| matches!(x, Move::Feed { .. })), "{m:?}");
        // near the plane: 1.0 s over against 2.4 s low
        let mut m = Vec::new();
        fast.link([0.0, 0.0, 2.0], [200.0, 0.0, 2.0], 1.0, &mut m);
        assert_eq!(m[0], Move::Rapid([0.0, 0.0, 5.0]));
        assert_eq!(m[1], Move::Rapid([200.0, 0.0, 5.0]));
        // a short link near the plane stays low; without a rapid rate every link does
        let mut m = Vec::new();
        fast.link([0.0, 0.0, 2.0], [5.0, 0.0, 2.0], 1.0, &mut m);
        assert!(m.iter().all(|x| matches!(x, Move::Feed { .. })), "{m:?}");
        let mut m = Vec::new();
        L.link([0.0, 0.0, 2.0], [200.0, 0.0, 2.0], 1.0, &mut m);
        assert!(m.iter().all(|x| matches!(x, Move::Feed { .. })), "{m:?}");
    }
}
