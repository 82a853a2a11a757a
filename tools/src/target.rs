//! The server a tool talks to: a `ws://host:port/path` URL, and the loopback check that keeps
//! load generation on this machine.

use std::net::SocketAddr;

/// Why a target URL was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TargetError {
    /// The URL is not of the form `ws://host[:port][/path]`.
    #[error("{0:?} is not a ws:// URL of the form ws://host[:port][/path]")]
    Malformed(String),
    /// The host name did not resolve.
    #[error("cannot resolve {host}: {reason}")]
    Unresolved {
        /// The host part of the URL.
        host: String,
        /// What the resolver said.
        reason: String,
    },
    /// The host resolves to an address outside 127.0.0.0/8 and ::1.
    #[error("{host} resolves to {addr}, which is not a loopback address; load is only generated against this machine")]
    NotLoopback {
        /// The host part of the URL.
        host: String,
        /// The first non-loopback address it resolved to.
        addr: SocketAddr,
    },
}

/// A parsed `ws://` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WsUrl {
    /// Host name or address (without brackets for IPv6).
    pub host: String,
    /// Port (80 when the URL names none).
    pub port: u16,
    /// Request path, starting with `/`.
    pub path: String,
}

impl WsUrl {
    /// Parses `ws://host[:port][/path]`.
    pub fn parse(url: &str) -> Result<Self, TargetError> {
        let malformed = || TargetError::Malformed(url.to_owned());
        let rest = url.strip_prefix("ws://").ok_or_else(malformed)?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (host, after) = v6.split_once(']').ok_or_else(malformed)?;
            let port = match after.strip_prefix(':') {
                Some(p) => p.parse().map_err(|_| malformed())?,
                None if after.is_empty() => 80,
                None => return Err(malformed()),
            };
            (host, port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h, p.parse().map_err(|_| malformed())?),
                None => (authority, 80),
            }
        };
        if host.is_empty() {
            return Err(malformed());
        }
        Ok(Self {
            host: host.to_owned(),
            port,
            path: path.to_owned(),
        })
    }

    /// The `Host` header value.
    pub fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// Resolves the host and returns its first address, refusing any non-loopback address.
    pub async fn resolve_loopback(&self) -> Result<SocketAddr, TargetError> {
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((self.host.as_str(), self.port))
            .await
            .map_err(|e| TargetError::Unresolved {
                host: self.host.clone(),
                reason: e.to_string(),
            })?
            .collect();
        if let Some(addr) = addrs.iter().find(|a| !a.ip().is_loopback()) {
            return Err(TargetError::NotLoopback {
                host: self.host.clone(),
                addr: *addr,
            });
        }
        addrs
            .iter()
            .find(|a| a.is_ipv4())
            .or(addrs.first())
            .copied()
            .ok_or_else(|| TargetError::Unresolved {
                host: self.host.clone(),
                reason: "no addresses".into(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls() {
        assert_eq!(
            WsUrl::parse("ws://127.0.0.1:8000/ws").unwrap(),
            WsUrl {
                host: "127.0.0.1".into(),
                port: 8000,
                path: "/ws".into()
            }
        );
        let url = WsUrl::parse("ws://localhost").unwrap();
        assert_eq!((url.port, url.path.as_str()), (80, "/"));
        let url = WsUrl::parse("ws://[::1]:9/x").unwrap();
        assert_eq!(
            (url.host.as_str(), url.authority()),
            ("::1", "[::1]:9".into())
        );
        for bad in ["http://a/ws", "ws://", "ws://a:b/", "ws://[::1/"] {
            assert!(WsUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn refuses_non_loopback_targets() {
        let url = WsUrl::parse("ws://127.0.0.3:8000/ws").unwrap();
        assert!(url.resolve_loopback().await.unwrap().ip().is_loopback());
        let url = WsUrl::parse("ws://10.1.2.3:8000/ws").unwrap();
        assert!(matches!(
            url.resolve_loopback().await,
            Err(TargetError::NotLoopback { .. })
        ));
    }
}
