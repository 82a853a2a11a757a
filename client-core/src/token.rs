//! Connection tokens: where they come from ([`TokenSource`]), and when to renew one.
//!
//! The session reads a token's `exp` claim to schedule its renewal. It decodes the JWT's
//! payload (base64url JSON) without checking the signature, on purpose: the client holds no
//! key, and it needs none. The server verifies every token it receives; the client only uses
//! `exp` to decide *when* to ask for the next one. A forged or garbled `exp` can at worst make
//! the client refresh early or too late, which the server answers exactly as it would answer
//! any other client (close 4004 at the real expiry, then a reconnect with a fresh token).

use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;
use std::fmt;

/// Where the connection token that `connect` carries comes from (a hub in secured mode needs
/// one; a hub in open mode ignores it).
#[derive(Clone, Default, PartialEq, Eq)]
pub enum TokenSource {
    /// No token: for a hub in open mode.
    #[default]
    None,
    /// The same token on every connection. It cannot be renewed: when the server closes with
    /// 4004 (expired) the session closes with [`crate::CloseReason::TokenExpired`].
    Static(String),
    /// Ask the caller ([`crate::Output::GetToken`], answered with
    /// [`crate::ClientSession::provide_token`]) before every connection attempt, and again
    /// shortly before the current token's `exp` to send `refresh`.
    GetToken,
}

// A token is a credential: it never appears in debug output (logs).
impl fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::None => f.write_str("None"),
            Self::Static(_) => f.write_str("Static(<redacted>)"),
            Self::GetToken => f.write_str("GetToken"),
        }
    }
}

/// Identifies one request for a token ([`crate::Output::GetToken`] or
/// [`crate::Output::GetSubscriptionToken`]); the answer names it, so a late answer to a request
/// the session no longer waits for is ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TokenRequestId(pub u64);

/// Why a token's `exp` could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MalformedToken {
    /// Not three non-empty parts separated by dots.
    #[error("not a JWT (header.payload.signature)")]
    NotAJwt,
    /// The payload is not base64url.
    #[error("the payload is not base64url")]
    Base64,
    /// The payload is not a JSON object.
    #[error("the payload is not a JSON object")]
    Json,
    /// `exp` is not a non-negative number of seconds.
    #[error("\"exp\" is not a non-negative number")]
    Exp,
}

/// Renewal starts this long before `exp` at most (ms).
pub const MAX_REFRESH_MARGIN_MS: u64 = 10_000;

/// The token's `exp` claim in Unix milliseconds, `None` if it has none (it never expires).
/// The signature is not checked (see the module documentation for why that is fine).
pub fn expiry(token: &str) -> Result<Option<u64>, MalformedToken> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(MalformedToken::NotAJwt);
    };
    if header.is_empty() || payload.is_empty() || signature.is_empty() {
        return Err(MalformedToken::NotAJwt);
    }
    let bytes = base64url(payload).ok_or(MalformedToken::Base64)?;
    // Through `&str`: the browser SDK already carries serde_json's string reader, and a second
    // (slice) reader would add kilobytes to its wasm.
    let text = std::str::from_utf8(&bytes).map_err(|_| MalformedToken::Json)?;
    let claims: serde_json::Value = serde_json::from_str(text).map_err(|_| MalformedToken::Json)?;
    let claims = claims.as_object().ok_or(MalformedToken::Json)?;
    match claims.get("exp") {
        None | Some(serde_json::Value::Null) => Ok(None),
        // NumericDate may carry a fraction of a second.
        Some(exp) => match exp.as_f64() {
            Some(secs) if secs.is_finite() && secs >= 0.0 => Ok(Some((secs * 1000.0) as u64)),
            _ => Err(MalformedToken::Exp),
        },
    }
}

/// How long after receiving `token` at `unix_ms` (the caller's wall clock, Unix ms) to renew
/// it: a margin before its `exp`, the smaller of a tenth of its remaining lifetime and
/// [`MAX_REFRESH_MARGIN_MS`]. `None` when there is nothing to schedule: no `exp`, an
/// unreadable one, or an `exp` already past by the caller's clock. In that last case the
/// server decides (it closes with 4004 if the token really is expired, and the session
/// reconnects with backoff); renewing at once would ask for token after token in a tight loop
/// whenever the caller's clock runs ahead of the server's.
pub fn refresh_delay(token: &str, unix_ms: u64) -> Option<u64> {
    let exp = expiry(token).ok()??;
    let remaining = exp.checked_sub(unix_ms).filter(|r| *r > 0)?;
    Some(remaining - (remaining / 10).min(MAX_REFRESH_MARGIN_MS))
}

/// base64url (RFC 4648 §5), with or without `=` padding: JWTs carry none, but a token
/// through some libraries or proxies may.
const BASE64URL: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

