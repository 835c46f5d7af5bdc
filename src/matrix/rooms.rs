//! The configured rooms: aliases resolved to room IDs, each mapped to its group.

use super::MatrixError;
use crate::config::GroupSettings;
use matrix_sdk::Client;
use matrix_sdk::ruma::{OwnedRoomId, RoomAliasId, RoomId};
use std::collections::HashMap;
use std::time::Duration;

/// Which group each configured room belongs to.
#[derive(Debug, Clone, Default)]
pub struct RoomDirectory {
    group_by_room: HashMap<OwnedRoomId, String>,
    /// The name the configuration gives each room, where it is an alias: the outbox addresses
    /// rooms by that name (see `channels::configured_rooms`).
    alias_by_room: HashMap<OwnedRoomId, String>,
    /// The group whose record a person's direct messages to the bot belong to, by Matrix user
    /// ID: the first configured group that lists the person (a person in several groups talks
    /// to the bot about the others in their rooms or by mail).
    group_by_person: HashMap<String, String>,
}

impl RoomDirectory {
    pub fn group_of(&self, room_id: &RoomId) -> Option<&str> {
        self.group_by_room.get(room_id).map(String::as_str)
    }

    pub fn rooms(&self) -> impl Iterator<Item = (&OwnedRoomId, &String)> {
        self.group_by_room.iter()
    }

    pub fn insert(&mut self, room_id: OwnedRoomId, group_id: String) {
        self.group_by_room.insert(room_id, group_id);
    }

    /// The group of a person who may open a direct conversation with the bot: someone a group
    /// file lists by this Matrix ID.
    pub fn group_of_person(&self, user_id: &str) -> Option<&str> {
        self.group_by_person.get(user_id).map(String::as_str)
    }

    /// Makes `user_id` known as a person of `group_id`, unless an earlier group lists them.
    pub fn insert_person(&mut self, user_id: String, group_id: String) {
        self.group_by_person.entry(user_id).or_insert(group_id);
    }

    /// Whether an outbox destination names this room: its ID, or the alias it was configured by.
    pub fn names_room(&self, destination: &str, room_id: &RoomId) -> bool {
        destination == room_id.as_str()
            || self
                .alias_by_room
                .get(room_id)
                .is_some_and(|alias| alias == destination)
    }
}

/// Resolves every configured room to its ID, retrying while the homeserver is unreachable.
pub async fn resolve_rooms(
    client: &Client,
    groups: &[GroupSettings],
) -> Result<RoomDirectory, MatrixError> {
    let mut directory = RoomDirectory::default();
    for group in groups {
        for person in &group.group.people {
            for user_id in &person.matrix_ids {
                directory.insert_person(user_id.clone(), group.id.clone());
            }
        }
        // A group served by its mailing list alone has no room.
        let Some(room) = &group.room else {
            continue;
        };
        let room_id = if room.starts_with('#') {
            let alias = <&RoomAliasId>::try_from(room.as_str()).map_err(|e| MatrixError::Room {
                room: room.clone(),
                reason: e.to_string(),
            })?;
            let mut delay = Duration::from_secs(1);
            loop {
                match client.resolve_room_alias(alias).await {
                    Ok(response) => break response.room_id,
                    Err(error)
                        if error
                            .as_client_api_error()
                            .is_some_and(|e| e.status_code.as_u16() == 404) =>
                    {
                        return Err(MatrixError::Room {
                            room: room.clone(),
                            reason: "no such alias on the homeserver".into(),
                        });
                    }
                    Err(error) => {
                        tracing::warn!(room = %room, %error, "cannot resolve room alias yet; retrying");
                        tokio::time::sleep(delay).await;
                        delay = (delay * 2).min(Duration::from_secs(60));
                    }
                }
            }
        } else {
            <&RoomId>::try_from(room.as_str())
                .map_err(|e| MatrixError::Room {
                    room: room.clone(),
                    reason: e.to_string(),
                })?
                .to_owned()
        };
        if room.starts_with('#') {
            directory
                .alias_by_room
                .insert(room_id.clone(), room.clone());
        }
        directory.insert(room_id, group.id.clone());
    }
    Ok(directory)
}
