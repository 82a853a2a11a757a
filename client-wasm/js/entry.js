// The package's entry (`import init, { HowlClient } from "howl-client"`), written by
// scripts/build-sdk.sh next to the wasm-bindgen glue it re-exports.
//
// `init()` without arguments loads the .wasm the way wasm-bindgen's glue does, from
// `new URL("howl_client_wasm_bg.wasm", import.meta.url)`: Vite and webpack see that expression
// and emit the file, and a page that imports the package unbundled finds it beside the glue.
// esbuild leaves the expression alone (and copies no .wasm), so there the fetch fails (a 404,
// or a server's HTML page): then `init` compiles the copy embedded, base64, in
// howl_client_wasm_inline.js. It is imported only then, so a bundler that splits dynamic
// imports (Vite, webpack, esbuild --splitting) puts it in a chunk of its own that a working
// page never downloads. `init({ module_or_path })` loads exactly what it is given: no fallback.
// Nothing here runs on import, so importing the package on a server (SSR) touches no browser API.
import initGlue from "./howl_client_wasm.js";

export * from "./howl_client_wasm.js";

export default async function init(options) {
  if (options !== undefined) return initGlue(options);
  try {
    return await initGlue();
  } catch (error) {
    let bytes;
    try {
      bytes = (await import("./howl_client_wasm_inline.js")).wasmBytes();
    } catch {
      throw error;
    }
    return initGlue({ module_or_path: bytes });
  }
}
