//! Fuzzing what `fab gcode check` reads (the G-code parser and the checker behind it, with every
//! dialect and a machine) and the machine-profile reader (with a program checked and its run time
//! estimated on each profile it accepts): arbitrary bytes and structured mutations of the
//! G-code corpus and the bundled profiles. Whatever the text, each returns a value or an error,
//! never panics. A fixed number of cases each run (a few seconds in release).

#[path = "../../../tests/support/mutate.rs"]
mod mutate;

use std::path::{Path, PathBuf};
use std::time::Duration;

use fab_toolpath::Machine;
use fab_toolpath::gcode::{CheckOptions, Dialect, check_program, parse_program};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every file under `dir` whose name ends with `ext`, sorted.
fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files(&p, ext));
        } else if p.to_string_lossy().ends_with(ext) {
            out.push(p);
        }
    }
    out.sort();
    out
}

fn corpus() -> Vec<String> {
    let progs: Vec<String> = files(&root().join("tests/gcode-corpus"), ".ngc")
        .iter()
        .map(|p| String::from_utf8_lossy(&std::fs::read(p).unwrap()).into_owned())
        .collect();
    assert!(progs.len() > 50, "the G-code corpus: {}", progs.len());
    progs
}

/// Parses `text` and checks it in every dialect, with and without `machine`.
fn check_all(text: &str, machine: &Machine) {
    if let Ok(lines) = parse_program(text) {
        for dialect in Dialect::ALL {
            for m in [None, Some(machine.clone())] {
                let r = check_program(
                    &lines,
                    &CheckOptions {
                        dialect,
                        machine: m,
                    },
                );
                assert!(r.estimated_s >= 0.0 || r.estimated_s.is_nan());
            }
        }
    }
}

#[test]
fn gcode_check_never_panics_on_mutated_programs() {
    let progs = corpus();
    let machine = Machine::default_machine();
    mutate::run(
        "mutated programs",
        20_000,
        Duration::from_secs(2),
        mutate::mutated(progs.len()),
        |(k, edits)| {
            let bytes = mutate::apply(progs[k].as_bytes(), &edits);
            check_all(&String::from_utf8_lossy(&bytes), &machine);
        },
    );
}

#[test]
fn gcode_check_never_panics_on_arbitrary_text() {
    let machine = Machine::default_machine();
    mutate::run(
        "arbitrary programs",
        6000,
        Duration::from_secs(2),
        (
            mutate::arbitrary(&["%\n", "G21 G90\nG1 ", "(TOOL 2 ball:6)\nT2 M6\n"]),
            mutate::arbitrary_lines(),
        ),
        |(bytes, lines)| {
            check_all(&String::from_utf8_lossy(&bytes), &machine);
            check_all(&lines, &machine);
        },
    );
}

fn profiles() -> Vec<String> {
    let ps: Vec<String> = files(&root().join("fixtures/machines"), ".toml")
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    assert!(ps.len() >= 4);
    ps
}

/// A profile from `text`; one accepted checks and estimates a program that uses every kind of
/// move and a tool change.
fn profile_holds(text: &str, program: &[fab_toolpath::gcode::parse::Line]) {
    if let Ok(m) = Machine::from_toml(text, "fuzz.toml") {
        let dialect = m.dialect;
        let r = check_program(
            program,
            &CheckOptions {
                dialect,
                machine: Some(m),
            },
        );
        assert!(
            !r.estimated_s.is_nan(),
            "an accepted profile gives a NaN run time: {text}"
        );
    }
}

/// A short program with rapids, feeds, an arc, a dwell and tool changes.
const PROGRAM: &str = "G21 G90 G17\n(TOOL 1 flat:10)\n(TOOL 2 ball:6)\nT1 M6\nS18000 M3\nG0 X10 Y10 Z5\nG1 Z-2 F600\nG1 X50 Y10 F3000\nG2 X60 Y20 I0 J10\nG4 P0.5\nG0 Z20\nT2 M6\nS18000 M3\nG0 X0 Y0\nG1 Z-1 F600\nG1 X80 Y40 F3000\nG0 Z20\nM5\nM30\n";

