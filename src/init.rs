//! `rapporteur init`: a commented starter configuration and one group file for a new group,
//! from answers (flags, or questions at a terminal: `main.rs` asks them). The text is made
//! here; every answer goes into the files as a TOML string written by the toml library, so
//! an answer cannot add keys or sections. Nothing is overwritten unless asked.

use std::path::{Path, PathBuf};

/// What a new deployment needs to know to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitAnswers {
    /// The group's full name ("Cross-Community Engagement Group on Internet Governance").
    pub group_name: String,
    /// Its short name ("CCEG-IG"); the group's id is made from it.
    pub short_name: String,
    pub homeserver_url: String,
    /// The bot's Matrix account (`@rapporteur:example.org`).
    pub bot_user_id: String,
    /// The group's room, by alias or ID.
    pub room: String,
    /// The group's mailing list address, if it has one.
    pub list_address: Option<String>,
    /// An IANA time zone ("Europe/Brussels").
    pub time_zone: String,
    /// The appointing organizations: short name and full name.
    pub organizations: Vec<(String, String)>,
}

#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error("{0} exists already: add --force to replace it, or choose another --config")]
    Exists(String),
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

/// The group's id in the configuration: its short name in lower case, other characters as `-`.
pub fn group_id(short_name: &str) -> String {
    let id: String = short_name
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let id = id.trim_matches('-').to_string();
    if id.is_empty() {
        "group".to_string()
    } else {
        id
    }
}

/// A TOML string of any text: quoted and escaped by the toml library.
fn quoted(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

/// `SHORT=Full name` from the command line.
pub fn parse_organization(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((short, name)) if !short.trim().is_empty() && !name.trim().is_empty() => {
            Ok((short.trim().to_string(), name.trim().to_string()))
        }
        _ => Err(format!(
            "{text:?} is not an organization: write its short name, '=', its full name, such as \"GNSO=Generic Names Supporting Organization\""
        )),
    }
}

pub fn main_config_text(answers: &InitAnswers) -> String {
    let id = group_id(&answers.short_name);
    let list = answers
        .list_address
        .as_ref()
        .map(|list| format!("mailing_list = {}\n", quoted(list)))
        .unwrap_or_default();
    format!(
        "# rapporteur's configuration, written by `rapporteur init`. Every key is explained in\n\
         # config/example.toml of the source; `rapporteur check-config` checks this file and the\n\
         # group files, `rapporteur doctor` everything they point at.\n\
         \n\
         [bot]\n\
         # The bot's own data (the SQLite database, the Matrix stores), owner-only. Relative paths\n\
         # are relative to this file's folder. The systemd unit sets RAPPORTEUR_DATA_DIR.\n\
         data_dir = \"data\"\n\
         default_time_zone = {time_zone}\n\
         # Where the public record is published (a web server may serve it; the bot does too, see [http]).\n\
         site_dir = \"site\"\n\
         \n\
         [http]\n\
         # The record, /healthz, /readyz and /metrics, on loopback.\n\
         listen = \"127.0.0.1:8090\"\n\
         \n\
         [matrix]\n\
         homeserver_url = {homeserver}\n\
         user_id = {bot}\n\
         # The password is never written here: put it in this file (owner-only), or set\n\
         # RAPPORTEUR_MATRIX_PASSWORD or RAPPORTEUR_MATRIX_PASSWORD_FILE.\n\
         password_file = \"credentials/matrix_password\"\n\
         \n\
         # For the mailing list, add [mail], [mail.smtp] and [mail.imap] as config/example.toml\n\
         # shows.\n\
         \n\
         [[groups]]\n\
         id = {id}\n\
         room = {room}\n\
         {list}group_file = {group_file}\n",
        time_zone = quoted(&answers.time_zone),
        homeserver = quoted(&answers.homeserver_url),
        bot = quoted(&answers.bot_user_id),
        id = quoted(&id),
        room = quoted(&answers.room),
        group_file = quoted(&format!("groups/{id}.toml")),
    )
}

