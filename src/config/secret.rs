//! Secrets (passwords, access tokens, passphrases) come from the environment or from a file named
//! by a `*_FILE` variable or config key, never from the config file itself, and are never
//! printed: their `Debug` and `Display` show only that a value is present.

use std::fmt;
use std::path::Path;

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value, for the one place that must hand it to a library.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("Secret(<redacted>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("<redacted>")
    }
}

/// Where a secret was looked for, so a "missing secret" message can name every place.
#[derive(Debug, Clone)]
pub struct SecretSource<'a> {
    /// The environment variable holding the value itself, such as `RAPPORTEUR_MATRIX_PASSWORD`.
    pub value_variable: &'a str,
    /// The config key naming a file, already resolved against the config file's folder.
    pub file_from_config: Option<&'a Path>,
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("cannot read the secret file {path} (named by {named_by}): {reason}")]
    Unreadable {
        path: String,
        named_by: String,
        reason: String,
    },
    #[error("the secret file {path} (named by {named_by}) is empty")]
    Empty { path: String, named_by: String },
}

/// Looks for a secret in, in order: the variable itself, the `<variable>_FILE` variable, and the
/// file the config names. Returns `Ok(None)` when none of them is set.
pub fn resolve_secret(
    source: &SecretSource,
    environment: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<Secret>, SecretError> {
    if let Some(value) = environment(source.value_variable).filter(|value| !value.is_empty()) {
        return Ok(Some(Secret::new(value)));
    }
    let file_variable = format!("{}_FILE", source.value_variable);
    let (path, named_by) = match environment(&file_variable).filter(|value| !value.is_empty()) {
        Some(path) => (std::path::PathBuf::from(path), file_variable),
        None => match source.file_from_config {
            Some(path) => (path.to_path_buf(), "the config file".to_string()),
            None => return Ok(None),
        },
    };
    let text = std::fs::read_to_string(&path).map_err(|error| SecretError::Unreadable {
        path: path.display().to_string(),
        named_by: named_by.clone(),
        reason: super::position::read_failure(&error),
    })?;
    // Files written by `echo` end with a newline that is not part of the secret.
    let value = text.trim_end_matches(['\n', '\r']).to_string();
    if value.is_empty() {
        return Err(SecretError::Empty {
            path: path.display().to_string(),
            named_by,
        });
    }
    Ok(Some(Secret::new(value)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn environment_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect();
        move |key: &str| map.get(key).cloned()
    }

    #[test]
    fn secrets_never_print() {
        let secret = Secret::new("hunter2");
        assert!(!format!("{secret:?} {secret}").contains("hunter2"));
    }

    #[test]
    fn variable_wins_over_files() {
        let directory = tempfile::tempdir().expect("temp dir");
        let file = directory.path().join("password");
        std::fs::write(&file, "from-file\n").expect("write");
        let source = SecretSource {
            value_variable: "X_PASSWORD",
            file_from_config: Some(&file),
        };
        let direct = environment_of(&[("X_PASSWORD", "direct")]);
        assert_eq!(
            resolve_secret(&source, &direct).unwrap().unwrap().expose(),
            "direct"
        );
        let nothing = environment_of(&[]);
        assert_eq!(
            resolve_secret(&source, &nothing).unwrap().unwrap().expose(),
            "from-file"
        );
        let file_text = file.display().to_string();
        let file_variable = environment_of(&[("X_PASSWORD_FILE", file_text.as_str())]);
        let no_config_file = SecretSource {
            value_variable: "X_PASSWORD",
            file_from_config: None,
        };
        assert_eq!(
            resolve_secret(&no_config_file, &file_variable)
                .unwrap()
                .unwrap()
                .expose(),
            "from-file"
        );
        assert!(resolve_secret(&no_config_file, &nothing).unwrap().is_none());
    }

    #[test]
    fn missing_and_empty_files_are_errors_that_do_not_show_the_value() {
        let directory = tempfile::tempdir().expect("temp dir");
        let empty = directory.path().join("empty");
        std::fs::write(&empty, "\n").expect("write");
        let missing = directory.path().join("missing");
        for path in [&empty, &missing] {
            let source = SecretSource {
                value_variable: "X_PASSWORD",
                file_from_config: Some(path),
            };
            let error = resolve_secret(&source, &environment_of(&[])).unwrap_err();
            assert!(error.to_string().contains(&path.display().to_string()));
        }
    }
}
