//! Which lines of a mail body the author wrote. Replies carry the message they answer, lists add
//! footers and people sign their mail; a command that appears only in such text was written by
//! someone else (or by nobody) and must never be acted on in the author's name.
//!
//! The rules follow how the common clients quote: `>` prefixes (Thunderbird, Gmail and Apple Mail
//! in plain text), an attribution line before the quote ("On ... wrote:"), Outlook's
//! "-----Original Message-----" or header block, signature separators, forwarded-message markers
//! and list footers. Everything from a marker that introduces someone else's text to the end is
//! skipped; a `>` block after an attribution is skipped and the author's text after it (bottom
//! posting) is read again.

/// The lines the author wrote, in order, with quoted text, signatures, footers and forwarded
/// messages left out.
pub fn authored_lines(text: &str) -> Vec<&str> {
    let lines: Vec<&str> = text
        .lines()
        .map(|line| line.trim_end_matches('\r'))
        .collect();
    let mut authored = Vec::new();
    let mut index = 0;
    while index < lines.len() {
        let line = lines[index];
        if ends_authored_text(&lines, index) {
            break;
        }
        if is_quoted(line) {
            index += 1;
            continue;
        }
        if let Some(attribution_lines) = attribution_length(&lines, index) {
            // An attribution introduces a quote. If the quote is `>`-prefixed, the author may
            // continue below it (bottom posting); if it is not, nothing after the attribution
            // can be told apart from the quoted message, so reading stops.
            let mut next = index + attribution_lines;
            while next < lines.len() && lines[next].trim().is_empty() {
                next += 1;
            }
            if next < lines.len() && is_quoted(lines[next]) {
                index = next;
                continue;
            }
            break;
        }
        authored.push(line);
        index += 1;
    }
    authored
}

fn is_quoted(line: &str) -> bool {
    line.trim_start().starts_with('>')
}

/// Whether the line at `index` starts text the author did not write and that runs to the end:
/// a signature, a forwarded or original message, an Outlook header block or a list footer.
fn ends_authored_text(lines: &[&str], index: usize) -> bool {
    let line = lines[index];
    if line == "-- " || line == "--" {
        return true;
    }
    let trimmed = line.trim();
    let lower = trimmed.to_lowercase();
    let dashes_around = |marker: &str| {
        lower.starts_with("--")
            && lower.ends_with("--")
            && lower.trim_matches(|character: char| character == '-' || character == ' ') == marker
    };
    if dashes_around("original message")
        || dashes_around("forwarded message")
        || dashes_around("ursprüngliche nachricht")
        || dashes_around("message d'origine")
        || lower == "begin forwarded message:"
    {
        return true;
    }
    if trimmed.len() >= 10 && trimmed.chars().all(|character| character == '_') {
        return true;
    }
    is_mobile_signature(trimmed) || is_outlook_header_block(lines, index)
}

