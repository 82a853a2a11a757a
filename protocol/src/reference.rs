//! Request references: the optional `ref` a client puts on a request and every reply echoes.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A client-chosen reference for one request: a string or an integer, echoed unchanged in
/// every reply to that request (`subscribe_confirmation`, `publish_confirmation`, `error`,
/// ...), so a client can match replies to requests without relying on their order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Ref {
    /// An integer reference, e.g. `"ref": 7`.
    Int(i64),
    /// A string reference, e.g. `"ref": "sub-news"`.
    Str(String),
}

impl fmt::Display for Ref {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Int(n) => write!(f, "{n}"),
            Self::Str(s) => write!(f, "{s:?}"),
        }
    }
}

impl From<i64> for Ref {
    fn from(n: i64) -> Self {
        Self::Int(n)
    }
}

impl From<&str> for Ref {
    fn from(s: &str) -> Self {
        Self::Str(s.to_owned())
    }
}

impl From<String> for Ref {
    fn from(s: String) -> Self {
        Self::Str(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_and_strings_round_trip() {
        for (text, value) in [
            ("7", Ref::Int(7)),
            ("-1", Ref::Int(-1)),
            (r#""a""#, "a".into()),
        ] {
            assert_eq!(serde_json::from_str::<Ref>(text).unwrap(), value);
            assert_eq!(serde_json::to_string(&value).unwrap(), text);
        }
    }

    #[test]
    fn other_values_are_refused() {
        for text in ["1.5", "true", "null", "[1]", "{}", "18446744073709551615"] {
            assert!(serde_json::from_str::<Ref>(text).is_err(), "{text}");
        }
    }
}
