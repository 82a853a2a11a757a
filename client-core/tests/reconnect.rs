//! Reconnect backoff, giving up, and restoring the subscription set.

mod common;
use common::*;
use howl_client_core::*;

/// Fails every attempt until `n` have been scheduled; returns the scheduled delays.
fn fail_attempts(d: &mut Driver, n: usize) -> Vec<u64> {
    let mut delays = Vec::new();
    while delays.len() < n {
        let out = d.close(1006);
        let scheduled: Vec<(u32, u64)> = events(&out)
            .into_iter()
            .filter_map(|e| match e {
                Event::ReconnectScheduled { attempt, delay_ms } => Some((attempt, delay_ms)),
                _ => None,
            })
            .collect();
        let [(attempt, delay)] = scheduled[..] else {
            return delays;
        };
        assert_eq!(attempt as usize, delays.len() + 1);
        assert_eq!(d.s.reconnect_attempt() as usize, delays.len());
        delays.push(delay);
        let out = d.advance(delay);
        assert_eq!(out, [(d.now, Output::OpenSocket)]);
    }
    delays
}

#[test]
fn backoff_doubles_up_to_the_cap_while_the_server_is_down() {
    let mut d = Driver::open(config());
    assert_eq!(
        fail_attempts(&mut d, 8),
        [100, 200, 400, 800, 1_000, 1_000, 1_000, 1_000]
    );
    assert_eq!(d.s.state(), ConnectionState::Reconnecting);
    d.handshake();
    assert_eq!(
        d.s.reconnect_attempt(),
        0,
        "a successful handshake resets the count"
    );
    assert_eq!(fail_attempts(&mut d, 2), [100, 200]);
}

#[test]
fn jittered_delays_stay_within_bounds_and_follow_the_seed() {
    let policy = ReconnectPolicy {
        jitter: 0.5,
        ..config().reconnect
    };
    let run = |seed| {
        let mut s = ClientSession::new(
            ClientConfig {
                reconnect: policy.clone(),
                ..config()
            },
            seed,
        )
        .unwrap();
        s.connect(0);
        let mut delays = Vec::new();
        let mut now = 0;
        for _ in 0..10 {
            s.on_close(1006, now);
            while let Some(o) = s.poll_output() {
                if let Output::Event(Event::ReconnectScheduled { delay_ms, .. }) = o {
                    delays.push(delay_ms);
                }
            }
            now = s.next_deadline().unwrap();
            s.tick(now);
            while s.poll_output().is_some() {}
        }
        delays
    };
    let a = run(1);
    for (i, d) in a.iter().enumerate() {
        let base = policy.base_delay(i as u32 + 1);
        assert!(
            *d <= base && *d as f64 > base as f64 * 0.5 - 1.0,
            "attempt {}: {d} vs {base}",
            i + 1
        );
    }
    assert_eq!(a, run(1), "same seed, same delays");
    assert_ne!(a, run(2), "another seed, other delays");
}

#[test]
fn gives_up_after_max_attempts_and_rejects_pending_requests() {
    let mut cfg = config();
    cfg.reconnect.max_attempts = Some(3);
    cfg.request_timeout_ms = 60_000;
    let mut d = Driver::open(cfg);
    let (req, _) = d.subscribe(Some("news"));
    assert_eq!(fail_attempts(&mut d, 3), [100, 200, 400]);
    // The third attempt fails too: no fourth.
    let out = d.close(1006);
    assert_eq!(
        events(&out),
        [
            Event::ConnectionLost(LostReason::Closed { code: 1006 }),
            Event::RequestDone {
                id: req,
                result: Err(ClientError::Closed)
            },
            Event::Closed(CloseReason::AttemptsExhausted {
                attempts: 3,
                last: LostReason::Closed { code: 1006 }
            }),
            Event::StateChanged(ConnectionState::Closed),
        ]
    );
    assert_eq!(d.s.next_deadline(), None, "no timers after giving up");
    // The set survives giving up: connecting again restores it.
    d.s.connect(d.now);
    d.drain();
    let out = d.handshake();
    assert_eq!(sent(&out)[1..], [sub("id-2", "news")]);
}

#[test]
fn disabled_reconnect_closes_on_the_first_loss() {
    let mut d = Driver::open(ClientConfig {
        reconnect: ReconnectPolicy::disabled(),
        ..config()
    });
    let out = d.close(1001);
    assert_eq!(
        events(&out),
        [
            Event::ConnectionLost(LostReason::Closed { code: 1001 }),
            Event::Closed(CloseReason::ReconnectDisabled(LostReason::Closed {
                code: 1001
            })),
            Event::StateChanged(ConnectionState::Closed),
        ]
    );
    assert_eq!(d.s.next_deadline(), None);
}

