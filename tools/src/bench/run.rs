//! The phases of a run: connect, measure idle memory, hold, publish, drain, report.

use super::options::BenchOptions;
use super::probe::Request;
use super::progress::Progress;
use super::publisher::{self, Pace, Schedule};
use super::report::{Bench, Connect, Latency, Probe, Report, Server};
use super::shared::Shared;
use super::subscriber::{self, Plan, ProbePlan};
use super::{plot, procfs};
use crate::target::WsUrl;
use anyhow::{bail, Context};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// File descriptors kept free for everything but subscriber sockets.
const SPARE_FDS: u64 = 64;

/// Where the plot of a result file goes: beside it, with `.svg`.
pub fn plot_path(json: &Path) -> PathBuf {
    json.with_extension("svg")
}

/// Parses `url` and resolves it to an IPv4 loopback address.
async fn resolve(url: &str) -> anyhow::Result<(SocketAddr, Arc<WsUrl>)> {
    let url = WsUrl::parse(url)?;
    let target = url.resolve_loopback().await?;
    if !target.is_ipv4() {
        bail!("howl-bench spreads connections over 127.0.0.x and needs IPv4 targets");
    }
    Ok((target, Arc::new(url)))
}

/// `read` of every pid, summed; `None` without pids.
fn sum_over<T: std::iter::Sum<T>>(
    pids: &[u32],
    read: fn(u32) -> std::io::Result<T>,
) -> anyhow::Result<Option<T>> {
    if pids.is_empty() {
        return Ok(None);
    }
    let values = pids
        .iter()
        .map(|&pid| read(pid).with_context(|| format!("cannot read /proc/{pid}")))
        .collect::<anyhow::Result<Vec<T>>>()?;
    Ok(Some(values.into_iter().sum()))
}

/// Waits until `done()` or `limit` passes, checking every 50 ms.
async fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    let mut tick = tokio::time::interval(Duration::from_millis(50));
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tick.tick().await;
    }
}

