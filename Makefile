# bollard top-level Makefile.
#
#   make              build everything into build/
#   make check        install missing deps, build, run every test tier
#   make run          install missing deps, build, run the embedded default
#   make bench        benchmarks against peers measured in the same run
#   make deps         install missing Debian packages (apt-get)
#   make install      install the programs, man pages and deploy/ files
#                     (PREFIX=/usr/local, DESTDIR= for staging)
#   make fuzz         build the libFuzzer targets (clang-14)
#   SANITIZER=address|undefined   sanitised build (into build/ as well; flags
#                     are tracked, so switching rebuilds everything)
#
# Each component owns a fragment (schema/schema.mk, controller/controller.mk,
# kernel/core/core.mk, ...) that appends to PROGS, LIBS, UNIT_TESTS and
# FUZZERS and gives its objects their flags through target-specific
# variables. Objects land in build/obj/<source path>.o with -MMD .d files.

.DEFAULT_GOAL := all
SHELL := /bin/bash

BUILD    := build
OBJ      := $(BUILD)/obj
GEN      := $(BUILD)/gen
CC       ?= cc
ifeq ($(origin CC),default)
CC       := gcc
endif
AR       ?= ar
PKGCONF  ?= pkg-config
VERSION  := $(shell git describe --always --dirty 2>/dev/null || echo 0.1-dev)

OPT      ?= -O2
CSTD     := -std=gnu11
WARN     := -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -Wstrict-prototypes \
            -Wmissing-prototypes -Wno-missing-field-initializers
CFLAGS   ?= $(OPT) -g
BASE_CFLAGS = $(CSTD) $(WARN) -MMD -MP -D_GNU_SOURCE \
            -Ischema -Icontroller -Ikernel/core -Ikernel/user -Ireconcilers -I$(GEN)
LDFLAGS  ?=

SANITIZER ?=
ifeq ($(SANITIZER),address)
  SAN_FLAGS := -fsanitize=address -fno-omit-frame-pointer
else ifeq ($(SANITIZER),undefined)
  SAN_FLAGS := -fsanitize=undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
else ifneq ($(SANITIZER),)
  $(error SANITIZER must be address or undefined)
endif

ALL_CFLAGS  = $(BASE_CFLAGS) $(SAN_FLAGS) $(CFLAGS)
ALL_LDFLAGS = $(SAN_FLAGS) $(LDFLAGS)

# Rebuild everything when the flags change (redis does the same).
FLAGS_FILE := $(BUILD)/.flags
FLAGS_NOW  := $(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS)
$(shell mkdir -p $(BUILD); [ "$$(cat $(FLAGS_FILE) 2>/dev/null)" = "$(FLAGS_NOW)" ] || echo "$(FLAGS_NOW)" > $(FLAGS_FILE))

# The version lives in a generated header (#include "bl_version.h" for
# BOLLARD_VERSION), rewritten only when it changes, so a commit does not
# rebuild the tree.
$(shell mkdir -p $(GEN); v='#define BOLLARD_VERSION "$(VERSION)"'; \
	[ "$$(cat $(GEN)/bl_version.h 2>/dev/null)" = "$$v" ] || echo "$$v" > $(GEN)/bl_version.h)

pc = $(shell $(PKGCONF) $(1) 2>/dev/null)

PROGS      :=
LIBS       :=
UNIT_TESTS :=
FUZZERS    :=
ALL_OBJS   :=

$(OBJ)/%.o: %.c $(FLAGS_FILE)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(EXTRA_CFLAGS) -c $< -o $@

$(OBJ)/gen/%.o: $(GEN)/%.c $(FLAGS_FILE)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Wno-error $(EXTRA_CFLAGS) -c $< -o $@

