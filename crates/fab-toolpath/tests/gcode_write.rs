//! The G-code writer in every dialect: header, tool lines, numbers, start and end state,
//! machine limits, and LinuxCNC's own interpreter (`rs274 -g`) accepting what it writes.

use std::process::Command;

use fab_toolpath::gcode::write::tool_comment;
use fab_toolpath::{
    Blank, Cutter, Dialect, GcodeError, Machine, Move, Operation, ProgramHeader, Tool,
    write_program,
};

fn header() -> ProgramHeader {
    ProgramHeader {
        job: "J-2026-0042".into(),
        scan_sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into(),
        fab_version: "0.1.0".into(),
        blank: Blank {
            x: 120.0,
            y: 280.0,
            z: 40.0,
        },
        work_zero: "top of blank, front-left corner".into(),
        notes: vec!["foot orthosis positive (no modifications)".into()],
    }
}

/// Three operations with every kind of move: rapids, feeds, G2 and G3 arcs (one helical, one a
/// full circle), three tools (flat, bull, ball), coordinates that round to -0.000.
fn ops() -> Vec<Operation> {
    let rough = Operation {
        name: "roughing".into(),
        tool: Tool {
            number: 1,
            cutter: Cutter::Flat { diameter: 10.0 },
        },
        spindle_rpm: 18000.0,
        moves: vec![
            Move::Rapid([20.0, 20.0, 5.0]),
            Move::Rapid([20.0, 20.0, 1.0]),
            // Helical ramp entry: a full turn going down 2 mm.
            Move::Arc {
                to: [20.0, 20.0, -1.0],
                center: [25.0, 20.0],
                ccw: true,
                feed: 1500.0,
            },
            Move::Feed {
                to: [80.0, 20.0, -1.0],
                feed: 3000.0,
            },
            Move::Arc {
                to: [90.0, 30.0, -1.0],
                center: [80.0, 30.0],
                ccw: true,
                feed: 3000.0,
            },
            Move::Arc {
                to: [100.0, 40.0, -1.0],
                center: [100.0, 30.0],
                ccw: false,
                feed: 3000.0,
            },
            Move::Feed {
                to: [-0.0000001, 40.0, -1.0],
                feed: 3000.0,
            },
            Move::Rapid([-0.0000001, 40.0, 5.0]),
        ],
    };
    let bull = Operation {
        name: "rest roughing".into(),
        tool: Tool {
            number: 3,
            cutter: Cutter::Bull {
                diameter: 12.0,
                corner_radius: 2.0,
            },
        },
        spindle_rpm: 16000.0,
        moves: vec![
            Move::Rapid([30.0, 60.0, 5.0]),
            Move::Feed {
                to: [30.0, 60.0, -2.0],
                feed: 600.0,
            },
            Move::Feed {
                to: [60.0, 60.0, -2.5],
                feed: 2500.0,
            },
            Move::Rapid([60.0, 60.0, 5.0]),
        ],
    };
    let mut finish_moves = vec![Move::Rapid([10.0, 10.0, 5.0])];
    for k in 0..20 {
        let y = 10.0 + k as f64 * 0.5;
        let (x0, x1) = if k % 2 == 0 {
            (10.0, 110.0)
        } else {
            (110.0, 10.0)
        };
        finish_moves.push(Move::Feed {
            to: [x0, y, -3.0 - 0.01 * k as f64],
            feed: 4000.0,
        });
        finish_moves.push(Move::Feed {
            to: [x1, y, -3.0 - 0.01 * k as f64],
            feed: 4000.0,
        });
    }
    finish_moves.push(Move::Rapid([10.0, 19.5, 5.0]));
    let finish = Operation {
        name: "finishing".into(),
        tool: Tool {
            number: 2,
            cutter: Cutter::Ball { diameter: 6.0 },
        },
        spindle_rpm: 18000.0,
        moves: finish_moves,
    };
    vec![rough, bull, finish]
}

