use super::addresses::{is_matrix_room, is_matrix_user_id};
use super::groups::group_from_text;
use super::position::{ConfigProblem, SourceText, read_failure};
use super::raw::RawMainConfig;
use super::secret::{SecretSource, resolve_secret};
use super::{DatabaseSettings, GroupSettings, MatrixSettings, Settings};
use std::path::{Path, PathBuf};
use toml::Spanned;

/// Reads environment variables; tests pass a fixed map instead of the process environment.
pub type Environment<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process environment, for the binary.
pub fn process_environment(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// A problem in a value that came from an environment variable rather than a file.
fn environment_problem(variable: &str, message: impl Into<String>) -> ConfigProblem {
    ConfigProblem {
        file: PathBuf::from(format!("${variable}")),
        line: 0,
        column: 0,
        message: message.into(),
    }
}

/// A value from the config file, replaced by an environment variable when that is set.
pub(super) enum Origin<'a> {
    File(&'a Spanned<String>),
    Environment(&'static str),
}

pub(super) struct Overridable<'a> {
    pub(super) value: Option<String>,
    pub(super) origin: Option<Origin<'a>>,
}

pub(super) fn overridable<'a>(
    from_file: Option<&'a Spanned<String>>,
    variable: &'static str,
    environment: Environment,
) -> Overridable<'a> {
    if let Some(value) = environment(variable) {
        return Overridable {
            value: Some(value),
            origin: Some(Origin::Environment(variable)),
        };
    }
    Overridable {
        value: from_file.map(|spanned| spanned.get_ref().clone()),
        origin: from_file.map(Origin::File),
    }
}

pub(super) fn problem_for(
    source: &SourceText,
    origin: &Option<Origin>,
    message: String,
) -> ConfigProblem {
    match origin {
        Some(Origin::File(spanned)) => source.problem_at(spanned.span(), message),
        Some(Origin::Environment(variable)) => environment_problem(variable, message),
        None => source.whole_file_problem(message),
    }
}

/// The path made absolute and free of `.` and `..`, without touching the file system. Database
/// URLs need this: `sqlite://config/../var/x.db` would be read as host `config`, path `/var/x.db`.
pub fn absolute_path(path: &Path) -> PathBuf {
    let joined = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut normal = PathBuf::new();
    for component in joined.components() {
        match component {
            std::path::Component::ParentDir => {
                normal.pop();
            }
            std::path::Component::CurDir => {}
            other => normal.push(other),
        }
    }
    normal
}

