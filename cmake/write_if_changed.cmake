# write_if_changed(<path> <content>): writes <content> to <path> only when it differs from what
# is there, so an unchanged generated file does not recompile what includes it.
function(write_if_changed path content)
  if(EXISTS "${path}")
    file(READ "${path}" old)
    if(old STREQUAL content)
      return()
    endif()
  endif()
  file(WRITE "${path}" "${content}")
endfunction()
