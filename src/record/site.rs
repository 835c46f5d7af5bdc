//! The public record as a static site: per group an index, a page per record entry at a
//! permalink that never changes (`<group>/meetings/m-3.html`), the tables as JSON and CSV, the
//! Atom feed, the calendar and the hash chain (`record.jsonl`); no script, no account.
//!
//! Pages are rendered by minijinja with HTML auto-escaping, so every title and name is escaped;
//! an entry's body is a reply document, whose HTML rendering escapes in one place
//! (`core::reply`), and is the only value marked safe.
//!
//! The site is published atomically: it is built in a new folder beside the output, then a
//! symbolic link at the output path is switched to it with one rename, so a reader (a web
//! server) sees the old site or the new one, never half of one. The previous build is kept for
//! readers still in it; older ones are removed.

use crate::core::directory::Group;
use crate::core::record::pages::{csv_rows, entry_document, to_csv};
use crate::core::record::{ChainLink, EntryKind, RecordEntry};
use crate::core::state::GroupState;
use jiff::Timestamp;
use minijinja::{Environment, context};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// What a group's pages are made from.
pub struct GroupRecord<'a> {
    pub group: &'a Group,
    pub state: &'a GroupState,
    /// The group's record entries (`core::record::record_entries`), as the publication that
    /// appended them to the chain computed them.
    pub entries: Vec<RecordEntry>,
    /// The group's chain, as the lines of `record.jsonl`.
    pub chain: Vec<String>,
    /// What the thread index needs of the group's list archive, oldest first; the message
    /// pages are written apart ([`write_thread_pages`]) from messages read a few threads at a
    /// time.
    pub archive: Vec<crate::mail::archive::ArchiveHeader>,
}

#[derive(Debug, thiserror::Error)]
pub enum SiteError {
    #[error("cannot write the site to {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "{path} exists and is not a site published by rapporteur (a symbolic link to a build); \
         move it away or choose another --out"
    )]
    NotOurs { path: String },
    #[error("cannot render {page}: {reason}")]
    Render { page: String, reason: String },
}

fn write_error(path: &Path) -> impl FnOnce(std::io::Error) -> SiteError + '_ {
    move |source| SiteError::Write {
        path: path.display().to_string(),
        source,
    }
}

fn environment() -> Environment<'static> {
    let mut environment = Environment::new();
    for (name, text) in [
        ("base.html", include_str!("templates/base.html")),
        ("site_index.html", include_str!("templates/site_index.html")),
        (
            "group_index.html",
            include_str!("templates/group_index.html"),
        ),
        ("entry.html", include_str!("templates/entry.html")),
        ("feed.xml", include_str!("templates/feed.xml")),
        ("list_index.html", include_str!("templates/list_index.html")),
        (
            "list_message.html",
            include_str!("templates/list_message.html"),
        ),
    ] {
        environment
            .add_template(name, text)
            .expect("the built-in templates parse");
    }
    environment
}

fn render(
    environment: &Environment,
    name: &str,
    values: minijinja::Value,
) -> Result<String, SiteError> {
    environment
        .get_template(name)
        .and_then(|template| template.render(values))
        .map_err(|error| SiteError::Render {
            page: name.to_string(),
            reason: error.to_string(),
        })
}

#[derive(Serialize)]
struct EntryView {
    key: String,
    label: String,
    title: String,
    date: String,
    href: String,
    permalink: String,
}

fn date_of(group: &Group, at: Timestamp) -> String {
    crate::core::feedback::render::when(group, at)
}

fn entry_view(group: &Group, entry: &RecordEntry, from_group_folder: bool) -> EntryView {
    let href = format!("{}.html", entry.key);
    EntryView {
        key: entry.key.clone(),
        label: entry.label.clone(),
        title: entry.title.clone(),
        date: date_of(group, entry.at),
        href: if from_group_folder {
            href.clone()
        } else {
            format!("../{href}")
        },
        permalink: format!("../{href}"),
    }
}

