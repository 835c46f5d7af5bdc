//! Group files: one group's organizations, people and conventions, validated as a whole.

use super::addresses::{email_address_problem, is_matrix_user_id};
use super::feedback::feedback_policy;
use super::person_ids::{LONGEST_PERSON_ID, is_valid_person_id, suggested_person_id};
use super::position::{ConfigProblem, SourceText, read_failure};
use super::raw::{RawGroupFile, RawOrganization, RawPerson};
use crate::core::consensus::policy::ConsensusPolicy;
use crate::core::directory::{Group, Organization, Person, Role};
use crate::core::email_address::comparable_email;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use toml::Spanned;

pub fn load_group_file(
    path: &Path,
    id: &str,
    default_time_zone: &str,
) -> Result<Group, Vec<ConfigProblem>> {
    let text = std::fs::read_to_string(path).map_err(|error| {
        vec![ConfigProblem {
            file: path.to_path_buf(),
            line: 0,
            column: 0,
            message: format!("cannot read the group file: {}", read_failure(&error)),
        }]
    })?;
    group_from_text(path, &text, id, default_time_zone)
}

/// Parses and validates a group file already read from `path`. The group's room and list
/// address are left unset: they come from the main config's `[[groups]]` entry, which the caller
/// holds.
pub(super) fn group_from_text(
    path: &Path,
    text: &str,
    id: &str,
    default_time_zone: &str,
) -> Result<Group, Vec<ConfigProblem>> {
    let source = SourceText { path, text };
    let raw: RawGroupFile =
        toml::from_str(text).map_err(|error| vec![source.toml_problem(&error)])?;
    validate_group(&source, raw, id, default_time_zone)
}

