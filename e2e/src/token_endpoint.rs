//! A stand-in for the application backend a page's `getToken` calls: an HTTP endpoint on
//! 127.0.0.1 that answers every GET with what the test's function returns for its path and
//! query — typically a JWT it mints at that moment (see `howl_testkit::token`).

use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the endpoint answers one request with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// 200 with the token as `text/plain`.
    Token(String),
    /// 204: no token (for a subscription token: the channel needs none).
    NoToken,
    /// 503: the backend cannot give a token now.
    Unavailable,
}

/// The running endpoint; stops when dropped. Cross-origin reads are allowed (the page is
/// served by `howl` on another port).
pub struct TokenEndpoint {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    task: tokio::task::JoinHandle<()>,
}

impl TokenEndpoint {
    /// Listens on a free port of 127.0.0.1 and answers each request with
    /// `answer(path_and_query)`, e.g. `answer("/token")` or `answer("/sub?channel=vip:a")`.
    pub async fn start(
        answer: impl Fn(&str) -> Answer + Send + Sync + 'static,
    ) -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let answer = Arc::new(answer);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let answer = answer.clone();
                tokio::spawn(async move {
                    // A request that breaks off is the browser's business, not the test's.
                    let _ = serve(stream, &*answer).await;
                });
            }
        });
        Ok(Self { url, task })
    }
}

impl Drop for TokenEndpoint {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Answers one request, then closes the connection.
async fn serve(
    mut stream: TcpStream,
    answer: &(dyn Fn(&str) -> Answer + Send + Sync),
) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await?;
        if n == 0 || head.len() > 16 * 1024 {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
    }
    let head = String::from_utf8_lossy(&head);
    let target = head.split_whitespace().nth(1).unwrap_or("/");
    let (status, body) = match answer(target) {
        Answer::Token(token) => ("200 OK", token),
        Answer::NoToken => ("204 No Content", String::new()),
        Answer::Unavailable => ("503 Service Unavailable", "no token now".to_owned()),
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nAccess-Control-Allow-Origin: *\r\n\
         Cache-Control: no-store\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}

/// The value of `key` in the query of `target` (`/path?a=1&b=2`), percent-decoded for the
/// characters channel names use.
pub fn query_param(target: &str, key: &str) -> Option<String> {
    let query = target.split_once('?')?.1;
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == key).then(|| {
            v.replace("%3A", ":")
                .replace("%3a", ":")
                .replace("%23", "#")
        })
    })
}
