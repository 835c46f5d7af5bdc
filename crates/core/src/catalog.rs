//! The command catalog: one TOML file per command in the repository's `commands/` folder, compiled
//! into the binary. Each file gives the command's syntax forms, who may use each form, its help
//! text and examples with their exact replies. `!help` is generated from these files, and the
//! test suite runs every example through the engine, so the documentation cannot drift from the
//! behaviour.

use super::directory::{Person, Role};
use serde::Deserialize;

/// Who may use a form of a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Anyone, including senders the group file does not know.
    Everyone,
    /// Anyone the group file names, whatever their role.
    AnyKnownPerson,
    /// Holders of one role.
    Holders(Role),
    /// The person chosen with `!rapporteur` for the meeting in progress (or the next one).
    /// Whether a sender is that person depends on the state, so the engine asks; the form
    /// alone admits nobody through it.
    MeetingRapporteur,
}

impl Audience {
    fn parse(text: &str) -> Option<Audience> {
        match text.trim().to_ascii_lowercase().as_str() {
            "everyone" => Some(Audience::Everyone),
            "known" => Some(Audience::AnyKnownPerson),
            "meeting-rapporteur" => Some(Audience::MeetingRapporteur),
            other => Role::from_name(other).map(Audience::Holders),
        }
    }

    pub fn admits(self, person: Option<&Person>) -> bool {
        match self {
            Audience::Everyone => true,
            Audience::AnyKnownPerson => person.is_some(),
            Audience::Holders(role) => person.is_some_and(|person| person.has_role(role)),
            Audience::MeetingRapporteur => false,
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Audience::Everyone => "everyone",
            Audience::AnyKnownPerson => "anyone listed in the group",
            Audience::Holders(role) => role.plural(),
            Audience::MeetingRapporteur => "the meeting's rapporteur",
        }
    }
}

/// One way of writing a command, such as `!whoami` or `!whoami <person>`.
#[derive(Debug, Clone)]
pub struct CommandForm {
    pub syntax: String,
    pub description: String,
    pub who_may_use: Vec<Audience>,
}

impl CommandForm {
    pub fn admits(&self, person: Option<&Person>) -> bool {
        self.who_may_use
            .iter()
            .any(|audience| audience.admits(person))
    }

    /// Whether the meeting's rapporteur may use this form (see [`Audience::MeetingRapporteur`]).
    pub fn admits_meeting_rapporteur(&self) -> bool {
        self.who_may_use.contains(&Audience::MeetingRapporteur)
    }

    /// "chairs, co-chairs or staff".
    pub fn who_may_use_text(&self) -> String {
        let names: Vec<&str> = self.who_may_use.iter().map(|a| a.describe()).collect();
        match names.as_slice() {
            [] => "nobody".to_string(),
            [only] => (*only).to_string(),
            [rest @ .., last] => format!("{} or {}", rest.join(", "), last),
        }
    }
}

/// An example from a command file: a message, who sends it, and the exact reply.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandExample {
    /// The configured group the example runs in (`cip-ccg`, `cceg-ig`).
    pub group: String,
    /// The sender: a Matrix ID or an email address.
    pub sender: String,
    pub input: String,
    /// The exact plain-text reply; an empty string means "no reply".
    pub reply: String,
    /// The time the example runs at, RFC 3339; the test harness has a fixed default.
    pub now: Option<String>,
    /// Commands run first, in order, so the example starts from a state (an open request, an
    /// answer already given). Their replies are not checked here; their own examples do that.
    #[serde(default)]
    pub setup: Vec<ExampleStep>,
}

/// A command run before an example, by someone, at a time.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExampleStep {
    pub sender: String,
    pub input: String,
    pub now: Option<String>,
}

#[derive(Debug, Clone)]
pub struct CommandSpec {
    pub name: String,
    pub summary: String,
    pub help: String,
    pub forms: Vec<CommandForm>,
    pub examples: Vec<CommandExample>,
    /// Where the answer to a command received by mail goes.
    pub mail_reply_to: MailReplyTo,
    /// The command ends in the writer's own words (a decision, a note, a reason): an
    /// apostrophe or an unmatched quote in them is text, not a quoting mistake, and the handler
    /// reads them as typed.
    pub free_text: bool,
}

