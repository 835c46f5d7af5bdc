//! How an audience is reached: the pure rule that turns "the members of GNSO and ALAC" into one
//! room message that mentions each of them and one mail per address. The group file is the only
//! source; adapters receive finished deliveries and decide nothing.

use crate::directory::{Group, Person};
use crate::effects::Audience;
use std::collections::BTreeSet;

/// One thing for an adapter to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// A message in the group's room that mentions exactly these user IDs (`m.mentions`).
    RoomMessage { mentions: Vec<String> },
    /// A mail to one address.
    Mail { to: String },
}

/// Why part of an audience cannot be reached, for the chair's summary of a reminder cycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unreachable {
    /// The organization has appointed nobody to its seats.
    VacantSeats { organization: String },
    /// Its members have no Matrix ID or address, and it has no contact address.
    NoAddress { organization: String },
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resolution {
    pub deliveries: Vec<Delivery>,
    pub unreachable: Vec<Unreachable>,
}

/// The deliveries for an audience. Mail goes to each person's first address (the one the group
/// file lists first is the one they read), each address once.
pub fn deliveries(group: &Group, audience: &Audience) -> Resolution {
    let mut resolution = Resolution::default();
    let mut mail = MailRecipients::default();
    match audience {
        Audience::Room => {
            if group.room.is_some() {
                resolution
                    .deliveries
                    .push(Delivery::RoomMessage { mentions: vec![] });
            }
        }
        Audience::List => {
            if let Some(list) = &group.list_address {
                mail.add(list);
            }
        }
        Audience::Organizations(names) => {
            organizations(group, names, true, true, &mut resolution, &mut mail);
        }
        Audience::OrganizationsInRoom(names) => {
            organizations(group, names, true, false, &mut resolution, &mut mail);
        }
        Audience::OrganizationByMail(name) => {
            organizations(
                group,
                std::slice::from_ref(name),
                false,
                true,
                &mut resolution,
                &mut mail,
            );
        }
        Audience::Person(id) => {
            if let Some(person) = group.person_by_id(id) {
                match (person.emails.first(), person.matrix_ids.first()) {
                    (Some(address), _) => mail.add(address),
                    (None, Some(user_id)) if group.room.is_some() => {
                        resolution.deliveries.push(Delivery::RoomMessage {
                            mentions: vec![user_id.clone()],
                        })
                    }
                    _ => {}
                }
            }
        }
        Audience::People(ids) => {
            let mut mentions = Vec::new();
            for person in ids.iter().filter_map(|id| group.person_by_id(id)) {
                mentions.extend(person.matrix_ids.first().cloned());
                if let Some(address) = person.emails.first() {
                    mail.add(address);
                }
            }
            if group.room.is_some() && !mentions.is_empty() {
                resolution
                    .deliveries
                    .push(Delivery::RoomMessage { mentions });
            }
        }
        Audience::Chairs => {
            let mut mentions = Vec::new();
            for chair in group.chairs() {
                match chair.emails.first() {
                    Some(address) => mail.add(address),
                    None => mentions.extend(chair.matrix_ids.first().cloned()),
                }
            }
            if group.room.is_some() && !mentions.is_empty() {
                resolution
                    .deliveries
                    .push(Delivery::RoomMessage { mentions });
            }
        }
    }
    resolution
        .deliveries
        .extend(mail.order.into_iter().map(|to| Delivery::Mail { to }));
    resolution
}

/// The members of organizations: mentioned in one room message (`in_room`) and written to at
/// their first addresses and the organizations' contacts (`by_mail`). Whether an organization
/// can be reached at all does not depend on which part is asked for.
fn organizations(
    group: &Group,
    names: &[String],
    in_room: bool,
    by_mail: bool,
    resolution: &mut Resolution,
    mail: &mut MailRecipients,
) {
    let mut mentions = Vec::new();
    for name in names {
        let Some(organization) = group.organization(name) else {
            continue;
        };
        let members: Vec<&Person> = group.members_of(&organization.short_name).collect();
        if members.is_empty() {
            resolution.unreachable.push(Unreachable::VacantSeats {
                organization: organization.short_name.clone(),
            });
        }
        let mut reachable = false;
        for member in &members {
            if let Some(user_id) = member.matrix_ids.first() {
                if in_room {
                    mentions.push(user_id.clone());
                }
                reachable = true;
            }
            if let Some(address) = member.emails.first() {
                if by_mail {
                    mail.add(address);
                }
                reachable = true;
            }
        }
        if let Some(contact) = &organization.contact {
            if by_mail {
                mail.add(contact);
            }
            reachable = true;
        }
        // A vacant organization without a contact is already listed as vacant.
        if !reachable && !members.is_empty() {
            resolution.unreachable.push(Unreachable::NoAddress {
                organization: organization.short_name.clone(),
            });
        }
    }
    if in_room && group.room.is_some() && !mentions.is_empty() {
        resolution
            .deliveries
            .push(Delivery::RoomMessage { mentions });
    }
}

