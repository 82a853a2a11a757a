//! The demo web UI at `/`: the UI embedded at build time when `dist/` held one, otherwise the
//! page explaining how to build it; `--ui-dir` overrides both.

use howl_testkit::TestServer;
use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};

async fn get(server: &TestServer, path: &str) -> reqwest::Response {
    reqwest::get(server.http_url(path)).await.unwrap()
}

fn content_type(response: &reqwest::Response) -> String {
    response.headers()[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn root_serves_the_built_ui_or_explains_how_to_build_it() {
    let mut server = TestServer::start(&["--quote-interval", "0"]).await;
    let response = get(&server, "/").await;
    assert_eq!(response.status(), 200);
    assert!(content_type(&response).starts_with("text/html"));
    let body = response.text().await.unwrap();
    if howl::ui::embedded_available() {
        // Trunk's index.html loads the app's wasm.
        assert!(body.contains("howl-web-ui"), "not the built UI: {body}");
        assert!(!body.contains("no built web UI"));
    } else {
        assert!(body.contains("no built web UI"), "{body}");
        assert!(body.contains("scripts/run"), "{body}");
        assert!(body.contains("trunk build --release"), "{body}");
    }
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn embedded_ui_serves_assets_with_types_and_index_for_unknown_paths() {
    if !howl::ui::embedded_available() {
        // Built without `dist/`: only `/` exists, as the explanatory page.
        let mut server = TestServer::start(&["--quote-interval", "0"]).await;
        assert_eq!(get(&server, "/some/page").await.status(), 404);
        server.shutdown().await.unwrap();
        return;
    }
    let mut server = TestServer::start(&["--quote-interval", "0"]).await;
    let index = get(&server, "/").await;
    assert_eq!(index.headers()[CACHE_CONTROL], "no-cache");
    let etag = index.headers()[ETAG].clone();
    let index = index.text().await.unwrap();

    // Every asset index.html names is served with its type and cached for good.
    let wasm = asset_named(&index, "_bg.wasm");
    let response = get(&server, &wasm).await;
    assert_eq!(response.status(), 200);
    assert_eq!(content_type(&response), "application/wasm");
    assert!(response.headers()[CACHE_CONTROL]
        .to_str()
        .unwrap()
        .contains("immutable"));
    assert_eq!(&response.bytes().await.unwrap()[..4], b"\0asm");
    let js = asset_named(&index, ".js");
    let response = get(&server, &js).await;
    assert_eq!(response.status(), 200);
    assert!(content_type(&response).contains("javascript"));
    let css = asset_named(&index, ".css");
    let response = get(&server, &css).await;
    assert_eq!(response.status(), 200);
    assert!(content_type(&response).starts_with("text/css"));

    // Unknown non-API paths get the app, API paths keep their JSON 404.
    let response = get(&server, "/some/deep/link").await;
    assert_eq!(response.status(), 200);
    assert!(content_type(&response).starts_with("text/html"));
    assert_eq!(response.text().await.unwrap(), index);
    let (status, body) = server.get_json("/api/nope").await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "not_found", "{body}");

    // Revalidation and methods.
    let response = reqwest::Client::new()
        .get(server.http_url("/"))
        .header(IF_NONE_MATCH, etag)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 304);
    let response = reqwest::Client::new()
        .post(server.http_url("/index.html"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn ui_dir_overrides_the_embedded_ui() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("index.html"),
        "<!doctype html><p>from disk</p>",
    )
    .unwrap();
    std::fs::write(dir.path().join("app.js"), "console.log(1)").unwrap();
    let ui_dir = dir.path().to_str().unwrap();
    let mut server = TestServer::start(&["--quote-interval", "0", "--ui-dir", ui_dir]).await;

    for path in ["/", "/a/client/route"] {
        let response = get(&server, path).await;
        assert_eq!(response.status(), 200, "{path}");
        assert!(content_type(&response).starts_with("text/html"), "{path}");
        assert_eq!(
            response.text().await.unwrap(),
            "<!doctype html><p>from disk</p>"
        );
    }
    let response = get(&server, "/app.js").await;
    assert_eq!(response.status(), 200);
    assert!(content_type(&response).contains("javascript"));
    let (status, _) = server.get_json("/api/nope").await;
    assert_eq!(status, 404);
    server.shutdown().await.unwrap();
}

/// The path of the first asset `index.html` refers to whose name ends with `suffix`.
fn asset_named(index: &str, suffix: &str) -> String {
    index
        .split(['"', '\''])
        .find(|part| part.starts_with('/') && part.ends_with(suffix))
        .unwrap_or_else(|| panic!("index.html names no {suffix} asset: {index}"))
        .to_owned()
}
