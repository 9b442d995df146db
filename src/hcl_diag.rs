//! Positions in HCL files, for errors that say file:line:column: the
//! config (`tfdrift.hcl`), rule files and `*.tf` backend blocks all use
//! them. hcl-rs reports parse errors with a position in its message and
//! semantic errors with none, so the latter are located by searching the
//! text for the block and key at fault.

/// An error at a place in an HCL file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct Diagnostic {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl Diagnostic {
    /// A parse error from hcl-rs, at the position its message names.
    pub fn from_parse_error(file: &str, err: &hcl::Error) -> Self {
        let (line, column, message) = error_parts(&err.to_string());
        Self {
            file: file.to_string(),
            line,
            column,
            message,
        }
    }
}

/// An hcl-rs parse error as (line, column, explanation), without the
/// quoted source line.
pub fn error_parts(msg: &str) -> (usize, usize, String) {
    let (line, column) = position_of_hcl_error(msg).unwrap_or((1, 1));
    (line, column, hcl_explanation(msg))
}

/// The position in hcl-rs's parse errors: "... in line 2, column 14 ...".
pub fn position_of_hcl_error(msg: &str) -> Option<(usize, usize)> {
    let number_after = |label: &str| -> Option<usize> {
        let rest = &msg[msg.find(label)? + label.len()..];
        rest.trim_start()
            .split(|c: char| !c.is_ascii_digit())
            .next()?
            .parse()
            .ok()
    };
    Some((number_after("line ")?, number_after("column ")?))
}

/// The explanation in an hcl-rs parse error (its last `= ...` line), which
/// reads well after our own `file:line:column:`.
pub fn hcl_explanation(msg: &str) -> String {
    msg.lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix("= "))
        .map_or_else(|| msg.trim().to_string(), str::to_string)
}

/// 1-based line and column of the first `needle` in `text`.
pub fn locate(text: &str, needle: &str) -> (usize, usize) {
    offset_to_position(text, text.find(needle).unwrap_or(0))
}

/// The first `key` at the start of a line after `anchor`.
pub fn locate_after(text: &str, anchor: &str, key: &str) -> (usize, usize) {
    let start = text.find(anchor).unwrap_or(0);
    let rest = &text[start..];
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if trimmed.starts_with(key) && trimmed[key.len()..].trim_start().starts_with('=') {
            return offset_to_position(text, start + offset + (line.len() - trimmed.len()));
        }
        offset += line.len();
    }
    offset_to_position(text, start)
}

fn offset_to_position(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_come_from_parse_errors_and_searches() {
        let err = hcl::parse("a = \n").unwrap_err();
        let d = Diagnostic::from_parse_error("f.hcl", &err);
        assert_eq!((d.file.as_str(), d.line), ("f.hcl", 1));
        assert!(!d.message.contains('\n'), "{}", d.message);
        let text = "x {\n  a = 1\n}\ny {\n  a = 2\n}\n";
        assert_eq!(locate(text, "y {"), (4, 1));
        assert_eq!(locate_after(text, "y {", "a"), (5, 3));
        assert_eq!(locate_after(text, "y {", "missing"), (4, 1));
    }
}
