# hijack's toolchain image: everything script/bootstrap installs (Debian
# packages: ruby, rake, gcc-multilib, libclang, llvm, the test programs;
# pip: ziglang; Rust targets), plus Rust itself through rustup. The
# docker-compose services run the same script/* that CI runs natively, with
# the repository mounted at /src.
FROM debian:bookworm

ENV DEBIAN_FRONTEND=noninteractive \
    RUSTUP_HOME=/usr/local/rustup \
    CARGO_HOME=/usr/local/cargo \
    PATH=/usr/local/cargo/bin:$PATH

COPY docker/install-rust /tmp/hijack/docker/install-rust
RUN /tmp/hijack/docker/install-rust

# script/bootstrap is what CI runs: the image installs exactly that.
COPY script/bootstrap script/env.sh /tmp/hijack/script/
COPY tasks/targets.rb /tmp/hijack/tasks/targets.rb
RUN /tmp/hijack/script/bootstrap && rm -rf /tmp/hijack /var/lib/apt/lists/*

WORKDIR /src
CMD ["bash"]