/// Loads and validates the main config file and every group file it names. Returns every problem
/// found, not only the first.
pub fn load_settings(
    config_path: &Path,
    environment: Environment,
) -> Result<Settings, Vec<ConfigProblem>> {
    let text = std::fs::read_to_string(config_path).map_err(|error| {
        vec![ConfigProblem {
            file: config_path.to_path_buf(),
            line: 0,
            column: 0,
            message: format!("cannot read the config file: {}", read_failure(&error)),
        }]
    })?;
    let source = SourceText {
        path: config_path,
        text: &text,
    };
    let raw: RawMainConfig = toml::from_str(&text).map_err(|error| {
        let mut problem = source.toml_problem(&error);
        if ["password", "access_token", "store_passphrase"]
            .iter()
            .any(|key| {
                problem
                    .message
                    .starts_with(&format!("unknown field `{key}`"))
            })
        {
            problem.message.push_str(
                "; secrets are never written in the config file: set the environment variable \
                 (such as RAPPORTEUR_MATRIX_PASSWORD) or name a file with password_file, \
                 access_token_file or store_passphrase_file",
            );
        }
        vec![problem]
    })?;
    let base = config_path.parent().unwrap_or(Path::new("."));
    let resolve = |path: &str| -> PathBuf {
        let path = Path::new(path);
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            absolute_path(&base.join(path))
        }
    };
    let mut problems = Vec::new();

    let data_dir = overridable(
        raw.bot.data_dir.as_ref(),
        "RAPPORTEUR_DATA_DIR",
        environment,
    );
    let data_dir = match (&data_dir.value, &data_dir.origin) {
        (Some(value), Some(Origin::Environment(_))) => absolute_path(Path::new(value)),
        (Some(value), _) => resolve(value),
        (None, _) => resolve("../var/data"),
    };
    // The public record's site: outside the data folder when a web server must read it, since
    // everything in the data folder is made owner-only at every start.
    let site_dir = overridable(
        raw.bot.site_dir.as_ref(),
        "RAPPORTEUR_SITE_DIR",
        environment,
    );
    let site_dir = match (&site_dir.value, &site_dir.origin) {
        (Some(value), Some(Origin::Environment(_))) => absolute_path(Path::new(value)),
        (Some(value), _) => resolve(value),
        (None, _) => data_dir.join("site"),
    };

    // The HTTP server: the record, /healthz, /readyz, /metrics. Off unless configured.
    let listen = overridable(
        raw.http.listen.as_ref(),
        "RAPPORTEUR_HTTP_LISTEN",
        environment,
    );
    let http_listen = match &listen.value {
        None => None,
        Some(value) => match value.parse::<std::net::SocketAddr>() {
            Ok(address) => Some(address),
            Err(_) => {
                problems.push(problem_for(
                    &source,
                    &listen.origin,
                    format!(
                        "{value:?} is not an address to listen on; write an IP address and a port, such as \"127.0.0.1:8090\""
                    ),
                ));
                None
            }
        },
    };

    let zone = overridable(
        raw.bot.default_time_zone.as_ref(),
        "RAPPORTEUR_DEFAULT_TIME_ZONE",
        environment,
    );
    let default_time_zone = zone.value.clone().unwrap_or_else(|| "UTC".to_string());
    // The time zone given to group files that name none. An unknown default is reported once,
    // here, not again for each such group file.
    let mut zone_for_groups = default_time_zone.as_str();
    if jiff::tz::TimeZone::get(&default_time_zone).is_err() {
        zone_for_groups = "UTC";
        problems.push(problem_for(
            &source,
            &zone.origin,
            format!("unknown time zone {default_time_zone:?}; use an IANA name such as \"Europe/Brussels\""),
        ));
    }

    let prefix = overridable(
        raw.bot.command_prefix.as_ref(),
        "RAPPORTEUR_COMMAND_PREFIX",
        environment,
    );
    let command_prefix = prefix.value.clone().unwrap_or_else(|| "!".to_string());
    if command_prefix.is_empty()
        || command_prefix.chars().count() > 3
        || command_prefix
            .chars()
            .any(|c| c.is_whitespace() || c.is_alphanumeric())
    {
        problems.push(problem_for(
            &source,
            &prefix.origin,
            format!(
                "command prefix {command_prefix:?} must be 1 to 3 characters that are neither \
                 letters, digits nor spaces, such as \"!\""
            ),
        ));
    }

    // Where the published record is read: summaries link to their entries under it.
    let record_base = overridable(
        raw.bot.record_base_url.as_ref(),
        "RAPPORTEUR_RECORD_BASE_URL",
        environment,
    );
    let record_base_url = record_base
        .value
        .clone()
        .map(|url| url.trim_end_matches('/').to_string());
    if let Some(url) = &record_base_url
        && (!(url.starts_with("https://") || url.starts_with("http://"))
            || url
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || "\"<>".contains(c)))
    {
        problems.push(problem_for(
            &source,
            &record_base.origin,
            format!(
                "record_base_url {url:?} must be an http:// or https:// address without spaces or \
                 quotes, such as \"https://example.org/record\""
            ),
        ));
    }

    let database_url = overridable(
        raw.database.url.as_ref(),
        "RAPPORTEUR_DATABASE_URL",
        environment,
    );
    let url = match database_url.value.clone() {
        Some(url) => url,
        None => format!("sqlite://{}", data_dir.join("rapporteur.db").display()),
    };
    if !(url.starts_with("sqlite:")
        || url.starts_with("postgres://")
        || url.starts_with("postgresql://"))
    {
        problems.push(problem_for(
            &source,
            &database_url.origin,
            "the database URL must start with sqlite: or postgres://".to_string(),
        ));
    }
    let max_connections = raw
        .database
        .max_connections
        .as_ref()
        .map(|m| *m.get_ref())
        .unwrap_or(5);
    if max_connections == 0
        && let Some(spanned) = &raw.database.max_connections
    {
        problems.push(source.problem_at(spanned.span(), "max_connections must be at least 1"));
    }

    let task_failure_limit = match &raw.bot.task_failure_limit_seconds {
        Some(spanned) if *spanned.get_ref() < 10 || *spanned.get_ref() > 86_400 => {
            problems.push(source.problem_at(
                spanned.span(),
                "task_failure_limit_seconds must be from 10 to 86400",
            ));
            crate::supervision::DEFAULT_FAILURE_LIMIT
        }
        Some(spanned) => std::time::Duration::from_secs(*spanned.get_ref()),
        None => crate::supervision::DEFAULT_FAILURE_LIMIT,
    };

    let matrix = load_matrix_section(&raw, &source, &resolve, environment, &mut problems);
    let mail = raw.mail.as_ref().and_then(|section| {
        super::mail::load_mail_section(section, &source, &resolve, environment, &mut problems)
    });
    let limits = super::limits::load_limits_section(raw.limits.as_ref(), &source, &mut problems);

    let mut groups = Vec::new();
    for (index, entry) in raw.groups.iter().enumerate() {
        let entry_ref = entry.get_ref();
        let id = entry_ref.id.get_ref();
        if id.is_empty()
            || !id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            problems.push(source.problem_at(
                entry_ref.id.span(),
                format!("group id {id:?} must be letters, digits, - or _"),
            ));
        }
        if let Some(earlier) = raw.groups[..index]
            .iter()
            .find(|g| g.get_ref().id.get_ref() == id)
        {
            let (line, _) = source.line_and_column(earlier.get_ref().id.span().start);
            problems.push(source.problem_at(
                entry_ref.id.span(),
                format!("group id {id:?} is already used at line {line}"),
            ));
        }
        let room = entry_ref.room.as_ref().map(|room| room.get_ref().clone());
        if let Some(spanned) = &entry_ref.room {
            let room = spanned.get_ref();
            if !is_matrix_room(room) {
                problems.push(source.problem_at(
                    spanned.span(),
                    format!(
                        "room {room:?} is neither a room ID (!id or !id:server) nor an alias (#name:server)"
                    ),
                ));
            }
            if let Some(earlier) = raw.groups[..index].iter().find_map(|g| {
                g.get_ref()
                    .room
                    .as_ref()
                    .filter(|earlier| earlier.get_ref() == room)
            }) {
                let (line, _) = source.line_and_column(earlier.span().start);
                problems.push(source.problem_at(
                    spanned.span(),
                    format!("room {room} is already the room of the group at line {line}; each group needs its own room"),
                ));
            }
            if raw.matrix.is_none() {
                problems.push(source.problem_at(
                    spanned.span(),
                    "this group names a room but there is no [matrix] section: add one, or \
                     remove the room to serve the group by its mailing list only",
                ));
            }
        }
        if entry_ref.room.is_none() && entry_ref.mailing_list.is_none() {
            problems.push(source.problem_at(
                entry_ref.id.span(),
                format!("group {id:?} has neither a room nor a mailing_list: name at least one"),
            ));
        }
        if entry_ref.room.is_none() && entry_ref.mailing_list.is_some() && raw.mail.is_none() {
            problems.push(source.problem_at(
                entry_ref.id.span(),
                format!(
                    "group {id:?} has only a mailing_list, but there is no [mail] section to \
                     read and send its mail"
                ),
            ));
        }
        if let Some(list) = &entry_ref.mailing_list
            && let Some(problem) = super::addresses::email_address_problem(list.get_ref())
        {
            problems.push(source.problem_at(
                list.span(),
                format!("mailing list {:?} {problem}", list.get_ref()),
            ));
        }
        let group_file = resolve(entry_ref.group_file.get_ref());
        let text = match std::fs::read_to_string(&group_file) {
            Ok(text) => text,
            Err(error) => {
                // Point at the line that names the file, which is where to fix it.
                problems.push(source.problem_at(
                    entry_ref.group_file.span(),
                    format!(
                        "cannot read the group file {}: {}",
                        group_file.display(),
                        read_failure(&error)
                    ),
                ));
                continue;
            }
        };
        match group_from_text(&group_file, &text, id, zone_for_groups) {
            Ok(mut group) => {
                let mailing_list = entry_ref
                    .mailing_list
                    .as_ref()
                    .map(|list| list.get_ref().to_lowercase());
                // The core sees where the group talks through the group itself, so decisions
                // (such as where a reminder goes) need no access to the settings.
                group.room = room.clone();
                group.list_address = mailing_list.clone();
                group.record_url = record_base_url.as_ref().map(|base| format!("{base}/{id}/"));
                groups.push(GroupSettings {
                    id: id.clone(),
                    room: room.clone(),
                    mailing_list,
                    // Mailman and most list servers derive the List-Id from the posting address.
                    list_id: entry_ref
                        .list_id
                        .as_ref()
                        .map(|list_id| list_id.get_ref().trim_matches(['<', '>']).to_lowercase())
                        .or_else(|| {
                            entry_ref
                                .mailing_list
                                .as_ref()
                                .map(|list| list.get_ref().to_lowercase().replace('@', "."))
                        }),
                    group_file,
                    group,
                });
            }
            Err(mut group_problems) => problems.append(&mut group_problems),
        }
    }
    if raw.mail.is_some()
        && raw
            .groups
            .iter()
            .all(|group| group.get_ref().mailing_list.is_none())
    {
        problems.push(source.whole_file_problem(
            "[mail] is configured but no group has a mailing_list: give each group that takes \
             mail its list address",
        ));
    }
    if raw.groups.is_empty() {
        problems.push(
            source.whole_file_problem(
                "no [[groups]] entry: the bot needs at least one group to serve",
            ),
        );
    }

    if raw.matrix.is_none() && raw.mail.is_none() {
        problems.push(source.whole_file_problem(
            "neither [matrix] nor [mail]: the bot needs at least one channel to serve",
        ));
    }

    match (problems.is_empty(), matrix) {
        (true, matrix) => Ok(Settings {
            config_path: config_path.to_path_buf(),
            data_dir,
            site_dir,
            http_listen,
            default_time_zone,
            command_prefix,
            database: DatabaseSettings {
                url,
                max_connections,
            },
            matrix,
            mail,
            limits,
            groups,
            task_failure_limit,
        }),
        (false, _) => Err(problems),
    }
}

