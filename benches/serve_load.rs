//! `fab serve` under load on loopback: 50 clients browse (the queue and job pages in turn, 20
//! pages each) while 8 approve at once (two prosthetists racing on each of 4 jobs), three times
//! over, each time on a fresh lab. Prints the page times' p50, p90, p99 and max, and the
//! approvals'; fails on any error or a job not signed exactly once. Bounded: a fixed number of
//! requests, each given at most 60 s.
//!
//! `cargo bench --profile release --bench serve_load` (the release build the tests use; plain
//! `cargo bench` builds everything again in the bench profile). `FAB_BENCH_ROUNDS` and
//! `FAB_BENCH_REPEATS` change the pages per client and the repeats.

#[path = "../tests/lab/mod.rs"]
mod lab;
#[path = "../tests/serve_support/mod.rs"]
mod serve_support;

use std::time::{Duration, Instant};

use serve_support::{Server, lab_with_jobs, load, quantile};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn main() {
    let (browsers, jobs_n) = (50, 4);
    let rounds = env("FAB_BENCH_ROUNDS", 20);
    let repeats = env("FAB_BENCH_REPEATS", 3);
    let mut pages = Vec::new();
    let mut approvals = Vec::new();
    let t0 = Instant::now();
    for _ in 0..repeats {
        let (lab, jobs) = lab_with_jobs(jobs_n);
        let srv = Server::start(&lab);
        let l = load(&srv.addr, &jobs, browsers, rounds);
        assert!(l.errors.is_empty(), "{:#?}", l.errors);
        assert_eq!(l.approved, jobs.len(), "each job signed exactly once");
        pages.extend(l.pages);
        approvals.extend(l.approvals);
    }
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "fab serve on loopback, {browsers} clients browsing and {} approving at once, {repeats} \
         runs, {cpus} CPUs ({:.0} s in all)",
        2 * jobs_n,
        t0.elapsed().as_secs_f64()
    );
    for (what, t) in [("pages", &mut pages), ("approvals", &mut approvals)] {
        println!(
            "  {what:<9} {:>5}: p50 {}  p90 {}  p99 {}  max {}",
            t.len(),
            ms(quantile(t, 0.50)),
            ms(quantile(t, 0.90)),
            ms(quantile(t, 0.99)),
            ms(quantile(t, 1.0)),
        );
    }
}
