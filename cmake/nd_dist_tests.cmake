# The multi-process tests of libnd_dist (tests/dist): one plain C program, run
# without mpirun (one process), under mpirun with 2 processes, 3 (where nothing
# splits evenly) and 4 (more processes than this machine's cores), over shared
# memory; and with 2 and 4 over TCP only (btl tcp,self), as processes on
# separate machines talk. Over shared memory the DDP gradient buckets are
# summed in a segment that all the ranks map (src/dist/shm.c); the TCP runs
# send them through MPI, as separate machines do (ND_DDP_TRANSPORT=mpi), so
# both paths are tested. Open MPI refuses to start as root unless told, as CI
# runs; and it is kept to loopback, no other network.
# Not in the ThreadSanitizer build (which builds only its own list of tests).
if(TARGET nd_dist_static AND NOT ND_TSAN)
  file(GLOB ND_DIST_TEST_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/dist/*.c)
  add_executable(test_dist ${ND_DIST_TEST_SOURCES})
  target_include_directories(test_dist PRIVATE ${CMAKE_SOURCE_DIR}/include ${CMAKE_SOURCE_DIR}/src)
  target_link_libraries(test_dist PRIVATE nd_dist_static)
  set(ND_DIST_TEST_ENV "OMP_NUM_THREADS=1;OMPI_ALLOW_RUN_AS_ROOT=1;OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1")
  if(ND_SANITIZE)
    # Open MPI keeps allocations until exit: LeakSanitizer ignores those made
    # inside Open MPI's libraries (tests/dist/lsan.supp; full stacks, so that it
    # can tell), and still reports nd's own.
    list(APPEND ND_DIST_TEST_ENV
      "LSAN_OPTIONS=suppressions=${CMAKE_SOURCE_DIR}/tests/dist/lsan.supp:fast_unwind_on_malloc=0")
  endif()
  set(ND_MPIRUN ${MPIEXEC_EXECUTABLE} --oversubscribe --mca btl self,vader --mca oob_tcp_if_include lo)
  set(ND_MPIRUN_TCP ${MPIEXEC_EXECUTABLE} --oversubscribe --mca btl tcp,self
    --mca btl_tcp_if_include lo --mca oob_tcp_if_include lo -x ND_DDP_TRANSPORT=mpi)
  add_test(NAME test_dist_1 COMMAND test_dist)
  add_test(NAME test_dist_np2 COMMAND ${ND_MPIRUN} -np 2 $<TARGET_FILE:test_dist>)
  add_test(NAME test_dist_np3 COMMAND ${ND_MPIRUN} -np 3 $<TARGET_FILE:test_dist>)
  add_test(NAME test_dist_np4 COMMAND ${ND_MPIRUN} -np 4 $<TARGET_FILE:test_dist>)
  add_test(NAME test_dist_tcp_np2 COMMAND ${ND_MPIRUN_TCP} -np 2 $<TARGET_FILE:test_dist>)
  add_test(NAME test_dist_tcp_np4 COMMAND ${ND_MPIRUN_TCP} -np 4 $<TARGET_FILE:test_dist>)
  set(ND_DIST_TESTS test_dist_1 test_dist_np2 test_dist_np3 test_dist_np4 test_dist_tcp_np2
    test_dist_tcp_np4)
  # A rank that leaves mid-training (tests/dist/fault): the others stop with
  # an error after their timeout. mpirun would kill the job as soon as a rank
  # ends without MPI_Finalize; it is told to let that pass, so that what is
  # tested is nd's timeout, not mpirun's watch.
  add_executable(test_dist_fault ${CMAKE_SOURCE_DIR}/tests/dist/fault/fault.c)
  target_include_directories(test_dist_fault PRIVATE ${CMAKE_SOURCE_DIR}/include)
  target_link_libraries(test_dist_fault PRIVATE nd_dist_static)
  set(ND_FAULT_TESTS test_dist_fault_crash test_dist_fault_leave test_dist_fault_tcp_crash)
  add_test(NAME test_dist_fault_crash COMMAND ${ND_MPIRUN} --mca orte_allowed_exit_without_sync 1
    -np 3 $<TARGET_FILE:test_dist_fault> crash)
  add_test(NAME test_dist_fault_leave COMMAND ${ND_MPIRUN} --mca orte_allowed_exit_without_sync 1
    -np 3 $<TARGET_FILE:test_dist_fault> leave)
  add_test(NAME test_dist_fault_tcp_crash COMMAND ${ND_MPIRUN_TCP}
    --mca orte_allowed_exit_without_sync 1 -np 2 $<TARGET_FILE:test_dist_fault> crash)
  # After a timeout nd leaves the abandoned operation's buffers to MPI (never
  # freed) and MPI unfinalized: no leak check for these.
  set_tests_properties(${ND_FAULT_TESTS} PROPERTIES TIMEOUT 30
    ENVIRONMENT "${ND_DIST_TEST_ENV};ASAN_OPTIONS=detect_leaks=0")
  set_tests_properties(${ND_DIST_TESTS} PROPERTIES TIMEOUT 120 ENVIRONMENT "${ND_DIST_TEST_ENV}")
endif()
