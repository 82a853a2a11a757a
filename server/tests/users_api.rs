//! The server API's user commands against real servers: `POST /api/users/{user}/subscribe`,
//! `.../unsubscribe` and `.../disconnect` act on every connection of that user, on one node
//! and across a Redis cluster, and refuse bad requests with clear errors.

use howl_testkit::redis::counts_agree;
use howl_testkit::token::{hs256, now_secs};
use howl_testkit::{Client, Endpoint, Node, RedisServer, TestServer};
use serde_json::{json, Value};

const SECRET: &str = "users-api-test-secret";

fn token(user: &str) -> String {
    hs256(SECRET, &json!({"sub": user, "exp": now_secs() + 600}))
}

async fn secured(extra: &[&str]) -> TestServer {
    let mut flags = vec!["--quote-interval", "0", "--token-secret", SECRET];
    flags.extend(extra);
    TestServer::start(&flags).await
}

/// A connection of `user` that has completed its handshake.
async fn user(server: &Endpoint, user: &str) -> Client {
    let mut client = Client::connect_with_token(&server.ws_url(), &token(user)).await;
    assert_quiet(&mut client).await;
    client
}

/// Nothing but the pong arrives: the server processed everything before it.
async fn assert_quiet(client: &mut Client) {
    let frames = client.sync().await;
    assert_eq!(frames, Vec::<Value>::new(), "unexpected frames");
}

async fn command(server: &Endpoint, user: &str, op: &str, body: Value) -> (u16, Value) {
    server
        .post_json(&format!("/api/users/{user}/{op}"), &body)
        .await
}

#[tokio::test]
async fn subscribe_and_unsubscribe_reach_every_connection_of_the_user_only() {
    let server = secured(&[]).await;
    let mut alice1 = user(&server, "alice").await;
    let mut alice2 = user(&server, "alice").await;
    let mut bob = user(&server, "bob").await;

    let (status, body) = command(&server, "alice", "subscribe", json!({"channel": "news"})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"user": "alice", "op": "subscribe", "channel": "news"})
    );
    for alice in [&mut alice1, &mut alice2] {
        assert_eq!(
            alice.recv_json().await,
            json!({"type": "subscribed", "payload": {"channel": "news"}})
        );
    }
    assert_quiet(&mut bob).await;
    assert_eq!(server.subscribers("news").await, 2);

    // Subscribing again changes nothing and tells nobody.
    let (status, _) = command(&server, "alice", "subscribe", json!({"channel": "news"})).await;
    assert_eq!(status, 200);
    let (status, _) = server.post("/api/channels/news/publish", "7").await;
    assert_eq!(status, 200);
    for alice in [&mut alice1, &mut alice2] {
        let frame = alice.recv_json().await;
        assert_eq!(frame["type"], "message", "{frame}");
        assert_eq!(frame["payload"]["data"], 7);
        assert_quiet(alice).await;
    }
    assert_quiet(&mut bob).await;

    let (status, body) = command(&server, "alice", "unsubscribe", json!({"channel": "news"})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["op"], "unsubscribe");
    for alice in [&mut alice1, &mut alice2] {
        assert_eq!(
            alice.recv_json().await,
            json!({"type": "unsubscribed", "payload": {"channel": "news"}})
        );
    }
    assert_eq!(server.subscribers("news").await, 0);
    let (status, _) = server.post("/api/channels/news/publish", "8").await;
    assert_eq!(status, 200);
    for alice in [&mut alice1, &mut alice2] {
        assert_quiet(alice).await;
    }
    // A user with no connection: accepted, nothing happens.
    let (status, _) = command(&server, "carol", "subscribe", json!({"channel": "news"})).await;
    assert_eq!(status, 200);
    assert_eq!(server.metric("howl_user_commands_total").await, 4.0);
}

#[tokio::test]
async fn a_server_side_subscription_counts_against_the_subscription_limit() {
    let server = secured(&["--max-subscriptions", "1"]).await;
    let mut alice = user(&server, "alice").await;
    let (status, _) = command(&server, "alice", "subscribe", json!({"channel": "a"})).await;
    assert_eq!(status, 200);
    assert_eq!(alice.recv_json().await["type"], "subscribed");
    let (status, _) = command(&server, "alice", "subscribe", json!({"channel": "b"})).await;
    assert_eq!(status, 200);
    let error = alice.recv_json().await;
    assert_eq!(error["type"], "error", "{error}");
    assert_eq!(error["payload"]["code"], "too_many_subscriptions");
    assert_eq!(error["payload"]["channel"], "b");
    assert_eq!(server.subscribers("b").await, 0);
    assert_quiet(&mut alice).await;
}

#[tokio::test]
async fn disconnect_closes_every_connection_of_the_user_with_4006() {
    let server = secured(&[]).await;
    let mut alice1 = user(&server, "alice").await;
    let mut alice2 = user(&server, "alice").await;
    let mut bob = user(&server, "bob").await;
    // An empty body is allowed for disconnect.
    let (status, body) = server
        .post_with("/api/users/alice/disconnect", "", &[])
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"user": "alice", "op": "disconnect"}));
    assert_eq!(alice1.expect_close().await, 4006);
    assert_eq!(alice2.expect_close().await, 4006);
    assert_quiet(&mut bob).await;
    assert_eq!(server.metric("howl_user_disconnects_total").await, 2.0);
    // `{}` is the other accepted body.
    let (status, _) = command(&server, "bob", "disconnect", json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(bob.expect_close().await, 4006);
}

