//! The canonical text form of a prescription: fixed key order, one space after the colon,
//! numbers in their shortest exact decimal form, units always written. `parse(&fmt(rx)) == rx`.

use std::fmt::Write;

use super::parse::region_name;
use super::*;

/// Writes the canonical text form of `rx`.
pub fn fmt(rx: &Prescription) -> String {
    let mut o = String::new();
    let mut kv = |k: &str, v: &dyn std::fmt::Display| {
        let _ = writeln!(o, "{k}: {v}");
    };
    kv("rx", &rx.kind());
    kv("patient", &rx.patient);
    kv("practitioner", &rx.practitioner);
    if let Some(c) = &rx.clinic {
        kv("clinic", c);
    }
    if let Some(d) = &rx.date {
        kv("date", d);
    }
    if let Some(d) = &rx.due {
        kv("due", d);
    }
    if let Some(s) = rx.side {
        kv(
            "side",
            &match s {
                RxSide::Left => "left",
                RxSide::Right => "right",
                RxSide::Bilateral => "bilateral",
            },
        );
    }
    match &rx.device {
        Device::FootOrthotic(f) => {
            foot(&mut o, "", &f.shared);
            foot(&mut o, "left.", &f.left);
            foot(&mut o, "right.", &f.right);
        }
        Device::TranstibialSocket(s) => socket(&mut o, s),
    }
    for n in &rx.notes {
        let esc = n.replace('\\', "\\\\").replace('"', "\\\"");
        let _ = writeln!(o, "notes: \"{esc}\"");
    }
    o
}

fn post(p: &Post) -> String {
    match p {
        Post::None => "none".into(),
        Post::Wedge { degrees, direction } => format!(
            "{degrees} deg {}",
            match direction {
                PostDirection::Varus => "varus",
                PostDirection::Valgus => "valgus",
            }
        ),
    }
}

fn foot(o: &mut String, prefix: &str, p: &FootParams) {
    let mut kv = |k: &str, v: String| {
        let _ = writeln!(o, "{prefix}{k}: {v}");
    };
    if let Some(s) = &p.shell {
        let m = match s.material {
            ShellMaterial::Polypropylene => "polypropylene",
            ShellMaterial::Eva => "eva",
            ShellMaterial::Carbon => "carbon",
        };
        kv("shell", format!("{m} {} mm", s.thickness_mm));
    }
    if let Some(v) = p.heel_cup_mm {
        kv("heel-cup", format!("{v} mm"));
    }
    if let Some(a) = p.arch_fill {
        let a = match a {
            ArchFillChoice::None => "none",
            ArchFillChoice::Low => "low",
            ArchFillChoice::Medium => "medium",
            ArchFillChoice::High => "high",
        };
        kv("arch-fill", a.into());
    }
    if let Some(v) = p.medial_flange_mm {
        kv("medial-flange", format!("{v} mm"));
    }
    if let Some(v) = p.lateral_flange_mm {
        kv("lateral-flange", format!("{v} mm"));
    }
    if let Some(v) = &p.rearfoot_post {
        kv("rearfoot-post", post(v));
    }
    if let Some(v) = &p.forefoot_post {
        kv("forefoot-post", post(v));
    }
    if let Some(v) = &p.met_pad {
        kv(
            "met-pad",
            match v {
                MetPad::None => "none".into(),
                MetPad::Height { mm } => format!("{mm} mm"),
            },
        );
    }
    if let Some(e) = p.extension {
        let e = match e {
            Extension::Metatarsal => "metatarsal",
            Extension::Sulcus => "sulcus",
            Extension::Toes => "toes",
        };
        kv("extension", e.into());
    }
    if let Some(t) = &p.top_cover {
        kv(
            "top-cover",
            match t {
                TopCover::None => "none".into(),
                TopCover::Cover {
                    material,
                    thickness_mm,
                    length,
                } => {
                    let len = match length {
                        None => "",
                        Some(CoverLength::Full) => " full",
                        Some(CoverLength::ThreeQuarter) => " three-quarter",
                    };
                    format!("{material} {thickness_mm} mm{len}")
                }
            },
        );
    }
    if let Some(v) = p.heel_lift_mm {
        kv("heel-lift", format!("{v} mm"));
    }
}

fn socket(o: &mut String, s: &TranstibialSocket) {
    let mut kv = |k: &str, v: String| {
        let _ = writeln!(o, "{k}: {v}");
    };
    if let Some(d) = s.design {
        kv(
            "design",
            match d {
                SocketDesign::Ptb => "ptb",
                SocketDesign::Tsb => "tsb",
            }
            .into(),
        );
    }
    if let Some(v) = s.liner_mm {
        kv("liner", format!("{v} mm"));
    }
    if let Some(v) = s.scan {
        kv(
            "scan",
            match v {
                ScanSurface::OverLiner => "over-liner",
                ScanSurface::Skin => "skin",
            }
            .into(),
        );
    }
    if let Some(v) = s.suspension {
        kv(
            "suspension",
            match v {
                Suspension::PinLock => "pin-lock",
                Suspension::Suction => "suction",
                Suspension::Sleeve => "sleeve",
                Suspension::Supracondylar => "supracondylar",
            }
            .into(),
        );
    }
    if let Some(v) = s.reduction_percent {
        kv("reduction", format!("{v} %"));
    }
    for r in &s.reliefs {
        kv(
            "relief",
            format!("{} {} mm", region_name(r.region), r.depth_mm),
        );
    }
    for r in &s.loads {
        kv(
            "load",
            format!("{} {} mm", region_name(r.region), r.depth_mm),
        );
    }
    for l in &s.landmarks {
        let [x, y, z] = l.point_mm;
        kv(
            "landmark",
            format!("{} {x} {y} {z} mm", region_name(l.region)),
        );
    }
    if let Some(v) = s.socket {
        kv(
            "socket",
            match v {
                SocketStage::Check => "check",
                SocketStage::Definitive => "definitive",
            }
            .into(),
        );
    }
    if let Some(m) = &s.material {
        kv("material", m.clone());
    }
    if let Some(v) = s.trimline_mm {
        kv("trimline", format!("{v} mm"));
    }
}
