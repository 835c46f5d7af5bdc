//! TLS to the mail servers of the test stack (dovecot's IMAPS, the relay's STARTTLS and SMTPS,
//! with certificates of the stack's private CA for the name `localhost`): the bot's connections
//! succeed with the CA file and the right name, and are refused when the certificate does not
//! match the host name or comes from a CA the bot was not told to trust.

mod support;

use lettre::address::Envelope;
use rapporteur::config::{MailSecurity, MailTimeouts, Secret, SmtpSettings};
use rapporteur::mail::smtp_pool::SmtpPool;
use rapporteur::mail::tls::{imap_connector, server_name};
use std::path::{Path, PathBuf};
use support::mail::{TlsServers, mail_servers, tls_servers};

struct Case {
    name: &'static str,
    host: &'static str,
    trust_test_ca: bool,
    accepted: bool,
}

/// `localhost` is the certificate's name; `127.0.0.1` reaches the same server under a name the
/// certificate does not carry.
const CASES: [Case; 3] = [
    Case {
        name: "the certificate's name, the CA trusted",
        host: "localhost",
        trust_test_ca: true,
        accepted: true,
    },
    Case {
        name: "an address the certificate does not name",
        host: "127.0.0.1",
        trust_test_ca: true,
        accepted: false,
    },
    Case {
        name: "a CA the bot was not told to trust",
        host: "localhost",
        trust_test_ca: false,
        accepted: false,
    },
];

fn ca_file(tls: &TlsServers, trust: bool) -> Option<PathBuf> {
    trust.then(|| tls.ca_file.clone())
}

#[tokio::test]
async fn imaps_accepts_only_a_certificate_for_the_configured_name() {
    let Some(tls) = tls_servers().await else {
        return;
    };
    for case in CASES {
        let connector =
            imap_connector(ca_file(&tls, case.trust_test_ca).as_deref()).expect("a connector");
        let tcp = tokio::net::TcpStream::connect((case.host, tls.imaps_port))
            .await
            .expect("TCP to IMAPS");
        let handshake = connector
            .connect(server_name(case.host).expect("server name"), tcp)
            .await;
        assert_eq!(
            handshake.is_ok(),
            case.accepted,
            "{}: {:?}",
            case.name,
            handshake.err()
        );
        if let Ok(stream) = handshake {
            let mut client = async_imap::Client::new(stream);
            let greeting = client.read_response().await.expect("greeting");
            assert!(greeting.is_some(), "{}: dovecot greets over TLS", case.name);
        }
    }
}

async fn send_through(
    security: MailSecurity,
    host: &str,
    port: u16,
    ca_file: Option<&Path>,
    to: &str,
) -> Result<(), String> {
    let pool = SmtpPool::new(
        SmtpSettings {
            host: host.to_string(),
            port,
            security,
            username: None,
            password: None::<Secret>,
            pool_size: 1,
            ca_file: ca_file.map(Path::to_path_buf),
            timeouts: MailTimeouts::default(),
        },
        "rapporteur.localhost",
    );
    let envelope = Envelope::new(
        Some("tls-test@localhost".parse().unwrap()),
        vec![to.parse().unwrap()],
    )
    .unwrap();
    let message = format!(
        "From: tls-test@localhost\r\nTo: {to}\r\nSubject: over TLS\r\nMessage-ID: <{}@localhost>\r\n\r\nhello\r\n",
        support::matrix::unique_name("tls")
    );
    pool.send(&envelope, message.as_bytes())
        .await
        .map_err(|failure| failure.message)
}

#[tokio::test]
async fn smtp_starttls_and_smtps_accept_only_a_certificate_for_the_configured_name() {
    let (Some(tls), Some(servers)) = (tls_servers().await, mail_servers().await) else {
        return;
    };
    for (security, port) in [
        (MailSecurity::StartTls, servers.smtp_port),
        (MailSecurity::Tls, tls.smtps_port),
    ] {
        for case in CASES {
            let to = format!("{}@localhost", support::matrix::unique_name("tlsrcpt"));
            let result = send_through(
                security,
                case.host,
                port,
                ca_file(&tls, case.trust_test_ca).as_deref(),
                &to,
            )
            .await;
            assert_eq!(
                result.is_ok(),
                case.accepted,
                "{security:?}, {}: {result:?}",
                case.name
            );
            if case.accepted {
                let delivered = servers.inbox(&to).await;
                assert_eq!(delivered.len(), 1, "{security:?}: the mail arrived");
            } else {
                let error = result.unwrap_err().to_lowercase();
                assert!(
                    error.contains("certificate") || error.contains("tls"),
                    "{security:?}, {}: the error says why: {error}",
                    case.name
                );
            }
        }
    }
}
