//! Reading programs back: what the writer writes checks clean in its own dialect and plays back
//! the same moves; bad programs are named line by line; the carve simulation gives the exact
//! figures on a raster over a plane.

use fab_toolpath::gcode::{
    CheckOptions, MoveKind, SimOptions, check_program, parse_program, simulate_carve,
};
use fab_toolpath::{
    Blank, Cutter, Dialect, Machine, Move, Operation, ProgramHeader, Tool, write_program,
};

fn header() -> ProgramHeader {
    ProgramHeader {
        job: "J-7".into(),
        scan_sha256: String::new(),
        fab_version: "0.1.0".into(),
        blank: Blank {
            x: 60.0,
            y: 60.0,
            z: 30.0,
        },
        work_zero: "top of blank, front-left corner".into(),
        notes: vec![],
    }
}

/// A 6 mm ball raster over the square [0, 50]^2 at height `z`, passes every `step` mm along X
/// from X -5 to 55, for `passes` passes from Y 0.
fn raster(z: f64, step: f64, passes: usize) -> Operation {
    let mut moves = vec![Move::Rapid([-5.0, 0.0, 5.0])];
    for k in 0..passes {
        let y = k as f64 * step;
        let (a, b) = if k % 2 == 0 {
            (-5.0, 55.0)
        } else {
            (55.0, -5.0)
        };
        moves.push(Move::Feed {
            to: [a, y, z],
            feed: 2000.0,
        });
        moves.push(Move::Feed {
            to: [b, y, z],
            feed: 2000.0,
        });
    }
    moves.push(Move::Rapid([
        moves.last().unwrap().end()[0],
        (passes - 1) as f64 * step,
        5.0,
    ]));
    Operation {
        name: "finishing".into(),
        tool: Tool {
            number: 2,
            cutter: Cutter::Ball { diameter: 6.0 },
        },
        spindle_rpm: 12000.0,
        moves,
    }
}

fn plane(z: f64) -> Vec<[[f64; 3]; 3]> {
    vec![
        [[0.0, 0.0, z], [50.0, 0.0, z], [50.0, 50.0, z]],
        [[0.0, 0.0, z], [50.0, 50.0, z], [0.0, 50.0, z]],
    ]
}

/// Writes `ops` for the bundled router, its pockets holding the ops' cutters (a bull nose in
/// pocket 3 where the bundled table has a ball), and checks the program read back.
fn play(ops: &[Operation], dialect: Dialect) -> fab_toolpath::gcode::CheckReport {
    let mut m = Machine::default_machine();
    for op in ops {
        if let Some(t) = m.tools.iter_mut().find(|t| t.number == op.tool.number) {
            t.cutter = op.tool.cutter;
        }
    }
    let text = &write_program(&header(), ops, &m, dialect).unwrap()[0].text;
    check_program(
        &parse_program(text).unwrap(),
        &CheckOptions {
            dialect,
            machine: Some(m),
        },
    )
}

/// Stock 2 mm above the plane, so the scallops stand in material.
fn stock_at_zero() -> SimOptions {
    SimOptions {
        stock_top: Some(0.0),
        ..SimOptions::default()
    }
}

fn scallop(e: f64) -> f64 {
    3.0 - (9.0 - e * e).sqrt()
}

#[test]
fn what_the_writer_writes_checks_clean_and_plays_back() {
    for d in Dialect::ALL {
        let ops = [raster(-2.0, 1.0, 51)];
        let r = play(&ops, d);
        assert!(r.findings.is_empty(), "{d}: {:?}", r.findings);
        assert_eq!(r.blank.unwrap().z, 30.0);
        assert_eq!(r.tools.get(&2), Some(&Cutter::Ball { diameter: 6.0 }));
        let feeds: Vec<[f64; 3]> = r
            .moves
            .iter()
            .filter(|m| m.kind == MoveKind::Feed)
            .map(|m| m.to)
            .collect();
        let want: Vec<[f64; 3]> = ops[0]
            .moves
            .iter()
            .filter_map(|m| match m {
                Move::Feed { to, .. } => Some(*to),
                _ => None,
            })
            .collect();
        assert_eq!(feeds, want, "{d}");
        assert!(
            (r.feed_length - (51.0 * 60.0 + 50.0 + 7.0)).abs() < 1e-6,
            "{d}: {}",
            r.feed_length
        );
        assert!(r.estimated_s > r.feed_length / (2000.0 / 60.0));
    }
}

