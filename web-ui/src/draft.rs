//! What the publish box holds, checked before anything is sent.

use serde_json::Value;

/// The publish box's fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    /// The channel to publish to (surrounding spaces are ignored).
    pub channel: String,
    /// The message text.
    pub text: String,
    /// Send the text parsed as JSON instead of as a JSON string.
    pub as_json: bool,
    /// Do not deliver the message back to this page.
    pub exclude_self: bool,
}

impl Draft {
    /// The channel and the data to publish, or what to fix first. Channel naming rules are
    /// checked by the SDK.
    pub fn to_publication(&self) -> Result<(&str, Value), String> {
        let channel = self.channel.trim();
        if channel.is_empty() {
            return Err("Enter a channel to publish to.".to_owned());
        }
        if self.text.trim().is_empty() {
            return Err("Enter a message.".to_owned());
        }
        let data = if self.as_json {
            serde_json::from_str(&self.text).map_err(|e| format!("Not valid JSON: {e}."))?
        } else {
            Value::String(self.text.clone())
        };
        Ok((channel, data))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn draft(channel: &str, text: &str, as_json: bool) -> Draft {
        Draft {
            channel: channel.into(),
            text: text.into(),
            as_json,
            exclude_self: false,
        }
    }

    #[test]
    fn text_is_sent_as_a_json_string() {
        let d = draft(" news ", "{\"a\": 1}", false);
        assert_eq!(d.to_publication(), Ok(("news", json!("{\"a\": 1}"))));
    }

    #[test]
    fn json_mode_sends_the_parsed_value() {
        let d = draft("news", " {\"a\": [1, true]} ", true);
        assert_eq!(d.to_publication(), Ok(("news", json!({"a": [1, true]}))));
        assert_eq!(
            draft("n", "42", true).to_publication(),
            Ok(("n", json!(42)))
        );
    }

    #[test]
    fn problems_are_named() {
        let missing_channel = draft("  ", "hi", false).to_publication().unwrap_err();
        assert!(missing_channel.contains("channel"), "{missing_channel}");
        let missing_text = draft("news", "   ", false).to_publication().unwrap_err();
        assert!(missing_text.contains("message"), "{missing_text}");
        let bad_json = draft("news", "{oops", true).to_publication().unwrap_err();
        assert!(bad_json.starts_with("Not valid JSON"), "{bad_json}");
    }
}
