//! Settings: command-line flags override environment variables, which override keys in an
//! optional TOML file (`--config`), which override the built-in defaults.

mod validate;

pub use validate::{InvalidSetting, MAX_BYTES, MAX_DURATION, MIN_DURATION};

use clap::{CommandFactory, FromArgMatches, Parser, ValueEnum};
use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Everything `howl` can be told.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "howl",
    version,
    about = "Howl: a real-time pub/sub WebSocket hub"
)]
pub struct Config {
    /// TOML file with any of these settings (keys as the long flag names, e.g. `quote-interval = 2`).
    #[arg(long, env = "HOWL_CONFIG")]
    pub config: Option<PathBuf>,

    /// Address to listen on.
    #[arg(long, env = "HOWL_LISTEN", default_value = "0.0.0.0:8000")]
    pub listen: SocketAddr,

    /// Second address, for the node's trusted side: the server API (`/api`), `/metrics`, and
    /// WebSockets of trusted publishers, which may publish to and subscribe to any channel
    /// without a token. When set, the public address serves neither `/api` nor `/metrics`.
    /// Bind it to an interface only your backends reach (e.g. a private network).
    #[arg(long, env = "HOWL_INTERNAL_LISTEN")]
    pub internal_listen: Option<SocketAddr>,

    /// Path of the WebSocket endpoint.
    #[arg(long, env = "HOWL_WS_PATH", default_value = "/ws")]
    pub ws_path: String,

    /// Seconds between wisdom quotes on the default channel; 0 turns the distributor off.
    #[arg(long, env = "HOWL_QUOTE_INTERVAL", default_value = "5", value_parser = parse_seconds)]
    pub quote_interval: Duration,

    /// Seconds of silence (no ping, no frame) after which a connection is dropped.
    #[arg(long, env = "HOWL_HEARTBEAT_TIMEOUT", default_value = "15", value_parser = parse_seconds)]
    pub heartbeat_timeout: Duration,

    /// Seconds of silence from a client after which the server sends it a WebSocket Ping
    /// (answered by browsers without running any script, so background tabs stay connected);
    /// 0 turns server pings off. The Pong counts as activity for `--heartbeat-timeout`.
    #[arg(long, env = "HOWL_WS_PING_INTERVAL", default_value = "10", value_parser = parse_seconds)]
    pub ws_ping_interval: Duration,

    /// Seconds a write to a client may stay blocked before it is dropped as a slow consumer.
    #[arg(long, env = "HOWL_WRITE_TIMEOUT", default_value = "10", value_parser = parse_seconds)]
    pub write_timeout: Duration,

    /// Seconds graceful shutdown waits for clients to receive their queued frames and close.
    #[arg(long, env = "HOWL_SHUTDOWN_TIMEOUT", default_value = "10", value_parser = parse_seconds)]
    pub shutdown_timeout: Duration,

    /// Frames that may wait for one client before it is dropped as a slow consumer.
    #[arg(long, env = "HOWL_OUTBOX_CAPACITY", default_value = "1024")]
    pub outbox_capacity: usize,

    /// Largest incoming message in bytes (WebSocket frames: close 1009; HTTP bodies: 413).
    #[arg(long, env = "HOWL_MAX_MESSAGE_SIZE", default_value = "65536")]
    pub max_message_size: usize,

    /// Most channels one connection may subscribe to (and, separately, watch).
    #[arg(long, env = "HOWL_MAX_SUBSCRIPTIONS", default_value = "256")]
    pub max_subscriptions: usize,

    /// Seconds a new connection has to send a valid `connect`; then it is closed with 4002.
    /// Nothing sent before `connect`, a `ping` included, extends it.
    #[arg(long, env = "HOWL_CONNECT_TIMEOUT", default_value = "10", value_parser = parse_seconds)]
    pub connect_timeout: Duration,

    /// Most WebSocket connections the node holds; more are refused with HTTP 503
    /// [default: 90 % of the open-files limit].
    #[arg(long, env = "HOWL_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,

    /// Most WebSocket connections from one client address; more are refused with HTTP 429.
    #[arg(long, env = "HOWL_MAX_CONNECTIONS_PER_IP", default_value = "1000")]
    pub max_connections_per_ip: usize,

