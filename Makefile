# m3vit-gen: root Makefile. `make test` is what CI runs (after .ci/run installs the system packages).
CONFIG ?= zcu104.json
NPM ?= npm

.PHONY: all build test typecheck generate csim csim-vit-s clean

all: build

# Dependencies are installed when missing or when the lockfile changed.
node_modules/.package-lock.json: package.json package-lock.json
	$(NPM) ci
	@touch $@

build: node_modules/.package-lock.json
	$(NPM) run build

typecheck: node_modules/.package-lock.json
	$(NPM) run typecheck

test: node_modules/.package-lock.json
	$(NPM) run typecheck
	$(NPM) run build
	$(NPM) test -- --ci

# The main job on the default config.
generate: build
	node bin/m3vit-gen.js --config $(CONFIG)

# The default config end to end: generate into hls-out/<name>, then its C simulation
# (g++ only), bit-exact against the golden vectors of the TypeScript reference.
CSIM_NAME = $(shell node -p "require(require('path').resolve('$(CONFIG)')).name")
csim: build
	node bin/m3vit-gen.js --config $(CONFIG) --out hls-out/$(CSIM_NAME)
	$(MAKE) -C hls-out/$(CSIM_NAME) csim

# The paper's ViT-S PASCAL-Context (configs/zcu104-vit-s-pascal.json) end to end, as a bench:
# generate (it fits the ZCU104 by the estimate: no --allow-overfit) into a temporary folder,
# compile and run its C simulation; wall seconds per stage (bench/csim-vit-s.sh).
csim-vit-s: build
	bash bench/csim-vit-s.sh

clean:
	rm -rf dist hls-out/*/ coverage
