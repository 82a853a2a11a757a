//! The browser SDK against a real howl in secured mode (`--token-secret`), in real headless
//! Chromium: token renewal with short-lived tokens, the server's refusals (4003, 4004),
//! server-side subscriptions and subscription tokens.
//!
//! The page's `getToken` and `getSubscriptionToken` fetch real HS256 JWTs, minted at that
//! moment by the test's [`TokenEndpoint`] (as an application backend would), on another
//! origin than the page. Waits poll the page with timeouts; nothing sleeps to let time pass.

use howl_e2e::sdk_page::{self, assert_error, assert_ok, connect, js, now_ms, settle};
use howl_e2e::token_endpoint::{query_param, Answer, TokenEndpoint};
use howl_e2e::{Browser, Site, ThreadedServer, WAIT};
use howl_testkit::token::{hs256, now_secs};
use serde_json::{json, Value};
use std::time::Duration;

const SECRET: &str = "e2e-token-secret";

/// How long connection tokens live in the renewal tests: a few renewals fit in one test.
const SHORT_LIFETIME_SECS: u64 = 4;

/// A connection token for `user`, expiring `secs` from now, subscribing `channels`.
fn connection_token(user: &str, secs: u64, channels: &[&str]) -> String {
    hs256(
        SECRET,
        &json!({ "sub": user, "exp": now_secs() + secs, "channels": channels }),
    )
}

/// A howl in secured mode serving the SDK pages, with `extra` flags.
fn secured_howl(site: &Site, extra: &[&str]) -> ThreadedServer {
    let dir = site.arg();
    let mut flags = vec!["--token-secret", SECRET, "--ui-dir", &dir];
    flags.extend_from_slice(extra);
    ThreadedServer::start(&flags)
}

/// Creates client `name` whose token callbacks fetch from `endpoint` (`getSubscriptionToken`
/// too when `subscription_tokens`), with `options`; returns the outcome of `opened()`.
async fn open_with_tokens(
    browser: &Browser,
    name: &str,
    endpoint: &TokenEndpoint,
    subscription_tokens: bool,
    options: Value,
) -> anyhow::Result<Value> {
    browser
        .eval_async(
            "const [name, base, subscriptionTokens, options, done] = arguments;
             const tokens = tokensFrom(base);
             window.tokens = Object.assign(window.tokens ?? {}, { [name]: tokens });
             const all = Object.assign({ getToken: tokens.getToken }, options);
             if (subscriptionTokens) all.getSubscriptionToken = tokens.getSubscriptionToken;
             outcome(track(name, '/ws', all).opened()).then(done);",
            vec![
                name.into(),
                endpoint.url.clone().into(),
                subscription_tokens.into(),
                options,
            ],
        )
        .await
}