/// A bad request: path, body, headers, and the status and error code it gets.
type Case<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)], u16, &'a str);

#[tokio::test]
async fn bad_user_commands_get_clear_errors_and_change_nothing() {
    let server = secured(&["--api-key", "k3y"]).await;
    let mut alice = user(&server, "alice").await;
    let key = [
        ("content-type", "application/json"),
        ("authorization", "Bearer k3y"),
    ];
    let long_user = "u".repeat(257);
    let long = format!("/api/users/{long_user}/subscribe");
    let cases: [Case<'_>; 10] = [
        (
            "/api/users/alice/subscribe",
            r#"{"channel":"x"}"#,
            &key[..1],
            401,
            "unauthorized",
        ),
        (
            "/api/users/alice/subscribe",
            r#"{"channel":"x"}"#,
            &[("authorization", "Bearer k3y")],
            415,
            "unsupported_media_type",
        ),
        ("/api/users/alice/kick", "{}", &key, 404, "not_found"),
        (
            "/api/users/alice/subscribe",
            "{",
            &key,
            400,
            "invalid_payload",
        ),
        (
            "/api/users/alice/subscribe",
            "{}",
            &key,
            400,
            "invalid_payload",
        ),
        (
            "/api/users/alice/subscribe",
            r#"{"channel":"x","extra":1}"#,
            &key,
            400,
            "invalid_payload",
        ),
        (
            "/api/users/alice/subscribe",
            r#"{"channel":"bad name"}"#,
            &key,
            400,
            "invalid_channel",
        ),
        (
            "/api/users/alice/unsubscribe",
            r#"{"channel":7}"#,
            &key,
            400,
            "invalid_payload",
        ),
        (
            "/api/users/alice/disconnect",
            "[1]",
            &key,
            400,
            "invalid_payload",
        ),
        (&long, r#"{"channel":"x"}"#, &key, 400, "invalid_payload"),
    ];
    for (path, body, headers, status, code) in cases {
        let (got, answer) = server.post_with(path, body.to_owned(), headers).await;
        assert_eq!(
            (got, answer["error"]["code"].as_str()),
            (status, Some(code)),
            "{path} {body}: {answer}"
        );
        assert!(answer["error"]["message"].is_string(), "{answer}");
    }
    // Alice was neither subscribed nor disconnected, and the server still works.
    assert_quiet(&mut alice).await;
    let (status, _) = server
        .post_with("/api/users/alice/subscribe", r#"{"channel":"ok"}"#, &key)
        .await;
    assert_eq!(status, 200);
    assert_eq!(alice.recv_json().await["type"], "subscribed");
}

#[tokio::test]
async fn commands_reach_the_users_connections_on_every_node() {
    let redis = RedisServer::start().await;
    let flags = ["--token-secret", SECRET];
    let a = Node::start(&redis, "a", &flags).await;
    let b = Node::start(&redis, "b", &flags).await;
    let mut alice_a = user(&a, "alice").await;
    let mut alice_b = user(&b, "alice").await;
    let mut bob_b = user(&b, "bob").await;

    // Asked on node a, done on both.
    let (status, _) = command(&a, "alice", "subscribe", json!({"channel": "team"})).await;
    assert_eq!(status, 200);
    for alice in [&mut alice_a, &mut alice_b] {
        assert_eq!(
            alice.recv_json().await,
            json!({"type": "subscribed", "payload": {"channel": "team"}})
        );
    }
    counts_agree(&[&a, &b], "team", 2).await;
    let (status, _) = a.post("/api/channels/team/publish", r#""hi""#).await;
    assert_eq!(status, 200);
    for alice in [&mut alice_a, &mut alice_b] {
        assert_eq!(alice.recv_json().await["payload"]["data"], "hi");
    }
    assert_quiet(&mut bob_b).await;

    let (status, _) = command(&b, "alice", "unsubscribe", json!({"channel": "team"})).await;
    assert_eq!(status, 200);
    for alice in [&mut alice_a, &mut alice_b] {
        assert_eq!(alice.recv_json().await["type"], "unsubscribed");
    }
    counts_agree(&[&a, &b], "team", 0).await;

    let (status, _) = command(&a, "alice", "disconnect", json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(alice_a.expect_close().await, 4006);
    assert_eq!(alice_b.expect_close().await, 4006);
    assert_quiet(&mut bob_b).await;
    assert_eq!(b.metric("howl_user_disconnects_total").await, 1.0);
}

#[tokio::test]
async fn without_redis_a_cluster_node_refuses_user_commands() {
    // Nothing listens on port 1: the node never reaches Redis.
    let server = secured(&["--redis-url", "redis://127.0.0.1:1"]).await;
    let mut alice = user(&server, "alice").await;
    let (status, body) = command(&server, "alice", "disconnect", json!({})).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "broker_unavailable");
    // Not applied locally either: no node got it, this one included.
    assert_quiet(&mut alice).await;
}