/// Checks that the output can be written before any work is done: its folder is created if
/// missing, and a file is written and removed there.
pub fn check_writable(out: &Path) -> Result<(), SiteError> {
    let parent = parent_of(out);
    std::fs::create_dir_all(&parent).map_err(write_error(&parent))?;
    let probe = parent.join(format!(".rapporteur-write-check-{}", std::process::id()));
    std::fs::write(&probe, b"").map_err(write_error(&parent))?;
    let _ = std::fs::remove_file(&probe);
    if let Ok(metadata) = std::fs::symlink_metadata(out)
        && !metadata.file_type().is_symlink()
    {
        let empty_folder = metadata.is_dir()
            && std::fs::read_dir(out).is_ok_and(|mut entries| entries.next().is_none());
        if !empty_folder {
            return Err(SiteError::NotOurs {
                path: out.display().to_string(),
            });
        }
    }
    Ok(())
}

fn parent_of(out: &Path) -> PathBuf {
    match out.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// A site being built: a new folder beside the output, not yet what the output shows.
pub struct SiteBuild {
    /// The folder to write the site into.
    pub folder: PathBuf,
    out: PathBuf,
    name: String,
    build_name: String,
}

/// Starts a new build of the site published at `out` (refused, before anything is written,
/// if `out` cannot be written or is not ours).
pub fn begin_build(out: &Path, now: Timestamp) -> Result<SiteBuild, SiteError> {
    check_writable(out)?;
    let name = out
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| "site".to_string());
    let build_name = format!("{}-{}", now.as_nanosecond(), std::process::id());
    let folder = parent_of(out)
        .join(format!(".{name}.builds"))
        .join(&build_name);
    std::fs::create_dir_all(&folder).map_err(write_error(&folder))?;
    Ok(SiteBuild {
        folder,
        out: out.to_path_buf(),
        name,
        build_name,
    })
}

/// Makes a finished build what the output shows, with one rename of a symbolic link; returns
/// the build's folder. The build before stays for readers still in it; older ones are removed.
pub fn finish_build(build: SiteBuild) -> Result<PathBuf, SiteError> {
    let SiteBuild {
        folder,
        out,
        name,
        build_name,
    } = build;
    let parent = parent_of(&out);
    let releases = parent.join(format!(".{name}.builds"));
    // The link names the build relative to the link's own folder, so the pair can be moved.
    let target = PathBuf::from(format!(".{name}.builds")).join(&build_name);
    let staged_link = parent.join(format!(".{name}.link-{build_name}"));
    std::os::unix::fs::symlink(&target, &staged_link).map_err(write_error(&staged_link))?;
    if std::fs::symlink_metadata(&out).is_ok_and(|metadata| metadata.is_dir()) {
        // An empty folder (checked when the build began) is replaced by the link.
        std::fs::remove_dir(&out).map_err(write_error(&out))?;
    }
    let previous = std::fs::read_link(&out).ok();
    std::fs::rename(&staged_link, &out).map_err(write_error(&out))?;
    remove_old_builds(&releases, &build_name, previous.as_deref());
    Ok(folder)
}

/// Removes the builds other than the current and the one just replaced.
fn remove_old_builds(releases: &Path, current: &str, previous: Option<&Path>) {
    let previous_name = previous
        .and_then(|path| path.file_name())
        .map(|name| name.to_string_lossy().into_owned());
    let Ok(entries) = std::fs::read_dir(releases) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name != current && Some(&name) != previous_name.as_ref() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), SiteError> {
    if let Some(folder) = path.parent() {
        std::fs::create_dir_all(folder).map_err(write_error(folder))?;
    }
    std::fs::write(path, bytes).map_err(write_error(path))
}

