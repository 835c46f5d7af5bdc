//! Mail for the end-to-end tests: the loopback SMTP relay and dovecot started by
//! `scripts/stack.sh`, subscribers who send raw mail by SMTP and read their IMAP inbox, and the
//! bot's `[mail]` configuration.

use super::matrix::{BotProcess, ChairRoom, homeserver, unique_name};
use super::unavailable;
use futures_util::TryStreamExt;
use lettre::address::Envelope;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::time::{Duration, Instant};

/// The stack's mail servers, read from the variables `scripts/stack.sh env` exports.
#[derive(Clone)]
pub struct MailServers {
    pub host: String,
    pub smtp_port: u16,
    pub imap_port: u16,
    pub password: String,
    pub password_file: String,
    /// The `[mail]` lines that make the bot trust the stack's list server (Mailman) as the
    /// relay's Received headers name it (`receiving_host`, `list_server_hosts`); empty when the
    /// stack does not say.
    pub list_trust: String,
    /// The relay's list-server listener: mail sent there is stamped as received from the list
    /// server (`scripts/stack.sh`, "Received headers").
    pub list_relay_port: Option<u16>,
    /// The TLS ports, which the bot uses by default (see [`BotProcess::enable_mail_at`]).
    pub tls: Option<TlsServers>,
}

pub async fn mail_servers() -> Option<MailServers> {
    let variable = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
    let (Some(smtp_port), Some(imap_port), Some(password_file)) = (
        variable("RAPPORTEUR_SMTP_PORT"),
        variable("RAPPORTEUR_IMAP_PORT"),
        variable("RAPPORTEUR_MAIL_PASSWORD_FILE"),
    ) else {
        return unavailable(
            "the mail servers",
            "RAPPORTEUR_SMTP_PORT, RAPPORTEUR_IMAP_PORT or RAPPORTEUR_MAIL_PASSWORD_FILE is not set",
        );
    };
    let password = match std::fs::read_to_string(&password_file) {
        Ok(text) => text.trim().to_string(),
        Err(error) => return unavailable("the mail servers", &format!("{password_file}: {error}")),
    };
    let servers = MailServers {
        host: variable("RAPPORTEUR_SMTP_HOST").unwrap_or_else(|| "127.0.0.1".into()),
        smtp_port: smtp_port.parse().expect("SMTP port"),
        imap_port: imap_port.parse().expect("IMAP port"),
        password,
        password_file,
        list_trust: match (
            variable("RAPPORTEUR_RECEIVING_HOST"),
            variable("RAPPORTEUR_LIST_SERVER_HOST"),
        ) {
            (Some(receiving_host), Some(list_server)) => format!(
                "receiving_host = {receiving_host:?}\nlist_server_hosts = [{list_server:?}]\n"
            ),
            _ => String::new(),
        },
        list_relay_port: variable("RAPPORTEUR_LIST_RELAY_PORT")
            .map(|port| port.parse().expect("list relay port")),
        tls: None,
    };
    for port in [servers.smtp_port, servers.imap_port] {
        if let Err(error) = tokio::net::TcpStream::connect((servers.host.as_str(), port)).await {
            return unavailable("the mail servers", &format!("port {port}: {error}"));
        }
    }
    Some(MailServers {
        tls: Some(tls_servers().await?),
        ..servers
    })
}

/// The stack's TLS ports and the private CA that signed their certificate (for the name in
/// `host`, `localhost`; not for `127.0.0.1`).
#[derive(Clone)]
pub struct TlsServers {
    pub host: String,
    pub imaps_port: u16,
    pub smtps_port: u16,
    pub ca_file: std::path::PathBuf,
}

