# Builds enclave-os apps (WebAssembly components) from C sources or JavaScript.
#
#   include(EosApp)
#   eos_add_app(NAME hello SOURCES hello.c WORLD world.wit)
#   eos_add_app(NAME hello-js JS hello.js WORLD world.wit)
#
# NAME     the app; the component is ${CMAKE_CURRENT_BINARY_DIR}/<NAME>/<NAME>.wasm and
#          the target is eos_app_<NAME> (property EOS_APP_WASM holds the path).
# SOURCES  C files, compiled with clang --target=wasm32-wasi against the C SDK.
# WORLD    a .wit file (relative to the current source dir) whose world the app
#          implements, or the name of an SDK world (http-app, imports).
# JS       a JavaScript source built with componentize-js instead of SOURCES.
# CFLAGS   extra flags for clang; ADAPTER auto|none|<file> for the WASI preview1
#          adapter (auto: added when the code uses wasi-libc's file or stdio calls).
#
# Tools: clang with the wasm32 target, wasi-libc (Debian: wasi-libc, lld-14,
# libclang-rt-14-dev-wasm32, or a wasi-sdk via WASI_SYSROOT), node, and the npm
# packages of tools/package.json (scripts/install-deps.sh installs all of them).
# When any is missing, apps are skipped with a message saying what to install, and
# EOS_APP_TOOLS_FOUND is false.

include_guard(GLOBAL)

set(EOS_SDK_DIR "${CMAKE_CURRENT_LIST_DIR}/../sdk" CACHE PATH "enclave-os C guest SDK")
get_filename_component(EOS_SDK_DIR "${EOS_SDK_DIR}" ABSOLUTE)
set(EOS_TOOLS_DIR "${CMAKE_CURRENT_LIST_DIR}/../tools" CACHE PATH
    "Directory holding node_modules/@bytecodealliance/jco (and componentize-js)")
set(WASI_SYSROOT "" CACHE PATH "wasi-libc sysroot (default: Debian's /usr, or \$WASI_SYSROOT)")
set(EOS_APP_CACHE_DIR "" CACHE PATH
    "Cache of JavaScript components keyed by their inputs (default: ~/.cache/enclave-os)")

# Tools are looked for again at every configure (a missing tool may have been installed).
unset(EOS_APP_TOOLS_FOUND CACHE)
unset(EOS_APP_JS_TOOLS_FOUND CACHE)

set(EOS_APP_WASM_CFLAGS -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wvla -Wshadow
    -Wstrict-prototypes)

