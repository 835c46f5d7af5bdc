//! TLS for the mail connections: which certificates are trusted (the public roots, plus the
//! private CA an operator names with `ca_file`) and the connector the IMAP reader uses. The SMTP
//! side builds lettre's parameters from the same file, so both servers are checked alike.
//!
//! Invariant: the server's certificate is always verified against the host name of the
//! configuration; there is no setting that turns verification off.

use lettre::transport::smtp::client::{Certificate, TlsParameters};
use std::path::Path;
use std::sync::Arc;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};

/// The certificates of a PEM file, or why the file cannot serve as a CA file (unreadable, or
/// without a single certificate), in words for `check-config`.
pub fn read_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let pem = std::fs::read(path)
        .map_err(|error| format!("cannot read the CA file {}: {error}", path.display()))?;
    let certificates: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<_, _>>()
        .map_err(|error| {
            format!(
                "the CA file {} is not PEM certificates: {error}",
                path.display()
            )
        })?;
    if certificates.is_empty() {
        return Err(format!(
            "the CA file {} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
            path.display()
        ));
    }
    Ok(certificates)
}

/// The roots to trust: the public ones and, with a CA file, its certificates.
fn root_store(ca_file: Option<&Path>) -> Result<rustls::RootCertStore, String> {
    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if let Some(path) = ca_file {
        for certificate in read_ca_file(path)? {
            roots.add(certificate).map_err(|error| {
                format!("a certificate of {} is not usable: {error}", path.display())
            })?;
        }
    }
    Ok(roots)
}

/// The TLS connector of the IMAP reader.
pub fn imap_connector(ca_file: Option<&Path>) -> Result<tokio_rustls::TlsConnector, String> {
    let roots = root_store(ca_file)?;
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|error| error.to_string())?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}

/// The name the server's certificate must carry: the configured host, a DNS name or an address.
pub fn server_name(host: &str) -> Result<ServerName<'static>, String> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    ServerName::try_from(bare.to_string())
        .map_err(|_| format!("{host:?} is not a valid server name for TLS"))
}

/// lettre's TLS parameters for `host`, trusting the CA file's certificates besides the public
/// roots.
pub fn smtp_parameters(host: &str, ca_file: Option<&Path>) -> Result<TlsParameters, String> {
    let mut builder = TlsParameters::builder(host.to_string());
    if let Some(path) = ca_file {
        let pem = std::fs::read(path)
            .map_err(|error| format!("cannot read the CA file {}: {error}", path.display()))?;
        let certificate = Certificate::from_pem(&pem)
            .map_err(|error| format!("the CA file {}: {error}", path.display()))?;
        builder = builder.add_root_certificate(certificate);
    }
    builder.build_rustls().map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ca_file_needs_at_least_one_certificate() {
        let folder = tempfile::tempdir().unwrap();
        let cases: [(&str, &str, bool); 3] = [
            ("empty.pem", "", false),
            (
                "key-only.pem",
                "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
                false,
            ),
            ("garbage.pem", "not a certificate at all", false),
        ];
        for (name, text, usable) in cases {
            let path = folder.path().join(name);
            std::fs::write(&path, text).unwrap();
            assert_eq!(read_ca_file(&path).is_ok(), usable, "{name}");
        }
        assert!(read_ca_file(&folder.path().join("missing.pem")).is_err());
    }

    #[test]
    fn server_names_accept_hosts_and_addresses() {
        for (host, valid) in [
            ("localhost", true),
            ("mail.example.org", true),
            ("127.0.0.1", true),
            ("[::1]", true),
            ("bad host", false),
        ] {
            assert_eq!(server_name(host).is_ok(), valid, "{host}");
        }
    }
}
