//! The limits the import is compared with: how fast mail-parser alone parses the messages of an
//! mbox (the raw parse rate), and how fast the archive's view of each is made from it (parse,
//! text, quotes, obfuscation), without storage. Run by `scripts/bench-import.sh` on the mbox it
//! generates (`RAPPORTEUR_BENCH_MBOX`); each figure is the best of three passes.

use std::time::Instant;

fn messages(mbox: &[u8]) -> Vec<&[u8]> {
    let mut starts = Vec::new();
    let mut at = 0;
    while at < mbox.len() {
        if mbox[at..].starts_with(b"From ") {
            starts.push(at);
        }
        match mbox[at..].iter().position(|byte| *byte == b'\n') {
            Some(end) => at += end + 1,
            None => break,
        }
    }
    starts
        .iter()
        .enumerate()
        .map(|(index, start)| {
            let body_start = start
                + mbox[*start..]
                    .iter()
                    .position(|byte| *byte == b'\n')
                    .map_or(0, |end| end + 1);
            let end = starts.get(index + 1).copied().unwrap_or(mbox.len());
            &mbox[body_start..end]
        })
        .collect()
}

fn best_of_three(mut pass: impl FnMut() -> usize) -> (usize, f64) {
    let mut best = f64::INFINITY;
    let mut done = 0;
    for _ in 0..3 {
        let started = Instant::now();
        done = pass();
        best = best.min(started.elapsed().as_secs_f64());
    }
    (done, best)
}

fn main() {
    let Ok(path) = std::env::var("RAPPORTEUR_BENCH_MBOX") else {
        eprintln!("set RAPPORTEUR_BENCH_MBOX to an mbox (scripts/bench-import.sh does)");
        return;
    };
    let mbox = std::fs::read(&path).expect("read the mbox");
    let messages = messages(&mbox);
    let (parsed, parse_seconds) = best_of_three(|| {
        messages
            .iter()
            .filter(|raw| mail_parser::MessageParser::default().parse(*raw).is_some())
            .count()
    });
    let (viewed, view_seconds) = best_of_three(|| {
        messages
            .iter()
            .enumerate()
            .filter(|(index, raw)| {
                rapporteur::mail::archive::archive_view(raw, &format!("<{index}@bench>")).is_some()
            })
            .count()
    });
    println!(
        "mail-parser raw parse: {parsed} messages in {parse_seconds:.2} s = {:.0} messages/s",
        parsed as f64 / parse_seconds
    );
    println!(
        "archive view (parse, text, quotes, obfuscation): {viewed} messages in {view_seconds:.2} s = {:.0} messages/s",
        viewed as f64 / view_seconds
    );
}