#[test]
fn reconnect_restores_every_subscription_and_watch_with_the_new_id() {
    let mut d = Driver::open(config());
    d.subscribed("news");
    d.subscribed("wisdom");
    d.s.watch("lobby").unwrap();
    assert_eq!(
        sent(&d.drain()),
        [r#"{"type":"watch","payload":{"id":"id-1","channel":"lobby"}}"#]
    );
    d.subscribed("gone");
    let (_, _) = d.unsubscribe(Some("gone"));
    d.frame(&unsubscribed("gone"));

    let out = d.close(1001);
    assert_eq!(states(&out), [ConnectionState::Reconnecting]);
    assert!(d.s.subscriptions().all(|(_, confirmed)| !confirmed));
    // Commands while reconnecting are queued for the new connection.
    let (pending, out) = d.subscribe(Some("late"));
    assert_eq!(sent(&out), Vec::<String>::new());
    d.advance(100);
    let out = d.handshake();
    assert_eq!(
        sent(&out),
        [
            r#"{"type":"connect","payload":{"id":"id-2"}}"#.to_owned(),
            sub("id-2", "news"),
            sub("id-2", "wisdom"),
            sub("id-2", "late"),
            r#"{"type":"watch","payload":{"id":"id-2","channel":"lobby"}}"#.to_owned(),
        ]
    );
    assert_eq!(states(&out), [ConnectionState::Open]);
    assert_eq!(d.s.id(), Some("id-2"));
    for c in ["news", "wisdom"] {
        assert_eq!(
            d.frame(&subscribed(c)),
            [Output::Event(confirmed(c))],
            "re-subscriptions complete no request, and say the channel is subscribed again"
        );
    }
    let out = d.frame(&subscribed("late"));
    assert_eq!(done(&out), [(pending, Ok(()))]);
    assert!(d.s.subscriptions().all(|(_, confirmed)| confirmed));
}

#[test]
fn a_refused_resubscription_is_reported_and_dropped() {
    let mut d = Driver::open(config());
    d.subscribed("news");
    d.close(1006);
    d.advance(100);
    d.handshake();
    let out = d.frame(r#"{"type":"error","payload":{"code":"too_many_subscriptions","message":"no","request":"subscribe","channel":"news"}}"#);
    assert_eq!(
        events(&out),
        [Event::SubscriptionFailed {
            channel: "news".into(),
            error: ClientError::Server {
                code: ErrorCode::TooManySubscriptions,
                message: "no".into()
            }
        }]
    );
    assert_eq!(d.s.subscriptions().count(), 0);
}

#[test]
fn a_resubscription_that_times_out_is_reported() {
    let mut d = Driver::open(config());
    d.subscribed("news");
    d.close(1006);
    d.advance(100);
    d.handshake();
    let out = d.advance_plain(3_000);
    assert!(events(&out).contains(&Event::SubscriptionFailed {
        channel: "news".into(),
        error: ClientError::Timeout(3_000)
    }));
}

#[test]
fn pending_unsubscribes_complete_when_the_connection_drops() {
    let mut d = Driver::open(config());
    d.subscribed("news");
    let (u, _) = d.unsubscribe(Some("news"));
    let out = d.close(1006);
    assert_eq!(done(&out), [(u, Ok(()))]);
    d.advance(100);
    let out = d.handshake();
    assert_eq!(
        sent(&out),
        [r#"{"type":"connect","payload":{"id":"id-2"}}"#]
    );
}

#[test]
fn a_pending_subscribe_survives_the_drop_and_completes_after_reconnect() {
    let mut d = Driver::open(config());
    let (s, _) = d.subscribe(Some("news"));
    d.close(1006);
    d.advance(100);
    let out = d.handshake();
    assert_eq!(sent(&out)[1..], [sub("id-2", "news")]);
    let out = d.frame(&subscribed("news"));
    assert_eq!(done(&out), [(s, Ok(()))]);
}

#[test]
fn a_normal_close_or_a_disconnect_by_the_server_ends_the_session_without_reconnecting() {
    // 1000: the protocol's normal end; 4006: the backend disconnected the user.
    for code in [1000, 4006] {
        let mut d = Driver::open(config());
        let (req, _) = d.subscribe(Some("news"));
        let out = d.close(code);
        assert_eq!(
            events(&out),
            [
                Event::ConnectionLost(LostReason::Closed { code }),
                Event::RequestDone {
                    id: req,
                    result: Err(ClientError::Closed)
                },
                Event::Closed(CloseReason::EndedByServer),
                Event::StateChanged(ConnectionState::Closed),
            ],
            "code {code}"
        );
        assert_eq!(d.s.next_deadline(), None);
    }
}

#[test]
fn every_other_close_code_reconnects() {
    for code in [1001, 1006, 1009, 1011, 4000, 4001] {
        let mut d = Driver::open(config());
        let out = d.close(code);
        assert_eq!(states(&out), [ConnectionState::Reconnecting], "code {code}");
    }
}
