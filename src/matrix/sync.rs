//! The sync loop. Each /sync response is turned into inbox records, committed in one transaction
//! with the response's `next_batch` token: a crash before the commit replays the same events
//! (the inbox ignores the ones it has), a crash after it has them all stored. When the homeserver
//! says the timeline was `limited` (events were left out after a downtime), the gap is paged back
//! with /messages down to the previous token before the new token is committed.

use super::inbound::{EventView, Verdict, classify};
use super::{MatrixError, RoomDirectory};
use crate::storage::{InboxItem, NewInboxItem, Store};
use matrix_sdk::Client;
use matrix_sdk::config::SyncSettings;
use matrix_sdk::deserialized_responses::{TimelineEvent, TimelineEventKind};
use matrix_sdk::room::MessagesOptions;
use matrix_sdk::ruma::api::client::filter::FilterDefinition;
use matrix_sdk::ruma::api::error::ErrorKind;
use matrix_sdk::ruma::events::AnySyncTimelineEvent;
use matrix_sdk::ruma::events::room::encrypted::OriginalSyncRoomEncryptedEvent;
use matrix_sdk::ruma::serde::Raw;
use matrix_sdk::ruma::{OwnedRoomId, RoomId, uint};
use matrix_sdk::sync::SyncResponse;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};

/// The adapter-state key of the sync token.
pub const SYNC_TOKEN_KEY: &str = "matrix.sync_token";

/// How long an event that could not be decrypted is retried (its room key may arrive later).
const UNDECRYPTED_RETRY_WINDOW: Duration = Duration::from_secs(600);

struct Undecrypted {
    room_id: OwnedRoomId,
    group_id: String,
    raw: Raw<AnySyncTimelineEvent>,
    first_seen: Instant,
}

pub struct SyncLoop {
    client: Client,
    store: Store,
    rooms: RoomDirectory,
    inbox_ready: mpsc::UnboundedSender<InboxItem>,
    own_user_id: String,
    first_joined: HashMap<OwnedRoomId, i64>,
    configured_rooms_joined: bool,
    /// When joining the configured rooms was last tried; a room that refuses the bot (no
    /// invite yet) is tried again once a minute, not on every sync.
    last_join_attempt: Option<Instant>,
    first_sync_done: bool,
    undecrypted: Vec<Undecrypted>,
    latency: crate::latency::LatencyProbe,
}

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

fn text(value: Option<&serde_json::Value>) -> Option<&str> {
    value.and_then(|value| value.as_str())
}

fn event_json(raw: &Raw<AnySyncTimelineEvent>) -> Option<serde_json::Value> {
    serde_json::from_str(raw.json().get()).ok()
}

impl SyncLoop {
    pub fn new(
        client: Client,
        store: Store,
        rooms: RoomDirectory,
        inbox_ready: mpsc::UnboundedSender<InboxItem>,
        latency: crate::latency::LatencyProbe,
    ) -> SyncLoop {
        let own_user_id = client
            .user_id()
            .map(|id| id.to_string())
            .unwrap_or_default();
        SyncLoop {
            client,
            store,
            rooms,
            inbox_ready,
            own_user_id,
            first_joined: HashMap::new(),
            configured_rooms_joined: false,
            last_join_attempt: None,
            first_sync_done: false,
            undecrypted: Vec::new(),
            latency,
        }
    }

