//! One bench subscriber: connects from its source address, completes the handshake,
//! subscribes, then counts deliveries and measures their latency until told to stop.

use super::payload;
use super::probe::{self, Request, Tracker};
use super::shared::{Shared, LATENCY_BATCH};
use super::wire::{self, opcode, FrameReader, WireError};
use crate::target::WsUrl;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpSocket, TcpStream};
use tokio_util::sync::CancellationToken;

/// Bytes of read buffer per connection (grown for larger bursts).
const READ_BUFFER: usize = 4096;

/// Where and how one subscriber connects.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The hub's address.
    pub target: SocketAddr,
    /// The hub's URL (path and Host header).
    pub url: Arc<WsUrl>,
    /// Local address to connect from.
    pub source: Ipv4Addr,
    /// Channel to subscribe to.
    pub channel: Arc<str>,
    /// Interval of protocol pings; `None` for none.
    pub ping: Option<Duration>,
    /// Delay of the first ping, to spread pings of many connections over the interval.
    pub ping_offset: Duration,
    /// Set on the subscribers that also run the fairness probe.
    pub probe: Option<ProbePlan>,
}

/// What a probing subscriber does besides receiving the stream (see [`probe`]).
#[derive(Debug, Clone)]
pub struct ProbePlan {
    /// The quiet channel it leaves and rejoins.
    pub channel: Arc<str>,
    /// Time between its pings.
    pub interval: Duration,
    /// Delay of the first ping, to spread several probes over the interval.
    pub offset: Duration,
    /// Pings between two `unsubscribe` + `subscribe` rounds; 0 for none.
    pub resubscribe_every: u32,
}

/// An open, subscribed connection.
pub struct Connection {
    stream: TcpStream,
    reader: FrameReader,
    id: String,
}

/// Opens a connection from `source`, performs the upgrade and the `initial`/`connect`
/// handshake; returns the connection and its id.
pub async fn open(
    target: SocketAddr,
    url: &WsUrl,
    source: Ipv4Addr,
) -> Result<Connection, WireError> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::from((source, 0)))?;
    let mut stream = socket.connect(target).await?;
    stream.set_nodelay(true)?;
    let mut reader = FrameReader::new(READ_BUFFER);
    wire::upgrade(&mut stream, url, &mut reader).await?;
    let initial = next_text(&mut stream, &mut reader).await?;
    let id = extract_id(&initial)
        .ok_or_else(|| WireError::Protocol(format!("expected initial, got {initial}")))?;
    let mut out = Vec::new();
    let connect = format!(r#"{{"type":"connect","payload":{{"id":"{id}"}}}}"#);
    wire::encode(opcode::TEXT, connect.as_bytes(), &mut out);
    stream.write_all(&out).await?;
    Ok(Connection { stream, reader, id })
}

impl Connection {
    /// The id the hub assigned.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Splits into the socket and its reader.
    pub fn into_parts(self) -> (TcpStream, FrameReader) {
        (self.stream, self.reader)
    }

    /// Subscribes to `channel` and waits for the confirmation.
    pub async fn subscribe(&mut self, channel: &str) -> Result<(), WireError> {
        let mut out = Vec::new();
        let frame = format!(
            r#"{{"type":"subscribe","payload":{{"id":"{}","channel":"{channel}"}}}}"#,
            self.id
        );
        wire::encode(opcode::TEXT, frame.as_bytes(), &mut out);
        self.stream.write_all(&out).await?;
        loop {
            let text = next_text(&mut self.stream, &mut self.reader).await?;
            if text.starts_with(r#"{"type":"subscribe_confirmation""#) {
                return Ok(());
            }
            if text.starts_with(r#"{"type":"error""#) {
                return Err(WireError::Refused(text));
            }
        }
    }
}

