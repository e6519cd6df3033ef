# The single entry point. `make demo` runs the main job, `make test` runs every test.
SHELL := /bin/bash
VENV := .venv
STAMP := $(VENV)/.installed
WITH_MOTO := infra/local/with-moto.sh

.PHONY: chaos demo test fmt-check clippy import-loops deny emulator-patches unit-and-e2e least-privilege lint-template bench venv clean lambda-watch lambda-build deploy

## Python tools (moto server, cfn-lint) in a project-local virtualenv, pinned.
venv: $(STAMP)
$(STAMP): infra/local/requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r infra/local/requirements.txt
	touch $(STAMP)

## The main job: emulator + sandbox + the function binaries on the Lambda-shaped runtime, a user,
## a 50-issue job group with progress.
demo: $(STAMP)
	$(WITH_MOTO) bash -c 'cargo build --locked -p devstack -p api -p fetcher -p scheduler && target/debug/devstack demo'

## Every test: format, lints, the emulator's patches, unit + contract + end-to-end tests on the
## emulator, the roles held against what the functions did in them (least privilege), template
## lint.
test: fmt-check clippy import-loops deny emulator-patches unit-and-e2e least-privilege lint-template

fmt-check:
	cargo fmt --all -- --check

## No import loops between the top-level modules of any crate (the script says how it counts).
import-loops:
	python3 .ci/import-loops

## Licences, duplicate crate versions and sources (deny.toml says why advisories are not here),
## with cargo-deny (crates.io, pinned) installed under target/tools.
DENY := target/tools/bin/cargo-deny
deny: $(DENY)
	$(DENY) check licenses bans sources
$(DENY):
	cargo install cargo-deny --version 0.20.2 --locked --root target/tools

clippy:
	cargo clippy --locked --workspace --all-targets -- -D warnings

## What infra/local/moto_serve.py changes in moto's DynamoDB (atomic transactions that back up
## only the items they write, no model objects kept), held to DynamoDB's behaviour.
emulator-patches: $(STAMP)
	$(VENV)/bin/python infra/local/test_moto_serve.py

## The function binaries first: the Lambda-shaped runtime's tests run them as Lambda does.
## Both under one environment, so cargo builds the dependencies once. Every AWS action the
## functions perform (binaries and in-process handlers alike) is recorded at the SDK into
## $(AWS_ACTIONS_LOG), started empty (shared/src/aws/actions.rs).
AWS_ACTIONS_LOG := $(CURDIR)/target/aws-actions.log
unit-and-e2e: $(STAMP)
	mkdir -p target && : > $(AWS_ACTIONS_LOG)
	MOOMOO_AWS_ACTIONS_LOG=$(AWS_ACTIONS_LOG) $(WITH_MOTO) bash -c 'cargo build --locked -p api -p fetcher -p scheduler && cargo test --locked --workspace'

## The SAM CLI (PyPI aws-sam-cli, pinned) in a virtualenv of its own: it pins boto3, botocore
## and click, which would move the emulator's own (moto serves botocore's service models).
SAM_VENV := .venv-sam
SAM_STAMP := $(SAM_VENV)/.installed
$(SAM_STAMP): infra/local/requirements-sam.txt
	python3 -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --disable-pip-version-check -r infra/local/requirements-sam.txt
	touch $(SAM_STAMP)

## Least privilege, proven (README): each function's role as SAM generates it (SAM's own
## translator, from .venv-sam) against every action recorded by unit-and-e2e: the table, then
## each statement of template.yaml removed in turn must fail the check.
least-privilege: $(SAM_STAMP)
	$(SAM_VENV)/bin/python infra/local/least_privilege.py --removals $(AWS_ACTIONS_LOG)

## The SAM CLI as the targets run it: cargo-lambda (and zig) from .venv for `sam build`, no
## telemetry.
SAM := PATH=$(CURDIR)/$(VENV)/bin:$(CURDIR)/$(SAM_VENV)/bin:$$PATH SAM_CLI_TELEMETRY=0 sam

## The template, offline: cfn-lint with its informational checks too (any finding fails: fix
## it, or ignore it on its resource with the reason written there), samconfig.toml's parameter
## values against the template's constraints, and `sam validate --lint` (SAM's translation,
## then cfn-lint).
## sam validate wants a region and credentials to exist, not to be used: dummies here.
lint-template: $(STAMP) $(SAM_STAMP)
	$(VENV)/bin/cfn-lint --include-checks I -- template.yaml
	$(VENV)/bin/python infra/local/check-samconfig.py template.yaml samconfig.toml
	AWS_DEFAULT_REGION=ap-northeast-1 AWS_ACCESS_KEY_ID=offline AWS_SECRET_ACCESS_KEY=offline \
		$(SAM) validate --lint --template template.yaml

## Deploys to the AWS account of your credentials (README, "Deploying"): `sam build` builds the
## three functions for arm64 (cargo lambda build --arm64, zig from .venv), then `sam deploy`
## with samconfig.toml (stack, region, parameters), which shows the change set and asks before
## applying it. GUIDED=1 asks for every setting instead and saves the answers to
## samconfig.toml; SAM_DEPLOY_ARGS='...' adds options (e.g. --parameter-overrides ...).
deploy: $(STAMP) $(SAM_STAMP)
	rustup target add aarch64-unknown-linux-gnu
	$(SAM) build
	$(SAM) deploy $(if $(GUIDED),--guided) $(SAM_DEPLOY_ARGS)

## Every function under `cargo lambda watch` (PyPI cargo-lambda, pinned), wired to a stack
## provisioned in the emulator and to the sandbox; drive it with `cargo lambda invoke` and the
## committed events in infra/local/events/.
lambda-watch: $(STAMP)
	cargo build --locked -p devstack
	$(WITH_MOTO) target/debug/devstack lambda-watch

## Release builds of every function as Lambda deploys them: arm64 (Graviton, the template's
## architecture), linked by zig (PyPI `ziglang`, which the pinned cargo-lambda brings), zipped
## as `target/lambda/<function>/bootstrap.zip`; prints each one's architecture and sizes.
lambda-build: $(STAMP)
	rustup target add aarch64-unknown-linux-gnu
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH cargo lambda build --release --arm64 --locked \
		--output-format zip --bin api --bin fetcher --bin scheduler
	@python3 infra/local/lambda-sizes.py

## The job-engine chaos tests (2,000 jobs under faults, duplicates and kills; in-process, then
## the fetcher binary on the Lambda-shaped runtime killed at its deadline; minutes on moto).
chaos: $(STAMP)
	$(WITH_MOTO) bash -c 'cargo build --locked -p api -p fetcher -p scheduler && \
		cargo test --locked -p integration-tests --test chaos -- --ignored --nocapture --test-threads 1'

## Figures: AWS calls per job (counted at the SDK), rate-limit runs against the sandbox's
## request log beside the official Python client, release binary sizes, init times (x86_64, and
## the arm64 zips under qemu-user).
bench: $(STAMP) .venv-bench/.installed lambda-build
	python3 infra/local/arm64-runner.py
	cargo build --locked --release -p api -p fetcher -p scheduler -p sandbox
	$(WITH_MOTO) cargo run --locked --release -p integration-tests --bin bench

.venv-bench/.installed: infra/local/requirements-bench.txt
	python3 -m venv .venv-bench
	.venv-bench/bin/pip install --quiet --disable-pip-version-check -r infra/local/requirements-bench.txt
	touch .venv-bench/.installed

clean:
	rm -rf $(VENV) .venv-bench $(SAM_VENV) .aws-sam target
