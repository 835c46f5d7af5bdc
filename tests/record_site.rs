//! The public record as a static site, on SQLite and PostgreSQL: a group that met, asked for
//! feedback and designated an outcome is published; every page exists at its permalink, hostile
//! markup in titles, names and minutes is inert, the Atom feed reads as a feed, the tables are
//! there as JSON and CSV, and `record.jsonl` verifies. Publishing again appends nothing; a
//! change is appended as a correction; one changed byte of the published chain is caught; an
//! unwritable output is refused before anything is appended.

mod support;

use rapporteur::core::catalog::Catalog;
use rapporteur::core::directory::{Group, SenderAddress};
use rapporteur::core::engine::{Channel, Engine, Input, Message};
use rapporteur::core::state::GroupState;
use rapporteur::record::publish::publish;
use rapporteur::record::verify::verify_path;
use rapporteur::storage::Store;
use std::path::Path;

const CHAIR: &str = "@ana:example.org";
const MEMBER: &str = "@bea:example.org";
const HOSTILE: &str = "<script>alert(1)</script><img src=x onerror=alert(2)>";

fn run(group: &Group, state: &mut GroupState, sender: &str, body: &str, now: &str) {
    let engine = Engine::new(Catalog::builtin().expect("valid catalog"), "!");
    let sender = SenderAddress::Matrix(sender.into());
    let message = Message::new(&sender, body, Channel::Matrix);
    let decision = engine.decide(
        state,
        group,
        &Input::Message(message),
        now.parse().expect("RFC 3339"),
    );
    for change in &decision.changes {
        state.apply(change);
    }
}

/// The small test group, one of whose members has a name with markup in it.
fn busy_group() -> (Group, GroupState) {
    let mut group = rapporteur::core::directory::test_support::small_group_with_gus_and_pat();
    let bea = group
        .people
        .iter_mut()
        .find(|person| person.id == "bea.alac")
        .expect("Bea");
    bea.name = format!("Bea {HOSTILE}");
    let mut state = GroupState::default();
    let steps = [
        (CHAIR, "!meeting start", "2026-12-01T14:00:00Z"),
        (MEMBER, "!present", "2026-12-01T14:01:00Z"),
        (CHAIR, &format!("!topic {HOSTILE}"), "2026-12-01T14:02:00Z"),
        (
            CHAIR,
            "!link javascript:alert(3) the draft",
            "2026-12-01T14:02:30Z",
        ),
        (
            CHAIR,
            "!action bea.alac draft the letter",
            "2026-12-01T14:03:00Z",
        ),
        (CHAIR, "!meeting end", "2026-12-01T15:00:00Z"),
        (
            CHAIR,
            &format!(
                "!request open \"Budget {HOSTILE}\" to GNSO, ALAC ack 2026-12-10 due 2026-12-20"
            ),
            "2026-12-02T10:00:00Z",
        ),
        (MEMBER, "!ack R-1", "2026-12-03T10:00:00Z"),
        (MEMBER, "!respond R-1 support", "2026-12-04T09:00:00Z"),
        (
            CHAIR,
            "!consensus call \"Adopt the charter\"",
            "2026-12-04T10:00:00Z",
        ),
        (MEMBER, "!object R-2 too early", "2026-12-05T10:00:00Z"),
        (CHAIR, "!designate R-2 Consensus", "2026-12-06T10:00:00Z"),
        (
            MEMBER,
            "!minority R-2 we need another round",
            "2026-12-06T11:00:00Z",
        ),
    ];
    for (sender, body, now) in steps {
        run(&group, &mut state, sender, body, now);
    }
    (group, state)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

fn html_files(folder: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(folder).expect("readable").flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(html_files(&path));
        } else if path
            .extension()
            .is_some_and(|extension| extension == "html")
        {
            files.push(path);
        }
    }
    files
}

/// Every element of a page as a browser's parser builds it, with its attributes.
fn elements_of(html: &str) -> Vec<(String, Vec<(String, String)>)> {
    use rapporteur::mail::html_tree::{NodeKind, parse_html};
    let mut found = Vec::new();
    let mut pending = vec![parse_html(html)];
    while let Some(node) = pending.pop() {
        if let NodeKind::Element { attributes, .. } = &node.kind {
            let attributes = attributes
                .borrow()
                .iter()
                .map(|attribute| {
                    (
                        attribute.name.local.to_string(),
                        attribute.value.to_string(),
                    )
                })
                .collect();
            found.push((node.local_name().to_string(), attributes));
        }
        pending.extend(node.children.borrow().iter().cloned());
    }
    found
}

