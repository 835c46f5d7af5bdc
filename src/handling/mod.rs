//! Turns recorded inputs into decisions and decisions into stored rows: the bridge between the
//! pure core and storage. A batch of inbox items is decided in order, each against the group's
//! state as the items before it left it, and committed in one transaction: every item is marked
//! handled together with its state changes, outbox items and timers, so a crash either leaves an
//! item pending (and it is decided again on restart, producing the same idempotency keys) or
//! handled with everything it produced.

mod mail_commands;
mod outbox_items;
mod rate_limits;

pub use mail_commands::decide_mail;
pub use outbox_items::{
    ReplyPayload, Routes, StoredEffects, delivery_key, idempotency_key, outbox_items_for,
};

use crate::core::consensus::record::is_outcome_change;
use crate::core::directory::{Group, SenderAddress};
use crate::core::effects::Timer;
use crate::core::engine::{Channel, Decision, Engine, Input, Message};
use crate::core::meetings::changes::is_meeting_change;
use crate::core::several::{decide_lines, stranger_reply_limit};
use crate::core::state::{Change, GroupState};
use crate::core::surveys::changes::is_ballot;
use crate::mail::thread::MailConversation;
pub use crate::matrix::matrix_conversation;
use crate::ownership::{OwnedGroups, Ownership};
use crate::storage::{Completion, InboxItem, OutboxItem, StorageError, Store};
use jiff::Timestamp;
use std::collections::HashMap;

pub use crate::mail::MAIL_CHANNEL;
pub use rate_limits::HandlerLimits;
use rate_limits::RateCounts;

/// Whether a message is a survey answer (`!survey answer S-1` and the filled-in lines), whose
/// text is not kept once handled, whatever became of it.
fn is_survey_answer_text(body: &str, prefix: &str) -> bool {
    body.lines()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .is_some_and(|line| crate::core::several::is_survey_answer(line, prefix))
}

fn sender_address(item: &InboxItem) -> SenderAddress {
    match item.channel.as_str() {
        MAIL_CHANNEL => SenderAddress::Email(item.sender.clone()),
        _ => SenderAddress::Matrix(item.sender.clone()),
    }
}

/// Decides one recorded input against the group's state.
pub fn decide_item(
    engine: &Engine,
    state: &GroupState,
    group: &Group,
    item: &InboxItem,
    now: Timestamp,
) -> Decision {
    match Channel::from_name(&item.channel) {
        Some(Channel::Mail) => {
            let conversation: Option<MailConversation> =
                serde_json::from_str(&item.conversation).ok();
            let about = conversation
                .as_ref()
                .and_then(|conversation| conversation.answers_about.as_deref());
            let bare_word = conversation
                .as_ref()
                .is_some_and(|conversation| conversation.bare_word);
            let sender = sender_address(item);
            let message = Message {
                sender: &sender,
                body: &item.body,
                channel: Channel::Mail,
                about,
                bare_word,
                poll_answer: None,
                // A mail goes to the bot alone; whether it may carry a private answer (a
                // survey's) is decided by the command, which takes such answers by mail.
                private: false,
            };
            decide_lines(engine, state, group, &message, now)
        }
        Some(Channel::Clock) => match serde_json::from_str::<Timer>(&item.body) {
            Ok(timer) => {
                let due = Timestamp::from_millisecond(item.origin_ms).unwrap_or(now);
                engine.decide(
                    state,
                    group,
                    &Input::Timer {
                        key: &item.conversation,
                        due,
                        timer: &timer,
                    },
                    now,
                )
            }
            Err(error) => {
                tracing::error!(%error, inbox_id = item.id, "a stored timer cannot be read; it is dropped");
                Decision::not_a_command()
            }
        },
        _ => {
            let sender = sender_address(item);
            let conversation = matrix_conversation(&item.conversation);
            let message = Message {
                poll_answer: conversation.poll_answer,
                private: conversation.private,
                ..Message::new(&sender, &item.body, Channel::Matrix)
            };
            engine.decide(state, group, &Input::Message(message), now)
        }
    }
}

