# PHANTOM_SANITIZE=address,undefined builds everything (library, apps, tests)
# with those sanitizers, stopping at the first report (-fno-sanitize-recover);
# scripts/sanitize.sh runs the suite so. PHANTOM_ENABLE_FUZZERS adds the
# libFuzzer targets of tests/fuzz (clang only): the library is then compiled
# with libFuzzer's coverage too, so the fuzzers see into the parsers.
set(PHANTOM_SANITIZE "" CACHE STRING "Sanitizers to build with, e.g. address,undefined")
option(PHANTOM_ENABLE_FUZZERS "Build the libFuzzer targets in tests/fuzz (clang)" OFF)

if(PHANTOM_SANITIZE)
  # C and C++ only: gfortran's sanitizer runtime is not clang's.
  set(_phantom_sanitize_flags -fsanitize=${PHANTOM_SANITIZE} -fno-sanitize-recover=all
      -fno-omit-frame-pointer)
  add_compile_options("$<$<COMPILE_LANGUAGE:C,CXX>:${_phantom_sanitize_flags}>")
  add_link_options(-fsanitize=${PHANTOM_SANITIZE})
endif()
if(PHANTOM_ENABLE_FUZZERS)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "PHANTOM_ENABLE_FUZZERS needs clang (libFuzzer); CXX is ${CMAKE_CXX_COMPILER_ID}")
  endif()
  add_compile_options("$<$<COMPILE_LANGUAGE:C,CXX>:-fsanitize=fuzzer-no-link>")
endif()
