//! Real JWTs for tests, signed by the `jsonwebtoken` crate as a backend would sign them.

use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::Value;
use std::time::{SystemTime, UNIX_EPOCH};

/// The current Unix time in seconds, for `exp`, `nbf` and `iat` claims.
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is past 1970")
        .as_secs()
}

/// A token with `claims`, signed with HS256 and `secret`.
pub fn hs256(secret: &str, claims: &Value) -> String {
    encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("claims encode")
}