/// Writes every file of the site into `folder`.
pub fn write_site(folder: &Path, groups: &[GroupRecord], now: Timestamp) -> Result<(), SiteError> {
    let environment = environment();
    let published = now.strftime("%Y-%m-%d %H:%M UTC").to_string();
    write(
        &folder.join("style.css"),
        include_str!("templates/style.css").as_bytes(),
    )?;
    let mut listed = Vec::new();
    for record in groups {
        listed.push(context! {
            id => record.group.id.clone(),
            name => record.group.name.clone(),
            short_name => record.group.short_name.clone(),
            entries => record.entries.len(),
        });
        write_group(
            &environment,
            &folder.join(&record.group.id),
            record,
            now,
            &published,
        )?;
    }
    let index = render(
        &environment,
        "site_index.html",
        context! {
            page_title => "Public record",
            root => "",
            groups => listed,
            published => published,
        },
    )?;
    write(&folder.join("index.html"), index.as_bytes())
}

fn links_by_key(chain: &[String]) -> std::collections::BTreeMap<String, Vec<ChainLink>> {
    let mut links: std::collections::BTreeMap<String, Vec<ChainLink>> = Default::default();
    for line in chain {
        if let Ok(link) = serde_json::from_str::<ChainLink>(line) {
            links.entry(link.key.clone()).or_default().push(link);
        }
    }
    links
}

