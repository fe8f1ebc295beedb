# libnd_dist: data parallelism over MPI (src/dist), built when MPI is found
# (scripts/install-deps.sh installs Open MPI). It links libnd; libnd and the
# other libraries never link MPI.
file(GLOB ND_DIST_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/dist/*.c)
if(ND_DIST_SOURCES)
  find_package(MPI COMPONENTS C)
endif()
if(ND_DIST_SOURCES AND MPI_C_FOUND)
  message(STATUS "nd: MPI ${MPI_C_VERSION} (libnd_dist), mpiexec ${MPIEXEC_EXECUTABLE}")
  add_library(nd_dist_objects OBJECT ${ND_DIST_SOURCES})
  set_target_properties(nd_dist_objects PROPERTIES C_VISIBILITY_PRESET hidden) # ND_API only
  target_include_directories(nd_dist_objects PUBLIC ${CMAKE_SOURCE_DIR}/include PRIVATE ${CMAKE_SOURCE_DIR}/src)
  target_link_libraries(nd_dist_objects PUBLIC MPI::MPI_C ${ND_OPENMP})
  add_library(nd_dist SHARED $<TARGET_OBJECTS:nd_dist_objects>)
  add_library(nd_dist_static STATIC $<TARGET_OBJECTS:nd_dist_objects>)
  set_target_properties(nd_dist_static PROPERTIES OUTPUT_NAME nd_dist)
  set_target_properties(nd_dist PROPERTIES VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR})
  target_link_libraries(nd_dist PUBLIC nd MPI::MPI_C)
  target_link_libraries(nd_dist_static PUBLIC nd_static MPI::MPI_C)
  install(TARGETS nd_dist nd_dist_static LIBRARY DESTINATION lib ARCHIVE DESTINATION lib)
  install(FILES include/nd_dist.h DESTINATION include)
  # MPI's own flags come from its pkg-config file (ompi-c), so nd_dist.pc stays
  # right wherever MPI lives.
  nd_pkgconfig(nd_dist "Data-parallel training for nd over MPI" "nd ompi-c" "-lnd_dist")
elseif(ND_DIST_SOURCES)
  message(STATUS "nd: MPI not found, libnd_dist is not built (scripts/install-deps.sh installs Open MPI)")
endif()