/// The TLS side of the stack, read from the variables `scripts/stack.sh env` exports.
pub async fn tls_servers() -> Option<TlsServers> {
    let variable = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
    let (Some(host), Some(imaps_port), Some(smtps_port), Some(ca_file)) = (
        variable("RAPPORTEUR_TLS_HOST"),
        variable("RAPPORTEUR_IMAPS_PORT"),
        variable("RAPPORTEUR_SMTPS_PORT"),
        variable("RAPPORTEUR_TLS_CA_FILE"),
    ) else {
        return unavailable(
            "the TLS mail servers",
            "RAPPORTEUR_TLS_HOST, RAPPORTEUR_IMAPS_PORT, RAPPORTEUR_SMTPS_PORT or \
             RAPPORTEUR_TLS_CA_FILE is not set (run scripts/stack.sh up again)",
        );
    };
    let servers = TlsServers {
        host,
        imaps_port: imaps_port.parse().expect("IMAPS port"),
        smtps_port: smtps_port.parse().expect("SMTPS port"),
        ca_file: ca_file.into(),
    };
    for port in [servers.imaps_port, servers.smtps_port] {
        if let Err(error) = tokio::net::TcpStream::connect((servers.host.as_str(), port)).await {
            return unavailable("the TLS mail servers", &format!("port {port}: {error}"));
        }
    }
    Some(servers)
}