/// The bundled router with a 12 mm bull nose (corner 2) in pocket 3, where its table holds a
/// 12 mm ball: these programs play a bull nose too.
fn router() -> Machine {
    let mut m = Machine::default_machine();
    let t = m.tools.iter_mut().find(|t| t.number == 3).unwrap();
    t.cutter = Cutter::Bull {
        diameter: 12.0,
        corner_radius: 2.0,
    };
    m
}

fn write(dialect: Dialect) -> String {
    let m = router();
    let files = write_program(&header(), &ops(), &m, dialect).unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].tools, vec![1, 3, 2]);
    files[0].text.clone()
}

/// Lines without comments and without N numbers.
fn code_lines(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| {
            let l = l.split('(').next().unwrap().trim();
            if l.starts_with('N') {
                l.split_once(' ').map(|x| x.1).unwrap_or("").to_string()
            } else {
                l.to_string()
            }
        })
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn every_dialect_has_header_tools_and_known_start_and_end() {
    for d in Dialect::ALL {
        let text = write(d);
        assert!(text.contains("(JOB J-2026-0042)"), "{d}");
        assert!(
            text.contains(
                "(SCAN SHA256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08)"
            ) || text.contains(
                "(SCAN SHA256 9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08)"
            ),
            "{d}"
        );
        assert!(text.contains("(BLANK X120.000 Y280.000 Z40.000)"), "{d}");
        assert!(text.contains("ESTIMATED RUN TIME 0:"), "{d}");
        for line in [
            "(TOOL T1 FLAT D10.000)",
            "(TOOL T3 BULL D12.000 CR2.000)",
            "(TOOL T2 BALL D6.000)",
        ] {
            assert_eq!(
                text.lines().filter(|l| *l == line).count(),
                1,
                "{d}: {line}"
            );
        }
        let mut code = code_lines(&text);
        if d == Dialect::Fanuc {
            assert_eq!(code.pop().as_deref(), Some("%"));
        }
        let start = code
            .iter()
            .position(|l| l.starts_with("G21"))
            .expect("a G21 line");
        for w in ["G21", "G17", "G90", "G94"] {
            assert!(
                code[start].split(' ').any(|x| x == w),
                "{d}: {}",
                code[start]
            );
        }
        // Spindle on before the first cutting move, off and M30 at the end.
        let first_cut = code
            .iter()
            .position(|l| ["G1", "G2", "G3"].contains(&l.split(' ').next().unwrap()))
            .unwrap();
        let first_m3 = code.iter().position(|l| l.starts_with("M3 S")).unwrap();
        assert!(first_m3 < first_cut, "{d}");
        let n = code.len();
        let tail: Vec<&str> = code[n - 2..].iter().map(String::as_str).collect();
        assert_eq!(tail, ["M5", "M30"], "{d}");
        // The last motion leaves the tool at the clearance height.
        assert!(code[n - 3].ends_with("Z5.000"), "{d}: {}", code[n - 3]);
        // Fixed decimals: no exponent, no negative zero, every number with its point.
        for l in &code {
            assert!(!l.contains("-0.000"), "{d}: {l}");
            for word in l.split(' ') {
                let (letter, num) = word.split_at(1);
                assert!(!num.contains(['e', 'E']), "{d}: {l}");
                if "XYZIJF".contains(letter) {
                    assert!(num.contains('.'), "{d}: {word}");
                }
            }
        }
        assert!(!text.contains("MRN"), "{d}");
    }
}

