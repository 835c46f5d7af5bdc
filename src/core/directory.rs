//! The people and organizations of a group, as the group file describes them, and the rule that
//! maps a message's sender to a person. A person may write from several Matrix accounts and
//! email addresses; all of them map to the same person.

use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A role a person holds in a group. One person may hold several.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    Chair,
    CoChair,
    Rapporteur,
    Staff,
    Member,
    Participant,
    Observer,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Role::Chair,
        Role::CoChair,
        Role::Rapporteur,
        Role::Staff,
        Role::Member,
        Role::Participant,
        Role::Observer,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Role::Chair => "chair",
            Role::CoChair => "co-chair",
            Role::Rapporteur => "rapporteur",
            Role::Staff => "staff",
            Role::Member => "member",
            Role::Participant => "participant",
            Role::Observer => "observer",
        }
    }

    pub fn plural(self) -> &'static str {
        match self {
            Role::Chair => "chairs",
            Role::CoChair => "co-chairs",
            Role::Rapporteur => "rapporteurs",
            Role::Staff => "staff",
            Role::Member => "members",
            Role::Participant => "participants",
            Role::Observer => "observers",
        }
    }

    pub fn from_name(name: &str) -> Option<Role> {
        let wanted = name.trim().to_ascii_lowercase().replace('_', "-");
        Role::ALL.into_iter().find(|role| role.name() == wanted)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.name())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    pub short_name: String,
    pub name: String,
    pub seats: u32,
    pub contact: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub name: String,
    pub matrix_ids: Vec<String>,
    pub emails: Vec<String>,
    pub organization: Option<String>,
    pub roles: Vec<Role>,
}

impl Person {
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// "member, chair" in the order the group file gives.
    pub fn roles_text(&self) -> String {
        self.roles
            .iter()
            .map(|role| role.name())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// An appointed member occupies one of its organization's seats.
    pub fn occupies_seat(&self) -> bool {
        self.organization.is_some() && self.has_role(Role::Member)
    }
}

/// Who wrote a message, as the channel tells it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "address", rename_all = "snake_case")]
pub enum SenderAddress {
    Matrix(String),
    Email(String),
}

impl fmt::Display for SenderAddress {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SenderAddress::Matrix(user_id) => formatter.write_str(user_id),
            SenderAddress::Email(address) => formatter.write_str(address),
        }
    }
}

/// One coordination group: its identity, time zone, organizations and people.
#[derive(Debug, Clone)]
pub struct Group {
    /// The identifier used in configuration and storage, such as `cip-ccg`.
    pub id: String,
    pub short_name: String,
    pub name: String,
    pub time_zone: TimeZone,
    pub time_zone_name: String,
    pub meeting_cadence: Option<String>,
    pub consensus_designations: Vec<String>,
    pub organizations: Vec<Organization>,
    pub people: Vec<Person>,
}

impl Group {
    /// Finds the person who wrote from this address. Matrix IDs compare exactly (the spec makes
    /// them case-sensitive); email addresses compare without regard to case, as people type them.
    pub fn identify(&self, sender: &SenderAddress) -> Option<&Person> {
        self.people.iter().find(|person| match sender {
            SenderAddress::Matrix(user_id) => person.matrix_ids.iter().any(|id| id == user_id),
            SenderAddress::Email(address) => person
                .emails
                .iter()
                .any(|email| email.eq_ignore_ascii_case(address.trim())),
        })
    }

    pub fn organization(&self, short_name: &str) -> Option<&Organization> {
        self.organizations.iter().find(|organization| {
            organization
                .short_name
                .eq_ignore_ascii_case(short_name.trim())
        })
    }

    /// The people attached to an organization, in group-file order.
    pub fn people_of(&self, short_name: &str) -> impl Iterator<Item = &Person> {
        self.people.iter().filter(move |person| {
            person
                .organization
                .as_deref()
                .is_some_and(|organization| organization.eq_ignore_ascii_case(short_name))
        })
    }

    /// Finds a person by Matrix ID, email address or full name (case-insensitive for names).
    pub fn find_person(&self, query: &str) -> Option<&Person> {
        let query = query.trim();
        let by_address = if query.starts_with('@') {
            self.identify(&SenderAddress::Matrix(query.to_string()))
        } else if query.contains('@') {
            self.identify(&SenderAddress::Email(query.to_string()))
        } else {
            None
        };
        by_address.or_else(|| {
            self.people
                .iter()
                .find(|person| person.name.eq_ignore_ascii_case(query))
        })
    }

    pub fn people_with_role(&self, role: Role) -> impl Iterator<Item = &Person> {
        self.people
            .iter()
            .filter(move |person| person.has_role(role))
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::*;

    /// A small group for unit tests that do not need the example group files.
    pub fn small_group() -> Group {
        Group {
            id: "test-group".into(),
            short_name: "TG".into(),
            name: "Test Group".into(),
            time_zone: TimeZone::get("Europe/Brussels").expect("zone in the bundled database"),
            time_zone_name: "Europe/Brussels".into(),
            meeting_cadence: Some("monthly".into()),
            consensus_designations: vec!["Full Consensus".into(), "Consensus".into()],
            organizations: vec![
                Organization {
                    short_name: "GNSO".into(),
                    name: "Generic Names Supporting Organization".into(),
                    seats: 2,
                    contact: None,
                },
                Organization {
                    short_name: "ALAC".into(),
                    name: "At-Large Advisory Committee".into(),
                    seats: 1,
                    contact: None,
                },
            ],
            people: vec![
                Person {
                    name: "Ana Lima".into(),
                    matrix_ids: vec!["@ana:example.org".into()],
                    emails: vec!["Ana.Lima@example.org".into()],
                    organization: Some("GNSO".into()),
                    roles: vec![Role::Member, Role::Chair],
                },
                Person {
                    name: "Sam Staff".into(),
                    matrix_ids: vec!["@sam:example.org".into()],
                    emails: vec![],
                    organization: None,
                    roles: vec![Role::Staff],
                },
            ],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::small_group;
    use super::*;

    #[test]
    fn senders_map_to_people_by_every_address() {
        let group = small_group();
        let cases = [
            (
                SenderAddress::Matrix("@ana:example.org".into()),
                Some("Ana Lima"),
            ),
            (SenderAddress::Matrix("@ANA:example.org".into()), None),
            (
                SenderAddress::Email("ana.lima@EXAMPLE.org".into()),
                Some("Ana Lima"),
            ),
            (SenderAddress::Email("stranger@example.org".into()), None),
            (
                SenderAddress::Matrix("@sam:example.org".into()),
                Some("Sam Staff"),
            ),
        ];
        for (sender, expected) in cases {
            assert_eq!(
                group.identify(&sender).map(|person| person.name.as_str()),
                expected,
                "{sender}"
            );
        }
    }

    #[test]
    fn find_person_accepts_ids_addresses_and_names() {
        let group = small_group();
        for query in [
            "@ana:example.org",
            "ana.lima@example.org",
            "ana lima",
            " Ana Lima ",
        ] {
            assert_eq!(
                group.find_person(query).map(|p| p.name.as_str()),
                Some("Ana Lima")
            );
        }
        assert!(group.find_person("nobody").is_none());
    }

    #[test]
    fn role_names_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::from_name(role.name()), Some(role));
        }
        assert_eq!(Role::from_name("Co_Chair"), Some(Role::CoChair));
        assert_eq!(Role::from_name("king"), None);
    }
}