fn validate_group(
    source: &SourceText,
    raw: RawGroupFile,
    id: &str,
    default_time_zone: &str,
) -> Result<Group, Vec<ConfigProblem>> {
    let mut problems = Vec::new();
    let line_of = |span: std::ops::Range<usize>| source.line_and_column(span.start).0;

    let time_zone_name = raw
        .group
        .time_zone
        .as_ref()
        .map(|zone| zone.get_ref().clone())
        .unwrap_or_else(|| default_time_zone.to_string());
    let time_zone = match jiff::tz::TimeZone::get(&time_zone_name) {
        Ok(zone) => Some(zone),
        Err(_) => {
            let message = format!(
                "unknown time zone {time_zone_name:?}; use an IANA name such as \"America/Los_Angeles\""
            );
            problems.push(match &raw.group.time_zone {
                Some(spanned) => source.problem_at(spanned.span(), message),
                None => source.whole_file_problem(message),
            });
            None
        }
    };
    const DESIGNATIONS_HINT: &str =
        "list the levels the chair may designate, such as [\"Full Consensus\", \"Consensus\"]";
    match &raw.group.consensus_designations {
        None => problems.push(source.whole_file_problem(format!(
            "no consensus_designations in [group]: {DESIGNATIONS_HINT}"
        ))),
        Some(designations) if designations.get_ref().is_empty() => {
            problems.push(source.problem_at(
                designations.span(),
                format!("consensus_designations is empty: {DESIGNATIONS_HINT}"),
            ))
        }
        Some(_) => {}
    }

    let feedback = feedback_policy(raw.feedback.as_ref(), source, &mut problems);
    let meetings = super::meetings::meeting_policy(
        raw.meetings.as_ref(),
        &time_zone_name,
        source,
        &mut problems,
    );
    let surveys = super::surveys::survey_forms(&raw.surveys, source, &mut problems);
    let record = record_policy(raw.record.as_ref(), source, &mut problems);
    let consensus = ConsensusPolicy {
        reminder_minutes_before: match raw
            .consensus
            .as_ref()
            .and_then(|section| section.reminders.as_ref())
        {
            Some(reminders) => super::meetings::lead_times(reminders, source, &mut problems),
            None => ConsensusPolicy::default().reminder_minutes_before,
        },
    };

    let mut organizations = Vec::new();
    // The organizations kept (a repeated short name is reported and left out), beside their
    // entries in the file, for the checks that need the people.
    let mut kept_organizations: Vec<&Spanned<RawOrganization>> = Vec::new();
    let mut organization_lines: HashMap<String, usize> = HashMap::new();
    for organization in &raw.organizations {
        let organization_ref = organization.get_ref();
        let short_name = organization_ref.short_name.get_ref();
        let key = short_name.to_ascii_lowercase();
        if let Some(line) = organization_lines.get(&key) {
            problems.push(source.problem_at(
                organization_ref.short_name.span(),
                format!("organization {short_name} is already defined at line {line}"),
            ));
            continue;
        }
        organization_lines.insert(key, line_of(organization_ref.short_name.span()));
        if let Some(contact) = &organization_ref.contact
            && let Some(problem) = email_address_problem(contact.get_ref())
        {
            problems.push(source.problem_at(
                contact.span(),
                format!("contact {:?} {problem}", contact.get_ref()),
            ));
        }
        kept_organizations.push(organization);
        organizations.push(Organization {
            short_name: short_name.clone(),
            name: organization_ref.name.clone(),
            seats: *organization_ref.seats.get_ref(),
            contact: organization_ref
                .contact
                .as_ref()
                .map(|c| comparable_email(c.get_ref()).unwrap_or_else(|| c.get_ref().clone())),
            answerers: organization_ref
                .answerers
                .iter()
                .map(|answerer| answerer.get_ref().clone())
                .collect(),
        });
    }

    let mut people = Vec::new();
    // Compared form of an address -> (line, person, address as first written).
    let mut address_lines: HashMap<String, (usize, String, String)> = HashMap::new();
    let mut seated: HashMap<String, Vec<(String, usize)>> = HashMap::new();
    // Suggestions for missing ids avoid every id the file gives and every one suggested before,
    // so following all of them never makes a duplicate.
    let mut ids_not_to_suggest: HashSet<String> = raw
        .people
        .iter()
        .filter_map(|person| person.get_ref().id.as_ref())
        .map(|id| id.get_ref().clone())
        .collect();
    // Id -> (line, person) of the first person given it.
    let mut id_lines: HashMap<String, (usize, String)> = HashMap::new();
    for person in &raw.people {
        let person_ref = person.get_ref();
        let name = person_ref.name.get_ref();
        let id = checked_person_id(
            person_ref,
            source,
            &mut ids_not_to_suggest,
            &mut id_lines,
            &mut problems,
        );
        let mut roles = Vec::new();
        for role in &person_ref.roles {
            match Role::from_name(role.get_ref()) {
                Some(parsed) => roles.push(parsed),
                None => problems.push(source.problem_at(
                    role.span(),
                    format!(
                        "unknown role {:?}; roles are chair, co-chair, rapporteur, staff, member, participant, observer",
                        role.get_ref()
                    ),
                )),
            }
        }
        for matrix_id in &person_ref.matrix_ids {
            if !is_matrix_user_id(matrix_id.get_ref()) {
                problems.push(source.problem_at(
                    matrix_id.span(),
                    format!(
                        "{:?} is not a Matrix user ID such as @name:example.org",
                        matrix_id.get_ref()
                    ),
                ));
            }
        }
        for email in &person_ref.emails {
            if let Some(problem) = email_address_problem(email.get_ref()) {
                problems.push(
                    source.problem_at(email.span(), format!("{:?} {problem}", email.get_ref())),
                );
            }
        }
        // Matrix IDs compare exactly, email addresses by their domain without regard to case
        // (as `Group::identify` matches senders, through `comparable_email`); the key is the
        // compared form.
        let addresses = person_ref
            .matrix_ids
            .iter()
            .map(|id| (id.get_ref().clone(), id))
            .chain(person_ref.emails.iter().map(|e| {
                let written = e.get_ref();
                (
                    comparable_email(written).unwrap_or_else(|| written.clone()),
                    e,
                )
            }));
        for (key, written) in addresses {
            match address_lines.get(&key) {
                Some((line, owner, first)) => {
                    let written_text = written.get_ref();
                    let same = if first == written_text {
                        String::new()
                    } else {
                        format!(" (as {first}; email domains compare without regard to case)")
                    };
                    problems.push(source.problem_at(
                        written.span(),
                        format!(
                            "{written_text} is already given to {owner} at line {line}{same}; \
                             an address belongs to one person"
                        ),
                    ));
                }
                None => {
                    address_lines.insert(
                        key,
                        (
                            line_of(written.span()),
                            name.clone(),
                            written.get_ref().clone(),
                        ),
                    );
                }
            }
        }
        let organization = person_ref.organization.as_ref().map(|spanned| {
            let wanted = spanned.get_ref();
            match raw
                .organizations
                .iter()
                .find(|o| o.get_ref().short_name.get_ref().eq_ignore_ascii_case(wanted))
            {
                Some(found) => found.get_ref().short_name.get_ref().clone(),
                None => {
                    problems.push(source.problem_at(
                        spanned.span(),
                        format!("unknown organization {wanted:?}; it is not among the [[organizations]] of this file"),
                    ));
                    wanted.clone()
                }
            }
        });
        if roles.contains(&Role::Member) {
            match &organization {
                Some(organization) => seated
                    .entry(organization.to_ascii_lowercase())
                    .or_default()
                    .push((name.clone(), line_of(person_ref.name.span()))),
                None => problems.push(source.problem_at(
                    person_ref.name.span(),
                    format!(
                        "{name} is a member but has no organization; members are appointed by one"
                    ),
                )),
            }
        }
        people.push(Person {
            id,
            name: name.clone(),
            matrix_ids: person_ref
                .matrix_ids
                .iter()
                .map(|id| id.get_ref().clone())
                .collect(),
            // In the compared form: an internationalised domain in ASCII, which every SMTP
            // server takes (the bot sends to these addresses).
            emails: person_ref
                .emails
                .iter()
                .map(|e| comparable_email(e.get_ref()).unwrap_or_else(|| e.get_ref().clone()))
                .collect(),
            organization,
            roles,
        });
    }
    for organization in &raw.organizations {
        let organization_ref = organization.get_ref();
        let seats = *organization_ref.seats.get_ref();
        let key = organization_ref.short_name.get_ref().to_ascii_lowercase();
        if let Some(members) = seated.get(&key)
            && members.len() as u32 > seats
        {
            let listed: Vec<String> = members
                .iter()
                .map(|(name, line)| format!("{name} (line {line})"))
                .collect();
            problems.push(source.problem_at(
                organization_ref.seats.span(),
                format!(
                    "{} has {seats} seat(s) but {} members: {}",
                    organization_ref.short_name.get_ref(),
                    members.len(),
                    listed.join(", ")
                ),
            ));
        }
    }

    for organization in kept_organizations {
        check_answerers(organization, &raw.people, &people, source, &mut problems);
    }

    // In the order of the file (problems about the file as a whole first), not of the checks.
    problems.sort_by_key(|problem| (problem.line, problem.column));
    match (problems.is_empty(), time_zone) {
        (true, Some(time_zone)) => Ok(Group {
            id: id.to_string(),
            short_name: raw.group.short_name.get_ref().clone(),
            name: raw.group.name,
            time_zone,
            time_zone_name,
            meeting_cadence: raw.group.meeting_cadence,
            consensus_designations: raw
                .group
                .consensus_designations
                .map(|designations| designations.into_inner())
                .unwrap_or_default(),
            organizations,
            people,
            room: None,
            list_address: None,
            feedback,
            meetings,
            consensus,
            surveys,
            record_url: None,
            record,
        }),
        _ => Err(problems),
    }
}