#[test]
fn raster_over_a_plane_gives_the_exact_scallop_figures() {
    let r = play(&[raster(-2.0, 1.0, 51)], Dialect::LinuxCnc);
    let c = simulate_carve(&plane(-2.0), &r.moves, &r.tools, &stock_at_zero()).unwrap();
    // Rows y = 0.25 k, k = 1..199 (the outline ring is left out), 199 columns each: 49 rows on a
    // pass (e = 0), 100 rows a quarter off (e = 0.25), 50 rows between passes (e = 0.5).
    let mre = (100.0 * scallop(0.25) + 50.0 * scallop(0.5)) / 199.0;
    assert_eq!(c.cells_compared, 199 * 199);
    assert_eq!(c.cells_in_design, 201 * 201);
    assert!((c.mre - mre).abs() < 1e-12, "{} vs {mre}", c.mre);
    assert!(
        (c.iqr - (scallop(0.5) - scallop(0.25))).abs() < 1e-12,
        "{}",
        c.iqr
    );
    assert!(c.gouge < 1e-12);
    assert_eq!(c.uncut, 0);
    assert_eq!(c.rapid_in_stock_samples, 0);
    // The best a 6 mm ball can do on a plane is the plane: path figures equal the plain ones.
    assert!((c.path_mre - c.mre).abs() < 1e-12);
    assert_eq!(c.finish_tool, 2);
}

#[test]
fn a_cut_too_deep_is_a_gouge_of_exactly_its_depth() {
    let r = play(&[raster(-2.3, 1.0, 51)], Dialect::LinuxCnc);
    let c = simulate_carve(&plane(-2.0), &r.moves, &r.tools, &stock_at_zero()).unwrap();
    assert!((c.gouge - 0.3).abs() < 1e-9, "{}", c.gouge);
    let mre = (100.0 * scallop(0.25) + 50.0 * scallop(0.5)) / 199.0 - 0.3;
    assert!((c.mre - mre).abs() < 1e-9);
}

#[test]
fn half_a_raster_leaves_cells_uncut_and_a_low_rapid_is_caught() {
    let r = play(&[raster(-2.0, 1.0, 25)], Dialect::LinuxCnc);
    let stock = SimOptions {
        stock_top: Some(0.0),
        ..SimOptions::default()
    };
    let c = simulate_carve(&plane(-2.0), &r.moves, &r.tools, &stock).unwrap();
    // The last pass is at Y 24; the ball cuts below the stock top (2 mm above its tip) only
    // within sqrt(3^2 - 1^2) = 2.83 mm of it: rows from Y 27.0 to 50 are never touched.
    assert_eq!(c.uncut, 201 * 93);
    assert_eq!(c.rapid_in_stock_samples, 0);

    let mut op = raster(-2.0, 1.0, 25);
    // After the half raster, a rapid across the uncut half at Z -1 (stock top 0).
    op.moves.push(Move::Rapid([-5.0, 40.0, 5.0]));
    op.moves.push(Move::Rapid([-5.0, 40.0, -1.0]));
    op.moves.push(Move::Rapid([55.0, 40.0, -1.0]));
    op.moves.push(Move::Rapid([55.0, 40.0, 5.0]));
    let r = play(&[op], Dialect::LinuxCnc);
    let c = simulate_carve(&plane(-2.0), &r.moves, &r.tools, &stock).unwrap();
    assert!(c.rapid_in_stock_samples > 0);
    // The same rapid over already-cut material (Y 10, cut down to -2) is harmless.
    let mut op = raster(-2.0, 1.0, 51);
    op.moves.push(Move::Rapid([-5.0, 10.0, 5.0]));
    op.moves.push(Move::Rapid([-5.0, 10.0, -1.0]));
    op.moves.push(Move::Rapid([55.0, 10.0, -1.0]));
    op.moves.push(Move::Rapid([55.0, 10.0, 5.0]));
    let r = play(&[op], Dialect::LinuxCnc);
    let c = simulate_carve(&plane(-2.0), &r.moves, &r.tools, &stock).unwrap();
    assert_eq!(c.rapid_in_stock_samples, 0);
}

