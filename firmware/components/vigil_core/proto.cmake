# Generates the nanopb C code for proto/vigil/v1/{telemetry,status}.proto at build time.
# VIGIL_NANOPB_GENERATOR is the generator command (a CMake list); by default the repository's uv
# environment (nanopb from PyPI), else `python3 -m nanopb.generator.nanopb_generator`.
get_filename_component(VIGIL_REPO_ROOT "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)
set(VIGIL_PROTO_DIR "${VIGIL_REPO_ROOT}/proto")
set(VIGIL_OPTIONS_DIR "${CMAKE_CURRENT_LIST_DIR}/../../proto")

if(NOT VIGIL_NANOPB_GENERATOR)
  find_program(VIGIL_UV uv)
  if(VIGIL_UV AND EXISTS "${VIGIL_REPO_ROOT}/uv.lock")
    set(VIGIL_NANOPB_GENERATOR "${VIGIL_UV};run;--frozen;--project;${VIGIL_REPO_ROOT};nanopb_generator")
  else()
    find_package(Python3 REQUIRED COMPONENTS Interpreter)
    set(VIGIL_NANOPB_GENERATOR "${Python3_EXECUTABLE};-m;nanopb.generator.nanopb_generator")
  endif()
endif()

function(vigil_generate_proto out_dir out_srcs)
  set(srcs)
  foreach(name telemetry status)
    set(proto "${VIGIL_PROTO_DIR}/vigil/v1/${name}.proto")
    set(opts "${VIGIL_OPTIONS_DIR}/${name}.options")
    set(c "${out_dir}/vigil/v1/${name}.pb.c")
    set(h "${out_dir}/vigil/v1/${name}.pb.h")
    add_custom_command(
      OUTPUT "${c}" "${h}"
      COMMAND ${CMAKE_COMMAND} -E make_directory "${out_dir}"
      COMMAND ${VIGIL_NANOPB_GENERATOR} -q -I "${VIGIL_PROTO_DIR}" -f "${opts}" -D "${out_dir}"
              "${proto}"
      DEPENDS "${proto}" "${opts}"
      WORKING_DIRECTORY "${VIGIL_REPO_ROOT}"
      COMMENT "nanopb: ${name}.proto"
      VERBATIM)
    list(APPEND srcs "${c}")
  endforeach()
  set(${out_srcs} ${srcs} PARENT_SCOPE)
endfunction()
