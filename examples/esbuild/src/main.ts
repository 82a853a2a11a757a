// Shows every message of one channel. esbuild leaves the SDK's `new URL(…, import.meta.url)`
// alone, so the .wasm is imported as a file (`--loader:.wasm=file` copies it to dist/ and
// gives its URL) and handed to `init`.
// ?ws=ws://host:8000/ws connects elsewhere than the page's own /ws; ?channel=… picks the channel.
import init, { HowlClient } from "howl-client";
import wasmUrl from "howl-client/howl_client_wasm_bg.wasm";

const params = new URLSearchParams(location.search);
const status = document.getElementById("status")!;
const list = document.getElementById("messages")!;

try {
  await init({ module_or_path: new URL(wasmUrl, import.meta.url) });
  const client = await HowlClient.connect(params.get("ws") ?? "/ws");
  const channel = client.channel(params.get("channel") ?? "news");
  channel.on("message", ({ data }) => {
    const item = document.createElement("li");
    item.textContent = `${channel.name}: ${typeof data === "string" ? data : JSON.stringify(data)}`;
    list.append(item);
  });
  await channel.subscribe();
  status.textContent = `subscribed to ${channel.name}`;
} catch (error) {
  status.textContent = `error: ${(error as Error).message}`;
}
