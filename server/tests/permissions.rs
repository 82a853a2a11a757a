//! Permissions against a real server: the quote channel, the modes' defaults, namespaces from
//! the config file, personal channels and subscription tokens.

use howl_testkit::token::now_secs as now;
use howl_testkit::{Client, TestServer};
use serde_json::{json, Value};
use std::io::Write;

const SECRET: &str = "permissions-test-secret";

fn user_token(user: &str) -> String {
    token(json!({"sub": user, "exp": now() + 60}))
}

/// A secured server with `namespaces` (TOML `[[namespaces]]` tables) in its config file.
async fn secured_with(namespaces: &str) -> (TestServer, tempfile::NamedTempFile) {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    write!(
        file,
        "token-secret = \"{SECRET}\"\nquote-interval = 0\n{namespaces}"
    )
    .unwrap();
    let server = TestServer::start(&["--config", file.path().to_str().unwrap()]).await;
    (server, file)
}

async fn user(server: &TestServer, name: &str) -> Client {
    let mut client = Client::connect_with_token(&server.ws_url(), &user_token(name)).await;
    assert!(client.sync().await.is_empty());
    client
}

/// Sends `kind` with `fields` (and `ref` 7) and expects `error {code}` naming `channel`.
async fn denied(client: &mut Client, kind: &str, fields: Value, channel: &str, code: &str) {
    let mut fields = fields;
    fields["ref"] = json!(7);
    client.send_event(kind, fields).await;
    let error = client.recv_json().await;
    assert_eq!(error["type"], "error", "{error}");
    assert_eq!(error["payload"]["code"], code, "{error}");
    assert_eq!(error["payload"]["channel"], channel, "{error}");
    assert_eq!(error["payload"]["ref"], 7, "{error}");
    assert_eq!(error["payload"]["request"], kind, "{error}");
}

#[tokio::test]
async fn only_the_server_publishes_quotes_in_open_mode_too() {
    let server = TestServer::start(&["--quote-interval", "0"]).await;
    let mut client = Client::connect(&server.ws_url()).await;
    client.subscribe("wisdom").await;
    denied(
        &mut client,
        "publish",
        json!({"channel": "wisdom", "data": "fake quote"}),
        "wisdom",
        "permission_denied",
    )
    .await;
    let (status, _) = server
        .post("/api/channels/wisdom/publish", r#""a real one""#)
        .await;
    assert_eq!(status, 200);
    let message = client.recv_type("message").await;
    assert_eq!(message["payload"]["data"], "a real one");
    // Other channels stay open in open mode.
    client
        .send_event("publish", json!({"channel": "news", "data": 1, "ref": 1}))
        .await;
    assert_eq!(client.recv_json().await["type"], "publish_confirmation");
}

#[tokio::test]
async fn secured_mode_defaults_subscribe_for_users_and_no_client_publish() {
    let (server, _file) = secured_with("").await;
    let mut alice = user(&server, "alice").await;
    alice.subscribe("news").await;
    denied(
        &mut alice,
        "publish",
        json!({"channel": "news", "data": 1}),
        "news",
        "permission_denied",
    )
    .await;
    denied(
        &mut alice,
        "publish",
        json!({"channel": "wisdom", "data": "fake"}),
        "wisdom",
        "permission_denied",
    )
    .await;
}

#[tokio::test]
async fn namespaces_open_what_they_name() {
    let (server, _file) = secured_with(
        r#"
[[namespaces]]
name = "chat"
subscribe = "authenticated"
publish = "subscribers"

[[namespaces]]
name = "board"
publish = "authenticated"
"#,
    )
    .await;
    let mut alice = user(&server, "alice").await;
    denied(
        &mut alice,
        "publish",
        json!({"channel": "chat:room", "data": 1}),
        "chat:room",
        "permission_denied",
    )
    .await;
    alice.subscribe("chat:room").await;
    alice
        .send_event(
            "publish",
            json!({"channel": "chat:room", "data": 2, "ref": 2}),
        )
        .await;
    assert_eq!(
        alice.recv_type("publish_confirmation").await["payload"]["ref"],
        2
    );
    alice
        .send_event(
            "publish",
            json!({"channel": "board:x", "data": 3, "ref": 3}),
        )
        .await;
    assert_eq!(alice.recv_json().await["type"], "publish_confirmation");
}

#[tokio::test]
async fn a_namespace_may_close_subscribing_in_open_mode() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    write!(
        file,
        "quote-interval = 0\n[[namespaces]]\nname = \"staff\"\nsubscribe = \"authenticated\"\npublish = \"nobody\"\n"
    )
    .unwrap();
    let server = TestServer::start(&["--config", file.path().to_str().unwrap()]).await;
    let mut client = Client::connect(&server.ws_url()).await;
    denied(
        &mut client,
        "subscribe",
        json!({"channel": "staff:ops"}),
        "staff:ops",
        "permission_denied",
    )
    .await;
    client.subscribe("news").await;
}

