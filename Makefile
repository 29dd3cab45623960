# labnet: `make demo` applies labs/docker and runs its checks; `make test`
# runs the whole test suite. As root (prefix sudo otherwise); both install
# what they need, and hack/fresh-machine.sh proves it on a minimal Debian.

# A Go that can build labnet (hack/go fetches one on a machine without it).
# Expanded where a recipe uses it; needgo stops the recipe when there is none.
GO      ?= $(shell ./hack/go)
needgo   = $(if $(GO),,$(error no Go toolchain: hack/go could not install one (its message is above)))
PKGS    := iproute2 nftables openssh-server openssh-client python3 iputils-ping procps util-linux etcd-server etcd-client tcpdump frr runc busybox-static docker-registry
BIN     := bin/labnet
DOCKER_IMAGE := labs/docker/images/busybox.tar

.PHONY: deps test-deps build demo demo-destroy test unit vet fuzz images

# install PACKAGES: the Debian/Ubuntu packages that are missing.
install = missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

# Debian/Ubuntu packages the netns provider and the labs need: ip, tc and
# bridge (iproute2), nft, sshd and ssh-keygen, python3 (check agents and
# the hosts' netlink readers), ping, unshare/nsenter/mount (util-linux),
# ps, etcd (labs/bare-metal's registry), tcpdump (labnet capture), frr
# (labs/routing's routers: zebra, ospfd, bgpd, vtysh), runc (containers
# from images), busybox-static (the images target's busybox) and
# docker-registry (a real registry that the tests of docker:// images
# start on loopback with their own config; the package's own service,
# which a booted machine starts, is not used).
deps:
	@$(call install,$(PKGS))

# The tests need sudo too: the ssh provider's test runs labnet's shell
# through `sudo -n`, as labnet does for a non-root login.
test-deps:
	@$(call install,$(PKGS) sudo)

# A static binary (no cgo): it needs no libc on the machine and starts
# about a millisecond sooner than a dynamically linked one.
build:
	$(needgo)CGO_ENABLED=0 $(GO) build -o $(BIN) .

# The image labs/docker's containers run, built when it is missing.
demo: deps build $(DOCKER_IMAGE)
	$(BIN) -chdir=labs/docker apply -auto-approve
	$(BIN) -chdir=labs/docker test
	@echo; echo "The lab is up. Try: $(BIN) -chdir=labs/docker plan; remove it with: make demo-destroy"

demo-destroy: build
	$(BIN) -chdir=labs/docker destroy -auto-approve

vet:
	$(needgo)$(GO) vet ./...

# Unit tests need no root; acceptance tests (acceptance/, provider/netns)
# need root and skip without it. -p 1: root tests share the machine's kernel.
# LABNET_TEST_STRICT: a test that needs a program fails, not skips, when
# the program is missing, so a missing install step cannot pass unseen.
test: test-deps vet
	LABNET_TEST_STRICT=1 $(GO) test -p 1 -count=1 -timeout 40m ./...
	$(MAKE) fuzz

# Each fuzz target for a bounded number of inputs (findings are kept in
# testdata/fuzz), ~5-10 s each here. Counts, not durations: Go 1.26's fuzz
# coordinator can fail a duration-bound run with a bare "context deadline
# exceeded" as its time runs out (golang/go#75804, fixed in Go 1.27; seen
# in CI here on FuzzLoad, no crasher written); a count has no deadline.
FUZZLOAD ?= 4000x
FUZZPARSE ?= 150000x
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzLoad$$' -fuzztime $(FUZZLOAD) -fuzzminimizetime 3s ./config/
	for f in FuzzParseObserved FuzzParseAddrJSON FuzzParseNftJSON; do \
		$(GO) test -run '^$$' -fuzz "^$$f\$$" -fuzztime $(FUZZPARSE) -fuzzminimizetime 3s ./hostnet/ || exit 1; \
	done

unit:
	$(needgo)$(GO) test -count=1 ./...

# A busybox image built offline from Debian's busybox-static (git-ignored):
# labs/docker's containers run it. No registry is involved.
images: deps
	$(needgo)$(GO) run ./hack/mkimage -busybox /bin/busybox -o $(DOCKER_IMAGE)

$(DOCKER_IMAGE):
	$(MAKE) images
