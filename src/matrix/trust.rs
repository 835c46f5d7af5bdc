//! Which senders' encrypted events count. A pure rule over a small view of what matrix-sdk found
//! out while decrypting (who the event says sent it, who the SDK checked the key against, and
//! how the sending device is linked to its owner), so it is tested by a table without a
//! homeserver.
//!
//! The rule, and why:
//! - The event's `sender` must be the owner of the device whose key established the Megolm
//!   session. The `sender` field is written by the homeserver; the session key is not. The SDK
//!   reports a mismatch as `MismatchedSender`, and we also compare the two user IDs ourselves.
//!   Without this, a homeserver (or anyone holding a session key) could put a command in a
//!   member's mouth.
//! - Devices the SDK flags as a verification violation (an identity that was verified and has
//!   changed since) are refused: that is what an impersonation looks like.
//! - A key that cannot be linked to any device of the sender (the device is unknown, or the key
//!   came from an insecure source such as a forward or a backup) is refused: nothing then ties
//!   the words to the member.
//! - A device signed by its owner's cross-signing identity is accepted whether or not the bot has
//!   verified that identity (it cannot verify every member interactively; the first identity it
//!   sees is the one it holds to, and a change of identity is refused as above).
//! - A device not signed by any identity is accepted only while its owner has no cross-signing
//!   identity at all (older clients, other bots): then the homeserver's device list is the only
//!   link there is, the same trust a plain room gives. Once the owner has an identity, an
//!   unsigned device is either a new session the owner has not verified yet or a device the
//!   homeserver added; it is refused and the owner is asked to verify the session (MSC4153).

use matrix_sdk::deserialized_responses::{DeviceLinkProblem, VerificationLevel, VerificationState};

/// How the SDK linked the key of an encrypted event to a device and its owner, as
/// `matrix_sdk::deserialized_responses::VerificationState` says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyLink {
    /// The owner's identity is verified by the bot and signed the device.
    Verified,
    /// The device is signed by its owner's identity, which the bot has not verified.
    UnverifiedIdentity,
    /// The owner's identity was verified once and has changed since.
    VerificationViolation,
    /// The device is not signed by any cross-signing identity.
    UnsignedDevice,
    /// No device of the sender is known for the key.
    UnknownDevice,
    /// The key came from a source that cannot vouch for it (an unsafe forward, a backup).
    InsecureSource,
    /// The device that owns the key belongs to another user than the event's sender.
    MismatchedSender,
}

/// What the trust rule looks at for one decrypted event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptedSenderView<'a> {
    /// The event's `sender`, as the homeserver delivered it.
    pub event_sender: &'a str,
    /// The user the SDK checked the key against (`EncryptionInfo::sender`).
    pub key_checked_for: &'a str,
    pub link: KeyLink,
    /// Whether the sender has a cross-signing identity the bot knows of.
    pub sender_has_identity: bool,
}

/// Why an encrypted event does not count, each with the plain explanation sent to the room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The key belongs to someone else than the event's sender.
    NotTheSendersKey,
    /// The sender's identity changed after it was verified.
    IdentityChanged,
    /// The key cannot be linked to any device of the sender.
    UnknownDevice,
    /// The sender has a cross-signing identity but did not sign this device.
    UnverifiedSession,
}

impl Refusal {
    /// A short name for logs.
    pub fn name(self) -> &'static str {
        match self {
            Refusal::NotTheSendersKey => "the key belongs to another user",
            Refusal::IdentityChanged => "the sender's identity changed since it was verified",
            Refusal::UnknownDevice => "the key is linked to no known device of the sender",
            Refusal::UnverifiedSession => "the sending session is not verified by its owner",
        }
    }

    /// What the member is told in the room, in plain words: why nothing was done and what to do.
    pub fn explanation(self) -> &'static str {
        match self {
            Refusal::NotTheSendersKey => {
                "I did not act on this message: it was encrypted with a key that belongs to \
                 another account than the one shown as its sender, so I cannot tell who wrote it. \
                 If you did send it, please tell the chair; your homeserver or a session in your \
                 name may be compromised."
            }
            Refusal::IdentityChanged => {
                "I did not act on this message: your account's cryptographic identity has changed \
                 since it was verified, which is also what an impersonation looks like. If you \
                 reset your identity yourself, ask the bot's operator to accept the new one."
            }
            Refusal::UnknownDevice => {
                "I did not act on this message: I cannot link its encryption key to any of your \
                 sessions (devices), so I cannot check that it comes from you. If you have just \
                 signed in, please send the command again in a minute."
            }
            Refusal::UnverifiedSession => {
                "I did not act on this message: it comes from a session (device) that you have \
                 not verified, and your account has cross-signing set up, so I cannot tell it \
                 from a device someone else added. Verify this session from another of your \
                 sessions (in Element: Settings, Sessions), then send the command again."
            }
        }
    }
}