fn base64url(text: &str) -> Option<Vec<u8>> {
    BASE64URL.decode(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A JWT whose payload is `payload`, base64url-encoded without padding (as JWTs are).
    fn jwt(payload: &str) -> String {
        format!(
            "eyJhbGciOiJIUzI1NiJ9.{}.c2lnbmF0dXJl",
            encode(payload.as_bytes())
        )
    }

    fn encode(bytes: &[u8]) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    #[test]
    fn base64url_round_trips_every_length_and_the_url_alphabet() {
        for len in 0..40 {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + 250) as u8).collect();
            let text = encode(&bytes);
            assert_eq!(base64url(&text), Some(bytes.clone()), "{text}");
            let padded = format!("{text}{}", "=".repeat((4 - text.len() % 4) % 4));
            assert_eq!(base64url(&padded), Some(bytes), "{padded}");
        }
        assert_eq!(base64url("-_-_"), Some(vec![0xfb, 0xff, 0xbf]));
        assert_eq!(base64url("+/+/"), None, "standard base64 is not base64url");
        assert_eq!(base64url("abcde"), None, "a dangling sixth bit group");
    }

    #[test]
    fn reads_exp_in_milliseconds() {
        let token = jwt(r#"{"sub":"alice","exp":1700000060}"#);
        assert_eq!(expiry(&token), Ok(Some(1_700_000_060_000)));
        assert_eq!(
            expiry(&jwt(r#"{"exp":1700000060.25}"#)),
            Ok(Some(1_700_000_060_250))
        );
        assert_eq!(expiry(&jwt(r#"{"sub":"alice"}"#)), Ok(None), "no exp");
        assert_eq!(expiry(&jwt(r#"{"exp":null}"#)), Ok(None));
    }

    #[test]
    fn a_real_signed_token_decodes() {
        // HS256 with secret "s" (Python's hmac), {"sub":"alice","exp":2000000000}: a token as
        // a backend writes it, header with `typ`, no padding.
        let token = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSIsImV4cCI6MjAwMDAwMDAwMH0.NmgJzxkqVCk99vG6gLX3fAB_7Rg9PkpP5lfF1gZxxbU";
        assert_eq!(expiry(token), Ok(Some(2_000_000_000_000)));
    }

    #[test]
    fn malformed_tokens_are_told_apart() {
        assert_eq!(expiry(""), Err(MalformedToken::NotAJwt));
        assert_eq!(expiry("opaque-session-key"), Err(MalformedToken::NotAJwt));
        assert_eq!(expiry("a.b"), Err(MalformedToken::NotAJwt));
        assert_eq!(expiry("a.b.c.d"), Err(MalformedToken::NotAJwt));
        assert_eq!(expiry("a..c"), Err(MalformedToken::NotAJwt));
        assert_eq!(expiry("a.b*c.d"), Err(MalformedToken::Base64));
        assert_eq!(expiry(&jwt("not json")), Err(MalformedToken::Json));
        assert_eq!(expiry(&jwt("[1,2]")), Err(MalformedToken::Json));
        assert_eq!(expiry(&jwt(r#"{"exp":"soon"}"#)), Err(MalformedToken::Exp));
        assert_eq!(expiry(&jwt(r#"{"exp":-5}"#)), Err(MalformedToken::Exp));
    }

    #[test]
    fn refresh_comes_a_tenth_of_the_lifetime_or_ten_seconds_before_exp() {
        let now = 1_700_000_000_000;
        let at = |secs: u64| jwt(&format!(r#"{{"exp":{}}}"#, now / 1000 + secs));
        // Short-lived: a tenth of the remaining lifetime.
        assert_eq!(refresh_delay(&at(4), now), Some(3_600));
        assert_eq!(refresh_delay(&at(60), now), Some(54_000));
        // Long-lived: ten seconds.
        assert_eq!(refresh_delay(&at(3_600), now), Some(3_590_000));
        // Received late: measured from receipt, never negative.
        assert_eq!(refresh_delay(&at(4), now + 3_000), Some(900));
        assert_eq!(refresh_delay(&at(4), now + 3_999), Some(1));
    }

    #[test]
    fn nothing_is_scheduled_without_a_usable_exp() {
        let now = 1_700_000_000_000;
        assert_eq!(refresh_delay(&jwt(r#"{"sub":"a"}"#), now), None, "no exp");
        assert_eq!(refresh_delay("garbage", now), None, "malformed");
        let past = jwt(&format!(r#"{{"exp":{}}}"#, now / 1000));
        assert_eq!(refresh_delay(&past, now), None, "already past");
        assert_eq!(refresh_delay(&past, now + 5_000), None);
    }

    #[test]
    fn debug_output_never_shows_a_static_token() {
        let source = TokenSource::Static("secret.jwt.value".into());
        assert_eq!(format!("{source:?}"), "Static(<redacted>)");
    }
}
