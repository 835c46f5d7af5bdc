//! Watching the running bot from outside, as an operator's monitoring does: a mail-only bot with
//! `[http] listen` serves its public record, `/healthz`, `/readyz` and `/metrics`; commands flow
//! in through `rapporteur ingest-mail` while a real Prometheus (Debian's, installed by
//! `scripts/test.sh`) scrapes it every second. The counters move by what was done, Prometheus
//! reads them, `promtool check metrics` accepts the text, and `/readyz` names the channel that
//! does not work (an IMAP server that is not there). The bot logs with `--log-format json`
//! (through `RAPPORTEUR_LOG_FORMAT`), and one mail is followed through its log lines.

mod support;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::mail_only::{MEMBER_ADDRESS, MailOnlyBot, path_text};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// One plain HTTP/1.1 GET: the status code and the body.
fn get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).ok()?;
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text.split_whitespace().nth(1)?.parse().ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    // The server sends small bodies whole or chunked; a chunked one is joined again.
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        let mut joined = String::new();
        let mut rest = body;
        while let Some((size, after)) = rest.split_once("\r\n") {
            let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            if size == 0 || after.len() < size {
                break;
            }
            joined.push_str(&after[..size]);
            rest = after[size..].trim_start_matches("\r\n");
        }
        joined
    } else {
        body.to_string()
    };
    Some((status, body))
}

/// The value of one sample line of the Prometheus text (`name{labels} value`), 0 if absent.
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| {
            line.strip_prefix(series)?
                .strip_prefix(' ')?
                .trim()
                .parse()
                .ok()
        })
        .unwrap_or(0.0)
}

fn ping_mail(bot: &MailOnlyBot, index: usize) -> String {
    format!(
        "From: Mail Member <{MEMBER_ADDRESS}>\r\nTo: {}\r\nSubject: !ping\r\n\
         Message-ID: <observe-{index}-{}@example.org>\r\nDate: Mon, 7 Dec 2026 10:00:00 +0000\r\n\r\nhello\r\n",
        bot.bot_address,
        std::process::id()
    )
}

fn ingest(config: &Path, raw: &str) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rapporteur"))
        .arg("--config")
        .arg(config)
        .arg("ingest-mail")
        .env("RAPPORTEUR_LOG", "warn")
        .env_remove("RAPPORTEUR_DATABASE_URL")
        .env_remove("RAPPORTEUR_DATA_DIR")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("ingest-mail");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(raw.as_bytes())
        .expect("write the mail");
    assert!(child.wait().expect("wait").success(), "ingest-mail failed");
}

struct Prometheus {
    child: Child,
    port: u16,
    _folder: tempfile::TempDir,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_prometheus(target_port: u16) -> Option<Prometheus> {
    let binary = PathBuf::from("/usr/bin/prometheus");
    if !binary.is_file() {
        assert!(
            !support::servers_required(),
            "Prometheus is missing: scripts/test.sh installs Debian's prometheus"
        );
        return None;
    }
    let folder = tempfile::tempdir().expect("temp dir");
    let config = folder.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
             scrape_configs:\n  - job_name: rapporteur\n    static_configs:\n      - targets: ['127.0.0.1:{target_port}']\n"
        ),
    )
    .expect("write the Prometheus config");
    let port = free_port();
    let child = Command::new(&binary)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            folder.path().join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start prometheus");
    Some(Prometheus {
        child,
        port,
        _folder: folder,
    })
}

/// Asks Prometheus for one instant query; the first result's value.
fn query(prometheus: &Prometheus, expression: &str) -> Option<f64> {
    let encoded: String = expression
        .bytes()
        .map(|byte| match byte {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' => (byte as char).to_string(),
            _ => format!("%{byte:02X}"),
        })
        .collect();
    let (status, body) = get(prometheus.port, &format!("/api/v1/query?query={encoded}"))?;
    if status != 200 {
        return None;
    }
    let answer: serde_json::Value = serde_json::from_str(&body).ok()?;
    answer["data"]["result"][0]["value"][1]
        .as_str()?
        .parse()
        .ok()
}

