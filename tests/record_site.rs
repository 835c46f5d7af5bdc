//! The public record as a static site, on SQLite and PostgreSQL: a group that met, asked for
//! feedback and designated an outcome is published; every page exists at its permalink, hostile
//! markup in titles, names and minutes is inert, the Atom feed reads as a feed, the tables are
//! there as JSON and CSV, and `record.jsonl` verifies. Publishing again appends nothing; a
//! change is appended as a correction; one changed byte of the published chain is caught; an
//! unwritable output is refused before anything is appended.

mod support;

use rapporteur::record::publish::publish;
use rapporteur::record::verify::verify_path;
use rapporteur::storage::Store;
use std::path::Path;

use support::record_fixture::{MEMBER, archive_two_list_messages, busy_group, run};

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

        // The HTML-only message keeps its paragraph (sanitized by ammonia), not its script,
        // image or script link.
        let root = read(&site.join(format!(
            "list/{}.html",
            rapporteur::mail::archive::permalink_name("<root@example.org>")
        )));
        assert!(
            root.contains("<div class=\"mail-html\"><p>Shall we adopt it?</p>"),
            "{root}"
        );
        let body = root
            .split("<div class=\"mail-html\">")
            .nth(1)
            .and_then(|rest| rest.split("</div>").next())
            .unwrap_or_default();
        assert_eq!(
            body,
            "<p>Shall we adopt it?</p><a rel=\"nofollow noopener noreferrer\">vote</a>\n"
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
