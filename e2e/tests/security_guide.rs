//! `docs/security.md` as written: its config file starts a real `howl`, its Node.js script
//! (run by the real `node` with the real `jsonwebtoken` package) mints the tokens a client
//! connects with, and its `curl` commands drive the server API on the internal address.

use howl_e2e::workspace_root;
use howl_testkit::{Client, TestServer};
use serde_json::{json, Value};
use std::process::Command;

/// The code block of the guide whose info string is `<lang> file=<name>`.
fn block(guide: &str, name: &str) -> String {
    let marker = format!(" file={name}\n");
    let start = guide
        .find(&marker)
        .unwrap_or_else(|| panic!("docs/security.md has no block {name}"))
        + marker.len();
    let end = guide[start..].find("```").expect("the block ends") + start;
    guide[start..end].to_owned()
}

/// The string value of `key = "..."` in the TOML text.
fn toml_string(toml: &str, key: &str) -> String {
    toml.lines()
        .find_map(|line| line.strip_prefix(&format!("{key} = \"")))
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no {key} in the config block"))
        .to_owned()
}

fn run(command: &mut Command) -> String {
    let output = command.output().expect("the command runs");
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[tokio::test]
async fn the_security_guide_works_as_written() {
    let root = workspace_root();
    let guide = std::fs::read_to_string(root.join("docs/security.md")).unwrap();
    // Under the workspace, so `node` finds the workspace's node_modules.
    let dir = tempfile::tempdir_in(root.join("target")).unwrap();
    let write = |name: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, block(&guide, name)).unwrap();
        path
    };
    let config = write("howl.toml");
    let script = write("mint-token.mjs");
    let api = write("api.sh");
    let toml = std::fs::read_to_string(&config).unwrap();
    let secret = toml_string(&toml, "token-secret");
    let api_key = toml_string(&toml, "api-key");

    // The file's addresses are for a real deployment; the test listens on loopback ports.
    let server = TestServer::start(&[
        "--config",
        config.to_str().unwrap(),
        "--internal-listen",
        "127.0.0.1:0",
        "--quote-interval",
        "0",
    ])
    .await;
    let (status, _) = server.get_json("/api/channels").await;
    assert_eq!(status, 404, "no API on the public address");

    let tokens = run(Command::new("node")
        .arg(&script)
        .arg("alice")
        .env("HOWL_TOKEN_SECRET", &secret)
        .current_dir(&root));
    let tokens: Vec<&str> = tokens.lines().collect();
    assert_eq!(tokens.len(), 2, "{tokens:?}");
    let mut alice = Client::connect_with_token(&server.ws_url(), tokens[0]).await;
    assert_eq!(
        alice.recv_json().await,
        json!({"type": "subscribed", "payload": {"channel": "#alice"}})
    );
    alice
        .send_event(
            "subscribe",
            json!({"channel": "vip:lounge", "token": tokens[1]}),
        )
        .await;
    assert_eq!(
        alice.recv_json().await["type"],
        "subscribe_confirmation",
        "the subscription token opens vip:lounge"
    );
    alice.subscribe("chat:lobby").await;
    // Clients may not publish outside their rooms: `chat` needs a subscription.
    alice
        .send_event("publish", json!({"channel": "chat:other", "data": 1}))
        .await;
    assert_eq!(
        alice.recv_type("error").await["payload"]["code"],
        "permission_denied"
    );

    // Off the runtime's thread: the server answering curl runs on it.
    let mut api_script = Command::new("timeout");
    api_script
        .args(["60", "bash"])
        .arg(&api)
        .env("HOWL", server.internal().http_url(""))
        .env("HOWL_API_KEY", &api_key);
    let output = tokio::task::spawn_blocking(move || run(&mut api_script))
        .await
        .unwrap();
    let answers: Vec<Value> = serde_json::Deserializer::from_str(&output)
        .into_iter()
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("{e}: {output}"));
    assert_eq!(answers.len(), 4, "{output}");
    assert_eq!(answers[0]["channel"], "chat:lobby", "{output}");
    assert_eq!(answers[3], json!({"user": "alice", "op": "disconnect"}));

    let message = alice.recv_json().await;
    assert_eq!(
        (&message["type"], &message["payload"]["data"]),
        (&json!("message"), &json!({"text": "hello"}))
    );
    for kind in ["subscribed", "unsubscribed"] {
        assert_eq!(
            alice.recv_json().await,
            json!({"type": kind, "payload": {"channel": "chat:team"}})
        );
    }
    assert_eq!(alice.expect_close().await, 4006);
}
