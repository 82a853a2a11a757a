
// Appended to the wasm-bindgen glue by scripts/build-sdk.sh: freeing a HowlClient, and
// disposing of it (`using` / `await using`), closes its connection first. wasm-bindgen's own
// `free` only releases the JS handle, and a client outlives its handle (like a WebSocket).
// The garbage collector's finalizer does not come through here, so a client nobody holds a
// handle to stays connected.
{
  const release = HowlClient.prototype.free;
  HowlClient.prototype.free = function () {
    if (this.__wbg_ptr) this.close();
    release.call(this);
  };
  if (Symbol.dispose) HowlClient.prototype[Symbol.dispose] = HowlClient.prototype.free;
  if (Symbol.asyncDispose) {
    HowlClient.prototype[Symbol.asyncDispose] = async function () {
      this.free();
    };
  }
}
