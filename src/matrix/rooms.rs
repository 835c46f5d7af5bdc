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