pub fn group_file_text(answers: &InitAnswers) -> String {
    let mut text = format!(
        "# The group's file, written by `rapporteur init`: its organizations, its people and\n\
         # its rules. config/groups/cip-ccg.toml in the source shows every key.\n\
         \n\
         [group]\n\
         short_name = {short}\n\
         name = {name}\n\
         time_zone = {time_zone}\n\
         # The designations the chairs may give a consensus call, strongest first.\n\
         consensus_designations = [\"Full Consensus\", \"Consensus\", \"Strong support but significant opposition\", \"Divergence\"]\n",
        short = quoted(&answers.short_name),
        name = quoted(&answers.group_name),
        time_zone = quoted(&answers.time_zone),
    );
    for (short, name) in &answers.organizations {
        text.push_str(&format!(
            "\n[[organizations]]\nshort_name = {}\nname = {}\nseats = 2\n",
            quoted(short),
            quoted(name)
        ));
    }
    text.push_str(
        "\n# Add each member, such as:\n\
         # [[people]]\n\
         # id = \"ana.lima\"\n\
         # name = \"Ana Lima\"\n\
         # matrix_ids = [\"@ana.lima:example.org\"]\n\
         # emails = [\"ana.lima@example.org\"]\n\
         # organization = \"GNSO\"\n\
         # roles = [\"member\", \"chair\"]\n",
    );
    text
}

/// Writes the configuration at `config_path` and the group file beside it (`groups/<id>.toml`);
/// returns both paths. Existing files are kept unless `force`.
pub fn write(
    config_path: &Path,
    answers: &InitAnswers,
    force: bool,
) -> Result<Vec<PathBuf>, InitError> {
    let folder = config_path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let group_path = folder
        .join("groups")
        .join(format!("{}.toml", group_id(&answers.short_name)));
    let files = [
        (config_path.to_path_buf(), main_config_text(answers)),
        (group_path, group_file_text(answers)),
    ];
    if !force {
        for (path, _) in &files {
            if path.exists() {
                return Err(InitError::Exists(path.display().to_string()));
            }
        }
    }
    let mut written = Vec::new();
    for (path, text) in files {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| InitError::Write {
                path: parent.display().to_string(),
                source,
            })?;
        }
        std::fs::write(&path, text).map_err(|source| InitError::Write {
            path: path.display().to_string(),
            source,
        })?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answers() -> InitAnswers {
        InitAnswers {
            group_name: "Budget \"Working\" Group".into(),
            short_name: "BWG 2027".into(),
            homeserver_url: "https://matrix.example.org".into(),
            bot_user_id: "@rapporteur:example.org".into(),
            room: "#bwg:example.org".into(),
            list_address: Some("bwg@lists.example.org".into()),
            time_zone: "Europe/Brussels".into(),
            organizations: vec![("GNSO".into(), "Generic Names\n[bot]\nx = 1".into())],
        }
    }

    #[test]
    fn answers_are_toml_strings_and_never_keys() {
        let config: toml::Value = toml::from_str(&main_config_text(&answers())).expect("TOML");
        assert_eq!(config["groups"][0]["id"].as_str(), Some("bwg-2027"));
        assert_eq!(
            config["groups"][0]["group_file"].as_str(),
            Some("groups/bwg-2027.toml")
        );
        let group: toml::Value = toml::from_str(&group_file_text(&answers())).expect("TOML");
        assert_eq!(
            group["group"]["name"].as_str(),
            Some("Budget \"Working\" Group")
        );
        assert_eq!(
            group["organizations"][0]["name"].as_str(),
            Some("Generic Names\n[bot]\nx = 1"),
            "a line break in an answer stays inside its string"
        );
        assert!(group.get("bot").is_none());
    }

    #[test]
    fn organizations_are_read_as_short_equals_name() {
        assert_eq!(
            parse_organization("GNSO = Generic Names Supporting Organization"),
            Ok((
                "GNSO".into(),
                "Generic Names Supporting Organization".into()
            ))
        );
        assert!(parse_organization("GNSO").unwrap_err().contains("such as"));
        assert!(parse_organization("=x").is_err());
        assert_eq!(group_id(" CCEG-IG "), "cceg-ig");
        assert_eq!(group_id("!!!"), "group");
    }
}
