# Helpers that give every component the same shape: one static library per directory
# (sources: *.cc and internal/*.cc that are not tests, fuzz targets or benchmarks), one test
# executable per directory (all *_test.cc), and one fuzz target per *_fuzz.cc.

set(KINKO_WARNINGS -Wall -Wextra -Wshadow)
if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  list(APPEND KINKO_WARNINGS -Wthread-safety)
endif()
if(KINKO_WERROR)
  list(APPEND KINKO_WARNINGS -Werror)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    # GCC 12 reports false stringop-overread/overflow and array-bounds errors inside libstdc++'s
    # memcmp/memcpy paths at -O2 and above (GCC PR 105329 and relatives), and false
    # maybe-uninitialized inside std::function/std::regex under the sanitizers; they stay
    # visible as warnings. Clang builds (fuzz, tsan) keep every warning fatal.
    list(APPEND KINKO_WARNINGS -Wno-error=stringop-overread -Wno-error=stringop-overflow
         -Wno-error=maybe-uninitialized -Wno-error=array-bounds)
  endif()
endif()

set(KINKO_VECTORS_DIR "${PROJECT_SOURCE_DIR}/test/vectors")

# The components `name` may depend on, read from layers.txt (the one declaration).
function(kinko_layer_deps name out)
  file(STRINGS "${PROJECT_SOURCE_DIR}/layers.txt" lines REGEX "^${name}:")
  set(deps "")
  if(lines)
    list(GET lines 0 line)
    string(REGEX REPLACE "^${name}:[ ]*" "" rest "${line}")
    string(REGEX MATCHALL "[a-z]+" names "${rest}")
    foreach(dep ${names})
      if(TARGET kinko_${dep})
        list(APPEND deps kinko_${dep})
      else()
        # A component declared in layers.txt that does not exist yet: link what it may use.
        kinko_layer_deps(${dep} indirect)
        list(APPEND deps ${indirect})
      endif()
    endforeach()
  endif()
  set(${out} ${deps} PARENT_SCOPE)
endfunction()

# kinko_library(NAME [EXTERNAL libs...]): the library of the current directory.
function(kinko_library name)
  cmake_parse_arguments(ARG "" "" "EXTERNAL" ${ARGN})
  kinko_layer_deps(${name} layer_deps)
  file(GLOB srcs CONFIGURE_DEPENDS
       "${CMAKE_CURRENT_SOURCE_DIR}/*.cc" "${CMAKE_CURRENT_SOURCE_DIR}/internal/*.cc")
  list(FILTER srcs EXCLUDE REGEX "(_(test|fuzz|bench)|/main)\\.cc$")
  if(NOT srcs)
    # A component whose interfaces are written before their code: nothing to build yet.
    return()
  endif()
  add_library(kinko_${name} STATIC ${srcs})
  target_include_directories(kinko_${name} PUBLIC "${PROJECT_SOURCE_DIR}")
  target_compile_options(kinko_${name} PRIVATE ${KINKO_WARNINGS})
  target_link_libraries(kinko_${name} PUBLIC ${layer_deps} ${ARG_EXTERNAL})

  file(GLOB tests CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/*_test.cc")
  if(tests)
    add_executable(${name}_test ${tests})
    target_compile_options(${name}_test PRIVATE ${KINKO_WARNINGS})
    target_compile_definitions(${name}_test PRIVATE KINKO_VECTORS_DIR="${KINKO_VECTORS_DIR}")
    target_link_libraries(${name}_test PRIVATE kinko_${name} GTest::gtest GTest::gmock
                                               GTest::gtest_main nlohmann_json::nlohmann_json)
    add_test(NAME ${name}_test COMMAND ${name}_test --gtest_brief=1)
  endif()

  file(GLOB fuzzers CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/*_fuzz.cc")
  foreach(fuzzer ${fuzzers})
    get_filename_component(target ${fuzzer} NAME_WE)
    kinko_fuzz_target(${target} ${fuzzer} kinko_${name})
  endforeach()
endfunction()

# A fuzz target is a libFuzzer binary in the fuzz preset. In every other build it links a small
# driver that runs the target over its seed corpus. Either way a test runs it once over its corpus
# (libFuzzer with -runs=0), so every build's ctest replays every corpus input.
function(kinko_fuzz_target target source lib)
  add_executable(${target} ${source})
  target_compile_options(${target} PRIVATE ${KINKO_WARNINGS})
  target_link_libraries(${target} PRIVATE ${lib})
  set(corpus "${PROJECT_SOURCE_DIR}/fuzz/corpus/${target}")
  if(KINKO_FUZZ)
    target_compile_options(${target} PRIVATE -fsanitize=fuzzer)
    target_link_options(${target} PRIVATE -fsanitize=fuzzer)
    add_test(NAME ${target}_corpus COMMAND ${target} -runs=0 "${corpus}")
  else()
    target_link_libraries(${target} PRIVATE kinko_fuzz_driver)
    add_test(NAME ${target}_corpus COMMAND ${target} "${corpus}")
  endif()
  set_property(GLOBAL APPEND PROPERTY KINKO_FUZZ_TARGETS ${target})
endfunction()
