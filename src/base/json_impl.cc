// Boost.JSON's implementation, compiled once for the whole program (its
// header-only mode: <boost/json/src.hpp> in exactly one .cc; every other file
// includes <boost/json.hpp>, and only a .cc, never a widely included header).
#include <boost/json/src.hpp>
