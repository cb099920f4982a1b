# One interface target carries the project's warning flags; every fh target links it.
add_library(fh_warnings INTERFACE)
add_library(fh::warnings ALIAS fh_warnings)
target_compile_options(fh_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion
  -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Woverloaded-virtual
  -Wnull-dereference -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough
  $<$<BOOL:${FH_WERROR}>:-Werror>)
# g++ 12 at -O3 reports impossible std::string memcpy overlaps (-Wrestrict, GCC bug 105329)
# inside libstdc++; keep the flag off there so Release stays buildable with -Werror.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  # Same for -Wnull-dereference: at -O3 it fires inside libstdc++ (streambuf, unique_ptr).
  target_compile_options(fh_warnings INTERFACE -Wno-restrict -Wno-null-dereference)
endif()
