//! The browser SDK's channel API in real headless Chromium against a real howl:
//! `client.channel(name)` with its events and off-functions, `publish` resolved with the
//! confirmed `seq` or rejected with the server's code, and the publish queue across a
//! server restart.

use howl_e2e::sdk_page::{assert_error, assert_no_errors, assert_ok, connect, js, settle};
use howl_e2e::{sdk_page, Site, ThreadedServer};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channel_subscribes_listens_and_publishes_with_confirmation() -> anyhow::Result<()> {
    let site = Site::sdk()?;
    let howl = ThreadedServer::start(&["--quote-interval", "0", "--ui-dir", &site.arg()]);
    let browser = sdk_page::open(&howl).await?;
    connect(&browser, "a", json!({})).await?;
    connect(&browser, "b", json!({})).await?;

    // b listens on "news" through a Subscription; every event is recorded.
    browser
        .eval(
            "window.news = clients.b.channel('news');
             window.seen = { message: [], subscribed: [], unsubscribed: [], error: [] };
             window.offs = {};
             for (const name of Object.keys(seen)) {
               offs[name] = news.on(name, (x) => seen[name].push(x));
             }
             return null;",
            vec![],
        )
        .await?;
    assert_eq!(js(&browser, "news.name").await?, "news");
    assert_eq!(js(&browser, "news.subscribed").await?, false);
    assert_ok(&settle(&browser, "news.subscribe()").await?, "subscribe()");
    assert_ok(&settle(&browser, "news.ready()").await?, "ready()");
    assert_eq!(js(&browser, "news.subscribed").await?, true);
    assert_eq!(js(&browser, "seen.subscribed").await?, json!(["news"]));
    assert_eq!(howl.subscribers("news").await, 1);

    // a publishes: the promise resolves with the seq b receives the message with.
    let first = settle(&browser, "clients.a.channel('news').publish({ n: 1 })").await?;
    assert_ok(&first, "publish");
    let seq = first["value"]["seq"].as_u64().expect("a seq");
    let second = settle(&browser, "clients.a.channel('news').publish('two')").await?;
    assert_eq!(second["value"]["seq"].as_u64(), Some(seq + 1), "{second}");
    browser
        .wait_for("both messages", "seen.message.length === 2")
        .await?;
    let messages = js(&browser, "seen.message").await?;
    assert_eq!(messages[0]["data"], json!({ "n": 1 }));
    assert_eq!(messages[0]["seq"].as_u64(), Some(seq));
    assert_eq!(messages[1]["data"], "two");
    assert_eq!(messages[1]["seq"].as_u64(), Some(seq + 1));

    // excludeSelf: b's own publish is confirmed but not delivered back to it.
    let own = settle(&browser, "news.publish('mine', { excludeSelf: true })").await?;
    assert_eq!(own["value"]["seq"].as_u64(), Some(seq + 2), "{own}");

    // Refusals reject with the server's code, and only the promise hears of them.
    let refused = settle(&browser, "clients.a.channel('wisdom').publish('a quote?')").await?;
    assert_error(
        &refused,
        "permission_denied",
        "publishing to the quote channel",
    );
    let bad = settle(&browser, "clients.a.channel('bad name').publish(1)").await?;
    assert_error(&bad, "invalid_channel", "a bad channel name");
    let cyclic = settle(
        &browser,
        "(() => { const o = {}; o.o = o; return clients.a.channel('news').publish(o); })()",
    )
    .await?;
    assert_error(&cyclic, "invalid_data", "data that is not JSON");

    // The off-function removes a listener: a later message is not recorded.
    browser
        .eval("offs.message(); offs.message(); return null;", vec![])
        .await?;
    assert_ok(
        &settle(&browser, "clients.a.channel('news').publish('after off')").await?,
        "publish after off",
    );
    browser
        .wait_for(
            "the message through the deprecated onMessage",
            "logs.b.messages.some((m) => m.data === 'after off')",
        )
        .await?;
    assert_eq!(js(&browser, "seen.message.length").await?, 2);

    // Unsubscribe: the "unsubscribed" event, and the server agrees.
    assert_ok(
        &settle(&browser, "news.unsubscribe()").await?,
        "unsubscribe()",
    );
    assert_eq!(js(&browser, "seen.unsubscribed").await?, json!(["news"]));
    assert_eq!(js(&browser, "news.subscribed").await?, false);
    assert_eq!(howl.subscribers("news").await, 0);
    assert_eq!(js(&browser, "seen.error").await?, json!([]));

    // An unknown event name is refused.
    let unknown = js(&browser, "attempt(() => news.on('nope', () => {}))").await?;
    assert_error(&unknown, "invalid_options", "an unknown event name");
    assert_no_errors(&browser).await?;
    browser.quit().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_publishes_is_rejected_with_rate_limited() -> anyhow::Result<()> {
    let site = Site::sdk()?;
    let howl = ThreadedServer::start(&[
        "--quote-interval",
        "0",
        "--publish-rate",
        "0.1",
        "--publish-burst",
        "2",
        "--ui-dir",
        &site.arg(),
    ]);
    let browser = sdk_page::open(&howl).await?;
    connect(&browser, "a", json!({})).await?;
    let outcomes = settle(
        &browser,
        "Promise.all([1, 2, 3, 4].map((n) => outcome(clients.a.channel('news').publish(n))))",
    )
    .await?;
    let outcomes = outcomes["value"].as_array().unwrap().clone();
    assert_ok(&outcomes[0], "the first publish");
    assert_ok(&outcomes[1], "the second publish (burst 2)");
    for refused in &outcomes[2..] {
        assert_error(refused, "rate_limited", "a publish over the burst");
    }
    browser.quit().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishes_wait_while_the_server_restarts_in_a_bounded_queue() -> anyhow::Result<()> {
    let site = Site::sdk()?;
    let mut howl = ThreadedServer::start(&["--quote-interval", "0", "--ui-dir", &site.arg()]);
    let browser = sdk_page::open(&howl).await?;
    let options = json!({
        "publishQueueLimit": 2,
        "reconnectInitialDelayMs": 200,
        "reconnectMaxDelayMs": 400,
        "requestTimeoutMs": 30000,
    });
    connect(&browser, "a", options).await?;

    howl.stop();
    browser
        .wait_for("a reconnecting", "clients.a.state === 'reconnecting'")
        .await?;
    // Two publishes wait; the third finds the queue full at once.
    browser
        .eval(
            "const news = clients.a.channel('news');
             window.queued = [outcome(news.publish('q1')), outcome(news.publish('q2'))];
             return null;",
            vec![],
        )
        .await?;
    let full = settle(&browser, "clients.a.channel('news').publish('q3')").await?;
    assert_error(&full, "publish_queue_full", "a third publish while down");

    howl.restart();
    let queued = settle(&browser, "Promise.all(queued)").await?;
    let queued = queued["value"].as_array().unwrap().clone();
    assert_ok(&queued[0], "q1 after the restart");
    assert_ok(&queued[1], "q2 after the restart");
    let (s1, s2) = (
        queued[0]["value"]["seq"].as_u64().unwrap(),
        queued[1]["value"]["seq"].as_u64().unwrap(),
    );
    assert_eq!(s2, s1 + 1, "sent in order: {queued:?}");
    // The refused publish was never sent: the next one follows q2 directly. (Whether b got
    // q1 and q2 depends on which client reconnected first; the hub keeps no history.)
    let next = settle(&browser, "clients.a.channel('news').publish('next')").await?;
    assert_eq!(next["value"]["seq"].as_u64(), Some(s2 + 1), "{next}");

    // Queued too long: rejected with "timeout" (the request timeout, queued time included).
    connect(
        &browser,
        "t",
        json!({ "requestTimeoutMs": 1000, "reconnectInitialDelayMs": 200 }),
    )
    .await?;
    howl.stop();
    browser
        .wait_for("t reconnecting", "clients.t.state === 'reconnecting'")
        .await?;
    let late = settle(&browser, "clients.t.channel('news').publish('late')").await?;
    assert_error(
        &late,
        "timeout",
        "a publish queued past the request timeout",
    );
    howl.restart();
    assert_no_errors(&browser).await?;
    browser.quit().await
}
