//! Runs every example of every command file in `commands/` through the engine, against the
//! example groups in `config/groups/`, and compares the reply with the one the file documents.
//! The documentation and the behaviour therefore cannot drift apart.

use rapporteur::config::load_group_file;
use rapporteur::core::catalog::{Catalog, CommandExample};
use rapporteur::core::directory::{Group, SenderAddress};
use rapporteur::core::engine::{Disposition, Engine};
use rapporteur::core::state::GroupState;
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

/// The state an example starts from: its setup commands run in order, each of which must be
/// carried out (a setup that is refused would make the example test something else).
fn state_after_setup(engine: &Engine, group: &Group, example: &CommandExample) -> GroupState {
    let mut state = GroupState::default();
    for step in &example.setup {
        let now = step
            .now
            .as_deref()
            .or(example.now.as_deref())
            .unwrap_or(DEFAULT_EXAMPLE_TIME)
            .parse()
            .expect("setup time is RFC 3339");
        let decision =
            engine.decide_command(&state, group, &sender_of(&step.sender), &step.input, now);
        assert_eq!(
            decision.disposition,
            Disposition::Executed,
            "setup step {:?} of example {:?} was not carried out: {:?}",
            step.input,
            example.input,
            decision.reply().map(|reply| reply.plain_text())
        );
        for change in &decision.changes {
            state.apply(change);
        }
    }
    state
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
            let state = state_after_setup(&engine, &group, example);
            let decision = engine.decide_command(
                &state,
                &group,
                &sender_of(&example.sender),
                &example.input,
                now,
            );
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

/// The mail address an example's sender writes from: a person's first address, or a stranger's.
fn mail_address_of(group: &Group, sender: &str) -> String {
    match group.identify(&sender_of(sender)) {
        Some(person) if !person.emails.is_empty() => person.emails[0].clone(),
        _ if !sender.starts_with('@') => sender.to_string(),
        _ => "stranger@example.net".to_string(),
    }
}

#[test]
fn every_command_example_gives_the_same_reply_by_mail() {
    use rapporteur::handling::decide_mail;
    use rapporteur::mail::{MailRules, Outcome, examine_mail};
    let catalog = Catalog::builtin().expect("command files are valid");
    let engine = Engine::new(catalog.clone(), "!");
    let rules = MailRules {
        command_prefix: "!".to_string(),
        message_id_domain: "rapporteur.localhost".to_string(),
        identity: rapporteur::mail::MailIdentity::from_hex(&[
            "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
        ])
        .expect("a valid secret"),
        size_limit_bytes: 1 << 20,
        list_addresses: vec![],
        trusted_authserv_id: None,
        list_trust: Default::default(),
    };
    let mut failures = Vec::new();
    for command in &catalog.commands {
        for (index, example) in command.examples.iter().enumerate() {
            let group = example_group(&example.group);
            let now = example
                .now
                .as_deref()
                .unwrap_or(DEFAULT_EXAMPLE_TIME)
                .parse()
                .expect("example time is RFC 3339");
            let address = mail_address_of(&group, &example.sender);
            // The command as a subscriber writes it: in the body of a new mail, signed.
            let raw = format!(
                "From: Example Sender <{address}>\r\nTo: rapporteur@lists.example.org\r\n\
                 Subject: a question for the bot\r\nMessage-ID: <{}-{index}@example.org>\r\n\r\n\
                 {}\r\n\r\n-- \r\nExample Sender\r\n",
                command.name, example.input
            );
            let examined = examine_mail(raw.as_bytes(), &rules);
            let actual = if examined.outcome == Outcome::Accepted {
                let state = state_after_setup(&engine, &group, example);
                let decision = decide_mail(
                    &engine,
                    &state,
                    &group,
                    &SenderAddress::Email(examined.author.clone().unwrap_or_default()),
                    &examined.commands.join("\n"),
                    now,
                );
                decision
                    .reply()
                    .map(|reply| reply.plain_text())
                    .unwrap_or_default()
            } else {
                String::new()
            };
            // A reply to a stranger names the address the message came from.
            let expected = if group.identify(&sender_of(&example.sender)).is_none() {
                example.reply.replace(&example.sender, &address)
            } else {
                example.reply.clone()
            };
            if actual.trim_end() != expected.trim_end() {
                failures.push(format!(
                    "commands/{}.toml, example {:?} by mail from {address}:\n--- expected\n{}\n--- actual\n{}\n",
                    command.name, example.input, expected, actual
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
