//! A server [`Session`] fed an arbitrary sequence of frames (newline-separated). Never panics,
//! and after every frame:
//! - subscriptions and watches never exceed the limit;
//! - the `connect` state is consistent: requests other than `connect`, `ping` and
//!   `disconnect` fail with `not_connected` until a `connect` succeeds, exactly one `connect`
//!   succeeds, and each later one fails with `already_connected`;
//! - the session's subscriptions and watches follow its actions (a channel is subscribed
//!   right after `Action::Subscribe` for it, gone right after `Action::Unsubscribe`, and no
//!   action other than those changes them; the same for watches).
#![no_main]

use howl::session::{Action, Limits, Session};
use howl_fuzz::{frames, ID};
use howl_protocol::{decode_client, ClientMessage, ErrorCode};
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeSet;

/// Small enough that the fuzzer reaches it often.
const MAX_SUBSCRIPTIONS: usize = 3;

fuzz_target!(|data: &[u8]| {
    // The default rate limits, with frames 50 ms apart: bursts are refused now and then,
    // which the checks below allow for.
    let limits = Limits {
        max_subscriptions: MAX_SUBSCRIPTIONS,
        ..Limits::default()
    };
    let mut session = Session::new(ID.parse().expect("ID is a UUID"), &limits);
    let mut connected = false;
    for (i, frame) in frames(data).enumerate() {
        let before_subs: BTreeSet<String> = session.subscriptions().map(str::to_owned).collect();
        let before_watches: BTreeSet<String> = session.watches().map(str::to_owned).collect();
        // What the frame is, read independently of the session.
        let decoded = decode_client(&frame).ok();
        let result = session.handle_text(&frame, i as u64 * 50);
        if matches!(result, Ok(Action::RateLimitExceeded)) {
            return; // the connection ends here
        }
        if matches!(&result, Err(e) if e.code == ErrorCode::RateLimited) {
            // A refused frame changes nothing.
            let subs: BTreeSet<String> = session.subscriptions().map(str::to_owned).collect();
            let watches: BTreeSet<String> = session.watches().map(str::to_owned).collect();
            assert_eq!((subs, watches), (before_subs, before_watches), "{frame:?}");
            continue;
        }

        let subs: BTreeSet<String> = session.subscriptions().map(str::to_owned).collect();
        let watches: BTreeSet<String> = session.watches().map(str::to_owned).collect();
        assert!(
            subs.len() <= MAX_SUBSCRIPTIONS,
            "{} subscriptions",
            subs.len()
        );
        assert!(
            watches.len() <= MAX_SUBSCRIPTIONS,
            "{} watches",
            watches.len()
        );

        match (&decoded, &result) {
            (None, Ok(action)) => panic!("{frame:?} does not decode, yet gave {action:?}"),
            (Some(m), _) if m.id() != ID => {
                let code = result.as_ref().err().map(|e| e.code);
                assert_eq!(code, Some(ErrorCode::WrongId), "{frame:?}");
            }
            (Some(ClientMessage::Connect(_)), _) => {
                let expected = if connected {
                    Err(ErrorCode::AlreadyConnected)
                } else {
                    Ok(Action::Nothing)
                };
                assert_eq!(
                    result.as_ref().map_err(|e| e.code),
                    expected.as_ref().map_err(|c| *c)
                );
                connected = true;
            }
            (Some(ClientMessage::Ping(_) | ClientMessage::Disconnect(_)), _) => {
                assert!(result.is_ok(), "{frame:?}: {result:?}");
            }
            (Some(_), _) if !connected => {
                let code = result.as_ref().err().map(|e| e.code);
                assert_eq!(code, Some(ErrorCode::NotConnected), "{frame:?}");
            }
            _ => {}
        }

        let (mut expect_subs, mut expect_watches) = (before_subs, before_watches);
        match &result {
            Ok(Action::Subscribe { channel, .. }) => {
                expect_subs.insert(channel.clone());
            }
            Ok(Action::Unsubscribe { channel, .. }) => {
                expect_subs.remove(channel);
            }
            Ok(Action::Watch { channel }) => {
                expect_watches.insert(channel.clone());
            }
            Ok(Action::Unwatch { channel }) => {
                expect_watches.remove(channel);
            }
            _ => {}
        }
        assert_eq!(subs, expect_subs, "subscriptions after {frame:?}");
        assert_eq!(watches, expect_watches, "watches after {frame:?}");
    }
});
