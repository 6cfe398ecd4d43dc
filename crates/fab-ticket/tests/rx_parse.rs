//! The Rx parser on the bundled example prescriptions and on each kind of mistake.

use fab_ticket::rx::{self, *};

fn fixture(name: &str) -> String {
    let p = format!("{}/../../fixtures/rx/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

fn err(text: &str) -> RxError {
    match rx::parse(text) {
        Ok(p) => panic!("expected an error, parsed {p:?}"),
        Err(e) => e,
    }
}

const FOOT_HEAD: &str = "rx: foot-orthotic\npatient: MRN-1\npractitioner: A. B\n";
const SOCK_HEAD: &str = "rx: transtibial-socket\npatient: MRN-1\npractitioner: A. B\n";

#[test]
fn bilateral_foot_fixture_parses_with_overrides() {
    let rx = rx::parse(&fixture("foot-bilateral.rx")).unwrap();
    assert_eq!(rx.patient, "MRN-004512");
    assert_eq!(rx.practitioner, "J. Alvarez, CPO");
    assert_eq!(rx.side, Some(RxSide::Bilateral));
    assert_eq!(rx.due, Date::new(2026, 11, 30));
    assert_eq!(rx.notes.len(), 2);
    let Device::FootOrthotic(f) = &rx.device else {
        panic!("not a foot Rx")
    };
    assert_eq!(
        f.shared.shell,
        Some(Shell {
            material: ShellMaterial::Polypropylene,
            thickness_mm: 3.0
        })
    );
    assert_eq!(f.shared.heel_cup_mm, Some(14.0));
    assert_eq!(f.shared.arch_fill, Some(ArchFillChoice::Medium));
    assert_eq!(
        f.shared.rearfoot_post,
        Some(Post::Wedge {
            degrees: 4.0,
            direction: PostDirection::Varus
        })
    );
    assert_eq!(f.shared.forefoot_post, Some(Post::None));
    assert_eq!(f.left.heel_lift_mm, Some(6.0));
    assert_eq!(
        f.left.rearfoot_post,
        Some(Post::Wedge {
            degrees: 6.0,
            direction: PostDirection::Varus
        })
    );
    assert_eq!(f.right.met_pad, Some(MetPad::None));
    assert_eq!(
        f.shared.top_cover,
        Some(TopCover::Cover {
            material: "poron".into(),
            thickness_mm: 3.0,
            length: Some(CoverLength::Full)
        })
    );
    let left = f.shared.overridden_by(&f.left);
    assert_eq!(left.heel_lift_mm, Some(6.0));
    assert_eq!(left.heel_cup_mm, Some(14.0));
}

#[test]
fn socket_fixture_parses_reliefs_loads_landmarks() {
    let rx = rx::parse(&fixture("transtibial-ptb.rx")).unwrap();
    let Device::TranstibialSocket(s) = &rx.device else {
        panic!("not a socket Rx")
    };
    assert_eq!(s.design, Some(SocketDesign::Ptb));
    assert_eq!(s.liner_mm, Some(6.0));
    assert_eq!(s.suspension, Some(Suspension::PinLock));
    assert_eq!(s.reduction_percent, Some(4.0));
    assert_eq!(s.reliefs.len(), 3);
    assert_eq!(
        s.reliefs[2],
        RegionDepth {
            region: Region::DistalTibia,
            depth_mm: 2.5
        }
    );
    assert_eq!(s.loads.len(), 2);
    assert_eq!(s.landmark(Region::DistalEnd), Some([0.12, -8.36, -213.05]));
    assert_eq!(s.material.as_deref(), Some("clear PETG check socket"));
    assert_eq!(s.trimline_mm, Some(230.0));
}

#[test]
fn every_fixture_round_trips_through_fmt_and_json() {
    for name in [
        "foot-bilateral.rx",
        "foot-left-eva.rx",
        "transtibial-ptb.rx",
        "transtibial-tsb.rx",
    ] {
        let rx = rx::parse(&fixture(name)).unwrap();
        let text = rx::fmt(&rx);
        assert_eq!(rx::parse(&text).unwrap(), rx, "{name}");
        assert_eq!(
            rx::fmt(&rx::parse(&text).unwrap()),
            text,
            "{name}: fmt is stable"
        );
        assert_eq!(
            Prescription::from_json(&rx.to_json()).unwrap(),
            rx,
            "{name}"
        );
    }
}

#[test]
fn canonical_form_orders_keys_and_writes_units() {
    let rx = rx::parse(
        "# x\nrx: foot-orthotic\nheel-cup:14mm\npractitioner:  A. B  \npatient: MRN-1 # c\n",
    )
    .unwrap();
    assert_eq!(
        rx::fmt(&rx),
        "rx: foot-orthotic\npatient: MRN-1\npractitioner: A. B\nheel-cup: 14 mm\n"
    );
}

#[test]
fn unknown_key_names_the_nearest_valid_key_with_position() {
    let e = err(&format!("{FOOT_HEAD}arch-fil: low\n"));
    assert_eq!(e.kind, RxErrorKind::UnknownKey);
    assert_eq!((e.line, e.column), (4, 1));
    assert_eq!(e.found, "`arch-fil`");
    assert_eq!(e.expected, "`arch-fill`");
    assert_eq!(
        e.to_string(),
        "line 4, column 1: unknown key `arch-fil`; did you mean `arch-fill`?"
    );
    let e = err(&format!("{SOCK_HEAD}  releif: fibular-head 2 mm\n"));
    assert_eq!((e.line, e.column), (4, 3));
    assert!(e.message.contains("did you mean `relief`"), "{e}");
    let e = err(&format!("{FOOT_HEAD}side: bilateral\nleft.heelcup: 3 mm\n"));
    assert!(e.message.contains("`left.heel-cup`"), "{e}");
}

#[test]
fn out_of_range_names_the_range_and_column() {
    let e = err(&format!("{FOOT_HEAD}heel-cup: 35 mm\n"));
    assert_eq!(e.kind, RxErrorKind::OutOfRange);
    assert_eq!((e.line, e.column), (4, 11));
    assert_eq!(e.expected, "0 to 30 mm");
    assert!(
        e.to_string().contains("out of range: expected 0 to 30 mm"),
        "{e}"
    );
    let e = err(&format!("{FOOT_HEAD}shell: eva 0.5 mm\n"));
    assert_eq!(e.expected, "1 to 6 mm");
    let e = err(&format!("{SOCK_HEAD}reduction: 12 %\n"));
    assert_eq!(e.kind, RxErrorKind::OutOfRange);
    assert_eq!(e.column, 12);
    let e = err(&format!("{FOOT_HEAD}rearfoot-post: 11 deg varus\n"));
    assert_eq!(e.expected, "0 to 10 deg");
}

#[test]
fn quantity_without_or_with_wrong_unit_is_an_error() {
    let e = err(&format!("{FOOT_HEAD}heel-cup: 14\n"));
    assert_eq!(e.kind, RxErrorKind::Unit);
    assert_eq!((e.line, e.column), (4, 13));
    assert_eq!(e.found, "end of line");
    assert_eq!(e.expected, "`mm`");
    let e = err(&format!("{FOOT_HEAD}rearfoot-post: 4 mm varus\n"));
    assert_eq!(e.kind, RxErrorKind::Unit);
    assert_eq!(e.found, "`mm`");
    assert_eq!(e.expected, "`deg`");
    let e = err(&format!("{SOCK_HEAD}reduction: 4\n"));
    assert_eq!(e.expected, "`%`");
}

#[test]
fn repeated_single_key_is_refused_but_repeatables_are_kept() {
    let e = err(&format!("{FOOT_HEAD}heel-cup: 14 mm\nheel-cup: 12 mm\n"));
    assert_eq!(e.kind, RxErrorKind::Repeated);
    assert_eq!(e.line, 5);
    assert!(e.message.contains("first on line 4"), "{e}");
    let e = err(&format!("{FOOT_HEAD}patient: MRN-2\n"));
    assert_eq!(e.kind, RxErrorKind::Repeated);
    let rx = rx::parse(&format!(
        "{SOCK_HEAD}relief: fibular-head 2 mm\nrelief: tibial-crest 1 mm\nnotes: \"a\"\nnotes: \"b\"\n"
    ))
    .unwrap();
    assert_eq!(rx.notes, ["a", "b"]);
    let e = err(&format!(
        "{SOCK_HEAD}landmark: distal-end 0 0 0 mm\nlandmark: distal-end 1 1 1 mm\n"
    ));
    assert_eq!((e.kind, e.line), (RxErrorKind::Repeated, 5));
}

#[test]
fn missing_required_keys_are_named() {
    let e = err("rx: foot-orthotic\npractitioner: A\n");
    assert_eq!(e.kind, RxErrorKind::Missing);
    assert!(e.message.contains("`patient`"), "{e}");
    let e = err("rx: transtibial-socket\npatient: MRN-3\n");
    assert!(e.message.contains("`practitioner`"), "{e}");
    let e = err("# nothing but a comment\n\n");
    assert_eq!(e.kind, RxErrorKind::Header);
    let e = err("patient: MRN-1\nrx: foot-orthotic\n");
    assert_eq!((e.kind, e.line, e.column), (RxErrorKind::Header, 1, 1));
}

#[test]
fn side_override_needs_bilateral() {
    let e = err(&format!("{FOOT_HEAD}side: left\nleft.heel-lift: 3 mm\n"));
    assert_eq!(e.kind, RxErrorKind::Override);
    assert_eq!((e.line, e.column), (5, 1));
    assert!(e.message.contains("needs `side: bilateral`"), "{e}");
    assert!(e.message.contains("`side: left`"), "{e}");
    // Also when `side:` comes after the override, or is missing.
    let e = err(&format!("{FOOT_HEAD}right.heel-lift: 3 mm\n"));
    assert_eq!((e.kind, e.line), (RxErrorKind::Override, 4));
    let ok = rx::parse(&format!(
        "{FOOT_HEAD}right.heel-lift: 3 mm\nside: bilateral\n"
    ));
    assert!(ok.is_ok());
    let e = err(&format!(
        "{FOOT_HEAD}side: bilateral\nleft.patient: MRN-2\n"
    ));
    assert_eq!(e.kind, RxErrorKind::Override);
}

#[test]
fn key_of_the_other_device_kind_is_its_own_error() {
    let e = err(&format!("{FOOT_HEAD}liner: 6 mm\n"));
    assert_eq!(e.kind, RxErrorKind::WrongDevice);
    assert_eq!(
        e.to_string(),
        "line 4, column 1: `liner` is a transtibial-socket key, but this Rx is foot-orthotic"
    );
    let e = err(&format!("{SOCK_HEAD}met-pad: 4 mm\n"));
    assert_eq!(e.kind, RxErrorKind::WrongDevice);
}

#[test]
fn bad_values_say_what_was_expected() {
    let e = err(&format!("{FOOT_HEAD}arch-fill: huge\n"));
    assert_eq!(e.kind, RxErrorKind::BadValue);
    assert_eq!(e.column, 12);
    assert_eq!(e.found, "`huge`");
    assert_eq!(e.expected, "one of `none`, `low`, `medium`, `high`");
    let e = err("rx: foot-orthotic\npatient: Jane Doe\npractitioner: A\n");
    assert_eq!((e.kind, e.line, e.column), (RxErrorKind::BadValue, 2, 10));
    assert!(e.message.contains("not a name"), "{e}");
    let e = err(&format!("{FOOT_HEAD}date: 2026-02-30\n"));
    assert!(e.message.contains("not a calendar date"), "{e}");
    let e = err(&format!("{FOOT_HEAD}date: 2026-03-02\ndue: 2026-03-01\n"));
    assert!(e.message.contains("before the prescription date"), "{e}");
    let e = err(&format!("{FOOT_HEAD}notes: \"unterminated\n"));
    assert_eq!(e.kind, RxErrorKind::Syntax);
    let e = err(&format!("{FOOT_HEAD}heel-cup: 4 mm extra\n"));
    assert_eq!((e.kind, e.column), (RxErrorKind::Syntax, 16));
    let e = err(&format!("{FOOT_HEAD}Heel-Cup: 4 mm\n"));
    assert!(e.message.contains("lower-case"), "{e}");
    let e = err(&format!("{FOOT_HEAD}just some words\n"));
    assert!(e.message.contains("expected `key: value`"), "{e}");
    let e = err("rx: transtibial-socket\npatient: M-1\npractitioner: A\nside: bilateral\n");
    assert_eq!((e.kind, e.line), (RxErrorKind::BadValue, 4));
}

#[test]
fn hash_inside_a_quoted_note_is_not_a_comment() {
    let rx = rx::parse(&format!(
        "{FOOT_HEAD}notes: \"size #9 \\\"wide\\\"\" # comment\n"
    ))
    .unwrap();
    assert_eq!(rx.notes, ["size #9 \"wide\""]);
    assert_eq!(rx::parse(&rx::fmt(&rx)).unwrap(), rx);
}

#[test]
fn json_is_validated_like_text() {
    let rx = rx::parse(&fixture("foot-left-eva.rx")).unwrap();
    let json = rx
        .to_json()
        .replace("\"heel_cup_mm\": 10.0", "\"heel_cup_mm\": 40.0");
    let e = Prescription::from_json(&json).unwrap_err();
    assert_eq!(e.kind, RxErrorKind::OutOfRange);
    let typo = rx.to_json().replace("\"heel_cup_mm\"", "\"heel_cup\"");
    let e = Prescription::from_json(&typo).unwrap_err();
    assert_eq!(e.kind, RxErrorKind::Json);
    assert!(e.message.contains("unknown field `heel_cup`"), "{e}");
    let e = Prescription::from_json("{\"patient\": 3}").unwrap_err();
    assert_eq!(e.kind, RxErrorKind::Json);
}

#[test]
fn byte_order_mark_from_a_windows_editor_is_not_an_error() {
    // Notepad saves UTF-8 with a BOM (and CRLF line ends): the Rx must read the same
    let plain = rx::parse(&fixture("foot-bilateral.rx")).unwrap();
    let windows = format!(
        "\u{feff}{}",
        fixture("foot-bilateral.rx").replace('\n', "\r\n")
    );
    assert_eq!(rx::parse(&windows).unwrap(), plain);
    // only a leading BOM: one inside a line is still an error, with its column
    let e = err(&format!("{FOOT_HEAD}\u{feff}heel-cup: 5 mm\n"));
    assert_eq!(e.line, 4);
}

#[test]
fn errors_never_repeat_a_patient_reference_or_a_note() {
    let text = "rx: foot-orthotic\npatient: MRN-771234 \"x\npractitioner: A\n";
    let e = rx::parse(text).unwrap_err();
    assert_eq!((e.line, e.found.as_str()), (2, "(not shown)"));
    assert!(
        e.message
            .starts_with("the `patient` value is not valid: expected"),
        "{e}"
    );
    assert!(!e.to_string().contains("MRN-771234"), "{e}");
    let e = rx::parse(&format!("{FOOT_HEAD}left.notes: knee pain\n")).unwrap_err();
    assert!(!e.to_string().contains("knee"), "{e}");
    assert_eq!(
        rx::shown_line("patient: MRN-771234"),
        "patient: (not shown)"
    );
    assert_eq!(
        rx::shown_line("heel-cup: 40 mm # hurts after walking"),
        "heel-cup: 40 mm # (comment not shown)"
    );
    // serde's words would quote the value: only the field names remain
    let e = Prescription::from_json(
        r#"{"patient": "MRN-771234", "practitioner": "A", "notes": ["knee pain"], "device": "MRN-771234"}"#,
    )
    .unwrap_err();
    assert!(!e.to_string().contains("MRN-771234"), "{e}");
    let e =
        Prescription::from_json(r#"{"patient": "MRN 771234", "practitioner": "A"}"#).unwrap_err();
    assert!(!e.to_string().contains("771234"), "{e}");
}
