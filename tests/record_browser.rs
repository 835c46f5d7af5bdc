//! The published record as a reader's browser shows it: Debian's Chromium, headless, opens the
//! site over HTTP on loopback (served as the quick start serves it) and reads the index, a
//! meeting's minutes, a request and a list thread. Each page shows what it should once
//! rendered (a reply's quote folded), runs no script, logs no console error (the pages' own Content-Security-Policy
//! would report any blocked script, style or image there), and is kept as a phone-sized
//! screenshot in `target/test-artifacts/record-browser/`.
//!
//! Chromium is installed by `scripts/test.sh`; without it the test skips in a plain
//! `cargo test` and fails when `RAPPORTEUR_REQUIRE_SERVERS=1`.

mod support;

use rapporteur::record::publish::publish;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use support::record_fixture::{archive_two_list_messages, busy_group};

/// The browser to use: `RAPPORTEUR_CHROMIUM`, else Debian's.
fn chromium() -> Option<PathBuf> {
    let configured = std::env::var_os("RAPPORTEUR_CHROMIUM").map(PathBuf::from);
    configured
        .into_iter()
        .chain(["/usr/bin/chromium", "/usr/bin/chromium-browser"].map(PathBuf::from))
        .find(|path| path.is_file())
}

/// A static file server on a free loopback port, stopped when dropped.
struct Served {
    child: Child,
    port: u16,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(folder: &Path) -> Served {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let child = Command::new("python3")
        .args([
            "-m",
            "http.server",
            "--bind",
            "127.0.0.1",
            &port.to_string(),
        ])
        .arg("--directory")
        .arg(folder)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 -m http.server");
    // Stopped by its Drop whatever happens next.
    let served = Served { child, port };
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return served;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("the static file server did not start on port {port}");
}

/// What Chromium printed for one page: the DOM after loading, and its log.
struct Rendered {
    dom: String,
    log: String,
}

fn headless(browser: &Path, profile: &Path, extra: &[String], url: &str) -> Rendered {
    let output = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=412,915",
            "--virtual-time-budget=2000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .output()
        .expect("run chromium");
    assert!(
        output.status.success(),
        "chromium failed on {url}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Rendered {
        dom: String::from_utf8_lossy(&output.stdout).into_owned(),
        log: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The console messages Chromium logged (`...:CONSOLE(...)] "message", source: ...`), and any
/// page error.
fn console_messages(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|line| {
            line.contains(":CONSOLE") || line.contains("Uncaught") || line.contains("Refused to")
        })
        .collect()
}

#[tokio::test]
async fn a_reader_s_browser_shows_the_index_minutes_a_request_and_a_thread() {
    let Some(browser) = chromium() else {
        assert!(
            !support::servers_required(),
            "Chromium is missing: scripts/test.sh installs Debian's chromium, or set RAPPORTEUR_CHROMIUM"
        );
        eprintln!("skipped: no Chromium (scripts/test.sh installs it)");
        return;
    };
    let (store, _guard) = support::fresh_store(support::Backend::Sqlite)
        .await
        .expect("SQLite is always there");
    let (group, state) = busy_group();
    archive_two_list_messages(&store, &group.id).await;
    let folder = tempfile::tempdir().expect("temp dir");
    let site = folder.path().join("site");
    publish(
        &store,
        &[(&group, &state)],
        &site,
        "2026-12-07T12:00:00Z".parse().unwrap(),
    )
    .await
    .expect("publish");
    let served = serve(&site);
    let base = format!("http://127.0.0.1:{}/{}", served.port, group.id);
    let thread = format!(
        "list/{}.html",
        rapporteur::mail::archive::permalink_name("<root@example.org>")
    );
    let artefacts =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-artifacts/record-browser");
    std::fs::create_dir_all(&artefacts).expect("artefact folder");

    // Each page, with what a reader must see on it once rendered.
    let reply = format!(
        "list/{}.html",
        rapporteur::mail::archive::permalink_name("<reply@example.org>")
    );
    let pages: [(&str, &str, &[&str]); 5] = [
        (
            "index",
            "index.html",
            &[
                group.name.as_str(),
                "meetings/m-1.html",
                "attendance.svg",
                "list/index.html",
            ],
        ),
        (
            "minutes",
            "meetings/m-1.html",
            &[
                "ALAC",
                "&lt;script&gt;alert(1)&lt;/script&gt;",
                "draft the letter",
            ],
        ),
        (
            "request",
            "requests/r-1.html",
            &["<strong>ALAC</strong>: acknowledged", "GNSO"],
        ),
        (
            "thread",
            thread.as_str(),
            &["<p>Shall we adopt it?</p>", "Ana Lima", "Kwame Mensah"],
        ),
        (
            "reply",
            reply.as_str(),
            &[
                "<details><summary>quoted text</summary>",
                "charter-v3.pdf",
                "k…@example.org",
            ],
        ),
    ];
    for (name, path, expected) in pages {
        let url = format!("{base}/{path}");
        let profile = folder.path().join(format!("profile-{name}"));
        let rendered = headless(&browser, &profile, &["--dump-dom".to_string()], &url);
        for text in expected {
            assert!(
                rendered.dom.contains(text),
                "{name} ({url}) does not show {text:?}:\n{}",
                rendered.dom
            );
        }
        assert!(
            !rendered.dom.contains("<script"),
            "{name}: a script or handler reached the page:\n{}",
            rendered.dom
        );
        assert_eq!(
            console_messages(&rendered.log),
            Vec::<&str>::new(),
            "{name} ({url}) logged to the console"
        );

        let screenshot = artefacts.join(format!("{name}.png"));
        let _ = std::fs::remove_file(&screenshot);
        let shot = headless(
            &browser,
            &profile,
            &[format!("--screenshot={}", screenshot.display())],
            &url,
        );
        assert_eq!(
            console_messages(&shot.log),
            Vec::<&str>::new(),
            "{name} ({url}) logged to the console"
        );
        let png = std::fs::read(&screenshot).expect("a screenshot");
        assert!(
            png.starts_with(b"\x89PNG") && png.len() > 2_000,
            "{name}: the screenshot is not a picture of a page ({} bytes)",
            png.len()
        );
    }
}
