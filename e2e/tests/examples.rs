//! The SDK as web developers install it: the `npm pack` tarball of `scripts/build-sdk.sh`,
//! unpacked into a copy of each example's `node_modules/` (what `npm install <tarball>` does
//! for a package without dependencies), then type-checked against the packaged `.d.ts`, built
//! by the real Vite, esbuild and webpack from the workspace's `node_modules` (none configured
//! about the `.wasm`), served by a real `howl`
//! (`--ui-dir`) and run in headless Chromium; a message published over the HTTP API must
//! appear on the page. Also: the Vite dev server, the package with no bundler (an import map),
//! and importing the package under Node (SSR).

use howl_e2e::site::{sdk_tarball, PROBE_SCRIPT};
use howl_e2e::{wait, workspace_root, Browser, ThreadedServer, WAIT};
use serde_json::{json, Value};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

/// A scratch copy of `examples/<name>` with the SDK tarball installed, under the workspace's
/// `target/` so Node finds the workspace's `node_modules/` (Vite, esbuild, webpack, TypeScript).
struct Example {
    dir: tempfile::TempDir,
}

impl Example {
    fn install(name: &str) -> anyhow::Result<Self> {
        let root = workspace_root();
        let scratch = root.join("target/e2e-examples");
        std::fs::create_dir_all(&scratch)?;
        let example = Self {
            dir: tempfile::Builder::new()
                .prefix(&format!("{name}-"))
                .tempdir_in(scratch)?,
        };
        copy_dir(&root.join("examples").join(name), example.path())?;
        let package = example.path().join("node_modules/howl-client");
        std::fs::create_dir_all(&package)?;
        let tarball = sdk_tarball()?;
        run(Command::new("tar")
            .arg("-xzf")
            .arg(&tarball)
            .arg("--strip-components=1")
            .arg("-C")
            .arg(&package))?;
        Ok(example)
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `npm run <script>` (npm puts the workspace's `node_modules/.bin` on PATH); its output.
    fn npm_run(&self, script: &str) -> anyhow::Result<String> {
        let started = Instant::now();
        let output = run(Command::new("npm")
            .args(["run", "--silent", script])
            .current_dir(self.path()))?;
        eprintln!(
            "npm run {script} in {}: {:.1?}",
            self.path().display(),
            started.elapsed()
        );
        Ok(output)
    }
}

/// Copies a directory tree, leaving out what a build or an install writes.
fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if name == "node_modules" || name == "dist" {
            continue;
        }
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &to.join(&name))?;
        } else {
            std::fs::copy(entry.path(), to.join(&name))?;
        }
    }
    Ok(())
}

/// Runs a command to success; its stdout.
fn run(command: &mut Command) -> anyhow::Result<String> {
    let output = command.output()?;
    anyhow::ensure!(
        output.status.success(),
        "{command:?} failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(String::from_utf8(output.stdout)?)
}

/// Opens `url` (an example's page) and waits until it subscribed to `news`; publishes a message
/// over howl's HTTP API and waits for the page to show it.
async fn shows_a_published_message(howl: &ThreadedServer, url: &str) -> anyhow::Result<()> {
    let browser = Browser::launch().await?;
    browser.add_init_script(PROBE_SCRIPT).await?;
    browser.goto(url).await?;
    let status = browser
        .wait_for(
            "the example to subscribe (or fail)",
            "(t => t.startsWith('subscribed') || t.startsWith('error') ? t : null)\
             (document.getElementById('status').textContent)",
        )
        .await?;
    assert_eq!(status, "subscribed to news", "the page's status");
    assert_eq!(howl.subscribers("news").await, 1);

    let (code, reply) = howl
        .post_json(
            "/api/channels/news/publish",
            &json!({ "headline": "Moon is full" }),
        )
        .await;
    assert_eq!(code, 200, "publish: {reply}");
    let shown = browser
        .wait_for(
            "the message on the page",
            "document.querySelector('#messages li')?.textContent",
        )
        .await?;
    assert_eq!(shown, r#"news: {"headline":"Moon is full"}"#);
    let errors = browser.eval("return __probe.errors;", vec![]).await?;
    assert_eq!(errors, json!([]), "page errors");
    browser.quit().await
}

/// The `.wasm` files of a build output (at any depth).
fn wasm_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(wasm_files(&path));
        } else if path.extension().is_some_and(|e| e == "wasm") {
            found.push(path);
        }
    }
    found
}