    /// Frames per second one client may send on average; a frame over the limit is answered
    /// with `rate_limited` and not processed.
    #[arg(long, env = "HOWL_CLIENT_RATE", default_value = "50")]
    pub client_rate: f64,

    /// Frames one client may send at once above `--client-rate`.
    #[arg(long, env = "HOWL_CLIENT_BURST", default_value = "200")]
    pub client_burst: u32,

    /// Seconds a client may keep exceeding its rate limits before it is closed with 4005.
    #[arg(long, env = "HOWL_CLIENT_RATE_GRACE", default_value = "10", value_parser = parse_seconds)]
    pub client_rate_grace: Duration,

    /// Publishes per second one client may send on average (tighter than `--client-rate`:
    /// each publish fans out to every subscriber).
    #[arg(long, env = "HOWL_PUBLISH_RATE", default_value = "20")]
    pub publish_rate: f64,

    /// Publishes one client may send at once above `--publish-rate`.
    #[arg(long, env = "HOWL_PUBLISH_BURST", default_value = "50")]
    pub publish_burst: u32,

    /// Bytes of channel history the node keeps in memory at most (embedded broker); past it,
    /// the least recently published channels lose their history (and get a new epoch).
    #[arg(long, env = "HOWL_HISTORY_MAX_BYTES", default_value = "67108864")]
    pub history_max_bytes: usize,

    /// Bytes of frames that may wait for one client before it is dropped as a slow consumer
    /// (besides `--outbox-capacity` frames).
    #[arg(long, env = "HOWL_OUTBOX_MAX_BYTES", default_value = "1048576")]
    pub outbox_max_bytes: usize,

    /// WebSocket read buffer per connection, in bytes. Clients send little (pings,
    /// subscribes), so a small buffer keeps idle connections cheap; larger messages are read
    /// in several steps.
    #[arg(long, env = "HOWL_READ_BUFFER_SIZE", default_value = "512")]
    pub read_buffer_size: usize,

    /// Most bytes of queued frames one write to a client's socket takes (always at least one
    /// frame). Frames go out as soon as they are queued; this bounds how much of a backlog
    /// one write takes, so a connection with a long queue gets back to reading its client.
    #[arg(long, env = "HOWL_WRITE_BUFFER_SIZE", default_value = "16384")]
    pub write_buffer_size: usize,

    /// Origins allowed to open WebSockets (comma-separated, spaces tolerated); empty allows
    /// every origin. Compared by scheme, host and port, case-insensitively, with default
    /// ports (http 80, https 443) ignored.
    #[arg(long, env = "HOWL_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,

    /// Directory with the built web UI to serve at `/` instead of the embedded one.
    #[arg(long, env = "HOWL_UI_DIR")]
    pub ui_dir: Option<PathBuf>,

    /// Log line format.
    #[arg(long, env = "HOWL_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,

    /// Redis URL (e.g. `redis://127.0.0.1:6379`) that turns on cluster mode: nodes sharing it
    /// share channels. Without it the embedded single-node broker is used.
    #[arg(long, env = "HOWL_REDIS_URL")]
    pub redis_url: Option<String>,

    /// Prefix of every Redis channel and key the cluster uses.
    #[arg(long, env = "HOWL_REDIS_PREFIX", default_value = "howl:")]
    pub redis_prefix: String,

    /// Seconds after which a silent node's subscriber counts and distributor lock expire in
    /// Redis (each node refreshes them every third of this).
    #[arg(long, env = "HOWL_REDIS_TTL", default_value = "6", value_parser = parse_seconds)]
    pub redis_ttl: Duration,

    /// This node's unique name in the cluster [default: a fresh UUID].
    #[arg(long, env = "HOWL_NODE_ID")]
    pub node_id: Option<String>,

    /// Seconds a client has to send a complete HTTP request head, counted from the moment the
    /// connection opens or its previous response was sent (so it also closes idle keep-alive
    /// connections).
    #[arg(long, env = "HOWL_HTTP_HEADER_TIMEOUT", default_value = "10", value_parser = parse_seconds)]
    pub http_header_timeout: Duration,