/// Decides inputs against each group's state and stores what they produce. It holds the state
/// of every group, rebuilt from the change log at start and moved on only by what was committed.
pub struct Handler {
    pub engine: Engine,
    pub groups: HashMap<String, Group>,
    pub routes: Routes,
    /// How much one sender is answered and one address mailed (see `core::rate_limits`).
    /// [`Handler::load`] applies none; the runtime sets the configured ones.
    pub rate_limits: HandlerLimits,
    states: HashMap<String, GroupState>,
    /// The in-memory state may hold changes that were not committed (the last commit failed):
    /// it is read again from the change log before anything else is decided.
    stale: bool,
    /// The groups this process owns, when it shares its database with others (see
    /// `crate::ownership`): only their inputs are decided here, and the state is read again
    /// whenever the owned set changes, since another process moved it on meanwhile. `None`
    /// decides every group's inputs.
    ownership: Option<Ownership>,
    ownership_version: u64,
    /// Channels whose effects, when decided from fresh messages, are stored already claimed for
    /// this process's own dispatcher (see [`crate::storage::ClaimAtInsert`]); set by the runtime
    /// for the channels it runs a dispatcher for and whose resends are recognised. Needs
    /// `ownership` (the claimant).
    pub claim_at_insert: Vec<&'static str>,
    /// Where derived record files (each group's calendar feed) are written after a batch that
    /// changed a meeting; `None` writes none (tests, one-off commands).
    pub record_dir: Option<std::path::PathBuf>,
    /// Told after a batch in which a group's publication timer fired (the core's
    /// `Effect::Publish`, a few seconds after the last change), so that the record publisher
    /// (`record::publisher`) publishes the public record; `None` tells nobody (tests, one-off
    /// commands).
    pub record_changed: Option<tokio::sync::watch::Sender<u64>>,
}

impl Handler {
    /// A handler with each group's state read from the store.
    pub async fn load(
        store: &Store,
        engine: Engine,
        groups: HashMap<String, Group>,
        routes: Routes,
    ) -> Result<Handler, StorageError> {
        let mut handler = Handler {
            engine,
            groups,
            routes,
            rate_limits: HandlerLimits::none(),
            states: HashMap::new(),
            stale: false,
            ownership: None,
            ownership_version: 0,
            claim_at_insert: Vec::new(),
            record_dir: None,
            record_changed: None,
        };
        handler.reload(store).await?;
        Ok(handler)
    }

    /// Decides only the inputs of the groups `ownership` holds, from now on.
    pub fn owned_by(mut self, ownership: Ownership) -> Handler {
        // Whatever the set is now, the state is read again before the first decision under it.
        self.ownership_version = ownership.version().wrapping_sub(1);
        self.ownership = Some(ownership);
        self
    }

    /// The groups whose inputs this handler decides now.
    fn owned_groups(&self) -> OwnedGroups {
        self.ownership
            .as_ref()
            .map_or(OwnedGroups::Every, Ownership::owned)
    }

    /// Rebuilds every group's state from the change log.
    pub async fn reload(&mut self, store: &Store) -> Result<(), StorageError> {
        let mut states: HashMap<String, GroupState> = HashMap::new();
        for (group_id, text) in store.group_changes().await? {
            match serde_json::from_str::<Change>(&text) {
                Ok(change) => states.entry(group_id).or_default().apply(&change),
                Err(error) => {
                    tracing::error!(%error, group = %group_id, "a stored change cannot be read; it is skipped")
                }
            }
        }
        // Survey ballots, kept apart from the change log, after it (their surveys are opened).
        for (group_id, text) in store.survey_ballots().await? {
            match serde_json::from_str::<Change>(&text) {
                Ok(change) if is_ballot(&change) => {
                    states.entry(group_id).or_default().apply(&change)
                }
                Ok(_) | Err(_) => {
                    tracing::error!(group = %group_id, "a stored survey ballot cannot be read; it is skipped")
                }
            }
        }
        self.states = states;
        self.stale = false;
        Ok(())
    }

    /// Writes a group's record files (calendar feed, adopted outcomes) from its committed
    /// state, if record files are kept.
    pub fn write_record_files(&self, group_id: &str, now: Timestamp) {
        if let (Some(dir), Some(group), Some(state)) = (
            &self.record_dir,
            self.groups.get(group_id),
            self.states.get(group_id),
        ) {
            crate::record::write_record_files(dir, group, state, now);
        }
    }

    /// The committed state of a group.
    pub fn state(&self, group_id: &str) -> Option<&GroupState> {
        self.states.get(group_id)
    }

    /// Handles several recorded inputs in one transaction. Returns the outbox items stored,
    /// ready to deliver, in the order of the inputs, and whether any timer was scheduled.
    pub async fn handle_items(
        &mut self,
        store: &Store,
        items: &[InboxItem],
        now: Timestamp,
    ) -> Result<Handled, StorageError> {
        self.handle_items_claiming(store, items, now, false).await
    }

