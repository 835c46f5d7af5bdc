//! The stable identifiers of people in group files (`id = "ana.lima"`): what a valid one looks
//! like, and the one to suggest when a person has none or an invalid one.

use std::collections::HashSet;

/// The longest id accepted, in characters (all of them ASCII).
pub const LONGEST_PERSON_ID: usize = 64;

/// Whether `id` is 1 to 64 lower-case ASCII letters, digits, `.`, `-` or `_`. Ids are kept this
/// plain because stored records and commands name people by them, and they must survive being
/// typed in a mail or a chat message unchanged.
pub fn is_valid_person_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= LONGEST_PERSON_ID
        && id.chars().all(|character| {
            character.is_ascii_lowercase()
                || character.is_ascii_digit()
                || matches!(character, '.' | '-' | '_')
        })
}

/// An id made from the first of `sources` that has Latin letters or digits in it (such as an
/// invalid id "Ana Lima", then the name "Jürgen Weber") and that is not in `taken`:
/// "jurgen.weber", or "jurgen.weber-2" when that is taken. Made from the file's text alone, so
/// the same person gets the same suggestion in every group file.
pub fn suggested_person_id(sources: &[&str], taken: &HashSet<String>) -> String {
    let base = sources
        .iter()
        .map(|source| slug(source))
        .find(|slug| !slug.is_empty())
        // Nothing to build on, such as a name written in another script only.
        .unwrap_or_else(|| "person".to_string());
    if !taken.contains(&base) {
        return base;
    }
    (2..)
        .map(|number| {
            let suffix = format!("-{number}");
            let room_for_base = LONGEST_PERSON_ID - suffix.len();
            let shortened = base[..base.len().min(room_for_base)].trim_end_matches(is_separator);
            format!("{shortened}{suffix}")
        })
        .find(|candidate| !taken.contains(candidate))
        .expect("some numbered id is free")
}

fn is_separator(character: char) -> bool {
    matches!(character, '.' | '-' | '_')
}

/// Lower-case ASCII letters and digits from `text`, with accents removed from the Latin letters
/// that have them and every run of other characters made one separator: `-` or `_` when the run
/// holds one (so "Jean-Pierre" stays hyphenated), a `.` otherwise. Apostrophes are dropped, so
/// "O'Brien" gives "obrien".
fn slug(text: &str) -> String {
    let mut slug = String::new();
    let mut pending_separator: Option<char> = None;
    for character in text.chars() {
        if matches!(character, '\'' | '\u{2019}') {
            continue;
        }
        let letters = ascii_letters_of(character);
        if letters.is_empty() {
            let separator = if matches!(character, '-' | '_') {
                character
            } else {
                '.'
            };
            pending_separator = match pending_separator {
                Some(earlier) if earlier != '.' => Some(earlier),
                _ => Some(separator),
            };
            continue;
        }
        if let Some(separator) = pending_separator.take()
            && !slug.is_empty()
        {
            slug.push(separator);
        }
        slug.push_str(&letters);
    }
    if slug.len() > LONGEST_PERSON_ID {
        // Cut after the last whole word that fits (the character just past the limit may be the
        // separator that ends it), or in the middle of a word when a single word is too long.
        let fitting = &slug[..=LONGEST_PERSON_ID];
        let end = fitting.rfind(is_separator).unwrap_or(LONGEST_PERSON_ID);
        slug.truncate(end);
        slug = slug.trim_end_matches(is_separator).to_string();
    }
    slug
}

