//! Hostile input to the writers and parsers, from the command line: each refusal exits 1 with a
//! message naming the file or option and what is wrong, writes nothing, and leaves every input
//! byte for byte as it was.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fab() -> Command {
    let mut c = Command::cargo_bin("fab").unwrap();
    c.env("NO_COLOR", "1");
    c
}

/// Every file under `dir` (not following links) with its bytes, or its link target.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let m = std::fs::symlink_metadata(&p).unwrap();
        let v = if m.file_type().is_symlink() {
            let mut v = b"-> ".to_vec();
            v.extend(std::fs::read_link(&p).unwrap().to_string_lossy().as_bytes());
            v
        } else if m.is_dir() {
            b"<dir>".to_vec()
        } else {
            std::fs::read(&p).unwrap()
        };
        out.insert(p, v);
    }
    out
}

/// A working folder holding copies of the left foot scan (`foot.stl`) and the left-foot Rx
/// (`foot.rx`).
fn workdir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        root().join("fixtures/scans/foot-left-m.stl"),
        dir.path().join("foot.stl"),
    )
    .unwrap();
    std::fs::copy(
        root().join("fixtures/rx/foot-left-eva.rx"),
        dir.path().join("foot.rx"),
    )
    .unwrap();
    dir
}

/// Runs `fab ARGS` in `dir` and asserts a refusal: exit 1, one `error:` line mentioning every
/// `needles` (case-insensitive), no panic, and the folder exactly as before.
fn refused(dir: &Path, args: &[&str], needles: &[&str]) -> String {
    let before = snapshot(dir);
    let o = fab().current_dir(dir).args(args).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
    assert!(!err.contains("panicked"), "{args:?}: {err}");
    let lower = err.to_lowercase();
    for n in needles {
        assert!(
            lower.contains(&n.to_lowercase()),
            "{args:?}: no `{n}` in: {err}"
        );
    }
    assert!(
        err.lines().any(|l| l.starts_with("error: ")),
        "{args:?}: {err}"
    );
    assert_eq!(snapshot(dir), before, "{args:?} changed the folder: {err}");
    err
}

fn set_read_only(p: &Path) {
    let mut perm = std::fs::metadata(p).unwrap().permissions();
    perm.set_readonly(true);
    std::fs::set_permissions(p, perm).unwrap();
}

// ---------------------------------------------------------------------------------------------
// Outputs: never an input, never a read-only file, never through a link, all or nothing.

#[test]
fn drop_refuses_to_write_over_its_input() {
    let dir = workdir();
    refused(
        dir.path(),
        &["drop", "foot.stl", "--step", "5", "-o", "foot.stl"],
        &["foot.stl", "is the input"],
    );
    // the same file under another name: a hard link and a symbolic link
    std::fs::hard_link(dir.path().join("foot.stl"), dir.path().join("hard.stl")).unwrap();
    refused(
        dir.path(),
        &["drop", "foot.stl", "--step", "5", "-o", "hard.stl"],
        &["hard.stl", "is the input"],
    );
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink("foot.stl", dir.path().join("soft.stl")).unwrap();
        refused(
            dir.path(),
            &["drop", "foot.stl", "--step", "5", "-o", "soft.stl"],
            &["soft.stl", "is the input"],
        );
        refused(
            dir.path(),
            &["drop", "soft.stl", "--step", "5", "-o", "./foot.stl"],
            &["foot.stl", "is the input"],
        );
    }
}

#[test]
fn mesh_offset_refuses_to_write_over_its_input() {
    let dir = workdir();
    refused(
        dir.path(),
        &[
            "mesh",
            "offset",
            "foot.stl",
            "--distance",
            "3",
            "-o",
            "foot.stl",
        ],
        &["foot.stl", "is the input"],
    );
    std::fs::hard_link(dir.path().join("foot.stl"), dir.path().join("hard.stl")).unwrap();
    refused(
        dir.path(),
        &["mesh", "offset", "foot.stl", "-d", "-3", "-o", "hard.stl"],
        &["hard.stl", "is the input"],
    );
}