fn write_group(
    environment: &Environment,
    folder: &Path,
    record: &GroupRecord,
    now: Timestamp,
    published: &str,
) -> Result<(), SiteError> {
    let group = record.group;
    let entries = &record.entries;
    let links = links_by_key(&record.chain);
    let group_name = format!("{} ({})", group.name, group.short_name);
    let attendance_chart = super::charts::attendance_chart(group, record.state);
    let response_chart = super::charts::response_time_chart(group, record.state, now);
    for entry in entries {
        let body = entry_document(group, record.state, entry, now).html();
        let entry_links: Vec<_> = links
            .get(&entry.key)
            .map(|links| {
                links
                    .iter()
                    .map(|link| {
                        context! {
                            seq => link.seq,
                            corrects => link.corrects,
                            hash => link.hash.clone(),
                            recorded => date_of(group, link.recorded),
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
        let page = render(
            environment,
            "entry.html",
            context! {
                page_title => format!("{} {} · {}", entry.label, entry.title, group.short_name),
                root => "../../",
                group_index => "../index.html",
                group_name => group_name.clone(),
                feed => "../feed.atom",
                entry => entry_view(group, entry, false),
                body => body,
                links => entry_links,
                published => published,
            },
        )?;
        write(&folder.join(format!("{}.html", entry.key)), page.as_bytes())?;
    }
    let sections: Vec<_> = EntryKind::ALL
        .into_iter()
        .map(|kind| {
            let mut of_kind: Vec<&RecordEntry> =
                entries.iter().filter(|entry| entry.kind == kind).collect();
            of_kind.sort_by(|a, b| b.at.cmp(&a.at).then_with(|| b.key.cmp(&a.key)));
            context! {
                heading => kind.heading(),
                entries => of_kind.iter().map(|entry| entry_view(group, entry, true)).collect::<Vec<_>>(),
            }
        })
        .collect();
    let index = render(
        environment,
        "group_index.html",
        context! {
            page_title => group_name.clone(),
            root => "../",
            group_name => group_name.clone(),
            feed => "feed.atom",
            sections => sections,
            tables => EntryKind::ALL.map(|kind| kind.folder()).to_vec(),
            archived => record.archive.len(),
            attendance_chart => attendance_chart.is_some(),
            response_chart => response_chart.is_some(),
            published => published,
        },
    )?;
    write(&folder.join("index.html"), index.as_bytes())?;
    for kind in EntryKind::ALL {
        let of_kind: Vec<&RecordEntry> =
            entries.iter().filter(|entry| entry.kind == kind).collect();
        let json: Vec<&serde_json::Value> = of_kind.iter().map(|entry| &entry.data).collect();
        write(
            &folder.join(format!("{}.json", kind.folder())),
            serde_json::to_string_pretty(&json)
                .unwrap_or_default()
                .as_bytes(),
        )?;
        write(
            &folder.join(format!("{}.csv", kind.folder())),
            to_csv(&csv_rows(kind, &of_kind)).as_bytes(),
        )?;
    }
    let attendance = crate::core::meetings::attendance::attendance_rows(group, record.state);
    write(
        &folder.join("attendance.csv"),
        crate::core::meetings::attendance::to_csv(&attendance).as_bytes(),
    )?;
    write(
        &folder.join("meetings.ics"),
        crate::core::meetings::calendar::feed(group, record.state.meetings.values(), now)
            .as_bytes(),
    )?;
    write_archive(
        environment,
        &folder.join("list"),
        record,
        &group_name,
        published,
    )?;
    for (name, chart) in [
        ("attendance.svg", &attendance_chart),
        ("response-times.svg", &response_chart),
    ] {
        if let Some(svg) = chart {
            write(&folder.join(name), svg.as_bytes())?;
        }
    }
    let chain_text: String = record
        .chain
        .iter()
        .map(|line| format!("{line}\n"))
        .collect();
    write(&folder.join("record.jsonl"), chain_text.as_bytes())?;
    write_feed(environment, folder, record, &group_name, now)
}

fn size_text(bytes: usize) -> String {
    match bytes {
        0..1024 => format!("{bytes} bytes"),
        1024..1_048_576 => format!("{:.0} KB", bytes as f64 / 1024.0),
        _ => format!("{:.1} MB", bytes as f64 / 1_048_576.0),
    }
}

fn archive_date(group: &Group, date_ms: Option<i64>) -> String {
    date_ms
        .and_then(|ms| Timestamp::from_millisecond(ms).ok())
        .map(|at| date_of(group, at))
        .unwrap_or_else(|| "date unknown".to_string())
}

/// The list archive's index of threads (`list/index.html`), from the messages' headers; each
/// message's page is written by [`write_thread_pages`].
fn write_archive(
    environment: &Environment,
    folder: &Path,
    record: &GroupRecord,
    group_name: &str,
    published: &str,
) -> Result<(), SiteError> {
    use crate::mail::archive::{permalink_name, threads};
    let group = record.group;
    let thread_views: Vec<_> = threads(&record.archive)
        .iter()
        .map(|thread| {
            let listed: Vec<_> = thread
                .iter()
                .map(|message| {
                    context! {
                        author => message.author.clone(),
                        date => archive_date(group, message.date_ms),
                        href => format!("{}.html", permalink_name(&message.message_id)),
                        name => permalink_name(&message.message_id),
                    }
                })
                .collect();
            context! {
                subject => thread[0].subject.clone(),
                first_href => format!("{}.html", permalink_name(&thread[0].message_id)),
                messages => listed,
            }
        })
        .collect();
    let index = render(
        environment,
        "list_index.html",
        context! {
            page_title => format!("{group_name}: list archive"),
            root => "../../",
            group_index => "../index.html",
            group_name => group_name,
            feed => "../feed.atom",
            count => record.archive.len(),
            threads => thread_views,
            published => published,
        },
    )?;
    write(&folder.join("index.html"), index.as_bytes())
}

/// A page per message of these threads, at a name derived from its Message-ID
/// (`<group>/list/<name>.html`), with its thread, its text (quoted passages folded) and its
/// attachments listed. `messages` holds the threads' messages (a message missing from it has
/// no page); the caller reads them a few threads at a time, so the archive's text is never
/// all in memory.
pub fn write_thread_pages(
    site: &Path,
    group: &Group,
    threads: &[Vec<&crate::mail::archive::ArchiveHeader>],
    messages: &[crate::mail::archive::ArchivedMessage],
    now: Timestamp,
) -> Result<(), SiteError> {
    use crate::mail::archive::{Passage, permalink_name};
    let environment = environment();
    let published = now.strftime("%Y-%m-%d %H:%M UTC").to_string();
    let group_name = format!("{} ({})", group.name, group.short_name);
    let folder = site.join(&group.id).join("list");
    let by_id: std::collections::HashMap<&str, &crate::mail::archive::ArchivedMessage> = messages
        .iter()
        .map(|message| (message.message_id.as_str(), message))
        .collect();
    for thread in threads {
        for header in thread {
            let Some(message) = by_id.get(header.message_id.as_str()) else {
                continue;
            };
            let name = permalink_name(&message.message_id);
            let in_thread: Vec<_> = thread
                .iter()
                .map(|other| {
                    context! {
                        author => other.author.clone(),
                        date => archive_date(group, other.date_ms),
                        href => format!("{}.html", permalink_name(&other.message_id)),
                        current => other.message_id == message.message_id,
                    }
                })
                .collect();
            let passages: Vec<_> = message
                .passages
                .iter()
                .map(|passage| match passage {
                    Passage::Text(text) => context! { quote => false, text => text.clone() },
                    Passage::Quote(text) => context! { quote => true, text => text.clone() },
                    // Sanitized when the mail was archived (`mail::archive::sanitized_html`),
                    // and again here, so that an archive row written by an older version or
                    // changed in the database cannot carry markup past the sanitizer.
                    Passage::Html(html) => context! {
                        html => minijinja::Value::from_safe_string(
                            crate::mail::archive::sanitized_html(html)
                        )
                    },
                })
                .collect();
            let attachments: Vec<_> = message
                .attachments
                .iter()
                .map(|attachment| {
                    context! { name => attachment.name.clone(), size => size_text(attachment.size_bytes) }
                })
                .collect();
            let page = render(
                &environment,
                "list_message.html",
                context! {
                    page_title => format!("{} · {} list", message.subject, group.short_name),
                    root => "../../",
                    group_index => "../index.html",
                    group_name => group_name.clone(),
                    feed => "../feed.atom",
                    message => context! {
                        subject => message.subject.clone(),
                        author => message.author.clone(),
                        date => archive_date(group, message.date_ms),
                        id => message.message_id.clone(),
                        name => name.clone(),
                        href => format!("{name}.html"),
                        passages => passages,
                        attachments => attachments,
                    },
                    thread => in_thread,
                    published => published.clone(),
                },
            )?;
            write(&folder.join(format!("{name}.html")), page.as_bytes())?;
        }
    }
    Ok(())
}

/// The Atom feed of the chain's latest 100 links, newest first: every new entry and every
/// correction is an item.
fn write_feed(
    environment: &Environment,
    folder: &Path,
    record: &GroupRecord,
    group_name: &str,
    now: Timestamp,
) -> Result<(), SiteError> {
    let links: Vec<ChainLink> = record
        .chain
        .iter()
        .rev()
        .take(100)
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    let updated = links.first().map(|link| link.at).unwrap_or(now);
    let feed_id = format!("urn:rapporteur:{}", record.group.id);
    let entries: Vec<_> = links
        .iter()
        .map(|link| {
            context! {
                label => link.label.clone(),
                title => link.title.clone(),
                id => format!("{feed_id}:{}", link.seq),
                updated => link.at.to_string(),
                href => format!("{}.html", link.key),
                summary => match link.corrects {
                    Some(corrected) => format!("Corrects record entry {corrected}; record entry {}.", link.seq),
                    None => format!("Record entry {}.", link.seq),
                },
            }
        })
        .collect();
    let feed = render(
        environment,
        "feed.xml",
        context! {
            group_name => group_name,
            feed_id => feed_id.clone(),
            updated => updated.to_string(),
            entries => entries,
            base_url => minijinja::Value::from(()),
        },
    )?;
    write(&folder.join("feed.atom"), feed.as_bytes())
}
