//! The bench's publishing connection: paces publications at a fixed rate, or as fast as the
//! in-flight window allows, each payload stamped with its sequence number and send time.

use super::payload;
use super::shared::Shared;
use super::subscriber::open;
use super::wire::{self, opcode, WireError};
use crate::target::WsUrl;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::time::Instant;

/// How publications are paced.
#[derive(Debug, Clone, Copy)]
pub enum Pace {
    /// This many messages per second.
    Rate(f64),
    /// As fast as possible with at most this many messages not yet received by everyone.
    Window(u64),
}

/// What to publish and for how long.
#[derive(Debug, Clone)]
pub struct Schedule {
    /// Pacing.
    pub pace: Pace,
    /// How long to publish.
    pub duration: Duration,
    /// Most messages.
    pub max_messages: u64,
    /// Payload size in bytes.
    pub payload_bytes: usize,
    /// Channel to publish to.
    pub channel: String,
}

/// Publishes per `schedule`; returns how many messages were sent.
pub async fn run(
    target: SocketAddr,
    url: &WsUrl,
    schedule: &Schedule,
    shared: Arc<Shared>,
) -> Result<u64, WireError> {
    let conn = open(target, url, Ipv4Addr::LOCALHOST).await?;
    let id = conn.id().to_owned();
    let (stream, mut reader) = conn.into_parts();
    let (mut read, mut write) = stream.into_split();
    // Drain the publisher's own socket: count refusals, keep the receive window open.
    let drain_shared = shared.clone();
    let drain = tokio::spawn(async move {
        loop {
            while let Ok(Some(frame)) = reader.next_frame() {
                let bytes = &reader.bytes()[frame.payload];
                if frame.opcode == opcode::TEXT && bytes.starts_with(br#"{"type":"error""#) {
                    drain_shared.errors.fetch_add(1, Relaxed);
                    drain_shared
                        .sample_error(format!("publisher: {}", String::from_utf8_lossy(bytes)));
                }
            }
            match reader.fill(&mut read).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    });

    let start = Instant::now();
    let end = start + schedule.duration;
    let prefix = format!(
        r#"{{"type":"publish","payload":{{"id":"{id}","channel":"{}","data":""#,
        schedule.channel
    );
    let mut text = String::with_capacity(prefix.len() + schedule.payload_bytes + 8);
    let mut data = String::with_capacity(schedule.payload_bytes + 32);
    let mut frame = Vec::with_capacity(text.capacity() + 16);
    let mut seq = 0u64;
    let result = loop {
        if seq >= schedule.max_messages || Instant::now() >= end {
            break Ok(seq);
        }
        match schedule.pace {
            Pace::Rate(rate) => {
                let due = start + Duration::from_secs_f64(seq as f64 / rate);
                if due >= end {
                    break Ok(seq);
                }
                tokio::time::sleep_until(due).await;
            }
            Pace::Window(window) => {
                while seq >= shared.completed.load(Relaxed) + window {
                    let notified = shared.completion.notified();
                    if seq < shared.completed.load(Relaxed) + window {
                        break;
                    }
                    if tokio::time::timeout_at(end, notified).await.is_err() {
                        break;
                    }
                }
                if Instant::now() >= end {
                    break Ok(seq);
                }
            }
        }
        shared.arm(seq);
        payload::write(seq, shared.now_us(), schedule.payload_bytes, &mut data);
        text.clear();
        text.push_str(&prefix);
        text.push_str(&data);
        text.push_str("\"}}");
        frame.clear();
        wire::encode(opcode::TEXT, text.as_bytes(), &mut frame);
        if let Err(e) = write.write_all(&frame).await {
            break Err(e.into());
        }
        seq += 1;
        shared.published.store(seq, Relaxed);
    };
    drain.abort();
    result
}
