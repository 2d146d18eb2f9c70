# CTest script: install the build tree to a temporary prefix, then configure, build and run the
# consumer project tests/install against it (find_package(temporal) and pkg-config).
#   cmake -DBUILD_DIR=... -DSOURCE_DIR=... -DWORK_DIR=... [-DGENERATOR=...] -P InstallTest.cmake
foreach(v BUILD_DIR SOURCE_DIR WORK_DIR)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "InstallTest.cmake: ${v} is not set")
  endif()
endforeach()

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  set(run_output "${out}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)
run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})

set(gen)
if(GENERATOR)
  set(gen -G ${GENERATOR})
endif()
run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/install -B ${WORK_DIR}/build ${gen}
    -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_BUILD_TYPE=Release)
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build)
run(${WORK_DIR}/build/consumer ${SOURCE_DIR}/tests/data/small.safetensors)
message(STATUS "consumer (find_package): ${run_output}")
if(NOT run_output MATCHES "class=")
  message(FATAL_ERROR "consumer printed no classification")
endif()

# pkg-config, when installed: compile the C consumer from the flags of the installed temporal.pc.
find_program(PKG_CONFIG pkg-config)
find_program(CC NAMES cc gcc)
if(PKG_CONFIG AND CC)
  file(GLOB_RECURSE pcs ${prefix}/*/temporal.pc)
  list(GET pcs 0 pc)
  get_filename_component(pcdir ${pc} DIRECTORY)
  set(ENV{PKG_CONFIG_PATH} ${pcdir})
  run(${PKG_CONFIG} --cflags --libs temporal)
  string(STRIP "${run_output}" flags)
  separate_arguments(flags UNIX_COMMAND "${flags}")
  run(${PKG_CONFIG} --variable=libdir temporal)
  string(STRIP "${run_output}" libdir)
  run(${CC} -std=c99 -Wall -Wextra -Werror ${SOURCE_DIR}/tests/install/consumer.c ${flags}
      -lm -Wl,-rpath,${libdir} -o ${WORK_DIR}/consumer_c)
  run(${WORK_DIR}/consumer_c ${SOURCE_DIR}/tests/data/small.safetensors)
  message(STATUS "consumer (pkg-config): ${run_output}")
else()
  message(STATUS "pkg-config or cc not found: skipping the pkg-config consumer")
endif()
