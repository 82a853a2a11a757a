use super::*;
use std::sync::Arc;

#[test]
fn overflow_marks_slow_consumer_and_drops_queue() {
    let outbox = Outbox::new(2, 1024);
    assert_eq!(outbox.push(Frame::from("a")), Push::Queued);
    assert_eq!(outbox.push(Frame::from("b")), Push::Queued);
    assert_eq!(outbox.push(Frame::from("c")), Push::Overflow(3));
    assert_eq!(outbox.push(Frame::from("d")), Push::Closed);
    let (frames, close) = outbox.drain();
    assert!(frames.is_empty());
    assert_eq!(close, Some(Closing::SlowConsumer(Limit::Frames)));
}

#[test]
fn a_few_large_frames_overflow_the_byte_limit() {
    let outbox = Outbox::new(100, 10);
    assert_eq!(outbox.push(Frame::from("12345")), Push::Queued);
    let (frames, _) = outbox.drain();
    assert_eq!(frames.len(), 1);
    // Draining gave the bytes back.
    assert_eq!(outbox.push(Frame::from("12345")), Push::Queued);
    assert_eq!(outbox.push(Frame::from("67890")), Push::Queued);
    assert_eq!(outbox.push(Frame::from("x")), Push::Overflow(3));
    assert_eq!(outbox.drain().1, Some(Closing::SlowConsumer(Limit::Bytes)));
}

#[test]
fn drain_keeps_order() {
    let outbox = Outbox::new(8, 1024);
    for text in ["1", "2", "3"] {
        outbox.push(Frame::from(text));
    }
    let (frames, close) = outbox.drain();
    let texts: Vec<&str> = frames.iter().map(|f| f.as_str()).collect();
    assert_eq!(texts, ["1", "2", "3"]);
    assert_eq!(close, None);
    assert!(outbox.is_empty());
}

#[tokio::test]
async fn push_wakes_the_writer() {
    let outbox = std::sync::Arc::new(Outbox::new(8, 1024));
    let waiter = tokio::spawn({
        let outbox = outbox.clone();
        async move { outbox.ready().await }
    });
    outbox.push(Frame::from("x"));
    tokio::time::timeout(std::time::Duration::from_secs(5), waiter)
        .await
        .unwrap()
        .unwrap();
}

/// A connected loopback pair: the server's side (for the outbox) and the client's.
async fn socket_pair() -> (TcpStream, TcpStream) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap());
    let (client, accepted) = tokio::join!(client, listener.accept());
    (accepted.unwrap().0, client.unwrap())
}

const WAIT: std::time::Duration = std::time::Duration::from_secs(10);
const BATCH: Batch = Batch {
    frames: 256,
    bytes: 256 * 1024,
};

#[tokio::test]
async fn an_idle_socket_is_written_by_the_pusher_and_a_blocked_one_by_the_writer_in_order() {
    use tokio::io::AsyncReadExt;
    let (server, mut client) = socket_pair().await;
    let outbox = Arc::new(Outbox::for_socket(100_000, usize::MAX, 256 * 1024, server));
    assert_eq!(outbox.push(Frame::text("first")), Push::Queued);
    assert!(outbox.is_empty(), "written on the spot");
    let mut first = [0; 7];
    tokio::time::timeout(WAIT, client.read_exact(&mut first))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&first, b"\x81\x05first");
    // Push until the socket stops taking frames: the rest queues, in order.
    let big = "x".repeat(60_000);
    let mut pushed = 0u32;
    while outbox.is_empty() {
        assert!(pushed < 10_000, "a loopback socket's buffers are bounded");
        outbox.push(Frame::text(&format!("{pushed:08}{big}")));
        pushed += 1;
    }
    for _ in 0..3 {
        outbox.push(Frame::text(&format!("{pushed:08}{big}")));
        pushed += 1;
    }
    let writer = tokio::spawn({
        let outbox = outbox.clone();
        async move {
            while !outbox.is_empty() {
                outbox.write(BATCH, WAIT).await.unwrap();
            }
        }
    });
    let frame_len = 4 + 8 + big.len();
    let mut frame = vec![0; frame_len];
    for expected in 0..pushed {
        tokio::time::timeout(WAIT, client.read_exact(&mut frame))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(&frame[..2], &[0x81, 126]);
        assert_eq!(&frame[4..12], format!("{expected:08}").as_bytes());
    }
    tokio::time::timeout(WAIT, writer).await.unwrap().unwrap();
}

#[tokio::test]
async fn a_blocked_writer_fails_at_once_on_overflow_and_finishes_a_partly_written_frame() {
    use tokio::io::AsyncReadExt;
    let (server, mut client) = socket_pair().await;
    let outbox = Arc::new(Outbox::for_socket(4, usize::MAX, 256 * 1024, server));
    let big = "y".repeat(32 << 20);
    // The first frame is far larger than the socket's buffers: partly written, queued.
    outbox.push(Frame::text(&big));
    assert_eq!(outbox.len(), 1);
    let writer = tokio::spawn({
        let outbox = outbox.clone();
        async move { outbox.write(BATCH, WAIT).await }
    });
    for _ in 0..4 {
        outbox.push(Frame::text("z"));
    }
    assert!(matches!(
        tokio::time::timeout(WAIT, writer).await.unwrap().unwrap(),
        Err(WriteError::SlowConsumer(Limit::Frames))
    ));
    // The partly written frame stays, then the close frame; the rest was dropped.
    assert_eq!(
        outbox.seal(false, Some(Frame::close(Some((4001, "slow"))))),
        0
    );
    assert_eq!(outbox.len(), 2);
    let reading = tokio::spawn(async move {
        let mut all = Vec::new();
        client.read_to_end(&mut all).await.map(|_| all)
    });
    tokio::time::timeout(WAIT, outbox.flush())
        .await
        .unwrap()
        .unwrap();
    drop(outbox);
    let all = tokio::time::timeout(WAIT, reading)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let close = Frame::close(Some((4001, "slow")));
    assert_eq!(
        all.len(),
        Frame::text(&big).wire().len() + close.wire().len()
    );
    assert!(all.ends_with(close.wire()));
}

#[tokio::test]
async fn a_stalled_write_times_out() {
    let (server, _client) = socket_pair().await;
    let outbox = Outbox::for_socket(100_000, usize::MAX, 256 * 1024, server);
    let big = "s".repeat(32 << 20);
    outbox.push(Frame::text(&big));
    let short = std::time::Duration::from_millis(200);
    assert!(matches!(
        tokio::time::timeout(WAIT, outbox.write(BATCH, short))
            .await
            .unwrap(),
        Err(WriteError::Stalled)
    ));
}