#[test]
fn machine_limits_are_checked_on_read_programs() {
    let m = Machine::bundled("grbl-hobby").unwrap();
    let text = "(BLANK X60 Y60 Z30)\n(TOOL T2 BALL D6)\nG21 G17 G90 G94\nM3 S40000\nG0 Z5\nG1 Z-31.5 F9000\nG1 X900\nM5\nM30\n";
    let r = check_program(
        &parse_program(text).unwrap(),
        &CheckOptions {
            dialect: Dialect::Grbl,
            machine: Some(m),
        },
    );
    let msgs: Vec<String> = r
        .errors()
        .map(|f| format!("{}: {}", f.line, f.message))
        .collect();
    let has = |s: &str| msgs.iter().any(|m| m.contains(s));
    assert!(
        has("4: spindle S40000 is above grbl-hobby's limit"),
        "{msgs:?}"
    );
    assert!(
        has("6: feed F9000 is 9000.0 mm/min, above grbl-hobby's limit"),
        "{msgs:?}"
    );
    assert!(
        has("6: move leaves grbl-hobby's travel: Z -31.500 is 1.500 mm below the bottom"),
        "{msgs:?}"
    );
    assert!(
        has("7: move leaves grbl-hobby's travel: X 900.000 (machine 910.000) outside"),
        "{msgs:?}"
    );
}

#[test]
fn arcs_and_flat_and_bull_tools_are_played() {
    // A 10 mm flat end mill plunging to -2.5 and going round a full circle of radius 10 about
    // (20, 20), then a 12 mm bull nose (corner 2) pass at exactly the plane's height, in a
    // second operation: the flat bottom is 0.5 below the design (the gouge, exactly), the bull
    // nose touches without cutting below.
    let flat = Operation {
        name: "circle".into(),
        tool: Tool {
            number: 1,
            cutter: Cutter::Flat { diameter: 10.0 },
        },
        spindle_rpm: 12000.0,
        moves: vec![
            Move::Rapid([30.0, 20.0, 5.0]),
            Move::Feed {
                to: [30.0, 20.0, -2.5],
                feed: 500.0,
            },
            Move::Arc {
                to: [30.0, 20.0, -2.5],
                center: [20.0, 20.0],
                ccw: false,
                feed: 1500.0,
            },
            Move::Rapid([30.0, 20.0, 5.0]),
        ],
    };
    let bull = Operation {
        name: "bull".into(),
        tool: Tool {
            number: 3,
            cutter: Cutter::Bull {
                diameter: 12.0,
                corner_radius: 2.0,
            },
        },
        spindle_rpm: 12000.0,
        moves: vec![
            Move::Rapid([-8.0, 45.0, 5.0]),
            Move::Feed {
                to: [-8.0, 45.0, -2.0],
                feed: 500.0,
            },
            Move::Feed {
                to: [58.0, 45.0, -2.0],
                feed: 1500.0,
            },
            Move::Rapid([58.0, 45.0, 5.0]),
        ],
    };
    let r = play(&[flat, bull], Dialect::LinuxCnc);
    assert!(r.findings.is_empty(), "{:?}", r.findings);
    assert!(
        r.moves
            .iter()
            .any(|m| matches!(m.kind, MoveKind::Arc { ccw: false, .. }) && m.tool == Some(1))
    );
    let c = simulate_carve(&plane(-2.0), &r.moves, &r.tools, &stock_at_zero()).unwrap();
    assert!((c.gouge - 0.5).abs() < 1e-9, "{}", c.gouge);
    // The circle's swept ring (radius 5..15 about (20, 20)) is all at -2.5; MRE is negative.
    assert!(c.mre < 0.0);
    // No ball in the program: the finishing tool falls back to the highest-numbered one used.
    assert_eq!(c.finish_tool, 3);
}