impl MailServers {
    /// Sends raw bytes as they are (the envelope sender and recipient given apart), as a mail
    /// client would hand them to its server.
    pub async fn send_raw(&self, from: &str, to: &str, raw: &[u8]) -> Result<(), String> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&self.host)
            .port(self.smtp_port)
            .timeout(Some(Duration::from_secs(20)))
            .build();
        let envelope = Envelope::new(
            Some(from.parse().map_err(|e| format!("{e}"))?),
            vec![to.parse().map_err(|e| format!("{e}"))?],
        )
        .map_err(|error| error.to_string())?;
        transport
            .send_raw(&envelope, raw)
            .await
            .map(|_| ())
            .map_err(|error| error.to_string())
    }

    /// As [`MailServers::send_raw`], but as the list server sends: to the relay's list-server
    /// listener, whose Received header names the list server as the peer.
    pub async fn send_raw_as_list_server(
        &self,
        from: &str,
        to: &str,
        raw: &[u8],
    ) -> Result<(), String> {
        let port = self
            .list_relay_port
            .ok_or("the stack has no list-server listener (RAPPORTEUR_LIST_RELAY_PORT)")?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&self.host)
            .port(port)
            .timeout(Some(Duration::from_secs(20)))
            .build();
        let envelope = Envelope::new(
            Some(from.parse().map_err(|e| format!("{e}"))?),
            vec![to.parse().map_err(|e| format!("{e}"))?],
        )
        .map_err(|error| error.to_string())?;
        transport
            .send_raw(&envelope, raw)
            .await
            .map(|_| ())
            .map_err(|error| error.to_string())
    }

    /// As [`MailServers::send_raw`], trying again for up to 20 s on a temporary refusal, as a
    /// sender's MTA does (the relay answers 451 while dovecot is still starting).
    pub async fn send_raw_patiently(&self, from: &str, to: &str, raw: &[u8]) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            match self.send_raw(from, to, raw).await {
                Err(error) if error.contains("451") && Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                result => return result,
            }
        }
    }

    /// Every message in a mailbox's INBOX, oldest first.
    pub async fn inbox(&self, address: &str) -> Vec<Vec<u8>> {
        let tcp = tokio::net::TcpStream::connect((self.host.as_str(), self.imap_port))
            .await
            .expect("connect to IMAP");
        let mut client = async_imap::Client::new(tcp);
        client.read_response().await.expect("greeting");
        let mut session = client
            .login(address, &self.password)
            .await
            .map_err(|(error, _)| error)
            .expect("IMAP login");
        session.select("INBOX").await.expect("select INBOX");
        let fetched: Vec<async_imap::types::Fetch> = session
            .uid_fetch("1:*", "(UID BODY.PEEK[])")
            .await
            .expect("fetch")
            .try_collect()
            .await
            .expect("fetch results");
        let mut messages: Vec<(u32, Vec<u8>)> = fetched
            .iter()
            .filter_map(|fetch| Some((fetch.uid?, fetch.body()?.to_vec())))
            .collect();
        messages.sort_by_key(|(uid, _)| *uid);
        let _ = session.logout().await;
        messages.into_iter().map(|(_, raw)| raw).collect()
    }

    /// The messages in `address`'s inbox that answer `message_id`, waiting up to `timeout` for
    /// at least `count` of them.
    pub async fn wait_for_replies(
        &self,
        address: &str,
        message_id: &str,
        count: usize,
        timeout: Duration,
    ) -> Vec<ReceivedMail> {
        let deadline = Instant::now() + timeout;
        loop {
            let replies: Vec<ReceivedMail> = self
                .inbox(address)
                .await
                .into_iter()
                .map(ReceivedMail::parse)
                .filter(|mail| mail.in_reply_to.as_deref() == Some(message_id))
                .collect();
            if replies.len() >= count || Instant::now() > deadline {
                return replies;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

impl MailServers {
    /// Every mail in `address`'s inbox that `wanted` picks, waiting up to `timeout` for at least
    /// `count` of them (fewer are returned when the time is up).
    pub async fn wait_for_mail(
        &self,
        address: &str,
        count: usize,
        timeout: Duration,
        wanted: impl Fn(&ReceivedMail) -> bool,
    ) -> Vec<ReceivedMail> {
        let deadline = Instant::now() + timeout;
        loop {
            let found: Vec<ReceivedMail> = self
                .inbox(address)
                .await
                .into_iter()
                .map(ReceivedMail::parse)
                .filter(|mail| wanted(mail))
                .collect();
            if found.len() >= count || Instant::now() > deadline {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// One message as the stack's SMTP relay kept it after accepting it.
#[derive(Debug, Clone)]
pub struct RelayedMail {
    /// The file's name: the time the relay accepted it (nanoseconds) and a random part.
    pub name: String,
    /// When the relay had the whole message (nanoseconds since the epoch), before it handed the
    /// message on and answered the sender.
    pub time_ns: u64,
    pub rcpt_tos: Vec<String>,
    pub raw: Vec<u8>,
}

/// The folder where the stack's SMTP relay keeps every message it accepted
/// (`RAPPORTEUR_MAIL_SENT_DIR`, exported by `scripts/stack.sh env`), if the stack names one.
pub fn relay_sent_dir() -> Option<std::path::PathBuf> {
    std::env::var_os("RAPPORTEUR_MAIL_SENT_DIR")
        .filter(|value| !value.is_empty())
        .map(std::path::PathBuf::from)
}

/// The messages the relay accepted whose file name is not in `known`, oldest first; their names
/// are added to `known`. The relay writes the envelope (`.json`) before the message (`.eml`),
/// each by an atomic rename, so a message whose `.eml` is listed is complete.
pub fn newly_relayed(
    sent_dir: &std::path::Path,
    known: &mut std::collections::HashSet<String>,
) -> Vec<RelayedMail> {
    let Ok(entries) = std::fs::read_dir(sent_dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter_map(|name| name.strip_suffix(".eml").map(str::to_string))
        .filter(|stem| !stem.starts_with('.') && !known.contains(stem))
        .collect();
    names.sort();
    let mut relayed = Vec::new();
    for stem in names {
        let (Ok(envelope), Ok(raw)) = (
            std::fs::read(sent_dir.join(format!("{stem}.json"))),
            std::fs::read(sent_dir.join(format!("{stem}.eml"))),
        ) else {
            continue;
        };
        let envelope: serde_json::Value = serde_json::from_slice(&envelope).unwrap_or_default();
        let rcpt_tos = envelope["rcpt_tos"]
            .as_array()
            .map(|list| {
                list.iter()
                    .filter_map(|value| value.as_str().map(str::to_lowercase))
                    .collect()
            })
            .unwrap_or_default();
        known.insert(stem.clone());
        relayed.push(RelayedMail {
            name: stem,
            time_ns: envelope["time_ns"].as_u64().unwrap_or_default(),
            rcpt_tos,
            raw,
        });
    }
    relayed
}

/// The parts of a received mail the tests look at.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    pub raw: Vec<u8>,
    pub message_id: Option<String>,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    pub from: String,
    pub to: String,
    pub subject: String,
    pub auto_submitted: Option<String>,
    pub text: String,
    pub html: String,
}

impl ReceivedMail {
    pub fn parse(raw: Vec<u8>) -> ReceivedMail {
        let parsed = mail_parser::MessageParser::default()
            .parse(&raw)
            .expect("the bot's mail parses");
        let bracketed = |id: &str| format!("<{id}>");
        let references = match parsed.references() {
            mail_parser::HeaderValue::Text(id) => vec![bracketed(id)],
            mail_parser::HeaderValue::TextList(ids) => ids.iter().map(|id| bracketed(id)).collect(),
            _ => Vec::new(),
        };
        let address = |value: Option<&mail_parser::Address>| {
            value
                .and_then(|address| address.first())
                .and_then(|addr| addr.address())
                .unwrap_or_default()
                .to_lowercase()
        };
        ReceivedMail {
            message_id: parsed.message_id().map(bracketed),
            in_reply_to: parsed.in_reply_to().as_text().map(bracketed),
            references,
            from: address(parsed.from()),
            to: address(parsed.to()),
            subject: parsed.subject().unwrap_or_default().to_string(),
            auto_submitted: parsed
                .header_raw("Auto-Submitted")
                .map(|value| value.trim().to_string()),
            text: parsed
                .body_text(0)
                .map(|text| text.to_string())
                .unwrap_or_default(),
            html: parsed
                .body_html(0)
                .map(|html| html.to_string())
                .unwrap_or_default(),
            raw: raw.clone(),
        }
    }
}

/// A mail as a subscriber's client writes it.
pub struct OutgoingTestMail<'a> {
    pub from: &'a str,
    pub from_name: &'a str,
    pub to: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
    pub message_id: &'a str,
    pub in_reply_to: Option<&'a str>,
    pub extra_headers: &'a str,
}

impl OutgoingTestMail<'_> {
    pub fn render(&self) -> Vec<u8> {
        let mut headers = format!(
            "From: {} <{}>\r\nTo: {}\r\nSubject: {}\r\nDate: {}\r\nMessage-ID: {}\r\nMIME-Version: 1.0\r\n\
             Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n",
            self.from_name,
            self.from,
            self.to,
            self.subject,
            jiff::Timestamp::now().strftime("%a, %d %b %Y %H:%M:%S +0000"),
            self.message_id,
        );
        if let Some(in_reply_to) = self.in_reply_to {
            headers.push_str(&format!(
                "In-Reply-To: {in_reply_to}\r\nReferences: {in_reply_to}\r\n"
            ));
        }
        headers.push_str(self.extra_headers);
        format!("{headers}\r\n{}\r\n", self.body.replace('\n', "\r\n")).into_bytes()
    }
}

pub fn unique_message_id() -> String {
    format!("<{}@example.org>", unique_name("msg"))
}

/// The address a test person has by mail: their Matrix localpart at example.org, as
/// [`BotProcess::configure`] writes it into the group file.
pub fn email_of(user_id: &str) -> String {
    let localpart = user_id
        .trim_start_matches('@')
        .split(':')
        .next()
        .unwrap_or_default();
    format!("{localpart}@example.org")
}

/// The mail side of a bot under test: its own mailbox and list address, unique per test.
pub struct BotMail {
    pub bot_address: String,
    pub list_address: String,
    pub list_id: String,
}

impl BotProcess {
    /// Adds a `[mail]` section (SMTP and IMAP on the stack's servers, a fresh mailbox for the
    /// bot) and a list address for the test group.
    pub fn enable_mail(&mut self, servers: &MailServers) -> BotMail {
        self.enable_mail_at(servers, "localhost")
    }

    /// As [`BotProcess::enable_mail`], with the bot's mailbox on the given domain (Mailman
    /// accepts subscribers only on domains with a dot). The bot sends with STARTTLS and reads
    /// over IMAPS, trusting the stack's private CA.
    pub fn enable_mail_at(&mut self, servers: &MailServers, bot_domain: &str) -> BotMail {
        self.enable_mail_with(servers, bot_domain, true)
    }

    /// As [`BotProcess::enable_mail`], without TLS (the loopback servers' plain ports).
    pub fn enable_plain_mail(&mut self, servers: &MailServers) -> BotMail {
        self.enable_mail_with(servers, "localhost", false)
    }

    fn enable_mail_with(&mut self, servers: &MailServers, bot_domain: &str, tls: bool) -> BotMail {
        let name = unique_name("bot");
        let bot_address = format!("{name}@{bot_domain}");
        let list_address = format!("{name}list@lists.localhost");
        let list_id = list_address.replace('@', ".");
        let quote = |text: &str| serde_json::to_string(text).expect("string");
        let connections = match servers.tls.as_ref().filter(|_| tls) {
            Some(tls) => format!(
                "[mail.smtp]\nhost = {host}\nport = {}\nsecurity = \"starttls\"\nca_file = {ca}\n\
                 pool_size = 4\n\n[mail.imap]\nhost = {host}\nport = {}\nsecurity = \"tls\"\n\
                 ca_file = {ca}\n",
                servers.smtp_port,
                tls.imaps_port,
                host = quote(&tls.host),
                ca = quote(&tls.ca_file.display().to_string()),
            ),
            None => format!(
                "[mail.smtp]\nhost = {host}\nport = {}\nsecurity = \"plain\"\npool_size = 4\n\n\
                 [mail.imap]\nhost = {host}\nport = {}\nsecurity = \"plain\"\n",
                servers.smtp_port,
                servers.imap_port,
                host = quote(&servers.host),
            ),
        };
        let section = format!(
            "mailing_list = {}\n\n[mail]\naddress = {}\ndisplay_name = \"rapporteur for TEST-CCG\"\n\
             message_id_domain = \"rapporteur.localhost\"\nsize_limit_bytes = 1048576\n{}\n\
             {connections}username = {}\npassword_file = {}\n",
            quote(&list_address),
            quote(&bot_address),
            servers.list_trust,
            quote(&bot_address),
            quote(&servers.password_file),
        );
        let mut config = std::fs::read_to_string(&self.config_path).expect("read config");
        config.push_str(&section);
        std::fs::write(&self.config_path, config).expect("write config");
        BotMail {
            bot_address,
            list_address,
            list_id,
        }
    }
}

pub const REPLY_TIMEOUT: Duration = Duration::from_secs(60);

/// A bot with mail in a room with its chair, who also has a mail address.
pub struct MailScene {
    pub servers: MailServers,
    pub scene: ChairRoom,
    pub mail: BotMail,
    pub chair_address: String,
}

impl MailScene {
    /// The scene with the bot started and in the room; `None` when a server is missing.
    pub async fn started() -> Option<MailScene> {
        MailScene::started_at("localhost").await
    }

    /// As [`MailScene::started`], with the bot's mailbox on `bot_domain`.
    pub async fn started_at(bot_domain: &str) -> Option<MailScene> {
        let homeserver = homeserver().await?;
        let servers = mail_servers().await?;
        let mut scene = ChairRoom::prepare(&homeserver).await;
        let mail = scene.bot.enable_mail_at(&servers, bot_domain);
        scene.bot.start();
        scene.wait_for_bot().await;
        let chair_address = email_of(&scene.chair_user.user_id);
        Some(MailScene {
            servers,
            scene,
            mail,
            chair_address,
        })
    }

    /// Sends a mail from `from` to the bot; returns its Message-ID.
    pub async fn send(
        &self,
        from: &str,
        subject: &str,
        body: &str,
        in_reply_to: Option<&str>,
    ) -> String {
        let message_id = unique_message_id();
        let raw = OutgoingTestMail {
            from,
            from_name: "Chair Person",
            to: &self.mail.bot_address,
            subject,
            body,
            message_id: &message_id,
            in_reply_to,
            extra_headers: "",
        }
        .render();
        self.servers
            .send_raw(from, &self.mail.bot_address, &raw)
            .await
            .expect("the relay accepts the mail");
        message_id
    }

    /// The one reply to `message_id` in `to`'s inbox (fails if there is none or more).
    pub async fn only_reply(&self, to: &str, message_id: &str) -> ReceivedMail {
        let replies = self
            .servers
            .wait_for_replies(to, message_id, 1, REPLY_TIMEOUT)
            .await;
        assert_eq!(
            replies.len(),
            1,
            "expected one reply to {message_id} in {to}'s inbox"
        );
        replies.into_iter().next().unwrap()
    }
}

/// Runs `rapporteur ingest-mail` on the bot's config with the mail on standard input, as an MTA
/// pipe does.
pub fn pipe_to_ingest_mail(config_path: &std::path::Path, raw: &[u8]) -> std::process::Output {
    use std::io::Write;
    use std::process::{Command, Stdio};
    Command::new(env!("CARGO_BIN_EXE_rapporteur"))
        .arg("--config")
        .arg(config_path)
        .arg("ingest-mail")
        .env_remove("RAPPORTEUR_SMTP_PORT")
        .env_remove("RAPPORTEUR_IMAP_PORT")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            child.stdin.take().expect("stdin").write_all(raw)?;
            child.wait_with_output()
        })
        .expect("run ingest-mail")
}
