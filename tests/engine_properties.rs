//! Properties of the core over arbitrary input: it never panics, and whatever the user wrote, the
//! HTML of a reply contains only the markup the bot itself produces.

use proptest::prelude::*;
use rapporteur::config::load_group_file;
use rapporteur::core::catalog::Catalog;
use rapporteur::core::directory::{Group, SenderAddress};
use rapporteur::core::engine::Engine;
use std::sync::OnceLock;

fn fixtures() -> &'static (Engine, Group) {
    static FIXTURES: OnceLock<(Engine, Group)> = OnceLock::new();
    FIXTURES.get_or_init(|| {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/groups/cip-ccg.toml");
        let group = load_group_file(&path, "cip-ccg", "UTC").expect("example group");
        (
            Engine::new(Catalog::builtin().expect("catalog"), "!"),
            group,
        )
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
        "help", "ping", "whoami", "roster", "HELP", "Roster", "rooster", "w",
    ]);
    (names, prop::collection::vec(any::<String>(), 0..4))
        .prop_map(|(name, arguments)| format!("!{name} {}", arguments.join(" ")))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn any_message_gets_a_safe_answer_or_none(body in prop_oneof![any::<String>(), command_like()],
                                              sender in prop_oneof![Just("@ana.lima:localhost".to_string()), Just("@kwame.mensah:localhost".to_string()), any::<String>()]) {
        let (engine, group) = fixtures();
        let now = "2026-11-25T16:00:00Z".parse().expect("time");
        let decision = engine.decide_command(
            &rapporteur::core::state::GroupState::default(),
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
    }
}
