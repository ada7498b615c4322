# Installs the library, its headers, the apps and the CMake package
# (PhantomConfig.cmake, its version file and the Kokkos module it includes).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)
set(PHANTOM_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/Phantom)

install(TARGETS phantom EXPORT PhantomTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/src/phantom DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.hpp" PATTERN "*.h")
install(EXPORT PhantomTargets NAMESPACE Phantom:: DESTINATION ${PHANTOM_CMAKE_DIR})
# The C API in an export set of its own: a C or Fortran project loads it alone,
# without Kokkos, C++ or toml++ (PhantomConfig.cmake).
set(PHANTOM_C_API OFF)
if(TARGET phantom_c)
  set(PHANTOM_C_API ON)
  set(_phantom_c_targets phantom_c)
  if(TARGET phantom_fortran)
    list(APPEND _phantom_c_targets phantom_fortran)
  endif()
  install(TARGETS ${_phantom_c_targets} EXPORT PhantomCTargets
          ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
          LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
          RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  install(EXPORT PhantomCTargets NAMESPACE Phantom:: DESTINATION ${PHANTOM_CMAKE_DIR})
endif()

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/PhantomConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/PhantomConfig.cmake
                              INSTALL_DESTINATION ${PHANTOM_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/PhantomConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/PhantomConfig.cmake
              ${PROJECT_BINARY_DIR}/PhantomConfigVersion.cmake
              ${PROJECT_SOURCE_DIR}/cmake/PhantomKokkos.cmake
        DESTINATION ${PHANTOM_CMAKE_DIR})

if(TARGET phantom-train)
  install(TARGETS phantom-train phantom-cost phantom-plan RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  install(FILES ${PROJECT_SOURCE_DIR}/inputs/quickstart.toml
          DESTINATION ${CMAKE_INSTALL_DATADIR}/phantom/inputs)
endif()
