# tfdrift's container image: `tfdrift daemon` by default, as docker-compose.yml
# runs it (docs/deployment.md).
#
#   docker build -t tfdrift .
#   docker run --rm tfdrift scan --help
#
# Two stages: the build needs the Rust toolchain and a C compiler (aws-lc,
# SQLite); the runtime needs only the binary, glibc and CA certificates.

# --- build -------------------------------------------------------------------
FROM rust:1-bookworm AS builder
WORKDIR /src

# Dependencies first, against stand-in sources: this layer is rebuilt only
# when Cargo.toml or Cargo.lock change, not on every source edit. (The bench
# targets Cargo.toml names are not needed to build the binary.)
COPY Cargo.toml Cargo.lock ./
RUN mkdir src \
 && echo 'fn main() {}' > src/main.rs \
 && touch src/lib.rs \
 && cargo build --release --locked --bin tfdrift \
 && rm -rf src

# Then the real sources (.dockerignore keeps target/ and .git out). Touch the
# crate roots: COPY keeps the files' own, older, mtimes, and cargo would
# otherwise take the stand-in build above as up to date.
COPY . .
RUN touch src/main.rs src/lib.rs \
 && cargo build --release --locked --bin tfdrift \
 && install -m 0755 target/release/tfdrift /usr/local/bin/tfdrift

# --- runtime -----------------------------------------------------------------
FROM debian:bookworm-slim

# CA certificates for HTTPS to AWS and Slack; nothing else is installed.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/*

# A fixed, unprivileged uid: files it writes on volumes keep one owner
# across rebuilds, and orchestrators that insist on a numeric non-root user
# accept it. Its home is where a mounted ~/.aws is looked for.
RUN groupadd --gid 10001 tfdrift \
 && useradd --uid 10001 --gid 10001 --home-dir /home/tfdrift --create-home \
      --shell /usr/sbin/nologin tfdrift \
 && install -d -o 10001 -g 10001 -m 0750 /var/lib/tfdrift \
 && install -d -m 0755 /etc/tfdrift

COPY --from=builder /usr/local/bin/tfdrift /usr/local/bin/tfdrift
# The default config names no workspace: the daemon idles until a config
# with workspaces is mounted over it.
COPY tfdrift.hcl /etc/tfdrift/tfdrift.hcl

ENV TFDRIFT_DB=/var/lib/tfdrift/tfdrift.db \
    TFDRIFT_CONFIG=/etc/tfdrift/tfdrift.hcl

USER 10001:10001
# The history database lives here. An empty named volume mounted here (as
# docker-compose.yml does) starts out owned by the tfdrift user, because
# Docker copies the directory's ownership into it. No VOLUME instruction:
# `docker run` without a mount would leave anonymous volumes behind.
WORKDIR /var/lib/tfdrift

# Healthy while the daemon's heartbeat in the database is under 5 minutes old.
HEALTHCHECK --interval=1m --timeout=10s --start-period=2m --retries=3 \
  CMD ["tfdrift", "health"]

ENTRYPOINT ["tfdrift"]
CMD ["daemon"]
