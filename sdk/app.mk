# Builds one enclave-os app (a WebAssembly component) with plain make, outside CMake.
#
#   APP     := hello              # the component is $(BUILD)/$(APP).wasm
#   SOURCES := hello.c            # C sources (or JS := app.js for a JavaScript app)
#   WORLD   := world.wit          # a WIT file, or an SDK world name: http-app, imports
#   EOS_SDK := /path/to/enclave-os/sdk
#   include $(EOS_SDK)/app.mk
#
# or without a Makefile of your own:
#   make -f /path/to/enclave-os/sdk/app.mk APP=hello SOURCES=hello.c WORLD=world.wit
#
# Needs clang with the wasm32 target, wasi-libc, node and the npm package
# @bytecodealliance/jco (plus @bytecodealliance/componentize-js for JS apps);
# `make check-tools` says what is missing.

# Taken now: MAKEFILE_LIST grows as dependency files are included below.
EOS_APP_MK := $(abspath $(lastword $(MAKEFILE_LIST)))
EOS_SDK ?= $(patsubst %/,%,$(dir $(EOS_APP_MK)))
EOS_TOOLS_DIR ?= $(abspath $(EOS_SDK)/../tools)
BUILD ?= build
# The first of the names found on PATH. One name per `command -v`: with several, some
# shells (dash, Debian's /bin/sh) stop at the first that is missing.
eos_find = $(firstword $(foreach n,$(1),$(shell command -v $(n) 2>/dev/null)))
CLANG ?= $(call eos_find,clang clang-18 clang-17 clang-16 clang-15 clang-14)
LLVM_AR ?= $(call eos_find,llvm-ar llvm-ar-18 llvm-ar-17 llvm-ar-16 llvm-ar-15 llvm-ar-14)
# In the enclave-os repository, the Node.js of scripts/install-deps.sh (.tools/node)
# comes first: it is there when the system's is older than 20.
NODE ?= $(firstword $(wildcard $(EOS_SDK)/../.tools/node/bin/node) $(call eos_find,node nodejs))
WASI_SYSROOT ?= $(firstword $(foreach d,/usr /opt/wasi-sdk/share/wasi-sysroot,$(if $(wildcard $(d)/lib/wasm32-wasi/libc.a),$(d))))
WASM_CFLAGS ?= -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wvla
ADAPTER ?= auto

TARGET_FLAGS := --target=wasm32-wasi --sysroot=$(WASI_SYSROOT)
SDK_SOURCES := $(wildcard $(EOS_SDK)/src/*.c)
SDK_OBJECTS := $(patsubst $(EOS_SDK)/src/%.c,$(BUILD)/eos-sdk/%.o,$(SDK_SOURCES))
SDK_LIB := $(BUILD)/eos-sdk/libeos_app.a
APP_OBJECTS := $(patsubst %.c,$(BUILD)/$(APP)-obj/%.o,$(SOURCES))
WORLD_ARG := $(if $(wildcard $(WORLD)),$(abspath $(WORLD)),$(WORLD))

.PHONY: all check-tools clean-app
all: $(BUILD)/$(APP).wasm

check-tools:
	@ok=1; \
	[ -n "$(CLANG)" ] || { echo "missing: clang (apt-get install clang lld-14)"; ok=0; }; \
	[ -n "$(LLVM_AR)" ] || { echo "missing: llvm-ar (apt-get install llvm-14, clang's llvm tools)"; ok=0; }; \
	[ -n "$(WASI_SYSROOT)" ] || { echo "missing: wasi-libc (apt-get install wasi-libc libclang-rt-14-dev-wasm32, or WASI_SYSROOT=<wasi-sdk>/share/wasi-sysroot)"; ok=0; }; \
	[ -n "$(NODE)" ] || { echo "missing: node >= 20 (in the enclave-os repository: scripts/install-deps.sh)"; ok=0; }; \
	[ -f "$(EOS_TOOLS_DIR)/node_modules/@bytecodealliance/jco/dist/api.js" ] || [ -d node_modules/@bytecodealliance/jco ] || \
	  { echo "missing: jco (npm install @bytecodealliance/jco@1.35.0, or EOS_TOOLS_DIR=<dir with node_modules>)"; ok=0; }; \
	[ $$ok = 1 ] || { echo "install the tools above (in the enclave-os repository: scripts/install-deps.sh)"; exit 1; }

ifneq ($(JS),)
$(BUILD)/$(APP).wasm: $(JS) $(WORLD_ARG) | check-tools
	@mkdir -p $(@D)
	$(NODE) $(EOS_SDK)/tools/eos-componentize-js.mjs --js $(JS) --wit $(WORLD_ARG) --out $@ --tools $(EOS_TOOLS_DIR)
else
$(BUILD)/$(APP).wasm: $(BUILD)/$(APP).core.wasm $(wildcard $(WORLD)) | check-tools
	$(NODE) $(EOS_SDK)/tools/eos-component.mjs build --core $< --wit $(WORLD_ARG) --out $@ --tools $(EOS_TOOLS_DIR) --adapter $(ADAPTER)
endif

# cabi_realloc is in the SDK archive and called only by the host: -u keeps it.
$(BUILD)/$(APP).core.wasm: $(APP_OBJECTS) $(SDK_LIB)
	$(CLANG) $(TARGET_FLAGS) -mexec-model=reactor -Wl,-u,cabi_realloc -Wl,--strip-debug $^ -o $@

$(BUILD)/$(APP)-obj/%.o: %.c | check-tools
	@mkdir -p $(@D)
	$(CLANG) $(TARGET_FLAGS) $(WASM_CFLAGS) $(CFLAGS_APP) -I$(EOS_SDK)/include -MD -MP -c $< -o $@

$(BUILD)/eos-sdk/%.o: $(EOS_SDK)/src/%.c | check-tools
	@mkdir -p $(@D)
	$(CLANG) $(TARGET_FLAGS) $(WASM_CFLAGS) -I$(EOS_SDK)/include -MD -MP -c $< -o $@

$(SDK_LIB): $(SDK_OBJECTS)
	rm -f $@
	$(LLVM_AR) rcs $@ $^

clean-app:
	rm -rf $(BUILD)/$(APP).wasm $(BUILD)/$(APP).core.wasm $(BUILD)/$(APP)-obj $(BUILD)/eos-sdk

-include $(APP_OBJECTS:.o=.d) $(SDK_OBJECTS:.o=.d)