/// The id in an `initial` frame.
fn extract_id(initial: &str) -> Option<String> {
    let rest = initial.strip_prefix(r#"{"type":"initial","payload":{"id":""#)?;
    Some(rest[..rest.find('"')?].to_owned())
}

/// Reads until the next text frame (answering pings) and returns it.
async fn next_text(stream: &mut TcpStream, reader: &mut FrameReader) -> Result<String, WireError> {
    loop {
        while let Some(frame) = reader.next_frame()? {
            let bytes = &reader.bytes()[frame.payload.clone()];
            match frame.opcode {
                opcode::TEXT => return Ok(String::from_utf8_lossy(bytes).into_owned()),
                opcode::CLOSE => return Err(WireError::Closed(close_code(bytes))),
                opcode::PING => {
                    let mut out = Vec::new();
                    wire::encode(opcode::PONG, bytes, &mut out);
                    stream.write_all(&out).await?;
                }
                _ => {}
            }
        }
        if reader.fill(stream).await? == 0 {
            return Err(WireError::Closed(None));
        }
    }
}

fn close_code(payload: &[u8]) -> Option<u16> {
    (payload.len() >= 2).then(|| u16::from_be_bytes([payload[0], payload[1]]))
}

/// Connects, subscribes and then serves one subscriber until `stop`; every outcome is
/// counted in `shared`. `permit` (bounding concurrent connects) is released once connected.
pub async fn run(
    plan: Plan,
    shared: Arc<Shared>,
    stop: CancellationToken,
    timeout: Duration,
    permit: tokio::sync::OwnedSemaphorePermit,
) {
    let opened = tokio::time::timeout(timeout, async {
        let mut conn = open(plan.target, &plan.url, plan.source).await?;
        conn.subscribe(&plan.channel).await?;
        if let Some(probe) = &plan.probe {
            conn.subscribe(&probe.channel).await?;
        }
        Ok::<_, WireError>(conn)
    })
    .await;
    drop(permit);
    let conn = match opened {
        Ok(Ok(conn)) => conn,
        Ok(Err(error)) => {
            shared.connect_failed.fetch_add(1, Relaxed);
            shared.sample_error(format!("connect from {}: {error}", plan.source));
            return;
        }
        Err(_) => {
            shared.connect_failed.fetch_add(1, Relaxed);
            shared.sample_error(format!("connect from {}: timed out", plan.source));
            return;
        }
    };
    shared.connected.fetch_add(1, Relaxed);
    if let Err(error) = serve(conn, &plan, &shared, &stop).await {
        if !stop.is_cancelled() {
            shared.dropped.fetch_add(1, Relaxed);
            shared.sample_error(format!("subscriber dropped: {error}"));
        }
    }
}

/// Reads deliveries until `stop`; sends a protocol ping every interval; a probing
/// subscriber also sends and times its probe requests while `shared.probing` is set, and
/// adds its figures to `shared.probe` when it stops.
async fn serve(
    conn: Connection,
    plan: &Plan,
    shared: &Shared,
    stop: &CancellationToken,
) -> Result<(), WireError> {
    let ping_frame = {
        let mut out = Vec::new();
        let text = format!(r#"{{"type":"ping","payload":{{"id":"{}"}}}}"#, conn.id);
        wire::encode(opcode::TEXT, text.as_bytes(), &mut out);
        out
    };
    let id = conn.id.clone();
    let (mut stream, mut reader) = conn.into_parts();
    let mut tracker = plan.probe.as_ref().map(|_| Tracker::new());
    let (probe_period, probe_offset) = plan
        .probe
        .as_ref()
        .map_or((Duration::from_secs(3600), Duration::ZERO), |p| {
            (p.interval, p.offset)
        });
    let mut probe_tick = tokio::time::interval_at(
        tokio::time::Instant::now() + probe_offset.min(probe_period),
        probe_period,
    );
    probe_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut probe_pings = 0u32;
    let mut requests = Vec::new();
    let period = plan.ping.unwrap_or(Duration::from_secs(3600));
    let mut ping = tokio::time::interval_at(
        tokio::time::Instant::now() + plan.ping_offset.min(period),
        period,
    );
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let finder = memchr::memmem::Finder::new(payload::DATA_MARKER);
    let mut latencies = Vec::with_capacity(LATENCY_BATCH);
    let mut last_seq: Option<u64> = None;
    let mut pongs = Vec::new();
    let result = loop {
        // Timers before the socket: they fire rarely, while a loaded socket is nearly always
        // readable and would otherwise delay them.
        let filled = tokio::select! {
            biased;
            _ = stop.cancelled() => break Ok(()),
            _ = ping.tick(), if plan.ping.is_some() => {
                if let Err(e) = stream.write_all(&ping_frame).await {
                    break Err(e.into());
                }
                continue;
            }
            _ = probe_tick.tick(), if tracker.is_some() => {
                let (Some(t), Some(p)) = (tracker.as_mut(), plan.probe.as_ref()) else {
                    continue;
                };
                if !shared.probing.load(Relaxed) {
                    continue;
                }
                probe_pings += 1;
                let kinds: &[Request] =
                    if p.resubscribe_every > 0 && probe_pings % p.resubscribe_every == 0 {
                        &Request::ALL
                    } else {
                        &[Request::Ping]
                    };
                requests.clear();
                let before = t.outstanding();
                let now_us = shared.now_us();
                for &kind in kinds {
                    let reference = t.send(kind, now_us);
                    probe::request_frame(kind, &id, &p.channel, reference, &mut requests);
                }
                sync_outstanding(shared, before, t.outstanding());
                if let Err(e) = stream.write_all(&requests).await {
                    break Err(e.into());
                }
                continue;
            }
            r = reader.fill(&mut stream) => r,
        };
        match filled {
            Ok(0) => break Err(WireError::Closed(None)),
            Err(e) => break Err(e.into()),
            Ok(_) => {}
        }
        let now_us = shared.now_us();
        let mut count = 0u64;
        let mut closed = None;
        loop {
            let frame = match reader.next_frame() {
                Ok(Some(frame)) => frame,
                Ok(None) => break,
                Err(e) => {
                    closed = Some(Err(e));
                    break;
                }
            };
            let bytes = &reader.bytes()[frame.payload];
            match frame.opcode {
                opcode::TEXT => {
                    if let Some((seq, sent_us)) = payload::parse(bytes, &finder) {
                        count += 1;
                        latencies.push(now_us.saturating_sub(sent_us));
                        if last_seq.is_some_and(|last| seq <= last) {
                            shared.out_of_order.fetch_add(1, Relaxed);
                        }
                        last_seq = Some(seq);
                        shared.delivered(seq);
                    } else if bytes.starts_with(br#"{"type":"error""#) {
                        shared.errors.fetch_add(1, Relaxed);
                        shared.sample_error(String::from_utf8_lossy(bytes).into_owned());
                    } else if let Some(t) = tracker.as_mut() {
                        if let Some((kind, reference)) = probe::parse_reply(bytes) {
                            let before = t.outstanding();
                            t.reply(kind, reference, now_us);
                            sync_outstanding(shared, before, t.outstanding());
                        }
                    }
                }
                opcode::PING => wire::encode(opcode::PONG, bytes, &mut pongs),
                opcode::CLOSE => {
                    closed = Some(Err(WireError::Closed(close_code(bytes))));
                    break;
                }
                _ => {}
            }
        }
        if count > 0 {
            shared.received.fetch_add(count, Relaxed);
            shared.last_delivery_us.fetch_max(now_us, Relaxed);
            if latencies.len() >= LATENCY_BATCH {
                shared.record_latencies(&mut latencies);
            }
        }
        if !pongs.is_empty() {
            if let Err(e) = stream.write_all(&pongs).await {
                break Err(e.into());
            }
            pongs.clear();
        }
        if let Some(end) = closed {
            break end;
        }
    };
    if !latencies.is_empty() {
        shared.record_latencies(&mut latencies);
    }
    if let Some(t) = tracker {
        sync_outstanding(shared, t.outstanding(), 0);
        let stats = t.finish(shared.now_us());
        shared.probe.lock().expect("probe lock").merge(&stats);
    }
    result
}

/// Moves the run's count of outstanding probe requests by one tracker's change.
fn sync_outstanding(shared: &Shared, before: usize, after: usize) {
    if after > before {
        shared
            .probe_outstanding
            .fetch_add((after - before) as u64, Relaxed);
    } else if before > after {
        shared
            .probe_outstanding
            .fetch_sub((before - after) as u64, Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_id_of_initial() {
        assert_eq!(
            extract_id(r#"{"type":"initial","payload":{"id":"ab-1"}}"#).as_deref(),
            Some("ab-1")
        );
        assert_eq!(extract_id(r#"{"type":"pong","payload":{}}"#), None);
    }
}