#[test]
fn dialect_specific_framing_and_tool_changes() {
    let lc = write(Dialect::LinuxCnc);
    assert!(
        lc.contains("\nT1 M6\nG43 H1\n") && lc.contains("\nT3 M6\n") && lc.contains("\nT2 M6\n")
    );
    assert!(!lc.contains('%') && !lc.contains("\nN"));

    let grbl = write(Dialect::Grbl);
    let code = code_lines(&grbl);
    assert!(
        code.iter()
            .all(|l| !l.contains("M6") && !l.starts_with('O') && !l.contains("G43"))
    );
    assert!(
        code.iter()
            .all(|l| !l.split(' ').any(|w| w.starts_with('T')))
    );
    // Two tool changes in one program: two pauses, each after the spindle stops and with the
    // tool to fit named.
    assert_eq!(code.iter().filter(|l| *l == "M0").count(), 2);
    assert!(grbl.contains("(CHANGE TO T3 BULL D12.000 CR2.000: FIT IT, SET Z ZERO"));
    for (i, l) in code.iter().enumerate() {
        if l == "M0" {
            assert_eq!(code[i - 1], "M5");
        }
    }
    assert!(grbl.lines().all(|l| l.len() <= 80));

    let fanuc = write(Dialect::Fanuc);
    let lines: Vec<&str> = fanuc.lines().collect();
    assert_eq!(lines[0], "%");
    assert_eq!(lines[1], "O1000");
    assert_eq!(*lines.last().unwrap(), "%");
    let numbered: Vec<u32> = lines
        .iter()
        .filter(|l| !l.starts_with('(') && !l.starts_with('%') && !l.starts_with('O'))
        .map(|l| l.split(' ').next().unwrap()[1..].parse().unwrap())
        .collect();
    assert!(numbered.windows(2).all(|w| w[1] == w[0] + 1));
    assert!(
        fanuc
            .lines()
            .filter(|l| l.starts_with('('))
            .all(|l| l == l.to_uppercase())
    );
    assert!(fanuc.contains(" T1 M6\n"));

    let mach3 = write(Dialect::Mach3);
    assert!(mach3.contains("G91.1") && mach3.contains("\nT2 M6\n") && !mach3.contains('%'));
}

#[test]
fn modal_words_are_left_out_and_arcs_have_their_centres() {
    let lc = write(Dialect::LinuxCnc);
    // The helical full circle from (20,20,1) about (25,20) down to Z -1.
    assert!(
        lc.contains("G3 X20.000 Y20.000 Z-1.000 I5.0000 J0.0000 F1500.0"),
        "{lc}"
    );
    assert!(lc.contains("G2 X100.000 Y40.000 I10.0000 J0.0000"), "{lc}");
    // -0.0000001 is written 0.000.
    assert!(lc.contains("X0.000"));
    // The raster repeats neither G1 nor F.
    let raster: Vec<&str> = lc
        .lines()
        .skip_while(|l| !l.starts_with("(OP 3"))
        .filter(|l| l.starts_with('X') || l.starts_with('Y'))
        .collect();
    assert!(raster.len() >= 30, "{raster:?}");
    assert!(raster.iter().all(|l| !l.contains('F')));
}

#[test]
fn moves_beyond_the_machine_are_refused() {
    let m = router();
    let mut o = ops();
    o[0].moves.push(Move::Feed {
        to: [2000.0, 20.0, -1.0],
        feed: 3000.0,
    });
    match write_program(&header(), &o, &m, Dialect::LinuxCnc) {
        Err(GcodeError::OutOfTravel { axis: 'X', .. }) => {}
        other => panic!("{other:?}"),
    }
    let mut o = ops();
    o[1].moves[1] = Move::Feed {
        to: [30.0, 60.0, -2.0],
        feed: 50_000.0,
    };
    let e = write_program(&header(), &o, &m, Dialect::LinuxCnc).unwrap_err();
    assert!(matches!(e, GcodeError::FeedTooHigh { index: 1, .. }), "{e}");
    assert!(e.to_string().contains("50000.0 mm/min"), "{e}");
    // Through the table: 40 mm blank, the tool tip at -45.
    let mut o = ops();
    o[1].moves[1] = Move::Feed {
        to: [30.0, 60.0, -45.0],
        feed: 600.0,
    };
    assert!(matches!(
        write_program(&header(), &o, &m, Dialect::LinuxCnc),
        Err(GcodeError::BelowTable { .. })
    ));
    // An arc whose circle leaves the travel though its ends do not: from (30, 60) about
    // (5, 60), counter-clockwise three quarters to (5, 35), through X -20 (machine X -10).
    let mut o = ops();
    o[1].moves.insert(
        2,
        Move::Arc {
            to: [5.0, 35.0, -2.0],
            center: [5.0, 60.0],
            ccw: true,
            feed: 600.0,
        },
    );
    match write_program(&header(), &o, &m, Dialect::LinuxCnc) {
        Err(GcodeError::OutOfTravel {
            axis: 'X', value, ..
        }) => assert!((value + 20.0).abs() < 1e-9),
        other => panic!("{other:?}"),
    }
    let mut o = ops();
    o[1].moves.insert(
        2,
        Move::Arc {
            to: [5.0, 40.0, -2.0],
            center: [5.0, 60.0],
            ccw: true,
            feed: 600.0,
        },
    );
    assert!(matches!(
        write_program(&header(), &o, &m, Dialect::LinuxCnc),
        Err(GcodeError::BadArc { .. })
    ));
    let mut o = ops();
    o[2].spindle_rpm = 90_000.0;
    assert!(matches!(
        write_program(&header(), &o, &m, Dialect::LinuxCnc),
        Err(GcodeError::Spindle { .. })
    ));
    // T2 in the table is a 6 mm ball; a 10 mm ball in pocket 2 is refused.
    let mut o = ops();
    o[2].tool.cutter = Cutter::Ball { diameter: 10.0 };
    assert!(matches!(
        write_program(&header(), &o, &m, Dialect::LinuxCnc),
        Err(GcodeError::ToolMismatch { number: 2, .. })
    ));
    let mut o = ops();
    o[0].moves[3] = Move::Feed {
        to: [f64::NAN, 20.0, -1.0],
        feed: 3000.0,
    };
    assert!(matches!(
        write_program(&header(), &o, &m, Dialect::LinuxCnc),
        Err(GcodeError::NonFinite { .. })
    ));
}

