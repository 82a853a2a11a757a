//! Connection tokens against a real server: secured mode with HS256, RS256 and ES256 keys,
//! every kind of bad token, expiry and refresh.

use howl_testkit::token::now_secs as now;
use howl_testkit::{Client, TestServer};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use std::time::Duration;

const SECRET: &str = "test-secret-for-howl";

fn keys_dir() -> String {
    format!("{}/tests/keys", env!("CARGO_MANIFEST_DIR"))
}

fn signed(alg: Algorithm, private_pem: &str, claims: Value) -> String {
    let pem = std::fs::read(format!("{}/{private_pem}", keys_dir())).unwrap();
    let key = match alg {
        Algorithm::RS256 => EncodingKey::from_rsa_pem(&pem).unwrap(),
        Algorithm::ES256 => EncodingKey::from_ec_pem(&pem).unwrap(),
        other => panic!("no key for {other:?}"),
    };
    encode(&Header::new(alg), &claims, &key).unwrap()
}

async fn secured() -> TestServer {
    TestServer::start(&["--quote-interval", "0", "--token-secret", SECRET]).await
}

/// Connects with `token` and expects `error {code}` followed by close `close`.
async fn refused(server: &TestServer, token: Option<&str>, code: &str, close: u16) {
    let mut client = Client::open(&server.ws_url()).await;
    let fields = match token {
        Some(token) => json!({ "token": token }),
        None => json!({}),
    };
    client.handshake_with(fields).await;
    let error = client.recv_type("error").await;
    assert_eq!(error["payload"]["code"], code, "{token:?}: {error}");
    assert_eq!(error["payload"]["request"], "connect");
    assert_eq!(client.expect_close().await, close, "{token:?}");
}

/// A connected client that stays usable: the server and every other client are unaffected.
async fn assert_alive(client: &mut Client) {
    let before = client.sync().await;
    assert!(
        before.iter().all(|f| f["type"] != "error"),
        "unexpected frames: {before:?}"
    );
}

#[tokio::test]
async fn a_valid_hs256_token_connects_and_its_channels_are_subscribed() {
    let server = secured().await;
    let token = hs256(
        json!({"sub": "alice", "exp": now() + 60, "channels": ["alerts", "news"], "info": {"name": "Alice"}}),
    );
    let mut client = Client::connect_with_token(&server.ws_url(), &token).await;
    for channel in ["alerts", "news"] {
        assert_eq!(
            client.recv_json().await,
            json!({"type": "subscribed", "payload": {"channel": channel}})
        );
    }
    assert_eq!(server.subscribers("alerts").await, 1);
    let (status, _) = server
        .post("/api/channels/alerts/publish", r#"{"n":1}"#)
        .await;
    assert_eq!(status, 200);
    let message = client.recv_type("message").await;
    assert_eq!(message["payload"]["channel"], "alerts");
    assert_eq!(message["payload"]["data"], json!({"n": 1}));
    assert_alive(&mut client).await;
}

#[tokio::test]
async fn rs256_and_es256_public_keys_are_detected() {
    for (alg, private, public) in [
        (Algorithm::RS256, "rsa_private.pem", "rsa_public.pem"),
        (Algorithm::ES256, "ec_private.pem", "ec_public.pem"),
    ] {
        let key = format!("{}/{public}", keys_dir());
        let server =
            TestServer::start(&["--quote-interval", "0", "--token-public-key", &key]).await;
        let token = signed(alg, private, json!({"sub": "bob", "exp": now() + 60}));
        let mut client = Client::connect_with_token(&server.ws_url(), &token).await;
        assert_alive(&mut client).await;
        // A token signed with the other key type is refused.
        let other = match alg {
            Algorithm::RS256 => signed(Algorithm::ES256, "ec_private.pem", json!({"sub": "bob"})),
            _ => signed(Algorithm::RS256, "rsa_private.pem", json!({"sub": "bob"})),
        };
        refused(&server, Some(&other), "unauthorized", 4003).await;
        assert_alive(&mut client).await;
    }
}

#[tokio::test]
async fn every_kind_of_bad_token_is_unauthorized_and_closed_4003() {
    let server = secured().await;
    let good = hs256(json!({"sub": "alice", "exp": now() + 60}));
    let mut bystander = Client::connect_with_token(&server.ws_url(), &good).await;

    let wrong_signature = encode(
        &Header::new(Algorithm::HS256),
        &json!({"sub": "alice"}),
        &EncodingKey::from_secret(b"another secret"),
    )
    .unwrap();
    // `alg: none`: an unsigned token.
    let b64 = |v: Value| {
        use std::fmt::Write;
        // URL-safe base64 without padding, written out to need no extra crate.
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let bytes = v.to_string().into_bytes();
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
            for i in 0..=chunk.len() {
                let _ = write!(out, "{}", A[(n >> (18 - 6 * i) & 63) as usize] as char);
            }
        }
        out
    };
    let alg_none = format!(
        "{}.{}.",
        b64(json!({"alg": "none", "typ": "JWT"})),
        b64(json!({"sub": "alice"}))
    );
    let truncated = &good[..good.len() - 10];
    let no_subject = hs256(json!({"exp": now() + 60}));
    let not_yet_valid = hs256(json!({"sub": "alice", "nbf": now() + 3600}));

    refused(&server, None, "unauthorized", 4003).await;
    for token in [
        "garbage",
        "",
        truncated,
        &wrong_signature,
        &alg_none,
        &no_subject,
        &not_yet_valid,
    ] {
        refused(&server, Some(token), "unauthorized", 4003).await;
    }
    assert_alive(&mut bystander).await;
}

