//! Comparing two texts of a chapter paragraph by paragraph (a longest-common-subsequence over
//! paragraphs: chapters have tens of paragraphs, so the table stays small).

/// One paragraph of the comparison.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    Same(String),
    /// Only in the version.
    Removed(String),
    /// Only in the current text.
    Added(String),
}

impl Change {
    pub fn class(&self) -> &'static str {
        match self {
            Change::Same(_) => "same",
            Change::Removed(_) => "removed",
            Change::Added(_) => "added",
        }
    }
    pub fn text(&self) -> &str {
        match self {
            Change::Same(t) | Change::Removed(t) | Change::Added(t) => t,
        }
    }
}

fn paragraphs(text: &str) -> Vec<&str> {
    text.split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect()
}

/// The changes that turn `old` into `new`, in reading order.
pub fn diff_paragraphs(old: &str, new: &str) -> Vec<Change> {
    let (a, b) = (paragraphs(old), paragraphs(new));
    // lcs[i][j]: length of the common subsequence of a[i..] and b[j..].
    let mut lcs = vec![vec![0u32; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            out.push(Change::Same(a[i].to_string()));
            i += 1;
            j += 1;
        } else if j < b.len() && (i == a.len() || lcs[i][j + 1] >= lcs[i + 1][j]) {
            out.push(Change::Added(b[j].to_string()));
            j += 1;
        } else {
            out.push(Change::Removed(a[i].to_string()));
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_removed_added_and_kept_paragraphs() {
        let d = diff_paragraphs("One.\n\nTwo.\n\nThree.", "One.\n\nDos.\n\nThree.\n\nFour.");
        assert_eq!(
            d,
            vec![
                Change::Same("One.".into()),
                Change::Added("Dos.".into()),
                Change::Removed("Two.".into()),
                Change::Same("Three.".into()),
                Change::Added("Four.".into()),
            ]
        );
    }
}
