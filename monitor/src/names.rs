//! Domain names for the report: the trace carries domain ids only, `xl list` knows the
//! names. `rtcredit-monitor --names FILE` reads `xl list`'s output saved on the traced
//! host (`xl list > names.txt` while the domains run).

use std::collections::BTreeMap;

/// A line of the names file that is not an `xl list` row.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{file}:{line}: not a line of `xl list` (NAME ID ...): {text:?}")]
pub struct BadNamesLine {
    /// The file, as given.
    pub file: String,
    /// 1-based line number.
    pub line: usize,
    /// The line.
    pub text: String,
}

/// Most rows a names file may have (a host runs at most 32767 domains).
const MAX_ROWS: usize = 32_768;

/// Domain id to name from `xl list`'s output: its header line (`Name ID Mem VCPUs
/// State Time(s)`) and blank lines are skipped, every other line must start with a
/// name and a numeric id.
pub fn parse_xl_list(file: &str, text: &str) -> Result<BTreeMap<u32, String>, BadNamesLine> {
    let mut names = BTreeMap::new();
    for (index, line) in text.lines().enumerate() {
        let mut words = line.split_whitespace();
        let (Some(name), second) = (words.next(), words.next()) else { continue };
        if name == "Name" && second == Some("ID") {
            continue;
        }
        let bad = || BadNamesLine { file: file.to_string(), line: index + 1, text: line.to_string() };
        let id: u32 = second.and_then(|id| id.parse().ok()).filter(|&id| id < 0x7FF0).ok_or_else(bad)?;
        if names.len() >= MAX_ROWS {
            return Err(bad());
        }
        names.insert(id, name.to_string());
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_xl_lists_output() {
        let text = "Name                                        ID   Mem VCPUs\tState\tTime(s)\n\
                    Domain-0                                     0  2048     2     r-----      35.4\n\
                    audio-1                                      3   512     1     -b----       2.1\n\n";
        let names = parse_xl_list("n.txt", text).unwrap();
        assert_eq!(names.get(&0).map(String::as_str), Some("Domain-0"));
        assert_eq!(names.get(&3).map(String::as_str), Some("audio-1"));
        assert_eq!(names.len(), 2);
    }

    #[test]
    fn a_line_without_an_id_is_named() {
        let err = parse_xl_list("n.txt", "Domain-0 0 2048\nwhat is this\n").unwrap_err();
        assert_eq!(err.line, 2);
        assert_eq!(err.to_string(), "n.txt:2: not a line of `xl list` (NAME ID ...): \"what is this\"");
        assert!(parse_xl_list("n.txt", "huge 70000\n").is_err(), "ids stop below DOMID_FIRST_RESERVED");
    }
}