#[test]
fn the_packaged_typings_type_check_every_example() -> anyhow::Result<()> {
    for name in ["vite-ts", "esbuild", "webpack"] {
        let example = Example::install(name)?;
        example.npm_run("typecheck")?;
    }
    // The check can fail: a wrong call against the packaged typings is an error.
    let example = Example::install("vite-ts")?;
    let main = example.path().join("src/main.ts");
    let source = std::fs::read_to_string(&main)?;
    let wrong = source.replace(
        r#"client.channel(params.get("channel") ?? "news")"#,
        "client.channel(42)",
    );
    assert_ne!(
        wrong, source,
        "the example no longer makes the call this test breaks"
    );
    std::fs::write(&main, wrong)?;
    let failed = example.npm_run("typecheck").unwrap_err().to_string();
    assert!(failed.contains("main.ts"), "tsc names the file: {failed}");
    Ok(())
}

/// Builds example `name` (`npm run build`), serves its `dist/` through `howl --ui-dir`, and
/// checks that the page shows a message published to its channel. `emits_wasm`: whether the
/// bundler emits the `.wasm` (Vite and webpack find `new URL(…, import.meta.url)`); esbuild
/// does not, and `init()` falls back to the copy embedded in the package.
async fn the_build_shows_a_published_message(name: &str, emits_wasm: bool) -> anyhow::Result<()> {
    let example = Example::install(name)?;
    example.npm_run("build")?;
    let dist = example.path().join("dist");
    assert_eq!(
        wasm_files(&dist).len(),
        usize::from(emits_wasm),
        ".wasm files in {}",
        dist.display()
    );
    let howl = ThreadedServer::start(&[
        "--quote-interval",
        "0",
        "--ui-dir",
        &dist.display().to_string(),
    ]);
    shows_a_published_message(&howl, &howl.http_url("/")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_vite_build_shows_a_message_from_a_channel() -> anyhow::Result<()> {
    the_build_shows_a_published_message("vite-ts", true).await
}

/// `esbuild src/main.ts --bundle --format=esm --outdir=dist`: no option about the `.wasm`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_esbuild_bundle_shows_a_message_from_a_channel() -> anyhow::Result<()> {
    the_build_shows_a_published_message("esbuild", false).await
}

/// `webpack --mode production` with no configuration file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_webpack_build_shows_a_message_from_a_channel() -> anyhow::Result<()> {
    the_build_shows_a_published_message("webpack", true).await
}

/// No bundler: the unpacked package served as it is, its bare name mapped by an import map.
const NO_BUNDLER_PAGE: &str = r#"<!doctype html>
<meta charset="utf-8">
<script type="importmap">
  { "imports": { "howl-client": "./node_modules/howl-client/howl_client.js" } }
</script>
<p id="status">connecting</p>
<ul id="messages"></ul>
<script type="module">
  import init, { HowlClient } from "howl-client";
  const status = document.getElementById("status");
  try {
    await init();
    const client = await HowlClient.connect("/ws");
    client.onMessage(({ channel, data }) => {
      const item = document.createElement("li");
      item.textContent = `${channel}: ${JSON.stringify(data)}`;
      document.getElementById("messages").append(item);
    });
    await client.subscribe("news");
    status.textContent = "subscribed to news";
  } catch (error) {
    status.textContent = `error: ${error.message}`;
  }
</script>
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_package_works_without_a_bundler() -> anyhow::Result<()> {
    let example = Example::install("esbuild")?;
    std::fs::write(example.path().join("index.html"), NO_BUNDLER_PAGE)?;
    let howl = ThreadedServer::start(&[
        "--quote-interval",
        "0",
        "--ui-dir",
        &example.path().display().to_string(),
    ]);
    shows_a_published_message(&howl, &howl.http_url("/")).await
}

/// A child process in its own process group, killed with its children on drop.
struct Spawned(Child);

