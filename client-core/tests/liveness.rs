//! Ping schedule, round-trip times and dead-connection detection.

mod common;
use common::*;
use howl_client_core::*;

#[test]
fn pings_go_out_every_interval_after_opening() {
    let mut d = Driver::open(config());
    d.now = 0;
    let mut times = Vec::new();
    for _ in 0..4 {
        for (t, o) in d.advance(5_000) {
            assert_eq!(o, Output::Send(ping("id-1")));
            times.push(t);
        }
        d.frame(&pong(1)); // keep it alive
    }
    assert_eq!(times, [5_000, 10_000, 15_000, 20_000]);
}

#[test]
fn a_custom_interval_is_honoured() {
    let mut d = Driver::open(ClientConfig {
        ping_interval_ms: 1_500,
        ..config()
    });
    let out = d.advance(3_100);
    let times: Vec<u64> = out.iter().map(|(t, _)| *t).collect();
    assert_eq!(times, [1_500, 3_000]);
}

#[test]
fn pong_reports_the_round_trip_time() {
    let mut d = Driver::open(config());
    d.advance(5_000);
    d.now += 42;
    let out = d.frame(&pong(1_795_000_000_000));
    assert_eq!(
        events(&out),
        [Event::Pong {
            rtt_ms: 42,
            server_time: 1_795_000_000_000
        }]
    );
    // A pong nobody asked for is ignored.
    assert_eq!(d.frame(&pong(1)), []);
}

#[test]
fn silence_after_a_ping_means_the_connection_is_lost() {
    let mut d = Driver::open(config());
    d.advance(5_000); // ping at 5 s; server silent from now on
                      // The second ping at 10 s still goes out; the pong timeout counts from the first.
    let out = d.advance(10_000);
    assert_eq!(
        out,
        [
            (10_000, Output::Send(ping("id-1"))),
            (
                15_000,
                Output::Close {
                    code: close::HEARTBEAT_TIMEOUT,
                    reason: "ping timeout"
                }
            ),
            (
                15_000,
                Output::Event(Event::ConnectionLost(LostReason::PingTimeout))
            ),
            (
                15_000,
                Output::Event(Event::StateChanged(ConnectionState::Reconnecting))
            ),
            (
                15_000,
                Output::Event(Event::ReconnectScheduled {
                    attempt: 1,
                    delay_ms: 100
                })
            ),
        ]
    );
    assert_eq!(d.s.id(), None);
}

#[test]
fn any_traffic_counts_as_alive() {
    let mut d = Driver::open(config());
    d.subscribed("news");
    // The server never answers pings but publishes every 9 s: just inside the 10 s timeout.
    let mut pings = 0;
    for seq in 1..=10 {
        let out = d.advance_plain(9_000);
        assert!(out.iter().all(|o| matches!(o, Output::Send(_))), "{out:?}");
        pings += out.len();
        let out = d.frame(&message("news", seq, 1000 + seq, serde_json::json!(seq)));
        assert_eq!(messages(&out).len(), 1);
    }
    assert_eq!(pings, 18, "pings kept going every 5 s over 90 s");
    assert_eq!(d.s.state(), ConnectionState::Open);
    // Then silence: lost 10 s after the next unanswered ping.
    let out = d.advance(20_000);
    assert!(
        out.contains(&(
            105_000,
            Output::Event(Event::ConnectionLost(LostReason::PingTimeout))
        )),
        "{out:?}"
    );
}

#[test]
fn zero_interval_turns_pings_off() {
    let mut d = Driver::open(ClientConfig {
        ping_interval_ms: 0,
        ..config()
    });
    assert_eq!(d.s.next_deadline(), None);
    assert_eq!(d.advance(600_000), []);
    assert_eq!(d.s.state(), ConnectionState::Open);
}
