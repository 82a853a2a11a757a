//! How many WebSocket connections the node holds, in total and per client address: an
//! upgrade over either limit is refused before any connection state exists.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;

/// Why a connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The node holds `--max-connections` connections.
    Total(usize),
    /// This address holds `--max-connections-per-ip` connections.
    PerIp(usize),
}

/// The node's connection counts and their limits.
pub struct ConnectionLimits {
    max_total: usize,
    max_per_ip: usize,
    total: AtomicUsize,
    per_ip: Mutex<HashMap<IpAddr, usize>>,
}

impl ConnectionLimits {
    /// Limits of `max_total` connections, `max_per_ip` of them from one address.
    pub fn new(max_total: usize, max_per_ip: usize) -> Arc<Self> {
        Arc::new(Self {
            max_total,
            max_per_ip,
            total: AtomicUsize::new(0),
            per_ip: Mutex::default(),
        })
    }

    /// Counts a new connection from `ip`, or says which limit it is over. The connection
    /// holds the returned permit for its whole life; dropping it frees the place.
    pub fn admit(self: &Arc<Self>, peer: SocketAddr) -> Result<ConnectionPermit, Refusal> {
        let ip = peer.ip();
        let mut per_ip = self.per_ip.lock();
        // Under the lock, so two upgrades cannot both take the last place.
        if self.total.load(Relaxed) >= self.max_total {
            return Err(Refusal::Total(self.max_total));
        }
        let count = per_ip.entry(ip).or_insert(0);
        if *count >= self.max_per_ip {
            return Err(Refusal::PerIp(self.max_per_ip));
        }
        *count += 1;
        self.total.fetch_add(1, Relaxed);
        Ok(ConnectionPermit {
            limits: self.clone(),
            ip,
            port: peer.port(),
        })
    }

    /// Connections currently held.
    pub fn total(&self) -> usize {
        self.total.load(Relaxed)
    }
}

/// A place among the node's connections, released on drop.
pub struct ConnectionPermit {
    limits: Arc<ConnectionLimits>,
    ip: IpAddr,
    // The peer's port too, so the connection need not keep its address apart (held in
    // every connection's task).
    port: u16,
}

impl ConnectionPermit {
    /// The address of the client holding this place.
    pub fn peer(&self) -> SocketAddr {
        SocketAddr::new(self.ip, self.port)
    }
}

impl Drop for ConnectionPermit {
    fn drop(&mut self) {
        let mut per_ip = self.limits.per_ip.lock();
        if let Some(count) = per_ip.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                per_ip.remove(&self.ip);
            }
        }
        self.limits.total.fetch_sub(1, Relaxed);
    }
}

/// The default `--max-connections`: 90 % of the process's open-files limit, since every
/// connection holds a file descriptor and the rest are needed for listening, Redis and logs.
pub fn default_max_connections() -> usize {
    let soft = rlimit::getrlimit(rlimit::Resource::NOFILE).map_or(1024, |(soft, _)| soft);
    (soft.min(usize::MAX as u64) as usize / 10 * 9).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_hold_in_total_and_per_address_and_free_on_drop() {
        let limits = ConnectionLimits::new(3, 2);
        let (a, b): (SocketAddr, SocketAddr) = (
            "127.0.0.1:1".parse().unwrap(),
            "127.0.0.2:1".parse().unwrap(),
        );
        let first = limits.admit(a).unwrap();
        assert_eq!(first.peer(), a);
        let _second = limits.admit(a).unwrap();
        assert_eq!(limits.admit(a).err(), Some(Refusal::PerIp(2)));
        let _third = limits.admit(b).unwrap();
        assert_eq!(limits.admit(b).err(), Some(Refusal::Total(3)));
        drop(first);
        assert_eq!(limits.total(), 2);
        assert!(limits.admit(a).is_ok());
        assert!(limits.per_ip.lock().len() <= 2);
    }

    #[test]
    fn the_default_leaves_room_below_the_open_files_limit() {
        let max = default_max_connections();
        let (soft, _) = rlimit::getrlimit(rlimit::Resource::NOFILE).unwrap();
        assert!(max as u64 <= soft && max > 0, "{max} of {soft}");
    }
}