/// Where the answer to a command received by mail goes: to its author only, or to the group's
/// list when the result is of public interest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailReplyTo {
    Author,
    List,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawForm {
    syntax: String,
    description: String,
    who_may_use: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCommand {
    name: String,
    summary: String,
    help: String,
    forms: Vec<RawForm>,
    examples: Vec<CommandExample>,
    mail_reply_to: MailReplyTo,
    #[serde(default)]
    free_text: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("commands/{file}: {message}")]
    Invalid { file: String, message: String },
}

/// The command files compiled into the binary, in the order `!help` lists them. A test checks
/// that this list and the `commands/` folder agree.
pub const COMMAND_FILES: &[(&str, &str)] = &[
    ("help.toml", include_str!("../../../commands/help.toml")),
    ("ping.toml", include_str!("../../../commands/ping.toml")),
    ("whoami.toml", include_str!("../../../commands/whoami.toml")),
    ("roster.toml", include_str!("../../../commands/roster.toml")),
    (
        "request.toml",
        include_str!("../../../commands/request.toml"),
    ),
    (
        "requests.toml",
        include_str!("../../../commands/requests.toml"),
    ),
    ("status.toml", include_str!("../../../commands/status.toml")),
    ("ack.toml", include_str!("../../../commands/ack.toml")),
    (
        "respond.toml",
        include_str!("../../../commands/respond.toml"),
    ),
    ("extend.toml", include_str!("../../../commands/extend.toml")),
    ("grant.toml", include_str!("../../../commands/grant.toml")),
    ("refuse.toml", include_str!("../../../commands/refuse.toml")),
    ("remind.toml", include_str!("../../../commands/remind.toml")),
    ("report.toml", include_str!("../../../commands/report.toml")),
    (
        "meeting.toml",
        include_str!("../../../commands/meeting.toml"),
    ),
    (
        "present.toml",
        include_str!("../../../commands/present.toml"),
    ),
    ("left.toml", include_str!("../../../commands/left.toml")),
    (
        "regrets.toml",
        include_str!("../../../commands/regrets.toml"),
    ),
    ("topic.toml", include_str!("../../../commands/topic.toml")),
    ("info.toml", include_str!("../../../commands/info.toml")),
    ("agreed.toml", include_str!("../../../commands/agreed.toml")),
    ("action.toml", include_str!("../../../commands/action.toml")),
    ("link.toml", include_str!("../../../commands/link.toml")),
    ("undo.toml", include_str!("../../../commands/undo.toml")),
    (
        "rapporteur.toml",
        include_str!("../../../commands/rapporteur.toml"),
    ),
    (
        "actions.toml",
        include_str!("../../../commands/actions.toml"),
    ),
    ("done.toml", include_str!("../../../commands/done.toml")),
    (
        "attendance.toml",
        include_str!("../../../commands/attendance.toml"),
    ),
    (
        "consensus.toml",
        include_str!("../../../commands/consensus.toml"),
    ),
    (
        "support.toml",
        include_str!("../../../commands/support.toml"),
    ),
    ("object.toml", include_str!("../../../commands/object.toml")),
    (
        "abstain.toml",
        include_str!("../../../commands/abstain.toml"),
    ),
    ("poll.toml", include_str!("../../../commands/poll.toml")),
    ("vote.toml", include_str!("../../../commands/vote.toml")),
    (
        "designate.toml",
        include_str!("../../../commands/designate.toml"),
    ),
    (
        "minority.toml",
        include_str!("../../../commands/minority.toml"),
    ),
    (
        "chair-report.toml",
        include_str!("../../../commands/chair-report.toml"),
    ),
    (
        "published.toml",
        include_str!("../../../commands/published.toml"),
    ),
    ("survey.toml", include_str!("../../../commands/survey.toml")),
];

#[derive(Debug, Clone)]
pub struct Catalog {
    pub commands: Vec<CommandSpec>,
}

impl Catalog {
    /// The catalog of the commands compiled into this binary.
    pub fn builtin() -> Result<Catalog, CatalogError> {
        Self::from_files(COMMAND_FILES.iter().copied())
    }

