# mnc_add_model: compiles an ONNX model (or .mnir file) with `mnc compile`
# at build time into a static library target whose generated header's
# folder is on the include path of everything that links it.
#
#   mnc_add_model(TARGET name MODEL file.onnx [NAME prefix] [TRIPLE triple]
#                 [MCPU cpu] [MATTR features] [FLAGS flag...])
#
# NAME is the C symbol and macro prefix and the header's name (NAME.h;
# default: the target name as a C identifier). TRIPLE, MCPU and MATTR become
# mnc's --target, --mcpu and --mattr; FLAGS go to `mnc compile` as given.
# The model is recompiled when the model file or the mnc executable
# changes. Used in mnc's own build (where mnc::mnc aliases the mnc target)
# and from the installed CMake package (where it is an imported target).
function(mnc_add_model)
  cmake_parse_arguments(PARSE_ARGV 0 arg ""
    "TARGET;MODEL;NAME;TRIPLE;MCPU;MATTR" "FLAGS")
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "mnc_add_model: unknown arguments "
      "'${arg_UNPARSED_ARGUMENTS}' (keywords: TARGET MODEL NAME TRIPLE MCPU "
      "MATTR FLAGS)")
  endif()
  foreach(keyword TARGET MODEL)
    if(NOT arg_${keyword})
      message(FATAL_ERROR "mnc_add_model: ${keyword} is required")
    endif()
  endforeach()
  if(NOT TARGET mnc::mnc)
    message(FATAL_ERROR "mnc_add_model: no mnc::mnc target; call "
      "find_package(mnc REQUIRED) first")
  endif()
  get_filename_component(model "${arg_MODEL}" ABSOLUTE
    BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
  if(NOT EXISTS "${model}")
    message(FATAL_ERROR "mnc_add_model(${arg_TARGET}): no model file at "
      "'${model}'")
  endif()
  if(NOT arg_NAME)
    string(MAKE_C_IDENTIFIER "${arg_TARGET}" arg_NAME)
  endif()

  set(options --name "${arg_NAME}")
  foreach(pair TRIPLE:--target MCPU:--mcpu MATTR:--mattr)
    string(REPLACE ":" ";" pair "${pair}")
    list(GET pair 0 keyword)
    list(GET pair 1 flag)
    if(arg_${keyword})
      list(APPEND options "${flag}" "${arg_${keyword}}")
    endif()
  endforeach()

  set(dir "${CMAKE_CURRENT_BINARY_DIR}/mnc/${arg_TARGET}")
  set(object "${dir}/${arg_NAME}.o")
  set(header "${dir}/${arg_NAME}.h")
  get_filename_component(model_file "${model}" NAME)
  add_custom_command(OUTPUT "${object}" "${header}"
    COMMAND "${CMAKE_COMMAND}" -E make_directory "${dir}"
    COMMAND mnc::mnc compile "${model}" -o "${object}" --header "${header}"
            ${options} ${arg_FLAGS}
    DEPENDS mnc::mnc "${model}"
    COMMENT "Compiling ${model_file} with mnc"
    VERBATIM)
  set_source_files_properties("${object}" PROPERTIES
    EXTERNAL_OBJECT TRUE GENERATED TRUE)

  # A static library of the one object: consumers link it like any other
  # library; it needs only an archiver, so take any enabled language.
  get_property(languages GLOBAL PROPERTY ENABLED_LANGUAGES)
  if("C" IN_LIST languages)
    set(language C)
  elseif("CXX" IN_LIST languages)
    set(language CXX)
  else()
    message(FATAL_ERROR "mnc_add_model: enable C or CXX in project()")
  endif()
  add_library(${arg_TARGET} STATIC "${object}" "${header}")
  set_target_properties(${arg_TARGET} PROPERTIES LINKER_LANGUAGE ${language})
  target_include_directories(${arg_TARGET} INTERFACE "${dir}")
endfunction()