/// The line a phone's mail app adds under every message ("Sent from my iPhone", "Von meinem
/// iPhone gesendet", "Get Outlook for Android"): a signature without the `-- ` separator, so
/// nothing after it is the author's, and a one-word answer above it is still a one-word answer.
///
/// A line counts only when it is short and starts (or, in languages that put the verb last,
/// ends) with one of the clients' phrases, so that a sentence such as "Sent from the office,
/// here is the !roster" is not taken for one: such a line is longer or lacks the phrase's form.
pub fn is_mobile_signature(line: &str) -> bool {
    // Outlook for iOS and Android writes its link after the phrase: "Get Outlook for
    // iOS<https://aka.ms/o0ukef>".
    let line = match line.find('<') {
        Some(start) if line.ends_with('>') => &line[..start],
        _ => line,
    };
    let lower = line
        .trim()
        .trim_end_matches(['.', '!', '。'])
        .trim()
        .to_lowercase();
    if lower.is_empty() || lower.chars().count() > 60 {
        return false;
    }
    const STARTS: &[&str] = &[
        // English, for every client: "Sent from my iPhone", "Sent from my Galaxy", "Sent from
        // Outlook for Android", "Sent from Yahoo Mail on Android", "Sent from Mail for Windows".
        "sent from my ",
        "sent from outlook",
        "sent from yahoo mail",
        "sent from mail for ",
        "sent from the all new aol app",
        "sent from aol mobile",
        "sent from gmail mobile",
        "sent from proton mail",
        "sent from protonmail",
        "sent from samsung",
        "sent via the samsung",
        "sent from blackberry",
        "sent from huawei",
        "sent from xiaomi",
        "sent from mobile",
        "sent using ",
        "get outlook for ",
        // German ("Von meinem iPhone gesendet" is below: it also needs its last word)
        "gesendet von meinem ",
        "gesendet von outlook",
        "gesendet mit ",
        "outlook für ",
        // French
        "envoyé de mon ",
        "envoyé depuis mon ",
        "envoyé depuis outlook",
        "envoyé à partir de ",
        "obtenir outlook pour ",
        "téléchargez outlook pour ",
        // Spanish and Portuguese
        "enviado desde mi ",
        "enviado desde outlook",
        "enviado desde yahoo",
        "enviado do meu ",
        "enviado de meu ",
        "enviado de mi ",
        "enviado do outlook",
        "obtener outlook para ",
        "obter o outlook para ",
        // Italian
        "inviato da iphone",
        "inviato da ipad",
        "inviato dal mio ",
        "inviato da outlook",
        "scarica outlook per ",
        // Dutch, Scandinavian, Finnish
        "verzonden vanaf mijn ",
        "verstuurd vanaf mijn ",
        "verzonden met ",
        "verzonden vanuit outlook",
        "skickat från min ",
        "skickat från outlook",
        "sendt fra min ",
        "sendt fra outlook",
        "lähetetty iphonesta",
        "lähetetty ipadista",
        "lähetetty android",
        // Polish, Czech, Russian, Ukrainian, Turkish, Greek
        "wysłane z mojego ",
        "wysłano z ",
        "odesláno z ",
        "отправлено с ",
        "отправлено из ",
        "надіслано з ",
        "iphone'umdan gönderildi",
        "ipad'imden gönderildi",
        "εστάλη από ",
        "στάλθηκε από ",
    ];
    // Phrases with the verb last, known by their start and end together ("Von meinem iPhone
    // gesendet", "iPhoneから送信", "从我的iPhone发送", "發自我的 iPhone", "나의 iPhone에서 보냄").
    const AROUND: &[(&str, &str)] = &[
        ("von meinem ", " gesendet"),
        ("", "から送信"),
        ("从我的", "发送"),
        ("從我的", "發送"),
        ("發自我的", ""),
        ("发自我的", ""),
        ("", "에서 보냄"),
    ];
    STARTS.iter().any(|start| lower.starts_with(start))
        || AROUND
            .iter()
            .any(|(start, end)| lower.starts_with(start) && lower.ends_with(end))
}

/// Outlook quotes the answered message under a block of its headers: `From:` followed closely
/// by `Sent:` or `Date:` and by `To:` or `Subject:`.
fn is_outlook_header_block(lines: &[&str], index: usize) -> bool {
    let starts_with_field = |line: &str, names: &[&str]| {
        let lower = line.trim_start_matches(['*', ' ']).to_lowercase();
        names.iter().any(|name| lower.starts_with(name))
    };
    if !starts_with_field(lines[index], &["from:", "von:", "de :", "de:"]) {
        return false;
    }
    let following = &lines[index + 1..lines.len().min(index + 5)];
    let has_date = following
        .iter()
        .any(|line| starts_with_field(line, &["sent:", "date:", "gesendet:", "envoyé :"]));
    let has_recipient_or_subject = following
        .iter()
        .any(|line| starts_with_field(line, &["to:", "subject:", "an:", "betreff:", "à :"]));
    has_date && has_recipient_or_subject
}

/// If an attribution line ("On Mon, 3 Nov 2026, Ana Lima wrote:") starts at `index`, how many
/// lines it spans: clients wrap long attributions onto a second line.
fn attribution_length(lines: &[&str], index: usize) -> Option<usize> {
    let first = lines[index].trim();
    if is_attribution_end(first) && looks_like_attribution_start(first) {
        return Some(1);
    }
    let second = lines.get(index + 1)?.trim();
    let joined = format!("{first} {second}");
    (looks_like_attribution_start(first) && is_attribution_end(&joined)).then_some(2)
}