#[test]
fn patient_references_and_odd_text_stay_out_of_the_program() {
    let m = router();
    let mut h = header();
    h.job = "MRN-004512".into();
    assert!(matches!(
        write_program(&h, &ops(), &m, Dialect::LinuxCnc),
        Err(GcodeError::Header(_))
    ));
    let mut h = header();
    h.notes = vec!["patient: MRN-1".into()];
    assert!(write_program(&h, &ops(), &m, Dialect::LinuxCnc).is_err());
    let mut h = header();
    h.job = "J 1 (x)".into();
    assert!(write_program(&h, &ops(), &m, Dialect::LinuxCnc).is_err());
    // Parentheses and a leading MSG in a note become harmless.
    let mut h = header();
    h.notes = vec!["msg, heel (left) cup".into()];
    let text = &write_program(&h, &ops(), &m, Dialect::LinuxCnc).unwrap()[0].text;
    let line = text.lines().find(|l| l.contains("heel")).unwrap();
    assert_eq!(line.matches('(').count(), 1, "{line}");
    assert_eq!(line.matches(')').count(), 1, "{line}");
    let out = run_rs274(text);
    assert!(rs274_errors(&out).is_empty(), "{out}");
}

#[test]
fn tool_lines_match_what_carve_check_parses() {
    assert_eq!(
        tool_comment(2, &Cutter::Ball { diameter: 6.0 }),
        "(TOOL T2 BALL D6.000)"
    );
    assert_eq!(
        tool_comment(
            3,
            &Cutter::Bull {
                diameter: 12.0,
                corner_radius: 2.0
            }
        ),
        "(TOOL T3 BULL D12.000 CR2.000)"
    );
    assert_eq!(
        tool_comment(1, &Cutter::Flat { diameter: 6.35 }),
        "(TOOL T1 FLAT D6.350)"
    );
}

/// Runs `rs274 -g` on `text`. Runs are serialised: concurrent rs274 processes share LinuxCNC's
/// state and one of them now and then dies of SIGBUS; a run killed by a signal is retried.
fn run_rs274(text: &str) -> String {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("prog.nc");
    std::fs::write(&p, text).unwrap();
    for _ in 0..5 {
        let out = Command::new("rs274")
            .current_dir(dir.path())
            .arg("-g")
            .arg(&p)
            .output()
            .expect("rs274 (Debian linuxcnc-uspace; scripts/test installs it) must be installed");
        if out.status.code().is_none() {
            continue; // killed by a signal: not an answer about the program
        }
        return String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
    }
    panic!("rs274 was killed by a signal five times");
}