impl Drop for Spawned {
    fn drop(&mut self) {
        let group = format!("-{}", self.0.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_vite_dev_server_shows_a_message_from_a_channel() -> anyhow::Result<()> {
    let example = Example::install("vite-ts")?;
    let howl = ThreadedServer::start(&["--quote-interval", "0"]);
    let port = howl_testkit::free_port();
    let vite = workspace_root().join("node_modules/.bin/vite");
    let mut dev = Spawned(
        Command::new(vite)
            .args([
                "--host",
                "127.0.0.1",
                "--strictPort",
                "--port",
                &port.to_string(),
            ])
            .current_dir(example.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()?,
    );
    wait::until("the Vite dev server to listen", WAIT, || {
        let exited = dev.0.try_wait();
        async move {
            if let Some(status) = exited? {
                anyhow::bail!("vite exited: {status}");
            }
            Ok(tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .ok()
                .map(drop))
        }
    })
    .await?;
    // The page comes from Vite, the WebSocket goes straight to howl (any origin is allowed).
    let url = format!("http://127.0.0.1:{port}/?ws={}", howl.ws_url());
    shows_a_published_message(&howl, &url).await
}

#[test]
fn the_package_imports_under_node_and_describes_itself() -> anyhow::Result<()> {
    let example = Example::install("esbuild")?;
    // SSR: importing it where there is no `window` does not throw; the .wasm subpath resolves
    // and, given as bytes to `init`, instantiates under Node too.
    let script = r#"
        import { readFileSync } from "node:fs";
        const sdk = await import("howl-client");
        const wasm = new URL(import.meta.resolve("howl-client/howl_client_wasm_bg.wasm"));
        await sdk.default({ module_or_path: readFileSync(wasm) });
        const pkg = JSON.parse(readFileSync(new URL(import.meta.resolve("howl-client/package.json")), "utf8"));
        console.log(JSON.stringify({
            window: typeof window, init: typeof sdk.default, client: typeof sdk.HowlClient,
            connect: typeof sdk.HowlClient.connect, wasm: wasm.pathname.split("/").pop(), pkg,
        }));
    "#;
    let output = run(Command::new("node")
        .args(["--input-type=module", "-e", script])
        .current_dir(example.path()))?;
    let seen: Value = serde_json::from_str(output.trim())?;
    assert_eq!(seen["window"], "undefined");
    assert_eq!(seen["init"], "function");
    assert_eq!(seen["client"], "function");
    assert_eq!(seen["connect"], "function");
    assert_eq!(seen["wasm"], "howl_client_wasm_bg.wasm");

    let pkg = &seen["pkg"];
    assert_eq!(pkg["name"], "howl-client");
    assert_eq!(pkg["version"], crate_version()?, "the crate's version");
    assert_eq!(pkg["type"], "module");
    assert_eq!(pkg["license"], "MIT");
    assert_eq!(pkg["sideEffects"], false);
    assert_eq!(pkg["exports"]["."]["types"], "./howl_client.d.ts");
    assert_eq!(pkg["exports"]["."]["import"], "./howl_client.js");
    // Exactly the package's files are in the tarball, and every export points at one of them.
    let mut packed: Vec<String> =
        std::fs::read_dir(example.path().join("node_modules/howl-client"))?
            .map(|e| Ok(e?.file_name().to_string_lossy().into_owned()))
            .collect::<anyhow::Result<_>>()?;
    packed.sort();
    let mut files: Vec<String> = serde_json::from_value(pkg["files"].clone())?;
    files.push("package.json".into());
    files.sort();
    assert_eq!(packed, files);

    // npm shows the README outside the repository: no relative link is left in it.
    let readme =
        std::fs::read_to_string(example.path().join("node_modules/howl-client/README.md"))?;
    let relative: Vec<&str> = readme
        .match_indices("](")
        .map(|(at, _)| &readme[at + 2..])
        .filter(|target| !(target.starts_with("http") || target.starts_with('#')))
        .map(|target| target.split(')').next().unwrap_or(target))
        .collect();
    assert_eq!(
        relative,
        Vec::<&str>::new(),
        "relative links in the packaged README"
    );
    assert!(
        readme.contains("(in the Howl repository)"),
        "rewritten links"
    );
    Ok(())
}

/// `version` of `client-wasm/Cargo.toml`'s `[package]`.
fn crate_version() -> anyhow::Result<String> {
    let manifest = std::fs::read_to_string(workspace_root().join("client-wasm/Cargo.toml"))?;
    manifest
        .lines()
        .find_map(|line| line.strip_prefix("version = \""))
        .and_then(|rest| rest.split('"').next())
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("no version in client-wasm/Cargo.toml"))
}
