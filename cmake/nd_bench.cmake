# Benchmark programs: every bench/*.c becomes an executable in <build>/bench,
# linking libnd and whichever part libraries exist. They are built by the
# normal build and run only by `make bench` (scripts/bench.sh), never by tests.
file(GLOB ND_BENCH_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/bench/*.c)
set(ND_BENCH_LIBS nd_static)
foreach(part nd_frame_static nd_image_static)
  if(TARGET ${part})
    list(APPEND ND_BENCH_LIBS ${part})
  endif()
endforeach()
foreach(src ${ND_BENCH_SOURCES})
  get_filename_component(name ${src} NAME_WE)
  # W11 (bench_ddp) and the transport's alpha and beta (bench_allreduce) run
  # over MPI: only where libnd_dist is built.
  set(over_mpi FALSE)
  if(name STREQUAL "bench_ddp" OR name STREQUAL "bench_allreduce")
    set(over_mpi TRUE)
  endif()
  if(over_mpi AND NOT TARGET nd_dist_static)
    continue()
  endif()
  add_executable(${name} ${src})
  target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/include ${CMAKE_SOURCE_DIR}/src)
  target_link_libraries(${name} PRIVATE ${ND_BENCH_LIBS} OpenMP::OpenMP_C ${M_LIB})
  if(over_mpi)
    target_link_libraries(${name} PRIVATE nd_dist_static)
  endif()
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)
endforeach()
# The PEAK kernel is a chain of multiply-adds: let the compiler fuse them (FMA),
# as ISO C mode (-std=c11) otherwise forbids.
if(TARGET bench_core)
  target_compile_options(bench_core PRIVATE -ffp-contract=fast)
endif()
