//! `!report response-times`: how quickly each appointing organization acknowledged and answered
//! the group's feedback requests (WS2 recommendation 7.2.2). Public, like the rest of the
//! record: anyone may read it. The figures come from [`super::response_times`], which also feeds
//! the CSV and JSON exports of the command line, so the chat and the export cannot disagree.

use super::commands::text_reply;
use super::render::when;
use super::response_times::{StageTimes, days_and_hours, response_times};
use crate::commands::ArgumentProblem;
use crate::engine::CommandContext;
use crate::reply::{LineBuilder, ReplyDocument};
use crate::tokenize::Token;

/// The reports there are. One for now; the name is still required so that later reports can be
/// added without changing what `!report` alone means.
const AVAILABLE_REPORTS: &str = "response-times";

fn is_response_times(text: &str) -> bool {
    text.trim().to_ascii_lowercase().replace('_', "-") == "response-times"
}

pub fn choose_report_form(arguments: &[Token]) -> Result<usize, ArgumentProblem> {
    match arguments {
        [] => Err(ArgumentProblem::new(format!(
            "the report's name is missing; the available report is {AVAILABLE_REPORTS}"
        ))),
        [topic] if is_response_times(&topic.text) => Ok(0),
        [topic] => Err(ArgumentProblem::new(format!(
            "there is no report \"{}\"; the available report is {AVAILABLE_REPORTS}",
            topic.text
        ))),
        _ => Err(ArgumentProblem::new(format!(
            "it takes one report name; the available report is {AVAILABLE_REPORTS}"
        ))),
    }
}

pub fn report(context: &CommandContext, _form: usize, _arguments: &[Token]) -> ReplyDocument {
    let group = context.group;
    let rows = response_times(context.state, group, context.now);
    if rows.is_empty() {
        return text_reply(format!(
            "{} has sent no feedback requests to its organizations yet, so there are no response times to report.",
            group.short_name
        ));
    }
    let request_count = context.state.requests.len();
    let mut document = ReplyDocument::new();
    document.push_line(LineBuilder::new().text(format!(
        "Response times in {} over {request_count} feedback request{}, open and closed, as of {}:",
        group.short_name,
        if request_count == 1 { "" } else { "s" },
        when(group, context.now)
    )));
    document.push_list(
        rows.iter()
            .map(|row| {
                LineBuilder::new()
                    .strong(row.organization.clone())
                    .text(format!(
                        ": {} request{}. {}. {}.",
                        row.requests_addressed,
                        if row.requests_addressed == 1 { "" } else { "s" },
                        stage_text("Acknowledged", &row.acknowledgement),
                        stage_text("Responded", &row.response)
                    ))
            })
            .collect(),
    );
    document.push_line(LineBuilder::new().text(
        "Times count from the opening of each request; an extension a chair granted moves the response due date. \
         Answers still pending are not in the medians, and count as not on time once overdue.",
    ));
    document
}

/// "Acknowledged 2, median 1 d 0 h, worst 2 d 4 h; 1 of 2 on time (50%); 1 pending".
fn stage_text(verb: &str, stage: &StageTimes) -> String {
    let mut text = match (stage.median, stage.worst) {
        (Some(median), Some(worst)) => format!(
            "{verb} {}, median {}, worst {}",
            stage.answered,
            days_and_hours(median),
            days_and_hours(worst)
        ),
        _ => format!("{verb} none"),
    };
    if let Some(share) = stage.on_time_share {
        text.push_str(&format!(
            "; {} of {} on time ({:.0}%)",
            stage.on_time,
            stage.on_time + stage.not_on_time,
            share * 100.0
        ));
    }
    if stage.pending > 0 {
        text.push_str(&format!("; {} pending", stage.pending));
    }
    text
}
