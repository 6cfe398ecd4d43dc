//! Fuzzing the prescription parser and the tables (materials.toml, hcpcs.toml): arbitrary bytes
//! and structured mutations of the fixtures. Whatever the text, a parser returns a value or an
//! error, never panics; what it accepts it can use (an Rx formats and parses back the same, and
//! makes a work order; tables make work orders from every fixture Rx). A fixed number of cases
//! each run (a few seconds in release).

#[path = "../../../tests/support/mutate.rs"]
mod mutate;

use std::time::Duration;

use fab_ticket::Tables;
use fab_ticket::order::WorkOrder;
use fab_ticket::rx;

fn fixture(rel: &str) -> String {
    let path = format!("{}/../../fixtures/{rel}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(path).unwrap()
}

fn rx_seeds() -> Vec<String> {
    [
        "foot-bilateral.rx",
        "foot-left-eva.rx",
        "transtibial-ptb.rx",
        "transtibial-tsb.rx",
    ]
    .iter()
    .map(|f| fixture(&format!("rx/{f}")))
    .collect()
}

/// The Rx parser on `text`; what it accepts formats and parses back the same, and makes a work
/// order with the bundled tables.
fn rx_holds(text: &str, tables: &Tables) {
    if let Ok(p) = rx::parse(text) {
        let again = rx::fmt(&p);
        match rx::parse(&again) {
            Ok(back) => assert_eq!(back, p, "{again}"),
            Err(e) => panic!("accepted, but its own format is refused: {e}\n{again}"),
        }
        let _ = WorkOrder::from_prescription(&p, tables);
    }
}

#[test]
fn rx_parser_never_panics_on_mutated_prescriptions() {
    let seeds = rx_seeds();
    let tables = Tables::bundled();
    mutate::run(
        "mutated prescriptions",
        20_000,
        Duration::from_secs(2),
        mutate::mutated(seeds.len()),
        |(k, edits)| {
            let bytes = mutate::apply(seeds[k].as_bytes(), &edits);
            rx_holds(&String::from_utf8_lossy(&bytes), &tables);
        },
    );
}

#[test]
fn rx_parser_never_panics_on_arbitrary_text() {
    let tables = Tables::bundled();
    mutate::run(
        "arbitrary prescriptions",
        6000,
        Duration::from_secs(2),
        (
            mutate::arbitrary(&["rx: foot-orthotic\n", "rx: transtibial-socket\n"]),
            mutate::arbitrary_lines(),
        ),
        |(bytes, lines)| {
            rx_holds(&String::from_utf8_lossy(&bytes), &tables);
            for head in ["rx: foot-orthotic\n", "rx: transtibial-socket\n", ""] {
                rx_holds(&format!("{head}{lines}"), &tables);
            }
        },
    );
}

/// Tables from `text`; what is accepted makes a work order from every fixture Rx.
fn tables_hold(text: &str, rxs: &[rx::Prescription]) {
    if let Ok(t) = Tables::from_toml(text, "fuzz.toml") {
        for p in rxs {
            let _ = WorkOrder::from_prescription(p, &t);
        }
    }
}

#[test]
fn tables_never_panic_on_mutated_or_arbitrary_files() {
    let seeds = [
        fixture("tables/materials.toml"),
        fixture("tables/hcpcs.toml"),
    ];
    let rxs: Vec<rx::Prescription> = rx_seeds().iter().map(|t| rx::parse(t).unwrap()).collect();
    mutate::run(
        "mutated tables",
        6000,
        Duration::from_secs(2),
        mutate::mutated(seeds.len()),
        |(k, edits)| {
            let bytes = mutate::apply(seeds[k].as_bytes(), &edits);
            tables_hold(&String::from_utf8_lossy(&bytes), &rxs);
        },
    );
    mutate::run(
        "arbitrary tables",
        3000,
        Duration::from_secs(2),
        (
            mutate::arbitrary(&["[[material]]\n", "[[hcpcs]]\n"]),
            mutate::arbitrary_lines(),
        ),
        |(bytes, lines)| {
            tables_hold(&String::from_utf8_lossy(&bytes), &rxs);
            tables_hold(&format!("[[material]]\n{lines}"), &rxs);
        },
    );
}