/// A post with HTML only (and markup in it) and a reply with a quote and an attachment.
async fn archive_two_list_messages(store: &Store, group_id: &str) {
    use rapporteur::mail::archive::archive_view;
    let root = format!(
        "From: Kwame Mensah <kwame@example.org>\r\nSubject: [TG] Charter {HOSTILE}\r\n\
         Message-ID: <root@example.org>\r\nDate: Mon, 7 Dec 2026 09:00:00 +0000\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
         <p>Shall we adopt it?</p>{HOSTILE}<a href=\"javascript:alert(4)\">vote</a>\r\n"
    );
    let attachment = "A".repeat(12 * 1024);
    let reply = format!(
        "From: Ana Lima <ana@example.org>\r\nSubject: Re: [TG] Charter\r\n\
         Message-ID: <reply@example.org>\r\nIn-Reply-To: <root@example.org>\r\n\
         Date: Mon, 7 Dec 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nYes; ask kwame@example.org.\r\n\r\n\
         > Shall we adopt it?\r\n--b\r\nContent-Type: application/pdf\r\n\
         Content-Disposition: attachment; filename=\"charter-v3.pdf\"\r\n\r\n{attachment}\r\n--b--\r\n"
    );
    for (raw, id) in [(root, "<root@example.org>"), (reply, "<reply@example.org>")] {
        let archived = archive_view(raw.as_bytes(), id).expect("a message");
        assert!(
            store
                .archive_list_message(group_id, &archived)
                .await
                .unwrap()
        );
        assert!(
            !store
                .archive_list_message(group_id, &archived)
                .await
                .unwrap(),
            "archived once"
        );
    }
}

const NOW: &str = "2026-12-07T12:00:00Z";

