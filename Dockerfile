# Howl: the `howl` binary with the demo web UI embedded, in a slim image.
#
#   docker build -t howl .
#   docker run --rm -p 8000:8000 howl          # then open http://localhost:8000
#
# Settings are environment variables (HOWL_*, see `howl --help`), e.g. -e HOWL_QUOTE_INTERVAL=2.

# Node 20 (the version the build is tested with) for npm's binaryen; Debian's own nodejs is 18.
FROM node:20-bookworm-slim AS node

# --- builder: the UI with Trunk, then the server in release (embedding dist/) ---------------
FROM rust:1.95-bookworm AS builder

# npm's binaryen 132 provides wasm-opt; Debian's binaryen (108) produces wasm that fails in the
# browser, so it is never installed.
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules /usr/local/lib/node_modules
RUN ln -s /usr/local/lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm
RUN rustup target add wasm32-unknown-unknown
RUN cargo install trunk --version 0.21.14 --locked

WORKDIR /src
# wasm-bindgen-cli must equal the wasm-bindgen crate pinned in the root Cargo.toml (read by
# scripts/wasm-bindgen-version.sh); `--locked` fails for this version (a dependency it pins is
# gone from the registry), so it is built without.
COPY Cargo.toml ./
COPY scripts/wasm-bindgen-version.sh scripts/
RUN cargo install wasm-bindgen-cli --version "=$(scripts/wasm-bindgen-version.sh)"

# Without the examples/* folders (npm workspaces) npm ci installs only the root's packages
# (binaryen, jsonwebtoken), not the examples' Vite, esbuild and TypeScript: all the image needs.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
ENV PATH=/src/node_modules/.bin:$PATH
# Trunk.toml builds offline (it never downloads tools), so fetch the crates first.
RUN cargo fetch --locked \
 && trunk build --release \
 && cargo build --release --locked -p howl-server

# --- runtime: only the binary ---------------------------------------------------------------
FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin howl
COPY --from=builder /src/target/release/howl /usr/local/bin/howl
USER howl
ENV HOWL_LISTEN=0.0.0.0:8000
EXPOSE 8000
ENTRYPOINT ["/usr/local/bin/howl"]