fn load_matrix_section(
    raw: &RawMainConfig,
    source: &SourceText,
    resolve: &dyn Fn(&str) -> PathBuf,
    environment: Environment,
    problems: &mut Vec<ConfigProblem>,
) -> Option<MatrixSettings> {
    // Without [matrix] the bot serves mail only (checked with the groups above).
    let section = raw.matrix.as_ref()?;
    let section_span = section.span();
    let section = section.get_ref();
    let before = problems.len();

    let homeserver = overridable(
        Some(&section.homeserver_url),
        "RAPPORTEUR_HOMESERVER_URL",
        environment,
    );
    let homeserver_text = homeserver.value.clone().unwrap_or_default();
    let homeserver_url = match url::Url::parse(&homeserver_text) {
        Ok(url) if url.scheme() == "http" || url.scheme() == "https" => Some(url),
        _ => {
            problems.push(problem_for(
                source,
                &homeserver.origin,
                format!("homeserver_url {homeserver_text:?} is not an http:// or https:// URL"),
            ));
            None
        }
    };
    let user = overridable(
        Some(&section.user_id),
        "RAPPORTEUR_MATRIX_USER_ID",
        environment,
    );
    let user_id = user.value.clone().unwrap_or_default();
    if !is_matrix_user_id(&user_id) {
        problems.push(problem_for(
            source,
            &user.origin,
            format!("user_id {user_id:?} is not a Matrix user ID such as @rapporteur:example.org"),
        ));
    }

    let mut secret = |variable: &'static str, file_key: &Option<Spanned<String>>| {
        secret_setting(variable, file_key, source, resolve, environment, problems)
    };
    let password = secret("RAPPORTEUR_MATRIX_PASSWORD", &section.password_file);
    let access_token = secret("RAPPORTEUR_MATRIX_ACCESS_TOKEN", &section.access_token_file);
    let store_passphrase = secret(
        "RAPPORTEUR_MATRIX_STORE_PASSPHRASE",
        &section.store_passphrase_file,
    );
    let undecryptable_wait_minutes = match &section.undecryptable_wait_minutes {
        Some(minutes) if !(1..=10_080).contains(minutes.get_ref()) => {
            problems.push(source.problem_at(
                minutes.span(),
                "undecryptable_wait_minutes must be from 1 to 10080 (a week)",
            ));
            DEFAULT_UNDECRYPTABLE_WAIT_MINUTES
        }
        Some(minutes) => *minutes.get_ref(),
        None => DEFAULT_UNDECRYPTABLE_WAIT_MINUTES,
    };
    if password.is_none() && access_token.is_none() && problems.len() == before {
        problems.push(source.problem_at(
            section_span,
            "no Matrix password or access token: set RAPPORTEUR_MATRIX_PASSWORD or \
             RAPPORTEUR_MATRIX_PASSWORD_FILE (or RAPPORTEUR_MATRIX_ACCESS_TOKEN[_FILE]), or name a \
             password_file in [matrix]",
        ));
    }
    if problems.len() != before {
        return None;
    }
    Some(MatrixSettings {
        homeserver_url: homeserver_url?,
        user_id,
        device_display_name: section
            .device_display_name
            .clone()
            .unwrap_or_else(|| "rapporteur".to_string()),
        password,
        access_token,
        store_passphrase,
        undecryptable_wait: std::time::Duration::from_secs(undecryptable_wait_minutes * 60),
    })
}

