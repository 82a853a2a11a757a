//! `howl-bench` smoke test against a real server, and its loopback-only rule.

use howl_testkit::TestServer;
use serde_json::Value;
use std::process::Output;

const BENCH: &str = env!("CARGO_BIN_EXE_howl-bench");

async fn bench(args: &[&str]) -> Output {
    let run = tokio::process::Command::new(BENCH)
        .args(args)
        .env_remove("RUST_BACKTRACE")
        .kill_on_drop(true)
        .output();
    tokio::time::timeout(std::time::Duration::from_secs(120), run)
        .await
        .expect("the bench finishes in time")
        .expect("the bench runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_run_loses_nothing_and_writes_a_well_formed_report() {
    let server = TestServer::start(&["--quote-interval", "0"]).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("result.json");
    let pid = std::process::id().to_string();
    let output = bench(&[
        "--url",
        &server.ws_url(),
        "--subscribers",
        "100",
        "--duration",
        "2",
        "--rate",
        "20",
        "--settle",
        "0.1",
        "--probe",
        "2",
        "--probe-resubscribe-every",
        "3",
        "--server-pid",
        &pid,
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ])
    .await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("lost 0"), "{stdout}");

    let report: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(report["connect"]["connected"], 100);
    assert_eq!(report["connect"]["failed"], 0);
    assert_eq!(report["dropped_connections"], 0);
    let published = report["published"].as_u64().unwrap();
    assert!((30..=40).contains(&published), "published {published}");
    assert_eq!(report["audience"], 100);
    assert_eq!(report["deliveries_expected"], published * 100);
    assert_eq!(report["deliveries_received"], published * 100);
    assert_eq!(report["lost"], 0);
    assert_eq!(report["out_of_order"], 0);
    assert_eq!(report["error_frames"], 0);
    assert_eq!(report["latency"]["count"], published * 100);
    let latency = &report["latency"];
    for (lower, higher) in [
        ("p50_us", "p90_us"),
        ("p90_us", "p99_us"),
        ("p99_us", "p999_us"),
        ("p999_us", "max_us"),
    ] {
        assert!(latency[lower].as_u64().unwrap() <= latency[higher].as_u64().unwrap());
    }
    assert!(report["deliveries_per_second"].as_f64().unwrap() > 0.0);
    // The two probes received the full stream (nothing lost above) and every request they sent
    // over the 2 s (a ping every 100 ms, unsubscribe + subscribe every third) was answered.
    let probe = &report["probe"];
    assert_eq!(probe["probes"], 2);
    assert_eq!(probe["unexpected_replies"], 0);
    for (kind, at_least) in [("ping", 30), ("unsubscribe", 8), ("subscribe", 8)] {
        let f = &probe[kind];
        let sent = f["sent"].as_u64().unwrap();
        assert!(sent >= at_least, "{kind}: {f}");
        assert_eq!(f["answered"].as_u64().unwrap(), sent, "{kind}: {f}");
        assert_eq!(f["unanswered"], 0, "{kind}: {f}");
        let (p50, p99, max) = (
            f["p50_us"].as_u64().unwrap(),
            f["p99_us"].as_u64().unwrap(),
            f["max_us"].as_u64().unwrap(),
        );
        assert!(0 < p50 && p50 <= p99 && p99 <= max, "{kind}: {f}");
    }
    assert!(stdout.contains("ping→pong"), "{stdout}");
    let server_figures = &report["server"];
    assert_eq!(
        server_figures["pids"],
        serde_json::json!([std::process::id()])
    );
    assert!(server_figures["rss_connected_kib"].as_u64().unwrap() > 0);
    assert!(server_figures["cpu_us_per_delivery"].as_f64().unwrap() >= 0.0);
    assert!(server_figures["cpu_wait_seconds"].as_f64().unwrap() >= 0.0);
    assert!(report["bench"]["cpu_wait_seconds"].as_f64().unwrap() >= 0.0);
    assert!(report["bench"]["bottleneck"].is_boolean());

    let svg = std::fs::read_to_string(dir.path().join("result.svg")).unwrap();
    assert!(
        svg.starts_with("<svg") && svg.contains("<polyline"),
        "{svg}"
    );
}

#[tokio::test]
async fn refuses_targets_outside_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("result.json");
    let output = bench(&[
        "--url",
        "ws://192.0.2.1:8000/ws",
        "--out",
        out.to_str().unwrap(),
    ])
    .await;
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("not a loopback address"), "{stderr}");
    assert!(!out.exists());
}
