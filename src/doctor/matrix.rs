//! The homeserver, through its client-server API: reachable and which versions it speaks, the
//! bot's credentials (the access token of its session, or the configured one; with only a
//! password, a login whose device is logged out again at once), whether its device is
//! cross-signed, and for each configured room: joined, encrypted or not, and whether the bot's
//! power level lets it send messages.

use super::Check;
use crate::config::{MatrixSettings, Settings};
use serde_json::{Value, json};
use std::time::Duration;

pub async fn checks(settings: &Settings) -> Vec<Check> {
    let Some(matrix) = &settings.matrix else {
        return vec![Check::skipped(
            "matrix",
            "no [matrix] section: the bot serves mail only",
        )];
    };
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
    {
        Ok(client) => client,
        Err(error) => {
            return vec![Check::failed(
                "matrix: homeserver",
                format!("cannot make an HTTP client: {error}"),
                "report this as a bug",
            )];
        }
    };
    let homeserver = Homeserver {
        client,
        base: matrix
            .homeserver_url
            .as_str()
            .trim_end_matches('/')
            .to_string(),
        token: None,
    };
    let mut checks = Vec::new();
    match homeserver.get("/_matrix/client/versions").await {
        Ok((200, body)) => {
            let versions: Vec<&str> = body["versions"]
                .as_array()
                .map(|all| all.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            checks.push(Check::passed(
                "matrix: homeserver",
                format!(
                    "{} answers; client-server API versions {}",
                    homeserver.base,
                    versions.last().copied().unwrap_or("(none listed)")
                ),
            ));
        }
        Ok((status, _)) => {
            checks.push(Check::failed(
                "matrix: homeserver",
                format!(
                    "{} answered HTTP {status} for /_matrix/client/versions",
                    homeserver.base
                ),
                "check [matrix] homeserver_url: it must be the client-server API's base address",
            ));
            checks.push(Check::skipped(
                "matrix: login",
                "the homeserver does not answer",
            ));
            return checks;
        }
        Err(error) => {
            checks.push(Check::failed(
                "matrix: homeserver",
                format!("cannot reach {}: {error}", homeserver.base),
                "check [matrix] homeserver_url and that the homeserver runs",
            ));
            checks.push(Check::skipped(
                "matrix: login",
                "the homeserver does not answer",
            ));
            return checks;
        }
    }
    let (homeserver, login, logout_after) = log_in(homeserver, matrix, &settings.data_dir).await;
    let Some(device_id) = login.as_ref().ok().cloned() else {
        checks.push(Check::failed(
            "matrix: login",
            login.err().unwrap_or_default(),
            "check the password (RAPPORTEUR_MATRIX_PASSWORD[_FILE]) or access token of [matrix] user_id",
        ));
        checks.push(Check::skipped("matrix: rooms", "no login"));
        return checks;
    };
    checks.push(Check::passed(
        "matrix: login",
        format!("logged in as {} (device {device_id})", matrix.user_id),
    ));
    checks.push(device_check(&homeserver, &matrix.user_id, &device_id).await);
    let joined: Vec<String> = match homeserver.get("/_matrix/client/v3/joined_rooms").await {
        Ok((200, body)) => body["joined_rooms"]
            .as_array()
            .map(|rooms| {
                rooms
                    .iter()
                    .filter_map(Value::as_str)
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    for group in &settings.groups {
        let Some(room) = &group.room else {
            continue;
        };
        checks.extend(room_checks(&homeserver, &matrix.user_id, room, &joined).await);
    }
    if logout_after {
        let _ = homeserver
            .post("/_matrix/client/v3/logout", &json!({}))
            .await;
    }
    checks
}

struct Homeserver {
    client: reqwest::Client,
    base: String,
    token: Option<String>,
}

impl Homeserver {
    async fn get(&self, path: &str) -> Result<(u16, Value), String> {
        let mut request = self.client.get(format!("{}{path}", self.base));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.map_err(|error| error.to_string())?;
        let status = response.status().as_u16();
        Ok((status, response.json().await.unwrap_or(Value::Null)))
    }

    async fn post(&self, path: &str, body: &Value) -> Result<(u16, Value), String> {
        let mut request = self.client.post(format!("{}{path}", self.base)).json(body);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.map_err(|error| error.to_string())?;
        let status = response.status().as_u16();
        Ok((status, response.json().await.unwrap_or(Value::Null)))
    }
}

/// The token the bot would use: its session's (`<data_dir>/matrix/session.json`), else the
/// configured access token, else a password login made for this check (logged out after it).
/// Returns the device ID, or what went wrong.
async fn log_in(
    mut homeserver: Homeserver,
    matrix: &MatrixSettings,
    data_dir: &std::path::Path,
) -> (Homeserver, Result<String, String>, bool) {
    let session: Option<Value> =
        std::fs::read_to_string(data_dir.join("matrix").join("session.json"))
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok());
    let stored_token = session
        .as_ref()
        .and_then(|session| session["tokens"]["access_token"].as_str())
        .map(String::from)
        .or_else(|| {
            matrix
                .access_token
                .as_ref()
                .map(|token| token.expose().to_string())
        });
    if let Some(token) = stored_token {
        homeserver.token = Some(token);
        let answer = match homeserver.get("/_matrix/client/v3/account/whoami").await {
            Ok((200, body)) if body["user_id"].as_str() == Some(matrix.user_id.as_str()) => {
                Ok(body["device_id"].as_str().unwrap_or("unknown").to_string())
            }
            Ok((200, body)) => Err(format!(
                "the stored access token belongs to {}, not to {}",
                body["user_id"].as_str().unwrap_or("someone else"),
                matrix.user_id
            )),
            Ok((status, body)) => Err(format!(
                "the access token was refused (HTTP {status} {})",
                body["errcode"].as_str().unwrap_or("")
            )),
            Err(error) => Err(format!("whoami failed: {error}")),
        };
        // A refused stored token with a password configured: the bot would log in again.
        if answer.is_ok() || matrix.password.is_none() {
            return (homeserver, answer, false);
        }
        homeserver.token = None;
    }
    let Some(password) = &matrix.password else {
        return (
            homeserver,
            Err("no access token and no password configured".to_string()),
            false,
        );
    };
    let login = homeserver
        .post(
            "/_matrix/client/v3/login",
            &json!({
                "type": "m.login.password",
                "identifier": {"type": "m.id.user", "user": matrix.user_id},
                "password": password.expose(),
                "initial_device_display_name": "rapporteur doctor (logged out at once)",
            }),
        )
        .await;
    match login {
        Ok((200, body)) => {
            homeserver.token = body["access_token"].as_str().map(String::from);
            let device = body["device_id"].as_str().unwrap_or("unknown").to_string();
            (homeserver, Ok(device), true)
        }
        Ok((status, body)) => (
            homeserver,
            Err(format!(
                "the homeserver refused the password login (HTTP {status} {}: {})",
                body["errcode"].as_str().unwrap_or(""),
                body["error"].as_str().unwrap_or("")
            )),
            false,
        ),
        Err(error) => (homeserver, Err(format!("login failed: {error}")), false),
    }
}

/// Whether the bot's device is signed by its account's self-signing key (cross-signed), which
/// is what clients show as a verified device.
async fn device_check(homeserver: &Homeserver, user_id: &str, device_id: &str) -> Check {
    let query = homeserver
        .post(
            "/_matrix/client/v3/keys/query",
            &json!({"device_keys": {user_id: [device_id]}}),
        )
        .await;
    let Ok((200, body)) = query else {
        return Check::failed(
            "matrix: device",
            "the homeserver did not answer the key query",
            "check the homeserver's log",
        );
    };
    let device = &body["device_keys"][user_id][device_id];
    if device.is_null() {
        return Check::passed(
            "matrix: device",
            format!(
                "device {device_id} has no keys yet (the bot uploads them when it first starts)"
            ),
        );
    }
    let self_signing: Vec<String> = body["self_signing_keys"][user_id]["keys"]
        .as_object()
        .map(|keys| keys.keys().cloned().collect())
        .unwrap_or_default();
    let signed = device["signatures"][user_id]
        .as_object()
        .is_some_and(|signatures| signatures.keys().any(|key| self_signing.contains(key)));
    Check::passed(
        "matrix: device",
        if signed {
            format!("device {device_id} is cross-signed by the account")
        } else {
            format!(
                "device {device_id} has keys; it is not cross-signed (clients show it as unverified, which encryption does not need)"
            )
        },
    )
}

async fn room_checks(
    homeserver: &Homeserver,
    user_id: &str,
    room: &str,
    joined: &[String],
) -> Vec<Check> {
    let name = format!("matrix: room {room}");
    let room_id = if room.starts_with('#') {
        let encoded: String = url::form_urlencoded::byte_serialize(room.as_bytes()).collect();
        match homeserver
            .get(&format!("/_matrix/client/v3/directory/room/{encoded}"))
            .await
        {
            Ok((200, body)) => body["room_id"].as_str().unwrap_or_default().to_string(),
            _ => {
                return vec![Check::failed(
                    name,
                    "the alias does not resolve to a room",
                    "create the room with this alias, or correct the group's room in the configuration",
                )];
            }
        }
    } else {
        room.to_string()
    };
    if !joined.contains(&room_id) {
        return vec![Check::failed(
            name,
            format!("the bot has not joined {room_id}"),
            format!(
                "invite {user_id} to the room: the bot accepts invitations to its configured rooms"
            ),
        )];
    }
    let encoded_room: String = url::form_urlencoded::byte_serialize(room_id.as_bytes()).collect();
    let encrypted = matches!(
        homeserver
            .get(&format!(
                "/_matrix/client/v3/rooms/{encoded_room}/state/m.room.encryption"
            ))
            .await,
        Ok((200, _))
    );
    let levels = homeserver
        .get(&format!(
            "/_matrix/client/v3/rooms/{encoded_room}/state/m.room.power_levels"
        ))
        .await;
    let (own, needed) = match levels {
        Ok((200, body)) => {
            let number = |value: &Value| value.as_i64();
            let own = number(&body["users"][user_id])
                .or_else(|| number(&body["users_default"]))
                .unwrap_or(0);
            let needed = number(&body["events"]["m.room.message"])
                .or_else(|| number(&body["events_default"]))
                .unwrap_or(0);
            (own, needed)
        }
        // A room without power levels lets every member send.
        _ => (0, 0),
    };
    let state = if encrypted {
        "end-to-end encrypted"
    } else {
        "not encrypted"
    };
    if own < needed {
        vec![Check::failed(
            name,
            format!(
                "joined, {state}; the bot's power level {own} is below the {needed} needed to send messages"
            ),
            format!("raise {user_id}'s power level in the room to {needed} or more"),
        )]
    } else {
        vec![Check::passed(
            name,
            format!("joined, {state}, may send messages (power level {own}, {needed} needed)"),
        )]
    }
}
