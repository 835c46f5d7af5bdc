//! A group with a busy record for the public-record tests: a meeting with markup in a topic, a
//! link and an action; a request acknowledged and answered; an outcome designated with a
//! minority view; a member whose name holds markup; and two list messages (an HTML-only post
//! with hostile markup, and a reply with a quote and an attachment).

use rapporteur::core::catalog::Catalog;
use rapporteur::core::directory::{Group, SenderAddress};
use rapporteur::core::engine::{Channel, Engine, Input, Message};
use rapporteur::core::state::GroupState;
use rapporteur::storage::Store;

pub const CHAIR: &str = "@ana:example.org";
pub const MEMBER: &str = "@bea:example.org";
pub const HOSTILE: &str = "<script>alert(1)</script><img src=x onerror=alert(2)>";

pub fn run(group: &Group, state: &mut GroupState, sender: &str, body: &str, now: &str) {
    let engine = Engine::new(Catalog::builtin().expect("valid catalog"), "!");
    let sender = SenderAddress::Matrix(sender.into());
    let message = Message::new(&sender, body, Channel::Matrix);
    let decision = engine.decide(
        state,
        group,
        &Input::Message(message),
        now.parse().expect("RFC 3339"),
    );
    for change in &decision.changes {
        state.apply(change);
    }
}

/// The small test group, one of whose members has a name with markup in it.
pub fn busy_group() -> (Group, GroupState) {
    let mut group = rapporteur::core::directory::test_support::small_group_with_gus_and_pat();
    let bea = group
        .people
        .iter_mut()
        .find(|person| person.id == "bea.alac")
        .expect("Bea");
    bea.name = format!("Bea {HOSTILE}");
    let mut state = GroupState::default();
    let steps = [
        (CHAIR, "!meeting start", "2026-12-01T14:00:00Z"),
        (MEMBER, "!present", "2026-12-01T14:01:00Z"),
        (CHAIR, &format!("!topic {HOSTILE}"), "2026-12-01T14:02:00Z"),
        (
            CHAIR,
            "!link javascript:alert(3) the draft",
            "2026-12-01T14:02:30Z",
        ),
        (
            CHAIR,
            "!action bea.alac draft the letter",
            "2026-12-01T14:03:00Z",
        ),
        (CHAIR, "!meeting end", "2026-12-01T15:00:00Z"),
        (
            CHAIR,
            &format!(
                "!request open \"Budget {HOSTILE}\" to GNSO, ALAC ack 2026-12-10 due 2026-12-20"
            ),
            "2026-12-02T10:00:00Z",
        ),
        (MEMBER, "!ack R-1", "2026-12-03T10:00:00Z"),
        (MEMBER, "!respond R-1 support", "2026-12-04T09:00:00Z"),
        (
            CHAIR,
            "!consensus call \"Adopt the charter\"",
            "2026-12-04T10:00:00Z",
        ),
        (MEMBER, "!object R-2 too early", "2026-12-05T10:00:00Z"),
        (CHAIR, "!designate R-2 Consensus", "2026-12-06T10:00:00Z"),
        (
            MEMBER,
            "!minority R-2 we need another round",
            "2026-12-06T11:00:00Z",
        ),
    ];
    for (sender, body, now) in steps {
        run(&group, &mut state, sender, body, now);
    }
    (group, state)
}

/// A post with HTML only (and markup in it) and a reply with a quote and an attachment.
pub async fn archive_two_list_messages(store: &Store, group_id: &str) {
    use rapporteur::mail::archive::archive_view;
    let root = format!(
        "From: Kwame Mensah <kwame@example.org>\r\nSubject: [TG] Charter {HOSTILE}\r\n\
         Message-ID: <root@example.org>\r\nDate: Mon, 7 Dec 2026 09:00:00 +0000\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
         <p>Shall we adopt it?</p>{HOSTILE}<a href=\"javascript:alert(4)\">vote</a>\r\n"
    );
    let attachment = "A".repeat(12 * 1024);
    let reply = format!(
        "From: Ana Lima <ana@example.org>\r\nSubject: Re: [TG] Charter\r\n\
         Message-ID: <reply@example.org>\r\nIn-Reply-To: <root@example.org>\r\n\
         Date: Mon, 7 Dec 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nYes; ask kwame@example.org.\r\n\r\n\
         > Shall we adopt it?\r\n--b\r\nContent-Type: application/pdf\r\n\
         Content-Disposition: attachment; filename=\"charter-v3.pdf\"\r\n\r\n{attachment}\r\n--b--\r\n"
    );
    for (raw, id) in [(root, "<root@example.org>"), (reply, "<reply@example.org>")] {
        let archived = archive_view(raw.as_bytes(), id).expect("a message");
        assert!(
            store
                .archive_list_message(group_id, &archived)
                .await
                .unwrap()
        );
        assert!(
            !store
                .archive_list_message(group_id, &archived)
                .await
                .unwrap(),
            "archived once"
        );
    }
}
