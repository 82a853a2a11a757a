//! The browser SDK in real headless Chromium against a real howl.
//!
//! Each test serves the built SDK (plus the README example and a test page) through
//! `howl --ui-dir`, drives `HowlClient` from the page with WebDriver and asserts on what the
//! page recorded (`window.logs`) and on what the probe injected before page load reports
//! (`window.__probe`: the SDK's pending timers, its WebSockets, console errors).

use howl_e2e::sdk_page::{
    assert_error, assert_no_errors, assert_ok, attempt, connect, js, now_ms, settle,
};
use howl_e2e::site::PROBE_SCRIPT;
use howl_e2e::{sdk_page, wait, Browser, Site, ThreadedServer, WAIT};
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_subscribe_receive_and_unsubscribe() -> anyhow::Result<()> {
    let site = Site::sdk()?;
    let howl = ThreadedServer::start(&["--quote-interval", "0.2", "--ui-dir", &site.arg()]);
    let browser = sdk_page::open(&howl).await?;

    // Handshake: open, with the id the server assigned (a UUID).
    connect(&browser, "a", json!({})).await?;
    let a = js(
        &browser,
        "{ state: clients.a.state, id: clients.a.id, states: logs.a.states }",
    )
    .await?;
    assert_eq!(a["state"], "open");
    let id = a["id"].as_str().unwrap();
    assert_eq!(id.len(), 36, "a UUID: {id}");
    assert_eq!(a["states"], json!([{ "state": "open", "id": id }]));

    // Subscribe without a channel: the quote channel, confirmed by the server.
    assert_ok(
        &settle(&browser, "clients.a.subscribe()").await?,
        "subscribe()",
    );
    assert_eq!(howl.subscribers("wisdom").await, 1);
    assert_eq!(
        js(&browser, "clients.a.subscriptions").await?,
        json!(["wisdom"])
    );
    browser
        .wait_for("three quotes", "logs.a.messages.length >= 3")
        .await?;
    let quotes = js(&browser, "logs.a.messages").await?;
    let quotes = quotes.as_array().unwrap();
    let now = now_ms();
    for pair in quotes.windows(2) {
        assert_eq!(
            pair[1]["seq"].as_u64().unwrap(),
            pair[0]["seq"].as_u64().unwrap() + 1,
            "consecutive sequence numbers: {quotes:?}"
        );
    }
    for quote in quotes {
        assert_eq!(quote["channel"], "wisdom");
        assert!(
            !quote["data"].as_str().unwrap().is_empty(),
            "a quote's text: {quote}"
        );
        let time = quote["time"].as_u64().unwrap();
        assert!(
            time <= now && now - time < 60_000,
            "server time {time} vs now {now}"
        );
    }

    // Unsubscribe: confirmed, and no quote arrives any more while a witness keeps getting them.
    connect(&browser, "witness", json!({})).await?;
    assert_ok(
        &settle(&browser, "clients.witness.subscribe('wisdom')").await?,
        "witness",
    );
    assert_ok(
        &settle(&browser, "clients.a.unsubscribe()").await?,
        "unsubscribe()",
    );
    assert_eq!(js(&browser, "clients.a.subscriptions").await?, json!([]));
    let received = js(&browser, "logs.a.messages.length").await?;
    let seen = js(&browser, "logs.witness.messages.length")
        .await?
        .as_u64()
        .unwrap();
    browser
        .wait_for(
            "three more quotes at the witness",
            &format!("logs.witness.messages.length >= {}", seen + 3),
        )
        .await?;
    assert_eq!(
        js(&browser, "logs.a.messages.length").await?,
        received,
        "no quote after unsubscribe"
    );
    assert_eq!(
        howl.subscribers("wisdom").await,
        1,
        "only the witness is left"
    );

    // While open, the SDK keeps exactly one timer pending per client (no leak per tick).
    assert_eq!(js(&browser, "__probe.sdkTimers()").await?, 2);
    assert_no_errors(&browser).await?;
    browser.quit().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_round_trip_between_two_clients_and_errors_with_codes() -> anyhow::Result<()> {
    let site = Site::sdk()?;
    let howl = ThreadedServer::start(&[
        "--quote-interval",
        "0",
        "--max-subscriptions",
        "2",
        "--ui-dir",
        &site.arg(),
    ]);
    let browser = sdk_page::open(&howl).await?;
    connect(&browser, "a", json!({})).await?;
    connect(&browser, "b", json!({})).await?;
    for name in ["a", "b"] {
        assert_ok(
            &settle(&browser, &format!("clients.{name}.subscribe('room:1')")).await?,
            name,
        );
    }

    // a → b, excluding a itself.
    let published = attempt(
        &browser,
        "clients.a.publish('room:1', {text: 'hi', n: 1}, {excludeSelf: true})",
    )
    .await?;
    assert_ok(&published, "publish");
    let got = browser
        .wait_for("b to receive a's message", "logs.b.messages[0]")
        .await?;
    assert_eq!(got["channel"], "room:1");
    assert_eq!(got["data"], json!({"text": "hi", "n": 1}));
    assert_eq!(got["seq"], 1);
    assert!(got["time"].as_u64().is_some());
    // Without excludeSelf a gets its own message, and only that one.
    assert_ok(
        &attempt(&browser, "clients.a.publish('room:1', [1, 'two', null])").await?,
        "publish",
    );
    browser
        .wait_for("a's own message", "logs.a.messages.length === 1")
        .await?;
    assert_eq!(
        js(&browser, "logs.a.messages[0].data").await?,
        json!([1, "two", null])
    );
    assert_eq!(js(&browser, "logs.a.messages[0].seq").await?, 2);
    browser
        .wait_for("b's second message", "logs.b.messages.length === 2")
        .await?;
    // b → a.
    assert_ok(
        &attempt(
            &browser,
            "clients.b.publish('room:1', 'from b', {excludeSelf: true})",
        )
        .await?,
        "b",
    );
    let got = browser
        .wait_for("a to receive b's message", "logs.a.messages[1]")
        .await?;
    assert_eq!(got["data"], "from b");
    assert_eq!(got["seq"], 3);

    // Errors are Error objects with a code: refused by the client …
    assert_error(
        &attempt(&browser, "clients.a.publish('bad channel', 1)").await?,
        "invalid_channel",
        "publish",
    );
    assert_error(
        &attempt(&browser, "clients.a.publish('room:1', undefined)").await?,
        "invalid_data",
        "publish",
    );
    assert_error(
        &attempt(&browser, "clients.a.publish('room:1', 'x'.repeat(70000))").await?,
        "message_too_large",
        "publish",
    );
    assert_error(
        &settle(&browser, "clients.a.subscribe('bad channel')").await?,
        "invalid_channel",
        "subscribe",
    );
    assert_error(
        &attempt(&browser, "new HowlClient('ftp://example.com/ws')").await?,
        "invalid_url",
        "url",
    );
    assert_error(
        &attempt(&browser, "new HowlClient('/ws', {pingIntervalMs: 'often'})").await?,
        "invalid_options",
        "options",
    );
    assert_error(
        &attempt(&browser, "new HowlClient('/ws', {reconnectJitter: 3})").await?,
        "invalid_config",
        "options",
    );
    // … and by the server: its error frame rejects the matching promise.
    assert_ok(
        &settle(&browser, "clients.a.subscribe('room:2')").await?,
        "second subscription",
    );
    let refused = settle(&browser, "clients.a.subscribe('room:3')").await?;
    assert_error(&refused, "too_many_subscriptions", "third subscription");
    assert_eq!(
        js(&browser, "clients.a.subscriptions").await?,
        json!(["room:1", "room:2"])
    );
    // A server that does not speak WebSocket there, with reconnect off: connect() rejects.
    let failed = settle(
        &browser,
        "HowlClient.connect('/no-such-endpoint', {reconnect: false})",
    )
    .await?;
    assert_error(&failed, "connection_failed", "connect");

    assert_no_errors(&browser).await?;
    browser.quit().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnects_and_resubscribes_after_the_server_restarts() -> anyhow::Result<()> {
    let site = Site::sdk()?;
    let mut howl = ThreadedServer::start(&["--quote-interval", "0.2", "--ui-dir", &site.arg()]);
    let browser = sdk_page::open(&howl).await?;
    let options = json!({
        "pingIntervalMs": 1000,
        "reconnectInitialDelayMs": 50,
        "reconnectMaxDelayMs": 400,
    });
    connect(&browser, "a", options).await?;
    assert_ok(
        &settle(&browser, "clients.a.subscribe()").await?,
        "subscribe()",
    );
    assert_ok(
        &settle(&browser, "clients.a.subscribe('news')").await?,
        "subscribe('news')",
    );
    browser
        .wait_for("a quote", "logs.a.messages.length >= 1")
        .await?;
    let mut id = js(&browser, "clients.a.id").await?;

    for (round, abrupt) in [(1, false), (2, true)] {
        let states_before = js(&browser, "logs.a.states.length").await?;
        if abrupt {
            howl.kill(); // sockets drop without a close frame (1006)
        } else {
            howl.stop(); // graceful: close 1001
        }
        browser
            .wait_for(
                "the client to notice and retry",
                &format!("logs.a.states.length > {states_before} && clients.a.state === 'reconnecting' && clients.a.reconnectAttempt >= 2"),
            )
            .await?;
        assert_eq!(
            js(&browser, "clients.a.id").await?,
            Value::Null,
            "no id while down"
        );
        let restarted_at = now_ms();
        howl.restart();
        browser
            .wait_for("the client to reopen", "clients.a.state === 'open'")
            .await?;
        let new_id = js(&browser, "clients.a.id").await?;
        assert_ne!(new_id, id, "round {round}: a new connection has a new id");
        id = new_id;
        // Re-subscribed to both channels: quotes flow again (the new server counts from 1
        // again, which is not mistaken for duplicates) and named channels get messages.
        browser
            .wait_for(
                "a quote from the restarted server",
                &format!(
                    "logs.a.messages.some(m => m.channel === 'wisdom' && m.time >= {restarted_at})"
                ),
            )
            .await?;
        wait::until("the news re-subscription", WAIT, || async {
            Ok((howl.subscribers("news").await == 1).then_some(()))
        })
        .await?;
        let (status, body) = howl
            .post_json("/api/channels/news/publish", &json!({ "round": round }))
            .await;
        assert_eq!((status, &body["subscribers"]), (200, &json!(1)), "{body}");
        browser
            .wait_for(
                "the news message",
                &format!(
                    "logs.a.messages.some(m => m.channel === 'news' && m.data.round === {round})"
                ),
            )
            .await?;
        assert_eq!(
            js(&browser, "clients.a.subscriptions").await?,
            json!(["wisdom", "news"])
        );
    }

    let states: Vec<String> =
        serde_json::from_value(js(&browser, "logs.a.states.map(s => s.state)").await?)?;
    assert_eq!(
        states,
        ["open", "reconnecting", "open", "reconnecting", "open"]
    );
    let duplicates = js(
        &browser,
        "(() => { const seen = new Set(); return logs.a.messages.filter(m => { const k = m.channel + ' ' + m.seq + ' ' + m.time; const dup = seen.has(k); seen.add(k); return dup; }).length; })()",
    )
    .await?;
    assert_eq!(duplicates, 0);
    assert_no_errors(&browser).await?;
    browser.quit().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disconnect_stops_every_timer_closes_with_1000_and_releases_callbacks() -> anyhow::Result<()>
{
    let site = Site::sdk()?;
    let howl = ThreadedServer::start(&["--quote-interval", "0.2", "--ui-dir", &site.arg()]);
    let browser = sdk_page::open(&howl).await?;

    // A witness in an iframe: its own window, so its timers are not counted with the page's.
    browser
        .eval(
            "const f = document.createElement('iframe'); f.src = 'sdk.html'; document.body.append(f);",
            vec![],
        )
        .await?;
    browser
        .wait_for(
            "the witness frame",
            "document.querySelector('iframe').contentWindow.sdkReady",
        )
        .await?;
    let witness = browser
        .eval_async(
            "const w = document.querySelector('iframe').contentWindow;
             const done = arguments[arguments.length - 1];
             w.outcome(w.track('w', '/ws', {}).subscribe()).then(done);",
            vec![],
        )
        .await?;
    assert_ok(&witness, "witness subscribe");

    // The client under test, with callbacks only the SDK references, watched for collection.
    let opened = browser
        .eval_async(
            "const done = arguments[arguments.length - 1];
             window.finalized = 0;
             const hub = new FinalizationRegistry(() => { window.finalized += 1; });
             window.hub = hub;
             const client = track('a', '/ws', { pingIntervalMs: 300 });
             (() => {
               const callbacks = [(s) => {}, (m) => {}, (e) => {}];
               client.onStateChange(callbacks[0]);
               client.onMessage(callbacks[1]);
               client.onError(callbacks[2]);
               callbacks.forEach((f) => hub.register(f, 'callback'));
             })();
             outcome(client.opened()).then(done);",
            vec![],
        )
        .await?;
    assert_ok(&opened, "open");
    assert_ok(
        &settle(&browser, "clients.a.subscribe()").await?,
        "subscribe()",
    );
    browser
        .wait_for("quotes", "logs.a.messages.length >= 3")
        .await?;
    // Pings every 300 ms and quotes every 200 ms ran meanwhile: still exactly one timer.
    assert_eq!(js(&browser, "__probe.sdkTimers()").await?, 1);

    let after = js(
        &browser,
        "(() => { clients.a.disconnect(); return {
            state: clients.a.state,
            last: logs.a.states.at(-1).state,
            timers: __probe.sdkTimers(),
            sockets: __probe.sockets(),
            messages: logs.a.messages.length,
        }; })()",
    )
    .await?;
    assert_eq!(after["state"], "closed");
    assert_eq!(after["last"], "closed", "listeners got the final state");
    assert_eq!(after["timers"], 0, "no timer left: {after}");
    let sockets = after["sockets"].as_array().unwrap();
    assert_eq!(sockets.len(), 1, "{sockets:?}");
    assert_eq!(
        sockets[0]["closeCalls"],
        json!([[1000, "client disconnect"]])
    );
    assert!(
        sockets[0]["readyState"].as_u64().unwrap() >= 2,
        "closing or closed"
    );
    assert_eq!(sockets[0]["handlers"], 0, "socket handlers detached");

    // The server saw it go (it sent `disconnect`), the witness keeps receiving, and nothing
    // in the page wakes up again.
    wait::until("the server to drop the subscription", WAIT, || async {
        Ok((howl.subscribers("wisdom").await == 1).then_some(()))
    })
    .await?;
    let seen = js(
        &browser,
        "document.querySelector('iframe').contentWindow.logs.w.messages.length",
    )
    .await?;
    browser
        .wait_for(
            "five more quotes at the witness",
            &format!(
                "document.querySelector('iframe').contentWindow.logs.w.messages.length >= {} ",
                seen.as_u64().unwrap() + 5
            ),
        )
        .await?;
    assert_eq!(js(&browser, "__probe.sdkTimers()").await?, 0);
    assert_eq!(
        js(&browser, "logs.a.messages.length").await?,
        after["messages"]
    );
    assert_eq!(
        js(&browser, "__probe.sockets().length").await?,
        1,
        "no reconnect"
    );

    // Commands after disconnect fail with "closed".
    assert_error(
        &settle(&browser, "clients.a.subscribe('news')").await?,
        "closed",
        "subscribe",
    );
    assert_error(
        &attempt(&browser, "clients.a.publish('news', 1)").await?,
        "closed",
        "publish",
    );

    // Every callback was released: garbage collection can reclaim all three.
    browser
        .wait_for(
            "the callbacks to be collected",
            "(gc(), window.finalized === 3)",
        )
        .await?;
    assert_no_errors(&browser).await?;
    browser.quit().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_example_page_works() -> anyhow::Result<()> {
    let site = Site::sdk()?;
    let howl = ThreadedServer::start(&["--quote-interval", "0.2", "--ui-dir", &site.arg()]);
    let browser = Browser::launch().await?;
    browser.add_init_script(PROBE_SCRIPT).await?;
    browser.goto(&howl.http_url("/")).await?;
    browser
        .wait_for(
            "the state to show open",
            "document.getElementById('state').textContent === 'open'",
        )
        .await?;
    let id = js(&browser, "document.getElementById('client-id').textContent").await?;
    assert_eq!(id.as_str().unwrap().len(), 36, "the id is shown: {id}");
    browser
        .wait_for(
            "two quotes listed",
            "document.querySelectorAll('#messages li').length >= 2",
        )
        .await?;
    let first = js(
        &browser,
        "document.querySelector('#messages li').textContent",
    )
    .await?;
    assert!(first.as_str().unwrap().contains(" wisdom #"), "{first}");
    browser.screenshot("sdk-readme-example").await?;

    browser
        .eval("document.getElementById('disconnect').click();", vec![])
        .await?;
    browser
        .wait_for(
            "the state to show closed",
            "document.getElementById('state').textContent === 'closed'",
        )
        .await?;
    assert_eq!(js(&browser, "__probe.sdkTimers()").await?, 0);
    assert_eq!(js(&browser, "__probe.errors").await?, json!([]));
    browser.quit().await
}
