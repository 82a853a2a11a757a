//! Connection tokens: checking a JWT against the configured key, with pure functions that
//! take the current time and return typed errors (no I/O once the [`Verifier`] is built).
//!
//! The key is either a shared secret (`--token-secret`, HS256) or a PEM public key
//! (`--token-public-key`, RS256 or ES256, told apart by the key itself). Only the key's one
//! algorithm is accepted, so `alg: none` and an HS256 token signed with an RSA public key
//! used as the secret are both refused.

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

/// Why the token key could not be set up (a startup error).
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// `--token-secret` is the empty string.
    #[error("--token-secret is empty")]
    EmptySecret,
    /// Both `--token-secret` and `--token-public-key` are set.
    #[error("--token-secret and --token-public-key are both set; choose one")]
    BothKeys,
    /// The public key file could not be read.
    #[error("cannot read --token-public-key {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why reading it failed.
        source: std::io::Error,
    },
    /// The file is not a PEM RSA or EC (P-256) public key.
    #[error("--token-public-key {path} is not a PEM RSA or EC (P-256) public key")]
    NotAPublicKey {
        /// The file.
        path: PathBuf,
    },
}

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not a JWT, badly signed, for another algorithm, or with claims of the wrong type.
    #[error("invalid token: {0}")]
    Invalid(String),
    /// The token has no `sub` (user id).
    #[error("invalid token: no \"sub\" claim")]
    MissingSubject,
    /// The token's `nbf` is still in the future.
    #[error("token is not valid yet (nbf)")]
    NotYetValid,
    /// The token's `exp` has passed.
    #[error("token expired")]
    Expired,
}

/// The claims of a verified connection token.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionClaims {
    /// The user id (`sub`).
    pub user: String,
    /// When the token expires, in Unix milliseconds (`exp`), if it does.
    pub expires_at_ms: Option<u64>,
    /// Channels the server subscribes the connection to at connect (`channels`).
    pub channels: Vec<String>,
    /// Free-form information about the user (`info`), kept for presence.
    pub info: Option<serde_json::Value>,
}

/// The claims as they are read from the token, before the rules above are applied.
#[derive(Deserialize)]
struct RawClaims {
    sub: Option<String>,
    exp: Option<u64>,
    nbf: Option<u64>,
    #[serde(default)]
    channels: Vec<String>,
    info: Option<serde_json::Value>,
    channel: Option<String>,
}

/// The claims of a verified subscription token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionClaims {
    /// The user it was issued to (`sub`).
    pub user: String,
    /// The channel it lets that user join (`channel`).
    pub channel: String,
}

/// Checks tokens against the configured key.
pub struct Verifier {
    key: DecodingKey,
    validation: Validation,
}

// The key (a secret, for HS256) never appears in debug output.
impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("algorithm", &self.algorithm())
            .finish_non_exhaustive()
    }
}

impl Verifier {
    fn new(key: DecodingKey, algorithm: Algorithm) -> Self {
        let mut validation = Validation::new(algorithm);
        // Time claims are checked here against the time the caller gives, not the system
        // clock; `exp` is optional.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims = HashSet::new();
        validation.leeway = 0;
        Self { key, validation }
    }

    /// A verifier for HS256 tokens signed with `secret`.
    pub fn hs256(secret: &[u8]) -> Result<Self, KeyError> {
        if secret.is_empty() {
            return Err(KeyError::EmptySecret);
        }
        Ok(Self::new(
            DecodingKey::from_secret(secret),
            Algorithm::HS256,
        ))
    }

    /// A verifier for RS256 (RSA key) or ES256 (EC P-256 key) tokens, from a PEM public key.
    pub fn from_public_key_pem(pem: &[u8], path: &Path) -> Result<Self, KeyError> {
        if let Ok(key) = DecodingKey::from_rsa_pem(pem) {
            return Ok(Self::new(key, Algorithm::RS256));
        }
        if let Ok(key) = DecodingKey::from_ec_pem(pem) {
            return Ok(Self::new(key, Algorithm::ES256));
        }
        Err(KeyError::NotAPublicKey {
            path: path.to_owned(),
        })
    }

    /// The verifier the settings ask for: `None` in open mode (no key configured).
    pub fn from_settings(
        secret: Option<&str>,
        public_key: Option<&Path>,
    ) -> Result<Option<Self>, KeyError> {
        match (secret, public_key) {
            (None, None) => Ok(None),
            (Some(_), Some(_)) => Err(KeyError::BothKeys),
            (Some(secret), None) => Self::hs256(secret.as_bytes()).map(Some),
            (None, Some(path)) => {
                let pem = std::fs::read(path).map_err(|source| KeyError::Read {
                    path: path.to_owned(),
                    source,
                })?;
                Self::from_public_key_pem(&pem, path).map(Some)
            }
        }
    }

