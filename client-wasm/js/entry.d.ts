export * from "./howl_client_wasm.js";
import type { InitInput, InitOutput } from "./howl_client_wasm.js";

/**
 * Loads and compiles the SDK's WebAssembly module, once; resolves when `HowlClient` is usable.
 *
 * Without an argument it fetches `howl_client_wasm_bg.wasm` next to the glue (Vite and
 * webpack emit it with the build) and, when that fails (esbuild copies no `.wasm`), compiles
 * the copy embedded in the package instead. `{ module_or_path }` loads exactly that: a URL, a
 * `Request`, a `Response`, bytes or a compiled `WebAssembly.Module`.
 */
export default function init(
  module_or_path?: { module_or_path: InitInput | Promise<InitInput> } | InitInput | Promise<InitInput>,
): Promise<InitOutput>;
