//! The people and organizations of a group, as the group file describes them, and the rule that
//! maps a message's sender to a person. A person may write from several Matrix accounts and
//! email addresses; all of them map to the same person.

use crate::email_address::{comparable_email, same_email};
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
    /// The IDs of the members who may answer feedback requests for the organization when the
    /// group's policy is [`Answering::Designated`]; empty means any of its members.
    pub answerers: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// The stable identifier from the group file (`ana.lima`). Stored records name people by
    /// it, so a renamed person or a changed address keeps their history.
    pub id: String,
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
    /// Where the group talks: its Matrix room (as configured: an ID or an alias) and the
    /// address of its mailing list, if it has one.
    pub room: Option<String>,
    pub list_address: Option<String>,
    /// Timeframes and reminder schedule of feedback requests.
    pub feedback: FeedbackPolicy,
    /// Meeting reminders, default length, quorum and recurring schedules.
    pub meetings: crate::meetings::policy::MeetingPolicy,
    /// Reminders before calls for consensus, polls and surveys close.
    pub consensus: crate::consensus::policy::ConsensusPolicy,
    /// The surveys the group file names, with their questions.
    pub surveys: Vec<crate::surveys::model::SurveyForm>,
    /// Where the group's public record is read (`<record_base_url>/<group>/`), when the
    /// configuration says; summaries link to their entries under it.
    pub record_url: Option<String>,
    /// The group file's `[record]` section: ICANN meetings and when progress reports are due.
    pub record: crate::record::deadlines::RecordPolicy,
}

impl Group {
    /// The permalink of a record entry (`meetings/m-3`), when the record's address is known.
    pub fn permalink(&self, key: &str) -> Option<String> {
        self.record_url
            .as_ref()
            .map(|base| format!("{base}{key}.html"))
    }
}

/// Who may answer a feedback request for an organization with several seats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Answering {
    /// Any appointed member of the organization.
    #[default]
    AnyMember,
    /// Only the members the organization's `answerers` names (any member where it names none).
    Designated,
}

/// Where a deadline given as a date without a time of day ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeadlineDayEnd {
    /// At the end of that day in the group's time zone.
    #[default]
    GroupZone,
    /// At the end of that day anywhere on Earth (UTC-12), as many ICANN deadlines are set.
    AnywhereOnEarth,
}

/// The group file's `[feedback]` section: default timeframes (WS2 recommendation 7.2.2 asks
/// for published ones) and when reminders go out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedbackPolicy {
    pub acknowledge_within_days: u32,
    pub respond_within_days: u32,
    /// Reminders before each due date, in days before it (largest first).
    pub reminder_days_before: Vec<u32>,
    /// While an answer is overdue, a reminder every this many days (0: none).
    pub overdue_reminder_every_days: u32,
    /// No organization is reminded twice within this many hours, unless a chair forces it.
    pub minimum_reminder_interval_hours: u32,
    /// The chairs are told when an organization's response is this many days overdue (0: never).
    pub escalate_after_days_overdue: u32,
    pub deadline_day_end: DeadlineDayEnd,
    pub answering: Answering,
}

impl Default for FeedbackPolicy {
    fn default() -> Self {
        FeedbackPolicy {
            acknowledge_within_days: 7,
            respond_within_days: 30,
            reminder_days_before: vec![7, 3, 1],
            overdue_reminder_every_days: 7,
            minimum_reminder_interval_hours: 20,
            escalate_after_days_overdue: 14,
            deadline_day_end: DeadlineDayEnd::GroupZone,
            answering: Answering::AnyMember,
        }
    }
}

