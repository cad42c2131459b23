#include "core/error.h"

namespace pg::detail {

void throw_error(const char* file, int line, const char* cond, const std::string& msg) {
  std::ostringstream os;
  os << msg;
  os << " [" << file << ":" << line;
  if (cond != nullptr) os << ", check failed: " << cond;
  os << "]";
  throw Error(msg, os.str());
}

}  // namespace pg::detail
