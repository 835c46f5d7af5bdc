//! Every tally groups the answers by appointing organization: the members who hold its seats,
//! what each answered, and the organization's position where its members agree. Participants,
//! observers and anyone else without a seat are listed apart and never counted for an
//! organization. The same rule serves calls for consensus (answers are stances) and polls
//! (answers are options).

use crate::directory::{Group, Person};
use std::collections::BTreeMap;

/// Where an organization stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrganizationPosition<K> {
    /// Every member who answered gave this answer.
    Agreed(K),
    /// Its members answered differently.
    Divided,
    /// None of its members answered.
    Silent,
}

#[derive(Debug, Clone)]
pub struct OrganizationTally<'a, K> {
    pub short_name: &'a str,
    /// The seat holders who answered, in group-file order, with their answers.
    pub answers: Vec<(&'a Person, K)>,
    pub position: OrganizationPosition<K>,
}

#[derive(Debug, Clone)]
pub struct Tally<'a, K> {
    pub organizations: Vec<OrganizationTally<'a, K>>,
    /// People without a seat who answered (participants, observers, staff), in group-file order.
    pub others: Vec<(&'a Person, K)>,
    /// How many seat holders gave each answer.
    pub counted: BTreeMap<K, usize>,
}

impl<K> Tally<'_, K> {
    pub fn silent_organizations(&self) -> Vec<&str> {
        self.organizations
            .iter()
            .filter(|organization| matches!(organization.position, OrganizationPosition::Silent))
            .map(|organization| organization.short_name)
            .collect()
    }

    pub fn seat_holders_who_answered(&self) -> usize {
        self.organizations
            .iter()
            .map(|organization| organization.answers.len())
            .sum()
    }
}

/// The tally of `answer_of(person ID)` over the group's people.
pub fn tally<'a, K: Ord + Copy>(
    group: &'a Group,
    answer_of: impl Fn(&str) -> Option<K>,
) -> Tally<'a, K> {
    let mut counted = BTreeMap::new();
    let organizations = group
        .organizations
        .iter()
        .map(|organization| {
            let answers: Vec<(&Person, K)> = group
                .people_of(&organization.short_name)
                .filter(|person| person.occupies_seat())
                .filter_map(|person| answer_of(&person.id).map(|answer| (person, answer)))
                .collect();
            for (_, answer) in &answers {
                *counted.entry(*answer).or_insert(0) += 1;
            }
            let position = match answers.split_first() {
                None => OrganizationPosition::Silent,
                Some(((_, first), rest)) if rest.iter().all(|(_, other)| other == first) => {
                    OrganizationPosition::Agreed(*first)
                }
                Some(_) => OrganizationPosition::Divided,
            };
            OrganizationTally {
                short_name: organization.short_name.as_str(),
                answers,
                position,
            }
        })
        .collect();
    let others = group
        .people
        .iter()
        .filter(|person| !person.occupies_seat())
        .filter_map(|person| answer_of(&person.id).map(|answer| (person, answer)))
        .collect();
    Tally {
        organizations,
        others,
        counted,
    }
}

/// The appointed members who have not answered: the people a reminder goes to. Participants
/// and observers may answer, but nobody owes the group their view.
pub fn members_not_answered(group: &Group, answered: impl Fn(&str) -> bool) -> Vec<&Person> {
    group
        .people
        .iter()
        .filter(|person| person.occupies_seat() && !answered(&person.id))
        .collect()
}
