//! The bot's HTTP server (`[http] listen`, a loopback address by default): the public record's
//! files from `[bot] site_dir`, `/healthz` (the process answers), `/readyz` (the database
//! answers and every started channel works, or says since when it retries) and `/metrics`
//! (Prometheus text format, `observe::metrics`).
//!
//! The record is served from the site folder's symbolic link, which the publisher switches to
//! each new build with one rename: every request resolves the link again, so a reader gets
//! the old site or the new one, never half of each. Responses carry the pages' own
//! Content-Security-Policy as a header too, and `nosniff`.

use crate::observe::{health, metrics::metrics};
use crate::ownership::Ownership;
use crate::storage::Store;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// What the server reads.
#[derive(Clone)]
pub struct WebState {
    pub store: Store,
    pub site_dir: PathBuf,
    /// The configured groups (for the lease gauge), as the reloader keeps them.
    pub groups: watch::Receiver<HashMap<String, crate::core::directory::Group>>,
    pub ownership: Ownership,
}

/// Binds the address now, so that a port in use stops the start with a clear error.
pub async fn bind(listen: SocketAddr) -> Result<tokio::net::TcpListener, String> {
    tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|error| format!("cannot listen on {listen} ([http] listen): {error}"))
}

pub fn router(state: WebState) -> Router {
    let files =
        tower_http::services::ServeDir::new(&state.site_dir).append_index_html_on_directories(true);
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
        .fallback_service(files)
        .layer(axum::middleware::map_response(secure_headers))
        .with_state(Arc::new(state))
}

/// Serves until the bot stops.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: WebState,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), String> {
    let address = listener
        .local_addr()
        .map(|address| address.to_string())
        .unwrap_or_default();
    tracing::info!(%address, "serving the public record, /healthz, /readyz and /metrics");
    axum::serve(listener, router(state))
        .with_graceful_shutdown(async move {
            let _ = shutdown.wait_for(|stopping| *stopping).await;
        })
        .await
        .map_err(|error| format!("the HTTP server stopped: {error}"))
}

async fn secure_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'self'; img-src 'self'"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

async fn healthz() -> &'static str {
    "ok\n"
}

/// 200 when the database answers within two seconds and every started channel's last attempt
/// succeeded; 503 otherwise. One line per part, for a person reading it.
async fn readyz(State(state): State<Arc<WebState>>) -> Response {
    let mut ready = true;
    let mut lines = Vec::new();
    match tokio::time::timeout(Duration::from_secs(2), state.store.ping()).await {
        Ok(Ok(())) => {
            health::succeeded("database");
            lines.push("database: ok".to_string());
        }
        // The database's own text is for the log, not for this page.
        Ok(Err(error)) => {
            ready = false;
            tracing::warn!(%error, "readiness: the database does not answer");
            health::failed("database", "the database does not answer");
            lines.push("database: not answering (see the log)".to_string());
        }
        Err(_) => {
            ready = false;
            health::failed("database", "no answer within 2 s");
            lines.push("database: no answer within 2 s".to_string());
        }
    }
    for (channel, status) in health::snapshot() {
        if channel == "database" {
            continue;
        }
        let last_success = status
            .last_success
            .map(|at| format!("last success {at}"))
            .unwrap_or_else(|| "no success yet".to_string());
        if status.up {
            lines.push(format!("{channel}: connected, {last_success}"));
        } else {
            ready = false;
            let failure = status
                .last_failure
                .map(|(at, reason)| format!(", failing since {at}: {reason}"))
                .unwrap_or_else(|| ", starting".to_string());
            lines.push(format!("{channel}: retrying, {last_success}{failure}"));
        }
    }
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        format!(
            "{}\n{}\n",
            if ready { "ready" } else { "not ready" },
            lines.join("\n")
        ),
    )
        .into_response()
}

async fn metrics_text(State(state): State<Arc<WebState>>) -> Response {
    let metrics = metrics();
    let now_ms = jiff::Timestamp::now().as_millisecond();
    match state.store.health_figures(now_ms).await {
        Ok(figures) => {
            for (state_name, count) in &figures.outbox {
                metrics
                    .outbox_items
                    .get_or_create(&vec![("state", state_name.clone())])
                    .set(*count);
            }
            metrics.outbox_oldest_unsent_age_seconds.set(
                figures
                    .oldest_unsent_ms
                    .map(|created| (now_ms - created).max(0) as f64 / 1000.0)
                    .unwrap_or(0.0),
            );
            metrics.timers_pending.set(figures.timers_pending);
            metrics.timers_late.set(figures.timers_late);
            metrics.quarantined_mail.set(figures.quarantined_mail);
        }
        Err(error) => {
            tracing::warn!(%error, "metrics: cannot read the database's figures");
        }
    }
    let group_ids: Vec<String> = state.groups.borrow().keys().cloned().collect();
    for group_id in group_ids {
        let owned = state.ownership.owns(&group_id);
        metrics
            .group_owned
            .get_or_create(&vec![("group", group_id)])
            .set(i64::from(owned));
    }
    (
        [(
            header::CONTENT_TYPE,
            prometheus_client::encoding::prometheus_text::CONTENT_TYPE,
        )],
        metrics.encode(),
    )
        .into_response()
}