    pub fn from_files<'a>(
        files: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Catalog, CatalogError> {
        let mut commands = Vec::new();
        for (file, text) in files {
            let invalid = |message: String| CatalogError::Invalid {
                file: file.to_string(),
                message,
            };
            let raw: RawCommand =
                toml::from_str(text).map_err(|error| invalid(error.to_string()))?;
            if format!("{}.toml", raw.name) != file {
                return Err(invalid(format!(
                    "name {:?} does not match the file name",
                    raw.name
                )));
            }
            let mut forms = Vec::new();
            for form in raw.forms {
                let mut who_may_use = Vec::new();
                for audience in &form.who_may_use {
                    who_may_use.push(Audience::parse(audience).ok_or_else(|| {
                        invalid(format!("unknown audience {audience:?} in who_may_use"))
                    })?);
                }
                forms.push(CommandForm {
                    syntax: form.syntax,
                    description: form.description,
                    who_may_use,
                });
            }
            if forms.is_empty() {
                return Err(invalid("a command needs at least one form".into()));
            }
            if raw.examples.len() < 2 {
                return Err(invalid("every command needs at least two examples".into()));
            }
            commands.push(CommandSpec {
                name: raw.name,
                summary: raw.summary,
                help: raw.help.trim().to_string(),
                forms,
                examples: raw.examples,
                mail_reply_to: raw.mail_reply_to,
                free_text: raw.free_text,
            });
        }
        Ok(Catalog { commands })
    }

    pub fn find(&self, name: &str) -> Option<&CommandSpec> {
        self.commands
            .iter()
            .find(|command| command.name.eq_ignore_ascii_case(name))
    }

    /// The known command closest in spelling to `name`, if one is close enough to be a likely typo.
    pub fn closest(&self, name: &str) -> Option<&CommandSpec> {
        let wanted = name.to_ascii_lowercase();
        self.commands
            .iter()
            .map(|command| (strsim::damerau_levenshtein(&wanted, &command.name), command))
            .filter(|(distance, command)| {
                *distance <= 2 || command.name.starts_with(&wanted) && wanted.len() >= 2
            })
            .min_by_key(|(distance, _)| *distance)
            .map(|(_, command)| command)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalog_loads() {
        let catalog = Catalog::builtin().expect("the command files are valid");
        assert!(catalog.find("HELP").is_some());
    }

    #[test]
    fn every_file_in_the_commands_folder_is_compiled_in() {
        let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../commands");
        let mut on_disk: Vec<String> = std::fs::read_dir(folder)
            .expect("commands/ exists")
            .map(|entry| {
                entry
                    .expect("readable entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .filter(|name| name.ends_with(".toml"))
            .collect();
        on_disk.sort();
        let mut compiled: Vec<String> = COMMAND_FILES.iter().map(|(f, _)| f.to_string()).collect();
        compiled.sort();
        assert_eq!(on_disk, compiled);
    }

    #[test]
    fn closest_command_suggests_typos_only() {
        let catalog = Catalog::builtin().expect("valid");
        let suggestion = |typed: &str| catalog.closest(typed).map(|c| c.name.clone());
        assert_eq!(suggestion("rooster"), Some("roster".into()));
        assert_eq!(suggestion("hlep"), Some("help".into()));
        assert_eq!(suggestion("who"), Some("whoami".into()));
        assert_eq!(suggestion("xylophone"), None);
    }

    #[test]
    fn a_file_with_one_example_is_rejected() {
        let text = r#"
name = "x"
summary = "s"
help = "h"
mail_reply_to = "author"
[[forms]]
syntax = "!x"
description = "d"
who_may_use = ["everyone"]
[[examples]]
group = "g"
sender = "@a:b"
input = "!x"
reply = ""
"#;
        let error = Catalog::from_files([("x.toml", text)]).unwrap_err();
        assert!(error.to_string().contains("two examples"), "{error}");
    }

    #[test]
    fn unknown_audience_is_rejected() {
        let text = r#"
name = "x"
summary = "s"
help = "h"
mail_reply_to = "author"
examples = []
[[forms]]
syntax = "!x"
description = "d"
who_may_use = ["kings"]
"#;
        let error = Catalog::from_files([("x.toml", text)]).unwrap_err();
        assert!(error.to_string().contains("unknown audience"), "{error}");
    }
}
