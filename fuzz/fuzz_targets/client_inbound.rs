//! A [`ClientSession`] past its handshake, fed arbitrary server frames (newline-separated).
//! Never panics, and every frame it asks to send is one a server can decode. After each line
//! the clock moves 1 s and due timers run; an empty line is silence (no frame, since any
//! frame proves the server alive), so pings, request and pong timeouts, lost connections and
//! reconnects (whose handshake a fuzzed `initial` completes) are reached too.
#![no_main]

use howl_client_core::{ClientConfig, ClientSession, Output};
use howl_fuzz::{frames, ID};
use howl_protocol::{decode_client, InitialPayload, ServerMessage};
use libfuzzer_sys::fuzz_target;

/// Carries out (checks and drops) every output.
fn drain(session: &mut ClientSession) {
    while let Some(output) = session.poll_output() {
        if let Output::Send(frame) = output {
            if let Err(e) = decode_client(&frame) {
                panic!("the session sent {frame:?}, which a server rejects: {e}");
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut session = ClientSession::new(ClientConfig::default(), 7).expect("valid settings");
    let mut now = 0;
    session.connect(now);
    session.subscribe(None, now);
    session.subscribe(Some("news"), now);
    session.watch("news").expect("a valid channel");
    session.on_open(now);
    let initial = ServerMessage::Initial(InitialPayload { id: ID.to_owned() });
    session.on_frame(&initial.to_json(), now);
    drain(&mut session);

    for frame in frames(data) {
        if !frame.is_empty() {
            session.on_frame(&frame, now);
            drain(&mut session);
        }
        now += 1_000;
        if session.next_deadline().is_some_and(|t| t <= now) {
            session.tick(now);
            drain(&mut session);
        }
        // The socket asked for by a reconnect opens at once.
        session.on_open(now);
    }
});