    /// Syncs until `shutdown` turns true. Outages are waited out with backoff; only a refused
    /// login ends the loop with an error.
    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) -> Result<(), MatrixError> {
        let mut delay = Duration::from_secs(1);
        let mut filter = FilterDefinition::default();
        // A long timeline per sync makes `limited` (and paging back) rare.
        filter.room.timeline.limit = Some(uint!(100));
        loop {
            if *shutdown.borrow() {
                return Ok(());
            }
            let since = match self.store.adapter_state(SYNC_TOKEN_KEY).await {
                Ok(since) => since,
                Err(error) => {
                    tracing::warn!(%error, "cannot read the sync token; retrying");
                    self.pause(&mut delay, &mut shutdown).await;
                    continue;
                }
            };
            let mut settings = SyncSettings::default()
                // The first sync returns at once so the rooms can be joined; later ones wait for
                // news (long polling) for up to 30 seconds.
                .timeout(Duration::from_secs(if self.first_sync_done {
                    30
                } else {
                    0
                }))
                .filter(filter.clone().into());
            if let Some(token) = &since {
                settings = settings.token(token.clone());
            }
            let result = tokio::select! {
                result = self.client.sync_once(settings) => result,
                _ = shutdown.changed() => return Ok(()),
            };
            match result {
                Ok(response) => {
                    if let Err(error) = self.process(response, since.as_deref()).await {
                        tracing::warn!(%error, "cannot store the synced events; the sync will be repeated");
                        self.pause(&mut delay, &mut shutdown).await;
                        continue;
                    }
                    delay = Duration::from_secs(1);
                    self.first_sync_done = true;
                    let join_due = self
                        .last_join_attempt
                        .is_none_or(|at| at.elapsed() >= Duration::from_secs(60));
                    if !self.configured_rooms_joined && join_due {
                        self.last_join_attempt = Some(Instant::now());
                        self.join_configured_rooms().await;
                    }
                }
                Err(error) => {
                    if let Some(ErrorKind::UnknownToken(_)) = error.client_api_error_kind() {
                        return Err(MatrixError::Login(
                            "the homeserver no longer accepts the bot's access token".into(),
                        ));
                    }
                    tracing::warn!(%error, retry_in = ?delay, "Matrix sync failed; retrying");
                    self.pause(&mut delay, &mut shutdown).await;
                }
            }
        }
    }

    async fn pause(&self, delay: &mut Duration, shutdown: &mut watch::Receiver<bool>) {
        tokio::select! {
            _ = tokio::time::sleep(*delay) => {}
            _ = shutdown.changed() => {}
        }
        *delay = (*delay * 2).min(Duration::from_secs(60));
    }

    async fn first_joined_ms(
        &mut self,
        room_id: &RoomId,
        group_id: &str,
    ) -> Result<i64, MatrixError> {
        if let Some(known) = self.first_joined.get(room_id) {
            return Ok(*known);
        }
        let first = self
            .store
            .first_joined(room_id.as_str(), group_id, now_ms())
            .await?;
        self.first_joined.insert(room_id.to_owned(), first);
        Ok(first)
    }

    /// Joins the configured rooms the bot is not in yet (accepting a pending invite, or joining
    /// a public room). The time is recorded first, so that the room's history is not taken for
    /// commands.
    async fn join_configured_rooms(&mut self) {
        let mut all_joined = true;
        let configured: Vec<(OwnedRoomId, String)> = self
            .rooms
            .rooms()
            .map(|(room, group)| (room.clone(), group.clone()))
            .collect();
        for (room_id, group_id) in configured {
            let joined = self
                .client
                .get_room(&room_id)
                .is_some_and(|room| room.state() == matrix_sdk::RoomState::Joined);
            if joined {
                continue;
            }
            if let Err(error) = self.first_joined_ms(&room_id, &group_id).await {
                tracing::warn!(%error, "cannot record the join time");
                all_joined = false;
                continue;
            }
            match self.client.join_room_by_id(&room_id).await {
                Ok(_) => {
                    tracing::info!(room = %room_id, group = %group_id, "joined the group's room")
                }
                Err(error) => {
                    all_joined = false;
                    tracing::warn!(room = %room_id, group = %group_id, %error,
                        "cannot join the group's room yet; invite the bot, it will accept");
                }
            }
        }
        self.configured_rooms_joined = all_joined;
    }

    async fn process(
        &mut self,
        response: SyncResponse,
        since: Option<&str>,
    ) -> Result<(), MatrixError> {
        for room_id in response.rooms.invited.keys() {
            self.answer_invite(room_id).await?;
        }
        let mut items = Vec::new();
        for (room_id, update) in &response.rooms.joined {
            let Some(group_id) = self.rooms.group_of(room_id).map(str::to_string) else {
                continue;
            };
            let first_joined = self.first_joined_ms(room_id, &group_id).await?;
            let mut events: Vec<TimelineEvent> = Vec::new();
            if update.timeline.limited
                && let (Some(since), Some(prev_batch)) = (since, &update.timeline.prev_batch)
            {
                events.extend(
                    self.page_back(room_id, prev_batch, since, first_joined)
                        .await?,
                );
            }
            events.extend(update.timeline.events.iter().cloned());
            for event in &events {
                if let Some(item) = self.inbox_item(room_id, &group_id, event, first_joined) {
                    items.push(item);
                }
            }
        }
        items.extend(self.retry_undecrypted().await);
        for item in &items {
            self.latency.observe_received(&item.external_id);
        }
        let new_items = self
            .store
            .record_inbound(
                &items,
                Some((SYNC_TOKEN_KEY, &response.next_batch)),
                now_ms(),
            )
            .await?;
        // Handed over in memory for speed; the handler's periodic look at the inbox is the
        // durable path, so nothing depends on this send succeeding.
        for item in new_items {
            let _ = self.inbox_ready.send(item);
        }
        Ok(())
    }

    async fn answer_invite(&mut self, room_id: &RoomId) -> Result<(), MatrixError> {
        let Some(room) = self.client.get_room(room_id) else {
            return Ok(());
        };
        match self.rooms.group_of(room_id).map(str::to_string) {
            Some(group_id) => {
                self.first_joined_ms(room_id, &group_id).await?;
                match room.join().await {
                    Ok(()) => {
                        tracing::info!(room = %room_id, group = %group_id, "accepted the invite to the group's room")
                    }
                    Err(error) => {
                        tracing::warn!(room = %room_id, %error, "cannot accept the invite yet")
                    }
                }
            }
            None => {
                // Only the configured rooms are served; anything else is declined so that the
                // bot never acts, or appears to act, in a room whose group it does not know.
                if let Err(error) = room.leave().await {
                    tracing::warn!(room = %room_id, %error, "cannot decline the invite");
                } else {
                    tracing::info!(room = %room_id, "declined an invite to a room that is not configured");
                }
            }
        }
        Ok(())
    }

    /// The events the homeserver left out of a limited timeline, oldest first.
    async fn page_back(
        &self,
        room_id: &RoomId,
        prev_batch: &str,
        since: &str,
        first_joined: i64,
    ) -> Result<Vec<TimelineEvent>, MatrixError> {
        let Some(room) = self.client.get_room(room_id) else {
            return Ok(Vec::new());
        };
        let mut collected = Vec::new();
        let mut from = prev_batch.to_string();
        // Bounded so that a room with a huge gap cannot stall the bot: 100 pages of 100 events.
        'pages: for _ in 0..100 {
            let mut options = MessagesOptions::backward().from(from.as_str());
            options.limit = uint!(100);
            options.to = Some(since.to_string());
            let page = match room.messages(options).await {
                Ok(page) => page,
                Err(error) => {
                    // Returning an error keeps the old token, so the whole sync is repeated.
                    return Err(MatrixError::Room {
                        room: room_id.to_string(),
                        reason: format!("cannot page back over a gap: {error}"),
                    });
                }
            };
            for event in page.chunk {
                let timestamp = event_json(event.raw())
                    .and_then(|json| json.get("origin_server_ts").and_then(|ts| ts.as_i64()))
                    .unwrap_or(i64::MAX);
                let known = match event.event_id() {
                    Some(id) => self.store.inbox_contains("matrix", id.as_str()).await?,
                    None => false,
                };
                if known || timestamp < first_joined {
                    break 'pages;
                }
                collected.push(event);
            }
            match page.end {
                Some(end) => from = end,
                None => break,
            }
        }
        tracing::info!(room = %room_id, events = collected.len(), "paged back over a gap in the timeline");
        collected.reverse();
        Ok(collected)
    }

    fn inbox_item(
        &mut self,
        room_id: &RoomId,
        group_id: &str,
        event: &TimelineEvent,
        first_joined: i64,
    ) -> Option<NewInboxItem> {
        if let TimelineEventKind::UnableToDecrypt { event: raw, .. } = &event.kind {
            tracing::warn!(room = %room_id, event = ?event.event_id(), "cannot decrypt an event yet; will retry");
            self.undecrypted.push(Undecrypted {
                room_id: room_id.to_owned(),
                group_id: group_id.to_string(),
                raw: raw.clone(),
                first_seen: Instant::now(),
            });
            return None;
        }
        self.item_from_raw(room_id, group_id, event.raw(), first_joined)
    }

    fn item_from_raw(
        &self,
        room_id: &RoomId,
        group_id: &str,
        raw: &Raw<AnySyncTimelineEvent>,
        first_joined: i64,
    ) -> Option<NewInboxItem> {
        let json = event_json(raw)?;
        let content = json.get("content");
        let view = EventView {
            event_type: text(json.get("type"))?,
            sender: text(json.get("sender"))?,
            msgtype: text(content.and_then(|c| c.get("msgtype"))),
            body: text(content.and_then(|c| c.get("body"))),
            relation_type: text(
                content
                    .and_then(|c| c.get("m.relates_to"))
                    .and_then(|r| r.get("rel_type")),
            ),
            origin_server_ts: json.get("origin_server_ts").and_then(|ts| ts.as_i64())?,
        };
        match classify(&view, &self.own_user_id, first_joined) {
            Verdict::Record => Some(NewInboxItem {
                channel: "matrix".into(),
                external_id: text(json.get("event_id"))?.to_string(),
                group_id: group_id.to_string(),
                conversation: room_id.to_string(),
                sender: view.sender.to_string(),
                body: view.body?.to_string(),
                origin_ms: view.origin_server_ts,
            }),
            Verdict::Skip(reason) => {
                tracing::trace!(room = %room_id, reason, "event skipped");
                None
            }
        }
    }

    /// Tries again to decrypt events whose room key had not arrived; gives up after a while.
    async fn retry_undecrypted(&mut self) -> Vec<NewInboxItem> {
        let pending = std::mem::take(&mut self.undecrypted);
        let mut items = Vec::new();
        for entry in pending {
            let Some(room) = self.client.get_room(&entry.room_id) else {
                continue;
            };
            let encrypted: &Raw<OriginalSyncRoomEncryptedEvent> = entry.raw.cast_ref_unchecked();
            let decrypted = room.decrypt_event(encrypted, None).await;
            match decrypted {
                Ok(event) if !event.kind.is_utd() => {
                    let first_joined = self.first_joined.get(&entry.room_id).copied().unwrap_or(0);
                    if let Some(item) = self.item_from_raw(
                        &entry.room_id,
                        &entry.group_id,
                        event.raw(),
                        first_joined,
                    ) {
                        items.push(item);
                    }
                }
                _ if entry.first_seen.elapsed() < UNDECRYPTED_RETRY_WINDOW => {
                    self.undecrypted.push(entry)
                }
                _ => {
                    tracing::error!(room = %entry.room_id, "gave up decrypting an event: its room key never arrived")
                }
            }
        }
        items
    }
}
