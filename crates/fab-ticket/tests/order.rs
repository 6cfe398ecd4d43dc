//! Work orders built from the example prescriptions with the bundled tables.

use fab_ticket::Tables;
use fab_ticket::order::*;
use fab_ticket::rx;
use fab_ticket::workflow::{Role, Status};

fn order(name: &str) -> WorkOrder {
    let p = format!("{}/../../fixtures/rx/{name}", env!("CARGO_MANIFEST_DIR"));
    let rx = rx::parse(&std::fs::read_to_string(p).unwrap()).unwrap();
    WorkOrder::from_prescription(&rx, &Tables::bundled())
}

#[test]
fn bilateral_foot_gives_one_set_per_side_with_overrides() {
    let wo = order("foot-bilateral.rx");
    assert_eq!(wo.sides, [Side::Left, Side::Right]);
    let left: Vec<_> = wo.modifications_for(Side::Left).cloned().collect();
    let right: Vec<_> = wo.modifications_for(Side::Right).cloned().collect();
    assert_eq!(
        left,
        [
            Modification::ArchFill {
                side: Side::Left,
                level: ArchFill::Medium
            },
            Modification::MetPad {
                side: Side::Left,
                height_mm: 5.0
            },
            Modification::HeelCup {
                side: Side::Left,
                depth_mm: 14.0
            },
            Modification::Flanges {
                side: Side::Left,
                medial_mm: 8.0,
                lateral_mm: 5.0
            },
            Modification::RearfootPost {
                side: Side::Left,
                degrees: 6.0,
                direction: PostDirection::Varus
            },
            Modification::HeelLift {
                side: Side::Left,
                height_mm: 6.0
            },
            Modification::Extension {
                side: Side::Left,
                to: Extension::Sulcus
            },
        ]
    );
    // Right: shared post (4 deg), no met pad (right.met-pad: none), no heel lift.
    assert!(right.contains(&Modification::RearfootPost {
        side: Side::Right,
        degrees: 4.0,
        direction: PostDirection::Varus
    }));
    assert!(
        !right
            .iter()
            .any(|m| matches!(m, Modification::MetPad { .. }))
    );
    assert!(
        !right
            .iter()
            .any(|m| matches!(m, Modification::HeelLift { .. }))
    );
    assert_eq!(wo.modifications.len(), left.len() + right.len());
    // forefoot-post: none emits nothing.
    assert!(
        !wo.modifications
            .iter()
            .any(|m| matches!(m, Modification::ForefootPost { .. }))
    );

    // HCPCS: left has a met pad (L3020), right has none (L3010); heel lift on the left only.
    let codes: Vec<_> = wo
        .hcpcs
        .iter()
        .map(|h| (h.code.as_str(), h.quantity))
        .collect();
    assert_eq!(codes, [("L3020", 1), ("L3010", 1), ("L3334", 1)]);
    assert_eq!(wo.milling.material, "polypropylene");
    assert_eq!(wo.milling.finish_tool, "ball:6");
}

#[test]
fn steps_follow_the_workflow_with_their_roles() {
    let wo = order("foot-left-eva.rx");
    let st: Vec<_> = wo.steps.iter().map(|s| (s.status, s.role)).collect();
    assert_eq!(
        st,
        [
            (Status::Received, Role::Tech),
            (Status::Designing, Role::Tech),
            (Status::Review, Role::Prosthetist),
            (Status::Milling, Role::Operator),
            (Status::Finishing, Role::Tech),
            (Status::Qc, Role::Tech),
            (Status::Shipped, Role::Tech),
        ]
    );
    assert_eq!(wo.sides, [Side::Left]);
    assert_eq!(wo.milling.material, "eva");
    assert!(
        wo.steps[3].action.contains("EVA block"),
        "{}",
        wo.steps[3].action
    );
    assert!(wo.modifications.contains(&Modification::RearfootPost {
        side: Side::Left,
        degrees: 2.0,
        direction: PostDirection::Valgus
    }));
    assert_eq!(wo.hcpcs.len(), 1);
    assert_eq!(
        (wo.hcpcs[0].code.as_str(), wo.hcpcs[0].quantity),
        ("L3020", 1)
    );
}

