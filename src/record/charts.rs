//! The public record's charts, drawn on the server as SVG with plotters: members present per
//! organization at each meeting held, and each organization's median response time against the
//! group's target. Their text (organization names, meeting labels) is escaped by plotters'
//! SVG backend, and the pages show them as images, so no markup of a group file runs.

use crate::core::directory::Group;
use crate::core::meetings::attendance::attendance_rows;
use crate::core::state::GroupState;
use jiff::Timestamp;
use plotters::prelude::*;

const SIZE: (u32, u32) = (720, 360);

fn palette(index: usize) -> RGBColor {
    const COLORS: [RGBColor; 8] = [
        RGBColor(0x1f, 0x77, 0xb4),
        RGBColor(0xd6, 0x27, 0x28),
        RGBColor(0x2c, 0xa0, 0x2c),
        RGBColor(0xff, 0x7f, 0x0e),
        RGBColor(0x94, 0x67, 0xbd),
        RGBColor(0x8c, 0x56, 0x4b),
        RGBColor(0xe3, 0x77, 0xc2),
        RGBColor(0x7f, 0x7f, 0x7f),
    ];
    COLORS[index % COLORS.len()]
}

/// Members present per organization at each meeting held, oldest first; `None` before the
/// first meeting.
pub fn attendance_chart(group: &Group, state: &GroupState) -> Option<String> {
    let rows = attendance_rows(group, state);
    let mut meetings: Vec<String> = Vec::new();
    for row in &rows {
        if !meetings.contains(&row.meeting) {
            meetings.push(row.meeting.clone());
        }
    }
    if meetings.is_empty() {
        return None;
    }
    let organizations: Vec<&str> = group
        .organizations
        .iter()
        .map(|organization| organization.short_name.as_str())
        .collect();
    let present = |organization: &str, meeting: &str| {
        rows.iter()
            .filter(|row| {
                row.organization == organization
                    && row.meeting == meeting
                    && row.status == "present"
            })
            .count() as i32
    };
    let most = organizations
        .iter()
        .flat_map(|organization| {
            meetings
                .iter()
                .map(|meeting| present(organization, meeting))
        })
        .max()
        .unwrap_or(0)
        .max(1);
    let mut svg = String::new();
    let drawn: Result<(), Box<dyn std::error::Error>> = (|| {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE)?;
        let last = meetings.len() as i32 - 1;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!("{}: members present per organization", group.short_name),
                ("sans-serif", 18),
            )
            .margin(12)
            .x_label_area_size(32)
            .y_label_area_size(36)
            .build_cartesian_2d(0..last.max(1), 0..most + 1)?;
        chart
            .configure_mesh()
            .x_labels(meetings.len().min(12))
            .x_label_formatter(&|index| meetings.get(*index as usize).cloned().unwrap_or_default())
            .y_desc("members present")
            .draw()?;
        for (index, organization) in organizations.iter().enumerate() {
            let color = palette(index);
            let points: Vec<(i32, i32)> = meetings
                .iter()
                .enumerate()
                .map(|(at, meeting)| (at as i32, present(organization, meeting)))
                .collect();
            chart
                .draw_series(LineSeries::new(points, color.stroke_width(2)))?
                .label(organization.to_string())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK.mix(0.3))
            .draw()?;
        root.present()?;
        Ok(())
    })();
    match drawn {
        Ok(()) => Some(svg),
        Err(error) => {
            tracing::warn!(%error, group = %group.id, "cannot draw the attendance chart");
            None
        }
    }
}

/// Each addressed organization's median response time in days, as bars, against the group's
/// target (`respond_within_days`) as a line; `None` while no organization has responded.
pub fn response_time_chart(group: &Group, state: &GroupState, now: Timestamp) -> Option<String> {
    let times = crate::core::feedback::response_times::response_times(state, group, now);
    let medians: Vec<(String, f64)> = times
        .iter()
        .filter_map(|row| {
            row.response
                .median
                .map(|median| (row.organization.clone(), median.as_secs_f64() / 86_400.0))
        })
        .collect();
    if medians.is_empty() {
        return None;
    }
    let target = f64::from(group.feedback.respond_within_days);
    let most = medians.iter().map(|(_, days)| *days).fold(target, f64::max) * 1.15;
    let mut svg = String::new();
    let drawn: Result<(), Box<dyn std::error::Error>> = (|| {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE)?;
        let count = medians.len() as f64;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!(
                    "{}: median response time (days), target {} days",
                    group.short_name, group.feedback.respond_within_days
                ),
                ("sans-serif", 18),
            )
            .margin(12)
            .x_label_area_size(32)
            .y_label_area_size(40)
            .build_cartesian_2d(0.0..count, 0.0..most)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(medians.len() * 2 + 1)
            .x_label_formatter(&|x| {
                // A label at the middle of each bar only.
                let index = (x - 0.5).round();
                if (x - 0.5 - index).abs() < 0.01 && index >= 0.0 {
                    medians
                        .get(index as usize)
                        .map(|(name, _)| name.clone())
                        .unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .y_desc("days")
            .draw()?;
        chart.draw_series(medians.iter().enumerate().map(|(index, (_, days))| {
            let color = if *days > target {
                palette(1)
            } else {
                palette(0)
            };
            Rectangle::new(
                [(index as f64 + 0.2, 0.0), (index as f64 + 0.8, *days)],
                color.filled(),
            )
        }))?;
        chart
            .draw_series(LineSeries::new(
                [(0.0, target), (count, target)],
                BLACK.stroke_width(2),
            ))?
            .label(format!("target: {target} days"))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], BLACK.stroke_width(2)));
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK.mix(0.3))
            .draw()?;
        root.present()?;
        Ok(())
    })();
    match drawn {
        Ok(()) => Some(svg),
        Err(error) => {
            tracing::warn!(%error, group = %group.id, "cannot draw the response-time chart");
            None
        }
    }
}
