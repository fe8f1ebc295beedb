# libFuzzer targets: one executable per fuzz/fuzz_*.c (scripts/fuzz.sh builds
# and runs them). Needs clang. The libraries' objects are instrumented for
# coverage (fuzzer-no-link) and checked by ASan and UBSan, so the fuzzer both
# finds its way into nd's parsers and notices when they misbehave.
if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "ND_BUILD_FUZZ needs clang (cmake -DCMAKE_C_COMPILER=clang ...)")
endif()

set(ND_FUZZ_SANITIZERS address,undefined)
set(ND_FUZZ_LIBS nd_objects)
foreach(part nd_frame_objects nd_image_objects)
  if(TARGET ${part})
    list(APPEND ND_FUZZ_LIBS ${part})
  endif()
endforeach()
foreach(objects ${ND_FUZZ_LIBS})
  target_compile_options(${objects} PRIVATE
    -fsanitize=fuzzer-no-link,${ND_FUZZ_SANITIZERS} -fno-omit-frame-pointer -g)
endforeach()

file(GLOB ND_FUZZ_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/fuzz/fuzz_*.c)
foreach(src ${ND_FUZZ_SOURCES})
  get_filename_component(name ${src} NAME_WE)
  add_executable(${name} ${src})
  target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/include ${CMAKE_SOURCE_DIR}/src)
  target_compile_options(${name} PRIVATE
    -fsanitize=fuzzer,${ND_FUZZ_SANITIZERS} -fno-omit-frame-pointer -g)
  target_link_options(${name} PRIVATE -fsanitize=fuzzer,${ND_FUZZ_SANITIZERS})
  # Linking an object library links its objects and what they need (libpng, ...).
  target_link_libraries(${name} PRIVATE ${ND_FUZZ_LIBS} ${LAPACKE_LIB} ${OPENBLAS_LIB} ${M_LIB})
endforeach()
# fuzz_expr fuzzes the expression language of `nd autodiff`: the program's own
# parser and evaluator, compiled into the target.
if(TARGET fuzz_expr)
  target_sources(fuzz_expr PRIVATE ${CMAKE_SOURCE_DIR}/cli/expr.c ${CMAKE_SOURCE_DIR}/cli/text.c)
  target_include_directories(fuzz_expr PRIVATE ${CMAKE_SOURCE_DIR}/cli)
endif()
