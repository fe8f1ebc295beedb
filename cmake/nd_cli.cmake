# The nd program: cli/*.c, and every lab in cli/labs/ (listed in cli/labs/registry.c).
file(GLOB ND_CLI_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/cli/*.c ${CMAKE_SOURCE_DIR}/cli/labs/*.c)
add_executable(nd_cli ${ND_CLI_SOURCES})
set_target_properties(nd_cli PROPERTIES OUTPUT_NAME nd)
target_include_directories(nd_cli PRIVATE ${CMAKE_SOURCE_DIR}/include ${CMAKE_SOURCE_DIR}/cli)
target_compile_definitions(nd_cli PRIVATE ND_DATA_DIR="${CMAKE_SOURCE_DIR}/data"
  ND_INSTALLED_DATA_DIR="${CMAKE_INSTALL_PREFIX}/share/nd/data"
  ND_INTERACTIVE_PAGE="${CMAKE_SOURCE_DIR}/build-wasm/interactive.html"
  ND_INSTALLED_INTERACTIVE_PAGE="${CMAKE_INSTALL_PREFIX}/share/nd/interactive.html")
set(ND_CLI_LIBS nd_static)
foreach(part nd_frame_static nd_image_static nd_plot_static)
  if(TARGET ${part})
    list(PREPEND ND_CLI_LIBS ${part})
  endif()
endforeach()
# `nd train` runs over libnd_dist where MPI was found (cli/train.c says so where not).
if(TARGET nd_dist_static)
  list(PREPEND ND_CLI_LIBS nd_dist_static)
  target_compile_definitions(nd_cli PRIVATE ND_HAVE_DIST)
endif()
target_link_libraries(nd_cli PRIVATE ${ND_CLI_LIBS} m)
install(TARGETS nd_cli RUNTIME DESTINATION bin)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/data/ DESTINATION share/nd/data OPTIONAL)
# the page of nd labs' interactive.html, when scripts/build-wasm.sh has made it
install(FILES ${CMAKE_SOURCE_DIR}/build-wasm/interactive.html DESTINATION share/nd OPTIONAL)

# nd_web_native: the browser page's C functions (web/) run natively, for
# tests/e2e/interactive.sh to compare the page's numbers with (see web/native.c).
if(TARGET nd_image_static)
  add_executable(nd_web_native web/native.c web/nd_web.c web/nd_web_labs.c web/nd_web_autodiff.c
                 web/nd_web_train.c web/json.c cli/expr.c cli/expr_passes.c cli/text.c cli/relu_sum.c)
  target_include_directories(nd_web_native PRIVATE ${CMAKE_SOURCE_DIR}/include ${CMAKE_SOURCE_DIR}/cli
                             ${CMAKE_SOURCE_DIR}/web)
  target_link_libraries(nd_web_native PRIVATE nd_image_static nd_static m)
endif()
