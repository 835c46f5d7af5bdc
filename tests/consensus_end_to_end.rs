//! Polls and a call for consensus end to end: the real bot binary with its Matrix room and its
//! mailbox, the real homeserver, SMTP relay, dovecot and Mailman list of `scripts/stack.sh`.
//!
//! A chair opens a poll; it appears in the room as a native Matrix poll and on the list with
//! numbered options. Two members answer with native poll responses (as Element sends them),
//! one with a reaction on the poll, one with `!vote`, one by mail (the option's number answering
//! the poll's mail from the list). Closing the poll ends it in the room with `m.poll.end`, and
//! the tally by organization is right in the room and on the list. Then a CCEG-style position
//! paper goes from a call for consensus (answered in the room and by mail) to a designated
//! outcome with a minority view and an adopted Chair's report; an unauthorized `!designate` is
//! refused. Last, the anonymous survey: answered by mail and in a direct message with the bot
//! (started as Element starts one; a stranger's is declined), refused in the room, its stored
//! answers holding no identity. The same on SQLite and PostgreSQL.

mod support;

use matrix_sdk::Room;
use matrix_sdk::ruma::events::poll::unstable_response::UnstablePollResponseEventContent;
use matrix_sdk::ruma::events::reaction::ReactionEventContent;
use matrix_sdk::ruma::events::relation::Annotation;
use matrix_sdk::ruma::{OwnedEventId, OwnedRoomId};
use serde_json::Value;
use std::time::{Duration, Instant};
use support::mail::{
    BotMail, MailServers, OutgoingTestMail, REPLY_TIMEOUT, ReceivedMail, email_of, mail_servers,
    unique_message_id,
};
use support::matrix::{
    BotProcess, GroupMember, TestClient, TestOrganization, TestUser, homeserver, unique_name,
};

struct Scene {
    servers: MailServers,
    list_reader: String,
    bot_user: TestUser,
    bot: BotProcess,
    mail: BotMail,
}

impl Scene {
    async fn list_mails(&self, subject: &str, count: usize) -> Vec<ReceivedMail> {
        self.servers
            .wait_for_mail(&self.list_reader, count, REPLY_TIMEOUT, |mail| {
                mail.subject.contains(subject) && mail.to == self.mail.list_address
            })
            .await
    }

    /// Ana, by mail only, answers a mail of the list with `body`; returns the bot's answer.
    async fn ana_answers(&self, answered: &ReceivedMail, body: &str) -> ReceivedMail {
        self.answers_by_mail(&self.list_reader, "Ana Lima", answered, body)
            .await
    }

    /// A member answers a mail they received with `body`; returns the bot's answer.
    async fn answers_by_mail(
        &self,
        address: &str,
        name: &str,
        answered: &ReceivedMail,
        body: &str,
    ) -> ReceivedMail {
        let ana = address.to_string();
        let message_id = unique_message_id();
        let in_reply_to = answered.message_id.clone().expect("a Message-ID");
        let raw = OutgoingTestMail {
            from: &ana,
            from_name: name,
            to: &self.mail.bot_address,
            subject: &format!("Re: {}", answered.subject),
            body,
            message_id: &message_id,
            in_reply_to: Some(&in_reply_to),
            extra_headers: "",
        }
        .render();
        self.servers
            .send_raw(&ana, &self.mail.bot_address, &raw)
            .await
            .expect("the relay accepts Ana's mail");
        let mut replies = self
            .servers
            .wait_for_replies(&ana, &message_id, 1, REPLY_TIMEOUT)
            .await;
        assert_eq!(replies.len(), 1, "one answer to Ana's mail");
        replies.remove(0)
    }
}