/// The id of a person as the file gives it, with a problem recorded when it is missing, invalid
/// or already another person's. A missing id is replaced by the suggestion the problem makes, so
/// the checks that follow can still name the person.
fn checked_person_id(
    person: &RawPerson,
    source: &SourceText,
    ids_not_to_suggest: &mut HashSet<String>,
    id_lines: &mut HashMap<String, (usize, String)>,
    problems: &mut Vec<ConfigProblem>,
) -> String {
    let name = person.name.get_ref();
    let Some(spanned) = &person.id else {
        let suggestion = suggested_person_id(&[name.as_str()], ids_not_to_suggest);
        ids_not_to_suggest.insert(suggestion.clone());
        problems.push(source.problem_at(
            person.name.span(),
            format!(
                "{name} has no id; add id = \"{suggestion}\" (a stable name used in the group's record)"
            ),
        ));
        return suggestion;
    };
    let id = spanned.get_ref();
    if !is_valid_person_id(id) {
        // An id close to valid ("Ana.Lima") is best corrected as written; one with nothing
        // usable in it is replaced by one made from the name.
        let suggestion = suggested_person_id(&[id.as_str(), name.as_str()], ids_not_to_suggest);
        ids_not_to_suggest.insert(suggestion.clone());
        problems.push(source.problem_at(
            spanned.span(),
            format!(
                "id {id:?} is not valid: use 1 to {LONGEST_PERSON_ID} lower-case letters, \
                 digits, \".\", \"-\" or \"_\", such as \"{suggestion}\""
            ),
        ));
        return id.clone();
    }
    match id_lines.get(id) {
        Some((line, owner)) => problems.push(source.problem_at(
            spanned.span(),
            format!(
                "id \"{id}\" is already used by {owner} at line {line}; each person needs an id \
                 of their own"
            ),
        )),
        None => {
            let (line, _) = source.line_and_column(spanned.span().start);
            id_lines.insert(id.clone(), (line, name.clone()));
        }
    }
    id.clone()
}

