//! `rapporteur verify-record`: checks published `record.jsonl` files, a single one or every
//! group's in a site folder, and names the first entry that does not match.

use crate::core::record::verify_chain;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("cannot read {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("{path}: {problem}")]
    Broken { path: String, problem: String },
    #[error("{path} holds no record.jsonl (neither itself nor <group>/record.jsonl)")]
    Nothing { path: String },
}

fn files_under(path: &Path) -> Vec<PathBuf> {
    if path.is_file() {
        return vec![path.to_path_buf()];
    }
    let mut files = Vec::new();
    let direct = path.join("record.jsonl");
    if direct.is_file() {
        files.push(direct);
    }
    if let Ok(entries) = std::fs::read_dir(path) {
        let mut groups: Vec<PathBuf> = entries
            .flatten()
            .map(|entry| entry.path().join("record.jsonl"))
            .filter(|file| file.is_file())
            .collect();
        groups.sort();
        files.extend(groups);
    }
    files
}

/// Verifies every chain at `path`; returns each file with its number of entries.
pub fn verify_path(path: &Path) -> Result<Vec<(PathBuf, usize)>, VerifyError> {
    let files = files_under(path);
    if files.is_empty() {
        return Err(VerifyError::Nothing {
            path: path.display().to_string(),
        });
    }
    let mut reports = Vec::new();
    for file in files {
        let shown = file.display().to_string();
        let bytes = std::fs::read(&file).map_err(|error| VerifyError::Read {
            path: shown.clone(),
            reason: error.to_string(),
        })?;
        let text = String::from_utf8(bytes).map_err(|error| VerifyError::Broken {
            path: shown.clone(),
            problem: format!(
                "byte {} is not UTF-8: the file was changed",
                error.utf8_error().valid_up_to()
            ),
        })?;
        let count = verify_chain(&text).map_err(|error| VerifyError::Broken {
            path: shown.clone(),
            problem: error.to_string(),
        })?;
        reports.push((file, count));
    }
    Ok(reports)
}