#[test]
fn machine_profiles_never_panic_on_mutated_or_arbitrary_files() {
    let seeds = profiles();
    let program = parse_program(PROGRAM).unwrap();
    mutate::run(
        "mutated machine profiles",
        20_000,
        Duration::from_secs(2),
        mutate::mutated(seeds.len()),
        |(k, edits)| {
            let bytes = mutate::apply(seeds[k].as_bytes(), &edits);
            profile_holds(&String::from_utf8_lossy(&bytes), &program);
        },
    );
    mutate::run(
        "arbitrary machine profiles",
        3000,
        Duration::from_secs(2),
        (
            mutate::arbitrary(&["name = \"x\"\n", "[travel]\n", "[[tools]]\n"]),
            mutate::arbitrary_lines(),
        ),
        |(bytes, lines)| {
            profile_holds(&String::from_utf8_lossy(&bytes), &program);
            profile_holds(&format!("{}\n{lines}", seeds[0]), &program);
        },
    );
}

/// The profiles hostile testing found accepted and then fatal (a panic in the estimate, memory
/// quadratic in a name's length, NaN or a short array taken): each is refused, or accepted and
/// then checks a program without a panic, in little time.
#[test]
fn machine_profile_cases_that_once_got_through() {
    let base =
        std::fs::read_to_string(root().join("fixtures/machines/linuxcnc-router.toml")).unwrap();
    let program = parse_program(PROGRAM).unwrap();
    let long_name = format!("name = \"{}\"", "x".repeat(1 << 20));
    let cases: Vec<(&str, String)> = vec![
        ("tool_change_s = 30.0", "tool_change_s = 1e20".into()),
        ("tool_change_s = 30.0", "tool_change_s = nan".into()),
        ("rapid_rate = 15000.0", "rapid_rate = 1e-300".into()),
        ("acceleration = 1000.0", "acceleration = 1e-320".into()),
        ("acceleration = 1000.0", "acceleration = inf".into()),
        ("max_feed = 10000.0", "max_feed = 1e-300".into()),
        ("max_feed = 10000.0", "max_feed = 1e300".into()),
        (
            "blank_origin = [10.0, 10.0, 0.0]",
            "blank_origin = [nan, 10.0, 0.0]".into(),
        ),
        (
            "blank_origin = [10.0, 10.0, 0.0]",
            "blank_origin = [10.0, 10.0]".into(),
        ),
        ("max_below_blank = 1.0", "max_below_blank = 1e308".into()),
        ("max_below_blank = 1.0", "max_below_blank = -1.0".into()),
        ("program_number = 1000", "program_number = -1".into()),
        (
            "x = { min = 0.0, max = 1200.0 }",
            "x = [0.0, 1200.0, 5.0]".into(),
        ),
        (
            "x = { min = 0.0, max = 1200.0 }",
            "x = { min = 1200.0, max = 0.0 }".into(),
        ),
        (
            "x = { min = 0.0, max = 1200.0 }",
            "x = { min = -1e308, max = 1e308 }".into(),
        ),
        ("diameter = 10.0 }", "diameter = 1e-300 }".into()),
        ("number = 1", "number = 4294967295".into()),
        ("name = \"linuxcnc-router\"", long_name),
    ];
    for (from, to) in &cases {
        assert!(base.contains(from), "{from}");
        let text = base.replacen(from, to, 1);
        let t = std::time::Instant::now();
        let shown: String = to.chars().take(60).collect();
        let outcome = std::panic::catch_unwind(|| profile_holds(&text, &program));
        assert!(outcome.is_ok(), "{shown}: panicked");
        assert!(
            t.elapsed() < Duration::from_secs(2),
            "{shown}: took {:?}",
            t.elapsed()
        );
    }
}
