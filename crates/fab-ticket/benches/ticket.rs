//! Throughput of the ticket crate's work: parsing and formatting prescriptions, building work
//! orders, and committed job-database changes (each one a durable `BEGIN IMMEDIATE` transaction).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use fab_ticket::order::WorkOrder;
use fab_ticket::store::Store;
use fab_ticket::{Tables, rx};

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/../../fixtures/rx/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn rx_and_order(c: &mut Criterion) {
    let foot = fixture("foot-bilateral.rx");
    let socket = fixture("transtibial-ptb.rx");
    c.bench_function("rx::parse foot-bilateral", |b| {
        b.iter(|| rx::parse(black_box(&foot)).unwrap())
    });
    c.bench_function("rx::parse transtibial-ptb", |b| {
        b.iter(|| rx::parse(black_box(&socket)).unwrap())
    });
    let p = rx::parse(&foot).unwrap();
    c.bench_function("rx::fmt foot-bilateral", |b| {
        b.iter(|| rx::fmt(black_box(&p)))
    });
    let tables = Tables::bundled();
    c.bench_function("WorkOrder::from_prescription foot-bilateral", |b| {
        b.iter(|| WorkOrder::from_prescription(black_box(&p), &tables))
    });
}

fn store(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::create(&dir.path().join("bench.db"), "ada", "a long password").unwrap();
    let text = fixture("foot-left-eva.rx");
    let job = s.create_job("ada", &text, &[]).unwrap().number;
    let mut group = c.benchmark_group("store");
    group.sample_size(20);
    group.bench_function("create_job (one durable transaction)", |b| {
        b.iter(|| s.create_job("ada", &text, &[]).unwrap())
    });
    group.bench_function("note (one durable transaction)", |b| {
        b.iter(|| s.note(&job, "ada", "bench").unwrap())
    });
    group.bench_function("job (read and parse)", |b| b.iter(|| s.job(&job).unwrap()));
    group.finish();
}

criterion_group!(benches, rx_and_order, store);
criterion_main!(benches);