#[test]
fn mesh_modify_refuses_to_write_over_the_scan_or_the_rx() {
    let dir = workdir();
    for out in ["foot.stl", "foot.rx", "./foot.rx"] {
        refused(
            dir.path(),
            &["mesh", "modify", "foot.stl", "--rx", "foot.rx", "-o", out],
            &[out.trim_start_matches("./"), "is the input"],
        );
    }
    std::fs::copy(
        root().join("fixtures/tables/materials.toml"),
        dir.path().join("materials.toml"),
    )
    .unwrap();
    refused(
        dir.path(),
        &[
            "mesh",
            "modify",
            "foot.stl",
            "--rx",
            "foot.rx",
            "--tables",
            "materials.toml",
            "-o",
            "materials.toml",
        ],
        &["materials.toml", "is the input"],
    );
}

#[test]
fn writers_never_replace_a_read_only_file() {
    let dir = workdir();
    for name in ["old.csv", "old.stl"] {
        std::fs::write(dir.path().join(name), b"an approved file").unwrap();
        set_read_only(&dir.path().join(name));
    }
    refused(
        dir.path(),
        &["drop", "foot.stl", "--step", "5", "-o", "old.csv"],
        &["old.csv", "read-only"],
    );
    refused(
        dir.path(),
        &["mesh", "offset", "foot.stl", "-d", "2", "-o", "old.stl"],
        &["old.stl", "read-only"],
    );
    refused(
        dir.path(),
        &[
            "mesh", "modify", "foot.stl", "--rx", "foot.rx", "-o", "old.stl",
        ],
        &["old.stl", "read-only"],
    );
    // a folder is no output either
    std::fs::create_dir(dir.path().join("out")).unwrap();
    refused(
        dir.path(),
        &["drop", "foot.stl", "--step", "5", "-o", "out"],
        &["out", "folder"],
    );
}

/// An output name that is a symbolic link is replaced by the new file; the file it pointed to is
/// never written through it. No temporary file is left behind.
#[cfg(unix)]
#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "fixture-scale: run with --release (as CI does)"
)]
fn writers_replace_a_link_not_write_through_it() {
    let dir = workdir();
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, b"someone else's file").unwrap();
    for (name, args) in [
        (
            "cl.csv",
            &["drop", "foot.stl", "--step", "5", "-o", "cl.csv"][..],
        ),
        (
            "offset.stl",
            &["mesh", "offset", "foot.stl", "-d", "2", "-o", "offset.stl"][..],
        ),
        (
            "modified.stl",
            &[
                "mesh",
                "modify",
                "foot.stl",
                "--rx",
                "foot.rx",
                "-o",
                "modified.stl",
            ][..],
        ),
    ] {
        std::os::unix::fs::symlink(&victim, dir.path().join(name)).unwrap();
        let o = fab().current_dir(dir.path()).args(args).output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert_eq!(std::fs::read(&victim).unwrap(), b"someone else's file");
        let m = std::fs::symlink_metadata(dir.path().join(name)).unwrap();
        assert!(m.is_file(), "{name} is still a link");
    }
    let names: Vec<String> = snapshot(dir.path())
        .keys()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "cl.csv",
            "foot.rx",
            "foot.stl",
            "modified.stl",
            "offset.stl",
            "victim.txt"
        ]
    );
}

/// A failure after the work has started leaves neither an output nor a temporary file.
#[test]
fn a_failed_write_leaves_nothing() {
    let dir = workdir();
    // the output's folder cannot be made: a file stands where it should be
    std::fs::write(dir.path().join("blocker"), b"x").unwrap();
    refused(
        dir.path(),
        &["drop", "foot.stl", "--step", "5", "-o", "blocker/cl.csv"],
        &["blocker"],
    );
    refused(
        dir.path(),
        &[
            "mesh",
            "offset",
            "foot.stl",
            "-d",
            "2",
            "-o",
            "blocker/o.stl",
        ],
        &["blocker"],
    );
}

// ---------------------------------------------------------------------------------------------
// Numbers from options: finite, in a stated range, checked before anything is allocated.