/// Room keys normally arrive with or just before their events; one that has not come within
/// half an hour is most likely lost (withheld, or sent to a device list without the bot's).
const DEFAULT_UNDECRYPTABLE_WAIT_MINUTES: u64 = 30;

/// A secret named by `variable` (or `variable_FILE`, or the config key `file_key`), with a
/// problem recorded at the right place when the file named cannot be used.
pub(super) fn secret_setting(
    variable: &'static str,
    file_key: &Option<Spanned<String>>,
    source: &SourceText,
    resolve: &dyn Fn(&str) -> PathBuf,
    environment: Environment,
    problems: &mut Vec<ConfigProblem>,
) -> Option<super::Secret> {
    let file = file_key.as_ref().map(|spanned| resolve(spanned.get_ref()));
    let lookup = SecretSource {
        value_variable: variable,
        file_from_config: file.as_deref(),
    };
    match resolve_secret(&lookup, environment) {
        Ok(found) => found,
        Err(error) => {
            let problem = match file_key {
                Some(spanned) if environment(&format!("{variable}_FILE")).is_none() => {
                    source.problem_at(spanned.span(), error.to_string())
                }
                // Otherwise the file was named by the `_FILE` variable.
                _ => environment_problem(&format!("{variable}_FILE"), error.to_string()),
            };
            problems.push(problem);
            None
        }
    }
}