fn looks_like_attribution_start(line: &str) -> bool {
    let lower = line.to_lowercase();
    ["on ", "le ", "am ", "el "]
        .iter()
        .any(|start| lower.starts_with(start))
        || lower.contains('@')
}

fn is_attribution_end(line: &str) -> bool {
    let lower = line.to_lowercase();
    lower.ends_with("wrote:")
        || lower.ends_with("écrit :")
        || lower.ends_with("écrit:")
        || lower.ends_with("escribió:")
        || (lower.contains("schrieb") && lower.ends_with(':'))
}

/// Command lines among the authored lines: a line that starts with the prefix directly followed
/// by a letter. At most `limit` are taken, so a pasted list cannot set off a flood of replies.
pub fn command_lines<'a>(lines: &[&'a str], prefix: &str, limit: usize) -> Vec<&'a str> {
    lines
        .iter()
        .map(|line| line.trim())
        .filter(|line| starts_command(line, prefix))
        .take(limit)
        .collect()
}

pub fn starts_command(text: &str, prefix: &str) -> bool {
    text.strip_prefix(prefix)
        .and_then(|rest| rest.chars().next())
        .is_some_and(char::is_alphabetic)
}

/// The command in a subject the author wrote. A subject with a reply or forward marker was
/// written by someone else: reading it would run the command again for every reply in the
/// thread, so only the body of such a mail is read.
pub fn subject_command<'a>(subject: &'a str, prefix: &str) -> Option<&'a str> {
    let (core, marked) = subject_core(subject);
    (!marked && starts_command(core, prefix)).then_some(core)
}

