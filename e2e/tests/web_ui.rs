//! The demo web UI (`web-ui/`, built by Trunk) in real headless Chromium against a real
//! `howl` with a short quote interval, through the harness in `e2e/src`.
//!
//! Each test serves the built UI with `howl --ui-dir`, clicks and types like a user, and reads
//! what the page shows (see `howl_e2e::demo_page`). Waits poll the page, or the server's
//! metrics, with a timeout; nothing sleeps to let time pass. A screenshot after messages
//! arrived is saved as `test-artifacts/web-ui.png` (and `web-ui-phone.png` at phone width).

use howl_e2e::demo_page::*;
use howl_e2e::ThreadedServer;
use serde_json::json;
use std::time::Duration;

/// The default quote channel.
const QUOTES: &str = "wisdom";

/// Starts `howl` serving the UI, with quotes every `quote_interval` seconds ("0": none).
fn howl(quote_interval: &str) -> anyhow::Result<ThreadedServer> {
    let dist = ui_dist()?;
    Ok(ThreadedServer::start(&[
        "--quote-interval",
        quote_interval,
        "--shutdown-timeout",
        "2",
        "--ui-dir",
        dist.to_str().expect("a UTF-8 path"),
    ]))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quotes_arrive_newest_first_and_stop_after_unsubscribe() -> anyhow::Result<()> {
    let mut howl = howl("0.3")?;
    let page = open_page(&howl).await?;

    // The page connects and subscribes to the quote channel by itself.
    let shown = wait_page(&page, "open, with quotes subscribed", |p| {
        p["state"] == "open" && subscribed(p, QUOTES)
    })
    .await?;
    let id = shown["clientId"].as_str().unwrap_or_default().to_owned();
    assert_eq!(id.len(), 36, "a UUID client id: {shown}");
    assert_eq!(shown["url"], howl.ws_url());
    assert!(noticed(&shown, true, "Subscribed to wisdom"), "{shown}");

    let shown = wait_page(&page, "two quotes", |p| count(p, QUOTES) >= 2).await?;
    let seqs: Vec<u64> = feed(&shown)
        .iter()
        .map(|m| m["seq"].as_str().and_then(|s| s.parse().ok()).unwrap())
        .collect();
    assert!(
        seqs.windows(2).all(|w| w[0] > w[1]),
        "newest first: {seqs:?}"
    );
    for m in feed(&shown) {
        assert!(m["text"].as_str().is_some_and(|t| !t.is_empty()), "{m}");
        assert_eq!(
            m["time"].as_str().map(str::len),
            Some(12),
            "HH:MM:SS.mmm: {m}"
        );
    }
    wait_page(&page, "a ping round trip", |p| {
        p["rtt"].as_str().is_some_and(|r| r.ends_with(" ms"))
    })
    .await?;

    // A named channel through the form; it also flushes the page's stream below.
    fill(&page, "#subscribe-channel", "e2e-sync").await?;
    click(&page, "#subscribe").await?;
    wait_page(&page, "the named subscription", |p| {
        subscribed(p, "e2e-sync")
    })
    .await?;
    screenshots(&page, "web-ui").await?;

    // Unsubscribe: no quote reaches the page during two further intervals, counted on the
    // server (three more quotes published after the confirmation).
    click(&page, "#unsubscribe-quotes").await?;
    let shown = wait_page(&page, "the unsubscribe confirmation", |p| {
        noticed(p, true, "Unsubscribed from wisdom") && !subscribed(p, QUOTES)
    })
    .await?;
    let before = count(&shown, QUOTES);
    let published = howl.metric("howl_quotes_distributed_total").await;
    howl.wait_metric_at_least("howl_quotes_distributed_total", published + 3.0)
        .await;
    let (status, _) = howl
        .post_json("/api/channels/e2e-sync/publish", &json!("flush"))
        .await;
    assert_eq!(status, 200);
    let shown = wait_page(&page, "the flush marker", |p| shows(p, "e2e-sync", "flush")).await?;
    assert_eq!(
        count(&shown, QUOTES),
        before,
        "a quote after unsubscribing: {shown}"
    );

    // Clear empties the feed; subscribing again brings quotes back.
    click(&page, "#clear-feed").await?;
    wait_page(&page, "an empty feed", |p| feed(p).is_empty()).await?;
    click(&page, "#subscribe-quotes").await?;
    wait_page(&page, "quotes again", |p| {
        subscribed(p, QUOTES) && count(p, QUOTES) >= 1
    })
    .await?;

    // Disconnect, then connect again: a new connection, quotes subscribed again.
    click(&page, "#disconnect").await?;
    let shown = wait_page(&page, "the closed state", |p| p["state"] == "closed").await?;
    assert_eq!(shown["clientId"], "—");
    assert_eq!(shown["subs"], json!([]));
    click(&page, "#connect").await?;
    let shown = wait_page(&page, "a new connection with quotes", |p| {
        p["state"] == "open" && subscribed(p, QUOTES)
    })
    .await?;
    assert_ne!(shown["clientId"], id.as_str());
    assert_eq!(shown["errors"], json!([]), "console errors");

    page.quit().await?;
    howl.stop();
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_published_on_one_page_shows_on_another() -> anyhow::Result<()> {
    let mut howl = howl("0")?;
    let first = open_page(&howl).await?;
    let second = open_page(&howl).await?;
    for page in [&first, &second] {
        wait_page(page, "open", |p| p["state"] == "open").await?;
        fill(page, "#subscribe-channel", "chat-e2e").await?;
        click(page, "#subscribe").await?;
        wait_page(page, "the chat subscription", |p| subscribed(p, "chat-e2e")).await?;
    }

    fill(&second, "#publish-channel", "chat-e2e").await?;
    fill(&second, "#publish-message", "hello from the second page").await?;
    click(&second, "#publish").await?;
    let shown = wait_page(&first, "the message from the second page", |p| {
        shows(p, "chat-e2e", "hello from the second page")
    })
    .await?;
    assert_eq!(feed(&shown)[0]["seq"], "1");
    let shown = wait_page(&second, "the echo on the sender", |p| {
        count(p, "chat-e2e") == 1
    })
    .await?;
    assert!(
        shown["publish"]
            .as_str()
            .is_some_and(|n| n.contains("Published to chat-e2e")),
        "{shown}"
    );
    assert_eq!(
        shown["messageInput"], "",
        "the message box empties after sending"
    );

    // Exclude-self: the sender does not get it back. Its next message, without the toggle,
    // comes after it on the same connection, so its absence then is final.
    click(&second, "#publish-exclude-self").await?;
    fill(&second, "#publish-message", "not for me").await?;
    click(&second, "#publish").await?;
    wait_page(&first, "the excluded-self message", |p| {
        shows(p, "chat-e2e", "not for me")
    })
    .await?;
    click(&second, "#publish-exclude-self").await?;
    fill(&second, "#publish-message", "for everyone").await?;
    click(&second, "#publish").await?;
    let shown = wait_page(&second, "the next message", |p| {
        shows(p, "chat-e2e", "for everyone")
    })
    .await?;
    assert!(!shows(&shown, "chat-e2e", "not for me"), "echoed: {shown}");

    // "Send as JSON" publishes the parsed value; text that is not JSON is refused inline.
    click(&second, "#publish-as-json").await?;
    fill(&second, "#publish-message", "{\"n\": [1, true]}").await?;
    click(&second, "#publish").await?;
    wait_page(&first, "the JSON message", |p| {
        shows(p, "chat-e2e", "{\"n\":[1,true]}")
    })
    .await?;
    fill(&second, "#publish-message", "{oops").await?;
    click(&second, "#publish").await?;
    wait_page(&second, "the invalid-JSON error", |p| {
        publish_error(p, "Not valid JSON")
    })
    .await?;
    click(&second, "#publish-as-json").await?;

    // Bad input is reported inline and nothing is sent.
    fill(&second, "#publish-channel", "").await?;
    fill(&second, "#publish-message", "x").await?;
    click(&second, "#publish").await?;
    wait_page(&second, "the missing-channel error", |p| {
        publish_error(p, "Enter a channel")
    })
    .await?;
    fill(&second, "#publish-channel", "bad channel!").await?;
    click(&second, "#publish").await?;
    wait_page(&second, "the invalid-channel error", |p| {
        publish_error(p, "invalid channel name")
    })
    .await?;
    fill(&second, "#publish-channel", "chat-e2e").await?;
    fill(&second, "#publish-message", &"x".repeat(70 * 1024)).await?;
    click(&second, "#publish").await?;
    wait_page(&second, "the too-large error", |p| {
        publish_error(p, "limit")
    })
    .await?;
    fill(&second, "#subscribe-channel", "no spaces allowed").await?;
    click(&second, "#subscribe").await?;
    wait_page(&second, "the subscribe error", |p| {
        noticed(p, false, "invalid channel name")
    })
    .await?;
    let shown = snapshot(&first).await?;
    assert_eq!(
        count(&shown, "chat-e2e"),
        4,
        "only the four messages: {shown}"
    );
    assert_eq!(shown["errors"], json!([]), "console errors");

    first.quit().await?;
    second.quit().await?;
    howl.stop();
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_reconnects_when_the_server_restarts() -> anyhow::Result<()> {
    let mut howl = howl("0.3")?;
    let page = open_page(&howl).await?;
    wait_page(&page, "quotes", |p| {
        p["state"] == "open" && count(p, QUOTES) >= 1
    })
    .await?;

    // A graceful stop (close 1001), then a crash (no close frame): each time the page shows
    // reconnecting, then open on a new connection, and quotes flow again.
    for (round, graceful) in [(1, true), (2, false)] {
        let id = snapshot(&page).await?["clientId"].clone();
        if graceful {
            howl.stop();
        } else {
            howl.kill();
        }
        wait_page(&page, "the reconnecting state", |p| {
            p["state"] == "reconnecting"
        })
        .await?;
        wait_page(&page, "a failed reconnect attempt", |p| {
            p["attempt"].as_str().is_some_and(|a| a != "0")
        })
        .await?;
        click(&page, "#clear-feed").await?;

        howl.restart();
        // The SDK's backoff waits up to 10 s between attempts.
        let reconnects = round.to_string();
        let shown = wait_page_within(&page, Duration::from_secs(30), "open again", |p| {
            p["state"] == "open" && p["reconnects"] == reconnects.as_str()
        })
        .await?;
        assert_ne!(shown["clientId"], id, "a new connection has a new id");
        assert_eq!(shown["attempt"], "0");
        wait_page(&page, "quotes after the restart", |p| {
            subscribed(p, QUOTES) && count(p, QUOTES) >= 2
        })
        .await?;
    }

    page.quit().await?;
    howl.stop();
    Ok(())
}
