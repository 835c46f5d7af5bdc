//! The texts about requests that several commands share: how a request is announced, how an
//! organization's status reads, how to answer. Every text goes through [`ReplyDocument`], so it
//! is escaped once when rendered as HTML.

use super::model::{
    ExtensionState, FeedbackRequest, OrganizationStatus, Owed, Position, RequestKind,
};
use crate::directory::Group;
use crate::reply::{LineBuilder, ReplyDocument};
use crate::time_display::utc_and_local;
use jiff::Timestamp;

/// A time as every reply shows it: UTC and the group's zone.
pub fn when(group: &Group, instant: Timestamp) -> String {
    utc_and_local(instant, &group.time_zone, &group.time_zone_name)
}

/// A person's name from their stable ID (the ID itself if they left the group file).
pub fn person_name(group: &Group, id: &str) -> String {
    group
        .person_by_id(id)
        .map(|person| person.name.clone())
        .unwrap_or_else(|| id.to_string())
}

/// `R-3 "Budget review"`.
pub fn request_title(request: &FeedbackRequest) -> String {
    format!("{} \"{}\"", request.label(), request.title)
}

/// The mail subject of messages about a request.
pub fn subject(group: &Group, request: &FeedbackRequest, what: &str) -> String {
    format!(
        "[{}] {}: {} ({})",
        group.short_name,
        request.label(),
        what,
        request.title
    )
}

/// The lines telling an organization how to answer, with the command prefix in use.
pub fn how_to_answer(document: &mut ReplyDocument, request: &FeedbackRequest, prefix: &str) {
    let label = request.label();
    let positions: Vec<&str> = Position::accepted_for(request.kind)
        .iter()
        .map(|position| position.name())
        .collect();
    document.push_line(
        LineBuilder::new()
            .text("Acknowledge with ")
            .code(format!("{prefix}ack {label}"))
            .text(", then respond with ")
            .code(format!(
                "{prefix}respond {label} {} [comments]",
                positions.join("|")
            ))
            .text(". By mail, answer the request's mail with the single word ")
            .code("ack")
            .text(" or ")
            .code(positions[0])
            .text("."),
    );
    match request.kind {
        RequestKind::Feedback => document.push_line(
            LineBuilder::new()
                .text("A response of no-support must give the organization's reasons."),
        ),
        RequestKind::Continuation => {
            document.push_line(LineBuilder::new().text(
                "An organization that does not respond by the deadline counts as continuing.",
            ))
        }
    };
    document.push_line(
        LineBuilder::new()
            .text("Need more time? ")
            .code(format!("{prefix}extend {label} <date> [reason]")),
    );
}

/// The announcement of a newly opened request, for the room, the list and the organizations.
pub fn announcement(group: &Group, request: &FeedbackRequest, prefix: &str) -> ReplyDocument {
    let mut document = ReplyDocument::new();
    let heading = match request.kind {
        RequestKind::Feedback => "Feedback request",
        RequestKind::Continuation => "Annual continuation",
    };
    document.push_line(
        LineBuilder::new()
            .strong(format!("{heading} {}", request.label()))
            .text(format!(": {}", request.title)),
    );
    if let Some(url) = &request.document {
        document.push_line(LineBuilder::new().text("Document: ").text(url.clone()));
    }
    document
        .push_line(LineBuilder::new().text(format!("To: {}.", request.organizations.names_text())));
    document.push_line(LineBuilder::new().text(format!(
        "Acknowledge by {}; respond by {}.",
        when(group, request.acknowledge_by),
        when(group, request.respond_by)
    )));
    how_to_answer(&mut document, request, prefix);
    document
}

/// One organization's status, in a line: acknowledged, responded, extension, overdue.
pub fn status_line(
    group: &Group,
    request: &FeedbackRequest,
    organization: &str,
    status: &OrganizationStatus,
    now: Timestamp,
) -> LineBuilder {
    let mut parts: Vec<String> = Vec::new();
    match &status.acknowledged {
        Some(stamp) => parts.push(format!(
            "acknowledged {} by {}",
            when(group, stamp.at),
            person_name(group, &stamp.by)
        )),
        None => parts.push("sent, not acknowledged".to_string()),
    }
    if let Some(response) = &status.response {
        let mut text = format!(
            "responded {} {} by {}",
            response.position,
            when(group, response.stamp.at),
            person_name(group, &response.stamp.by)
        );
        if response.stamp.at > request.respond_by_for(status) {
            text.push_str(" (late)");
        }
        if let Some(comment) = &response.text {
            text.push_str(&format!(": \"{comment}\""));
        }
        if !status.replaced_responses.is_empty() {
            text.push_str(&format!(
                " (replacing {} earlier response{})",
                status.replaced_responses.len(),
                if status.replaced_responses.len() == 1 {
                    ""
                } else {
                    "s"
                }
            ));
        }
        parts.push(text);
    }
    if let Some(extension) = &status.extension {
        let state = match &extension.state {
            ExtensionState::Requested => "asked, awaiting a chair".to_string(),
            ExtensionState::Granted(stamp) => {
                format!("granted by {}", person_name(group, &stamp.by))
            }
            ExtensionState::Refused { stamp, .. } => {
                format!("refused by {}", person_name(group, &stamp.by))
            }
        };
        parts.push(format!(
            "extension until {} {state}",
            when(group, extension.until)
        ));
    }
    if let Some(owed) = request.owed_by(status)
        && now > owed.due()
    {
        parts.push(format!(
            "{} overdue since {}",
            owed.what(),
            when(group, owed.due())
        ));
    }
    LineBuilder::new()
        .strong(organization.to_string())
        .text(format!(": {}", parts.join("; ")))
}

/// "acknowledgement due 2026-12-10 …" for a reminder.
pub fn owed_text(group: &Group, owed: Owed, now: Timestamp) -> String {
    let overdue = if now > owed.due() { " (overdue)" } else { "" };
    format!("{} due {}{overdue}", owed.what(), when(group, owed.due()))
}
