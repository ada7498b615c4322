# Finds Kokkos and Kokkos Kernels and hands the build two clean targets:
#   Phantom::kokkos         (Kokkos core, containers, algorithms)
#   Phantom::kokkoskernels  (Kokkos Kernels, which brings Phantom::kokkos)
# It works with a standalone Kokkos 4.x (what Spack installs: Kokkos::kokkos,
# Kokkos::kokkoskernels) and with Debian's Trilinos build of Kokkos 3.4, whose
# Kokkos::kokkos points at a non-existent <prefix>/include and whose kernels
# target is called trilinos_kokkoskernels. Nothing else in the build knows the
# difference. PhantomConfig.cmake includes this same file.
include_guard(GLOBAL)

# Debian's KokkosConfig.cmake forces this off with a warning; say it first.
set(CMAKE_CXX_EXTENSIONS OFF)

find_package(Kokkos CONFIG REQUIRED)
# Which Kokkos this is decides which Kokkos Kernels fits it: Debian's config
# defines trilinos_* targets, a standalone Kokkos defines Kokkos::kokkos.
if(TARGET trilinos_kokkoscore)
  set(PHANTOM_KOKKOS_FLAVOUR "trilinos")
else()
  set(PHANTOM_KOKKOS_FLAVOUR "standalone")
endif()
find_package(KokkosKernels CONFIG REQUIRED)

if(PHANTOM_KOKKOS_FLAVOUR STREQUAL "trilinos")
  # Kokkos_INCLUDE_DIRS is computed from the config file's own location and
  # is right (/usr/include/trilinos); the imported target's path is not.
  set(_phantom_kokkos_libs trilinos_kokkosalgorithms trilinos_kokkoscontainers trilinos_kokkoscore)
  set(_phantom_kokkos_incs ${Kokkos_INCLUDE_DIRS})
  set(_phantom_kernels_libs trilinos_kokkoskernels)
elseif(TARGET Kokkos::kokkos AND TARGET Kokkos::kokkoskernels)
  set(_phantom_kokkos_libs Kokkos::kokkos)
  set(_phantom_kokkos_incs "")
  set(_phantom_kernels_libs Kokkos::kokkoskernels)
else()
  # Typically a standalone Kokkos found first and the system's Trilinos Kokkos
  # Kernels after it: mixing them would compile against the wrong headers.
  message(FATAL_ERROR "Phantom: Kokkos ${Kokkos_VERSION} (${Kokkos_DIR}) does not match the "
                      "Kokkos Kernels found at ${KokkosKernels_DIR}; put the Kokkos Kernels that "
                      "was built with this Kokkos on CMAKE_PREFIX_PATH (or set KokkosKernels_ROOT)")
endif()

if(NOT TARGET Phantom::kokkos)
  add_library(Phantom::kokkos INTERFACE IMPORTED GLOBAL)
  set_target_properties(Phantom::kokkos PROPERTIES
    INTERFACE_LINK_LIBRARIES "${_phantom_kokkos_libs}"
    INTERFACE_INCLUDE_DIRECTORIES "${_phantom_kokkos_incs}"
    INTERFACE_COMPILE_FEATURES cxx_std_17)
  add_library(Phantom::kokkoskernels INTERFACE IMPORTED GLOBAL)
  set_target_properties(Phantom::kokkoskernels PROPERTIES
    INTERFACE_LINK_LIBRARIES "${_phantom_kernels_libs};Phantom::kokkos")
endif()

# Whether Kokkos' libraries are shared (Debian's, Spack's default): a static
# Kokkos built without -fPIC cannot go into a shared library such as the C API.
set(PHANTOM_KOKKOS_SHARED TRUE)
foreach(_phantom_t Kokkos::kokkoscore trilinos_kokkoscore)
  if(TARGET ${_phantom_t})
    get_target_property(_phantom_type ${_phantom_t} TYPE)
    if(_phantom_type STREQUAL "STATIC_LIBRARY")
      set(PHANTOM_KOKKOS_SHARED FALSE)
    endif()
  endif()
endforeach()

message(STATUS "Phantom: Kokkos ${Kokkos_VERSION} (${PHANTOM_KOKKOS_FLAVOUR}), devices: ${Kokkos_DEVICES}")

# phantom_host_only_sources(file...): sources that must not see the device
# compiler (toml++ does not get through nvcc). With a CUDA Kokkos built through
# nvcc_wrapper they are compiled with its host compiler (--host-only); they
# must not include Kokkos. Call it in the directory that adds the sources.
function(phantom_host_only_sources)
  if(Kokkos_DEVICES MATCHES "CUDA" AND CMAKE_CXX_COMPILER MATCHES "nvcc_wrapper")
    set_source_files_properties(${ARGN} PROPERTIES COMPILE_OPTIONS "--host-only")
  endif()
endfunction()
