# docs/OPS.md: every op's VJP and JVP formula and flags, read from the op
# tables in src/ by tools/gen_ops_md.c (a host program: not built when cross
# compiling, e.g. to WebAssembly). The build writes it to BUILD/OPS.md; the
# target ops_md rewrites the committed docs/OPS.md; the test ops_md_current fails when
# that one is stale or an op table lacks a formula.
if(NOT CMAKE_CROSSCOMPILING)
  add_executable(gen_ops_md ${CMAKE_SOURCE_DIR}/tools/gen_ops_md.c)
  file(GLOB ND_OP_TABLE_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/*/*.c)
  add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/OPS.md
    COMMAND gen_ops_md ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR}/OPS.md
    DEPENDS gen_ops_md ${ND_OP_TABLE_SOURCES}
    COMMENT "Listing every op's rules (OPS.md)")
  add_custom_target(ops_md_listing ALL DEPENDS ${CMAKE_BINARY_DIR}/OPS.md)
  add_custom_target(ops_md
    COMMAND gen_ops_md ${CMAKE_SOURCE_DIR} ${CMAKE_SOURCE_DIR}/docs/OPS.md
    COMMENT "Rewriting docs/OPS.md")
  if(ND_BUILD_TESTS AND NOT ND_TSAN) # the TSan run builds and runs only the threaded tests
    add_test(NAME ops_md_current COMMAND gen_ops_md --check ${CMAKE_SOURCE_DIR} ${CMAKE_SOURCE_DIR}/docs/OPS.md)
  endif()
endif()
