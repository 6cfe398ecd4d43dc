//! Property tests: generated prescriptions of both kinds survive fmt -> parse unchanged, and no
//! input makes the parser panic.

use fab_ticket::rx::{self, *};
use proptest::option::of;
use proptest::prelude::*;
use proptest::test_runner::TestRunner;

fn text() -> impl Strategy<Value = String> {
    "[A-Za-z][A-Za-z0-9 .,'()/-]{0,24}[A-Za-z0-9.]".prop_map(|s| s)
}

fn mm(hi: f64) -> impl Strategy<Value = f64> {
    prop_oneof![
        (0u32..=(hi as u32 * 10)).prop_map(|t| t as f64 / 10.0),
        0.0..=hi
    ]
}

fn date() -> impl Strategy<Value = Date> {
    (1990u16..2100, 1u8..=12, 1u8..=28).prop_map(|(y, m, d)| Date::new(y, m, d).unwrap())
}

fn post() -> impl Strategy<Value = Post> {
    prop_oneof![
        Just(Post::None),
        (
            mm(10.0),
            prop_oneof![Just(PostDirection::Varus), Just(PostDirection::Valgus)]
        )
            .prop_map(|(degrees, direction)| Post::Wedge { degrees, direction })
    ]
}

fn foot_params() -> impl Strategy<Value = FootParams> {
    let shell = (
        prop_oneof![
            Just(ShellMaterial::Polypropylene),
            Just(ShellMaterial::Eva),
            Just(ShellMaterial::Carbon)
        ],
        1.0..=6.0f64,
    )
        .prop_map(|(material, thickness_mm)| Shell {
            material,
            thickness_mm,
        });
    let arch = prop_oneof![
        Just(ArchFillChoice::None),
        Just(ArchFillChoice::Low),
        Just(ArchFillChoice::Medium),
        Just(ArchFillChoice::High)
    ];
    let met = prop_oneof![
        Just(MetPad::None),
        mm(10.0).prop_map(|mm| MetPad::Height { mm })
    ];
    let ext = prop_oneof![
        Just(Extension::Metatarsal),
        Just(Extension::Sulcus),
        Just(Extension::Toes)
    ];
    let cover = prop_oneof![
        Just(TopCover::None),
        (
            "[a-z][a-z0-9-]{0,10}".prop_filter("not none", |m| m != "none"),
            mm(6.0),
            of(prop_oneof![
                Just(CoverLength::Full),
                Just(CoverLength::ThreeQuarter)
            ])
        )
            .prop_map(|(material, thickness_mm, length)| TopCover::Cover {
                material,
                thickness_mm,
                length
            })
    ];
    (
        (
            of(shell),
            of(mm(30.0)),
            of(arch),
            of(mm(25.0)),
            of(mm(25.0)),
        ),
        (
            of(post()),
            of(post()),
            of(met),
            of(ext),
            of(cover),
            of(mm(15.0)),
        ),
    )
        .prop_map(
            |((shell, hc, af, mf, lf), (rp, fp, met, ext, tc, hl))| FootParams {
                shell,
                heel_cup_mm: hc,
                arch_fill: af,
                medial_flange_mm: mf,
                lateral_flange_mm: lf,
                rearfoot_post: rp,
                forefoot_post: fp,
                met_pad: met,
                extension: ext,
                top_cover: tc,
                heel_lift_mm: hl,
            },
        )
}

fn region() -> impl Strategy<Value = Region> {
    prop::sample::select(vec![
        Region::FibularHead,
        Region::TibialCrest,
        Region::TibialTubercle,
        Region::DistalTibia,
        Region::DistalEnd,
        Region::PatellarTendon,
        Region::MedialFlare,
        Region::LateralFlare,
        Region::Popliteal,
        Region::Hamstrings,
    ])
}

