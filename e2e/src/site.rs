//! The files a browser test loads, served by `howl --ui-dir`: the SDK package, the README's
//! example page (`index.html`) and the SDK test page (`sdk.html`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The SDK test page: loads the package and exposes `HowlClient` plus recording helpers.
pub const SDK_PAGE: &str = include_str!("../pages/sdk.html");

/// Injected before every page script: counts the SDK's pending timers, tracks WebSockets
/// and collects console errors and uncaught exceptions (see `window.__probe`).
pub const PROBE_SCRIPT: &str = include_str!("../pages/probe.js");

/// A temporary directory for `howl --ui-dir`.
pub struct Site {
    dir: tempfile::TempDir,
}

impl Site {
    /// `pkg/` (the SDK), `index.html` (the README example) and `sdk.html`.
    pub fn sdk() -> anyhow::Result<Self> {
        let site = Self {
            dir: tempfile::tempdir()?,
        };
        let pkg = sdk_package()?;
        let target = site.path().join("pkg");
        std::fs::create_dir_all(&target)?;
        for entry in std::fs::read_dir(pkg)? {
            let entry = entry?;
            std::fs::copy(entry.path(), target.join(entry.file_name()))?;
        }
        site.add_file("index.html", &readme_example()?)?;
        site.add_file("sdk.html", SDK_PAGE)?;
        Ok(site)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The directory as a `--ui-dir` argument.
    pub fn arg(&self) -> String {
        self.path().display().to_string()
    }

    /// Writes (or replaces) a file.
    pub fn add_file(&self, name: &str, contents: &str) -> anyhow::Result<()> {
        Ok(std::fs::write(self.path().join(name), contents)?)
    }
}

/// The SDK package, built once per test process with `scripts/build-sdk.sh` into
/// `target/e2e-sdk/<test binary>/pkg/` (so tests never run a stale build), its `npm pack`
/// tarball beside it. Set `HOWL_SDK_PKG` to use an already built package instead.
pub fn sdk_package() -> anyhow::Result<PathBuf> {
    static PKG: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    PKG.get_or_init(|| build_sdk().map_err(|e| format!("{e:#}")))
        .clone()
        .map_err(|e| anyhow::anyhow!(e))
}

fn build_sdk() -> anyhow::Result<PathBuf> {
    if let Ok(dir) = std::env::var("HOWL_SDK_PKG") {
        return Ok(PathBuf::from(dir));
    }
    let root = crate::workspace_root();
    let exe = std::env::current_exe()?;
    let name = exe.file_stem().and_then(|s| s.to_str()).unwrap_or("e2e");
    let out = root.join("target/e2e-sdk").join(name).join("pkg");
    let output = Command::new("bash")
        .arg(root.join("scripts/build-sdk.sh"))
        .arg("--out")
        .arg(&out)
        .current_dir(&root)
        .output()?;
    anyhow::ensure!(
        output.status.success(),
        "scripts/build-sdk.sh failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(out)
}

/// The package's `npm pack` tarball (`howl-client-<version>.tgz`, beside [`sdk_package`]'s
/// directory), what web developers install.
pub fn sdk_tarball() -> anyhow::Result<PathBuf> {
    let pkg = sdk_package()?;
    let dir = pkg.parent().unwrap_or(Path::new("."));
    let mut tarballs = std::fs::read_dir(dir)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.starts_with("howl-client-") && name.ends_with(".tgz")
        });
    let tarball = tarballs
        .next()
        .ok_or_else(|| anyhow::anyhow!("no howl-client-*.tgz in {}", dir.display()))?;
    anyhow::ensure!(
        tarballs.next().is_none(),
        "more than one howl-client-*.tgz in {}",
        dir.display()
    );
    Ok(tarball)
}

/// The plain-HTML example of `client-wasm/README.md` (the html block between the
/// `<!-- example:start -->` and `<!-- example:end -->` markers), so the test serves exactly
/// what the README shows.
pub fn readme_example() -> anyhow::Result<String> {
    let readme = std::fs::read_to_string(crate::workspace_root().join("client-wasm/README.md"))?;
    let section = readme
        .split("<!-- example:start -->")
        .nth(1)
        .and_then(|rest| rest.split("<!-- example:end -->").next())
        .ok_or_else(|| anyhow::anyhow!("README example markers not found"))?;
    let code = section
        .split("```html")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .ok_or_else(|| anyhow::anyhow!("no ```html block between the README example markers"))?;
    Ok(code.trim_start().to_owned())
}
