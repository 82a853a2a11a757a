//! Presence on one node: `presence` and its HTTP twin, `join`/`leave`, the member cap, and
//! the errors for channels without presence.

use howl_testkit::token::now_secs;
use howl_testkit::{Client, TestServer};
use serde_json::{json, Value};
use std::io::Write;

const SECRET: &str = "presence-test-secret";

/// A secured server where `room` keeps presence with `join`/`leave`, at most 2 members
/// listed, and everything is open to authenticated users.
async fn server() -> (TestServer, tempfile::NamedTempFile) {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    write!(
        file,
        "token-secret = \"{SECRET}\"\nquote-interval = 0\n\
         [[namespaces]]\nname = \"room\"\nsubscribe = \"authenticated\"\npublish = \"authenticated\"\n\
         presence = true\njoin-leave = true\npresence-max-members = 2\n\
         [[namespaces]]\nname = \"quiet\"\npresence = true\n"
    )
    .unwrap();
    let server = TestServer::start(&["--config", file.path().to_str().unwrap()]).await;
    (server, file)
}

async fn user(server: &TestServer, name: &str, info: Value) -> Client {
    let claims = json!({"sub": name, "exp": now_secs() + 60, "info": info});
    let token = howl_testkit::token::hs256(SECRET, &claims);
    let mut client = Client::connect_with_token(&server.ws_url(), &token).await;
    assert!(client.sync().await.is_empty());
    client
}

async fn request(client: &mut Client, kind: &str, channel: &str) -> Value {
    client
        .send_event(kind, json!({"channel": channel, "ref": kind}))
        .await;
    client.recv_json().await
}

#[tokio::test]
async fn members_join_and_leave_and_are_listed_up_to_the_cap() {
    let (server, _file) = server().await;
    let mut alice = user(&server, "alice", json!({"name": "Alice"})).await;
    alice.subscribe("room:1").await;
    let own = alice.recv_json().await;
    assert_eq!(
        own,
        json!({"type": "join", "payload": {"channel": "room:1", "member":
            {"client": alice.id, "user": "alice", "info": {"name": "Alice"}}}}),
        "a subscriber hears its own join, after its confirmation"
    );
    let mut bob = user(&server, "bob", json!(null)).await;
    bob.subscribe("room:1").await;
    let join = alice.recv_json().await;
    assert_eq!(join["type"], "join");
    assert_eq!(
        join["payload"]["member"],
        json!({"client": bob.id, "user": "bob"})
    );
    assert_eq!(bob.recv_json().await, join, "bob hears his own join too");

    let result = request(&mut bob, "presence", "room:1").await;
    assert_eq!(result["type"], "presence_result", "{result}");
    assert_eq!(result["payload"]["count"], 2);
    assert_eq!(result["payload"]["ref"], "presence");
    let mut users: Vec<_> = result["payload"]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["user"].as_str().unwrap().to_owned())
        .collect();
    users.sort();
    assert_eq!(users, ["alice", "bob"]);
    let (status, body) = server.get_json("/api/channels/room:1/presence").await;
    assert_eq!((status, body["count"].clone()), (200, json!(2)), "{body}");
    assert_eq!(body["members"].as_array().unwrap().len(), 2);

    // A third member: over the cap of 2, only the count.
    let mut carol = user(&server, "carol", json!(null)).await;
    carol.subscribe("room:1").await;
    carol.recv_type("join").await;
    let result = request(&mut carol, "presence", "room:1").await;
    assert_eq!(result["payload"]["count"], 3);
    assert!(result["payload"].get("members").is_none(), "{result}");

    bob.send_event("unsubscribe", json!({"channel": "room:1"}))
        .await;
    let leave = alice.recv_type("leave").await;
    assert_eq!(leave["payload"]["member"]["user"], "bob");
    drop(carol);
    let leave = alice.recv_type("leave").await;
    assert_eq!(
        leave["payload"]["member"]["user"], "carol",
        "a lost connection leaves too"
    );
    let result = request(&mut alice, "presence", "room:1").await;
    assert_eq!(result["payload"]["count"], 1);
}

#[tokio::test]
async fn presence_without_join_leave_is_silent_and_other_channels_have_none() {
    let (server, _file) = server().await;
    let mut alice = user(&server, "alice", json!(null)).await;
    alice.subscribe("quiet:1").await;
    let mut bob = user(&server, "bob", json!(null)).await;
    bob.subscribe("quiet:1").await;
    let result = request(&mut alice, "presence", "quiet:1").await;
    assert_eq!(
        result["type"], "presence_result",
        "no join came first: {result}"
    );
    assert_eq!(result["payload"]["count"], 2);

    let cases = [
        ("news", "not_available"),
        ("bad name", "invalid_channel"),
        ("room:x#carol", "permission_denied"),
    ];
    for (channel, code) in cases {
        let error = request(&mut alice, "presence", channel).await;
        assert_eq!(error["type"], "error", "{error}");
        assert_eq!(error["payload"]["code"], code, "{error}");
        assert_eq!(error["payload"]["ref"], "presence");
    }
    let (status, body) = server.get_json("/api/channels/news/presence").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("not_available"))
    );
    let (status, body) = server.get_json("/api/channels/bad%20name/presence").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("invalid_channel"))
    );
    // Unaffected.
    assert_eq!(
        request(&mut bob, "presence", "quiet:1").await["payload"]["count"],
        2
    );
}
