//! The bot's own mail, known by exact identity. Every Message-ID the bot writes is
//! `<key.tag@domain>`: the outbox key of the mail and a tag that only this deployment can make,
//! the first 10 bytes of HMAC-SHA256 over the key with a secret kept in the database (created
//! on first start, never logged). A mail is the bot's own only when its Message-ID, or its
//! `X-Rapporteur-Origin` header (which carries the same `key.tag`, for a list server that
//! replaces Message-IDs), proves it; a reply answers the bot only through such an ID. The
//! domain proves nothing: members share it (staff, a group hosted by one organization), and
//! their clients write Message-IDs in it (Thunderbird's `<uuid@sender-domain>`).
//!
//! Rotating the secret keeps the old ones for recognition (see `rapporteur mail-secret`), so
//! replies to mail sent before still find it. Pure: no storage, no clock.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Bytes of the HMAC kept in the tag: 80 bits, far beyond guessing within any mail volume.
const TAG_BYTES: usize = 10;

/// The secrets a deployment proves its mail with: the current one first (the one new mail is
/// tagged with), then older ones that are still recognised.
#[derive(Clone)]
pub struct MailIdentity {
    secrets: Vec<Vec<u8>>,
}

impl std::fmt::Debug for MailIdentity {
    /// Never the secrets themselves: settings and rules are logged in debug output.
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "MailIdentity({} secrets)", self.secrets.len())
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MailIdentityError {
    #[error("no mail identity secret")]
    Missing,
    #[error("a mail identity secret is not 64 hexadecimal digits")]
    Malformed,
}

impl MailIdentity {
    /// From hexadecimal secrets, the current one first.
    pub fn from_hex<S: AsRef<str>>(secrets: &[S]) -> Result<MailIdentity, MailIdentityError> {
        if secrets.is_empty() {
            return Err(MailIdentityError::Missing);
        }
        let secrets = secrets
            .iter()
            .map(|secret| match hex::decode(secret.as_ref().trim()) {
                Ok(bytes) if bytes.len() == 32 => Ok(bytes),
                _ => Err(MailIdentityError::Malformed),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(MailIdentity { secrets })
    }

    /// A new random secret, as stored.
    pub fn new_secret() -> Result<String, getrandom::Error> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)?;
        Ok(hex::encode(bytes))
    }

    fn tag_with(secret: &[u8], key: &str) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
        mac.update(key.as_bytes());
        mac
    }

    /// What the bot's mail with this outbox key carries: `key.tag`.
    pub fn origin(&self, key: &str) -> String {
        let tag = Self::tag_with(&self.secrets[0], key)
            .finalize()
            .into_bytes();
        format!("{key}.{}", hex::encode(&tag[..TAG_BYTES]))
    }

    /// The Message-ID of the bot's mail with this outbox key.
    pub fn message_id(&self, key: &str, domain: &str) -> String {
        format!("<{}@{domain}>", self.origin(key))
    }

    /// The outbox key an origin (`key.tag`) or a Message-ID (`<key.tag@domain>`) proves to be
    /// the bot's, under any of the secrets; `None` for anything this deployment did not make.
    pub fn proven_key<'a>(&self, origin_or_message_id: &'a str) -> Option<&'a str> {
        let trimmed = origin_or_message_id.trim();
        let bare = trimmed
            .strip_prefix('<')
            .and_then(|rest| rest.strip_suffix('>'))
            .unwrap_or(trimmed);
        let local = bare.rsplit_once('@').map_or(bare, |(local, _)| local);
        let (key, tag) = local.rsplit_once('.')?;
        let tag = hex::decode(tag).ok().filter(|tag| tag.len() == TAG_BYTES)?;
        self.secrets
            .iter()
            // Compared in constant time: the comparison must not tell a prober how much of a
            // guessed tag was right.
            .any(|secret| {
                Self::tag_with(secret, key)
                    .verify_truncated_left(&tag)
                    .is_ok()
            })
            .then_some(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(secrets: &[&str]) -> MailIdentity {
        MailIdentity::from_hex(secrets).expect("valid secrets")
    }

    const FIRST: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    const SECOND: &str = "1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100";

    #[test]
    fn only_ids_made_with_a_known_secret_prove_the_bot() {
        let first = identity(&[FIRST]);
        let id = first.message_id("rapporteur-0123abcd", "bot.example.org");
        assert!(id.starts_with("<rapporteur-0123abcd.") && id.ends_with("@bot.example.org>"));
        assert_eq!(first.proven_key(&id), Some("rapporteur-0123abcd"));
        // The origin header carries the same proof without the domain; the domain does not
        // matter (a deployment that changed it still knows its earlier mail).
        let origin = first.origin("rapporteur-0123abcd");
        assert_eq!(first.proven_key(&origin), Some("rapporteur-0123abcd"));
        let moved = id.replace("bot.example.org", "elsewhere.example.net");
        assert_eq!(first.proven_key(&moved), Some("rapporteur-0123abcd"));

        let rotated = identity(&[SECOND, FIRST]);
        assert_eq!(rotated.proven_key(&id), Some("rapporteur-0123abcd"));
        assert_ne!(rotated.origin("rapporteur-0123abcd"), origin);
        let other = identity(&[SECOND]);
        let of_another_key = id.replace("rapporteur-0123abcd", "rapporteur-0123abce");
        let cases = [
            (other.proven_key(&id), "another deployment's secret"),
            (
                first.proven_key("<rapporteur-0123abcd@bot.example.org>"),
                "no tag",
            ),
            (
                first.proven_key("<6b1f0c2e-1d7a-4f6e-9c55-0a1b2c3d4e5f@bot.example.org>"),
                "a Thunderbird ID in the bot's domain",
            ),
            (first.proven_key(&of_another_key), "the tag of another key"),
            (first.proven_key("bot.example.org"), "the old header value"),
            (
                first.proven_key("<a.zz@bot.example.org>"),
                "a tag that is no hex",
            ),
            (first.proven_key(""), "nothing"),
        ];
        for (proven, what) in cases {
            assert_eq!(proven, None, "{what}");
        }
    }

    #[test]
    fn secrets_are_checked_and_never_shown() {
        assert_eq!(
            MailIdentity::from_hex::<&str>(&[]).err(),
            Some(MailIdentityError::Missing)
        );
        assert_eq!(
            MailIdentity::from_hex(&["abc"]).err(),
            Some(MailIdentityError::Malformed)
        );
        assert_eq!(
            format!("{:?}", identity(&[FIRST])),
            "MailIdentity(1 secrets)"
        );
        let made = MailIdentity::new_secret().unwrap();
        assert_eq!(made.len(), 64);
        assert_ne!(made, MailIdentity::new_secret().unwrap());
    }
}