    /// The one algorithm tokens must be signed with.
    pub fn algorithm(&self) -> Algorithm {
        self.validation.algorithms[0]
    }

    /// Checks the signature and the time claims at `now_ms`; returns the claims and `sub`.
    fn verify(&self, token: &str, now_ms: u64) -> Result<(RawClaims, String), TokenError> {
        let mut claims = jsonwebtoken::decode::<RawClaims>(token, &self.key, &self.validation)
            .map_err(|e| TokenError::Invalid(e.to_string()))?
            .claims;
        let user = claims
            .sub
            .take()
            .filter(|s| !s.is_empty())
            .ok_or(TokenError::MissingSubject)?;
        if claims
            .nbf
            .is_some_and(|nbf| now_ms < nbf.saturating_mul(1000))
        {
            return Err(TokenError::NotYetValid);
        }
        if claims
            .exp
            .is_some_and(|exp| now_ms >= exp.saturating_mul(1000))
        {
            return Err(TokenError::Expired);
        }
        Ok((claims, user))
    }

    /// Verifies a subscription token at `now_ms` (Unix milliseconds): it needs `sub` and
    /// `channel`; `exp` is enforced when present.
    pub fn verify_subscription(
        &self,
        token: &str,
        now_ms: u64,
    ) -> Result<SubscriptionClaims, TokenError> {
        let (claims, user) = self.verify(token, now_ms)?;
        let channel = claims
            .channel
            .ok_or_else(|| TokenError::Invalid("no \"channel\" claim".into()))?;
        Ok(SubscriptionClaims { user, channel })
    }

    /// Verifies a connection token at `now_ms` (Unix milliseconds).
    pub fn verify_connection(
        &self,
        token: &str,
        now_ms: u64,
    ) -> Result<ConnectionClaims, TokenError> {
        let (claims, user) = self.verify(token, now_ms)?;
        let expires_at_ms = claims.exp.map(|exp| exp.saturating_mul(1000));
        Ok(ConnectionClaims {
            user,
            expires_at_ms,
            channels: claims.channels,
            info: claims.info,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{encode, EncodingKey, Header};
    use serde_json::json;

    const NOW: u64 = 1_700_000_000_000;

    fn hs(claims: serde_json::Value, secret: &str) -> String {
        encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap()
    }

    #[test]
    fn accepts_a_good_token_and_reads_its_claims() {
        let v = Verifier::hs256(b"s3cret").unwrap();
        let token = hs(
            json!({"sub": "alice", "exp": NOW / 1000 + 60, "channels": ["a", "b"], "info": {"n": 1}}),
            "s3cret",
        );
        let claims = v.verify_connection(&token, NOW).unwrap();
        assert_eq!(claims.user, "alice");
        assert_eq!(claims.expires_at_ms, Some(NOW + 60_000));
        assert_eq!(claims.channels, ["a", "b"]);
        assert_eq!(claims.info, Some(json!({"n": 1})));
    }

    #[test]
    fn refuses_each_kind_of_bad_token() {
        let v = Verifier::hs256(b"s3cret").unwrap();
        let check = |token: &str| v.verify_connection(token, NOW);
        assert!(matches!(
            check(&hs(json!({"sub": "a"}), "other")),
            Err(TokenError::Invalid(_))
        ));
        assert!(matches!(check("garbage"), Err(TokenError::Invalid(_))));
        assert_eq!(
            check(&hs(json!({"exp": NOW / 1000 + 60}), "s3cret")),
            Err(TokenError::MissingSubject)
        );
        assert_eq!(
            check(&hs(json!({"sub": "a", "exp": NOW / 1000}), "s3cret")),
            Err(TokenError::Expired)
        );
        assert_eq!(
            check(&hs(json!({"sub": "a", "nbf": NOW / 1000 + 5}), "s3cret")),
            Err(TokenError::NotYetValid)
        );
    }

    #[test]
    fn settings_choose_the_mode() {
        assert!(Verifier::from_settings(None, None).unwrap().is_none());
        assert!(matches!(
            Verifier::from_settings(Some(""), None),
            Err(KeyError::EmptySecret)
        ));
        assert!(matches!(
            Verifier::from_settings(Some("x"), Some(Path::new("k.pem"))),
            Err(KeyError::BothKeys)
        ));
        assert!(matches!(
            Verifier::from_settings(None, Some(Path::new("/nonexistent.pem"))),
            Err(KeyError::Read { .. })
        ));
    }
}
