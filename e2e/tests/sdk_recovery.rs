//! Recovery, history and presence through the browser SDK in real headless Chromium against
//! a real howl: a client whose connection is cut while the server keeps running gets every
//! message published meanwhile exactly once, in order, when it reconnects; a server restart
//! (a new epoch) is reported as a gap; `history()` and `presence()` answer, and `join`/`leave`
//! arrive, on a namespace configured for them.

use howl_e2e::sdk_page::{assert_error, assert_no_errors, assert_ok, connect, js, settle};
use howl_e2e::wait::eventually;
use howl_e2e::{sdk_page, Browser, CutProxy, Site, ThreadedServer};
use serde_json::{json, Value};

/// Fast reconnects, so the tests wait little for them.
const FAST: &str = "{ reconnectInitialDelayMs: 50, reconnectMaxDelayMs: 200 }";

/// Creates client `name` on `url` with [`FAST`] reconnects and waits for it to open.
async fn connect_to(browser: &Browser, name: &str, url: &str) -> anyhow::Result<()> {
    let opened = settle(
        browser,
        &format!("track({name:?}, {url:?}, {FAST}).opened()"),
    )
    .await?;
    assert_ok(&opened, "open");
    Ok(())
}

/// `window.sub` = client `name`'s channel `channel`, recording every event in `window.seen`.
async fn record(browser: &Browser, name: &str, channel: &str) -> anyhow::Result<()> {
    browser
        .eval(
            "const [name, channel] = arguments;
             window.sub = clients[name].channel(channel);
             window.seen = { message: [], subscribed: [], gap: [], join: [], leave: [] };
             sub.on('message', (m) => seen.message.push({ seq: m.seq, data: m.data }));
             sub.on('subscribed', (c, info) => seen.subscribed.push({ channel: c, ...info }));
             for (const name of ['gap', 'join', 'leave']) sub.on(name, (x) => seen[name].push(x));
             return null;",
            vec![name.into(), channel.into()],
        )
        .await?;
    assert_ok(&settle(browser, "sub.subscribe()").await?, "subscribe");
    Ok(())
}