impl KeyLink {
    /// The link as the SDK reported it when it decrypted the event.
    pub fn from_sdk(state: &VerificationState) -> KeyLink {
        match state {
            VerificationState::Verified => KeyLink::Verified,
            VerificationState::Unverified(level) => match level {
                VerificationLevel::UnverifiedIdentity => KeyLink::UnverifiedIdentity,
                VerificationLevel::VerificationViolation => KeyLink::VerificationViolation,
                VerificationLevel::UnsignedDevice => KeyLink::UnsignedDevice,
                VerificationLevel::None(DeviceLinkProblem::MissingDevice) => KeyLink::UnknownDevice,
                VerificationLevel::None(DeviceLinkProblem::InsecureSource) => {
                    KeyLink::InsecureSource
                }
                VerificationLevel::MismatchedSender => KeyLink::MismatchedSender,
            },
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SenderTrust {
    Accept,
    Refuse(Refusal),
}

/// Decides whether a decrypted event counts as written by its sender.
pub fn judge_encrypted_sender(view: &EncryptedSenderView) -> SenderTrust {
    if view.event_sender != view.key_checked_for {
        return SenderTrust::Refuse(Refusal::NotTheSendersKey);
    }
    match view.link {
        KeyLink::MismatchedSender => SenderTrust::Refuse(Refusal::NotTheSendersKey),
        KeyLink::VerificationViolation => SenderTrust::Refuse(Refusal::IdentityChanged),
        KeyLink::UnknownDevice | KeyLink::InsecureSource => {
            SenderTrust::Refuse(Refusal::UnknownDevice)
        }
        KeyLink::UnsignedDevice if view.sender_has_identity => {
            SenderTrust::Refuse(Refusal::UnverifiedSession)
        }
        KeyLink::UnsignedDevice | KeyLink::UnverifiedIdentity | KeyLink::Verified => {
            SenderTrust::Accept
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_of_senders() {
        let alice = "@alice:example.org";
        let mallory = "@mallory:example.org";
        use KeyLink::*;
        use Refusal::*;
        use SenderTrust::*;
        // (event sender, key checked for, link, sender has an identity, verdict)
        let cases = [
            (alice, alice, Verified, true, Accept),
            (alice, alice, UnverifiedIdentity, true, Accept),
            (alice, alice, UnsignedDevice, false, Accept),
            (
                alice,
                alice,
                UnsignedDevice,
                true,
                Refuse(UnverifiedSession),
            ),
            (
                alice,
                alice,
                VerificationViolation,
                true,
                Refuse(IdentityChanged),
            ),
            (
                alice,
                alice,
                KeyLink::UnknownDevice,
                false,
                Refuse(Refusal::UnknownDevice),
            ),
            (
                alice,
                alice,
                KeyLink::UnknownDevice,
                true,
                Refuse(Refusal::UnknownDevice),
            ),
            (
                alice,
                alice,
                InsecureSource,
                true,
                Refuse(Refusal::UnknownDevice),
            ),
            (
                alice,
                alice,
                MismatchedSender,
                true,
                Refuse(NotTheSendersKey),
            ),
            (
                alice,
                alice,
                MismatchedSender,
                false,
                Refuse(NotTheSendersKey),
            ),
            // The homeserver says Alice sent it, the key was checked for Mallory: whatever the
            // link, the words are not Alice's.
            (alice, mallory, Verified, true, Refuse(NotTheSendersKey)),
            (
                alice,
                mallory,
                UnverifiedIdentity,
                true,
                Refuse(NotTheSendersKey),
            ),
            (
                alice,
                mallory,
                UnsignedDevice,
                false,
                Refuse(NotTheSendersKey),
            ),
        ];
        for (event_sender, key_checked_for, link, sender_has_identity, expected) in cases {
            let view = EncryptedSenderView {
                event_sender,
                key_checked_for,
                link,
                sender_has_identity,
            };
            assert_eq!(judge_encrypted_sender(&view), expected, "{view:?}");
        }
    }

    #[test]
    fn the_sdk_states_map_to_links() {
        let cases = [
            (VerificationState::Verified, KeyLink::Verified),
            (
                VerificationState::Unverified(VerificationLevel::UnverifiedIdentity),
                KeyLink::UnverifiedIdentity,
            ),
            (
                VerificationState::Unverified(VerificationLevel::VerificationViolation),
                KeyLink::VerificationViolation,
            ),
            (
                VerificationState::Unverified(VerificationLevel::UnsignedDevice),
                KeyLink::UnsignedDevice,
            ),
            (
                VerificationState::Unverified(VerificationLevel::None(
                    DeviceLinkProblem::MissingDevice,
                )),
                KeyLink::UnknownDevice,
            ),
            (
                VerificationState::Unverified(VerificationLevel::None(
                    DeviceLinkProblem::InsecureSource,
                )),
                KeyLink::InsecureSource,
            ),
            (
                VerificationState::Unverified(VerificationLevel::MismatchedSender),
                KeyLink::MismatchedSender,
            ),
        ];
        for (state, link) in cases {
            assert_eq!(KeyLink::from_sdk(&state), link, "{state:?}");
        }
    }

    #[test]
    fn every_refusal_says_why_and_what_to_do() {
        use Refusal::*;
        for refusal in [
            NotTheSendersKey,
            IdentityChanged,
            Refusal::UnknownDevice,
            UnverifiedSession,
        ] {
            let text = refusal.explanation();
            assert!(text.starts_with("I did not act on this message"), "{text}");
            assert!(
                text.contains("please") || text.contains("ask") || text.contains("Verify"),
                "{refusal:?} tells the member what to do: {text}"
            );
        }
    }
}
