//! Subscription tokens: asked for before every subscribe (re-subscriptions included), sent in
//! `subscribe`, and what happens when there is none or the server refuses.

mod common;
use common::*;
use howl_client_core::*;

fn asking() -> ClientConfig {
    ClientConfig {
        get_subscription_token: true,
        ..config()
    }
}

/// The subscription token requests among `outputs`.
fn asked(outputs: &[Output]) -> Vec<(TokenRequestId, String)> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::GetSubscriptionToken { request, channel } => Some((*request, channel.clone())),
            _ => None,
        })
        .collect()
}

fn answer(
    d: &mut Driver,
    request: TokenRequestId,
    token: Result<Option<&str>, &str>,
) -> Vec<Output> {
    let token = token.map(|t| t.map(str::to_owned)).map_err(str::to_owned);
    d.s.provide_subscription_token(request, token, d.now);
    d.drain()
}

fn sub_with_token(id: &str, channel: &str, token: &str) -> String {
    format!(
        r#"{{"type":"subscribe","payload":{{"id":"{id}","channel":"{channel}","token":"{token}"}}}}"#
    )
}

#[test]
fn the_token_is_asked_for_and_sent_in_subscribe() {
    let mut d = Driver::open(asking());
    let (req, out) = d.subscribe(Some("vip:lounge"));
    let [(request, channel)] = &asked(&out)[..] else {
        panic!("{out:?}");
    };
    assert_eq!(channel, "vip:lounge");
    assert_eq!(
        sent(&out),
        Vec::<String>::new(),
        "nothing sent before the token"
    );
    let out = answer(&mut d, *request, Ok(Some("sub.tok.en")));
    assert_eq!(
        sent(&out),
        [sub_with_token("id-1", "vip:lounge", "sub.tok.en")]
    );
    let out = d.frame(&subscribed("vip:lounge"));
    assert_eq!(done(&out), [(req, Ok(()))]);
    // A second answer to the same request is ignored.
    assert_eq!(answer(&mut d, *request, Ok(Some("again"))), []);
}

#[test]
fn no_token_needed_sends_a_plain_subscribe() {
    let mut d = Driver::open(asking());
    let (_, out) = d.subscribe(Some("news"));
    let request = asked(&out)[0].0;
    assert_eq!(
        sent(&answer(&mut d, request, Ok(None))),
        [sub("id-1", "news")]
    );
    let (_, out) = d.subscribe(Some("sport"));
    let request = asked(&out)[0].0;
    assert_eq!(
        sent(&answer(&mut d, request, Ok(Some("")))),
        [sub("id-1", "sport")],
        "an empty token is no token"
    );
}

#[test]
fn no_token_fails_the_subscribe_with_token_unavailable() {
    let mut d = Driver::open(asking());
    let (req, out) = d.subscribe(Some("vip:lounge"));
    let request = asked(&out)[0].0;
    let out = answer(&mut d, request, Err("not a member"));
    let error = ClientError::TokenUnavailable("not a member".into());
    assert_eq!(done(&out), [(req, Err(error.clone()))]);
    assert_eq!(error.code(), "token_unavailable");
    assert_eq!(sent(&out), Vec::<String>::new());
    assert_eq!(d.s.subscriptions().count(), 0);
}

