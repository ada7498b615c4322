# phantom_warnings(target): the project's warning flags on one target.
function(phantom_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra)
endfunction()
