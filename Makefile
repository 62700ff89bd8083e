# FOQUS Cloud — the two commands a newcomer needs are `make demo` and `make test`.
# Prerequisites: Node.js 20.19+, Python 3 with moto[server], Terraform 1.6+ (see README).

NODE_RUN := node --import tsx
.DEFAULT_GOAL := help

.PHONY: help install foqus-runtime chromium typecheck lint build terraform-check test-unit test-moto test-terraform test local demo bench bench-large soak clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

install: node_modules/.package-lock.json ## install dependencies (npm ci)

typecheck: install ## tsc --noEmit over everything
	npx tsc --noEmit

lint: install ## biome (lint + format check)
	npx biome check .

build: install ## bundle every Lambda handler with esbuild into dist/lambda
	$(NODE_RUN) handlers/build.ts

terraform-check: ## terraform fmt -check and validate, offline
	$(NODE_RUN) test/terraform/check.ts

# The real FOQUS for the foqus engine's tests, the benchmark and the local stack: the vendored
# runtime (../shared/vendor) and, as root, Debian's five python3 packages. Never fails: where FOQUS
# cannot be had, its tests are reported as skipped with the reason (FOQUS_REQUIRED=1 fails them).
foqus-runtime: ## make the real FOQUS usable here (local/env/foqus-runtime.sh)
	@bash local/env/foqus-runtime.sh >/dev/null || echo "FOQUS is not available here: its tests will be skipped (see above)."

# Debian's Chromium for the console's browser tests (test/e2e/console.test.ts, through playwright-core,
# which downloads no browser): installed with apt-get when missing and running as root. Never fails:
# where Chromium cannot be had, those tests are reported as skipped with the reason.
chromium: ## install Debian's chromium for the console tests (as root, when missing)
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || echo "Chromium is not available here: the console tests will be skipped."

test-unit: install foqus-runtime ## unit tests and the engine contract suites, the real FOQUS included (no network)
	npx ava 'test/unit/**/*.test.ts' 'test/contract/**/*.test.ts'

# One emulator with the stack applied serves the handler and store suites (in parallel, beside the
# Terraform apply/destroy test, which brings its own emulator), then the end-to-end suites with
# worker processes, one file at a time (their workers share the pool's queue).
test-moto: install chromium ## tests against moto: stores, handlers, Terraform apply/destroy, then end to end with workers
	$(NODE_RUN) test/helpers/run-with-moto.ts sh -c "npx ava 'test/moto/**/*.test.ts' test/terraform/apply-destroy.test.ts && npx ava --concurrency=1 'test/e2e/**/*.test.ts'"

test-terraform: install ## only the Terraform apply/plan/destroy test against its own moto
	npx ava test/terraform/apply-destroy.test.ts

test: install typecheck lint terraform-check build test-unit test-moto ## everything CI runs

local: install foqus-runtime ## run the whole system locally (moto + API + processor + workers); Ctrl-C stops it
	$(NODE_RUN) local/env/stack.ts

demo: install foqus-runtime ## bring the local stack up, run a real session end to end through the API, stop
	$(NODE_RUN) local/demo.ts

bench: install foqus-runtime ## benchmarks; figures printed and written to bench/results.json
	$(NODE_RUN) bench/run.ts

bench-large: install ## a 100,000-job session (BENCH_LARGE_JOBS) through append, listing, start, kill, waiting for the backend to converge: most AWS requests in one API call, as JSON
	$(NODE_RUN) bench/large-session.ts

soak: install ## nothing lost, nothing doubled: 1,000 jobs with 10% of SDK calls failing and workers SIGKILLed
	$(NODE_RUN) bench/soak.ts

clean: ## remove build output and local state
	rm -rf dist .local

# Production (terraform/README.md, "Deploying to AWS"): a named environment, ENV=prod make deploy.
# Each step is a small script in deploy/; `make -n deploy` prints the whole chain.
ENV ?= dev
DEPLOY_RUN := $(NODE_RUN) deploy

.PHONY: image push plan deploy destroy ami state-bucket

image: build ## build the Lambda image for the functions' architecture (docker buildx, no attestations)
	$(DEPLOY_RUN)/image.ts $(ENV)

push: image ## push it to the environment's ECR repository (created on a first deploy) and record its digest
	$(DEPLOY_RUN)/push.ts $(ENV)

plan: push ## build, image, push, then terraform plan of ENV with the image by digest
	$(DEPLOY_RUN)/terraform.ts plan $(ENV)

deploy: push ## build, image, push, then terraform apply of ENV with the image by digest (AUTO_APPROVE=1 skips the question)
	$(DEPLOY_RUN)/terraform.ts apply $(ENV)

destroy: install ## tear ENV down: lift deletion protection, then terraform destroy (both asked for)
	$(DEPLOY_RUN)/terraform.ts destroy $(ENV)

ami: install ## bake the worker AMIs with Packer (AMI_OS="linux windows") and write their ids for ENV's Terraform
	$(DEPLOY_RUN)/ami.ts $(ENV) $(AMI_OS)

state-bucket: install ## once per account: create the S3 bucket for Terraform state (terraform/bootstrap) and fill it into the backend files
	$(DEPLOY_RUN)/state-bucket.ts