fn socket() -> impl Strategy<Value = TranstibialSocket> {
    let rd =
        || (region(), mm(10.0)).prop_map(|(region, depth_mm)| RegionDepth { region, depth_mm });
    let landmarks = prop::collection::btree_map(
        region(),
        (-500.0..500.0f64, -500.0..500.0f64, -500.0..500.0f64),
        0..5,
    )
    .prop_map(|m| {
        m.into_iter()
            .map(|(region, (x, y, z))| Landmark {
                region,
                point_mm: [x, y, z],
            })
            .collect::<Vec<_>>()
    });
    (
        (
            of(prop_oneof![
                Just(SocketDesign::Ptb),
                Just(SocketDesign::Tsb)
            ]),
            of(mm(12.0)),
            of(prop::sample::select(vec![
                Suspension::PinLock,
                Suspension::Suction,
                Suspension::Sleeve,
                Suspension::Supracondylar,
            ])),
            of(mm(10.0)),
            of(prop_oneof![
                Just(ScanSurface::OverLiner),
                Just(ScanSurface::Skin)
            ]),
        ),
        (
            prop::collection::vec(rd(), 0..4),
            prop::collection::vec(rd(), 0..4),
            landmarks,
            of(prop_oneof![
                Just(SocketStage::Check),
                Just(SocketStage::Definitive)
            ]),
            of(text()),
            of(mm(600.0)),
        ),
    )
        .prop_map(
            |(
                (design, liner, susp, red, scan),
                (reliefs, loads, landmarks, socket, material, trim),
            )| {
                TranstibialSocket {
                    design,
                    liner_mm: liner,
                    scan,
                    suspension: susp,
                    reduction_percent: red,
                    reliefs,
                    loads,
                    landmarks,
                    socket,
                    material,
                    trimline_mm: trim,
                }
            },
        )
}

fn prescription() -> impl Strategy<Value = Prescription> {
    let foot = prop_oneof![
        (
            foot_params(),
            of(prop_oneof![Just(RxSide::Left), Just(RxSide::Right)])
        )
            .prop_map(|(shared, side)| (
                Device::FootOrthotic(FootOrthotic {
                    shared,
                    ..Default::default()
                }),
                side
            )),
        (foot_params(), foot_params(), foot_params()).prop_map(|(shared, left, right)| (
            Device::FootOrthotic(FootOrthotic {
                shared,
                left,
                right
            }),
            Some(RxSide::Bilateral)
        )),
    ];
    let sock = (
        socket(),
        of(prop_oneof![Just(RxSide::Left), Just(RxSide::Right)]),
    )
        .prop_map(|(s, side)| (Device::TranstibialSocket(s), side));
    (
        prop_oneof![foot, sock],
        "[A-Z]{2,4}-[0-9]{1,8}",
        text(),
        of(text()),
        of(date()),
        prop::collection::vec("[ -~]{0,30}", 0..3),
    )
        .prop_map(
            |((device, side), patient, practitioner, clinic, date, notes)| Prescription {
                patient,
                practitioner,
                clinic,
                date,
                due: date,
                side,
                notes,
                device,
            },
        )
}

/// The generated values nest deeply; in unoptimised builds the default 2 MiB test thread stack
/// is not enough, so each property runs on a thread with a larger one.
fn on_big_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e));
}

#[test]
fn fmt_then_parse_gives_back_the_prescription() {
    on_big_stack(|| {
        let mut runner = TestRunner::new(ProptestConfig::with_cases(512));
        let result = runner.run(&prescription().boxed(), |rx| {
            let text = rx::fmt(&rx);
            let back = rx::parse(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
            prop_assert_eq!(&back, &rx);
            let json = rx.to_json();
            let from_json =
                Prescription::from_json(&json).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(from_json, rx);
            Ok(())
        });
        if let Err(e) = result {
            panic!("{e}");
        }
    });
}

#[test]
fn parser_never_panics_on_arbitrary_lines() {
    on_big_stack(|| {
        let mut runner = TestRunner::new(ProptestConfig::with_cases(1024));
        let lines = prop::collection::vec("[ -~\u{e9}]{0,40}", 0..8);
        runner
            .run(&lines, |lines| {
                let text = format!("rx: foot-orthotic\n{}", lines.join("\n"));
                let _ = rx::parse(&text);
                let _ = rx::parse(&lines.join("\n"));
                Ok(())
            })
            .unwrap();
    });
}
