//! The page's lifecycle as sans-IO inputs: whether the page is hidden and whether the
//! device is online. A hidden page's timers are throttled, so the session does not ping
//! while hidden (the server's WebSocket Pings, answered by the browser itself, keep the
//! connection alive meanwhile) and checks the connection at once when the page is shown
//! again. Offline, it does not spend reconnect attempts; back online, it reconnects at once.

use super::{ClientSession, Conn};

impl ClientSession {
    /// The page became hidden (`true`) or visible (`false`; also for `pageshow`). Hidden:
    /// the ping timer pauses (a ping already sent still counts). Visible: if the connection
    /// is ready and pings are on, a `ping` goes out at once (the server must answer within
    /// the pong timeout) and the ping timer resumes.
    pub fn on_visibility(&mut self, hidden: bool, now: u64) {
        self.hidden = hidden;
        let interval = self.config.ping_interval_ms;
        let Conn::Ready(live) = &mut self.conn else {
            return;
        };
        if interval == 0 {
            return;
        }
        if hidden {
            live.next_ping = None;
        } else {
            self.check_liveness(now);
        }
    }

    /// The device went offline (`false`) or online (`true`). Offline: reconnect attempts
    /// wait (no timer spins). Online: a scheduled reconnect starts at once, and a ready
    /// connection is checked at once with a `ping`.
    pub fn on_network(&mut self, online: bool, now: u64) {
        self.offline = !online;
        if !online {
            return;
        }
        if self.reconnect_at.take().is_some() {
            self.attempt += 1;
            self.start_attempt(now);
        } else if matches!(self.conn, Conn::Ready(_)) && self.config.ping_interval_ms > 0 {
            self.check_liveness(now);
        }
    }

    /// Whether the caller reported the device offline ([`ClientSession::on_network`]).
    pub fn is_offline(&self) -> bool {
        self.offline
    }

    /// Pings now and restarts the ping timer (paused while hidden).
    fn check_liveness(&mut self, now: u64) {
        let interval = self.config.ping_interval_ms;
        let hidden = self.hidden;
        if let Conn::Ready(live) = &mut self.conn {
            live.next_ping = (!hidden).then(|| now.saturating_add(interval));
        }
        self.ping(now);
    }
}