# Component fragments. Each is optional while the tree grows.
# Order matters only for plain prerequisites; link rules that collect objects
# from other fragments use $$(VAR) (secondary expansion is on).
.SECONDEXPANSION:
-include schema/schema.mk
-include kernel/core/core.mk
-include $(sort $(wildcard kernel/user/*.mk kernel/linux/*.mk))
-include $(sort $(wildcard controller/*.mk controller/*/*.mk))
-include $(sort $(wildcard reconcilers/*.mk))
-include $(sort $(wildcard tests/*.mk tests/*/*.mk))
-include $(sort $(wildcard bench/*.mk))

all: $(PROGS) $(UNIT_TESTS)

fuzz: $$(FUZZERS)

deps:
	@sh mk/deps.sh

# Called with a fresh make so pkg-config flags are read after deps.
check: deps
	@$(MAKE) --no-print-directory all
	@bash tests/run.sh

run: deps
	@$(MAKE) --no-print-directory all
	$(BUILD)/bollard up

bench: deps
	@$(MAKE) --no-print-directory all
	@bash bench/run.sh

clean:
	rm -rf $(BUILD)

# ---- install -------------------------------------------------------------------
# The programs a node runs, their man pages (docs/man/NAME.SECTION) and the
# deploy/ files: systemd units, the OCF agents (deploy/ocf/bollard-TYPE as
# ocf:bollard:TYPE: target, drbd, address), DRBD's fence-peer handler
# (deploy/drbd/bollard-fence-peer in LIBEXECDIR, with its CIB client
# bollard-cib and DRBD's usermode helper bollard-drbd-helper beside it,
# the latter named by $(SYSCONFDIR)/modprobe.d/bollard-drbd.conf; bollardd renders
# /usr/lib/bollard/bollard-fence-peer into the DRBD configuration, so a
# node installs with PREFIX=/usr or links it there), /etc/default/bollard.
# bollard-plan goes next to bollard, which execs it for `bollard plan`
# (controller/cli/main.c: exec_sibling). The units and the OCF agent name
# their programs by path (/usr/sbin/..., /etc/default/bollard): they are
# rewritten for where this install puts them. tests/integration/
# install.sh installs into a DESTDIR and runs what it installed.
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
SBINDIR    ?= $(PREFIX)/sbin
MANDIR     ?= $(PREFIX)/share/man
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
UNITDIR    ?= $(PREFIX)/lib/systemd/system
OCFDIR     ?= $(PREFIX)/lib/ocf/resource.d/bollard
LIBEXECDIR ?= $(PREFIX)/lib/bollard
INSTALL    ?= install

INSTALL_BIN  := $(BUILD)/bollard $(BUILD)/bollard-plan
INSTALL_SBIN := $(BUILD)/bollardd $(BUILD)/bollard-target
MAN_PAGES    := $(sort $(wildcard docs/man/*.[1-8]))
DEPLOY_PATHS := sed -e 's|/usr/sbin/bollard$$|$(BINDIR)/bollard|' \
	-e 's|/usr/sbin/|$(SBINDIR)/|g' -e 's|/etc/default/|$(SYSCONFDIR)/default/|g'

install: $(INSTALL_BIN) $(INSTALL_SBIN) $(BUILD)/bollard-cib
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(OCFDIR) $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(SYSCONFDIR)/default
	$(INSTALL) -m 755 $(INSTALL_BIN) $(DESTDIR)$(BINDIR)/
	$(INSTALL) -m 755 $(INSTALL_SBIN) $(DESTDIR)$(SBINDIR)/
	set -e; for m in $(MAN_PAGES); do \
		$(INSTALL) -D -m 644 $$m $(DESTDIR)$(MANDIR)/man$${m##*.}/$${m##*/}; \
	done
	set -e; for u in deploy/systemd/*.service; do \
		$(DEPLOY_PATHS) $$u >$(DESTDIR)$(UNITDIR)/$${u##*/}; \
		chmod 644 $(DESTDIR)$(UNITDIR)/$${u##*/}; \
	done
	set -e; for a in deploy/ocf/bollard-*; do \
		$(DEPLOY_PATHS) $$a >$(DESTDIR)$(OCFDIR)/$${a##*/bollard-}; \
		chmod 755 $(DESTDIR)$(OCFDIR)/$${a##*/bollard-}; \
	done
	$(INSTALL) -m 755 deploy/drbd/bollard-fence-peer deploy/drbd/bollard-drbd-helper \
		$(BUILD)/bollard-cib $(DESTDIR)$(LIBEXECDIR)/
	$(INSTALL) -d $(DESTDIR)$(SYSCONFDIR)/modprobe.d
	sed 's|/usr/lib/bollard/|$(LIBEXECDIR)/|' deploy/drbd/bollard-drbd.conf \
		>$(DESTDIR)$(SYSCONFDIR)/modprobe.d/bollard-drbd.conf
	test -e $(DESTDIR)$(SYSCONFDIR)/default/bollard || \
		$(INSTALL) -m 644 deploy/default/bollard $(DESTDIR)$(SYSCONFDIR)/default/bollard

.PHONY: all deps check run bench clean fuzz install

-include $(shell find $(OBJ) -name '*.d' 2>/dev/null)