/// Checks an organization's `answerers`: each must be the id of a person in this file who is an
/// appointed member of the organization, since only its members answer for it. `raw_people` and
/// `people` are the same people in the same order, as written and as loaded.
fn check_answerers(
    organization: &Spanned<RawOrganization>,
    raw_people: &[Spanned<RawPerson>],
    people: &[Person],
    source: &SourceText,
    problems: &mut Vec<ConfigProblem>,
) {
    let organization = organization.get_ref();
    let short_name = organization.short_name.get_ref();
    let mut named: HashSet<&str> = HashSet::new();
    for answerer in &organization.answerers {
        let wanted = answerer.get_ref();
        if !named.insert(wanted.as_str()) {
            problems.push(source.problem_at(
                answerer.span(),
                format!("answerer \"{wanted}\" is named twice in the answerers of {short_name}"),
            ));
            continue;
        }
        let Some(index) = people.iter().position(|person| &person.id == wanted) else {
            problems.push(source.problem_at(
                answerer.span(),
                format!(
                    "answerer {wanted:?} is not the id of a person in this file{}",
                    closest_id_hint(wanted, people)
                ),
            ));
            continue;
        };
        let person = &people[index];
        let of_this_organization = person
            .organization
            .as_deref()
            .is_some_and(|own| own.eq_ignore_ascii_case(short_name));
        if of_this_organization && person.has_role(Role::Member) {
            continue;
        }
        let (line, _) = source.line_and_column(raw_people[index].get_ref().name.span().start);
        let standing = match person.organization.as_deref() {
            None => "has no organization".to_string(),
            Some(_) if of_this_organization => format!(
                "is with {short_name} but not as a member (roles: {})",
                person.roles_text()
            ),
            Some(other) => format!("is with {other}"),
        };
        problems.push(source.problem_at(
            answerer.span(),
            format!(
                "answerer \"{wanted}\" is not a member of {short_name}: {} (line {line}) \
                 {standing}; only the organization's appointed members answer for it",
                person.name
            ),
        ));
    }
}

/// "; did you mean ..." for an answerer that names no one: the id of the person whose name it
/// is, or the id closest to it in spelling.
fn closest_id_hint(wanted: &str, people: &[Person]) -> String {
    if let Some(person) = people
        .iter()
        .find(|person| person.name.eq_ignore_ascii_case(wanted.trim()))
    {
        return format!(
            "; answerers name people by id, and {}'s id is \"{}\"",
            person.name, person.id
        );
    }
    people
        .iter()
        .map(|person| (strsim::levenshtein(wanted, &person.id), person))
        .filter(|(distance, _)| *distance <= 2)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, person)| format!("; did you mean \"{}\" ({})?", person.id, person.name))
        .unwrap_or_default()
}

/// The `[record]` section: the ICANN meetings whose progress reports the chairs are reminded
/// of, and how many days before each meeting the report is due.
fn record_policy(
    section: Option<&super::raw::RawRecordSection>,
    source: &super::position::SourceText,
    problems: &mut Vec<ConfigProblem>,
) -> crate::core::record::deadlines::RecordPolicy {
    use crate::core::record::deadlines::{IcannMeeting, RecordPolicy};
    let mut policy = RecordPolicy::default();
    let Some(section) = section else {
        return policy;
    };
    if let Some(days) = &section.progress_report_days_before {
        if (1..=90).contains(days.get_ref()) {
            policy.progress_report_days_before = *days.get_ref();
        } else {
            problems.push(source.problem_at(
                days.span(),
                format!(
                    "progress_report_days_before is {}; use 1 to 90 days",
                    days.get_ref()
                ),
            ));
        }
    }
    for meeting in &section.icann_meetings {
        let meeting = meeting.get_ref();
        match meeting.date.get_ref().parse::<jiff::civil::Date>() {
            Ok(date) => policy.icann_meetings.push(IcannMeeting {
                date,
                name: meeting.name.clone(),
            }),
            Err(_) => problems.push(source.problem_at(
                meeting.date.span(),
                format!(
                    "ICANN meeting date {:?} is not a date; write it as YYYY-MM-DD, such as \"2027-03-06\"",
                    meeting.date.get_ref()
                ),
            )),
        }
    }
    policy
}
