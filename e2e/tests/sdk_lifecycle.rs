//! The browser SDK's lifecycle in real headless Chromium against a real howl: client-level
//! events, `connect` with a timeout or an `AbortSignal`, `close()` / `free()` /
//! `Symbol.dispose` / `Symbol.asyncDispose` closing the socket, a page hidden for longer
//! than the server's heartbeat timeout staying connected, and no reconnect attempts while
//! offline.

use howl_e2e::sdk_page::{assert_error, assert_no_errors, assert_ok, connect, js, settle};
use howl_e2e::{sdk_page, Site, ThreadedServer};
use serde_json::json;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_events_follow_a_server_restart() -> anyhow::Result<()> {
    let site = Site::sdk()?;
    let mut howl = ThreadedServer::start(&["--quote-interval", "0", "--ui-dir", &site.arg()]);
    let browser = sdk_page::open(&howl).await?;
    let options = json!({ "reconnectInitialDelayMs": 200, "reconnectMaxDelayMs": 400 });
    browser
        .eval(
            "const [options] = arguments;
             const client = track('a', '/ws', options);
             window.events = [];
             window.offs = ['state', 'connecting', 'connected', 'disconnected', 'error']
               .map((name) => client.on(name, (x) => events.push({ name, x })));
             return null;",
            vec![options],
        )
        .await?;
    assert_ok(&settle(&browser, "clients.a.opened()").await?, "opened");
    let first_id = js(&browser, "clients.a.id").await?;
    assert_eq!(
        js(&browser, "events").await?,
        json!([
            { "name": "state", "x": "open" },
            { "name": "connected", "x": { "clientId": first_id } },
        ])
    );

    howl.stop(); // graceful: close 1001
    browser
        .wait_for(
            "a scheduled reconnect",
            "events.some((e) => e.name === 'connecting')",
        )
        .await?;
    howl.restart();
    browser
        .wait_for(
            "connected again",
            "events.filter((e) => e.name === 'connected').length === 2",
        )
        .await?;
    let events = js(&browser, "events").await?;
    let events = events.as_array().unwrap();
    let disconnected = events.iter().find(|e| e["name"] == "disconnected").unwrap();
    assert_eq!(disconnected["x"]["code"], 1001, "{events:?}");
    assert_eq!(disconnected["x"]["willReconnect"], true, "{events:?}");
    assert!(disconnected["x"]["reason"]
        .as_str()
        .unwrap()
        .contains("1001"));
    let connecting = events.iter().find(|e| e["name"] == "connecting").unwrap();
    assert_eq!(connecting["x"]["attempt"], 1, "{events:?}");
    assert!(connecting["x"]["delayMs"].as_u64().unwrap() <= 200);
    assert!(events
        .iter()
        .any(|e| e["name"] == "state" && e["x"] == "reconnecting"));
    let second_id = js(&browser, "clients.a.id").await?;
    assert_ne!(second_id, first_id);
    let last = events.last().unwrap();
    assert_eq!(
        last,
        &json!({ "name": "connected", "x": { "clientId": second_id } })
    );

    // The off-functions remove every listener: close() is heard by none of them.
    browser
        .eval("offs.forEach((off) => off()); return null;", vec![])
        .await?;
    let before = events.len();
    browser
        .eval("clients.a.close(); return null;", vec![])
        .await?;
    assert_eq!(js(&browser, "clients.a.state").await?, "closed");
    assert_eq!(js(&browser, "events.length").await?, before);
    assert_no_errors(&browser).await?;
    browser.quit().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_settles_on_timeout_and_abort_and_closes_the_client() -> anyhow::Result<()> {
    let site = Site::sdk()?;
    let mut howl = ThreadedServer::start(&["--quote-interval", "0", "--ui-dir", &site.arg()]);
    let browser = sdk_page::open(&howl).await?;
    let url = howl.ws_url();
    // Nobody listens any more: every attempt fails and the client keeps retrying.
    howl.stop();
    let timed_out = settle(
        &browser,
        &format!("HowlClient.connect('{url}', {{ timeout: 500, reconnectInitialDelayMs: 50 }})"),
    )
    .await?;
    assert_error(&timed_out, "timeout", "connect with a timeout");

    let aborted = settle(
        &browser,
        &format!(
            "(() => {{ const c = new AbortController();
                       setTimeout(() => c.abort(), 300);
                       return HowlClient.connect('{url}', {{ signal: c.signal, reconnectInitialDelayMs: 50 }}); }})()"
        ),
    )
    .await?;
    assert_error(&aborted, "aborted", "connect with a signal that aborts");
    let early = settle(
        &browser,
        &format!("HowlClient.connect('{url}', {{ signal: AbortSignal.abort() }})"),
    )
    .await?;
    assert_error(&early, "aborted", "connect with an aborted signal");
    let bad = settle(
        &browser,
        &format!("HowlClient.connect('{url}', {{ timeout: 'soon' }})"),
    )
    .await?;
    assert_error(&bad, "invalid_options", "a bad timeout");

    // Both clients were closed: no SDK timer left, every socket closed by the client.
    browser
        .wait_for("no SDK timer", "__probe.sdkTimers() === 0")
        .await?;
    let sockets = js(&browser, "__probe.sockets()").await?;
    assert!(!sockets.as_array().unwrap().is_empty());
    for socket in sockets.as_array().unwrap() {
        assert_eq!(socket["readyState"], 3, "closed: {sockets}");
    }

    // With a server, connect resolves well within the timeout.
    howl.restart();
    let opened = settle(
        &browser,
        &format!(
            "HowlClient.connect('{url}', {{ timeout: 5000 }}).then((c) => (window.c = c, c.state))"
        ),
    )
    .await?;
    assert_eq!(opened["value"], "open", "{opened}");
    browser.quit().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_free_and_dispose_close_the_socket() -> anyhow::Result<()> {
    let site = Site::sdk()?;
    let howl = ThreadedServer::start(&["--quote-interval", "0", "--ui-dir", &site.arg()]);
    let browser = sdk_page::open(&howl).await?;
    let ways = [
        ("closed", "clients.closed.close()"),
        ("freed", "clients.freed.free()"),
        ("disposed", "clients.disposed[Symbol.dispose]()"),
        ("async", "clients.async[Symbol.asyncDispose]()"),
    ];
    for (index, (name, how)) in ways.iter().enumerate() {
        connect(&browser, name, json!({})).await?;
        assert_ok(&settle(&browser, how).await?, how);
        let socket = js(&browser, &format!("__probe.sockets()[{index}]")).await?;
        assert_eq!(
            socket["closeCalls"],
            json!([[1000, "client disconnect"]]),
            "{how} closes the socket: {socket}"
        );
        browser
            .wait_for(
                &format!("{how}: the close handshake with 1000"),
                &format!("__probe.sockets()[{index}].closeCode === 1000"),
            )
            .await?;
        assert_eq!(
            socket["handlers"], 0,
            "{how} detaches the handlers: {socket}"
        );
    }
    assert_eq!(
        js(&browser, "logs.closed.states.at(-1).state").await?,
        "closed"
    );
    browser
        .wait_for("no SDK timer", "__probe.sdkTimers() === 0")
        .await?;
    assert_no_errors(&browser).await?;
    browser.quit().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hidden_page_stays_connected_with_the_same_id() -> anyhow::Result<()> {
    let site = Site::sdk()?;
    let howl = ThreadedServer::start(&[
        "--quote-interval",
        "0",
        "--heartbeat-timeout",
        "2",
        "--ws-ping-interval",
        "0.5",
        "--ui-dir",
        &site.arg(),
    ]);
    let browser = sdk_page::open(&howl).await?;
    // The page's visibility, under the test's control; every frame the SDK sends, recorded.
    browser
        .eval(
            "window.visibility = 'visible';
             Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => visibility });
             Object.defineProperty(document, 'hidden', { configurable: true, get: () => visibility === 'hidden' });
             window.setVisibility = (v) => { const at = performance.now(); visibility = v; document.dispatchEvent(new Event('visibilitychange')); return at; };
             window.sent = [];
             const send = WebSocket.prototype.send;
             WebSocket.prototype.send = function (frame) {
               sent.push({ type: JSON.parse(frame).type, at: performance.now() });
               return send.call(this, frame);
             };
             return null;",
            vec![],
        )
        .await?;
    connect(
        &browser,
        "a",
        json!({ "pingIntervalMs": 400, "pongTimeoutMs": 1500 }),
    )
    .await?;
    browser
        .eval(
            "window.drops = []; clients.a.on('disconnected', (d) => drops.push(d)); return null;",
            vec![],
        )
        .await?;
    let id = js(&browser, "clients.a.id").await?;
    browser
        .wait_for(
            "pings while visible",
            "sent.filter((f) => f.type === 'ping').length >= 2",
        )
        .await?;

    // Hidden: no more pings, although the page's timers still run.
    let hidden_at = js(&browser, "setVisibility('hidden')")
        .await?
        .as_f64()
        .unwrap();
    // Hidden for twice the server's heartbeat timeout: the SDK sends nothing, so only the
    // browser's own answers to the server's WebSocket Pings keep the connection. (Freezing
    // the page with CDP `Page.setWebLifecycleState` instead makes Chromium drop the socket
    // with 1006, like it does for frozen pages: not a state a live tab is in.)
    tokio::time::sleep(Duration::from_millis(4_000)).await;
    let pings_while_hidden = js(
        &browser,
        &format!("sent.filter((f) => f.at > {hidden_at}).length"),
    )
    .await?;
    assert_eq!(pings_while_hidden, 0, "nothing sent while hidden");

    // Shown again: a liveness ping at once, answered; same connection.
    let shown_at = js(&browser, "setVisibility('visible')")
        .await?
        .as_f64()
        .unwrap();
    let first_ping = browser
        .wait_for(
            "a ping on show",
            &format!("sent.find((f) => f.type === 'ping' && f.at >= {shown_at})"),
        )
        .await?;
    let delay = first_ping["at"].as_f64().unwrap() - shown_at;
    assert!(
        delay < 100.0,
        "the ping went out at once, not after the interval: {delay} ms"
    );
    let ack = settle(&browser, "clients.a.channel('news').publish('still here')").await?;
    assert_ok(&ack, "a publish after the page was shown");
    tokio::time::sleep(Duration::from_millis(1_600)).await; // past the pong timeout
    assert_eq!(js(&browser, "clients.a.state").await?, "open");
    assert_eq!(
        js(&browser, "clients.a.id").await?,
        id,
        "the same connection"
    );
    assert_eq!(
        js(&browser, "drops").await?,
        json!([]),
        "never disconnected"
    );
    assert_eq!(
        js(&browser, "__probe.sockets().length").await?,
        1,
        "one socket"
    );
    assert_no_errors(&browser).await?;
    browser.quit().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_no_attempts_are_made_and_online_reconnects_at_once() -> anyhow::Result<()> {
    let site = Site::sdk()?;
    let mut howl = ThreadedServer::start(&["--quote-interval", "0", "--ui-dir", &site.arg()]);
    let browser = sdk_page::open(&howl).await?;
    // `navigator.onLine` and the `online`/`offline` events, under the test's control.
    browser
        .eval(
            "window.onLine = true;
             Object.defineProperty(Navigator.prototype, 'onLine', { configurable: true, get: () => onLine });
             window.setOnline = (v) => { onLine = v; window.dispatchEvent(new Event(v ? 'online' : 'offline')); };
             return null;",
            vec![],
        )
        .await?;
    connect(
        &browser,
        "a",
        json!({ "reconnectInitialDelayMs": 100, "reconnectMaxDelayMs": 200 }),
    )
    .await?;
    browser
        .eval("setOnline(false); return null;", vec![])
        .await?;
    howl.stop();
    browser
        .wait_for("the loss", "clients.a.state === 'reconnecting'")
        .await?;
    // Ten times the longest backoff delay: not a single attempt while offline.
    tokio::time::sleep(Duration::from_millis(2_000)).await;
    assert_eq!(
        js(&browser, "__probe.sockets().length").await?,
        1,
        "no attempt while offline"
    );
    assert_eq!(
        js(&browser, "__probe.sdkTimers()").await?,
        0,
        "no timer spinning"
    );

    howl.restart();
    browser
        .eval("setOnline(true); return null;", vec![])
        .await?;
    assert_eq!(
        js(&browser, "__probe.sockets().length").await?,
        2,
        "an attempt at once on `online`"
    );
    browser
        .wait_for("open again", "clients.a.state === 'open'")
        .await?;
    assert_no_errors(&browser).await?;
    browser.quit().await
}