    /// As [`Handler::handle_items`], for inputs that just arrived and whose effects the caller
    /// hands to this process's dispatchers in memory: those of the `claim_at_insert` channels
    /// are stored already claimed, so the dispatcher sends them without a commit of its own.
    /// (Effects found by a scan of the outbox must stay `pending`, which is what the scan
    /// looks for; so [`Handler::handle_pending`] does not claim.)
    pub async fn handle_fresh_items(
        &mut self,
        store: &Store,
        items: &[InboxItem],
        now: Timestamp,
    ) -> Result<Handled, StorageError> {
        self.handle_items_claiming(store, items, now, true).await
    }

    async fn handle_items_claiming(
        &mut self,
        store: &Store,
        items: &[InboxItem],
        now: Timestamp,
        claim: bool,
    ) -> Result<Handled, StorageError> {
        if let Some(ownership) = &self.ownership {
            // Groups taken over were moved on by their previous owner: their state is read
            // again from the log before any of their inputs is decided here.
            let version = ownership.version();
            if version != self.ownership_version {
                self.ownership_version = version;
                self.stale = true;
            }
        }
        if self.stale {
            self.reload(store).await?;
        }
        // Inputs of groups another process owns stay pending for their owner.
        let owned_only: Vec<InboxItem>;
        let items = match &self.ownership {
            Some(ownership) if !items.iter().all(|item| ownership.owns(&item.group_id)) => {
                owned_only = items
                    .iter()
                    .filter(|item| ownership.owns(&item.group_id))
                    .cloned()
                    .collect();
                &owned_only[..]
            }
            _ => items,
        };
        if items.is_empty() {
            return Ok(Handled::default());
        }
        // Decisions move the state on in place, before the commit: copying a large group's
        // state for every batch would cost more than reading the log again in the rare case
        // that the commit fails.
        self.stale = true;
        // The decisions are kept apart from their rows so that the rows move into the
        // completions (a reminder cycle has hundreds) while the completions borrow the command
        // names from the decisions.
        let mut decisions: Vec<Option<Decision>> = Vec::with_capacity(items.len());
        let mut rows: Vec<Option<Rows>> = Vec::with_capacity(items.len());
        let mut counts = RateCounts::default();
        let mut records_changed: Vec<String> = Vec::new();
        let mut publish = Vec::with_capacity(items.len());
        for item in items {
            let Some(group) = self.groups.get(&item.group_id) else {
                decisions.push(None);
                rows.push(None);
                publish.push(false);
                continue;
            };
            let state = self.states.entry(item.group_id.clone()).or_default();
            let deciding = std::time::Instant::now();
            let mut decision = decide_item(&self.engine, state, group, item, now);
            crate::observe::metrics::metrics()
                .decision_seconds
                .observe(deciding.elapsed().as_secs_f64());
            // The sender's limit is judged before the decision's changes are applied: a command
            // over the limit is not carried out.
            if let Some(limited) = self
                .rate_limits
                .limit_sender(store, &mut counts, item, &decision, now)
                .await?
            {
                decision = limited;
            }
            crate::core::record::publication::schedule_publication(&mut decision, now);
            let state = self.states.entry(item.group_id.clone()).or_default();
            for change in &decision.changes {
                state.apply(change);
            }
            if decision
                .changes
                .iter()
                .any(|change| is_meeting_change(change) || is_outcome_change(change))
                && !records_changed.contains(&item.group_id)
            {
                records_changed.push(item.group_id.clone());
            }
            let mut stored = outbox_items_for(item, &decision, &self.engine, group, &self.routes);
            publish.push(stored.publish);
            self.rate_limits
                .limit_addresses(store, &mut counts, &mut stored.outbox, now)
                .await?;
            // A survey ballot is stored apart from the change log, without its author.
            let (ballots, changes): (Vec<&Change>, Vec<&Change>) = decision
                .changes
                .iter()
                .partition(|change| is_ballot(change));
            let as_json = |changes: Vec<&Change>| -> Vec<String> {
                changes
                    .into_iter()
                    .map(|change| serde_json::to_string(change).unwrap_or_default())
                    .collect()
            };
            rows.push(Some(Rows {
                changes: as_json(changes),
                ballots: as_json(ballots),
                reply_limit_key: Channel::from_name(&item.channel).and_then(|channel| {
                    stranger_reply_limit(group, &sender_address(item), channel, now)
                }),
                stored,
            }));
            decisions.push(Some(decision));
        }
        let timers_changed = rows
            .iter()
            .flatten()
            .any(|rows| !rows.stored.timers.is_empty());
        let completions: Vec<Completion> = items
            .iter()
            .zip(&decisions)
            .zip(rows)
            .map(|((item, decision), rows)| match (decision, rows) {
                (Some(decision), Some(rows)) => Completion {
                    inbox: item,
                    disposition: decision.disposition.name(),
                    command: decision.command.as_deref(),
                    effects: rows.stored.outbox,
                    reply_limit_key: rows.reply_limit_key,
                    changes: rows.changes,
                    timers: rows.stored.timers,
                    ballots: rows.ballots,
                    forget_text: is_survey_answer_text(&item.body, self.engine.prefix()),
                },
                // The group was removed from the configuration since the input arrived; it is
                // kept as handled without effects so it does not block the queue.
                _ => Completion {
                    inbox: item,
                    disposition: "unknown_group",
                    command: None,
                    effects: Vec::new(),
                    reply_limit_key: None,
                    changes: Vec::new(),
                    timers: Vec::new(),
                    ballots: Vec::new(),
                    forget_text: is_survey_answer_text(&item.body, self.engine.prefix()),
                },
            })
            .collect();
        // On an error the state stays marked stale, and is read again before the next batch.
        let claim_at_insert = match &self.ownership {
            Some(ownership) if claim && !self.claim_at_insert.is_empty() => {
                Some(crate::storage::ClaimAtInsert {
                    claimant: ownership.claimant(),
                    channels: &self.claim_at_insert,
                })
            }
            _ => None,
        };
        let results = store
            .complete_inbox_items_claiming(&completions, now.as_millisecond(), claim_at_insert)
            .await?;
        let mut effects = Vec::new();
        let mut all_committed = true;
        let mut publication_due = false;
        for ((completion, stored), asked_to_publish) in
            completions.iter().zip(results).zip(&publish)
        {
            match stored {
                Some(stored) => {
                    publication_due |= *asked_to_publish;
                    let metrics = crate::observe::metrics::metrics();
                    metrics.input_handled(
                        &completion.inbox.channel,
                        &crate::observe::metrics::command_label(completion.command, |word| {
                            self.engine.catalog().find(word).is_some()
                        }),
                        completion.disposition,
                    );
                    if completion.inbox.channel == crate::core::engine::Channel::Clock.name()
                        && is_reminder_timer(&completion.inbox.body)
                    {
                        metrics.reminders.inc_by(stored.len() as u64);
                    }
                    // With the input's own ID and channel, so that one input can be followed
                    // from its arrival (`external_id`) to its sends (`inbox_id`).
                    tracing::info!(
                        inbox_id = completion.inbox.id,
                        external_id = %completion.inbox.external_id,
                        channel = %completion.inbox.channel,
                        group = %completion.inbox.group_id,
                        command = completion.command.unwrap_or("-"),
                        disposition = completion.disposition,
                        "handled"
                    );
                    effects.extend(stored);
                }
                None => all_committed = false,
            }
        }
        if all_committed {
            self.stale = false;
        } else {
            // Another process handled some of these inputs first: what it committed is the
            // truth, so the state is read again rather than guessed.
            self.reload(store).await?;
        }
        for group_id in &records_changed {
            self.write_record_files(group_id, now);
        }
        // The publication timer fired and its input is committed: the publisher publishes now.
        // Should the process die first, the publisher's publication at start makes up for it.
        if publication_due && let Some(changed) = &self.record_changed {
            changed.send_modify(|count| *count = count.wrapping_add(1));
        }
        Ok(Handled {
            effects,
            timers_changed,
        })
    }