#[tokio::test]
async fn hs256_presented_to_an_rs256_key_is_unauthorized() {
    let public = format!("{}/rsa_public.pem", keys_dir());
    let server = TestServer::start(&["--quote-interval", "0", "--token-public-key", &public]).await;
    // The classic confusion attack: the public key used as an HMAC secret.
    let pem = std::fs::read(&public).unwrap();
    let forged = encode(
        &Header::new(Algorithm::HS256),
        &json!({"sub": "mallory"}),
        &EncodingKey::from_secret(&pem),
    )
    .unwrap();
    refused(&server, Some(&forged), "unauthorized", 4003).await;
}

#[tokio::test]
async fn an_expired_token_gets_token_expired_and_close_4004() {
    let server = secured().await;
    let expired = hs256(json!({"sub": "alice", "exp": now() - 10}));
    refused(&server, Some(&expired), "token_expired", 4004).await;
}

#[tokio::test]
async fn without_a_refresh_the_connection_closes_at_exp() {
    let server = secured().await;
    let token = hs256(json!({"sub": "alice", "exp": now() + 2}));
    let mut client = Client::connect_with_token(&server.ws_url(), &token).await;
    assert_alive(&mut client).await;
    let error = client.recv_type("error").await;
    assert_eq!(error["payload"]["code"], "token_expired", "{error}");
    assert_eq!(client.expect_close().await, 4004);
}

#[tokio::test]
async fn a_refresh_before_exp_keeps_the_connection() {
    let server = secured().await;
    let token = hs256(json!({"sub": "alice", "exp": now() + 2}));
    let mut client = Client::connect_with_token(&server.ws_url(), &token).await;
    let fresh = hs256(json!({"sub": "alice", "exp": now() + 60}));
    client
        .send_event("refresh", json!({ "token": fresh }))
        .await;
    assert_alive(&mut client).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_alive(&mut client).await;
}

#[tokio::test]
async fn a_refresh_with_another_users_token_is_unauthorized() {
    let server = secured().await;
    let token = hs256(json!({"sub": "alice", "exp": now() + 60}));
    let mut client = Client::connect_with_token(&server.ws_url(), &token).await;
    let bobs = hs256(json!({"sub": "bob", "exp": now() + 60}));
    client
        .send_event("refresh", json!({ "token": bobs, "ref": 3 }))
        .await;
    let error = client.recv_type("error").await;
    assert_eq!(error["payload"]["code"], "unauthorized", "{error}");
    assert_eq!(error["payload"]["request"], "refresh");
    assert_eq!(error["payload"]["ref"], 3);
    assert_eq!(client.expect_close().await, 4003);
}

#[tokio::test]
async fn a_refresh_with_an_expired_or_bad_token_closes() {
    let server = secured().await;
    for (bad, code, close) in [
        (
            hs256(json!({"sub": "alice", "exp": now() - 1})),
            "token_expired",
            4004,
        ),
        ("garbage".to_owned(), "unauthorized", 4003),
    ] {
        let token = hs256(json!({"sub": "alice", "exp": now() + 60}));
        let mut client = Client::connect_with_token(&server.ws_url(), &token).await;
        client.send_event("refresh", json!({ "token": bad })).await;
        let error = client.recv_type("error").await;
        assert_eq!(error["payload"]["code"], code, "{error}");
        assert_eq!(client.expect_close().await, close);
    }
}

#[tokio::test]
async fn open_mode_ignores_tokens_and_needs_none() {
    let server = TestServer::start(&["--quote-interval", "0"]).await;
    let mut plain = Client::connect(&server.ws_url()).await;
    assert_alive(&mut plain).await;
    let mut with_token = Client::connect_with_token(&server.ws_url(), "not checked").await;
    assert_alive(&mut with_token).await;
}

/// A token with `claims`, signed with the servers' HS256 secret.
fn hs256(claims: Value) -> String {
    howl_testkit::token::hs256(SECRET, &claims)
}
