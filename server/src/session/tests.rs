use super::*;

const ID: &str = "c0ffee00-0000-4000-8000-000000000001";

fn frame(kind: &str, payload: &str) -> String {
    format!(r#"{{"type":"{kind}","payload":{payload}}}"#)
}

fn id_only() -> String {
    format!(r#"{{"id":"{ID}"}}"#)
}

fn limits() -> Limits {
    Limits {
        max_subscriptions: 2,
        ..Limits::default()
    }
}

fn connected() -> Session {
    let mut session = Session::new(ID.parse().unwrap(), &limits());
    assert_eq!(
        session.handle_text(&frame("connect", &id_only()), 0),
        Ok(Action::Nothing)
    );
    session
}

fn error_code(result: Result<Action, ErrorPayload>) -> ErrorCode {
    result.expect_err("must be rejected").code
}

#[test]
fn original_subscribe_is_legacy_on_the_default_channel() {
    let mut session = connected();
    let action = session
        .handle_text(&frame("subscribe", &id_only()), 0)
        .unwrap();
    assert_eq!(
        action,
        Action::Subscribe {
            channel: DEFAULT_CHANNEL.into(),
            form: Form::Wisdom,
            confirmation: howl_protocol::ConfirmationPayload::ok(None, None),
            since: None,
        }
    );
    let action = session
        .handle_text(&frame("unsubscribe", &id_only()), 0)
        .unwrap();
    assert_eq!(
        action,
        Action::Unsubscribe {
            channel: DEFAULT_CHANNEL.into(),
            confirmation: None
        }
    );
    assert_eq!(session.subscriptions().count(), 0);
}

#[test]
fn named_subscribe_echoes_the_channel() {
    let mut session = connected();
    let payload = format!(r#"{{"id":"{ID}","channel":"news"}}"#);
    let action = session
        .handle_text(&frame("subscribe", &payload), 0)
        .unwrap();
    assert_eq!(
        action,
        Action::Subscribe {
            channel: "news".into(),
            form: Form::Named,
            confirmation: howl_protocol::ConfirmationPayload::ok(Some("news".into()), None),
            since: None,
        }
    );
    let action = session
        .handle_text(&frame("unsubscribe", &payload), 0)
        .unwrap();
    assert_eq!(
        action,
        Action::Unsubscribe {
            channel: "news".into(),
            confirmation: Some(ServerMessage::unsubscribed(Some("news".into()), None)),
        }
    );
}

#[test]
fn rejects_wrong_id_and_events_before_connect() {
    let mut session = Session::new(ID.parse().unwrap(), &limits());
    let other = r#"{"id":"someone-else"}"#;
    assert_eq!(
        error_code(session.handle_text(&frame("connect", other), 0)),
        ErrorCode::WrongId
    );
    assert_eq!(
        error_code(session.handle_text(&frame("subscribe", &id_only()), 0)),
        ErrorCode::NotConnected
    );
    // Keep-alive and goodbye work before connect.
    assert!(matches!(
        session.handle_text(&frame("ping", &id_only()), 5),
        Ok(Action::Reply(_))
    ));
    assert_eq!(
        session.handle_text(&frame("disconnect", &id_only()), 0),
        Ok(Action::Disconnect)
    );
    let mut session = connected();
    assert_eq!(
        error_code(session.handle_text(&frame("connect", &id_only()), 0)),
        ErrorCode::AlreadyConnected
    );
    assert_eq!(
        error_code(session.handle_text(&frame("ping", other), 0)),
        ErrorCode::WrongId
    );
}

#[test]
fn ping_is_answered_with_the_server_time() {
    let mut session = connected();
    let action = session
        .handle_text(&frame("ping", &id_only()), 1234)
        .unwrap();
    assert_eq!(
        action,
        Action::Reply(ServerMessage::Pong(PongPayload {
            time: 1234,
            reference: None
        }))
    );
}

#[test]
fn bad_frames_get_their_own_codes() {
    let mut session = connected();
    assert_eq!(
        error_code(session.handle_text("{oops", 0)),
        ErrorCode::MalformedJson
    );
    assert_eq!(
        error_code(session.handle_text(&frame("shout", "{}"), 0)),
        ErrorCode::UnknownType
    );
    assert_eq!(
        error_code(session.handle_text(&frame("subscribe", "{}"), 0)),
        ErrorCode::InvalidPayload
    );
    let bad_channel = format!(r#"{{"id":"{ID}","channel":"no spaces"}}"#);
    let err = session
        .handle_text(&frame("subscribe", &bad_channel), 0)
        .unwrap_err();
    assert_eq!(
        (err.code, err.channel.as_deref()),
        (ErrorCode::InvalidChannel, Some("no spaces"))
    );
    assert_eq!(err.request.as_deref(), Some("subscribe"));
}

#[test]
fn subscriptions_are_capped() {
    let mut session = connected();
    for channel in ["a", "b", "a"] {
        let payload = format!(r#"{{"id":"{ID}","channel":"{channel}"}}"#);
        assert!(session
            .handle_text(&frame("subscribe", &payload), 0)
            .is_ok());
    }
    let payload = format!(r#"{{"id":"{ID}","channel":"c"}}"#);
    assert_eq!(
        error_code(session.handle_text(&frame("subscribe", &payload), 0)),
        ErrorCode::TooManySubscriptions
    );
    let mut channels: Vec<_> = session.subscriptions().collect();
    channels.sort();
    assert_eq!(channels, ["a", "b"]);
}

#[test]
fn publish_and_watch_carry_their_channel() {
    let mut session = connected();
    let payload =
        format!(r#"{{"id":"{ID}","channel":"news","data":{{"x": 1.10}},"exclude_self":true}}"#);
    assert_eq!(
        session.handle_text(&frame("publish", &payload), 0),
        Ok(Action::Publish {
            channel: "news".into(),
            data: RawValue::from_string(r#"{"x": 1.10}"#.into()).unwrap(),
            exclude_self: true,
            reference: None,
        })
    );
    let payload = format!(r#"{{"id":"{ID}","channel":"news"}}"#);
    assert_eq!(
        session.handle_text(&frame("watch", &payload), 0),
        Ok(Action::Watch {
            channel: "news".into()
        })
    );
    assert_eq!(session.watches().collect::<Vec<_>>(), ["news"]);
    assert_eq!(
        session.handle_text(&frame("unwatch", &payload), 0),
        Ok(Action::Unwatch {
            channel: "news".into()
        })
    );
    assert_eq!(session.watches().count(), 0);
}

#[test]
fn replies_and_errors_echo_the_ref() {
    let mut session = connected();
    let sub = format!(r#"{{"id":"{ID}","channel":"news","ref":"s1"}}"#);
    assert_eq!(
        session.handle_text(&frame("subscribe", &sub), 0),
        Ok(Action::Subscribe {
            channel: "news".into(),
            form: Form::Named,
            confirmation: howl_protocol::ConfirmationPayload::ok(
                Some("news".into()),
                Some("s1".into())
            ),
            since: None,
        })
    );
    // Even the original, channel-less unsubscribe is confirmed once it carries a ref.
    let unsub = format!(r#"{{"id":"{ID}","ref":2}}"#);
    assert_eq!(
        session.handle_text(&frame("unsubscribe", &unsub), 0),
        Ok(Action::Unsubscribe {
            channel: DEFAULT_CHANNEL.into(),
            confirmation: Some(ServerMessage::unsubscribed(None, Some(Ref::Int(2)))),
        })
    );
    let ping = format!(r#"{{"id":"{ID}","ref":3}}"#);
    assert_eq!(
        session.handle_text(&frame("ping", &ping), 9),
        Ok(Action::Reply(ServerMessage::Pong(PongPayload {
            time: 9,
            reference: Some(Ref::Int(3))
        })))
    );
    let publish = format!(r#"{{"id":"{ID}","channel":"a b","data":1,"ref":4}}"#);
    let err = session
        .handle_text(&frame("publish", &publish), 0)
        .unwrap_err();
    assert_eq!(
        (err.code, err.reference),
        (ErrorCode::InvalidChannel, Some(Ref::Int(4)))
    );
    let wrong_id = r#"{"id":"other","ref":"w"}"#;
    let err = session
        .handle_text(&frame("ping", wrong_id), 0)
        .unwrap_err();
    assert_eq!(
        (err.code, err.reference),
        (ErrorCode::WrongId, Some("w".into()))
    );
    let missing_data = format!(r#"{{"id":"{ID}","channel":"news","ref":5}}"#);
    let err = session
        .handle_text(&frame("publish", &missing_data), 0)
        .unwrap_err();
    assert_eq!(
        (err.code, err.reference),
        (ErrorCode::InvalidPayload, Some(Ref::Int(5)))
    );
}

#[test]
fn frames_over_the_rate_are_refused_with_their_ref_then_the_client_is_closed() {
    let limits = Limits {
        client_rate: 10.0,
        client_burst: 2,
        publish_rate: 1.0,
        publish_burst: 1,
        rate_grace_ms: 2_000,
        ..limits()
    };
    let mut session = Session::new(ID.parse().unwrap(), &limits);
    assert!(session
        .handle_text(&frame("connect", &id_only()), 0)
        .is_ok());
    let ping = format!(r#"{{"id":"{ID}","ref":1}}"#);
    assert!(session.handle_text(&frame("ping", &ping), 0).is_ok());
    let err = session.handle_text(&frame("ping", &ping), 0).unwrap_err();
    assert_eq!(
        (err.code, err.reference),
        (ErrorCode::RateLimited, Some(Ref::Int(1)))
    );
    // Malformed frames count too, and are refused before their own error.
    assert_eq!(
        error_code(session.handle_text("{oops", 0)),
        ErrorCode::RateLimited
    );
    // Publishes have their own, tighter bucket.
    let publish = format!(r#"{{"id":"{ID}","channel":"news","data":1,"ref":"p"}}"#);
    assert!(session
        .handle_text(&frame("publish", &publish), 100)
        .is_ok());
    let err = session
        .handle_text(&frame("publish", &publish), 200)
        .unwrap_err();
    assert_eq!(
        (err.code, err.channel.as_deref(), err.reference),
        (ErrorCode::RateLimited, Some("news"), Some("p".into()))
    );
    assert!(
        session.handle_text(&frame("ping", &ping), 300).is_ok(),
        "frames still flow"
    );
    // Kept up past the grace period (refusals since 0, never a quiet second), the flood
    // ends the connection.
    let mut now = 300;
    let action = loop {
        now += 50;
        match session.handle_text(&frame("publish", &publish), now) {
            Ok(Action::RateLimitExceeded) => break now,
            Ok(_) | Err(_) => assert!(now < 5_000, "never closed"),
        }
    };
    assert!(
        action == 2_000,
        "closed after the grace period, at {action}"
    );
}

#[test]
fn a_client_that_slows_down_is_not_closed() {
    let limits = Limits {
        client_rate: 10.0,
        client_burst: 1,
        rate_grace_ms: 1_500,
        ..limits()
    };
    let mut session = Session::new(ID.parse().unwrap(), &limits);
    let ping = frame("ping", &id_only());
    for second in 0..5 {
        let start = second * 2_000;
        // A burst that is partly refused, then a quiet second.
        assert!(session.handle_text(&ping, start).is_ok());
        assert!(session.handle_text(&ping, start).is_err());
        assert!(session.handle_text(&ping, start + 1_000).is_ok());
    }
}

mod secured {
    use super::*;
    use crate::auth::Verifier;
    use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
    use serde_json::json;

    const NOW: u64 = 1_700_000_000_000;

    fn token(claims: serde_json::Value) -> String {
        encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(b"k"),
        )
        .unwrap()
    }

    fn session() -> Session {
        let verifier = Arc::new(Verifier::hs256(b"k").unwrap());
        Session::new(ID.parse().unwrap(), &limits()).secured(Some(verifier))
    }

    fn connect(session: &mut Session, token: Option<&str>) -> Action {
        let payload = match token {
            Some(t) => format!(r#"{{"id":"{ID}","token":"{t}"}}"#),
            None => id_only(),
        };
        session
            .handle_text(&frame("connect", &payload), NOW)
            .unwrap()
    }

    fn close_of(action: Action) -> (ErrorCode, u16) {
        match action {
            Action::AuthFailed { error, close } => (error.code, close),
            other => panic!("not refused: {other:?}"),
        }
    }

    #[test]
    fn connect_needs_a_valid_token() {
        let mut s = session();
        assert_eq!(
            close_of(connect(&mut s, None)),
            (ErrorCode::Unauthorized, close::UNAUTHORIZED)
        );
        assert!(!s.is_connected());
        let expired = token(json!({"sub": "a", "exp": NOW / 1000 - 1}));
        assert_eq!(
            close_of(connect(&mut s, Some(&expired))),
            (ErrorCode::TokenExpired, close::TOKEN_EXPIRED)
        );
        // More channels than the subscription limit (2 here) make the token unusable, rather
        // than some of them silently missing.
        let too_many = token(json!({"sub": "a", "channels": ["x", "y", "z"]}));
        assert_eq!(
            close_of(connect(&mut s, Some(&too_many))),
            (ErrorCode::Unauthorized, close::UNAUTHORIZED)
        );
        let good = token(json!({"sub": "a", "exp": NOW / 1000 + 5, "channels": ["x", "y", "x"]}));
        assert_eq!(
            connect(&mut s, Some(&good)),
            Action::SubscribeServerSide {
                channels: vec!["x".into(), "y".into()]
            }
        );
        assert!(s.is_connected());
        assert_eq!(s.user().unwrap().id, "a");
        assert_eq!(s.expires_at_ms(), Some(NOW + 5000));
    }

    #[test]
    fn refresh_moves_the_expiry_for_the_same_user_only() {
        let mut s = session();
        connect(
            &mut s,
            Some(&token(json!({"sub": "a", "exp": NOW / 1000 + 5}))),
        );
        let later = token(json!({"sub": "a", "exp": NOW / 1000 + 50}));
        let refresh = |t: &str| frame("refresh", &format!(r#"{{"id":"{ID}","token":"{t}"}}"#));
        assert_eq!(s.handle_text(&refresh(&later), NOW), Ok(Action::Nothing));
        assert_eq!(s.expires_at_ms(), Some(NOW + 50_000));
        let other = token(json!({"sub": "b", "exp": NOW / 1000 + 50}));
        assert_eq!(
            close_of(s.handle_text(&refresh(&other), NOW).unwrap()),
            (ErrorCode::Unauthorized, close::UNAUTHORIZED)
        );
    }

    #[test]
    fn trusted_sessions_need_no_token_and_pass_every_rule() {
        let verifier = Arc::new(Verifier::hs256(b"k").unwrap());
        let mut s = Session::new(ID.parse().unwrap(), &limits())
            .secured(Some(verifier))
            .with_permissions(Arc::new(Permissions::new(true, &[])))
            .trusted(true);
        assert_eq!(connect(&mut s, None), Action::Nothing);
        assert!(s.is_connected());
        let publish = frame(
            "publish",
            &format!(r#"{{"id":"{ID}","channel":"{DEFAULT_CHANNEL}","data":1}}"#),
        );
        assert!(matches!(
            s.handle_text(&publish, NOW),
            Ok(Action::Publish { .. })
        ));
        let personal = frame(
            "subscribe",
            &format!(r##"{{"id":"{ID}","channel":"#bob"}}"##),
        );
        assert!(matches!(
            s.handle_text(&personal, NOW),
            Ok(Action::Subscribe { .. })
        ));
        // An untrusted session in the same mode is refused both.
        let mut untrusted = session().with_permissions(Arc::new(Permissions::new(true, &[])));
        connect(&mut untrusted, Some(&token(json!({"sub": "a"}))));
        assert_eq!(
            error_code(untrusted.handle_text(&publish, NOW)),
            ErrorCode::PermissionDenied
        );
        assert_eq!(
            error_code(untrusted.handle_text(&personal, NOW)),
            ErrorCode::PermissionDenied
        );
    }

    #[test]
    fn server_side_subscriptions_are_recorded_and_capped() {
        let mut s = session();
        connect(&mut s, Some(&token(json!({"sub": "a", "channels": ["x"]}))));
        assert_eq!(s.subscribe_server_side("x"), Ok(false));
        assert_eq!(s.subscribe_server_side("y"), Ok(true));
        let error = s.subscribe_server_side("z").unwrap_err();
        assert_eq!(error.code, ErrorCode::TooManySubscriptions);
        assert_eq!(error.channel.as_deref(), Some("z"));
        assert!(s.unsubscribe_server_side("x"));
        assert!(!s.unsubscribe_server_side("x"));
        assert_eq!(s.subscribe_server_side("z"), Ok(true));
        let mut channels: Vec<&str> = s.subscriptions().collect();
        channels.sort_unstable();
        assert_eq!(channels, ["y", "z"]);
    }
}
