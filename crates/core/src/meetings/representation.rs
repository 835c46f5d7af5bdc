//! Which organizations a meeting heard from: per organization the appointed members who
//! attended (and how), the members who sent apologies, or nobody; everyone else who attended
//! (participants, observers, staff, people of no organization) listed apart and never counted
//! for an organization; and the quorum where the group file sets one.

use super::model::{AttendanceMode, Meeting, Regrets};
use crate::directory::Group;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganizationRow {
    pub short_name: String,
    /// Appointed members who attended, by person ID, with how they attended.
    pub present: Vec<(String, Option<AttendanceMode>)>,
    /// Appointed members who sent apologies and did not attend.
    pub regrets: Vec<(String, Regrets)>,
}

impl OrganizationRow {
    pub fn is_represented(&self) -> bool {
        !self.present.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Representation {
    pub organizations: Vec<OrganizationRow>,
    /// Everyone else who attended: participants, observers, staff, people of no organization.
    pub others: Vec<(String, Option<AttendanceMode>)>,
    /// Apologies from people who hold no seat.
    pub other_regrets: Vec<(String, Regrets)>,
    pub quorum: Option<u32>,
}

impl Representation {
    pub fn represented(&self) -> usize {
        self.organizations
            .iter()
            .filter(|row| row.is_represented())
            .count()
    }

    pub fn quorum_reached(&self) -> Option<bool> {
        self.quorum
            .map(|quorum| self.represented() >= quorum as usize)
    }
}

pub fn representation(group: &Group, meeting: &Meeting) -> Representation {
    let mut rows: Vec<OrganizationRow> = group
        .organizations
        .iter()
        .map(|organization| OrganizationRow {
            short_name: organization.short_name.clone(),
            present: Vec::new(),
            regrets: Vec::new(),
        })
        .collect();
    let mut others = Vec::new();
    let mut other_regrets = Vec::new();
    let row_of = |rows: &mut Vec<OrganizationRow>, person_id: &str| -> Option<usize> {
        let person = group.person_by_id(person_id)?;
        if !person.occupies_seat() {
            return None;
        }
        let organization = person.organization.as_deref()?;
        rows.iter()
            .position(|row| row.short_name.eq_ignore_ascii_case(organization))
    };
    for (person, attendance) in &meeting.attendance {
        match row_of(&mut rows, person) {
            Some(index) => rows[index].present.push((person.clone(), attendance.mode)),
            None => others.push((person.clone(), attendance.mode)),
        }
    }
    for (person, regrets) in &meeting.regrets {
        if meeting.attendance.contains_key(person) {
            continue;
        }
        match row_of(&mut rows, person) {
            Some(index) => rows[index].regrets.push((person.clone(), regrets.clone())),
            None => other_regrets.push((person.clone(), regrets.clone())),
        }
    }
    Representation {
        organizations: rows,
        others,
        other_regrets,
        quorum: group.meetings.quorum_organizations,
    }
}
