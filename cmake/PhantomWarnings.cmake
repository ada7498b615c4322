# phantom_warnings(target): the project's warning flags on one target.
# PHANTOM_WARNINGS_AS_ERRORS makes them errors (scripts/check-cuda.sh sets it):
# -Werror for the host compiler and, through nvcc_wrapper, nvcc's own
# cross-execution-space-call and lambda-capture warnings. Kokkos' headers come
# in as system headers, so only Phantom's own files can fail it.
option(PHANTOM_WARNINGS_AS_ERRORS "Treat warnings in Phantom's own files as errors" OFF)
function(phantom_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra)
  if(PHANTOM_WARNINGS_AS_ERRORS)
    target_compile_options(${target} PRIVATE -Werror)
    if(CMAKE_CXX_COMPILER MATCHES "nvcc_wrapper")
      target_compile_options(${target} PRIVATE
        "--Werror=cross-execution-space-call,ext-lambda-captures-this"
        -Wext-lambda-captures-this)
    endif()
  endif()
endfunction()
