//! `init` and `doctor`: from nothing to a checked configuration, and what a deployment depends on.

use crate::{Arguments, Command, new_runtime};
use rapporteur::config::{load_settings, process_environment};
use std::process::ExitCode;

/// `init`: the answers from flags, or asked at a terminal; the files written; then the same
/// check as `check-config`.
pub(crate) fn init_command(arguments: &Arguments) -> ExitCode {
    let Command::Init {
        group_name,
        short_name,
        homeserver,
        bot_user,
        room,
        list,
        time_zone,
        organizations,
        force,
    } = &arguments.command
    else {
        return ExitCode::FAILURE;
    };
    let interactive = std::io::IsTerminal::is_terminal(&std::io::stdin());
    let mut missing = Vec::new();
    let mut ask = |given: &Option<String>, flag: &str, question: &str, default: Option<&str>| {
        if let Some(value) = given {
            return value.clone();
        }
        if !interactive {
            match default {
                Some(default) => return default.to_string(),
                None => {
                    missing.push(flag.to_string());
                    return String::new();
                }
            }
        }
        loop {
            // An empty default (an optional answer) shows no empty brackets.
            match default {
                Some(default) if !default.is_empty() => eprint!("{question} [{default}]: "),
                _ => eprint!("{question}: "),
            }
            let mut line = String::new();
            if std::io::stdin().read_line(&mut line).unwrap_or(0) == 0 {
                return default.unwrap_or_default().to_string();
            }
            let answer = line.trim();
            if !answer.is_empty() {
                return answer.to_string();
            }
            if let Some(default) = default {
                return default.to_string();
            }
        }
    };
    let group_name = ask(group_name, "--group-name", "The group's full name", None);
    let short_name = ask(
        short_name,
        "--short-name",
        "Its short name (such as CCEG-IG)",
        None,
    );
    let homeserver = ask(
        homeserver,
        "--homeserver",
        "The homeserver's address (such as https://matrix.example.org)",
        None,
    );
    let bot_user = ask(
        bot_user,
        "--bot-user",
        "The bot's Matrix account (such as @rapporteur:example.org)",
        None,
    );
    let room = ask(
        room,
        "--room",
        "The group's room (#alias:server or !id:server)",
        None,
    );
    let list_answer = ask(
        list,
        "--list",
        "The group's mailing list address (empty: none)",
        Some(""),
    );
    let time_zone = ask(
        time_zone,
        "--time-zone",
        "The group's time zone",
        Some("UTC"),
    );
    let mut organizations = organizations.clone();
    if organizations.is_empty() && interactive {
        eprintln!(
            "The appointing organizations, one per line as SHORT=Full name; an empty line ends:"
        );
        loop {
            let mut line = String::new();
            if std::io::stdin().read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
                break;
            }
            match rapporteur::init::parse_organization(line.trim()) {
                Ok(organization) => organizations.push(organization),
                Err(problem) => eprintln!("{problem}"),
            }
        }
    }
    if !missing.is_empty() {
        eprintln!(
            "rapporteur init: give {} (or run it at a terminal to be asked), such as:
  rapporteur init --group-name \"Budget Working Group\" --short-name BWG              --homeserver https://matrix.example.org --bot-user @rapporteur:example.org              --room '#bwg:example.org' --time-zone Europe/Brussels --organization \"GNSO=Generic Names Supporting Organization\"",
            missing.join(", ")
        );
        return ExitCode::from(2);
    }
    let answers = rapporteur::init::InitAnswers {
        group_name,
        short_name,
        homeserver_url: homeserver,
        bot_user_id: bot_user,
        room,
        list_address: Some(list_answer).filter(|list| !list.is_empty()),
        time_zone,
        organizations,
    };
    match rapporteur::init::write(&arguments.config, &answers, *force) {
        Ok(written) => {
            for path in written {
                println!("wrote {}", path.display());
            }
        }
        Err(error) => {
            eprintln!("rapporteur init: {error}");
            return ExitCode::FAILURE;
        }
    }
    match load_settings(&arguments.config, &process_environment) {
        Ok(settings) => {
            println!(
                "{}: configuration is valid; {} group(s). Next: add the group's people to its file, then `rapporteur doctor`.",
                arguments.config.display(),
                settings.groups.len()
            );
            ExitCode::SUCCESS
        }
        Err(problems) => {
            for problem in &problems {
                eprintln!("{problem}");
            }
            eprintln!(
                "{} problem{} in the new configuration: correct {}, then run `rapporteur check-config`.",
                problems.len(),
                if problems.len() == 1 { "" } else { "s" },
                if problems.len() == 1 { "it" } else { "them" }
            );
            ExitCode::from(2)
        }
    }
}

/// `doctor`: the configuration's check first (its problems printed as `check-config` prints
/// them), then `rapporteur::doctor`'s, each line printed as soon as it is known.
pub(crate) fn doctor_command(arguments: &Arguments) -> ExitCode {
    let settings = match load_settings(&arguments.config, &process_environment) {
        Ok(settings) => {
            println!(
                "ok    configuration: {} is valid, {} group(s)",
                arguments.config.display(),
                settings.groups.len()
            );
            settings
        }
        Err(problems) => {
            for problem in &problems {
                println!("      {problem}");
            }
            println!(
                "FAIL  configuration: {} problem(s) in {}; correct them (each is shown above with its file:line:column), then run doctor again",
                problems.len(),
                arguments.config.display()
            );
            return ExitCode::FAILURE;
        }
    };
    let Some(runtime) = new_runtime() else {
        return ExitCode::FAILURE;
    };
    let checks = runtime.block_on(rapporteur::doctor::examine(&settings, |check| {
        println!("{}", check.line())
    }));
    let failed = checks.iter().filter(|check| check.is_failed()).count();
    if failed == 0 {
        println!("every check passed");
        ExitCode::SUCCESS
    } else {
        println!("{failed} check(s) failed");
        ExitCode::FAILURE
    }
}