/// Waits for an event of the bot of this type in the room, as `client` saw it.
async fn wait_for_bot_event(
    client: &TestClient,
    room_id: &OwnedRoomId,
    bot: &str,
    event_type: &str,
) -> Value {
    let deadline = Instant::now() + REPLY_TIMEOUT;
    loop {
        if let Some(event) = client
            .events_in(room_id)
            .into_iter()
            .map(|event| event.json)
            .find(|json| json["type"] == event_type && json["sender"] == bot)
        {
            return event;
        }
        assert!(
            Instant::now() < deadline,
            "no {event_type} of the bot within {REPLY_TIMEOUT:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until `user_id`'s membership in the room is `membership`, as `client` saw it.
async fn wait_for_membership(
    client: &TestClient,
    room_id: &OwnedRoomId,
    user_id: &str,
    membership: &str,
) {
    let deadline = Instant::now() + REPLY_TIMEOUT;
    while !client.events_in(room_id).iter().any(|event| {
        event.json["type"] == "m.room.member"
            && event.json["state_key"] == user_id
            && event.json["content"]["membership"] == membership
    }) {
        assert!(
            Instant::now() < deadline,
            "{user_id} did not {membership} {room_id} within {REPLY_TIMEOUT:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// On SQLite the group's room is configured by alias, as the example configuration does: the
/// outbox then names the room by its alias, and answers and the poll's end must still find
/// the poll.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poll_and_a_call_for_consensus_on_sqlite() {
    a_poll_and_a_call_for_consensus(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poll_and_a_call_for_consensus_on_postgres() {
    let Some(url) = support::fresh_postgres_url().await else {
        return;
    };
    a_poll_and_a_call_for_consensus(Some(url)).await;
}

async fn a_poll_and_a_call_for_consensus(database_url: Option<String>) {
    if !support::mailman_in_stack() {
        return;
    }
    let Some(homeserver) = homeserver().await else {
        return;
    };
    let Some(servers) = mail_servers().await else {
        return;
    };
    let started = Instant::now();
    let bot_user = homeserver.register("bot").await;
    let chair_user = homeserver.register("chair").await;
    let wei_user = homeserver.register("wei").await;
    let gus_user = homeserver.register("gus").await;
    let lea_user = homeserver.register("lea").await;
    // Ana has no Matrix account: she takes part by mail only.
    let ana_localpart = unique_name("ana");
    let ana_user = TestUser {
        user_id: format!("@{ana_localpart}:localhost"),
        localpart: ana_localpart,
        password: String::new(),
    };
    let chair = TestClient::login(&homeserver, &chair_user).await;
    let room = chair
        .create_room(
            false,
            &[
                bot_user.user_id.as_str(),
                wei_user.user_id.as_str(),
                gus_user.user_id.as_str(),
                lea_user.user_id.as_str(),
            ],
        )
        .await;
    let room_id = room.room_id().to_owned();
    // The room as the group file names it: by alias on SQLite, by ID on PostgreSQL.
    let configured_room = if database_url.is_none() {
        let alias = format!("#{}:localhost", unique_name("polls"));
        let alias_id =
            matrix_sdk::ruma::OwnedRoomAliasId::try_from(alias.as_str()).expect("valid alias");
        chair
            .client
            .create_room_alias(&alias_id, &room_id)
            .await
            .expect("create the room's alias");
        alias
    } else {
        room_id.to_string()
    };
    let organizations = [
        TestOrganization {
            short_name: "GNSO",
            name: "Generic Names Supporting Organization",
            seats: 2,
            contact: None,
        },
        TestOrganization {
            short_name: "ALAC",
            name: "At-Large Advisory Committee",
            seats: 1,
            contact: None,
        },
        TestOrganization {
            short_name: "GAC",
            name: "Governmental Advisory Committee",
            seats: 2,
            contact: None,
        },
    ];
    let members = [
        GroupMember {
            name: "Chair Person",
            user: &chair_user,
            organization: Some("GNSO"),
            roles: &["member", "chair"],
        },
        GroupMember {
            name: "Ana Lima",
            user: &ana_user,
            organization: Some("GNSO"),
            roles: &["member"],
        },
        GroupMember {
            name: "Wei Lin",
            user: &wei_user,
            organization: Some("ALAC"),
            roles: &["member"],
        },
        GroupMember {
            name: "Gus Gac",
            user: &gus_user,
            organization: Some("GAC"),
            roles: &["member"],
        },
        GroupMember {
            name: "Lea Gac",
            user: &lea_user,
            organization: Some("GAC"),
            roles: &["member"],
        },
    ];
    let mut bot = BotProcess::configure_with_organizations(
        &homeserver,
        &bot_user,
        &configured_room,
        &organizations,
        &members,
        database_url.as_deref(),
    );
    // The annual survey, with the smallest minimum the group file allows: three answers.
    let survey_file = bot.folder.path().join("annual.toml");
    std::fs::write(
        &survey_file,
        "title = \"Annual survey\"\nminimum_answers = 3\n\n[[questions]]\ntext = \"The work met \
         expectations.\"\nkind = \"likert\"\n\n[[questions]]\ntext = \"How often should we \
         meet?\"\nkind = \"choice\"\noptions = [\"Monthly\", \"Quarterly\"]\n\n[[questions]]\n\
         text = \"What should change?\"\nkind = \"text\"\n",
    )
    .expect("write the survey file");
    let group_file = bot.folder.path().join("group.toml");
    let mut group = std::fs::read_to_string(&group_file).expect("read the group file");
    group.push_str("\n[[surveys]]\nid = \"annual\"\nfile = \"annual.toml\"\n");
    std::fs::write(&group_file, group).expect("write the group file");
    let mail = bot.enable_mail_at(&servers, "mail.localhost");
    let list_reader = email_of(&ana_user.user_id);
    support::stack(&[
        "mailman-list",
        &mail.list_address,
        &format!("Ana Lima <{list_reader}>"),
        &mail.bot_address,
    ]);
    bot.start();
    chair
        .wait_for_join(&room_id, &bot_user.user_id, Duration::from_secs(60))
        .await;
    let scene = Scene {
        servers,
        list_reader,
        bot_user,
        bot,
        mail,
    };
    let wei = TestClient::login(&homeserver, &wei_user).await;
    let wei_room = wei.join(&room_id).await;
    let gus = TestClient::login(&homeserver, &gus_user).await;
    let gus_room = gus.join(&room_id).await;
    let lea = TestClient::login(&homeserver, &lea_user).await;
    let lea_room = lea.join(&room_id).await;
    let bot_id = scene.bot_user.user_id.clone();

    // The poll: a native poll in the room, numbered options on the list.
    let opened = chair
        .say(
            &room,
            "!poll open \"Which date suits for the workshop?\" \"9 March\" \"16 March\" \"23 March\"",
            REPLY_TIMEOUT,
        )
        .await;
    assert!(opened.starts_with("Opened R-1 poll"), "{opened}");
    let start =
        wait_for_bot_event(&chair, &room_id, &bot_id, "org.matrix.msc3381.poll.start").await;
    let poll = &start["content"]["org.matrix.msc3381.poll.start"];
    assert_eq!(
        poll["question"]["org.matrix.msc1767.text"],
        "Which date suits for the workshop?"
    );
    assert_eq!(poll["answers"][1]["id"], "2");
    assert_eq!(poll["answers"][1]["org.matrix.msc1767.text"], "16 March");
    let start_id = OwnedEventId::try_from(start["event_id"].as_str().expect("event ID"))
        .expect("valid event ID");
    let poll_mails = scene.list_mails("R-1: poll", 1).await;
    assert!(
        poll_mails[0].text.contains("- 2. 16 March"),
        "{}",
        poll_mails[0].text
    );

    // Two native responses (the chair changes his mind: his latest counts), a reaction, a
    // command and a mail.
    respond(&room, &start_id, "3").await;
    respond(&room, &start_id, "1").await;
    respond(&wei_room, &start_id, "2").await;
    gus_room
        .send(ReactionEventContent::new(Annotation::new(
            start_id.clone(),
            "3\u{FE0F}\u{20E3}".to_string(),
        )))
        .await
        .expect("react");
    let voted = lea
        .say(&lea_room, "!vote R-1 option 2", REPLY_TIMEOUT)
        .await;
    assert_eq!(voted, "Recorded: Lea Gac answers R-1 with 2. 16 March.");
    let by_mail = scene.ana_answers(&poll_mails[0], "2\n\nThanks, Ana").await;
    assert!(
        by_mail
            .text
            .contains("Recorded: Ana Lima answers R-1 with 2. 16 March."),
        "{}",
        by_mail.text
    );
    let tally = wait_for_tally(&chair, &room, 5).await;
    for expected in [
        "- 1. 9 March: 1 member",
        "- 2. 16 March: 3 members",
        "- 3. 23 March: 1 member",
        "- GNSO: divided (Chair Person: 1. 9 March; Ana Lima: 2. 16 March)",
        "- ALAC: 2. 16 March (Wei Lin)",
        "- GAC: divided (Gus Gac: 3. 23 March; Lea Gac: 2. 16 March)",
    ] {
        assert!(tally.contains(expected), "{expected}:\n{tally}");
    }

    // Closing: m.poll.end in the room with everyone's count, the tally on the list.
    let closed = chair.say(&room, "!poll close R-1", REPLY_TIMEOUT).await;
    assert!(closed.starts_with("Closed R-1 poll"), "{closed}");
    let end = wait_for_bot_event(&chair, &room_id, &bot_id, "org.matrix.msc3381.poll.end").await;
    assert_eq!(
        end["content"]["m.relates_to"]["event_id"],
        start_id.as_str()
    );
    assert_eq!(
        end["content"]["org.matrix.msc1767.text"],
        "The poll R-1 has closed. Members' top answer: 16 March (3 of 5 members who answered). \
         Counts from every channel: 9 March 1, 16 March 3, 23 March 1."
    );
    let results = scene.list_mails("R-1: result", 1).await;
    assert!(
        results[0].text.contains("- 2. 16 March: 3 members")
            && results[0].text.contains("- ALAC: 2. 16 March (Wei Lin)"),
        "{}",
        results[0].text
    );
    let late = wei.say(&wei_room, "!vote R-1 1", REPLY_TIMEOUT).await;
    assert!(
        late.contains("answers given after it closed are not counted"),
        "{late}"
    );

    // The position paper: called in the room, answered in the room and by mail.
    let called = chair
        .say(
            &room,
            "!consensus call \"Adopt the position paper v3\"",
            REPLY_TIMEOUT,
        )
        .await;
    assert!(
        called.starts_with("R-2 call for consensus by Chair Person"),
        "{called}"
    );
    let call_mails = scene.list_mails("R-2: call for consensus", 1).await;
    let ana_supports = scene.ana_answers(&call_mails[0], "support").await;
    assert!(
        ana_supports
            .text
            .contains("Recorded: Ana Lima (GNSO) supports R-2."),
        "{}",
        ana_supports.text
    );
    let objected = wei
        .say(&wei_room, "!object R-2 nothing on oversight", REPLY_TIMEOUT)
        .await;
    assert_eq!(
        objected,
        "Recorded: Wei Lin (ALAC) objects to R-2: nothing on oversight."
    );
    let refused = wei
        .say(&wei_room, "!designate R-2 Full Consensus", REPLY_TIMEOUT)
        .await;
    assert!(refused.starts_with("Only chairs or co-chairs"), "{refused}");
    let designated = chair
        .say(
            &room,
            "!designate R-2 Consensus with the ALAC objection noted",
            REPLY_TIMEOUT,
        )
        .await;
    assert!(
        designated.starts_with("Designated R-2 Consensus"),
        "{designated}"
    );
    let outcome = scene.list_mails("R-2: designated Consensus", 1).await;
    assert!(
        outcome[0]
            .text
            .contains("Designation: Consensus: with the ALAC objection noted"),
        "{}",
        outcome[0].text
    );
    let minority = wei
        .say(
            &wei_room,
            "!minority R-2 oversight must stay multistakeholder",
            REPLY_TIMEOUT,
        )
        .await;
    assert!(
        minority.starts_with("Filed: Wei Lin's minority view on R-2"),
        "{minority}"
    );
    let draft = chair.say(&room, "!chair-report R-2", REPLY_TIMEOUT).await;
    assert!(
        draft.contains("Minority view of Wei Lin: oversight must stay multistakeholder"),
        "{draft}"
    );
    chair
        .say(&room, "!chair-report R-2 adopt", REPLY_TIMEOUT)
        .await;
    let report = scene.list_mails("R-2: Chair's report", 1).await;
    assert!(
        report[0].text.contains("Objections:")
            && report[0]
                .text
                .contains("Wei Lin (ALAC): nothing on oversight"),
        "{}",
        report[0].text
    );
    // The adopted outcome enters the record, with its date of adoption and deadline.
    let path = scene
        .bot
        .data_dir()
        .join("data/record/test-ccg/outcomes.json");
    let deadline = Instant::now() + REPLY_TIMEOUT;
    let outcomes: Value = loop {
        let read = std::fs::read_to_string(&path)
            .ok()
            .and_then(|text| serde_json::from_str::<Value>(&text).ok())
            .filter(|outcomes| !outcomes[0]["chair_report"].is_null());
        if let Some(outcomes) = read {
            break outcomes;
        }
        assert!(
            Instant::now() < deadline,
            "no outcomes in {}",
            path.display()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(outcomes[0]["id"], "R-2");
    assert_eq!(outcomes[0]["designation"], "Consensus");
    assert_eq!(outcomes[0]["publication_limit_days"], 7);
    assert_eq!(
        outcomes[0]["minority_views"][0]["text"],
        "oversight must stay multistakeholder"
    );
    // The running bot publishes the public record shortly after: the outcome's page, with its
    // minority view, and the chain that holds it, which verifies.
    let site = scene.bot.data_dir().join("data/site");
    let page = site.join("test-ccg/outcomes/r-2.html");
    let deadline = Instant::now() + REPLY_TIMEOUT;
    loop {
        let published = std::fs::read_to_string(&page).unwrap_or_default();
        if published.contains("oversight must stay multistakeholder") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no outcome page at {}",
            page.display()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let verified = rapporteur::record::verify::verify_path(&site).expect("the chain verifies");
    assert_eq!(
        verified[0].1, 2,
        "the closed poll and the designated call: {verified:?}"
    );
    assert!(
        std::fs::read_to_string(site.join("test-ccg/polls/r-1.html"))
            .is_ok_and(|poll| poll.contains("R-1")),
        "the closed poll's page"
    );
    // The anonymous survey: opened in the room, answered by mail by Ana and Wei and in a direct
    // message by Lea, closed with its results; the database holds the answers with no identity.
    // Lea starts the direct conversation as Element does (encrypted, `is_direct`); the bot
    // accepts it since the group file lists her, and says what the room is for.
    let lea_direct = lea.create_direct_room(&bot_id).await;
    let lea_direct_id = lea_direct.room_id().to_owned();
    lea.wait_for_join(&lea_direct_id, &bot_id, Duration::from_secs(60))
        .await;
    lea.wait_for_announcement_of(
        &lea_direct_id,
        &bot_id,
        "A survey can be answered here privately",
        REPLY_TIMEOUT,
    )
    .await;
    // Someone no group file lists is declined.
    let stranger_user = homeserver.register("stranger").await;
    let stranger = TestClient::login(&homeserver, &stranger_user).await;
    let stranger_direct = stranger.create_direct_room(&bot_id).await;
    wait_for_membership(
        &stranger,
        &stranger_direct.room_id().to_owned(),
        &bot_id,
        "leave",
    )
    .await;

    let opened = chair.say(&room, "!survey open annual", REPLY_TIMEOUT).await;
    assert!(
        opened.starts_with("S-1 survey \"Annual survey\" is open"),
        "{opened}"
    );
    let wei_address = email_of(&wei_user.user_id);
    let mut answered_ids = Vec::new();
    for (address, name, body) in [
        (
            scene.list_reader.clone(),
            "Ana Lima",
            "1: 4\n2: b\n3: Shorter calls, please.\n\nAna",
        ),
        // Wei first writes a scale the survey does not have; he answers the bot's reply
        // (below) with the corrected lines.
        (wei_address.clone(), "Wei Lin", "1: 9\n2: a"),
    ] {
        let questionnaire = scene
            .servers
            .wait_for_mail(&address, 1, REPLY_TIMEOUT, |mail| {
                mail.subject.contains("S-1: survey")
            })
            .await;
        assert!(
            questionnaire[0]
                .text
                .contains("2. How often should we meet? ((a) Monthly, (b) Quarterly)"),
            "{}",
            questionnaire[0].text
        );
        let mut reply = scene
            .answers_by_mail(&address, name, &questionnaire[0], body)
            .await;
        answered_ids.push(
            reply
                .in_reply_to
                .clone()
                .expect("the reply answers the mail"),
        );
        if name == "Wei Lin" {
            assert!(
                reply.text.contains("Your answers to S-1 were not recorded")
                    && reply
                        .text
                        .contains("question 1 takes 1 (strongly disagree) to 5")
                    && !reply.text.contains('9'),
                "{}",
                reply.text
            );
            reply = scene
                .answers_by_mail(&address, name, &reply, "1: 2\n2: a")
                .await;
            answered_ids.push(
                reply
                    .in_reply_to
                    .clone()
                    .expect("the thanks answer the mail"),
            );
        }
        assert!(
            reply
                .text
                .contains("your answers to S-1 are recorded without your name"),
            "{}",
            reply.text
        );
    }
    // In the group's room an answer is refused: everyone would see it.
    let in_room = gus
        .say(&gus_room, "!survey answer S-1\n1: 1\n2: b", REPLY_TIMEOUT)
        .await;
    assert!(in_room.contains("in a direct message with me"), "{in_room}");
    // Lea asks for the questions and answers them in her direct conversation with the bot.
    let questions = lea
        .say(&lea_direct, "!survey show S-1", REPLY_TIMEOUT)
        .await;
    assert!(
        questions.contains("!survey answer S-1") && questions.contains("2. How often"),
        "{questions}"
    );
    let answer_event = lea
        .send(
            &lea_direct,
            "!survey answer S-1\n1: strongly agree\n2: (a) Monthly\n3: Minutes within a week.\nLea",
        )
        .await;
    let thanks = lea
        .wait_for_reply(&lea_direct_id, &answer_event, REPLY_TIMEOUT)
        .await;
    let thanks = support::matrix::event_body(&thanks.json);
    assert!(
        thanks.contains("your answers to S-1 are recorded without your name"),
        "{thanks}"
    );
    assert!(
        lea.announcements_of(&room_id, &bot_id, "Minutes within a week")
            .is_empty()
            && !chair
                .events_in(&room_id)
                .iter()
                .any(|event| support::matrix::event_body(&event.json).contains("Minutes within")),
        "the answer is not seen in the group's room"
    );
    answered_ids.push(answer_event);
    let closed = chair.say(&room, "!survey close S-1", REPLY_TIMEOUT).await;
    assert!(closed.starts_with("Closed S-1 with 3 answers"), "{closed}");
    let results = scene.list_mails("S-1: results", 1).await;
    for expected in [
        "- 2 disagree: 1",
        "- 4 agree: 1",
        "- 5 strongly agree: 1",
        "- (a) Monthly: 2",
        "- (b) Quarterly: 1",
        "- Minutes within a week.",
        "- Shorter calls, please.",
    ] {
        assert!(
            results[0].text.contains(expected),
            "{expected}:\n{}",
            results[0].text
        );
    }
    // Free-text answers are sorted, not in the order they came in.
    let text = &results[0].text;
    assert!(
        text.find("Minutes within a week") < text.find("Shorter calls"),
        "{text}"
    );
    let store = match &database_url {
        Some(url) => rapporteur::storage::Store::connect(url, 1)
            .await
            .expect("open the bot's database"),
        None => support::matrix::bot_store(&scene.bot).await,
    };
    let ballots: Vec<(String, String)> =
        sqlx::query_as("SELECT ballot_key, ballot FROM survey_ballots")
            .fetch_all(store.pool())
            .await
            .expect("read the ballots");
    assert_eq!(ballots.len(), 3, "three ballots");
    let identities = [
        ana_user.localpart.as_str(),
        wei_user.localpart.as_str(),
        lea_user.localpart.as_str(),
        "Ana",
        "Wei",
        "Lea",
        "GNSO",
        "ALAC",
        "@",
    ];
    for (key, ballot) in &ballots {
        assert_eq!(key.len(), 32, "a random key");
        for identity in identities {
            assert!(!ballot.contains(identity), "{identity} in {ballot}");
        }
    }
    let marks: Vec<(String,)> =
        sqlx::query_as("SELECT change FROM group_changes WHERE change LIKE '%survey%' ORDER BY id")
            .fetch_all(store.pool())
            .await
            .expect("read the change log");
    assert!(
        marks
            .iter()
            .all(|(change,)| !change.contains("survey_ballot") && !change.contains("Shorter")),
        "{marks:?}"
    );
    assert_eq!(
        marks
            .iter()
            .filter(|(change,)| change.contains("survey_answered"))
            .count(),
        3
    );
    // The mails that carried the answers (the refused one too) are kept handled, without
    // their text.
    for message_id in &answered_ids {
        let (body,): (String,) = sqlx::query_as("SELECT body FROM inbox WHERE external_id = $1")
            .bind(message_id)
            .fetch_one(store.pool())
            .await
            .expect("the answer's inbox record");
        assert_eq!(body, "", "the answer's text is not kept with its author");
    }

    println!(
        "poll and consensus end to end on {}: {:.1} s",
        if database_url.is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        },
        started.elapsed().as_secs_f64()
    );
}

/// Answers the native poll as Element does.
async fn respond(room: &Room, start: &OwnedEventId, answer: &str) {
    room.send(UnstablePollResponseEventContent::new(
        vec![answer.to_string()],
        start.clone(),
    ))
    .await
    .expect("send a poll response");
}

/// Asks for the poll's tally until its options count `answers` members (responses and
/// reactions get no reply to wait for).
async fn wait_for_tally(chair: &TestClient, room: &Room, answers: usize) -> String {
    let deadline = Instant::now() + REPLY_TIMEOUT;
    loop {
        let tally = chair.say(room, "!poll show R-1", REPLY_TIMEOUT).await;
        let counted: usize = tally
            .lines()
            .filter_map(|line| line.split(": ").nth(1))
            .filter_map(|count| count.split(' ').next()?.parse::<usize>().ok())
            .sum();
        if counted >= answers || Instant::now() >= deadline {
            assert_eq!(counted, answers, "every answer counted once:\n{tally}");
            return tally;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}