# Finds the tools once and says what is missing. Sets EOS_APP_TOOLS_FOUND,
# EOS_APP_JS_TOOLS_FOUND, EOS_APP_CLANG, EOS_APP_AR, EOS_APP_NODE, EOS_APP_SYSROOT.
function(_eos_app_find_tools)
  if(DEFINED EOS_APP_TOOLS_FOUND)
    return()
  endif()
  set(missing "")
  set(node_too_old FALSE)
  find_program(EOS_APP_CLANG NAMES clang clang-14 clang-15 clang-16 clang-17 clang-18)
  find_program(EOS_APP_AR NAMES llvm-ar llvm-ar-14 llvm-ar-15 llvm-ar-16 llvm-ar-17 llvm-ar-18)
  find_program(EOS_APP_NODE NAMES node nodejs)
  if(NOT EOS_APP_CLANG)
    list(APPEND missing "clang (apt-get install clang lld-14)")
  endif()
  if(NOT EOS_APP_AR)
    list(APPEND missing "llvm-ar (apt-get install llvm-14 or clang's llvm tools)")
  endif()
  set(sysroot "${WASI_SYSROOT}")
  if(NOT sysroot AND DEFINED ENV{WASI_SYSROOT})
    set(sysroot "$ENV{WASI_SYSROOT}")
  endif()
  if(NOT sysroot)
    foreach(candidate /usr /opt/wasi-sdk/share/wasi-sysroot)
      if(EXISTS "${candidate}/lib/wasm32-wasi/libc.a")
        set(sysroot "${candidate}")
        break()
      endif()
    endforeach()
  endif()
  if(NOT sysroot OR NOT EXISTS "${sysroot}/lib/wasm32-wasi/libc.a")
    list(APPEND missing "wasi-libc (apt-get install wasi-libc libclang-rt-14-dev-wasm32, or set WASI_SYSROOT to a wasi-sdk sysroot)")
  endif()
  if(EOS_APP_CLANG)
    execute_process(COMMAND "${EOS_APP_CLANG}" --target=wasm32-wasi -print-libgcc-file-name
                    OUTPUT_VARIABLE rt OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
    if(NOT rt OR NOT EXISTS "${rt}")
      list(APPEND missing "clang's wasm32 runtime library (apt-get install libclang-rt-14-dev-wasm32)")
    endif()
  endif()
  if(NOT EOS_APP_NODE)
    list(APPEND missing "node >= 20 (scripts/install-deps.sh installs one)")
  else()
    # jco and componentize-js need Node 20: an older one fails at the first component.
    execute_process(COMMAND "${EOS_APP_NODE}" --version OUTPUT_VARIABLE node_version
                    OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
    string(REGEX REPLACE "^v" "" node_version "${node_version}")
    if(NOT node_version OR node_version VERSION_LESS 20)
      list(APPEND missing "node >= 20 (${EOS_APP_NODE} is ${node_version}; scripts/install-deps.sh installs one into .tools/node)")
      set(node_too_old TRUE)
    endif()
  endif()
  if(NOT EXISTS "${EOS_TOOLS_DIR}/node_modules/@bytecodealliance/jco/dist/api.js")
    list(APPEND missing "jco in ${EOS_TOOLS_DIR}/node_modules (scripts/install-deps.sh, or cd tools && npm ci)")
  endif()
  if(missing)
    list(JOIN missing "\n    " text)
    message(STATUS "enclave-os apps (examples) will not be built; missing:\n    ${text}")
    set(EOS_APP_TOOLS_FOUND FALSE CACHE INTERNAL "")
  else()
    set(EOS_APP_TOOLS_FOUND TRUE CACHE INTERNAL "")
  endif()
  if(EOS_APP_NODE AND NOT node_too_old AND EXISTS
     "${EOS_TOOLS_DIR}/node_modules/@bytecodealliance/componentize-js/src/componentize.js")
    set(EOS_APP_JS_TOOLS_FOUND TRUE CACHE INTERNAL "")
  else()
    set(EOS_APP_JS_TOOLS_FOUND FALSE CACHE INTERNAL "")
  endif()
  set(EOS_APP_SYSROOT "${sysroot}" CACHE INTERNAL "")
endfunction()

# The SDK as a wasm32 static library, built once per build tree.
function(_eos_app_sdk_library)
  if(TARGET eos_app_sdk)
    return()
  endif()
  set(dir "${CMAKE_BINARY_DIR}/eos-sdk")
  file(MAKE_DIRECTORY "${dir}")
  file(GLOB sources CONFIGURE_DEPENDS "${EOS_SDK_DIR}/src/*.c")
  set(objects "")
  set(flags --target=wasm32-wasi "--sysroot=${EOS_APP_SYSROOT}" ${EOS_APP_WASM_CFLAGS}
      "-I${EOS_SDK_DIR}/include")
  if(EOS_WERROR)
    list(APPEND flags -Werror)
  endif()
  foreach(src ${sources})
    get_filename_component(stem "${src}" NAME_WE)
    set(obj "${dir}/${stem}.o")
    add_custom_command(OUTPUT "${obj}"
      COMMAND "${EOS_APP_CLANG}" ${flags} -MD -MF "${obj}.d" -c "${src}" -o "${obj}"
      DEPENDS "${src}" DEPFILE "${obj}.d"
      COMMENT "Compiling C SDK ${stem}.c for wasm32-wasi" VERBATIM)
    list(APPEND objects "${obj}")
  endforeach()
  add_custom_command(OUTPUT "${dir}/libeos_app.a"
    COMMAND "${CMAKE_COMMAND}" -E rm -f "${dir}/libeos_app.a"
    COMMAND "${EOS_APP_AR}" rcs "${dir}/libeos_app.a" ${objects}
    DEPENDS ${objects} COMMENT "Archiving the C SDK (libeos_app.a)" VERBATIM)
  add_custom_target(eos_app_sdk DEPENDS "${dir}/libeos_app.a")
  set_target_properties(eos_app_sdk PROPERTIES EOS_APP_SDK_LIB "${dir}/libeos_app.a")
endfunction()

function(eos_add_app)
  cmake_parse_arguments(APP "" "NAME;WORLD;JS;ADAPTER" "SOURCES;CFLAGS" ${ARGN})
  if(NOT APP_NAME OR NOT APP_WORLD OR (NOT APP_SOURCES AND NOT APP_JS))
    message(FATAL_ERROR "eos_add_app(NAME <name> SOURCES <c files>... | JS <file>, WORLD <wit>)")
  endif()
  _eos_app_find_tools()
  if(NOT EOS_APP_TOOLS_FOUND OR (APP_JS AND NOT EOS_APP_JS_TOOLS_FOUND))
    message(STATUS "enclave-os app ${APP_NAME}: skipped (tools missing, see above)")
    return()
  endif()

  set(out_dir "${CMAKE_CURRENT_BINARY_DIR}/${APP_NAME}")
  file(MAKE_DIRECTORY "${out_dir}")
  set(wasm "${out_dir}/${APP_NAME}.wasm")
  set(world_arg "${APP_WORLD}")
  set(world_dep "")
  if(EXISTS "${CMAKE_CURRENT_SOURCE_DIR}/${APP_WORLD}")
    set(world_arg "${CMAKE_CURRENT_SOURCE_DIR}/${APP_WORLD}")
    set(world_dep "${world_arg}")
  elseif(IS_ABSOLUTE "${APP_WORLD}" AND EXISTS "${APP_WORLD}")
    set(world_dep "${APP_WORLD}")
  endif()

  if(APP_JS)
    get_filename_component(js "${APP_JS}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    set(cache_arg "")
    if(EOS_APP_CACHE_DIR)
      set(cache_arg --cache "${EOS_APP_CACHE_DIR}")
    endif()
    add_custom_command(OUTPUT "${wasm}"
      COMMAND "${EOS_APP_NODE}" "${EOS_SDK_DIR}/tools/eos-componentize-js.mjs"
              --js "${js}" --wit "${world_arg}" --out "${wasm}" --tools "${EOS_TOOLS_DIR}"
              ${cache_arg}
      DEPENDS "${js}" ${world_dep} "${EOS_SDK_DIR}/tools/eos-componentize-js.mjs"
              "${EOS_SDK_DIR}/tools/eos-fixed-entropy.c"
      COMMENT "Building JavaScript app ${APP_NAME} with componentize-js (slow the first time)"
      VERBATIM)
  else()
    _eos_app_sdk_library()
    get_target_property(sdk_lib eos_app_sdk EOS_APP_SDK_LIB)
    set(flags --target=wasm32-wasi "--sysroot=${EOS_APP_SYSROOT}" ${EOS_APP_WASM_CFLAGS}
        "-I${EOS_SDK_DIR}/include" ${APP_CFLAGS})
    if(EOS_WERROR)
      list(APPEND flags -Werror)
    endif()
    set(objects "")
    foreach(src ${APP_SOURCES})
      get_filename_component(abs "${src}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
      get_filename_component(stem "${src}" NAME_WE)
      set(obj "${out_dir}/${stem}.o")
      add_custom_command(OUTPUT "${obj}"
        COMMAND "${EOS_APP_CLANG}" ${flags} -MD -MF "${obj}.d" -c "${abs}" -o "${obj}"
        DEPENDS "${abs}" DEPFILE "${obj}.d"
        COMMENT "Compiling ${APP_NAME}/${stem}.c for wasm32-wasi" VERBATIM)
      list(APPEND objects "${obj}")
    endforeach()
    # cabi_realloc lives in the SDK archive and nothing in the app calls it; -u keeps
    # it, because the host needs the export.
    set(core "${out_dir}/${APP_NAME}.core.wasm")
    add_custom_command(OUTPUT "${core}"
      COMMAND "${EOS_APP_CLANG}" --target=wasm32-wasi "--sysroot=${EOS_APP_SYSROOT}"
              -mexec-model=reactor -Wl,-u,cabi_realloc -Wl,--strip-debug
              ${objects} "${sdk_lib}" -o "${core}"
      DEPENDS ${objects} eos_app_sdk "${sdk_lib}"
      COMMENT "Linking ${APP_NAME}.core.wasm" VERBATIM)
    set(adapter_arg "")
    if(APP_ADAPTER)
      set(adapter_arg --adapter "${APP_ADAPTER}")
    endif()
    add_custom_command(OUTPUT "${wasm}"
      COMMAND "${EOS_APP_NODE}" "${EOS_SDK_DIR}/tools/eos-component.mjs" build
              --core "${core}" --wit "${world_arg}" --out "${wasm}" --tools "${EOS_TOOLS_DIR}"
              ${adapter_arg}
      DEPENDS "${core}" ${world_dep} "${EOS_SDK_DIR}/tools/eos-component.mjs"
              "${EOS_SDK_DIR}/wit/eos-sdk.wit"
      COMMENT "Making component ${APP_NAME}.wasm" VERBATIM)
  endif()
  add_custom_target(eos_app_${APP_NAME} ALL DEPENDS "${wasm}")
  set_target_properties(eos_app_${APP_NAME} PROPERTIES EOS_APP_WASM "${wasm}")
endfunction()
