// Injected before every page script by the e2e harness (Browser::add_init_script).
// window.__probe reports what the page cannot hide:
//   sdkTimers()  setTimeout/setInterval callbacks scheduled by the SDK's JS glue and still pending
//   sockets()    every WebSocket ever created: url, readyState, close() calls, handlers attached,
//                the code of its close event (null while open)
//   errors       console.error lines (the SDK's panic hook writes there), uncaught exceptions,
//                unhandled promise rejections
(() => {
  const fromSdk = () => (new Error().stack || "").includes("howl_client_wasm");
  const pending = new Map();
  const native = {
    setTimeout: window.setTimeout.bind(window),
    clearTimeout: window.clearTimeout.bind(window),
    setInterval: window.setInterval.bind(window),
    clearInterval: window.clearInterval.bind(window),
  };
  window.setTimeout = function (handler, delay, ...rest) {
    const tracked = fromSdk();
    const id = native.setTimeout(function (...args) {
      pending.delete(id);
      if (typeof handler === "function") return handler.apply(this, args);
    }, delay, ...rest);
    if (tracked) pending.set(id, "timeout");
    return id;
  };
  window.clearTimeout = (id) => {
    pending.delete(id);
    return native.clearTimeout(id);
  };
  window.setInterval = function (handler, delay, ...rest) {
    const id = native.setInterval(handler, delay, ...rest);
    if (fromSdk()) pending.set(id, "interval");
    return id;
  };
  window.clearInterval = (id) => {
    pending.delete(id);
    return native.clearInterval(id);
  };

  const sockets = [];
  const NativeWebSocket = window.WebSocket;
  window.WebSocket = class extends NativeWebSocket {
    constructor(...args) {
      super(...args);
      this.closeCalls = [];
      this.closeCode = null;
      this.addEventListener("close", (e) => { this.closeCode = e.code; });
      sockets.push(this);
    }
    close(...args) {
      this.closeCalls.push(args);
      return super.close(...args);
    }
  };

  const errors = [];
  const nativeError = console.error.bind(console);
  console.error = (...args) => {
    errors.push(args.map((a) => (a && a.stack) || String(a)).join(" "));
    nativeError(...args);
  };
  window.addEventListener("error", (e) => errors.push("uncaught: " + e.message));
  window.addEventListener("unhandledrejection", (e) =>
    errors.push("unhandled rejection: " + ((e.reason && e.reason.message) || e.reason)));

  window.__probe = {
    sdkTimers: () => pending.size,
    sockets: () =>
      sockets.map((s) => ({
        url: s.url,
        readyState: s.readyState,
        closeCalls: s.closeCalls,
        closeCode: s.closeCode,
        handlers: [s.onopen, s.onmessage, s.onclose, s.onerror].filter(Boolean).length,
      })),
    errors,
  };
})();