/// Lines of rs274's output that are not canonical calls: its error messages.
fn rs274_errors(out: &str) -> Vec<String> {
    out.lines()
        .filter(|l| {
            let t = l.trim();
            !t.is_empty()
                && t != "executing"
                && !(t.split_whitespace().nth(1) == Some("N.....") && t.ends_with(')'))
        })
        .map(str::to_string)
        .collect()
}

#[test]
fn linuxcnc_interpreter_accepts_every_move_kind() {
    let text = write(Dialect::LinuxCnc);
    let out = run_rs274(&text);
    assert!(rs274_errors(&out).is_empty(), "rs274 refused:\n{out}");
    // It read the whole program: three tool changes, both arc directions, the end.
    assert_eq!(out.matches("CHANGE_TOOL(").count(), 3, "{out}");
    let arcs: Vec<&str> = out.lines().filter(|l| l.contains("ARC_FEED(")).collect();
    assert_eq!(arcs.len(), 3, "{out}");
    assert!(arcs.iter().any(|l| l.contains(", 1, ")) && arcs.iter().any(|l| l.contains(", -1, ")));
    assert!(out.contains("PROGRAM_END()"));
    let feeds = out.matches("STRAIGHT_FEED(").count();
    assert!(feeds >= 40, "{feeds}");
    // The same check catches a refused program: an exponent.
    let bad = text.replacen("G1 X80.000", "G1 X8.0e1", 1);
    assert!(!rs274_errors(&run_rs274(&bad)).is_empty());
}

#[test]
fn mach3_and_fanuc_motion_reads_the_same_in_rs274() {
    // Mach3's and Fanuc's motion words are a subset of LinuxCNC's: stripped of the framing
    // (%, O, N), their programs must also play in rs274 with the same moves.
    let reference = run_rs274(&write(Dialect::LinuxCnc));
    let moves = |out: &str| {
        let mut v = out
            .lines()
            .filter(|l| l.contains("STRAIGHT_") || l.contains("ARC_FEED"))
            .map(|l| l.split_once("N.....").unwrap().1.trim().to_string())
            .collect::<Vec<_>>();
        // A repeated retract to the same point (before and after a tool change) is no motion.
        v.dedup();
        v
    };
    for d in [Dialect::Fanuc, Dialect::Mach3, Dialect::Grbl] {
        let text: String = write(d)
            .lines()
            .filter(|l| *l != "%" && !l.starts_with('O') && *l != "G64" && *l != "M0")
            .map(|l| {
                if l.starts_with('N') {
                    l.split_once(' ').unwrap().1
                } else {
                    l
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
            + "\n";
        let out = run_rs274(&text);
        assert!(rs274_errors(&out).is_empty(), "{d}:\n{out}");
        assert_eq!(moves(&out), moves(&reference), "{d}");
    }
}

#[test]
fn every_tool_of_the_bundled_linuxcnc_router_plays_in_rs274() {
    // rs274 without a tool table (as carve-check runs it) knows only a few pockets: the bundled
    // profile's table must stay within them, or its programs would be refused.
    let m = Machine::bundled("linuxcnc-router").unwrap();
    let ops: Vec<Operation> = m
        .tools
        .iter()
        .map(|t| Operation {
            name: format!("T{}", t.number),
            tool: Tool {
                number: t.number,
                cutter: t.cutter,
            },
            spindle_rpm: 12000.0,
            moves: vec![
                Move::Rapid([10.0, 10.0, 5.0]),
                Move::Feed {
                    to: [10.0, 10.0, -1.0],
                    feed: 500.0,
                },
                Move::Rapid([10.0, 10.0, 5.0]),
            ],
        })
        .collect();
    let text = &write_program(&header(), &ops, &m, Dialect::LinuxCnc).unwrap()[0].text;
    let out = run_rs274(text);
    assert!(rs274_errors(&out).is_empty(), "{out}");
    assert_eq!(out.matches("CHANGE_TOOL(").count(), m.tools.len());
}