#[test]
fn permission_denied_rejects_the_subscribe_with_its_code() {
    let mut d = Driver::open(asking());
    let (req, out) = d.subscribe(Some("vip:lounge"));
    answer(&mut d, asked(&out)[0].0, Ok(Some("stale.sub.token")));
    let out = d.frame(r#"{"type":"error","payload":{"code":"permission_denied","message":"the subscription token is for another channel","request":"subscribe","channel":"vip:lounge"}}"#);
    let [(id, Err(error))] = &done(&out)[..] else {
        panic!("{out:?}");
    };
    assert_eq!(*id, req);
    assert_eq!(error.code(), "permission_denied");
    assert_eq!(d.s.subscriptions().count(), 0);
}

#[test]
fn subscribing_while_disconnected_asks_once_the_connection_opens() {
    let mut d = Driver::new(asking());
    d.s.connect(0);
    d.drain();
    let (req, out) = d.subscribe(Some("vip:lounge"));
    assert_eq!(asked(&out), [], "no connection yet");
    let (again, out) = d.subscribe(Some("vip:lounge"));
    assert_eq!(asked(&out), []);
    let out = d.handshake();
    let [(request, _)] = asked(&out)[..] else {
        panic!("one request for both subscribes: {out:?}");
    };
    let out = answer(&mut d, request, Ok(Some("t.o.k")));
    assert_eq!(sent(&out), [sub_with_token("id-1", "vip:lounge", "t.o.k")]);
    let out = d.frame(&subscribed("vip:lounge"));
    assert_eq!(done(&out), [(req, Ok(())), (again, Ok(()))]);
}

#[test]
fn every_resubscription_after_a_reconnect_asks_for_a_fresh_token() {
    let mut d = Driver::open(asking());
    let (_, out) = d.subscribe(Some("vip:lounge"));
    answer(&mut d, asked(&out)[0].0, Ok(Some("first.sub.token")));
    d.frame(&subscribed("vip:lounge"));
    let (_, out) = d.subscribe(Some("vip:bar"));
    let pending = asked(&out)[0].0;

    d.close(1006);
    assert_eq!(
        answer(&mut d, pending, Ok(Some("late"))),
        [],
        "moot with its connection"
    );
    d.advance(100);
    let out = d.handshake();
    let requests = asked(&out);
    let channels: Vec<&str> = requests.iter().map(|(_, c)| c.as_str()).collect();
    assert_eq!(channels, ["vip:lounge", "vip:bar"]);
    assert_eq!(
        sent(&out),
        [r#"{"type":"connect","payload":{"id":"id-2"}}"#]
    );
    let out = answer(&mut d, requests[0].0, Ok(Some("second.sub.token")));
    assert_eq!(
        sent(&out),
        [sub_with_token("id-2", "vip:lounge", "second.sub.token")]
    );
    // A re-subscription without a token is reported and dropped.
    let out = answer(&mut d, requests[1].0, Err("membership ended"));
    assert!(
        events(&out).iter().any(|e| matches!(e,
            Event::RequestDone { result: Err(ClientError::TokenUnavailable(m)), .. } if m == "membership ended")),
        "the application's own pending subscribe fails: {out:?}"
    );
    assert_eq!(
        d.s.subscriptions().collect::<Vec<_>>(),
        [("vip:lounge", false)]
    );
}

#[test]
fn a_lost_resubscription_without_a_token_is_reported() {
    let mut d = Driver::open(asking());
    let (_, out) = d.subscribe(Some("vip:lounge"));
    answer(&mut d, asked(&out)[0].0, Ok(None));
    d.frame(&subscribed("vip:lounge"));
    d.close(1006);
    d.advance(100);
    let out = d.handshake();
    let out = answer(&mut d, asked(&out)[0].0, Err("expired membership"));
    assert_eq!(
        events(&out),
        [Event::SubscriptionFailed {
            channel: "vip:lounge".into(),
            error: ClientError::TokenUnavailable("expired membership".into())
        }]
    );
}

#[test]
fn unsubscribing_while_the_token_is_awaited_cancels_without_frames() {
    let mut d = Driver::open(asking());
    let (req, out) = d.subscribe(Some("vip:lounge"));
    let request = asked(&out)[0].0;
    let (unreq, out) = d.unsubscribe(Some("vip:lounge"));
    assert_eq!(
        done(&out),
        [(req, Err(ClientError::Cancelled)), (unreq, Ok(()))]
    );
    assert_eq!(
        sent(&out),
        Vec::<String>::new(),
        "the server never heard of it"
    );
    assert_eq!(answer(&mut d, request, Ok(Some("t.o.k"))), []);
}

#[test]
fn a_token_that_never_comes_times_the_subscribe_out() {
    let mut d = Driver::open(asking());
    let (req, out) = d.subscribe(Some("vip:lounge"));
    let request = asked(&out)[0].0;
    let out = d.advance_plain(3_000);
    assert_eq!(done(&out), [(req, Err(ClientError::Timeout(3_000)))]);
    assert_eq!(
        sent(&out),
        Vec::<String>::new(),
        "no unsubscribe: never subscribed"
    );
    assert_eq!(answer(&mut d, request, Ok(Some("t.o.k"))), []);
}