/// The states a client went through, without ids.
async fn states(browser: &Browser, name: &str) -> anyhow::Result<Vec<String>> {
    let states = js(browser, &format!("logs.{name}.states.map(s => s.state)")).await?;
    Ok(serde_json::from_value(states)?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_token_renews_short_lived_tokens_without_reconnecting() -> anyhow::Result<()> {
    let site = Site::sdk()?;
    let howl = secured_howl(&site, &["--quote-interval", "0.2"]);
    let endpoint = TokenEndpoint::start(|_| {
        Answer::Token(connection_token("alice", SHORT_LIFETIME_SECS, &["alerts"]))
    })
    .await?;
    let browser = sdk_page::open(&howl).await?;
    let opened = open_with_tokens(&browser, "a", &endpoint, false, json!({})).await?;
    assert_ok(&opened, "opened()");
    let id = js(&browser, "clients.a.id").await?;

    // The token's `channels`: subscribed by the server, reported, and delivered.
    browser
        .wait_for(
            "the server-side subscription",
            "logs.a.subscribed.length === 1",
        )
        .await?;
    assert_eq!(js(&browser, "logs.a.subscribed").await?, json!(["alerts"]));
    assert_eq!(
        js(&browser, "clients.a.serverSubscriptions").await?,
        json!(["alerts"])
    );
    assert_eq!(js(&browser, "clients.a.subscriptions").await?, json!([]));
    assert_ok(
        &settle(&browser, "clients.a.subscribe()").await?,
        "subscribe()",
    );

    // Three renewals: each token was used for at most its 4 s, and renewed before it ran out.
    let renewals = browser
        .wait_for_within(
            "three renewals",
            "tokens.a.calls.length >= 4 && tokens.a.calls",
            WAIT + Duration::from_secs(10),
        )
        .await?;
    let at: Vec<u64> = renewals
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["at"].as_u64().unwrap())
        .collect();
    for pair in at.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(
            (2_000..SHORT_LIFETIME_SECS * 1000).contains(&gap),
            "a renewal {gap} ms after the previous token: {at:?}"
        );
    }
    // Quotes kept coming after the first three tokens expired.
    let renewed = at[3];
    browser
        .wait_for(
            "a quote after three expiries",
            &format!(
                "logs.a.messages.some(m => m.channel === 'wisdom' && m.time > {renewed} + 1000)"
            ),
        )
        .await?;
    let (status, body) = howl
        .post_json("/api/channels/alerts/publish", &json!({ "level": "high" }))
        .await;
    assert_eq!((status, &body["subscribers"]), (200, &json!(1)), "{body}");
    browser
        .wait_for(
            "the alert",
            "logs.a.messages.some(m => m.channel === 'alerts' && m.data.level === 'high')",
        )
        .await?;

    // One connection all along: same id, never reconnecting, one socket, still open.
    assert_eq!(js(&browser, "clients.a.id").await?, id);
    assert_eq!(states(&browser, "a").await?, ["open"]);
    assert_eq!(js(&browser, "clients.a.reconnectAttempt").await?, 0);
    let sockets = js(&browser, "__probe.sockets()").await?;
    assert_eq!(sockets.as_array().unwrap().len(), 1, "{sockets}");
    assert_eq!(sockets[0]["closeCode"], Value::Null, "{sockets}");
    assert_eq!(js(&browser, "logs.a.subscribed").await?, json!(["alerts"]));
    sdk_page::assert_no_errors(&browser).await?;
    browser.quit().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renewal_that_fails_ends_in_4004_and_a_reconnect_with_a_new_token() -> anyhow::Result<()>
{
    let site = Site::sdk()?;
    let howl = secured_howl(&site, &["--quote-interval", "0.2"]);
    let endpoint = TokenEndpoint::start(|_| {
        Answer::Token(connection_token("alice", SHORT_LIFETIME_SECS, &["alerts"]))
    })
    .await?;
    let browser = sdk_page::open(&howl).await?;
    let options = json!({ "reconnectInitialDelayMs": 50, "reconnectMaxDelayMs": 200 });
    assert_ok(
        &open_with_tokens(&browser, "a", &endpoint, false, options).await?,
        "opened()",
    );
    assert_ok(
        &settle(&browser, "clients.a.subscribe()").await?,
        "subscribe()",
    );
    let first_id = js(&browser, "clients.a.id").await?;
    // The auth backend is down when the renewal is due.
    browser.eval("tokens.a.failNext = true;", vec![]).await?;
    browser
        .wait_for(
            "the reconnect with a new token",
            "clients.a.state === 'open' && logs.a.states.length === 3",
        )
        .await?;
    let reopened = now_ms();

    assert_eq!(
        states(&browser, "a").await?,
        ["open", "reconnecting", "open"]
    );
    assert_ne!(js(&browser, "clients.a.id").await?, first_id);
    let errors = js(&browser, "logs.a.errors").await?;
    assert_eq!(errors.as_array().unwrap().len(), 1, "{errors}");
    assert_eq!(errors[0]["code"], "token_unavailable");
    assert!(
        errors[0]["message"]
            .as_str()
            .unwrap()
            .contains("the auth backend is down"),
        "{errors}"
    );
    assert_eq!(
        js(&browser, "tokens.a.calls.length").await?,
        3,
        "connect, the failed renewal, the reconnect"
    );
    let sockets = js(&browser, "__probe.sockets().map(s => s.closeCode)").await?;
    assert_eq!(
        sockets,
        json!([4004, null]),
        "the server closed the first at exp"
    );

    // The server subscribed the token's channels again; the client re-subscribed its own.
    browser
        .wait_for("alerts again", "logs.a.subscribed.length === 2")
        .await?;
    assert_eq!(
        js(&browser, "clients.a.serverSubscriptions").await?,
        json!(["alerts"])
    );
    browser
        .wait_for(
            "a quote on the new connection",
            &format!("logs.a.messages.some(m => m.channel === 'wisdom' && m.time > {reopened})"),
        )
        .await?;
    assert_eq!(js(&browser, "__probe.errors").await?, json!([]));
    browser.quit().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_closes_the_client_for_good_with_unauthorized() -> anyhow::Result<()> {
    let site = Site::sdk()?;
    let howl = secured_howl(&site, &["--quote-interval", "0"]);
    let forged = hs256(
        "not-the-secret",
        &json!({ "sub": "mallory", "exp": now_secs() + 60 }),
    );
    let endpoint = TokenEndpoint::start(move |_| Answer::Token(forged.clone())).await?;
    let browser = sdk_page::open(&howl).await?;
    let opened = open_with_tokens(&browser, "a", &endpoint, false, json!({})).await?;
    assert_error(&opened, "unauthorized", "opened()");

    assert_eq!(js(&browser, "clients.a.state").await?, "closed");
    let seen = js(
        &browser,
        "{ errors: logs.a.errors, calls: tokens.a.calls, sockets: __probe.sockets() }",
    )
    .await?;
    assert_eq!(
        states(&browser, "a").await?,
        ["closed"],
        "never reconnecting: {seen}"
    );
    let errors = js(&browser, "logs.a.errors.map(e => e.code)").await?;
    assert_eq!(errors, json!(["unauthorized"]));
    let sockets = js(&browser, "__probe.sockets().map(s => s.closeCode)").await?;
    assert_eq!(
        sockets,
        json!([4003]),
        "one socket, closed by the server with 4003"
    );
    assert_eq!(js(&browser, "tokens.a.calls.length").await?, 1);
    // Closed for good: no timer is left to try again.
    assert_eq!(js(&browser, "__probe.sdkTimers()").await?, 0);
    assert_eq!(js(&browser, "__probe.errors").await?, json!([]));
    browser.quit().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_static_token_connects_and_its_expiry_closes_with_token_expired() -> anyhow::Result<()> {
    let site = Site::sdk()?;
    let howl = secured_howl(&site, &["--quote-interval", "0"]);
    let browser = sdk_page::open(&howl).await?;
    let token = connection_token("bob", 2, &[]);
    connect(&browser, "a", json!({ "token": token })).await?;
    assert_error(
        &sdk_page::attempt(
            &browser,
            "new HowlClient('/ws', {token: 'x', getToken: () => 'y'})",
        )
        .await?,
        "invalid_options",
        "token and getToken",
    );
    browser
        .wait_for(
            "the expiry to close the client",
            "clients.a.state === 'closed'",
        )
        .await?;
    assert_eq!(states(&browser, "a").await?, ["open", "closed"]);
    let errors = js(&browser, "logs.a.errors.map(e => e.code)").await?;
    assert_eq!(errors, json!(["token_expired"]));
    let sockets = js(&browser, "__probe.sockets().map(s => s.closeCode)").await?;
    assert_eq!(
        sockets,
        json!([4004]),
        "no reconnect with the expired token"
    );
    assert_eq!(js(&browser, "__probe.sdkTimers()").await?, 0);
    browser.quit().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscription_tokens_open_token_namespaces() -> anyhow::Result<()> {
    let site = Site::sdk()?;
    let config = tempfile::NamedTempFile::new()?;
    std::fs::write(
        config.path(),
        "[[namespaces]]\nname = \"vip\"\nsubscribe = \"token\"\n",
    )?;
    let config_path = config.path().display().to_string();
    let howl = secured_howl(&site, &["--quote-interval", "0", "--config", &config_path]);
    let endpoint = TokenEndpoint::start(|target| {
        if target.starts_with("/token") {
            return Answer::Token(connection_token("alice", 60, &[]));
        }
        match query_param(target, "channel").as_deref() {
            Some("vip:lounge") => Answer::Token(hs256(
                SECRET,
                &json!({ "sub": "alice", "channel": "vip:lounge", "exp": now_secs() + 60 }),
            )),
            Some("vip:broken") => Answer::Unavailable,
            // vip:cellar (refused by the server without a token) and channels needing none.
            _ => Answer::NoToken,
        }
    })
    .await?;
    let browser = sdk_page::open(&howl).await?;
    assert_ok(
        &open_with_tokens(&browser, "a", &endpoint, true, json!({})).await?,
        "opened()",
    );

    assert_ok(
        &settle(&browser, "clients.a.subscribe('vip:lounge')").await?,
        "with its token",
    );
    assert_ok(
        &settle(&browser, "clients.a.subscribe('news')").await?,
        "needs none",
    );
    assert_error(
        &settle(&browser, "clients.a.subscribe('vip:cellar')").await?,
        "permission_denied",
        "without a token",
    );
    assert_error(
        &settle(&browser, "clients.a.subscribe('vip:broken')").await?,
        "token_unavailable",
        "getSubscriptionToken failed",
    );
    assert_eq!(
        js(&browser, "clients.a.subscriptions").await?,
        json!(["vip:lounge", "news"])
    );
    let asked = js(
        &browser,
        "tokens.a.calls.filter(c => c.kind === 'subscription').map(c => c.channel)",
    )
    .await?;
    assert_eq!(
        asked,
        json!(["vip:lounge", "news", "vip:cellar", "vip:broken"])
    );

    assert_eq!(howl.subscribers("vip:lounge").await, 1);
    let (status, _) = howl
        .post_json("/api/channels/vip:lounge/publish", &json!("welcome"))
        .await;
    assert_eq!(status, 200);
    browser
        .wait_for(
            "the lounge message",
            "logs.a.messages.some(m => m.channel === 'vip:lounge' && m.data === 'welcome')",
        )
        .await?;
    assert_eq!(js(&browser, "__probe.errors").await?, json!([]));
    browser.quit().await
}
