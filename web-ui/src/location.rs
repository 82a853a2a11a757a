//! Where the WebSocket endpoint is: the page's own host, at `/ws`, over `wss` when the page
//! came over https.

/// The path of Howl's WebSocket endpoint.
pub const WS_PATH: &str = "/ws";

/// `ws(s)://<host>/ws` for a page loaded with `protocol` (`"http:"` or `"https:"`, as
/// `location.protocol` gives it) from `host` (`location.host`, with any port).
pub fn ws_url(protocol: &str, host: &str) -> String {
    let scheme = if protocol.eq_ignore_ascii_case("https:") {
        "wss"
    } else {
        "ws"
    };
    format!("{scheme}://{host}{WS_PATH}")
}

/// The endpoint for the current page, or `None` outside a browser window.
pub fn page_ws_url() -> Option<String> {
    let location = web_sys::window()?.location();
    Some(ws_url(&location.protocol().ok()?, &location.host().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_the_page() {
        assert_eq!(ws_url("http:", "localhost:8000"), "ws://localhost:8000/ws");
        assert_eq!(ws_url("https:", "howl.example"), "wss://howl.example/ws");
        assert_eq!(ws_url("HTTPS:", "[::1]:8443"), "wss://[::1]:8443/ws");
    }
}