#[tokio::test]
async fn prometheus_scrapes_the_bot_while_commands_flow_and_readyz_names_the_broken_channel() {
    let http_port = free_port();
    let mail_folder = tempfile::tempdir().expect("temp dir");
    let password = mail_folder.path().join("imap_password");
    std::fs::write(&password, "unused").unwrap();
    std::fs::create_dir_all(mail_folder.path().join("sent")).unwrap();
    let mut bot = MailOnlyBot::configure(&format!(
        "[mail.smtp]\nfile_directory = {}\n\n\
         [mail.imap]\nhost = \"127.0.0.1\"\nport = 9\nsecurity = \"plain\"\nusername = \"nobody\"\n\
         password_file = {}\nconnect_timeout_seconds = 2\n",
        path_text(&mail_folder.path().join("sent")),
        path_text(&password)
    ));
    let config = std::fs::read_to_string(&bot.config_path).unwrap();
    std::fs::write(
        &bot.config_path,
        config.replacen(
            "[[groups]]",
            &format!("[http]\nlisten = \"127.0.0.1:{http_port}\"\n\n[[groups]]"),
            1,
        ),
    )
    .unwrap();
    bot.start_with_environment(&[("RAPPORTEUR_LOG_FORMAT", "json")]);
    bot.wait_for_log("serving the public record", Duration::from_secs(60))
        .await;

    let (status, body) = get(http_port, "/healthz").expect("/healthz answers");
    assert_eq!((status, body.as_str()), (200, "ok\n"));

    // The IMAP server is not there: not ready, and the page says which part and why.
    let deadline = Instant::now() + Duration::from_secs(30);
    let readiness = loop {
        let (status, body) = get(http_port, "/readyz").expect("/readyz answers");
        if body.contains("imap: retrying") || Instant::now() > deadline {
            break (status, body);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(readiness.0, 503, "{}", readiness.1);
    assert!(
        readiness.1.starts_with("not ready\n")
            && readiness.1.contains("database: ok")
            && readiness
                .1
                .contains("imap: retrying, no success yet, failing since"),
        "{}",
        readiness.1
    );

    // The public record is served from site_dir (published at start).
    let (status, index) = get(http_port, "/").expect("the record's index");
    assert_eq!(status, 200, "{index}");
    assert!(index.contains("Mail Coordination Group"), "{index}");

    let before = get(http_port, "/metrics").expect("/metrics").1;
    let prometheus = start_prometheus(http_port);

    for index in 0..3 {
        ingest(&bot.config_path, &ping_mail(&bot, index));
    }
    // The bot looks at its inbox every few seconds; the replies go to the mail folder.
    let deadline = Instant::now() + Duration::from_secs(60);
    let after = loop {
        let text = get(http_port, "/metrics").expect("/metrics").1;
        if sample(&text, "rapporteur_sends_total{channel=\"mail\"}") >= 3.0
            || Instant::now() > deadline
        {
            break text;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let moved = |series: &str| sample(&after, series) - sample(&before, series);
    assert_eq!(
        moved("rapporteur_inputs_handled_total{channel=\"mail\"}"),
        3.0,
        "{after}"
    );
    assert_eq!(
        moved("rapporteur_commands_total{command=\"ping\",outcome=\"executed\"}"),
        3.0,
        "{after}"
    );
    assert_eq!(
        moved("rapporteur_sends_total{channel=\"mail\"}"),
        3.0,
        "{after}"
    );
    assert!(sample(&after, "rapporteur_decision_seconds_count") >= 3.0);
    assert_eq!(
        sample(&after, "rapporteur_outbox_items{state=\"sent\"}"),
        3.0,
        "{after}"
    );
    assert_eq!(
        sample(&after, "rapporteur_group_lease_owned{group=\"mail-ccg\"}"),
        1.0
    );
    assert!(after.contains("rapporteur_channel_up{channel=\"imap\"} 0"));
    assert!(after.contains("rapporteur_channel_up{channel=\"smtp\"} 1"));

    // promtool, Prometheus's own checker, accepts the text as it is served.
    let mut promtool = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool (Debian's prometheus package)");
    promtool
        .stdin
        .take()
        .unwrap()
        .write_all(after.as_bytes())
        .unwrap();
    let checked = promtool.wait_with_output().unwrap();
    assert!(
        checked.status.success(),
        "promtool: {}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );

    // The log is one JSON object a line, and one mail's path can be followed by its IDs: its
    // Message-ID (`external_id`) to the input that handled it (`inbox_id`), to its send.
    let log = bot.log();
    let lines: Vec<serde_json::Value> = log
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    let handled = lines
        .iter()
        .find(|line| {
            line["message"] == "handled"
                && line["external_id"]
                    .as_str()
                    .is_some_and(|id| id.contains("observe-0-"))
        })
        .unwrap_or_else(|| panic!("no handled line for the first mail in:\n{log}"));
    assert_eq!(handled["channel"], "mail");
    assert_eq!(handled["group"], "mail-ccg");
    assert_eq!(handled["command"], "ping");
    let inbox_id = handled["inbox_id"].as_i64().expect("an inbox_id");
    assert!(
        lines
            .iter()
            .any(|line| line["message"] == "sent" && line["inbox_id"].as_i64() == Some(inbox_id)),
        "no sent line for inbox_id {inbox_id} in:\n{log}"
    );

    // A real Prometheus scraped the bot and holds what was done.
    if let Some(prometheus) = prometheus {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let up = query(&prometheus, "up{job=\"rapporteur\"}");
            let handled = query(
                &prometheus,
                "sum(rapporteur_inputs_handled_total{channel=\"mail\"})",
            );
            if up == Some(1.0) && handled.is_some_and(|handled| handled >= 3.0) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "Prometheus never saw the bot's work: up {up:?}, handled {handled:?}"
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}

/// As systemd runs it (`Type=notify`, `WatchdogSec=`): the bot says READY=1 with a status line
/// on the socket systemd names, then WATCHDOG=1 again and again while its handler's loop turns.
/// The socket is a real Unix datagram socket read by this test, as systemd reads it.
#[tokio::test]
async fn the_bot_tells_systemd_it_is_ready_and_feeds_the_watchdog() {
    let mail_folder = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(mail_folder.path().join("sent")).unwrap();
    let mut bot = MailOnlyBot::configure(&format!(
        "[mail.smtp]\nfile_directory = {}\n",
        path_text(&mail_folder.path().join("sent"))
    ));
    let socket_path = mail_folder.path().join("notify.sock");
    let socket = std::os::unix::net::UnixDatagram::bind(&socket_path).expect("a notify socket");
    socket
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let socket_text = socket_path.display().to_string();
    // Half of 2 seconds: a beat every second.
    bot.start_with_environment(&[
        ("NOTIFY_SOCKET", socket_text.as_str()),
        ("WATCHDOG_USEC", "2000000"),
    ]);
    let mut messages = Vec::new();
    let mut buffer = [0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(40);
    while messages
        .iter()
        .filter(|message: &&String| message.contains("WATCHDOG=1"))
        .count()
        < 2
    {
        assert!(
            Instant::now() < deadline,
            "systemd was told only: {messages:?}\n{}",
            bot.log()
        );
        let Ok(read) = socket.recv(&mut buffer) else {
            continue;
        };
        messages.push(String::from_utf8_lossy(&buffer[..read]).into_owned());
    }
    let ready = messages
        .iter()
        .position(|message| message.contains("READY=1"))
        .unwrap_or_else(|| panic!("no READY=1 in {messages:?}"));
    assert!(
        messages[ready].contains("STATUS=serving"),
        "{}",
        messages[ready]
    );
    let first_beat = messages
        .iter()
        .position(|message| message.contains("WATCHDOG=1"))
        .unwrap();
    assert!(
        ready < first_beat,
        "ready before the first beat: {messages:?}"
    );
}