#[tokio::test]
async fn personal_channels_admit_only_their_users() {
    let (server, _file) = secured_with("").await;
    let mut alice = user(&server, "alice").await;
    let mut bob = user(&server, "bob").await;
    alice.subscribe("#alice").await;
    alice.subscribe("dm:x#alice,bob").await;
    bob.subscribe("dm:x#alice,bob").await;
    denied(
        &mut bob,
        "subscribe",
        json!({"channel": "#alice"}),
        "#alice",
        "permission_denied",
    )
    .await;
    // Open mode has no users: nobody joins a personal channel.
    let open = TestServer::start(&["--quote-interval", "0"]).await;
    let mut anonymous = Client::connect(&open.ws_url()).await;
    denied(
        &mut anonymous,
        "subscribe",
        json!({"channel": "#alice"}),
        "#alice",
        "permission_denied",
    )
    .await;
}

#[tokio::test]
async fn only_who_may_join_a_channel_may_watch_it() {
    let (server, _file) =
        secured_with("[[namespaces]]\nname = \"vip\"\nsubscribe = \"token\"\n").await;
    let mut alice = user(&server, "alice").await;
    let mut bob = user(&server, "bob").await;
    for channel in ["#alice", "vip:lounge"] {
        denied(
            &mut bob,
            "watch",
            json!({ "channel": channel }),
            channel,
            "permission_denied",
        )
        .await;
    }
    // Allowed where subscribing is: a personal channel by its user, any ordinary channel.
    alice.wait_occupied("#alice", false).await;
    bob.wait_occupied("news", false).await;
    // Unauthenticated connections cannot watch in secured mode (nor connect at all).
    let open = TestServer::start(&["--quote-interval", "0"]).await;
    let mut anonymous = Client::connect(&open.ws_url()).await;
    denied(
        &mut anonymous,
        "watch",
        json!({"channel": "#alice"}),
        "#alice",
        "permission_denied",
    )
    .await;
    anonymous.wait_occupied("news", false).await;
}

#[tokio::test]
async fn token_namespaces_need_a_subscription_token_for_this_user_and_channel() {
    let (server, _file) =
        secured_with("[[namespaces]]\nname = \"vip\"\nsubscribe = \"token\"\n").await;
    let mut alice = user(&server, "alice").await;
    let sub = |user: &str, channel: &str, exp: u64| {
        token(json!({"sub": user, "channel": channel, "exp": exp}))
    };
    let later = now() + 60;
    for (token, code) in [
        (None, "permission_denied"),
        (Some(sub("alice", "vip:other", later)), "permission_denied"),
        (Some(sub("bob", "vip:lounge", later)), "permission_denied"),
        (Some("garbage".to_owned()), "permission_denied"),
        (Some(sub("alice", "vip:lounge", now() - 5)), "token_expired"),
    ] {
        let fields = match token {
            Some(token) => json!({"channel": "vip:lounge", "token": token}),
            None => json!({"channel": "vip:lounge"}),
        };
        denied(&mut alice, "subscribe", fields, "vip:lounge", code).await;
    }
    alice
        .send_event(
            "subscribe",
            json!({"channel": "vip:lounge", "token": sub("alice", "vip:lounge", later)}),
        )
        .await;
    let confirmation = alice.recv_json().await;
    assert_eq!(
        confirmation["type"], "subscribe_confirmation",
        "{confirmation}"
    );
    assert_eq!(server.subscribers("vip:lounge").await, 1);
}

#[tokio::test]
async fn unusable_namespace_tables_stop_the_server_at_startup() {
    for tables in [
        "[[namespaces]]\nname = \"a\"\nsubscribe = \"everyone\"\n",
        "[[namespaces]]\nname = \"a\"\nhistory = 5\n",
        "[[namespaces]]\nname = \"a\"\nhistory-size = -1\n",
        "[[namespaces]]\nname = \"a\"\nhistory-ttl = \"long\"\n",
        "[[namespaces]]\nname = \"a\"\npresence = \"yes\"\n",
        "[[namespaces]]\nname = \"a\"\npresence-max-members = 1.5\n",
        "[[namespaces]]\nname = \"a\"\n[[namespaces]]\nname = \"a\"\n",
    ] {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(tables.as_bytes()).unwrap();
        let err = howl::Config::from_args(["howl", "--config", file.path().to_str().unwrap()])
            .unwrap_err();
        assert!(err.to_string().contains("[[namespaces]]"), "{err}");
    }
}

/// A token with `claims`, signed with the servers' HS256 secret.
fn token(claims: Value) -> String {
    howl_testkit::token::hs256(SECRET, &claims)
}
