//! The `howl` binary itself: it starts, serves, and on SIGTERM closes clients with 1001 and
//! exits 0.

use howl_testkit::{Client, WAIT};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[tokio::test]
async fn sigterm_closes_clients_with_going_away_and_exits_zero() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_howl"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--log-format",
            "json",
            "--quote-interval",
            "0",
        ])
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .spawn()
        .expect("howl starts");
    let stdout = child.stdout.take().unwrap();
    // The bound address is only known from the log, so read lines until the listening line.
    let (address_tx, address_rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let mut address_tx = Some(address_tx);
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let Ok(event) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            // Keep reading to the end so the pipe never fills and blocks howl.
            if let Some(address) = event["address"].as_str() {
                if let Some(tx) = address_tx.take() {
                    let _ = tx.send(address.to_owned());
                }
            }
        }
    });
    let address = tokio::time::timeout(WAIT, address_rx)
        .await
        .expect("howl logs its address")
        .unwrap();

    let mut client = Client::open(&format!("ws://{address}/ws")).await;
    client.handshake().await;
    assert!(client.sync().await.is_empty());

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(client.expect_close().await, 1001);

    let exit = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(exit.success(), "howl exited with {exit}");
}
