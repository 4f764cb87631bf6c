# Berth — the one entry point for building, testing and running.
GO        ?= go
PKGS      ?= ./...
BIN       := dist/berth
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION ?= 20

.PHONY: up test lint build bench fmt

up: build ## run the local control plane on 127.0.0.1:4566 with state in .data/
	$(BIN) up --listen 127.0.0.1:4566 --data .data

# Every functions/<name>/main.go is a Lambda function, built as
# dist/functions/<name>/bootstrap for the provided.al2023 runtime on arm64.
FUNCTIONS    := $(patsubst functions/%/main.go,%,$(wildcard functions/*/main.go))
LAMBDA_BUILD := CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -trimpath -ldflags '-s -w' -tags lambda.norpc

build: ## the berth binary (this host and linux/arm64 fleet hosts) and every Lambda function (linux/arm64 bootstrap)
	$(GO) build -o $(BIN) ./cmd/berth
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -trimpath -ldflags '-s -w' -o $(BIN)-linux-arm64 ./cmd/berth
	@for f in $(FUNCTIONS); do \
		echo "$(LAMBDA_BUILD) -o dist/functions/$$f/bootstrap ./functions/$$f"; \
		$(LAMBDA_BUILD) -o dist/functions/$$f/bootstrap ./functions/$$f || exit 1; \
	done

.PHONY: synth
synth: build ## synthesize the CDK app into cdk.out/ without network or the CDK CLI
	rm -rf cdk.out
	CDK_OUTDIR=cdk.out $(GO) run ./infra
	@ls cdk.out/*.template.json

test: ## everything: unit, contract, fuzz seeds, end to end
	$(GO) test -race -count=1 -timeout 20m $(PKGS)

lint: ## gofmt, go vet, staticcheck
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "not gofmt-formatted:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 $(PKGS)

bench: ## benchmarks; figures go in docs/benchmarks.md
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

fmt:
	gofmt -w $$(git ls-files '*.go')
