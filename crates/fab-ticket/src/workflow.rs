//! The job status machine and who may move a job.
//!
//! ```text
//! received -> designing -> review -> approved -> milling -> finishing -> qc -> shipped
//!                 ^----------- review (changes requested, prosthetist only)
//! any open state -> on-hold -> back to where it was;  any open state -> cancelled
//! ```
//!
//! Roles: `tech`, `prosthetist`, `operator`, `admin`. Only a prosthetist approves a design or
//! requests changes (review -> approved / designing). An admin may make every other move.

use serde::{Deserialize, Serialize};

/// Where a job is in the lab.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Received,
    Designing,
    Review,
    Approved,
    Milling,
    Finishing,
    Qc,
    Shipped,
    OnHold,
    Cancelled,
}

impl Status {
    /// Every status, in workflow order.
    pub const ALL: [Status; 10] = [
        Status::Received,
        Status::Designing,
        Status::Review,
        Status::Approved,
        Status::Milling,
        Status::Finishing,
        Status::Qc,
        Status::Shipped,
        Status::OnHold,
        Status::Cancelled,
    ];

    /// The name used on the command line and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Received => "received",
            Status::Designing => "designing",
            Status::Review => "review",
            Status::Approved => "approved",
            Status::Milling => "milling",
            Status::Finishing => "finishing",
            Status::Qc => "qc",
            Status::Shipped => "shipped",
            Status::OnHold => "on-hold",
            Status::Cancelled => "cancelled",
        }
    }

    /// A closed job (shipped or cancelled) moves no more.
    pub fn is_closed(self) -> bool {
        matches!(self, Status::Shipped | Status::Cancelled)
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Status {
    type Err = String;
    fn from_str(s: &str) -> Result<Status, String> {
        Status::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| {
                let all: Vec<_> = Status::ALL.iter().map(|s| s.as_str()).collect();
                format!("unknown status `{s}`: expected one of {}", all.join(", "))
            })
    }
}

/// What a lab user does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    Tech,
    Prosthetist,
    Operator,
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Tech, Role::Prosthetist, Role::Operator, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Tech => "tech",
            Role::Prosthetist => "prosthetist",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Role, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                format!("unknown role `{s}`: expected one of tech, prosthetist, operator, admin")
            })
    }
}

/// Why a move is refused. The message says why, in one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoveError {
    #[error("job is {0}; a closed job does not move")]
    Closed(Status),
    #[error("job is already {0}")]
    Same(Status),
    #[error("a job on hold goes back to {resume} (where it was) or is cancelled, not to {to}")]
    HoldResume { resume: Status, to: Status },
    #[error("a job does not move from {from} to {to}; from {from} it goes to {allowed}")]
    NotInWorkflow {
        from: Status,
        to: Status,
        allowed: String,
    },
    #[error(
        "{} {role} may not move a job from {from} to {to}; that takes {} {allowed}",
        article(role.as_str()),
        article(allowed)
    )]
    Role {
        role: Role,
        from: Status,
        to: Status,
        allowed: String,
    },
}

/// `a` or `an`, for the word that follows.
pub fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

/// The forward (and changes-requested) moves, with who may make each.
const MOVES: &[(Status, Status, &[Role])] = {
    use Role::*;
    use Status::*;
    &[
        (Received, Designing, &[Tech, Admin]),
        (Designing, Review, &[Tech, Admin]),
        (Review, Approved, &[Prosthetist]),
        (Review, Designing, &[Prosthetist]),
        (Approved, Milling, &[Operator, Admin]),
        (Milling, Finishing, &[Operator, Tech, Admin]),
        (Finishing, Qc, &[Tech, Admin]),
        (Qc, Shipped, &[Tech, Prosthetist, Admin]),
    ]
};

/// Who may put a job on hold or resume it, and who may cancel it.
const HOLDERS: &[Role] = &[Role::Tech, Role::Prosthetist, Role::Operator, Role::Admin];
const CANCELLERS: &[Role] = &[Role::Prosthetist, Role::Admin];

fn roles(list: &[Role]) -> String {
    let names: Vec<_> = list.iter().map(|r| r.as_str()).collect();
    match names.as_slice() {
        [one] => one.to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
        [] => "nobody".into(),
    }
}

/// The statuses a job in `from` may go to (whatever the role).
pub fn next_statuses(from: Status, hold_from: Option<Status>) -> Vec<Status> {
    if from.is_closed() {
        return vec![];
    }
    let mut out: Vec<Status> = if from == Status::OnHold {
        hold_from.into_iter().collect()
    } else {
        MOVES
            .iter()
            .filter(|m| m.0 == from)
            .map(|m| m.1)
            .chain([Status::OnHold])
            .collect()
    };
    out.push(Status::Cancelled);
    out
}

