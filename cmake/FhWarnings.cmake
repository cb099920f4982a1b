# One interface target carries the project's warning flags; every fh target links it.
add_library(fh_warnings INTERFACE)
add_library(fh::warnings ALIAS fh_warnings)
target_compile_options(fh_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion
  -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Woverloaded-virtual
  -Wnull-dereference -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough
  $<$<BOOL:${FH_WERROR}>:-Werror>)