    /// Seconds a client has to send a whole `/api` request body, counted from the end of its
    /// head; later, the request is answered 408 and the connection closed.
    #[arg(long, env = "HOWL_HTTP_BODY_TIMEOUT", default_value = "30", value_parser = parse_seconds)]
    pub http_body_timeout: Duration,

    /// Seconds an HTTP connection may go with nothing read or written (e.g. a client that
    /// stopped reading its response, a request stuck in the server) before it is closed.
    #[arg(long, env = "HOWL_HTTP_IDLE_TIMEOUT", default_value = "60", value_parser = parse_seconds)]
    pub http_idle_timeout: Duration,

    /// Most `/api` requests served at once; more are answered 503 `overloaded`.
    #[arg(long, env = "HOWL_API_MAX_CONCURRENT", default_value = "256")]
    pub api_max_concurrent: usize,

    /// Secret that connection tokens (JWT, HS256) are signed with; turns on secured mode.
    /// Without a token key Howl runs in open mode: any client may subscribe and publish.
    #[arg(long, env = "HOWL_TOKEN_SECRET", hide_env_values = true)]
    pub token_secret: Option<Secret>,

    /// PEM file with the public key connection tokens are signed for (RSA: RS256, EC P-256:
    /// ES256, told apart by the key); turns on secured mode.
    #[arg(long, env = "HOWL_TOKEN_PUBLIC_KEY")]
    pub token_public_key: Option<PathBuf>,

    /// Key every `/api` request must present as `Authorization: Bearer KEY`. Without one,
    /// `/api` answers only clients on loopback addresses.
    #[arg(long, env = "HOWL_API_KEY", hide_env_values = true)]
    pub api_key: Option<Secret>,

    /// The token verifier built from `--token-secret` or `--token-public-key` by
    /// [`Config::from_args`]; `None` in open mode.
    #[arg(skip)]
    pub verifier: Option<std::sync::Arc<crate::auth::Verifier>>,

    /// The `[[namespaces]]` tables of the config file (no flag or variable).
    #[arg(skip)]
    pub namespaces: Vec<crate::permissions::Namespace>,

    /// The rules built by [`Config::from_args`] from the mode and `namespaces`.
    #[arg(skip)]
    pub permissions: std::sync::Arc<crate::permissions::Permissions>,

    /// Each namespace's history and presence options, built from `namespaces`.
    #[arg(skip)]
    pub channels: std::sync::Arc<crate::channel_options::ChannelOptionsTable>,
}