/// Checks a move of a job in `from` (on hold from `hold_from`, if on hold) to `to` by `role`.
pub fn check(
    from: Status,
    hold_from: Option<Status>,
    to: Status,
    role: Role,
) -> Result<(), MoveError> {
    if from.is_closed() {
        return Err(MoveError::Closed(from));
    }
    if from == to {
        return Err(MoveError::Same(from));
    }
    let allowed: &[Role] = if to == Status::Cancelled {
        CANCELLERS
    } else if to == Status::OnHold {
        HOLDERS
    } else if from == Status::OnHold {
        let resume = hold_from.unwrap_or(Status::Received);
        if to != resume {
            return Err(MoveError::HoldResume { resume, to });
        }
        HOLDERS
    } else if let Some(m) = MOVES.iter().find(|m| m.0 == from && m.1 == to) {
        m.2
    } else {
        let allowed: Vec<_> = next_statuses(from, hold_from)
            .iter()
            .map(|s| s.as_str())
            .collect();
        return Err(MoveError::NotInWorkflow {
            from,
            to,
            allowed: allowed.join(", "),
        });
    };
    if allowed.contains(&role) {
        Ok(())
    } else {
        Err(MoveError::Role {
            role,
            from,
            to,
            allowed: roles(allowed),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Role::*;
    use Status::*;

    #[test]
    fn the_happy_path_goes_through_with_the_right_roles() {
        let path = [
            (Received, Designing, Tech),
            (Designing, Review, Tech),
            (Review, Approved, Prosthetist),
            (Approved, Milling, Operator),
            (Milling, Finishing, Operator),
            (Finishing, Qc, Tech),
            (Qc, Shipped, Prosthetist),
        ];
        for (from, to, role) in path {
            assert_eq!(
                check(from, None, to, role),
                Ok(()),
                "{from} -> {to} by {role}"
            );
        }
    }

    #[test]
    fn only_a_prosthetist_approves_or_requests_changes() {
        assert_eq!(article("operator"), "an");
        assert_eq!(article("tech"), "a");
        for role in [Tech, Operator, Admin] {
            let e = check(Review, None, Approved, role).unwrap_err();
            assert_eq!(
                e.to_string(),
                format!(
                    "{} {role} may not move a job from review to approved; that takes a prosthetist",
                    article(role.as_str())
                )
            );
            assert!(check(Review, None, Designing, role).is_err());
        }
        assert_eq!(check(Review, None, Designing, Prosthetist), Ok(()));
    }

    #[test]
    fn skipping_steps_is_refused_and_names_the_next_ones() {
        let e = check(Received, None, Milling, Admin).unwrap_err();
        assert_eq!(
            e.to_string(),
            "a job does not move from received to milling; from received it goes to designing, \
             on-hold, cancelled"
        );
        assert!(matches!(
            check(Approved, None, Review, Prosthetist),
            Err(MoveError::NotInWorkflow { .. })
        ));
    }

    #[test]
    fn hold_resumes_only_where_it_was_and_cancel_from_any_open_state() {
        assert_eq!(check(Milling, None, OnHold, Operator), Ok(()));
        assert_eq!(check(OnHold, Some(Milling), Milling, Operator), Ok(()));
        assert_eq!(
            check(OnHold, Some(Milling), Designing, Admin),
            Err(MoveError::HoldResume {
                resume: Milling,
                to: Designing
            })
        );
        for from in [
            Received, Designing, Review, Approved, Milling, Finishing, Qc, OnHold,
        ] {
            assert_eq!(check(from, Some(Review), Cancelled, Prosthetist), Ok(()));
            assert!(check(from, Some(Review), Cancelled, Operator).is_err());
        }
        assert_eq!(
            check(Shipped, None, OnHold, Admin),
            Err(MoveError::Closed(Shipped))
        );
        assert_eq!(
            check(Cancelled, None, Received, Admin),
            Err(MoveError::Closed(Cancelled))
        );
        assert_eq!(
            check(Review, None, Review, Admin),
            Err(MoveError::Same(Review))
        );
    }

    #[test]
    fn names_parse_back() {
        for s in Status::ALL {
            assert_eq!(s.as_str().parse::<Status>(), Ok(s));
        }
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>(), Ok(r));
        }
        assert!(
            "done"
                .parse::<Status>()
                .unwrap_err()
                .contains("expected one of")
        );
    }
}
