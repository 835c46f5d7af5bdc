//! Problems found in configuration files, each at a file:line:column.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    pub file: PathBuf,
    /// 1-based; 0 when the problem concerns the file as a whole.
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(formatter, "{}: {}", self.file.display(), self.message)
        } else {
            write!(
                formatter,
                "{}:{}:{}: {}",
                self.file.display(),
                self.line,
                self.column,
                self.message
            )
        }
    }
}

/// A file's text with a way to turn byte offsets into line and column.
pub struct SourceText<'a> {
    pub path: &'a Path,
    pub text: &'a str,
}

impl SourceText<'_> {
    /// Line and column (both 1-based, the column counted in characters) of a byte offset.
    pub fn line_and_column(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = self.text.get(..offset).unwrap_or(self.text);
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map(|index| index + 1).unwrap_or(0);
        let column = before[line_start..].chars().count() + 1;
        (line, column)
    }

    pub fn problem_at(&self, span: Range<usize>, message: impl Into<String>) -> ConfigProblem {
        let (line, column) = self.line_and_column(span.start);
        ConfigProblem {
            file: self.path.to_path_buf(),
            line,
            column,
            message: message.into(),
        }
    }

    pub fn whole_file_problem(&self, message: impl Into<String>) -> ConfigProblem {
        ConfigProblem {
            file: self.path.to_path_buf(),
            line: 0,
            column: 0,
            message: message.into(),
        }
    }

    /// A TOML syntax or shape error, at the position the parser reports.
    pub fn toml_problem(&self, error: &toml::de::Error) -> ConfigProblem {
        let mut message = error.message().trim().to_string();
        // The parser reads an unquoted word starting with t, f, i or n as a misspelt true, false,
        // inf or nan ("invalid boolean, expected `true`" for `name = test`); the likely mistake
        // is a missing pair of quotes.
        if ["`true`", "`false`", "`inf`", "`nan`"]
            .iter()
            .any(|symbol| message.ends_with(&format!("expected {symbol}")))
        {
            message.push_str("; if this is text, put it in double quotes");
        }
        match error.span() {
            Some(span) => self.problem_at(span, message),
            None => self.whole_file_problem(message),
        }
    }
}

/// Why a file could not be read, in words for a config file's author.
pub fn read_failure(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        std::io::ErrorKind::IsADirectory => "it is a folder, not a file".to_string(),
        std::io::ErrorKind::InvalidData => "it is not UTF-8 text".to_string(),
        kind => kind.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_become_lines_and_character_columns() {
        let source = SourceText {
            path: Path::new("x.toml"),
            text: "a = 1\nnamé = \"x\"\n",
        };
        assert_eq!(source.line_and_column(0), (1, 1));
        assert_eq!(source.line_and_column(6), (2, 1));
        // The byte offset of the `=` after "namé " is 12; it is the sixth character of its line.
        assert_eq!(source.line_and_column(12), (2, 6));
        assert_eq!(source.line_and_column(999), (3, 1));
    }
}