#[test]
fn socket_order_has_reduction_reliefs_and_loads_at_landmarks() {
    let wo = order("transtibial-ptb.rx");
    assert_eq!(
        wo.modifications[0],
        Modification::Reduction { percent: 4.0 }
    );
    assert!(wo.modifications.contains(&Modification::Relief {
        region: Region::FibularHead,
        depth_mm: 3.0,
        landmark: Some([55.94, 12.04, -4.73])
    }));
    assert!(wo.modifications.contains(&Modification::Load {
        region: Region::PatellarTendon,
        depth_mm: 4.0,
        landmark: Some([-4.77, -58.64, 9.31])
    }));
    assert_eq!(
        wo.modifications.last(),
        Some(&Modification::Trimline { height_mm: 230.0 })
    );
    assert!(wo.remarks.is_empty(), "{:?}", wo.remarks);
    assert_eq!(wo.milling.material, "petg");
    let codes: Vec<_> = wo.hcpcs.iter().map(|h| h.code.as_str()).collect();
    assert_eq!(codes, ["L5620", "L5671", "L5673"]);

    let tsb = order("transtibial-tsb.rx");
    let codes: Vec<_> = tsb.hcpcs.iter().map(|h| h.code.as_str()).collect();
    assert_eq!(codes, ["L5637", "L5679", "L5647"]);
    assert_eq!(tsb.milling.material, "*");
    // A relief without a landmark is flagged for the technician.
    assert!(
        tsb.remarks[0].contains("distal-end has no landmark"),
        "{:?}",
        tsb.remarks
    );
}

#[test]
fn a_lab_table_changes_the_suggestion() {
    let p = format!(
        "{}/../../fixtures/rx/foot-left-eva.rx",
        env!("CARGO_MANIFEST_DIR")
    );
    let rx = rx::parse(&std::fs::read_to_string(p).unwrap()).unwrap();
    let bundled = std::fs::read_to_string(format!(
        "{}/../../fixtures/tables/materials.toml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let lab = bundled.replace("EVA block, 45 shore A", "EVA block, 60 shore A");
    let t = Tables::from_toml(&lab, "lab.toml").unwrap();
    let wo = WorkOrder::from_prescription(&rx, &t);
    assert_eq!(wo.milling.blank, "EVA block, 60 shore A");
}

#[test]
fn work_order_reads_and_serialises() {
    let wo = order("transtibial-ptb.rx");
    let text = wo.to_string();
    assert!(
        text.starts_with("Work order: transtibial-socket (left)\nDue: 2026-11-27\n"),
        "{text}"
    );
    assert!(
        text.contains("relief (build-up) fibular-head 3 mm at (55.94, 12.04, -4.73) mm"),
        "{text}"
    );
    assert!(text.contains("L5671 x1"), "{text}");
    let json = serde_json::to_string(&wo).unwrap();
    let back: WorkOrder = serde_json::from_str(&json).unwrap();
    assert_eq!(back, wo);
}

#[test]
fn an_eva_orthosis_is_milled_directly_not_formed_over_a_positive() {
    use fab_ticket::tables::Mills;
    let eva = order("foot-left-eva.rx");
    assert_eq!(eva.milling.mills, Mills::Orthosis);
    let text: Vec<&str> = eva.steps.iter().map(|s| s.action.as_str()).collect();
    assert!(
        text.iter()
            .any(|a| a.contains("mill the orthosis directly")),
        "{text:?}"
    );
    assert!(
        !text.iter().any(|a| a.contains("over the positive")),
        "{text:?}"
    );
    // polypropylene is still formed over a milled positive
    let pp = order("foot-bilateral.rx");
    assert_eq!(pp.milling.mills, Mills::Positive);
    assert!(
        pp.steps
            .iter()
            .any(|s| s.action.contains("over the positive"))
    );
}
