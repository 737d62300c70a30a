# hotstate_extract_snippets(MARKDOWN file OUTPUT_DIR dir PREFIX name OUT_VAR var)
#
# Writes every ```cpp block of MARKDOWN into its own translation unit under
# OUTPUT_DIR and returns their paths in OUT_VAR. Each unit starts with a
# `#line` directive, so a compile error points at the Markdown file's line.
#
# The convention a README follows (documented in tests/readme/README.md):
#   - a ```cpp block is compiled as it stands, at namespace scope;
#   - the line right before the fence may be an HTML comment (invisible once
#     rendered) giving the context a fragment needs:
#       <!-- snippet: context=NAME -->          includes tests/readme/context/NAME.hpp first
#       <!-- snippet: in-function -->           wraps the block in a function body
#                                               (its #include lines stay at file scope)
#       <!-- snippet: context=NAME in-function -->   both
#   - nothing else is accepted there, so a typo fails the configure step.
function(hotstate_extract_snippets)
  cmake_parse_arguments(S "" "MARKDOWN;OUTPUT_DIR;PREFIX;OUT_VAR" "" ${ARGN})
  file(READ "${S_MARKDOWN}" text)
  set(fence_open "\n```cpp\n")
  set(rest "${text}")
  set(line 1)  # the Markdown line `rest` starts on
  set(index 0)
  set(sources)
  while(TRUE)
    string(FIND "${rest}" "${fence_open}" start)
    if(start EQUAL -1)
      break()
    endif()
    string(SUBSTRING "${rest}" 0 ${start} before)
    math(EXPR body_begin "${start} + 8")
    string(SUBSTRING "${rest}" ${body_begin} -1 after)
    string(FIND "${after}" "\n```" end)
    if(end EQUAL -1)
      message(FATAL_ERROR "${S_MARKDOWN}: a ```cpp block is never closed")
    endif()
    math(EXPR body_length "${end} + 1")
    string(SUBSTRING "${after}" 0 ${body_length} body)
    math(EXPR after_close "${end} + 4")
    string(SUBSTRING "${after}" ${after_close} -1 rest_next)

    # Markdown line of the block's first line: lines before the fence, the fence itself.
    string(REGEX MATCHALL "\n" newlines "${before}")
    list(LENGTH newlines before_lines)
    math(EXPR body_line "${line} + ${before_lines} + 2")
    string(REGEX MATCHALL "\n" newlines "${body}")
    list(LENGTH newlines body_lines)
    math(EXPR line "${body_line} + ${body_lines} + 0")  # `rest_next` starts on the closing fence's line

    # the directive: the last line before the fence
    set(context "")
    set(in_function FALSE)
    string(FIND "${before}" "\n" last_newline REVERSE)
    math(EXPR directive_begin "${last_newline} + 1")
    string(SUBSTRING "${before}" ${directive_begin} -1 directive)
    math(EXPR fence_line "${body_line} - 1")
    if(directive MATCHES "^<!-- snippet:(.*)-->[ \t]*$")
      string(STRIP "${CMAKE_MATCH_1}" options)
      string(REPLACE " " ";" options "${options}")
      foreach(option IN LISTS options)
        if(option MATCHES "^context=([A-Za-z0-9_]+)$")
          set(context "${CMAKE_MATCH_1}")
          if(NOT EXISTS "${CMAKE_CURRENT_FUNCTION_LIST_DIR}/context/${context}.hpp")
            message(FATAL_ERROR "${S_MARKDOWN}:${fence_line}: no context tests/readme/context/${context}.hpp")
          endif()
        elseif(option STREQUAL "in-function")
          set(in_function TRUE)
        elseif(NOT option STREQUAL "")
          message(FATAL_ERROR "${S_MARKDOWN}:${fence_line}: unknown snippet option '${option}' "
                              "(expected context=NAME or in-function)")
        endif()
      endforeach()
    elseif(directive MATCHES "snippet")
      message(FATAL_ERROR "${S_MARKDOWN}:${fence_line}: malformed snippet comment '${directive}' "
                          "(expected <!-- snippet: context=NAME in-function -->)")
    endif()

    math(EXPR index "${index} + 1")
    set(unit "// Generated from ${S_MARKDOWN} line ${body_line} by tests/readme/readme_snippets.cmake: do not edit.\n")
    if(context)
      string(APPEND unit "#include \"context/${context}.hpp\"\n")
    endif()
    if(in_function)
      # #include lines stay at file scope; blank lines keep the #line mapping exact
      string(REGEX MATCHALL "#include[^\n]*" includes "${body}")
      foreach(include IN LISTS includes)
        string(APPEND unit "${include}\n")
      endforeach()
      string(REGEX REPLACE "#include[^\n]*" "" body "${body}")
      string(APPEND unit "void ${S_PREFIX}_${index}();\nvoid ${S_PREFIX}_${index}() {\n")
    endif()
    string(APPEND unit "#line ${body_line} \"${S_MARKDOWN}\"\n${body}")
    if(in_function)
      string(APPEND unit "}\n")
    endif()
    # written through a copy that only touches the unit when it changed, so a
    # README edit rebuilds only the snippets it changed
    set(source "${S_OUTPUT_DIR}/${S_PREFIX}_${index}.cpp")
    file(WRITE "${source}.new" "${unit}")
    configure_file("${source}.new" "${source}" COPYONLY)
    list(APPEND sources "${source}")
    set(rest "${rest_next}")
  endwhile()
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${S_MARKDOWN}")
  set(${S_OUT_VAR} "${sources}" PARENT_SCOPE)
endfunction()
