# Sourced by the scripts: puts rustup's cargo on PATH when it is installed
# but not on PATH (a fresh login shell, CI).
if ! command -v cargo >/dev/null 2>&1 && [ -x "${CARGO_HOME:-$HOME/.cargo}/bin/cargo" ]; then
  PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
  export PATH
fi