/// The lower-case ASCII letters a character stands for in a slug: itself for ASCII letters and
/// digits, the base letter for the accented Latin letters common in names, nothing otherwise.
fn ascii_letters_of(character: char) -> String {
    if character.is_ascii_alphanumeric() {
        return character.to_ascii_lowercase().to_string();
    }
    let lower: String = character.to_lowercase().collect();
    let letters = match lower.as_str() {
        "à" | "á" | "â" | "ã" | "ä" | "å" | "ā" | "ă" | "ą" => "a",
        "æ" => "ae",
        "ç" | "ć" | "č" | "ĉ" => "c",
        "ď" | "đ" | "ð" => "d",
        "è" | "é" | "ê" | "ë" | "ē" | "ė" | "ę" | "ě" => "e",
        "ğ" | "ģ" => "g",
        "ì" | "í" | "î" | "ï" | "ī" | "į" | "ı" => "i",
        "ķ" => "k",
        "ĺ" | "ļ" | "ľ" | "ł" => "l",
        "ñ" | "ń" | "ņ" | "ň" => "n",
        "ò" | "ó" | "ô" | "õ" | "ö" | "ø" | "ō" | "ő" => "o",
        "œ" => "oe",
        "ŕ" | "ř" => "r",
        "ś" | "ş" | "š" | "ș" => "s",
        "ß" => "ss",
        "ţ" | "ť" | "ț" => "t",
        "þ" => "th",
        "ù" | "ú" | "û" | "ü" | "ū" | "ů" | "ű" | "ų" => "u",
        "ý" | "ÿ" => "y",
        "ź" | "ż" | "ž" => "z",
        _ => "",
    };
    letters.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_ids_are_short_lower_case_and_plain() {
        for id in ["ana.lima", "a", "jean-pierre_2", &"x".repeat(64)] {
            assert!(is_valid_person_id(id), "{id}");
        }
        for id in [
            "",
            "Ana.Lima",
            "ana lima",
            "jürgen",
            "ana@lima",
            &"x".repeat(65),
        ] {
            assert!(!is_valid_person_id(id), "{id}");
        }
    }

    #[test]
    fn suggestions_come_from_the_name() {
        let none = HashSet::new();
        for (name, expected) in [
            ("Ana Lima", "ana.lima"),
            ("Jürgen Weber", "jurgen.weber"),
            ("José Hernández", "jose.hernandez"),
            ("Jean-Pierre  Dupont", "jean-pierre.dupont"),
            ("Siobhán O'Brien", "siobhan.obrien"),
            ("  Pieter de Vries ", "pieter.de.vries"),
            ("ANA_LIMA", "ana_lima"),
            ("王伟", "person"),
        ] {
            let suggestion = suggested_person_id(&[name], &none);
            assert_eq!(suggestion, expected, "{name}");
            assert!(is_valid_person_id(&suggestion), "{suggestion}");
        }
    }

    #[test]
    fn a_source_without_letters_gives_way_to_the_next() {
        let none = HashSet::new();
        assert_eq!(suggested_person_id(&["", "Ana Lima"], &none), "ana.lima");
        assert_eq!(
            suggested_person_id(&["Person.Smith", "X"], &none),
            "person.smith"
        );
        assert_eq!(suggested_person_id(&["王伟", "?"], &none), "person");
    }

    #[test]
    fn suggestions_avoid_taken_ids_and_stay_short() {
        let taken: HashSet<String> = ["ana.lima".to_string(), "ana.lima-2".to_string()].into();
        assert_eq!(suggested_person_id(&["Ana Lima"], &taken), "ana.lima-3");

        let long_id = "wei.lin.of.the.at-large.advisory.committee.and.of.the.asia.pacific.ralo";
        assert_eq!(
            suggested_person_id(&[long_id], &HashSet::new()),
            "wei.lin.of.the.at-large.advisory.committee.and.of.the.asia"
        );
        assert_eq!(
            suggested_person_id(&["x".repeat(70).as_str()], &HashSet::new()).len(),
            64
        );

        let long_name = "Maximiliana ".repeat(10);
        let long = suggested_person_id(&[long_name.as_str()], &HashSet::new());
        assert!(is_valid_person_id(&long), "{long}");
        let taken: HashSet<String> = [long.clone()].into();
        let numbered = suggested_person_id(&[long_name.as_str()], &taken);
        assert!(is_valid_person_id(&numbered), "{numbered}");
        assert!(numbered.ends_with("-2"), "{numbered}");
    }
}
