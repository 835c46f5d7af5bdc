//! The sync loop. Each /sync response is turned into inbox records, committed in one transaction
//! with the response's `next_batch` token: a crash before the commit replays the same events
//! (the inbox ignores the ones it has), a crash after it has them all stored. When the homeserver
//! says the timeline was `limited` (events were left out after a downtime), the gap is paged back
//! with /messages down to the previous token before the new token is committed.
//!
//! Encrypted events: a decrypted event counts only when `trust::judge_encrypted_sender` accepts
//! its sender (the owner of the key must be the event's sender, and so on; see `trust.rs`); a
//! refused one is logged, and a refused command is answered with the reason and what to do. An
//! event that cannot be decrypted yet is held in the `matrix_undecryptable` table, committed
//! with the sync token that moves past it; after every sync (keys arrive with syncs, and the
//! first sync after a restart brings those sent while the bot was down) the held events are
//! decrypted again, and one whose key has not come within `undecryptable_wait` is answered once
//! in the room and forgotten.

use super::inbound::{EventView, Verdict, addresses_the_bot, classify};
use super::trust::{EncryptedSenderView, KeyLink, Refusal, SenderTrust, judge_encrypted_sender};
use super::{MatrixError, ReplyPayload, RoomDirectory};
use crate::storage::{
    InboxItem, MatrixSyncCommit, NewInboxItem, NewOutboxItem, NewUndecryptable, Store, outbox_key,
};
use matrix_sdk::Client;
use matrix_sdk::config::SyncSettings;
use matrix_sdk::deserialized_responses::{
    EncryptionInfo, SyncOrStrippedState, TimelineEvent, TimelineEventKind,
};
use matrix_sdk::room::MessagesOptions;
use matrix_sdk::ruma::api::client::filter::{
    Filter, FilterDefinition, LazyLoadOptions, RoomEventFilter,
};
use matrix_sdk::ruma::api::client::sync::sync_events::v3::Filter as SyncFilter;
use matrix_sdk::ruma::api::error::ErrorKind;
use matrix_sdk::ruma::events::AnySyncTimelineEvent;
use matrix_sdk::ruma::events::room::encrypted::OriginalSyncRoomEncryptedEvent;
use matrix_sdk::ruma::serde::Raw;
use matrix_sdk::ruma::{OwnedRoomId, OwnedUserId, RoomId, UserId, uint};
use matrix_sdk::sync::SyncResponse;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};

/// The adapter-state key of the sync token.
pub const SYNC_TOKEN_KEY: &str = "matrix.sync_token";

/// The name the sync filter is kept under in the SDK's store; a new name for each change of the
/// filter, so that an uploaded older one is not reused.
const SYNC_FILTER_NAME: &str = "rapporteur-sync-v2";

/// How many held undecryptable events are tried again per sync, oldest first.
const UNDECRYPTABLE_RETRIES_PER_SYNC: i64 = 500;

/// What one sync pass stores: inbox records, then (in one transaction with the sync token) the
/// events held for their keys, the notices owed to rooms and the held events now settled.
#[derive(Default)]
struct Pass {
    items: Vec<NewInboxItem>,
    hold: Vec<NewUndecryptable>,
    notices: Vec<NewOutboxItem>,
    settled: Vec<String>,
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
    latency: crate::latency::LatencyProbe,
    /// A refused encrypted message is answered when it starts with this (it was meant for the
    /// bot); other refused messages are only logged, so that chat stays quiet.
    command_prefix: String,
    undecryptable_wait: Duration,
    /// The sync token as last committed, so that a pass does not read back what the previous
    /// one wrote; `None` until it is read from the database (at start, and again after a pass
    /// failed to commit).
    since: Option<Option<String>>,
    /// Whether held undecryptable events may exist: the table is looked at after every sync
    /// only while it may hold something, not on every command.
    may_hold_events: bool,
    /// The direct-message rooms with known people, by room, with their group; read from the
    /// database at the first pass (`None` until then).
    direct_rooms: Option<HashMap<OwnedRoomId, String>>,
}