/// `plan --stepover 1e-9` (and the like) used to abort allocating terabytes; now the toolpath
/// library refuses the grid or the levels from their counts, and nothing is written.
#[test]
fn plan_refuses_steps_that_would_exhaust_memory() {
    let dir = workdir();
    for (opt, v, what) in [
        ("--stepover", "1e-9", "finishing cl grid"),
        ("--scallop", "1e-300", "finishing cl grid"),
        ("--stepdown", "1e-9", "roughing levels"),
    ] {
        refused(
            dir.path(),
            &["plan", "foot.stl", opt, v, "-o", "x.nc"],
            &[what, "larger step"],
        );
    }
    // a feed a program would write as F0
    refused(
        dir.path(),
        &["plan", "foot.stl", "--feed", "1e-300", "-o", "x.nc"],
        &["feed", "1 to 1000000 mm/min"],
    );
}

#[test]
fn drop_refuses_a_grid_too_large_before_allocating() {
    let dir = workdir();
    for step in ["1e-9", "1e-300"] {
        refused(
            dir.path(),
            &["drop", "foot.stl", "--step", step, "-o", "cl.csv"],
            &["--step", "too large", "larger step"],
        );
    }
    for tool in ["ball:1e-300", "ball:0.05", "bull:6:1e300", "bull:6:0.001"] {
        refused(
            dir.path(),
            &["drop", "foot.stl", "--tool", tool, "-o", "cl.csv"],
            &["--tool", "out of range"],
        );
    }
    for step in ["0", "nan", "inf", "-1"] {
        refused(
            dir.path(),
            &["drop", "foot.stl", "--step", step, "-o", "cl.csv"],
            &["--step"],
        );
    }
}

/// `--tolerance 0` never converged (memory exhausted at 4 GB) and `nan` wrote an unrefined
/// surface: both are refused with the range.
#[test]
fn mesh_offset_refuses_a_tolerance_out_of_range() {
    let dir = workdir();
    for t in ["0", "1e-9", "nan", "inf", "-0.01", "5"] {
        refused(
            dir.path(),
            &[
                "mesh",
                "offset",
                "foot.stl",
                "-d",
                "3",
                "--tolerance",
                t,
                "-o",
                "o.stl",
            ],
            &["foot.stl", "--tolerance", "from 0.001 to 1 mm"],
        );
    }
    for cell in ["0", "nan", "6", "1e300"] {
        refused(
            dir.path(),
            &[
                "mesh", "offset", "foot.stl", "-d", "3", "--cell", cell, "-o", "o.stl",
            ],
            &["foot.stl", "--cell", "at most 5"],
        );
    }
    for m in ["0", "nan", "-1"] {
        refused(
            dir.path(),
            &[
                "mesh",
                "offset",
                "foot.stl",
                "-d",
                "3",
                "--max-error",
                m,
                "-o",
                "o.stl",
            ],
            &["--max-error"],
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Open scans: no inside, so no outward or inward offset.

/// `--distance 3` and `--distance -3` of an open scan used to give the same file. Now an open
/// scan is refused (close it first) unless a two-sided sheet is asked for, and a two-sided sheet
/// takes a positive distance only.
#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "fixture-scale: run with --release (as CI does)"
)]
fn an_open_scan_is_not_offset_the_same_both_ways() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        root().join("fixtures/scans/limb-transtibial.stl"),
        dir.path().join("limb.stl"),
    )
    .unwrap();
    for d in ["3", "-3"] {
        refused(
            dir.path(),
            &["mesh", "offset", "limb.stl", "-d", d, "-o", "o.stl"],
            &["limb.stl", "open", "close the scan first", "--two-sided"],
        );
    }
    refused(
        dir.path(),
        &[
            "mesh",
            "offset",
            "limb.stl",
            "-d",
            "-3",
            "--two-sided",
            "-o",
            "o.stl",
        ],
        &["limb.stl", "two-sided", "must be positive"],
    );
    let o = fab()
        .current_dir(dir.path())
        .args([
            "mesh",
            "offset",
            "limb.stl",
            "-d",
            "3",
            "--two-sided",
            "-o",
            "o.stl",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("two-sided sheet"));
}

// ---------------------------------------------------------------------------------------------
// Strict parsers.

