//! Properties of the core over arbitrary input: it never panics, and whatever the user wrote, the
//! HTML of a reply or an announcement contains only the markup the bot itself produces. The
//! state-changing commands run against a group with an open request, so their deeper paths
//! (answers, extensions, reminders, closing) are reached, not only their usage errors.

use proptest::prelude::*;
use rapporteur::config::load_group_file;
use rapporteur::core::catalog::Catalog;
use rapporteur::core::directory::{Group, SenderAddress};
use rapporteur::core::effects::Effect;
use rapporteur::core::engine::Engine;
use rapporteur::core::state::GroupState;
use std::sync::OnceLock;

fn fixtures() -> &'static (Engine, Group, GroupState) {
    static FIXTURES: OnceLock<(Engine, Group, GroupState)> = OnceLock::new();
    FIXTURES.get_or_init(|| {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/groups/cip-ccg.toml");
        let group = load_group_file(&path, "cip-ccg", "UTC").expect("example group");
        let engine = Engine::new(Catalog::builtin().expect("catalog"), "!");
        // R-1 open to everyone, with one answer and one extension asked; R-2 closed.
        let mut state = GroupState::default();
        for (sender, body) in [
            (
                "@ana.lima:localhost",
                "!request open \"<b>Budget</b>\" ack 2026-12-01 due 2026-12-20",
            ),
            (
                "@kwame.mensah:localhost",
                "!respond R-1 support-with-comments <script>x</script>",
            ),
            (
                "@rahul.deshpande:localhost",
                "!extend R-1 2027-01-10 <i>council</i>",
            ),
            ("@ana.lima:localhost", "!request open \"Other\" to GNSO"),
            ("@ana.lima:localhost", "!request close R-2 force"),
            // M-1 scheduled for later, M-2 an extra meeting in progress with minutes and an
            // action item, so the meeting commands reach their deeper paths too.
            (
                "@ana.lima:localhost",
                "!meeting schedule \"<b>Call</b>\" 2026-12-08 14:00 at \"<i>Room</i>\"",
            ),
            ("@ana.lima:localhost", "!meeting start"),
            ("@ana.lima:localhost", "!agreed <script>x</script>"),
            (
                "@ana.lima:localhost",
                "!action Kwame Mensah <em>draft</em> due 2026-12-20",
            ),
            (
                "@kwame.mensah:localhost",
                "!regrets M-1 <u>away</u>, alternate \"<s>Jo</s>\"",
            ),
            // R-3 a call for consensus with an objection, R-4 a hidden poll with an answer,
            // so the consensus commands reach their deeper paths too.
            (
                "@ana.lima:localhost",
                "!consensus call \"<b>Adopt</b> the paper\" closes 2026-12-20",
            ),
            ("@kwame.mensah:localhost", "!object R-3 <script>x</script>"),
            (
                "@ana.lima:localhost",
                "!poll open \"<i>When?</i>\" \"<b>9 March</b>\" \"16 March\" hidden",
            ),
            ("@kwame.mensah:localhost", "!vote R-4 1"),
        ] {
            let decision = engine.decide_command(
                &state,
                &group,
                &SenderAddress::Matrix(sender.to_string()),
                body,
                "2026-11-25T10:00:00Z".parse().expect("time"),
            );
            assert!(
                !decision.changes.is_empty(),
                "setup {body:?}: {:?}",
                decision.reply()
            );
            for change in &decision.changes {
                state.apply(change);
            }
        }
        (engine, group, state)
    })
}

/// The HTML with the bot's own tags removed; what is left must hold no markup.
fn without_own_tags(html: &str) -> String {
    let mut rest = html.to_string();
    for tag in [
        "<br>",
        "<strong>",
        "</strong>",
        "<code>",
        "</code>",
        "<ul>",
        "</ul>",
        "<li>",
        "</li>",
        "<pre>",
        "</pre>",
    ] {
        rest = rest.replace(tag, "");
    }
    rest
}

fn command_like() -> impl Strategy<Value = String> {
    let names = prop::sample::select(vec![
        "help",
        "ping",
        "whoami",
        "roster",
        "HELP",
        "Roster",
        "rooster",
        "w",
        "request",
        "requests",
        "status",
        "ack",
        "respond",
        "extend",
        "grant",
        "refuse",
        "remind",
        "report",
        "meeting",
        "present",
        "left",
        "regrets",
        "topic",
        "info",
        "agreed",
        "action",
        "link",
        "undo",
        "rapporteur",
        "actions",
        "done",
        "attendance",
        "consensus",
        "support",
        "object",
        "abstain",
        "poll",
        "vote",
        "designate",
        "minority",
        "chair-report",
        "survey",
    ]);
    // Words the commands look for, mixed with anything at all.
    let word = prop_oneof![
        prop::sample::select(vec![
            "open",
            "close",
            "continuation",
            "force",
            "all",
            "R-1",
            "r-2",
            "R-3",
            "R-4",
            "call",
            "show",
            "hidden",
            "closes",
            "option",
            "adopt",
            "Consensus",
            "Full Consensus",
            "S-1",
            "annual-2026",
            "answer",
            "R-99",
            "#1",
            "to",
            "ack",
            "due",
            "doc",
            "GNSO",
            "ALAC,GAC",
            "support",
            "no-support",
            "withdraw",
            "2026-12-24",
            "2026-03-29 02:30",
            "in 3 weeks",
            "friday",
            "+2w",
            "https://x.org/a",
            "response-times",
            "schedule",
            "move",
            "cancel",
            "start",
            "end",
            "list",
            "M-1",
            "2026-12-08",
            "2026-12-08 14:00",
            "for",
            "90m",
            "remote",
            "in-person",
            "at",
            "Ana Lima",
            "Kwame",
            "A-1",
            "alternate",
            "since",
            "\"",
            "<b>",
            "&amp;",
        ])
        .prop_map(str::to_string),
        any::<String>(),
    ];
    (names, prop::collection::vec(word, 0..6))
        .prop_map(|(name, arguments)| format!("!{name} {}", arguments.join(" ")))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn any_message_gets_a_safe_answer_or_none(body in prop_oneof![any::<String>(), command_like()],
                                              sender in prop_oneof![Just("@ana.lima:localhost".to_string()), Just("@kwame.mensah:localhost".to_string()), Just("@rahul.deshpande:localhost".to_string()), Just("@nadia.haddad:localhost".to_string()), any::<String>()]) {
        let (engine, group, state) = fixtures();
        let now = "2026-11-25T16:00:00Z".parse().expect("time");
        let decision = engine.decide_command(
            state,
            group,
            &SenderAddress::Matrix(sender),
            &body,
            now,
        );
        if let Some(reply) = decision.reply() {
            let html = reply.html();
            let leftover = without_own_tags(&html);
            prop_assert!(!leftover.contains('<') && !leftover.contains('>'), "markup leaked: {html}");
            prop_assert!(!reply.plain_text().is_empty());
        }
        for effect in &decision.effects {
            if let Effect::Announce { document, .. } | Effect::Invite { document, .. } = effect {
                let html = document.html();
                let leftover = without_own_tags(&html);
                prop_assert!(!leftover.contains('<') && !leftover.contains('>'), "markup leaked in an announcement: {html}");
            }
        }
    }
}
