# FH_SANITIZE applies to everything built here (tests included), not to system libraries.
if(FH_SANITIZE)
  add_compile_options(-fsanitize=${FH_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${FH_SANITIZE})
endif()