    /// Handles every pending input, oldest first, a batch per transaction. Returns how many
    /// effects were stored.
    pub async fn handle_pending(&mut self, store: &Store) -> Result<usize, StorageError> {
        let mut produced = 0;
        loop {
            let owned = self.owned_groups();
            let batch = store
                .pending_inbox_of(owned.scope(), HANDLING_BATCH)
                .await?;
            if batch.is_empty() {
                return Ok(produced);
            }
            produced += self
                .handle_items(store, &batch, Timestamp::now())
                .await?
                .effects
                .len();
        }
    }
}

/// The rows one input's decision becomes.
struct Rows {
    stored: StoredEffects,
    changes: Vec<String>,
    ballots: Vec<String>,
    reply_limit_key: Option<String>,
}

/// What a batch produced.
#[derive(Debug, Default)]
pub struct Handled {
    pub effects: Vec<OutboxItem>,
    /// A timer was scheduled, moved or cancelled: the clock should look again.
    pub timers_changed: bool,
}

/// How many pending messages are handled per transaction.
pub const HANDLING_BATCH: i64 = 100;

/// Whether a fired timer (its stored body) is a reminder, whose messages count as reminders in
/// the metrics.
fn is_reminder_timer(body: &str) -> bool {
    use crate::core::effects::Timer;
    matches!(
        serde_json::from_str::<Timer>(body),
        Ok(Timer::RequestFollowUp { .. }
            | Timer::MeetingReminder { .. }
            | Timer::ActionFollowUp { .. }
            | Timer::ConsultationReminder { .. }
            | Timer::SurveyReminder { .. }
            | Timer::ProgressReportReminder { .. }
            | Timer::PublicationReminder { .. })
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::engine::Disposition;
    use crate::mail::thread::MailPayload;

    fn mail_item(body: &str) -> InboxItem {
        let conversation = MailConversation {
            author: "ana.lima@example.org".into(),
            author_name: Some("Ana Lima".into()),
            subject: "[CIP-CCG] !ping".into(),
            message_id: Some("<q@example.org>".into()),
            references: vec!["<q@example.org>".into()],
            list_address: Some("cip-ccg@lists.example.org".into()),
            answers: None,
            answers_about: None,
            bare_word: false,
        };
        InboxItem {
            id: 1,
            channel: MAIL_CHANNEL.into(),
            external_id: "<q@example.org>".into(),
            group_id: "cip-ccg".into(),
            conversation: serde_json::to_string(&conversation).unwrap(),
            sender: "ana.lima@example.org".into(),
            body: body.into(),
            origin_ms: 0,
            received_ms: 0,
        }
    }

    #[test]
    fn mail_answers_go_to_the_list_only_when_the_command_file_says_so() {
        use crate::core::catalog::{COMMAND_FILES, Catalog};
        let files: Vec<(&str, String)> = COMMAND_FILES
            .iter()
            .map(|(name, text)| {
                let text = if *name == "ping.toml" {
                    text.replace("mail_reply_to = \"author\"", "mail_reply_to = \"list\"")
                } else {
                    text.to_string()
                };
                (*name, text)
            })
            .collect();
        let catalog =
            Catalog::from_files(files.iter().map(|(name, text)| (*name, text.as_str()))).unwrap();
        let engine = Engine::new(catalog, "!");
        let group = crate::core::directory::test_support::small_group();
        let now: Timestamp = "2026-11-25T16:00:00Z".parse().unwrap();
        let sender = SenderAddress::Email("ana.lima@example.org".into());
        let cases = [
            ("!ping", "cip-ccg@lists.example.org"),
            // A mistake is the author's business, not the list's.
            ("!ping now", "ana.lima@example.org"),
            ("!whoami", "ana.lima@example.org"),
        ];
        for (body, destination) in cases {
            let item = mail_item(body);
            let decision = decide_mail(&engine, &GroupState::default(), &group, &sender, body, now);
            let outbox =
                outbox_items_for(&item, &decision, &engine, &group, &Routes::default()).outbox;
            assert_eq!(outbox.len(), 1, "{body}");
            assert_eq!(outbox[0].destination, destination, "{body}");
            let payload: MailPayload = serde_json::from_str(&outbox[0].payload).unwrap();
            assert_eq!(payload.subject, "Re: [CIP-CCG] !ping");
            assert_eq!(payload.in_reply_to.as_deref(), Some("<q@example.org>"));
        }
    }

    #[test]
    fn several_commands_in_one_mail_get_one_answer() {
        let engine = Engine::new(crate::core::catalog::Catalog::builtin().unwrap(), "!");
        let group = crate::core::directory::test_support::small_group();
        let now: Timestamp = "2026-11-25T16:00:00Z".parse().unwrap();
        let sender = SenderAddress::Email("ana.lima@example.org".into());
        let decision = decide_mail(
            &engine,
            &GroupState::default(),
            &group,
            &sender,
            "!ping\n!nosuch",
            now,
        );
        assert_eq!(decision.effects.len(), 1);
        let text = decision.reply().unwrap().plain_text();
        assert!(text.contains("!ping") && text.contains("pong"), "{text}");
        assert!(text.contains("!nosuch"), "{text}");
        assert_eq!(decision.disposition, Disposition::UnknownCommand);
        assert_eq!(decision.command.as_deref(), Some("ping"));
    }
}