/// A setting that is a credential: it is never shown in debug output or logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// The secret itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(Self(text.to_owned()))
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Why the settings could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A flag, variable or value is invalid (or `--help`/`--version` was asked for).
    #[error(transparent)]
    Cli(#[from] clap::Error),
    /// The config file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file named by `--config` / `HOWL_CONFIG`.
        path: PathBuf,
        /// Why reading it failed.
        source: std::io::Error,
    },
    /// The config file is not valid TOML.
    #[error("config file {path} is not valid TOML: {source}")]
    Toml {
        /// The config file.
        path: PathBuf,
        /// The parser's error, with the line and column.
        source: toml::de::Error,
    },
    /// The config file has a key that is no setting.
    #[error("config file {path}: unknown setting {key:?}")]
    UnknownKey {
        /// The config file.
        path: PathBuf,
        /// The key as written in the file.
        key: String,
    },
    /// A value in the config file has an unusable type.
    #[error(
        "config file {path}: setting {key:?} must be a string, number, boolean or list of them"
    )]
    BadValue {
        /// The config file.
        path: PathBuf,
        /// The key whose value is unusable.
        key: String,
    },
    /// A setting is outside the range it may take.
    #[error(transparent)]
    Invalid(#[from] InvalidSetting),
    /// The token key could not be set up.
    #[error(transparent)]
    Key(#[from] crate::auth::KeyError),
    /// A `[[namespaces]]` table is unusable (an unknown key or rule, a repeated name).
    #[error("config file {path}: [[namespaces]]: {reason}")]
    Namespaces {
        /// The config file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// Seconds as a decimal number (`1.5`, `2s`). Out-of-range values are refused here (negative,
/// not finite) or by [`Config::validate`] (too large for a timeout), never by a panic.
fn parse_seconds(text: &str) -> Result<Duration, String> {
    let seconds: f64 = text
        .trim_end_matches('s')
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    if !seconds.is_finite() || seconds < 0.0 {
        return Err(format!(
            "{text:?} is not a finite number of seconds of 0 or more"
        ));
    }
    // Anything over the limit is refused by `validate` with the range; clamping here keeps
    // values beyond what a `Duration` holds from failing with a vaguer message.
    Ok(Duration::try_from_secs_f64(seconds).unwrap_or(Duration::MAX))
}

impl Config {
    /// The limits every connection's session enforces.
    pub fn session_limits(&self) -> crate::session::Limits {
        crate::session::Limits {
            max_subscriptions: self.max_subscriptions,
            client_rate: self.client_rate,
            client_burst: self.client_burst,
            publish_rate: self.publish_rate,
            publish_burst: self.publish_burst,
            rate_grace_ms: self.client_rate_grace.as_millis().min(u64::MAX as u128) as u64,
        }
    }

    /// How long a client may be silent before the connection checks on it: the ping
    /// interval, or the heartbeat timeout when pings are off or would come later.
    pub fn silence_before_check(&self) -> Duration {
        if self.ws_ping_interval.is_zero() {
            self.heartbeat_timeout
        } else {
            self.ws_ping_interval.min(self.heartbeat_timeout)
        }
    }

    /// `--max-connections`, or its default.
    pub fn max_connections(&self) -> usize {
        self.max_connections
            .unwrap_or_else(crate::limits::default_max_connections)
    }

    /// Reads the settings from `args` (the first is the program name), the environment and
    /// the config file the arguments or environment name.
    pub fn from_args<I, T>(args: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
        let mut command = Self::command();
        let mut namespaces = Vec::new();
        // A first, lenient pass only to find the config file; the second pass reports errors.
        let first = Self::command()
            .ignore_errors(true)
            .try_get_matches_from(&args);
        if let Some(path) = first
            .ok()
            .and_then(|m| m.get_one::<PathBuf>("config").cloned())
        {
            let (settings, tables) = read_file(&path)?;
            namespaces = tables;
            for (key, values) in settings {
                let id = key.replace('-', "_");
                if id == "config" || !command.get_arguments().any(|a| a.get_id() == id.as_str()) {
                    return Err(ConfigError::UnknownKey { path, key });
                }
                command = command.mut_arg(id, |arg| arg.default_values(values));
            }
        }
        let matches = command.try_get_matches_from(&args)?;
        let mut config = Self::from_arg_matches(&matches)?;
        config.validate()?;
        config.verifier = crate::auth::Verifier::from_settings(
            config.token_secret.as_ref().map(Secret::expose),
            config.token_public_key.as_deref(),
        )?
        .map(std::sync::Arc::new);
        config.permissions = std::sync::Arc::new(crate::permissions::Permissions::new(
            config.verifier.is_some(),
            &namespaces,
        ));
        config.channels = std::sync::Arc::new(crate::channel_options::ChannelOptionsTable::new(
            &namespaces,
        ));
        config.namespaces = namespaces;
        Ok(config)
    }

    /// Settings for a server on 127.0.0.1 with an ephemeral port and every other default;
    /// `extra` are further flags, e.g. `["--quote-interval", "0.1"]`.
    pub fn for_tests(extra: &[&str]) -> Self {
        let args = ["howl", "--listen", "127.0.0.1:0"].iter().chain(extra);
        Self::from_args(args).expect("test settings are valid")
    }
}

type Settings = Vec<(String, Vec<String>)>;

/// The settings of a config file, and its `[[namespaces]]` tables.
fn read_file(
    path: &PathBuf,
) -> Result<(Settings, Vec<crate::permissions::Namespace>), ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.clone(),
        source,
    })?;
    let mut table: toml::Table = text.parse().map_err(|source| ConfigError::Toml {
        path: path.clone(),
        source,
    })?;
    let bad = |reason: String| ConfigError::Namespaces {
        path: path.clone(),
        reason,
    };
    let namespaces: Vec<crate::permissions::Namespace> = match table.remove("namespaces") {
        Some(value) => value.try_into().map_err(|e| bad(e.to_string()))?,
        None => Vec::new(),
    };
    for (i, ns) in namespaces.iter().enumerate() {
        if namespaces[..i].iter().any(|other| other.name == ns.name) {
            return Err(bad(format!("namespace {:?} is listed twice", ns.name)));
        }
    }
    Ok((read_settings(path, table)?, namespaces))
}