impl Group {
    /// Finds the person who wrote from this address. Matrix IDs compare exactly (the spec makes
    /// them case-sensitive); email addresses compare by [`same_email`]: the domain without
    /// regard to case, the local part as the group file writes it, lookalikes never.
    pub fn identify(&self, sender: &SenderAddress) -> Option<&Person> {
        self.people.iter().find(|person| match sender {
            SenderAddress::Matrix(user_id) => person.matrix_ids.iter().any(|id| id == user_id),
            SenderAddress::Email(address) => {
                person.emails.iter().any(|email| same_email(email, address))
            }
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
            // A search typed by a person, not a sender's identity: an address in other capitals
            // than the group file's still finds its person when no address matches exactly.
            self.identify(&SenderAddress::Email(query.to_string()))
                .or_else(|| {
                    let wanted = comparable_email(query)?.to_ascii_lowercase();
                    self.people.iter().find(|person| {
                        person.emails.iter().any(|email| {
                            comparable_email(email)
                                .is_some_and(|email| email.to_ascii_lowercase() == wanted)
                        })
                    })
                })
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

    pub fn person_by_id(&self, id: &str) -> Option<&Person> {
        self.people.iter().find(|person| person.id == id)
    }

    /// The appointed members of an organization (those holding its seats).
    pub fn members_of(&self, short_name: &str) -> impl Iterator<Item = &Person> {
        self.people_of(short_name)
            .filter(|person| person.has_role(Role::Member))
    }

    /// Whether this person may answer a feedback request for their organization: an appointed
    /// member, and under a designated-answerer policy one the organization names (participants
    /// and observers never answer for an organization).
    pub fn may_answer_for(&self, person: &Person, organization: &Organization) -> bool {
        let is_member = person.occupies_seat()
            && person
                .organization
                .as_deref()
                .is_some_and(|own| own.eq_ignore_ascii_case(&organization.short_name));
        if !is_member {
            return false;
        }
        match self.feedback.answering {
            Answering::AnyMember => true,
            Answering::Designated => {
                organization.answerers.is_empty() || organization.answerers.contains(&person.id)
            }
        }
    }

    /// The chairs and co-chairs, in group-file order.
    pub fn chairs(&self) -> impl Iterator<Item = &Person> {
        self.people
            .iter()
            .filter(|person| person.has_role(Role::Chair) || person.has_role(Role::CoChair))
    }
}

/// Fixtures for unit tests of the core and of the crates that use it; not part of the API.
#[doc(hidden)]
pub mod test_support {
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
                    contact: Some("gnso-secretariat@example.org".into()),
                    answerers: vec![],
                },
                Organization {
                    short_name: "ALAC".into(),
                    name: "At-Large Advisory Committee".into(),
                    seats: 1,
                    contact: None,
                    answerers: vec![],
                },
            ],
            people: vec![
                Person {
                    id: "ana.lima".into(),
                    name: "Ana Lima".into(),
                    matrix_ids: vec!["@ana:example.org".into()],
                    emails: vec!["ana.lima@example.org".into()],
                    organization: Some("GNSO".into()),
                    roles: vec![Role::Member, Role::Chair],
                },
                Person {
                    id: "sam.staff".into(),
                    name: "Sam Staff".into(),
                    matrix_ids: vec!["@sam:example.org".into()],
                    emails: vec![],
                    organization: None,
                    roles: vec![Role::Staff],
                },
                Person {
                    id: "bea.alac".into(),
                    name: "Bea Alac".into(),
                    matrix_ids: vec!["@bea:example.org".into()],
                    emails: vec!["bea@example.org".into()],
                    organization: Some("ALAC".into()),
                    roles: vec![Role::Member],
                },
            ],
            room: Some("!room:example.org".into()),
            list_address: Some("tg@lists.example.org".into()),
            feedback: FeedbackPolicy::default(),
            meetings: Default::default(),
            consensus: Default::default(),
            surveys: Vec::new(),
            record_url: None,
            record: Default::default(),
        }
    }

    /// The small group with a second GNSO member (Gus, `@gus:example.org`) and an ALAC
    /// participant (Pat, `@pat:example.org`), for tallies and attendance by organization.
    pub fn small_group_with_gus_and_pat() -> Group {
        let mut group = small_group();
        group.people.push(Person {
            id: "gus.gnso".into(),
            name: "Gus Gnso".into(),
            matrix_ids: vec!["@gus:example.org".into()],
            emails: vec!["gus@example.org".into()],
            organization: Some("GNSO".into()),
            roles: vec![Role::Member],
        });
        group.people.push(Person {
            id: "pat.participant".into(),
            name: "Pat Participant".into(),
            matrix_ids: vec!["@pat:example.org".into()],
            emails: vec![],
            organization: Some("ALAC".into()),
            roles: vec![Role::Participant],
        });
        group
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
            // The group file writes ana.lima: another local part is another mailbox, and a
            // Cyrillic а is not an a.
            (SenderAddress::Email("Ana.Lima@example.org".into()), None),
            (
                SenderAddress::Email("\u{430}na.lima@example.org".into()),
                None,
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
            // A search, unlike a sender, finds the person in other capitals.
            "Ana.Lima@Example.org",
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