/// The subject without reply and forward markers and list tags (`Re: [CIP-CCG] Fwd: x` is
/// `x`), and whether it had a reply or forward marker.
pub fn subject_core(subject: &str) -> (&str, bool) {
    let mut rest = subject.trim();
    let mut marked = false;
    loop {
        let before = rest;
        if rest.starts_with('[')
            && let Some(end) = rest.find(']')
        {
            rest = rest[end + 1..].trim_start();
        }
        for marker in ["re:", "fwd:", "fw:", "aw:", "sv:", "wg:", "tr:"] {
            if rest.len() >= marker.len()
                && rest.is_char_boundary(marker.len())
                && rest[..marker.len()].eq_ignore_ascii_case(marker)
            {
                rest = rest[marker.len()..].trim_start();
                marked = true;
            }
        }
        if rest == before {
            return (rest, marked);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn authored(text: &str) -> Vec<&str> {
        authored_lines(text)
            .into_iter()
            .filter(|line| !line.trim().is_empty())
            .collect()
    }

    #[test]
    fn quoted_signature_footer_and_forward_are_not_authored() {
        let cases: &[(&str, &[&str])] = &[
            ("!ping\n> !roster\n", &["!ping"]),
            (
                "!ping\n\nOn Mon, 2 Nov 2026, Ana wrote:\n> !roster\n",
                &["!ping"],
            ),
            (
                "!ping\nOn Mon, 2 Nov 2026 at 10:00, Ana Lima <\nana.lima@example.org> wrote:\n> !roster\n",
                &["!ping"],
            ),
            (
                "On Mon, Ana wrote:\n> question?\n\n!roster\nthanks\n",
                &["!roster", "thanks"],
            ),
            ("!ping\nOn Mon, Ana wrote:\n!roster unquoted\n", &["!ping"]),
            (
                "whoami\n\nAm Mi., 4. Nov. 2026 um 18:10 Uhr schrieb rapporteur <\nbot@example.org>:\n> x\n",
                &["whoami"],
            ),
            ("!ping\n-- \nAna\n!roster\n", &["!ping"]),
            ("!ping\n--\n!roster\n", &["!ping"]),
            ("!ping\n-----Original Message-----\n!roster\n", &["!ping"]),
            (
                "!ping\nFrom: Ana Lima\nSent: Monday\nTo: list\nSubject: x\n!roster\n",
                &["!ping"],
            ),
            (
                "!ping\n________________________________\nFrom: x\n",
                &["!ping"],
            ),
            (
                "!ping\n---------- Forwarded message ---------\n!roster\n",
                &["!ping"],
            ),
            ("!ping\nBegin forwarded message:\n!roster\n", &["!ping"]),
            (
                "!ping\n_______________________________________________\nlist\n",
                &["!ping"],
            ),
            (
                "From: me, to whoever reads this\n!ping\n",
                &["From: me, to whoever reads this", "!ping"],
            ),
            // A phone's signature ends the author's text like `-- ` does.
            (
                "roster\n\nSent from my iPhone\n\nOn 7 Dec, bot wrote:\n",
                &["roster"],
            ),
            ("ack\n\nVon meinem iPhone gesendet\n!roster\n", &["ack"]),
            (
                "!ping\n\nGet Outlook for Android<https://aka.ms/AAb9ysg>\n",
                &["!ping"],
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(&authored(text), expected, "for {text:?}");
        }
    }

    #[test]
    fn mobile_signatures_in_their_languages_and_only_them() {
        let signatures = [
            "Sent from my iPhone",
            "Sent from my iPad",
            "Sent from my Samsung Galaxy smartphone.",
            "Sent from my Huawei phone",
            "Sent from my Android device",
            "Sent from Outlook for iOS",
            "Sent from Outlook for Android",
            "Get Outlook for iOS<https://aka.ms/o0ukef>",
            "Sent from Yahoo Mail on Android",
            "Sent from Yahoo Mail for iPhone",
            "Sent from Mail for Windows",
            "Sent from my BlackBerry 10 smartphone.",
            "Von meinem iPhone gesendet",
            "Gesendet von meinem iPhone",
            "Von meinem Samsung Galaxy Smartphone gesendet.",
            "Envoyé de mon iPhone",
            "Envoyé depuis mon appareil Galaxy",
            "Obtenir Outlook pour Android",
            "Enviado desde mi iPhone",
            "Enviado desde mi smartphone Samsung Galaxy.",
            "Enviado do meu iPhone",
            "Inviato da iPhone",
            "Inviato dal mio dispositivo Galaxy",
            "Verzonden vanaf mijn iPhone",
            "Skickat från min iPhone",
            "Sendt fra min iPhone",
            "Lähetetty iPhonesta",
            "Wysłane z mojego iPhone'a",
            "Odesláno z iPhonu",
            "Отправлено с iPhone",
            "iPhone'umdan gönderildi",
            "iPhoneから送信",
            "从我的iPhone发送",
            "發自我的 iPhone",
            "나의 iPhone에서 보냄",
            "  sent from my iphone  ",
        ];
        for line in signatures {
            assert!(is_mobile_signature(line), "{line:?} is a signature");
        }
        let not_signatures = [
            "",
            "Sent from the office: here is the !roster",
            "roster",
            "!roster",
            "I sent from my phone the whole list yesterday, but it seems the bot did not get it at all",
            "Thanks, sent.",
            "Envoyé",
            "Von meinem Büro aus:",
        ];
        for line in not_signatures {
            assert!(!is_mobile_signature(line), "{line:?} is not a signature");
        }
    }

    #[test]
    fn commands_need_a_letter_after_the_prefix_and_are_limited() {
        let lines = [
            "!ping",
            "!!",
            "! roster",
            "  !roster  ",
            "!1",
            "text !whoami",
        ];
        assert_eq!(command_lines(&lines, "!", 10), vec!["!ping", "!roster"]);
        let many: Vec<&str> = std::iter::repeat_n("!ping", 25).collect();
        assert_eq!(command_lines(&many, "!", 10).len(), 10);
    }

    #[test]
    fn subject_markers_and_tags_are_removed() {
        for (subject, expected) in [
            ("Re: [CIP-CCG] !whoami", ("!whoami", true)),
            ("RE: Fwd: AW: !roster", ("!roster", true)),
            ("[CIP-CCG] Re: [other] Sv: hello", ("hello", true)),
            ("[CIP-CCG] !ping", ("!ping", false)),
            ("Re:", ("", true)),
            ("[unclosed", ("[unclosed", false)),
            ("ré: é", ("ré: é", false)),
        ] {
            assert_eq!(subject_core(subject), expected, "for {subject:?}");
        }
        assert_eq!(
            subject_command("[CIP-CCG] !roster GAC", "!"),
            Some("!roster GAC")
        );
        assert_eq!(subject_command("Re: [CIP-CCG] !roster GAC", "!"), None);
    }
}