/// A tetrahedron as ASCII PLY whose header declares `faces` of its four faces.
fn tetra_ply(faces: usize) -> String {
    format!(
        "ply\nformat ascii 1.0\nelement vertex 4\nproperty float x\nproperty float y\n\
         property float z\nelement face {faces}\nproperty list uchar int vertex_indices\n\
         end_header\n0 0 0\n100 0 0\n0 100 0\n0 0 100\n3 0 2 1\n3 0 1 3\n3 1 2 3\n3 0 3 2\n"
    )
}

/// A PLY whose header declares fewer faces than the file holds was read silently, the rest
/// dropped; it is refused, naming the file and the line where the undeclared data starts.
#[test]
fn a_ply_holding_more_than_its_header_declares_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ok.ply"), tetra_ply(4)).unwrap();
    let o = fab()
        .current_dir(dir.path())
        .args(["mesh", "info", "ok.ply"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::write(dir.path().join("short.ply"), tetra_ply(3)).unwrap();
    refused(
        dir.path(),
        &["mesh", "info", "short.ply"],
        &["short.ply", "line 17", "header's counts are fewer"],
    );
    refused(
        dir.path(),
        &["drop", "short.ply", "-o", "cl.csv"],
        &["short.ply", "line 17"],
    );
}

/// A lab's tables file with a number out of its stated range is refused with the row and line.
#[test]
fn tables_numbers_out_of_range_are_refused_with_the_line() {
    let dir = workdir();
    let text = std::fs::read_to_string(root().join("fixtures/tables/materials.toml"))
        .unwrap()
        .replacen("stepover_mm = 1.0", "stepover_mm = 1e-300", 1);
    let line = text
        .lines()
        .position(|l| l == "[[material]]")
        .map(|i| i + 1)
        .unwrap();
    std::fs::write(dir.path().join("lab.toml"), text).unwrap();
    refused(
        dir.path(),
        &[
            "mesh", "modify", "foot.stl", "--rx", "foot.rx", "--tables", "lab.toml", "-o", "m.stl",
        ],
        &[
            "lab.toml",
            &format!("material row 1 (line {line})"),
            "stepover_mm = 1e-300 must be from 0.01 to 50",
        ],
    );
}

/// Machine profiles whose numbers once got through (and then panicked in the estimate, took
/// memory quadratic in a name, or disabled a check): `fab plan --machine FILE` refuses each,
/// exit 1, naming the file and the setting, before anything is written.
#[test]
fn bad_machine_profiles_are_refused_naming_the_file_and_the_setting() {
    let dir = workdir();
    let router =
        std::fs::read_to_string(root().join("fixtures/machines/linuxcnc-router.toml")).unwrap();
    let long_name = format!("name = \"{}\"", "x".repeat(1 << 20));
    let cases: [(&str, &str, String, &str); 6] = [
        (
            "change",
            "tool_change_s = 30.0",
            "tool_change_s = 1e20".into(),
            "tool_change_s",
        ),
        (
            "rapid",
            "rapid_rate = 15000.0",
            "rapid_rate = 1e-300".into(),
            "rapid_rate",
        ),
        (
            "accel",
            "acceleration = 1000.0",
            "acceleration = 1e-320".into(),
            "acceleration",
        ),
        (
            "origin",
            "blank_origin = [10.0, 10.0, 0.0]",
            "blank_origin = [10.0, nan, 0.0]".into(),
            "blank_origin",
        ),
        (
            "floor",
            "max_below_blank = 1.0",
            "max_below_blank = 1e308".into(),
            "max_below_blank",
        ),
        ("name", "name = \"linuxcnc-router\"", long_name, "name"),
    ];
    for (tag, from, to, setting) in &cases {
        assert!(router.contains(from), "{from}");
        let file = format!("bad-{tag}.toml");
        // the profile outside the folder watched, so only outputs would change it
        let path = dir
            .path()
            .join("..")
            .join(format!("{}-{file}", std::process::id()));
        std::fs::write(&path, router.replacen(from, to, 1)).unwrap();
        let p = path.to_str().unwrap();
        refused(
            dir.path(),
            &["plan", "foot.stl", "--machine", p, "-o", "out.nc"],
            &[&file, setting],
        );
        std::fs::remove_file(&path).unwrap();
    }
}
