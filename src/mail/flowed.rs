//! `format=flowed` plain text (RFC 3676), the default of Thunderbird and other clients: a long
//! line is sent as several, each but the last ending in a space (a soft break), so that a reader
//! can wrap it anew. The reader joins them back into the line the author wrote before any
//! command is looked for; without that, a long command is cut at the first soft break and the
//! rest is lost.
//!
//! The rules, in order, for each line: count and remove the quote markers (`>` characters at the
//! start, the quote depth); remove one space after them, which the sender added to lines that
//! start with a space, `>` or `From ` (space-stuffing); a line that then ends in a space, and is
//! not the signature separator `-- `, continues on the next line of the same depth. With
//! `DelSp=yes` the space of a soft break was added by the sender and is removed when joining
//! (clients writing languages without spaces between words use it). A soft break followed by a
//! line of another depth, or by nothing, is ended where it is (RFC 3676, 4.5).
//!
//! The joined lines are written back with their quote depth as `>` markers, so that the
//! authored-line rules see quoted text as quoted, exactly as in fixed plain text.

/// How the sender wrote the plain-text part, from its Content-Type parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flowed {
    /// `DelSp=yes`: the space before each soft break is not part of the text.
    pub delete_space: bool,
}

impl Flowed {
    /// Reads `format` and `delsp` (case-insensitive, as MIME parameters are); `None` for fixed
    /// text.
    pub fn from_parameters<'a>(
        mut parameter: impl FnMut(&str) -> Option<&'a str>,
    ) -> Option<Flowed> {
        let format = parameter("format")?;
        if !format.trim().eq_ignore_ascii_case("flowed") {
            return None;
        }
        let delete_space =
            parameter("delsp").is_some_and(|value| value.trim().eq_ignore_ascii_case("yes"));
        Some(Flowed { delete_space })
    }
}

/// The text with its soft breaks joined and its stuffing removed; quoted lines keep their depth
/// as `>` markers followed by a space.
pub fn unflow(text: &str, flowed: Flowed) -> String {
    let mut output = String::with_capacity(text.len());
    // The logical line being joined, with its quote depth.
    let mut current: Option<(usize, String)> = None;
    for raw_line in text.split('\n') {
        let raw_line = raw_line.strip_suffix('\r').unwrap_or(raw_line);
        let depth = raw_line.len() - raw_line.trim_start_matches('>').len();
        let content = &raw_line[depth..];
        let content = content.strip_prefix(' ').unwrap_or(content);
        // A soft break before a line of another depth is not a soft break.
        if let Some((current_depth, _)) = &current
            && *current_depth != depth
        {
            finish_line(&mut output, current.take());
        }
        let is_signature_separator = content == "-- ";
        let soft_break = content.ends_with(' ') && !is_signature_separator;
        let (_, line) = current.get_or_insert_with(|| (depth, String::new()));
        if soft_break {
            let kept = if flowed.delete_space {
                &content[..content.len() - 1]
            } else {
                content
            };
            line.push_str(kept);
        } else {
            line.push_str(content);
            finish_line(&mut output, current.take());
        }
    }
    finish_line(&mut output, current.take());
    // `split` yields an empty last piece for text ending in a line break; it became an empty
    // line of its own, which is removed so the text ends as it did.
    if text.ends_with('\n') && output.ends_with("\n\n") {
        output.pop();
    }
    output
}

fn finish_line(output: &mut String, line: Option<(usize, String)>) {
    let Some((depth, line)) = line else {
        return;
    };
    if depth > 0 {
        output.extend(std::iter::repeat_n('>', depth));
        output.push(' ');
    }
    output.push_str(&line);
    output.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    const FLOWED: Flowed = Flowed {
        delete_space: false,
    };
    const DELSP: Flowed = Flowed { delete_space: true };

    #[test]
    fn soft_breaks_are_joined_by_the_rules_of_rfc_3676() {
        let cases: &[(&str, Flowed, &str)] = &[
            // Thunderbird wraps a long command at 72 columns, a space at the end of each part.
            (
                "!request open \"Review of the charter\" to GAC, ccNSO \ndue 2026-12-20 doc \nhttps://example.org/c.pdf\n",
                FLOWED,
                "!request open \"Review of the charter\" to GAC, ccNSO due 2026-12-20 doc https://example.org/c.pdf\n",
            ),
            // CRLF line ends, as mail arrives.
            (
                "!roster \r\nGAC\r\n\r\nAna\r\n",
                FLOWED,
                "!roster GAC\n\nAna\n",
            ),
            // DelSp=yes: the space before the break was added by the sender.
            (
                "!request open \"日本\r\n語\" due friday\r\n",
                FLOWED,
                "!request open \"日本\n語\" due friday\n",
            ),
            (
                "!request open \"日本 \r\n語\" due friday\r\n",
                DELSP,
                "!request open \"日本語\" due friday\n",
            ),
            // Space-stuffing is removed: one space after the quote markers.
            (
                "  indented\n >not a quote\n From me\n",
                FLOWED,
                " indented\n>not a quote\nFrom me\n",
            ),
            // Quote depth: soft breaks join lines of one depth; the depth is kept as markers.
            (
                "On x, bot wrote:\n> There is no command \n> !rostr.\n>> deeper \n>> still\n",
                FLOWED,
                "On x, bot wrote:\n> There is no command !rostr.\n>> deeper still\n",
            ),
            // A soft break before a line of another depth ends the line there.
            ("!ping \n> quoted\n", FLOWED, "!ping \n> quoted\n"),
            // The signature separator ends in a space but is never a soft break.
            (
                "!ping\n-- \nAna Lima \nGAC\n",
                FLOWED,
                "!ping\n-- \nAna Lima GAC\n",
            ),
            // A soft break at the very end is kept as it is.
            ("!ping ", FLOWED, "!ping \n"),
            ("", FLOWED, "\n"),
        ];
        for (text, flowed, expected) in cases {
            assert_eq!(unflow(text, *flowed), *expected, "for {text:?}");
        }
    }

    #[test]
    fn parameters_are_read_case_insensitively() {
        let read = |format: Option<&'static str>, delsp: Option<&'static str>| {
            Flowed::from_parameters(|name| match name {
                "format" => format,
                "delsp" => delsp,
                _ => None,
            })
        };
        assert_eq!(read(None, None), None);
        assert_eq!(read(Some("fixed"), Some("yes")), None);
        assert_eq!(read(Some("Flowed"), None), Some(FLOWED));
        assert_eq!(read(Some("flowed"), Some("YES")), Some(DELSP));
        assert_eq!(read(Some("flowed"), Some("no")), Some(FLOWED));
    }
}
