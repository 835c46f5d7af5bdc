//! Splits a command line into words. Double, single and typographic quotes group words; a
//! backslash inside double quotes escapes the next character. The tokenizer never fails: an
//! unterminated quote still yields the word it started (up to the end of the line) and a
//! diagnostic that says where the quote was opened, so the reply can tell the user what to fix.

/// One word of a command line, with its position (in characters, counted from 1) for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub text: String,
    pub column: usize,
    pub was_quoted: bool,
}

/// Something the user can act on, found while reading the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenProblem {
    pub column: usize,
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tokenized {
    pub tokens: Vec<Token>,
    pub problems: Vec<TokenProblem>,
}

fn closing_quote_for(opening: char) -> Option<char> {
    match opening {
        '"' => Some('"'),
        '\'' => Some('\''),
        '\u{201C}' => Some('\u{201D}'),
        '\u{2018}' => Some('\u{2019}'),
        '\u{00AB}' => Some('\u{00BB}'),
        _ => None,
    }
}

pub fn tokenize(line: &str) -> Tokenized {
    let mut result = Tokenized::default();
    let characters: Vec<char> = line.chars().collect();
    let mut index = 0;
    while index < characters.len() {
        if characters[index].is_whitespace() {
            index += 1;
            continue;
        }
        let start_column = index + 1;
        let mut text = String::new();
        let mut was_quoted = false;
        // A word runs until unquoted whitespace; quotes may appear inside it (a"b c"d is one word).
        while index < characters.len() && !characters[index].is_whitespace() {
            let character = characters[index];
            if let Some(closing) = closing_quote_for(character) {
                was_quoted = true;
                let quote_column = index + 1;
                index += 1;
                let mut closed = false;
                while index < characters.len() {
                    let inner = characters[index];
                    if inner == closing {
                        closed = true;
                        index += 1;
                        break;
                    }
                    if inner == '\\' && closing == '"' && index + 1 < characters.len() {
                        text.push(characters[index + 1]);
                        index += 2;
                        continue;
                    }
                    text.push(inner);
                    index += 1;
                }
                if !closed {
                    result.problems.push(TokenProblem {
                        column: quote_column,
                        message: format!(
                            "the quote {character} opened at column {quote_column} is never closed; \
                             add a closing {closing}"
                        ),
                    });
                }
            } else {
                text.push(character);
                index += 1;
            }
        }
        result.tokens.push(Token {
            text,
            column: start_column,
            was_quoted,
        });
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        tokenize(line).tokens.into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn table_of_lines_and_their_words() {
        let cases: &[(&str, &[&str])] = &[
            ("", &[]),
            ("   ", &[]),
            ("!help", &["!help"]),
            ("!roster  gnso", &["!roster", "gnso"]),
            ("!whoami \"Ana Lima\"", &["!whoami", "Ana Lima"]),
            ("!x 'single quoted' rest", &["!x", "single quoted", "rest"]),
            ("!x \u{201C}smart quotes\u{201D}", &["!x", "smart quotes"]),
            ("!x \"with \\\" escaped\"", &["!x", "with \" escaped"]),
            ("!x a\"b c\"d", &["!x", "ab cd"]),
            ("!x \"\"", &["!x", ""]),
            ("\t!x\u{00A0}y", &["!x", "y"]),
        ];
        for (line, expected) in cases {
            assert_eq!(words(line), *expected, "line {line:?}");
            assert!(tokenize(line).problems.is_empty(), "line {line:?}");
        }
    }

    #[test]
    fn unterminated_quote_keeps_the_word_and_reports_the_column() {
        let tokenized = tokenize("!whoami \"Ana Lima");
        assert_eq!(tokenized.tokens[1].text, "Ana Lima");
        assert_eq!(tokenized.problems.len(), 1);
        assert_eq!(tokenized.problems[0].column, 9);
        assert!(tokenized.problems[0].message.contains("never closed"));
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let tokenized = tokenize("é !x");
        assert_eq!(tokenized.tokens[1].column, 3);
    }
}
