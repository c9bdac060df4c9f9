//! Form and query parameters, decoded once for every family: the first occurrence of a
//! name wins, and an empty value counts as absent.

/// Decoded name/value pairs of a form body or a query string.
#[derive(Debug, Clone, Default)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    pub fn new(pairs: Vec<(String, String)>) -> Self {
        Params { pairs }
    }

    /// The first value given for `name`, unless it is empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// [`Params::get`], owned.
    pub fn text(&self, name: &str) -> Option<String> {
        self.get(name).map(str::to_owned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_occurrence_wins_and_empty_is_absent() {
        let p = Params::new(vec![
            ("a".into(), "1".into()),
            ("a".into(), "2".into()),
            ("b".into(), "".into()),
            ("b".into(), "later".into()),
        ]);
        assert_eq!(p.get("a"), Some("1"));
        assert_eq!(p.get("b"), None, "the first b is empty");
        assert_eq!(p.get("c"), None);
    }
}
