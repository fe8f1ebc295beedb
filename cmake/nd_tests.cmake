# One Criterion executable per tests/unit/test_*.c, each registered with CTest.
# A test file links every nd library that exists in this configuration.
pkg_check_modules(CRITERION REQUIRED criterion)
file(GLOB ND_TEST_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/unit/test_*.c)
set(ND_TEST_RUNNER "")
set(ND_TEST_CRITERION_INCLUDE ${CRITERION_INCLUDE_DIRS})
set(ND_TEST_CRITERION_LIBS ${CRITERION_LIBRARIES})
set(ND_TEST_ENV "OMP_NUM_THREADS=2")
if(ND_TSAN)
  # The ThreadSanitizer build (make test-tsan): the threads test and the core
  # tests, on tests/tsan's stand-in for Criterion, which cannot start under TSan.
  # OpenBLAS stays on the calling thread: its workers run in libgomp, unseen by TSan.
  # (test_train is left out: its long loops take half a minute under TSan and
  # run on one thread; test_threads trains on six.)
  set(ND_TSAN_TESTS test_threads test_create test_binary test_unary test_reduce test_view
    test_index test_compare test_join test_softmax test_nn test_linalg test_linalg_grad
    test_autograd test_jacobian test_jacobian_batched test_jacobian_diag test_optim test_parse test_format test_npy)
  list(JOIN ND_TSAN_TESTS "|" ND_TSAN_TESTS_REGEX)
  list(FILTER ND_TEST_SOURCES INCLUDE REGEX "/(${ND_TSAN_TESTS_REGEX})\\.c$")
  set(ND_TEST_RUNNER ${CMAKE_SOURCE_DIR}/tests/tsan/runner.c)
  set(ND_TEST_CRITERION_INCLUDE ${CMAKE_SOURCE_DIR}/tests/tsan)
  set(ND_TEST_CRITERION_LIBS "")
  set(ND_TEST_ENV "OMP_NUM_THREADS=1;OPENBLAS_NUM_THREADS=1")
endif()
# The build without BLAS (build-noblas in make test): the tests whose numbers go
# through matrix products, held to the same goldens as the BLAS build;
# test_linalg without its decompositions (there is no LAPACK to run them).
set(ND_TEST_ARGS_test_linalg "")
if(NOT ND_BLAS)
  set(ND_NOBLAS_TESTS test_gemm_kernel test_linalg test_nn test_optim test_jacobian
    test_jacobian_batched test_jacobian_diag test_train)
  list(JOIN ND_NOBLAS_TESTS "|" ND_NOBLAS_TESTS_REGEX)
  list(FILTER ND_TEST_SOURCES INCLUDE REGEX "/(${ND_NOBLAS_TESTS_REGEX})\\.c$")
  set(ND_TEST_ARGS_test_linalg --filter "!(decomp)/*")
endif()
set(ND_TEST_LIBS nd_static)
foreach(part nd_frame_static nd_image_static nd_plot_static)
  if(TARGET ${part})
    list(APPEND ND_TEST_LIBS ${part})
  endif()
endforeach()
foreach(src ${ND_TEST_SOURCES})
  get_filename_component(name ${src} NAME_WE)
  add_executable(${name} ${src} ${CMAKE_SOURCE_DIR}/tests/unit/support.c ${ND_TEST_RUNNER})
  target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/include ${CMAKE_SOURCE_DIR}/src ${CMAKE_SOURCE_DIR}/tests/unit ${ND_TEST_CRITERION_INCLUDE})
  target_link_libraries(${name} PRIVATE ${ND_TEST_LIBS} ${ND_TEST_CRITERION_LIBS})
  target_compile_definitions(${name} PRIVATE ND_GOLDEN_DIR="${CMAKE_SOURCE_DIR}/tests/golden" ND_DATA_DIR="${CMAKE_SOURCE_DIR}/data" ND_TEST_DATA_DIR="${CMAKE_SOURCE_DIR}/tests/data")
  add_test(NAME ${name} COMMAND ${name} --jobs 1 ${ND_TEST_ARGS_${name}})
  set_tests_properties(${name} PROPERTIES TIMEOUT 600 ENVIRONMENT "${ND_TEST_ENV}")
endforeach()
if(ND_SANITIZE AND TARGET test_plot)
  # fontconfig's one-time font configuration, kept until exit (tests/unit/lsan.supp)
  set_property(TEST test_plot APPEND PROPERTY ENVIRONMENT
    "LSAN_OPTIONS=suppressions=${CMAKE_SOURCE_DIR}/tests/unit/lsan.supp")
endif()

# The allocation-failure sweep (tests/faults): a plain program, not Criterion,
# because it replaces malloc for the whole process. It links nd's shared
# libraries so that it can tell their allocations from those of the libraries
# under them by the address of the caller.
if(TARGET nd_frame AND TARGET nd_image AND TARGET nd_plot)
  add_executable(alloc_sweep ${CMAKE_SOURCE_DIR}/tests/faults/alloc_sweep.c
    ${CMAKE_SOURCE_DIR}/tests/faults/failing_malloc.c ${CMAKE_SOURCE_DIR}/tests/faults/workloads.c)
  target_include_directories(alloc_sweep PRIVATE ${CMAKE_SOURCE_DIR}/include ${CMAKE_SOURCE_DIR}/src)
  target_link_libraries(alloc_sweep PRIVATE nd nd_frame nd_image nd_plot ${CMAKE_DL_LIBS})
  # The replaced malloc runs before AddressSanitizer has started (its own start
  # calls malloc): it must not be instrumented.
  set_source_files_properties(${CMAKE_SOURCE_DIR}/tests/faults/failing_malloc.c
    PROPERTIES COMPILE_OPTIONS -fno-sanitize=all)
  add_test(NAME alloc_sweep COMMAND alloc_sweep)
  set_tests_properties(alloc_sweep PROPERTIES TIMEOUT 600 ENVIRONMENT "OMP_NUM_THREADS=1")
endif()

if(ND_TSAN)
  add_custom_target(tsan_tests)
  foreach(src ${ND_TEST_SOURCES})
    get_filename_component(name ${src} NAME_WE)
    add_dependencies(tsan_tests ${name})
  endforeach()
endif()
include(${CMAKE_SOURCE_DIR}/cmake/nd_dist_tests.cmake OPTIONAL)

# The shared libraries export exactly the functions their headers declare
# (ND_API; everything else is built hidden): scripts/check-exports.sh.
if(NOT ND_TSAN) # the TSan run builds and runs only the threaded tests
  add_test(NAME exports COMMAND bash ${CMAKE_SOURCE_DIR}/scripts/check-exports.sh ${CMAKE_BINARY_DIR})
endif()
