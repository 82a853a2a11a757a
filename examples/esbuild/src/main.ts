// Shows every message of one channel. Built with no esbuild option about the .wasm: esbuild
// copies no .wasm, so `init()` compiles the copy embedded in the package (client-wasm/README.md).
// ?ws=ws://host:8000/ws connects elsewhere than the page's own /ws; ?channel=… picks the channel.
import init, { HowlClient } from "howl-client";

const params = new URLSearchParams(location.search);
const status = document.getElementById("status")!;
const list = document.getElementById("messages")!;

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
  status.textContent = `error: ${(error as Error).message}`;
}
