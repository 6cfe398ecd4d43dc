//! G-code throughput on a foot-sized finishing program (6 mm ball, 0.5 mm stepover over an
//! 80 x 120 mm wavy surface, about 39 k moves): writing it, parsing and checking it, and
//! simulating its carve against the design on a 0.25 mm height map.

use criterion::{Criterion, criterion_group, criterion_main};
use fab_toolpath::gcode::{CheckOptions, SimOptions, check_program, parse_program, simulate_carve};
use fab_toolpath::{
    Blank, Cutter, Dialect, Machine, Move, Operation, ProgramHeader, Tool, write_program,
};

fn surface(x: f64, y: f64) -> f64 {
    4.0 * (x / 9.0).sin() * (y / 13.0).cos() + 0.02 * x - 10.0
}

fn design() -> Vec<[[f64; 3]; 3]> {
    let mut t = Vec::new();
    for i in 0..80 {
        for j in 0..120 {
            let p = |a: usize, b: usize| [a as f64, b as f64, surface(a as f64, b as f64)];
            t.push([p(i, j), p(i + 1, j), p(i + 1, j + 1)]);
            t.push([p(i, j), p(i + 1, j + 1), p(i, j + 1)]);
        }
    }
    t
}

fn ops() -> Vec<Operation> {
    let mut moves = vec![Move::Rapid([0.0, 0.0, 10.0])];
    for k in 0..=240 {
        let y = k as f64 * 0.5;
        for s in 0..=160 {
            let s = if k % 2 == 0 { s } else { 160 - s };
            let x = s as f64 * 0.5;
            moves.push(Move::Feed {
                to: [x, y, surface(x, y) + 0.05],
                feed: 4000.0,
            });
        }
    }
    moves.push(Move::Rapid([0.0, 120.0, 10.0]));
    vec![Operation {
        name: "finishing".into(),
        tool: Tool {
            number: 2,
            cutter: Cutter::Ball { diameter: 6.0 },
        },
        spindle_rpm: 18000.0,
        moves,
    }]
}

fn header() -> ProgramHeader {
    ProgramHeader {
        job: "J-BENCH".into(),
        scan_sha256: String::new(),
        fab_version: "bench".into(),
        blank: Blank {
            x: 90.0,
            y: 130.0,
            z: 30.0,
        },
        work_zero: "top of blank, front-left corner".into(),
        notes: vec![],
    }
}

fn bench(c: &mut Criterion) {
    let machine = Machine::default_machine();
    let ops = ops();
    let design = design();
    let text = write_program(&header(), &ops, &machine, Dialect::LinuxCnc).unwrap()[0]
        .text
        .clone();
    let opts = CheckOptions {
        dialect: Dialect::LinuxCnc,
        machine: Some(machine.clone()),
    };
    let report = check_program(&parse_program(&text).unwrap(), &opts);
    assert!(report.ok());
    let mut g = c.benchmark_group("gcode");
    g.sample_size(10);
    g.bench_function("write 39k moves", |b| {
        b.iter(|| write_program(&header(), &ops, &machine, Dialect::LinuxCnc).unwrap())
    });
    g.bench_function("parse+check 39k lines", |b| {
        b.iter(|| check_program(&parse_program(&text).unwrap(), &opts))
    });
    g.bench_function("simulate carve 0.25 mm", |b| {
        b.iter(|| {
            simulate_carve(
                &design,
                &report.moves,
                &report.tools,
                &SimOptions::default(),
            )
            .unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
