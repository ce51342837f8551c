# mdp_write_if_changed(<file> <text>): writes <text> to <file> only when it differs, so that an
# unchanged generated source does not rebuild what compiles it. For the -P scripts that embed
# files at build time (EmbedAssets.cmake, EmbedText.cmake).
function(mdp_write_if_changed out text)
  set(old "")
  if(EXISTS "${out}")
    file(READ "${out}" old)
  endif()
  if(NOT old STREQUAL text)
    file(WRITE "${out}" "${text}")
  endif()
endfunction()