/// Publishes `n` (as data) to `channel` from client "a": its `seq`.
async fn publish(browser: &Browser, channel: &str, n: u64) -> anyhow::Result<u64> {
    let expr = format!("clients.a.channel({channel:?}).publish({n})");
    let outcome = settle(browser, &expr).await?;
    assert_ok(&outcome, "publish");
    Ok(outcome["value"]["seq"].as_u64().expect("a seq"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_connection_recovers_every_message_once_in_order() -> anyhow::Result<()> {
    let site = Site::sdk()?;
    let howl = ThreadedServer::start(&["--quote-interval", "0", "--ui-dir", &site.arg()]);
    let proxy = CutProxy::start(howl.addr).await?;
    let browser = sdk_page::open(&howl).await?;
    connect(&browser, "a", json!({})).await?; // the publisher, straight to howl
    connect_to(&browser, "b", &proxy.ws_url()).await?; // the subscriber, through the proxy
    record(&browser, "b", "news").await?;
    let first = js(&browser, "seen.subscribed[0]").await?;
    assert_eq!(first["recovered"], false, "{first}");
    assert_eq!(first["recoveredCount"], 0, "{first}");
    let epoch = first["epoch"].as_str().expect("an epoch").to_owned();

    let mut seqs = Vec::new();
    for n in 1..=3 {
        seqs.push(publish(&browser, "news", n).await?);
    }
    browser
        .wait_for("three live messages", "seen.message.length === 3")
        .await?;

    // Cut b off; the server keeps running and forgets b's subscription.
    proxy.cut();
    browser
        .wait_for(
            "b to notice",
            "clients.b.state === 'reconnecting' || clients.b.state === 'connecting'",
        )
        .await?;
    eventually("the server to drop b", || async {
        howl.subscribers("news").await == 0
    })
    .await;
    for n in 4..=8 {
        seqs.push(publish(&browser, "news", n).await?);
    }

    proxy.restore();
    browser
        .wait_for("the re-subscription", "seen.subscribed.length === 2")
        .await?;
    seqs.push(publish(&browser, "news", 9).await?); // live again
    browser
        .wait_for("nine messages", "seen.message.length >= 9")
        .await?;

    let again = js(&browser, "seen.subscribed[1]").await?;
    assert_eq!(
        again,
        json!({ "channel": "news", "recovered": true, "recoveredCount": 5, "epoch": epoch, "seq": seqs[7] }),
        "the five published while away are recovered"
    );
    let expected: Vec<Value> = (1..=9u64)
        .zip(&seqs)
        .map(|(n, seq)| json!({ "seq": seq, "data": n }))
        .collect();
    assert_eq!(
        js(&browser, "seen.message").await?,
        Value::from(expected),
        "every message once, in order"
    );
    let contiguous: Vec<u64> = (seqs[0]..seqs[0] + 9).collect();
    assert_eq!(seqs, contiguous, "the stream numbers them one apart");
    assert_eq!(js(&browser, "seen.gap").await?, json!([]));
    assert_no_errors(&browser).await?;
    browser.quit().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_server_is_a_new_epoch_reported_as_a_gap() -> anyhow::Result<()> {
    let site = Site::sdk()?;
    let mut howl = ThreadedServer::start(&["--quote-interval", "0", "--ui-dir", &site.arg()]);
    let browser = sdk_page::open(&howl).await?;
    connect_to(&browser, "a", "/ws").await?;
    connect_to(&browser, "b", "/ws").await?;
    record(&browser, "b", "news").await?;
    let last = publish(&browser, "news", 1).await?;
    browser
        .wait_for("the message", "seen.message.length === 1")
        .await?;
    let before = js(&browser, "seen.subscribed[0].epoch").await?;

    // The memory broker's streams do not survive a restart: a new epoch, counting from 1.
    howl.stop();
    howl.restart();
    browser
        .wait_for("the re-subscription", "seen.subscribed.length === 2")
        .await?;
    let again = js(&browser, "seen.subscribed[1]").await?;
    assert_eq!(again["recovered"], false, "{again}");
    assert_eq!(again["recoveredCount"], 0, "{again}");
    assert_ne!(again["epoch"], before, "a new epoch");
    browser.wait_for("the gap", "seen.gap.length === 1").await?;
    assert_eq!(
        js(&browser, "seen.gap[0]").await?,
        json!({
            "channel": "news",
            "from": { "epoch": before, "seq": last },
            "to": { "epoch": again["epoch"], "seq": again["seq"] },
        })
    );
    // The new stream's messages are delivered, though their numbers start over.
    assert_ok(
        &settle(&browser, "clients.a.opened()").await?,
        "a is back too",
    );
    let seq = publish(&browser, "news", 2).await?;
    browser
        .wait_for("the new epoch's message", "seen.message.length === 2")
        .await?;
    assert_eq!(
        js(&browser, "seen.message[1]").await?,
        json!({ "seq": seq, "data": 2 })
    );
    browser.quit().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_presence_join_and_leave() -> anyhow::Result<()> {
    let site = Site::sdk()?;
    let config = tempfile::NamedTempFile::new()?;
    std::fs::write(
        config.path(),
        "[[namespaces]]\nname = \"room\"\npresence = true\njoin-leave = true\n\n\
         [[namespaces]]\nname = \"quiet\"\nhistory-size = 0\n",
    )?;
    let config_path = config.path().display().to_string();
    let howl = ThreadedServer::start(&[
        "--quote-interval",
        "0",
        "--ui-dir",
        &site.arg(),
        "--config",
        &config_path,
    ]);
    let browser = sdk_page::open(&howl).await?;
    connect(&browser, "a", json!({})).await?;
    connect(&browser, "b", json!({})).await?;
    record(&browser, "b", "room:1").await?;
    let (a_id, b_id) = (
        js(&browser, "clients.a.id").await?,
        js(&browser, "clients.b.id").await?,
    );

    // a joins: b hears of it, and presence lists both.
    assert_ok(
        &settle(&browser, "clients.a.channel('room:1').subscribe()").await?,
        "a subscribes",
    );
    browser
        .wait_for("a's join", "seen.join.length === 2")
        .await?;
    assert_eq!(
        js(&browser, "seen.join").await?,
        json!([{ "client": b_id }, { "client": a_id }]),
        "b's own join, then a's (open mode: no user or info)"
    );
    let presence = settle(&browser, "sub.presence()").await?;
    assert_ok(&presence, "presence()");
    assert_eq!(presence["value"]["count"], 2, "{presence}");
    let mut members: Vec<String> = presence["value"]["members"]
        .as_array()
        .expect("members listed")
        .iter()
        .map(|m| m["client"].as_str().unwrap().to_owned())
        .collect();
    members.sort();
    let mut expected = vec![
        a_id.as_str().unwrap().to_owned(),
        b_id.as_str().unwrap().to_owned(),
    ];
    expected.sort();
    assert_eq!(members, expected);

    // History: the latest, and what came after a position.
    let mut seqs = Vec::new();
    for n in 1..=5 {
        seqs.push(publish(&browser, "room:1", n).await?);
    }
    let latest = settle(&browser, "sub.history({ limit: 2 })").await?;
    assert_ok(&latest, "history({limit})");
    let value = &latest["value"];
    assert_eq!(value["seq"].as_u64(), Some(seqs[4]), "{latest}");
    let epoch = js(&browser, "seen.subscribed[0].epoch").await?;
    assert_eq!(value["epoch"], epoch);
    let data: Vec<&Value> = value["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| &m["data"])
        .collect();
    assert_eq!(data, [&json!(4), &json!(5)]);
    assert_eq!(value["messages"][0]["seq"].as_u64(), Some(seqs[3]));
    let after = settle(
        &browser,
        &format!(
            "sub.history({{ since: {{ epoch: {epoch}, seq: {} }} }})",
            seqs[1]
        ),
    )
    .await?;
    let data: Vec<&Value> = after["value"]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| &m["data"])
        .collect();
    assert_eq!(data, [&json!(3), &json!(4), &json!(5)], "{after}");

    // a leaves.
    assert_ok(
        &settle(&browser, "clients.a.channel('room:1').unsubscribe()").await?,
        "a unsubscribes",
    );
    browser
        .wait_for("the leave", "seen.leave.length === 1")
        .await?;
    assert_eq!(
        js(&browser, "seen.leave").await?,
        json!([{ "client": a_id }])
    );

    // What a namespace does not keep is "not_available"; bad options are refused.
    let no_presence = settle(&browser, "clients.b.channel('news').presence()").await?;
    assert_error(&no_presence, "not_available", "presence without presence");
    let no_history = settle(&browser, "clients.b.channel('quiet:1').history()").await?;
    assert_error(&no_history, "not_available", "history without history");
    let bad = settle(&browser, "sub.history({ limit: -1 })").await?;
    assert_error(&bad, "invalid_options", "a negative limit");
    assert_no_errors(&browser).await?;
    browser.quit().await
}