/// How far before the bot's join a direct-message room's messages are still read: a client
/// creates the room, invites the bot and lets its user type at once, so the first message often
/// comes before the bot has seen the invite.
const DIRECT_ROOM_EARLY_MESSAGES_MS: i64 = 10 * 60 * 1000;

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
            latency,
            command_prefix: "!".to_string(),
            undecryptable_wait: Duration::from_secs(30 * 60),
            since: None,
            may_hold_events: true,
            direct_rooms: None,
        }
    }

    /// The configured command prefix (`[bot] command_prefix`).
    pub fn with_command_prefix(mut self, prefix: &str) -> SyncLoop {
        self.command_prefix = prefix.to_string();
        self
    }

    /// How long an undecryptable event is held (`[matrix] undecryptable_wait_minutes`).
    pub fn with_undecryptable_wait(mut self, wait: Duration) -> SyncLoop {
        self.undecryptable_wait = wait;
        self
    }

    /// Syncs until `shutdown` turns true. Outages are waited out with backoff; only a refused
    /// login ends the loop with an error.
    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) -> Result<(), MatrixError> {
        let mut delay = Duration::from_secs(1);
        let filter = self.sync_filter().await;
        loop {
            if *shutdown.borrow() {
                return Ok(());
            }
            let since = match &self.since {
                Some(since) => since.clone(),
                None => match self.store.adapter_state(SYNC_TOKEN_KEY).await {
                    Ok(since) => {
                        self.since = Some(since.clone());
                        since
                    }
                    Err(error) => {
                        tracing::warn!(%error, "cannot read the sync token; retrying");
                        self.pause(&mut delay, &mut shutdown).await;
                        continue;
                    }
                },
            };
            let mut settings = SyncSettings::default()
                // The first sync returns at once so the rooms can be joined; later ones wait for
                // news (long polling) for up to 30 seconds.
                .timeout(Duration::from_secs(if self.first_sync_done {
                    30
                } else {
                    0
                }))
                .filter(filter.clone())
                // The SDK's state store lives in memory (see `session.rs`): the first sync of
                // each run asks for the full state of every joined room, so the SDK knows the
                // rooms, their encryption and their members again before anything is sent.
                .full_state(!self.first_sync_done);
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
                        // What the failed pass did not commit is read again from the database.
                        self.since = None;
                        self.may_hold_events = true;
                        self.pause(&mut delay, &mut shutdown).await;
                        continue;
                    }
                    delay = Duration::from_secs(1);
                    self.first_sync_done = true;
                    crate::observe::health::succeeded("matrix");
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
                    crate::observe::health::failed("matrix", &error.to_string());
                    tracing::warn!(%error, retry_in = ?delay, "Matrix sync failed; retrying");
                    self.pause(&mut delay, &mut shutdown).await;
                }
            }
        }
    }

    /// What the bot asks the homeserver to leave out of every sync, since each event that comes
    /// costs the SDK store writes and the bot a wake-up: its own messages (without this, every
    /// reply came back in a sync of its own and was decrypted for nothing), presence, typing
    /// and receipts, account data, and members other than the senders of the events in the
    /// timeline (lazy loading; the SDK fetches the full list before it first encrypts in a
    /// room). The filter is uploaded once and named by its ID; if that fails, it is sent whole.
    async fn sync_filter(&self) -> SyncFilter {
        let mut filter = FilterDefinition::default();
        // A long timeline per sync makes `limited` (and paging back) rare.
        filter.room.timeline.limit = Some(uint!(100));
        if let Ok(own) = OwnedUserId::try_from(self.own_user_id.as_str()) {
            filter.room.timeline.not_senders = vec![own];
        }
        filter.room.state.lazy_load_options = LazyLoadOptions::Enabled {
            include_redundant_members: false,
        };
        filter.room.ephemeral = RoomEventFilter::ignore_all();
        filter.room.account_data = RoomEventFilter::ignore_all();
        filter.presence = Filter::ignore_all();
        filter.account_data = Filter::ignore_all();
        match self
            .client
            .get_or_upload_filter(SYNC_FILTER_NAME, filter.clone())
            .await
        {
            Ok(filter_id) => SyncFilter::FilterId(filter_id),
            Err(error) => {
                tracing::warn!(%error, "cannot upload the sync filter; sending it with every sync");
                filter.into()
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
        let mut pass = Pass::default();
        if self.direct_rooms.is_none() {
            let known = self.store.direct_rooms().await?;
            self.direct_rooms = Some(
                known
                    .into_iter()
                    .filter_map(|(room, group, _)| Some((OwnedRoomId::try_from(room).ok()?, group)))
                    .collect(),
            );
        }
        for room_id in response.rooms.invited.keys() {
            self.answer_invite(room_id, &mut pass).await?;
        }
        for (room_id, update) in &response.rooms.joined {
            let Some(group_id) = self.group_of_room(room_id).map(str::to_string) else {
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
                self.take_event(room_id, &group_id, event, first_joined, &mut pass)
                    .await;
            }
        }
        self.retry_undecryptable(&mut pass).await?;
        self.leave_abandoned_direct_rooms(response.rooms.joined.keys())
            .await;
        for item in &pass.items {
            self.latency.observe_received(&item.external_id);
        }
        // One transaction: the records, what is held, the notices and the token that moves past
        // them commit together, so a crash repeats the whole pass or none of it.
        let (new_items, _) = self
            .store
            .record_matrix_sync(
                &pass.items,
                &MatrixSyncCommit {
                    hold: &pass.hold,
                    notices: &pass.notices,
                    settled: &pass.settled,
                    position: Some((SYNC_TOKEN_KEY, &response.next_batch)),
                },
                now_ms(),
            )
            .await?;
        self.since = Some(Some(response.next_batch.clone()));
        if !pass.hold.is_empty() {
            self.may_hold_events = true;
        }
        // Handed over in memory for speed; the handler's periodic look at the inbox is the
        // durable path, so nothing depends on this send succeeding. Notices are found by the
        // dispatcher's periodic look at the outbox.
        for item in new_items {
            crate::observe::metrics::metrics().input_received("matrix");
            let _ = self.inbox_ready.send(item);
        }
        Ok(())
    }

    /// The group whose record a joined room's messages belong to: a configured room's, or for
    /// a direct-message room, the group of the person it is with.
    fn group_of_room(&self, room_id: &RoomId) -> Option<&str> {
        self.rooms.group_of(room_id).or_else(|| {
            self.direct_rooms
                .as_ref()
                .and_then(|rooms| rooms.get(room_id))
                .map(String::as_str)
        })
    }

    /// Where replies to a message of this room go, and whether it is private: a direct-message
    /// room counts as private only while the bot and the person are its only members (joined
    /// or invited), since a survey answer given there must not be seen by anyone else.
    fn conversation_of(&self, room_id: &RoomId) -> String {
        let direct = self
            .direct_rooms
            .as_ref()
            .is_some_and(|rooms| rooms.contains_key(room_id));
        let private = direct
            && self
                .client
                .get_room(room_id)
                .is_some_and(|room| room.active_members_count() <= 2);
        if private {
            super::conversation::direct_conversation(room_id.as_str())
        } else {
            room_id.to_string()
        }
    }

    async fn answer_invite(
        &mut self,
        room_id: &RoomId,
        pass: &mut Pass,
    ) -> Result<(), MatrixError> {
        let Some(room) = self.client.get_room(room_id) else {
            return Ok(());
        };
        if let Some(group_id) = self.rooms.group_of(room_id).map(str::to_string) {
            self.first_joined_ms(room_id, &group_id).await?;
            match room.join().await {
                Ok(()) => {
                    tracing::info!(room = %room_id, group = %group_id, "accepted the invite to the group's room")
                }
                Err(error) => {
                    tracing::warn!(room = %room_id, %error, "cannot accept the invite yet")
                }
            }
            return Ok(());
        }
        if let Some((group_id, person)) = self.direct_invite(&room).await {
            // Recorded before the join, so that a crash in between cannot leave a joined room
            // whose messages are taken for history or for no group's.
            let first_joined = now_ms() - DIRECT_ROOM_EARLY_MESSAGES_MS;
            self.store
                .record_direct_room(room_id.as_str(), &group_id, &person, first_joined)
                .await?;
            self.first_joined.insert(room_id.to_owned(), first_joined);
            self.direct_rooms
                .get_or_insert_with(HashMap::new)
                .insert(room_id.to_owned(), group_id.clone());
            match room.join().await {
                Ok(()) => {
                    tracing::info!(room = %room_id, group = %group_id, %person,
                        "accepted a direct conversation with a person of the group");
                    pass.notices.push(direct_room_greeting(
                        room_id.as_str(),
                        &person,
                        first_joined,
                        &self.command_prefix,
                    ));
                }
                Err(error) => {
                    tracing::warn!(room = %room_id, %error, "cannot accept the direct conversation yet")
                }
            }
            return Ok(());
        }
        // Only the configured rooms and direct conversations with the groups' people are
        // served; anything else is declined so that the bot never acts, or appears to act, in a
        // room whose group it does not know.
        if let Err(error) = room.leave().await {
            tracing::warn!(room = %room_id, %error, "cannot decline the invite");
        } else {
            tracing::info!(room = %room_id, "declined an invite to a room that is neither configured nor a direct conversation with a person of a group");
        }
        Ok(())
    }

    /// The group and person of an invite to a direct conversation (`is_direct` on the bot's
    /// invite) sent by someone a group file lists; `None` for any other invite. The inviter is
    /// the invite event's sender, which the homeserver vouches for.
    async fn direct_invite(&self, room: &matrix_sdk::Room) -> Option<(String, String)> {
        let invite = match room.invite_details().await {
            Ok(invite) => invite,
            Err(error) => {
                tracing::warn!(room = %room.room_id(), %error, "cannot read an invite");
                return None;
            }
        };
        let is_direct = match invite.invitee.event().as_ref() {
            SyncOrStrippedState::Sync(event) => event
                .as_original()
                .and_then(|event| event.content.is_direct),
            SyncOrStrippedState::Stripped(event) => event.content.is_direct,
        }
        .unwrap_or(false);
        let person = invite.inviter_id.to_string();
        let group_id = self.rooms.group_of_person(&person)?;
        if !is_direct {
            tracing::info!(room = %room.room_id(), %person,
                "a person of a group invited the bot to a room that is not a direct conversation");
            return None;
        }
        Some((group_id.to_string(), person))
    }

    /// Leaves the direct-message rooms among `joined` that the person has left: the bot alone in
    /// a room has nobody to talk to. A new invite brings it back.
    async fn leave_abandoned_direct_rooms<'r>(
        &mut self,
        joined: impl Iterator<Item = &'r OwnedRoomId>,
    ) {
        let Some(direct_rooms) = &self.direct_rooms else {
            return;
        };
        let abandoned: Vec<matrix_sdk::Room> = joined
            .filter(|room_id| direct_rooms.contains_key(*room_id))
            .filter_map(|room_id| self.client.get_room(room_id))
            .filter(|room| {
                room.state() == matrix_sdk::RoomState::Joined && room.active_members_count() == 1
            })
            .collect();
        for room in abandoned {
            match room.leave().await {
                Ok(()) => {
                    tracing::info!(room = %room.room_id(), "left a direct conversation the person has left")
                }
                Err(error) => {
                    tracing::warn!(room = %room.room_id(), %error, "cannot leave an abandoned direct conversation")
                }
            }
        }
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

    /// Sorts one timeline event into the pass: an inbox record, an event held for its key, a
    /// refusal notice, or nothing.
    async fn take_event(
        &mut self,
        room_id: &RoomId,
        group_id: &str,
        event: &TimelineEvent,
        first_joined: i64,
        pass: &mut Pass,
    ) {
        match &event.kind {
            TimelineEventKind::UnableToDecrypt {
                event: raw,
                utd_info,
            } => {
                if let Some(held) = self.held_event(room_id, group_id, raw, first_joined) {
                    tracing::warn!(room = %room_id, event = %held.event_id, sender = %held.sender,
                        reason = ?utd_info.reason, "cannot decrypt an event yet; it is kept and tried again when its key arrives");
                    pass.hold.push(held);
                }
            }
            TimelineEventKind::Decrypted(decrypted) => {
                self.take_decrypted(
                    room_id,
                    group_id,
                    decrypted.event.cast_ref(),
                    &decrypted.encryption_info,
                    first_joined,
                    pass,
                )
                .await;
            }
            TimelineEventKind::PlainText { event: raw } => {
                if let Some(item) = self
                    .item_from_raw(room_id, group_id, raw, first_joined)
                    .await
                {
                    pass.items.push(item);
                }
            }
        }
    }

    /// An undecryptable event worth holding: not our own, not history from before the join.
    fn held_event(
        &self,
        room_id: &RoomId,
        group_id: &str,
        raw: &Raw<AnySyncTimelineEvent>,
        first_joined: i64,
    ) -> Option<NewUndecryptable> {
        let json = event_json(raw)?;
        let sender = text(json.get("sender"))?;
        let origin_ms = json.get("origin_server_ts").and_then(|ts| ts.as_i64())?;
        if sender == self.own_user_id || origin_ms < first_joined {
            return None;
        }
        Some(NewUndecryptable {
            event_id: text(json.get("event_id"))?.to_string(),
            room_id: room_id.to_string(),
            group_id: group_id.to_string(),
            sender: sender.to_string(),
            event_json: raw.json().get().to_string(),
            origin_ms,
        })
    }

    /// A decrypted event counts only when its sender passes the trust rule.
    async fn take_decrypted(
        &self,
        room_id: &RoomId,
        group_id: &str,
        raw: &Raw<AnySyncTimelineEvent>,
        encryption: &EncryptionInfo,
        first_joined: i64,
        pass: &mut Pass,
    ) {
        let Some(item) = self
            .item_from_raw(room_id, group_id, raw, first_joined)
            .await
        else {
            return;
        };
        let link = KeyLink::from_sdk(&encryption.verification_state);
        let sender_has_identity = link == KeyLink::UnsignedDevice
            && self.has_cross_signing_identity(&encryption.sender).await;
        let view = EncryptedSenderView {
            event_sender: &item.sender,
            key_checked_for: encryption.sender.as_str(),
            link,
            sender_has_identity,
        };
        match judge_encrypted_sender(&view) {
            SenderTrust::Accept => pass.items.push(item),
            SenderTrust::Refuse(refusal) => {
                tracing::warn!(room = %room_id, event = %item.external_id, sender = %item.sender,
                    device = ?encryption.sender_device, ?link, reason = refusal.name(),
                    "an encrypted message does not count as its sender's");
                let is_reply = event_json(raw).is_some_and(|json| {
                    json.pointer("/content/m.relates_to/m.in_reply_to")
                        .is_some()
                });
                if addresses_the_bot(&item.body, is_reply, &self.command_prefix) {
                    pass.notices.push(refusal_notice(&item, refusal));
                }
            }
        }
    }

    /// Whether the SDK knows a cross-signing identity of the user. A failure to look is taken
    /// as "yes", which refuses an unsigned device rather than trusting it by accident.
    async fn has_cross_signing_identity(&self, user_id: &UserId) -> bool {
        match self.client.encryption().get_user_identity(user_id).await {
            Ok(identity) => identity.is_some(),
            Err(error) => {
                tracing::warn!(user = %user_id, %error, "cannot look up a cross-signing identity");
                true
            }
        }
    }

    async fn item_from_raw(
        &self,
        room_id: &RoomId,
        group_id: &str,
        raw: &Raw<AnySyncTimelineEvent>,
        first_joined: i64,
    ) -> Option<NewInboxItem> {
        let json = event_json(raw)?;
        if let Some(answer) = super::polls::poll_answer_of(&json) {
            return self
                .poll_answer_item(room_id, group_id, &json, answer, first_joined)
                .await;
        }
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
                conversation: self.conversation_of(room_id),
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

    /// An answer to one of the bot's native polls, recorded as the `!vote` it stands for and
    /// marked as a poll answer (see `polls::matrix_conversation`). Answers to anything else
    /// (a poll the bot did not start, any other message) are not the bot's business.
    async fn poll_answer_item(
        &self,
        room_id: &RoomId,
        group_id: &str,
        json: &serde_json::Value,
        answer: super::polls::PollAnswerEvent,
        first_joined: i64,
    ) -> Option<NewInboxItem> {
        let sender = text(json.get("sender"))?;
        let origin_ms = json.get("origin_server_ts").and_then(|ts| ts.as_i64())?;
        if sender == self.own_user_id || origin_ms < first_joined {
            return None;
        }
        let message = match self
            .store
            .matrix_message_by_event(&answer.answers_event)
            .await
        {
            Ok(message) => message?,
            Err(error) => {
                tracing::warn!(room = %room_id, %error, "cannot look up which poll an answer is for; it is not counted");
                return None;
            }
        };
        // Only a poll the bot started in this very room: an answer naming a poll of another
        // room (another group, whose R-n is another record) counts for nothing.
        if !self.rooms.names_room(&message.destination, room_id)
            || !super::polls::starts_a_poll(&message.payload)
        {
            return None;
        }
        let record = message.about?;
        let how = if answer.by_reaction {
            super::conversation::REACTION_ANSWER
        } else {
            super::conversation::MATRIX_POLL_ANSWER
        };
        Some(NewInboxItem {
            channel: "matrix".into(),
            external_id: text(json.get("event_id"))?.to_string(),
            group_id: group_id.to_string(),
            conversation: format!("{room_id} {how}"),
            sender: sender.to_string(),
            body: format!("{}vote {record} {}", self.command_prefix, answer.option),
            origin_ms,
        })
    }

    /// Tries again to decrypt the held events. One that decrypts is settled into the pass like a
    /// fresh event; one whose key has not come within the wait is reported once and settled.
    async fn retry_undecryptable(&mut self, pass: &mut Pass) -> Result<(), MatrixError> {
        if !self.may_hold_events {
            return Ok(());
        }
        let held = self
            .store
            .undecryptable_events(UNDECRYPTABLE_RETRIES_PER_SYNC)
            .await?;
        let settled_before = pass.settled.len();
        let held_count = held.len();
        let now = now_ms();
        for entry in held {
            let event = entry.event;
            let room = OwnedRoomId::try_from(event.room_id.as_str())
                .ok()
                .and_then(|room_id| self.client.get_room(&room_id));
            if let Some(room) = &room
                && let Ok(raw) = Raw::<OriginalSyncRoomEncryptedEvent>::from_json_string(
                    event.event_json.clone(),
                )
                && let Ok(decrypted) = room.decrypt_event(&raw, None).await
                && let TimelineEventKind::Decrypted(decrypted) = &decrypted.kind
            {
                tracing::info!(room = %event.room_id, event = %event.event_id,
                    "decrypted a held event: its key has arrived");
                let first_joined = self
                    .first_joined_ms(room.room_id(), &event.group_id)
                    .await?;
                self.take_decrypted(
                    room.room_id(),
                    &event.group_id,
                    decrypted.event.cast_ref(),
                    &decrypted.encryption_info,
                    first_joined,
                    pass,
                )
                .await;
                pass.settled.push(event.event_id);
                continue;
            }
            let waited = Duration::from_millis((now - entry.first_seen_ms).max(0) as u64);
            if waited >= self.undecryptable_wait {
                tracing::error!(room = %event.room_id, event = %event.event_id, sender = %event.sender,
                    ?waited, "gave up decrypting an event: its key never arrived; the sender is told");
                pass.notices.push(undecryptable_notice(&event));
                pass.settled.push(event.event_id);
            }
        }
        // Events held by this pass set the flag again once they are committed (see `process`).
        self.may_hold_events = held_count as i64 >= UNDECRYPTABLE_RETRIES_PER_SYNC
            || held_count > pass.settled.len() - settled_before;
        Ok(())
    }
}

/// The answer to a refused encrypted message: why it was not acted on, and what to do.
fn refusal_notice(item: &NewInboxItem, refusal: Refusal) -> NewOutboxItem {
    room_notice(
        &[b"matrix-refused-sender", item.external_id.as_bytes()],
        super::conversation::matrix_conversation(&item.conversation).room,
        &item.external_id,
        &item.sender,
        refusal.explanation().to_string(),
    )
}

/// The one report on an event whose key never arrived.
fn undecryptable_notice(event: &NewUndecryptable) -> NewOutboxItem {
    let sent_at = jiff::Timestamp::from_millisecond(event.origin_ms)
        .map(|at| at.strftime("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|_| "an unknown time".to_string());
    room_notice(
        &[b"matrix-undecryptable", event.event_id.as_bytes()],
        &event.room_id,
        &event.event_id,
        &event.sender,
        format!(
            "I could not decrypt the message you sent here at {sent_at}: its encryption key \
             never reached me, so I did not act on it. If it was a command, please send it again."
        ),
    )
}

/// The bot's first message in a direct conversation: what the room is for. Keyed by the room and
/// the join, so it is sent once per invite.
fn direct_room_greeting(
    room_id: &str,
    person: &str,
    first_joined: i64,
    prefix: &str,
) -> NewOutboxItem {
    let text = format!(
        "Hello. What you write here is read by me alone, as commands ({prefix}help lists them). \
         A survey can be answered here privately: {prefix}survey lists the surveys, \
         {prefix}survey show S-1 shows the questions of S-1, and {prefix}survey answer S-1 with \
         your answers on the lines below it records them without your name. This stays private \
         only while nobody else joins this room."
    );
    let payload = ReplyPayload {
        in_reply_to: String::new(),
        mention: person.to_string(),
        mentions: Vec::new(),
        plain: text,
        html: String::new(),
        poll: None,
    };
    NewOutboxItem {
        idempotency_key: outbox_key(&[
            b"matrix-direct-greeting",
            room_id.as_bytes(),
            first_joined.to_string().as_bytes(),
        ]),
        channel: "matrix".into(),
        destination: room_id.to_string(),
        payload: serde_json::to_string(&payload).unwrap_or_default(),
        about: None,
    }
}

/// A plain-text notice in reply to one event, mentioning only its sender. Its key is made from
/// the event, so a pass repeated after a crash stores it once.
fn room_notice(
    key_parts: &[&[u8]],
    room_id: &str,
    event_id: &str,
    sender: &str,
    text: String,
) -> NewOutboxItem {
    let payload = ReplyPayload {
        in_reply_to: event_id.to_string(),
        mention: sender.to_string(),
        mentions: Vec::new(),
        plain: text,
        html: String::new(),
        poll: None,
    };
    NewOutboxItem {
        idempotency_key: outbox_key(key_parts),
        channel: "matrix".into(),
        destination: room_id.to_string(),
        payload: serde_json::to_string(&payload).unwrap_or_default(),
        about: None,
    }
}
