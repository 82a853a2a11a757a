//! `howl-bench`: the fan-out load generator (loopback targets only).

use clap::Parser;
use howl_tools::bench::{self, BenchOptions};

fn main() -> anyhow::Result<()> {
    let options = BenchOptions::parse();
    let threads = options
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |c| c.get()))
        .max(1);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()?;
    let report = runtime.block_on(bench::run(options, threads))?;
    print!("{}", report.summary());
    println!(
        "  result         {} (plot {})",
        report.options.out.display(),
        bench::run::plot_path(&report.options.out).display()
    );
    Ok(())
}