fn read_settings(path: &std::path::Path, table: toml::Table) -> Result<Settings, ConfigError> {
    let scalar = |value: &toml::Value| match value {
        toml::Value::String(s) => Some(s.clone()),
        toml::Value::Integer(i) => Some(i.to_string()),
        toml::Value::Float(f) => Some(f.to_string()),
        toml::Value::Boolean(b) => Some(b.to_string()),
        _ => None,
    };
    table
        .into_iter()
        .map(|(key, value)| {
            let values = match &value {
                toml::Value::Array(items) => items.iter().map(scalar).collect(),
                other => scalar(other).map(|v| vec![v]),
            };
            match values {
                Some(values) => Ok((key, values)),
                None => Err(ConfigError::BadValue {
                    path: path.to_owned(),
                    key,
                }),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file(text: &str) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(text.as_bytes()).unwrap();
        file
    }

    #[test]
    fn defaults() {
        let config = Config::from_args(["howl"]).unwrap();
        assert_eq!(config.listen, "0.0.0.0:8000".parse().unwrap());
        assert_eq!(config.quote_interval, Duration::from_secs(5));
        assert_eq!(config.heartbeat_timeout, Duration::from_secs(15));
        assert_eq!(config.max_message_size, 65536);
    }

    #[test]
    fn file_values_apply_and_flags_override_them() {
        let f = file("quote-interval = 0.5\nmax_message_size = 1024\nallowed-origins = [\"http://a\", \"http://b\"]\n");
        let path = f.path().to_str().unwrap();
        let config = Config::from_args(["howl", "--config", path]).unwrap();
        assert_eq!(config.quote_interval, Duration::from_millis(500));
        assert_eq!(config.max_message_size, 1024);
        assert_eq!(config.allowed_origins, ["http://a", "http://b"]);
        let config =
            Config::from_args(["howl", "--config", path, "--max-message-size", "700"]).unwrap();
        assert_eq!(config.max_message_size, 700);
    }

    #[test]
    fn environment_overrides_file() {
        // The environment is process-wide, and tests run in parallel threads: rather than
        // `set_var`, the test runs itself again in a child process that has the variable.
        if let Ok(path) = std::env::var("HOWL_TEST_CONFIG_FILE") {
            let config = Config::from_args(["howl", "--config", &path]).unwrap();
            assert_eq!(config.write_timeout, Duration::from_secs(4));
            return;
        }
        let f = file("write-timeout = 3\n");
        let name = concat!(module_path!(), "::environment_overrides_file");
        let name = name.split_once("::").map_or(name, |(_, rest)| rest);
        let child = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", name, "--quiet"])
            .env("HOWL_TEST_CONFIG_FILE", f.path())
            .env("HOWL_WRITE_TIMEOUT", "4")
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&child.stdout);
        assert!(child.status.success(), "the child run failed: {out}");
        // A filter that matched nothing would pass vacuously.
        assert!(out.contains("1 passed"), "the child ran no test: {out}");
    }

    #[test]
    fn bad_files_and_values_are_clear_errors() {
        let f = file("no-such-setting = 1\n");
        let err = Config::from_args(["howl", "--config", f.path().to_str().unwrap()]).unwrap_err();
        assert!(
            err.to_string()
                .contains("unknown setting \"no-such-setting\""),
            "{err}"
        );
        let f = file("listen = [\n");
        let err = Config::from_args(["howl", "--config", f.path().to_str().unwrap()]).unwrap_err();
        assert!(matches!(err, ConfigError::Toml { .. }), "{err}");
        let err = Config::from_args(["howl", "--quote-interval", "soon"]).unwrap_err();
        assert!(err.to_string().contains("not a number of seconds"), "{err}");
        let err = Config::from_args(["howl", "--config", "/nonexistent/howl.toml"]).unwrap_err();
        assert!(matches!(err, ConfigError::Read { .. }), "{err}");
    }

    #[test]
    fn out_of_range_values_are_refused_naming_the_setting() {
        for (flag, value) in [
            ("--write-timeout", "0"),
            ("--heartbeat-timeout", "1e19"),
            ("--heartbeat-timeout", "1e300"),
            ("--shutdown-timeout", "0.001"),
            ("--quote-interval", "100000"),
            ("--redis-ttl", "0.01"),
            ("--http-header-timeout", "0"),
            ("--http-body-timeout", "86401"),
            ("--http-idle-timeout", "0"),
            ("--outbox-capacity", "0"),
            ("--max-message-size", "7"),
            ("--max-message-size", "1000000000000"),
            ("--max-subscriptions", "0"),
            ("--read-buffer-size", "0"),
            ("--write-buffer-size", "100000000000"),
            ("--api-max-concurrent", "0"),
            ("--connect-timeout", "0"),
            ("--client-rate-grace", "0"),
            ("--max-connections", "0"),
            ("--max-connections-per-ip", "0"),
            ("--client-rate", "0"),
            ("--client-rate", "inf"),
            ("--publish-rate", "nan"),
            ("--client-burst", "0"),
            ("--publish-burst", "0"),
            ("--outbox-max-bytes", "1000"),
            ("--history-max-bytes", "1000"),
            ("--ws-path", "ws"),
            ("--ws-path", "/api/ws"),
            ("--node-id", ""),
        ] {
            let err = Config::from_args(["howl", flag, value]).unwrap_err();
            assert!(
                matches!(err, ConfigError::Invalid(_)),
                "{flag} {value}: {err}"
            );
            assert!(err.to_string().contains(flag), "{flag} {value}: {err}");
        }
        for (flag, value) in [
            ("--write-timeout", "-1"),
            ("--heartbeat-timeout", "inf"),
            ("--heartbeat-timeout", "NaN"),
            ("--outbox-capacity", "-1"),
        ] {
            let err = Config::from_args(["howl", &format!("{flag}={value}")]).unwrap_err();
            assert!(matches!(err, ConfigError::Cli(_)), "{flag} {value}: {err}");
            assert!(err.to_string().contains(flag), "{flag} {value}: {err}");
        }
        // Zero turns the distributor off; a day is the longest timeout.
        Config::from_args([
            "howl",
            "--quote-interval",
            "0",
            "--heartbeat-timeout",
            "86400",
        ])
        .unwrap();
        // A value from the config file is checked too.
        let f = file("write-timeout = 0\n");
        let err = Config::from_args(["howl", "--config", f.path().to_str().unwrap()]).unwrap_err();
        assert!(err.to_string().contains("--write-timeout"), "{err}");
    }

    #[test]
    fn a_token_key_turns_on_secured_mode_and_is_never_shown() {
        assert!(Config::from_args(["howl"]).unwrap().verifier.is_none());
        let f = file("token-secret = \"s3cret-value\"\n");
        let config = Config::from_args(["howl", "--config", f.path().to_str().unwrap()]).unwrap();
        assert!(config.verifier.is_some());
        assert!(!format!("{config:?}").contains("s3cret-value"));
        let err = Config::from_args([
            "howl",
            "--token-secret",
            "a",
            "--token-public-key",
            "/x.pem",
        ])
        .unwrap_err();
        assert!(matches!(err, ConfigError::Key(_)), "{err}");
        let err =
            Config::from_args(["howl", "--token-public-key", "/nonexistent.pem"]).unwrap_err();
        assert!(err.to_string().contains("--token-public-key"), "{err}");
    }

    #[test]
    fn help_shows_every_default() {
        let help = Config::command().render_long_help().to_string();
        for default in [
            "[default: 0.0.0.0:8000]",
            "[default: /ws]",
            "[default: 5]",
            "[default: 15]",
            "[default: 65536]",
        ] {
            assert!(help.contains(default), "{default} missing from:\n{help}");
        }
    }
}
