//! Runs every example of every command file in `commands/` through the engine, against the
//! example groups in `config/groups/`, and compares the reply with the one the file documents.
//! The documentation and the behaviour therefore cannot drift apart.

use rapporteur::config::load_group_file;
use rapporteur::core::catalog::Catalog;
use rapporteur::core::directory::{Group, SenderAddress};
use rapporteur::core::engine::Engine;
use std::path::Path;

const DEFAULT_EXAMPLE_TIME: &str = "2026-11-25T16:00:00Z";

fn example_group(id: &str) -> Group {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("config/groups/{id}.toml"));
    load_group_file(&path, id, "UTC").unwrap_or_else(|problems| {
        panic!("example group {id} is invalid: {problems:?}");
    })
}

fn sender_of(text: &str) -> SenderAddress {
    if text.starts_with('@') {
        SenderAddress::Matrix(text.to_string())
    } else {
        SenderAddress::Email(text.to_string())
    }
}

#[test]
fn every_command_example_gives_its_documented_reply() {
    let catalog = Catalog::builtin().expect("command files are valid");
    let engine = Engine::new(catalog.clone(), "!");
    let mut failures = Vec::new();
    let mut examples_run = 0;
    for command in &catalog.commands {
        for example in &command.examples {
            let group = example_group(&example.group);
            let now = example
                .now
                .as_deref()
                .unwrap_or(DEFAULT_EXAMPLE_TIME)
                .parse()
                .expect("example time is RFC 3339");
            let decision = engine.decide(&group, &sender_of(&example.sender), &example.input, now);
            let actual = decision
                .reply()
                .map(|reply| reply.plain_text())
                .unwrap_or_default();
            examples_run += 1;
            if actual.trim_end() != example.reply.trim_end() {
                failures.push(format!(
                    "commands/{}.toml, example {:?} from {} in {}:\n--- expected\n{}\n--- actual\n{}\n",
                    command.name, example.input, example.sender, example.group, example.reply, actual
                ));
            }
        }
    }
    assert!(examples_run >= 2 * catalog.commands.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
