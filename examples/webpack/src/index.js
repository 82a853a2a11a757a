// @ts-check — `npm run typecheck` checks this file against the package's .d.ts.
// Shows every message of one channel. webpack 5 with no configuration file (entry
// src/index.js, output dist/main.js): it finds the SDK's `new URL(…, import.meta.url)` and emits
// the .wasm into dist/ by itself.
// ?ws=ws://host:8000/ws connects elsewhere than the page's own /ws; ?channel=… picks the channel.
import init, { HowlClient } from "howl-client";

const params = new URLSearchParams(location.search);
const status = /** @type {HTMLElement} */ (document.getElementById("status"));
const list = /** @type {HTMLElement} */ (document.getElementById("messages"));

try {
  await init();
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
  status.textContent = `error: ${/** @type {Error} */ (error).message}`;
}
