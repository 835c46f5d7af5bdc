//! The one way email addresses are compared, wherever the bot asks "is this the same person?"
//! (a mail's author against the group file, a From against a list address, two addresses of
//! the group file against each other).
//!
//! The normalisation, and why:
//!
//! - The domain is case-folded and converted to its ASCII (IDNA, UTS 46) form: domain names are
//!   case-insensitive in DNS, and `bücher.example` and `xn--bcher-kva.example` are one domain.
//! - The local part is compared exactly as written. Only the receiving domain knows whether
//!   `Ana.Lima` and `ana.lima` are one mailbox (RFC 5321 §2.4), or whether dots and `+tags`
//!   matter, so the bot assumes nothing: the group file must write an address as the person's
//!   mail client writes it.
//! - An address whose local part holds anything but ASCII never matches: a Unicode lookalike
//!   (a Cyrillic `а` in `аna.lima`) must not pass for a member. Nor does a domain that is
//!   written with non-ASCII characters but maps to plain ASCII (full-width `ｅｘａｍｐｌｅ.org`):
//!   it only imitates the ASCII name.
//!
//! Invariant: two addresses are the same person's only if [`comparable_email`] gives both the
//! same text; an address it refuses matches nobody.

/// The compared form of an address: the local part as written, `@`, the domain in lower-case
/// ASCII. `None` when the address cannot be compared safely (see the module comment) or has no
/// local part or domain.
pub fn comparable_email(address: &str) -> Option<String> {
    let address = address.trim();
    let (local, domain) = address.rsplit_once('@')?;
    let local_is_plain = !local.is_empty()
        && local
            .chars()
            .all(|character| character.is_ascii_graphic() && character != '@');
    if !local_is_plain || domain.is_empty() {
        return None;
    }
    Some(format!("{local}@{}", comparable_domain(domain)?))
}

/// A domain in lower-case ASCII (IDNA), or `None` when it is not a usable domain name or when a
/// label written in non-ASCII characters only imitates an ASCII one.
pub fn comparable_domain(domain: &str) -> Option<String> {
    let domain = domain.trim().trim_end_matches('.');
    if domain.is_empty() {
        return None;
    }
    if domain.is_ascii() {
        let lower = domain.to_ascii_lowercase();
        let plain = lower.split('.').all(|label| {
            !label.is_empty()
                && label
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        });
        return plain.then_some(lower);
    }
    let ascii = idna::domain_to_ascii(domain).ok()?;
    let written: Vec<&str> = domain.split(['.', '。', '．', '｡']).collect();
    let converted: Vec<&str> = ascii.split('.').collect();
    if written.len() != converted.len() {
        return None;
    }
    let imitates_ascii = written
        .iter()
        .zip(&converted)
        .any(|(written, converted)| !written.is_ascii() && !converted.starts_with("xn--"));
    (!imitates_ascii && !ascii.is_empty()).then_some(ascii)
}

/// Whether two addresses are the same person's by [`comparable_email`]. An address that cannot
/// be compared is nobody's.
pub fn same_email(left: &str, right: &str) -> bool {
    match (comparable_email(left), comparable_email(right)) {
        (Some(left), Some(right)) => left == right,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_compare_after_one_normalisation() {
        // (written in the group file, written by the sender, same person)
        let cases = [
            ("ana.lima@example.org", "ana.lima@example.org", true),
            ("ana.lima@example.org", "ana.lima@EXAMPLE.Org", true),
            ("ana.lima@example.org", " ana.lima@example.org ", true),
            ("ana.lima@example.org", "ana.lima@example.org.", true),
            // The local part is compared as written: only the domain's server may fold it.
            ("ana.lima@example.org", "Ana.Lima@example.org", false),
            ("Ana.Lima@example.org", "Ana.Lima@example.org", true),
            ("ana.lima@example.org", "analima@example.org", false),
            ("ana.lima@example.org", "ana.lima+bot@example.org", false),
            // Internationalised domains compare in their ASCII form.
            ("ana@bücher.example", "ana@xn--bcher-kva.example", true),
            ("ana@BÜCHER.example", "ana@bücher.example", true),
            // Lookalikes: a Cyrillic а, a Kelvin sign, full-width letters.
            ("ana.lima@example.org", "\u{430}na.lima@example.org", false),
            ("kim@example.org", "\u{212A}im@example.org", false),
            ("ana@example.org", "ana@ｅｘａｍｐｌｅ.org", false),
            ("ana@example.org", "ana@ex\u{430}mple.org", false),
            // Nothing to compare.
            ("ana@example.org", "ana", false),
            ("@example.org", "@example.org", false),
            ("ana@", "ana@", false),
        ];
        for (listed, sender, expected) in cases {
            assert_eq!(
                same_email(listed, sender),
                expected,
                "{listed:?} against {sender:?}"
            );
        }
    }

    #[test]
    fn the_compared_form_keeps_the_local_part_and_lowers_the_domain() {
        assert_eq!(
            comparable_email("Lucas.Moreau@EXAMPLE.ORG").as_deref(),
            Some("Lucas.Moreau@example.org")
        );
        assert_eq!(
            comparable_email("jo@München.example").as_deref(),
            Some("jo@xn--mnchen-3ya.example")
        );
        assert_eq!(comparable_email("jo\u{301}@example.org"), None);
        assert_eq!(comparable_email("a b@example.org"), None);
    }
}