/// Mail recipients in the order first met, each address once (compared without case).
#[derive(Default)]
struct MailRecipients {
    seen: BTreeSet<String>,
    order: Vec<String>,
}

impl MailRecipients {
    fn add(&mut self, address: &str) {
        if self.seen.insert(address.to_ascii_lowercase()) {
            self.order.push(address.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::test_support::small_group;

    fn names(list: &[&str]) -> Audience {
        Audience::Organizations(list.iter().map(|name| name.to_string()).collect())
    }

    #[test]
    fn audiences_resolve_to_mentions_and_one_mail_per_address() {
        let group = small_group();
        let cases: Vec<(Audience, Vec<Delivery>)> = vec![
            (
                Audience::Room,
                vec![Delivery::RoomMessage { mentions: vec![] }],
            ),
            (
                Audience::List,
                vec![Delivery::Mail {
                    to: "tg@lists.example.org".into(),
                }],
            ),
            (
                names(&["gnso", "ALAC"]),
                vec![
                    Delivery::RoomMessage {
                        mentions: vec!["@ana:example.org".into(), "@bea:example.org".into()],
                    },
                    Delivery::Mail {
                        to: "ana.lima@example.org".into(),
                    },
                    Delivery::Mail {
                        to: "gnso-secretariat@example.org".into(),
                    },
                    Delivery::Mail {
                        to: "bea@example.org".into(),
                    },
                ],
            ),
            (
                Audience::OrganizationsInRoom(vec!["GNSO".into(), "ALAC".into()]),
                vec![Delivery::RoomMessage {
                    mentions: vec!["@ana:example.org".into(), "@bea:example.org".into()],
                }],
            ),
            (
                Audience::OrganizationByMail("GNSO".into()),
                vec![
                    Delivery::Mail {
                        to: "ana.lima@example.org".into(),
                    },
                    Delivery::Mail {
                        to: "gnso-secretariat@example.org".into(),
                    },
                ],
            ),
            (
                Audience::Person("sam.staff".into()),
                vec![Delivery::RoomMessage {
                    mentions: vec!["@sam:example.org".into()],
                }],
            ),
            (
                Audience::Chairs,
                vec![Delivery::Mail {
                    to: "ana.lima@example.org".into(),
                }],
            ),
        ];
        for (audience, expected) in cases {
            assert_eq!(
                deliveries(&group, &audience).deliveries,
                expected,
                "{audience:?}"
            );
        }
    }

    #[test]
    fn vacant_and_unaddressable_organizations_are_reported() {
        let mut group = small_group();
        group.people.retain(|person| person.id != "bea.alac");
        let resolution = deliveries(&group, &names(&["ALAC"]));
        assert_eq!(
            resolution.unreachable,
            vec![Unreachable::VacantSeats {
                organization: "ALAC".into()
            }]
        );
        let mut group = small_group();
        for person in &mut group.people {
            if person.id == "bea.alac" {
                person.emails.clear();
                person.matrix_ids.clear();
            }
        }
        let resolution = deliveries(&group, &names(&["ALAC"]));
        assert_eq!(
            resolution.unreachable,
            vec![Unreachable::NoAddress {
                organization: "ALAC".into()
            }]
        );
        assert!(resolution.deliveries.is_empty());
    }

    #[test]
    fn nothing_goes_to_a_room_or_list_the_group_does_not_have() {
        let mut group = small_group();
        group.room = None;
        group.list_address = None;
        assert!(deliveries(&group, &Audience::Room).deliveries.is_empty());
        assert!(deliveries(&group, &Audience::List).deliveries.is_empty());
        let resolution = deliveries(&group, &names(&["GNSO"]));
        assert!(
            resolution
                .deliveries
                .iter()
                .all(|delivery| matches!(delivery, Delivery::Mail { .. }))
        );
    }
}
