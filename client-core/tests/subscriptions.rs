//! Subscribe and unsubscribe requests: frames, confirmations, rejections, timeouts.

mod common;
use common::*;
use howl_client_core::*;
use howl_protocol::ChannelNameError;

#[test]
fn no_channel_means_the_default_channel_named_explicitly() {
    let mut d = Driver::open(config());
    let (req, out) = d.subscribe(None);
    assert_eq!(
        sent(&out),
        [r#"{"type":"subscribe","payload":{"id":"id-1","channel":"wisdom"}}"#]
    );
    assert_eq!(done(&out), []);
    let out = d
        .frame(r#"{"type":"subscribe_confirmation","payload":{"status":"ok","channel":"wisdom"}}"#);
    assert_eq!(done(&out), [(req, Ok(()))]);
    assert_eq!(
        d.s.subscriptions().collect::<Vec<_>>(),
        [(DEFAULT_CHANNEL, true)]
    );

    let (req, out) = d.unsubscribe(None);
    assert_eq!(
        sent(&out),
        [r#"{"type":"unsubscribe","payload":{"id":"id-1","channel":"wisdom"}}"#]
    );
    assert_eq!(d.s.subscriptions().count(), 0, "leaves the set at once");
    let out = d.frame(
        r#"{"type":"unsubscribe_confirmation","payload":{"status":"ok","channel":"wisdom"}}"#,
    );
    assert_eq!(done(&out), [(req, Ok(()))]);
}

#[test]
fn subscribing_a_confirmed_channel_succeeds_without_a_frame() {
    let mut d = Driver::open(config());
    d.subscribed("news");
    let (req, out) = d.subscribe(Some("news"));
    assert_eq!(sent(&out), Vec::<String>::new());
    assert_eq!(done(&out), [(req, Ok(()))]);
}

#[test]
fn concurrent_requests_share_one_frame_and_one_confirmation() {
    let mut d = Driver::open(config());
    let (a, out_a) = d.subscribe(Some("news"));
    let (b, out_b) = d.subscribe(Some("news"));
    assert_eq!(sent(&out_a).len() + sent(&out_b).len(), 1);
    let out = d.frame(&subscribed("news"));
    assert_eq!(done(&out), [(a, Ok(())), (b, Ok(()))]);
    // A second confirmation (if the server sent one) is ignored.
    assert_eq!(d.frame(&subscribed("news")), []);
}

#[test]
fn requests_made_while_connecting_are_sent_once_open() {
    let mut d = Driver::new(config());
    d.s.connect(0);
    d.drain();
    let (a, out) = d.subscribe(Some("news"));
    assert_eq!(sent(&out), Vec::<String>::new());
    let (b, _) = d.subscribe(None);
    let out = d.handshake();
    assert_eq!(
        sent(&out),
        [
            r#"{"type":"connect","payload":{"id":"id-1"}}"#.to_owned(),
            sub("id-1", "news"),
            sub("id-1", "wisdom"),
        ]
    );
    let out = d.frame(&subscribed("wisdom"));
    assert_eq!(done(&out), [(b, Ok(()))]);
    let out = d.frame(&subscribed("news"));
    assert_eq!(done(&out), [(a, Ok(()))]);
}

#[test]
fn an_error_frame_rejects_the_matching_request_only() {
    let mut d = Driver::open(config());
    let (news, _) = d.subscribe(Some("news"));
    let (sport, _) = d.subscribe(Some("sport"));
    let error = r#"{"type":"error","payload":{"code":"too_many_subscriptions","message":"at most 1","request":"subscribe","channel":"sport"}}"#;
    let out = d.frame(error);
    assert_eq!(
        done(&out),
        [(
            sport,
            Err(ClientError::Server {
                code: ErrorCode::TooManySubscriptions,
                message: "at most 1".into()
            })
        )]
    );
    assert_eq!(
        done(&out)[0].1.as_ref().unwrap_err().code(),
        "too_many_subscriptions"
    );
    assert_eq!(
        d.s.subscriptions().collect::<Vec<_>>(),
        [("news", false)],
        "sport left the set"
    );
    let out = d.frame(&subscribed("news"));
    assert_eq!(done(&out), [(news, Ok(()))]);
}

#[test]
fn an_error_about_an_unsubscribe_rejects_it() {
    let mut d = Driver::open(config());
    d.subscribed("news");
    let (req, _) = d.unsubscribe(Some("news"));
    let out = d.frame(r#"{"type":"error","payload":{"code":"broker_unavailable","message":"oops","request":"unsubscribe","channel":"news"}}"#);
    assert_eq!(
        done(&out),
        [(
            req,
            Err(ClientError::Server {
                code: ErrorCode::BrokerUnavailable,
                message: "oops".into()
            })
        )]
    );
}

#[test]
fn errors_matching_no_request_are_reported_as_server_errors() {
    let mut d = Driver::open(config());
    let (req, _) = d.subscribe(Some("news"));
    // Same request type, other channel: not ours.
    let text = r#"{"type":"error","payload":{"code":"invalid_channel","message":"bad","request":"subscribe","channel":"other"}}"#;
    let out = d.frame(text);
    assert!(
        matches!(&events(&out)[..], [Event::ServerError(p)] if p.channel.as_deref() == Some("other"))
    );
    // A refused publish.
    let text = r#"{"type":"error","payload":{"code":"rate_limited","message":"slow down","request":"publish","channel":"news"}}"#;
    let out = d.frame(text);
    match &events(&out)[..] {
        [Event::ServerError(p)] => {
            assert_eq!(p.code, ErrorCode::RateLimited);
            assert_eq!(p.request.as_deref(), Some("publish"));
        }
        other => panic!("{other:?}"),
    }
    // A code from a newer server.
    let out = d.frame(r#"{"type":"error","payload":{"code":"from_the_future","message":"?"}}"#);
    assert!(matches!(&events(&out)[..], [Event::ServerError(p)] if p.code == ErrorCode::Other));
    let out = d.frame(&subscribed("news"));
    assert_eq!(done(&out), [(req, Ok(()))]);
}

#[test]
fn confirmations_without_a_channel_answer_the_oldest_request() {
    let mut d = Driver::open(config());
    let (a, _) = d.subscribe(Some("a"));
    let (b, _) = d.subscribe(Some("b"));
    let out = d.frame(r#"{"type":"subscribe_confirmation","payload":{"status":"ok"}}"#);
    assert_eq!(done(&out), [(a, Ok(()))]);
    let out = d.frame(r#"{"type":"subscribe_confirmation","payload":{"status":"ok"}}"#);
    assert_eq!(done(&out), [(b, Ok(()))]);
    assert_eq!(
        d.frame(r#"{"type":"subscribe_confirmation","payload":{"status":"ok"}}"#),
        []
    );
    assert_eq!(d.s.stats().unexpected_ignored, 1);
}

#[test]
fn subscribe_times_out_leaves_the_set_and_tells_the_server() {
    let mut d = Driver::open(config());
    d.now = 1_000;
    let (req, _) = d.subscribe(Some("news"));
    assert_eq!(d.s.next_deadline(), Some(4_000));
    let out = d.advance(2_999);
    assert_eq!(
        done(&out.iter().map(|(_, o)| o.clone()).collect::<Vec<_>>()),
        []
    );
    let out = d.advance(1);
    let outputs: Vec<Output> = out.into_iter().map(|(_, o)| o).collect();
    assert_eq!(done(&outputs), [(req, Err(ClientError::Timeout(3_000)))]);
    assert_eq!(sent(&outputs), [unsub("id-1", "news")]);
    assert_eq!(d.s.subscriptions().count(), 0);
    // The late confirmation and its unsubscribe confirmation change nothing.
    assert_eq!(d.frame(&subscribed("news")), []);
    assert_eq!(d.frame(&unsubscribed("news")), []);
    assert_eq!(d.s.subscriptions().count(), 0);
}

#[test]
fn unsubscribe_timeout_is_reported() {
    let mut d = Driver::open(config());
    d.subscribed("news");
    let (req, _) = d.unsubscribe(Some("news"));
    let out = d.advance_plain(3_000);
    assert_eq!(done(&out), [(req, Err(ClientError::Timeout(3_000)))]);
}

#[test]
fn unsubscribe_of_an_unknown_channel_succeeds_at_once() {
    let mut d = Driver::open(config());
    let (req, out) = d.unsubscribe(Some("never"));
    assert_eq!(sent(&out), Vec::<String>::new());
    assert_eq!(done(&out), [(req, Ok(()))]);
}

#[test]
fn subscribe_then_unsubscribe_in_flight_follow_wire_order() {
    let mut d = Driver::open(config());
    let (s, _) = d.subscribe(Some("news"));
    let (u, out) = d.unsubscribe(Some("news"));
    assert_eq!(sent(&out), [unsub("id-1", "news")]);
    let out = d.frame(&subscribed("news"));
    assert_eq!(done(&out), [(s, Ok(()))]);
    assert_eq!(
        d.s.subscriptions().count(),
        0,
        "confirmation does not resurrect it"
    );
    let out = d.frame(&unsubscribed("news"));
    assert_eq!(done(&out), [(u, Ok(()))]);
}

#[test]
fn unsubscribe_while_offline_cancels_the_queued_subscribe() {
    let mut d = Driver::new(config());
    d.s.connect(0);
    d.drain();
    let (s, _) = d.subscribe(Some("news"));
    let (u, out) = d.unsubscribe(Some("news"));
    assert_eq!(done(&out), [(s, Err(ClientError::Cancelled)), (u, Ok(()))]);
    let out = d.handshake();
    assert_eq!(
        sent(&out),
        [r#"{"type":"connect","payload":{"id":"id-1"}}"#]
    );
}

#[test]
fn invalid_channels_are_refused_without_a_frame() {
    let mut d = Driver::open(config());
    for (name, err) in [
        ("", ChannelNameError::Empty),
        ("a b", ChannelNameError::InvalidChar(' ')),
        (&"x".repeat(129), ChannelNameError::TooLong(129)),
    ] {
        let (req, out) = d.subscribe(Some(name));
        assert_eq!(sent(&out), Vec::<String>::new());
        assert_eq!(
            done(&out),
            [(req, Err(ClientError::InvalidChannel(err.clone())))]
        );
        let (req, out) = d.unsubscribe(Some(name));
        assert_eq!(
            done(&out),
            [(req, Err(ClientError::InvalidChannel(err.clone())))]
        );
        assert_eq!(d.s.watch(name), Err(ClientError::InvalidChannel(err)));
    }
}

#[test]
fn commands_on_a_closed_session_fail_with_closed() {
    let mut d = Driver::new(config());
    let (req, out) = d.subscribe(Some("news"));
    assert_eq!(done(&out), [(req, Err(ClientError::Closed))]);
    let (req, out) = d.unsubscribe(None);
    assert_eq!(done(&out), [(req, Err(ClientError::Closed))]);
    assert_eq!(
        d.s.publish("news", 1.into(), false),
        Err(ClientError::Closed)
    );
    assert_eq!(d.s.watch("news"), Err(ClientError::Closed));
}

#[test]
fn request_ids_are_unique() {
    let mut d = Driver::open(config());
    let ids: std::collections::BTreeSet<_> = (0..10)
        .map(|i| d.subscribe(Some(&format!("c{i}"))).0)
        .collect();
    assert_eq!(ids.len(), 10);
}

#[test]
fn confirmations_and_unsubscribes_are_reported_per_channel() {
    let mut d = Driver::open(config());
    let (req, _) = d.subscribe(Some("news"));
    let out = d.frame(&subscribed("news"));
    assert_eq!(
        events(&out),
        [
            confirmed("news"),
            Event::RequestDone {
                id: req,
                result: Ok(())
            },
        ]
    );
    let out = d.frame(&subscribed("news"));
    assert!(events(&out).is_empty(), "once per connection");
    let (_, out) = d.unsubscribe(Some("news"));
    assert_eq!(
        events(&out),
        [Event::SubscriptionEnded {
            channel: "news".into()
        }]
    );
    let (_, out) = d.unsubscribe(Some("news"));
    assert!(
        !events(&out)
            .iter()
            .any(|e| matches!(e, Event::SubscriptionEnded { .. })),
        "not subscribed any more: nothing ends"
    );
}