on_both_backends!(
    a_group_s_record_is_published_as_a_static_site_with_a_verified_chain,
    |store: Store| async move {
        let (group, mut state) = busy_group();
        archive_two_list_messages(&store, &group.id).await;
        let folder = tempfile::tempdir().expect("temp dir");
        let out = folder.path().join("site");
        let published = publish(&store, &[(&group, &state)], &out, NOW.parse().unwrap())
            .await
            .expect("publish");
        assert_eq!(published.appended, 4, "meeting, request, outcome, action");
        let site = out.join(&group.id);
        for page in [
            "index.html",
            "meetings/m-1.html",
            "requests/r-1.html",
            "outcomes/r-2.html",
            "actions/a-1.html",
            "meetings.json",
            "meetings.csv",
            "requests.csv",
            "outcomes.json",
            "actions.csv",
            "attendance.csv",
            "meetings.ics",
            "record.jsonl",
            "feed.atom",
        ] {
            assert!(site.join(page).is_file(), "{page} missing");
        }
        assert!(out.join("index.html").is_file() && out.join("style.css").is_file());
        assert!(
            std::fs::symlink_metadata(&out)
                .unwrap()
                .file_type()
                .is_symlink(),
            "the output is a link switched atomically"
        );

        // Markup from people is inert everywhere, as a browser parses the pages: no script or
        // image element, no event handler, no script URL.
        for file in html_files(&out) {
            for (element, attributes) in elements_of(&read(&file)) {
                // The only images are the site's own charts.
                let own_chart = element == "img"
                    && attributes.iter().any(|(name, value)| {
                        name == "src"
                            && ["attendance.svg", "response-times.svg"].contains(&value.as_str())
                    });
                assert!(
                    own_chart || !["script", "img", "iframe", "object"].contains(&element.as_str()),
                    "<{element}> in {}",
                    file.display()
                );
                for (name, value) in attributes {
                    assert!(
                        !name.starts_with("on")
                            && !value.trim().to_ascii_lowercase().starts_with("javascript:"),
                        "{name}={value:?} on <{element}> in {}",
                        file.display()
                    );
                }
            }
        }
        let meeting = read(&site.join("meetings/m-1.html"));
        assert!(
            meeting.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{meeting}"
        );
        let request = read(&site.join("requests/r-1.html"));
        assert!(
            request.contains("<strong>ALAC</strong>: acknowledged"),
            "{request}"
        );

        // The charts: SVG drawn on the server, their text escaped.
        for (chart, expected) in [
            ("attendance.svg", "ALAC"),
            ("response-times.svg", "target:"),
        ] {
            let svg = read(&site.join(chart));
            assert!(
                svg.starts_with("<svg") && svg.contains(expected),
                "{chart}: {svg}"
            );
            assert!(
                elements_of(&svg)
                    .iter()
                    .all(|(element, _)| element != "script"),
                "{chart}"
            );
        }
        assert!(read(&site.join("index.html")).contains("<img src=\"attendance.svg\""));

        // The list archive: one thread of two messages, the quote folded, the attachment listed,
        // addresses hidden, the HTML-only message's markup gone.
        let list = read(&site.join("list/index.html"));
        assert!(list.contains("2 messages in 1 threads"), "{list}");
        let reply_page = site.join(format!(
            "list/{}.html",
            rapporteur::mail::archive::permalink_name("<reply@example.org>")
        ));
        let reply = read(&reply_page);
        assert!(
            reply.contains("<details><summary>quoted text</summary>"),
            "{reply}"
        );
        assert!(reply.contains("charter-v3.pdf (12 KB)"), "{reply}");
        assert!(
            reply.contains("k…@example.org") && !reply.contains("kwame@example.org"),
            "{reply}"
        );
        assert!(
            reply.contains(&format!(
                "href=\"{}.html\"",
                rapporteur::mail::archive::permalink_name("<root@example.org>")
            )),
            "the thread links its first message: {reply}"
        );

        // The Atom feed reads as a feed: one item per record entry, each with its permalink.
        let feed = atom_syndication::Feed::read_from(read(&site.join("feed.atom")).as_bytes())
            .expect("a valid Atom feed");
        assert_eq!(feed.entries().len(), 4);
        let hrefs: Vec<&str> = feed
            .entries()
            .iter()
            .map(|entry| entry.links()[0].href())
            .collect();
        assert!(hrefs.contains(&"outcomes/r-2.html"), "{hrefs:?}");
        assert!(
            feed.entries()
                .iter()
                .any(|entry| entry.title().as_str().contains("Budget <script>")),
            "titles are text, read back as written"
        );
        let requests_csv = read(&site.join("requests.csv"));
        assert!(requests_csv.starts_with("id,title,organization,acknowledged_at"));
        assert_eq!(requests_csv.lines().count(), 3, "a row per organization");

        assert_eq!(
            verify_path(&out).expect("the chain verifies")[0].1,
            4,
            "four entries"
        );

        // Published again unchanged: nothing appended, the same chain.
        let chain_before = read(&site.join("record.jsonl"));
        let again = publish(&store, &[(&group, &state)], &out, NOW.parse().unwrap())
            .await
            .expect("publish again");
        assert_eq!(again.appended, 0);
        assert_eq!(
            read(&out.join(&group.id).join("record.jsonl")),
            chain_before
        );

        // A change is a new entry that corrects the earlier one; nothing is rewritten.
        run(
            &group,
            &mut state,
            MEMBER,
            "!done A-1",
            "2026-12-07T13:00:00Z",
        );
        let changed = publish(&store, &[(&group, &state)], &out, NOW.parse().unwrap())
            .await
            .expect("publish the change");
        assert_eq!(changed.appended, 1);
        let chain = read(&out.join(&group.id).join("record.jsonl"));
        assert!(chain.starts_with(&chain_before));
        let last: serde_json::Value = serde_json::from_str(chain.lines().last().unwrap()).unwrap();
        assert_eq!(last["key"], "actions/a-1");
        assert_eq!(last["corrects"], 4);
        let action = read(&out.join(&group.id).join("actions/a-1.html"));
        assert!(action.contains("corrects entry 4"), "{action}");

        // One changed byte of a published chain is caught, naming the entry.
        let copy = folder.path().join("copy.jsonl");
        std::fs::write(&copy, chain.replacen("another round", "another Round", 1)).unwrap();
        let problem = verify_path(&copy).expect_err("tampered").to_string();
        assert!(problem.contains("line 3 (entry 3)"), "{problem}");

        // An output that cannot be written is refused before anything is appended.
        let blocked = folder.path().join("a-file");
        std::fs::write(&blocked, b"").unwrap();
        run(
            &group,
            &mut state,
            MEMBER,
            "!minority R-2 one more view",
            "2026-12-07T14:00:00Z",
        );
        let refused = publish(
            &store,
            &[(&group, &state)],
            &blocked.join("site"),
            NOW.parse().unwrap(),
        )
        .await
        .expect_err("not writable");
        assert!(
            refused.to_string().contains("cannot write the site"),
            "{refused}"
        );
        assert_eq!(store.record_chain(&group.id).await.unwrap().len(), 5);
    }
);

#[tokio::test]
async fn the_pages_of_a_published_record() {
    let (store, _guard) = support::fresh_store(support::Backend::Sqlite)
        .await
        .expect("SQLite");
    let (group, state) = busy_group();
    let folder = tempfile::tempdir().expect("temp dir");
    let out = folder.path().join("site");
    publish(&store, &[(&group, &state)], &out, NOW.parse().unwrap())
        .await
        .expect("publish");
    let site = out.join(&group.id);
    // Hashes depend on nothing but the entries, so the pages are the same in every run.
    insta::assert_snapshot!("group_index", read(&site.join("index.html")));
    insta::assert_snapshot!("meeting_page", read(&site.join("meetings/m-1.html")));
    insta::assert_snapshot!("outcome_page", read(&site.join("outcomes/r-2.html")));
}