/// Runs the bench per `options`, writes the JSON result and the plot, and returns the report.
pub async fn run(options: BenchOptions, threads: usize) -> anyhow::Result<Report> {
    options.validate().map_err(anyhow::Error::msg)?;
    let mut hubs = Vec::new();
    for url in &options.url {
        hubs.push(resolve(url).await?);
    }
    let (publish_target, publish_url) = match &options.publish_url {
        Some(url) => resolve(url).await?,
        None => hubs[0].clone(),
    };
    let limit = procfs::raise_nofile_limit().context("cannot raise the open-files limit")?;
    let n = options.subscribers as u64;
    if n + SPARE_FDS > limit {
        bail!(
            "{n} subscribers need about {} open files; this process may open {limit}",
            n + SPARE_FDS
        );
    }
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    let pids = options.server_pid.clone();
    let rss_before = sum_over(&pids, procfs::rss_kib)?;

    let shared = Arc::new(Shared::new());
    let stop = CancellationToken::new();
    let mut progress = Progress::new(options.quiet);

    // Connect every subscriber, a bounded number at a time.
    progress.phase("connect", n, shared.clone(), |s| {
        s.connected.load(Relaxed) + s.connect_failed.load(Relaxed)
    });
    let connect_started = Instant::now();
    let channel: Arc<str> = options.channel.as_str().into();
    let permits = Arc::new(tokio::sync::Semaphore::new(options.connect_concurrency));
    let ping =
        (options.ping_interval > 0.0).then(|| Duration::from_secs_f64(options.ping_interval));
    let connect_timeout = Duration::from_secs_f64(options.connect_timeout);
    let probe_channel: Arc<str> = options.probe_channel.as_str().into();
    let probe_interval = Duration::from_secs_f64(options.probe_interval);
    let probes = probe_indices(options.subscribers, options.probe);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..options.subscribers {
        let probe = probes.binary_search(&i).ok().map(|k| ProbePlan {
            channel: probe_channel.clone(),
            interval: probe_interval,
            offset: probe_interval.mul_f64(k as f64 / probes.len() as f64),
            resubscribe_every: options.probe_resubscribe_every,
        });
        let (target, url) = &hubs[i % hubs.len()];
        let plan = Plan {
            target: *target,
            url: url.clone(),
            source: Ipv4Addr::new(127, 0, 0, 1 + (i % usize::from(options.sources)) as u8),
            channel: channel.clone(),
            ping,
            ping_offset: ping.map_or(Duration::ZERO, |p| p.mul_f64((i as f64 * 0.618_034) % 1.0)),
            probe,
        };
        let (shared, stop, permits) = (shared.clone(), stop.clone(), permits.clone());
        tasks.spawn(async move {
            let permit = permits.acquire_owned().await.expect("semaphore open");
            subscriber::run(plan, shared, stop, connect_timeout, permit).await;
        });
    }
    let all_in = wait_until(connect_timeout + Duration::from_secs(1), || {
        shared.connected.load(Relaxed) + shared.connect_failed.load(Relaxed) >= n
    })
    .await;
    let connect_seconds = connect_started.elapsed().as_secs_f64();
    if !all_in {
        shared.sample_error("the connect phase timed out".into());
    }
    let connected = shared.connected.load(Relaxed);

    // Idle memory, then the hold.
    progress.phase("settle", 1, shared.clone(), |_| 0);
    tokio::time::sleep(Duration::from_secs_f64(options.settle)).await;
    let rss_connected = sum_over(&pids, procfs::rss_kib)?;
    if options.hold > 0.0 {
        let hold_ms = (options.hold * 1000.0) as u64;
        progress.phase("hold", hold_ms, shared.clone(), |_| 0);
        let started = Instant::now();
        let held = async {
            loop {
                tokio::time::sleep(Duration::from_millis(200)).await;
                if started.elapsed().as_millis() as u64 >= hold_ms {
                    break;
                }
            }
        };
        held.await;
    }

    // Publish.
    let audience = connected - shared.dropped.load(Relaxed);
    shared.audience.store(audience, Relaxed);
    let pace = match options.rate {
        Some(rate) => Pace::Rate(rate),
        None => Pace::Window(options.max_in_flight),
    };
    let schedule = Schedule {
        pace,
        duration: Duration::from_secs_f64(options.duration),
        max_messages: options.max_messages,
        payload_bytes: options.payload_bytes,
        channel: options.channel.clone(),
    };
    let expected_msgs = match pace {
        Pace::Rate(rate) => ((rate * options.duration).ceil() as u64).min(options.max_messages),
        Pace::Window(_) => options.max_messages.min(1_000_000),
    };
    progress.phase("publish", expected_msgs, shared.clone(), |s| {
        s.published.load(Relaxed)
    });
    let server_cpu_start = sum_over(&pids, procfs::cpu_seconds)?;
    let own_cpu_start = procfs::own_cpu_seconds();
    let own_pid = std::process::id();
    let server_wait_start = sum_over(&pids, procfs::run_delay_seconds)?;
    let own_wait_start = procfs::run_delay_seconds(own_pid)?;
    let publish_start_us = shared.now_us();
    shared.probing.store(true, Relaxed);
    let published =
        match publisher::run(publish_target, &publish_url, &schedule, shared.clone()).await {
            Ok(count) => count,
            Err(error) => {
                shared.sample_error(format!("publisher: {error}"));
                shared.published.load(Relaxed)
            }
        };
    shared.probing.store(false, Relaxed);
    let expected = published * audience;
    progress.phase("drain", expected, shared.clone(), |s| {
        s.received.load(Relaxed)
    });
    wait_until(Duration::from_secs_f64(options.drain_timeout), || {
        shared.received.load(Relaxed) >= expected && shared.probe_outstanding.load(Relaxed) == 0
    })
    .await;
    let end_us = shared.now_us();
    let own_cpu = procfs::own_cpu_seconds() - own_cpu_start;
    let server_cpu_end = sum_over(&pids, procfs::cpu_seconds)?;
    let server_wait = sum_over(&pids, procfs::run_delay_seconds)?.unwrap_or(0.0)
        - server_wait_start.unwrap_or(0.0);
    let own_wait = procfs::run_delay_seconds(own_pid)? - own_wait_start;
    let rss_end = sum_over(&pids, procfs::rss_kib)?;
    let dropped = shared.dropped.load(Relaxed);
    stop.cancel();
    progress.finish();
    let _ = tokio::time::timeout(Duration::from_secs(10), async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    tasks.abort_all();

    let received = shared.received.load(Relaxed);
    let last_us = shared.last_delivery_us.load(Relaxed).max(publish_start_us);
    let delivery_seconds = (last_us - publish_start_us) as f64 / 1e6;
    let wall_seconds = (end_us - publish_start_us) as f64 / 1e6;
    let latency = {
        let h = shared.latency.lock().expect("histogram lock");
        Latency {
            count: h.len(),
            mean_us: if h.is_empty() { 0.0 } else { h.mean() },
            p50_us: h.value_at_quantile(0.5),
            p90_us: h.value_at_quantile(0.9),
            p99_us: h.value_at_quantile(0.99),
            p999_us: h.value_at_quantile(0.999),
            max_us: h.max(),
        }
    };
    let server = (!pids.is_empty()).then(|| {
        let before = rss_before.unwrap_or(0);
        let at_connected = rss_connected.unwrap_or(0);
        let cpu = server_cpu_end.unwrap_or(0.0) - server_cpu_start.unwrap_or(0.0);
        Server {
            pids: pids.clone(),
            rss_before_kib: before,
            rss_connected_kib: at_connected,
            rss_end_kib: rss_end.unwrap_or(0),
            rss_per_connection_bytes: (at_connected.saturating_sub(before) * 1024) as f64
                / connected.max(1) as f64,
            cpu_seconds: cpu,
            cpu_us_per_delivery: if received > 0 {
                cpu * 1e6 / received as f64
            } else {
                0.0
            },
            cpu_cores_used: cpu / wall_seconds.max(1e-9),
            cpu_wait_seconds: server_wait.max(0.0),
        }
    });
    let probe = (options.probe > 0).then(|| {
        let stats = shared.probe.lock().expect("probe lock");
        Probe {
            probes: options.probe,
            interval_seconds: options.probe_interval,
            resubscribe_every: options.probe_resubscribe_every,
            ping: stats.figures(Request::Ping),
            unsubscribe: stats.figures(Request::Unsubscribe),
            subscribe: stats.figures(Request::Subscribe),
            unexpected_replies: stats.unexpected,
        }
    });
    let utilisation = own_cpu / wall_seconds.max(1e-9) / cores as f64;
    let errors = shared.error_samples.lock().expect("samples lock").clone();
    let report = Report {
        connect: Connect {
            requested: n,
            connected,
            failed: shared.connect_failed.load(Relaxed),
            seconds: connect_seconds,
        },
        hold_seconds: options.hold,
        dropped_connections: dropped,
        published,
        audience,
        deliveries_expected: expected,
        deliveries_received: received,
        lost: expected.saturating_sub(received),
        out_of_order: shared.out_of_order.load(Relaxed),
        error_frames: shared.errors.load(Relaxed),
        delivery_seconds,
        deliveries_per_second: if delivery_seconds > 0.0 {
            received as f64 / delivery_seconds
        } else {
            0.0
        },
        messages_per_second: published as f64 / options.duration,
        latency,
        probe,
        server,
        bench: Bench {
            cores,
            threads,
            cpu_seconds: own_cpu,
            utilisation,
            cpu_wait_seconds: own_wait.max(0.0),
            bottleneck: utilisation >= 0.9,
        },
        errors,
        options,
    };
    write_outputs(&report, &shared)?;
    Ok(report)
}

/// Which of `subscribers` run the probe: `probes` indices spread evenly over them (so probes
/// sit at different places in the server's fan-out order), ascending.
pub fn probe_indices(subscribers: usize, probes: usize) -> Vec<usize> {
    let probes = probes.min(subscribers);
    (0..probes).map(|k| k * subscribers / probes).collect()
}

/// Writes the JSON result and, beside it, the latency plot.
fn write_outputs(report: &Report, shared: &Shared) -> anyhow::Result<()> {
    let path = &report.options.out;
    let json = serde_json::to_string_pretty(report)?;
    std::fs::write(path, json + "\n")
        .with_context(|| format!("cannot write {}", path.display()))?;
    let title = format!(
        "howl-bench: {} subscribers, {} deliveries/s, p99 {:.2} ms",
        report.audience,
        report.deliveries_per_second.round(),
        report.latency.p99_us as f64 / 1000.0
    );
    let svg = plot::percentile_svg(&shared.latency.lock().expect("histogram lock"), &title);
    let svg_path = plot_path(path);
    std::fs::write(&svg_path, svg)
        .with_context(|| format!("cannot write {}", svg_path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spreads_the_probes_over_the_subscribers() {
        assert_eq!(probe_indices(1000, 0), Vec::<usize>::new());
        assert_eq!(probe_indices(1000, 1), vec![0]);
        assert_eq!(probe_indices(1000, 4), vec![0, 250, 500, 750]);
        assert_eq!(probe_indices(3, 5), vec![0, 1, 2]);
    }
}
