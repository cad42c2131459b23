// Error reporting: pg::Error carries file:line, the failed condition and a message built
// from the streamed values. Library code throws; it never exits or aborts.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace pg {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

namespace detail {

template <class... Args>
std::string concat(const Args&... args) {
  std::ostringstream os;
  ((os << args), ...);
  return os.str();
}

[[noreturn]] void throw_error(const char* file, int line, const char* cond, const std::string& msg);

}  // namespace detail
}  // namespace pg

// PG_CHECK(cond, "op: message ", value, ...) throws pg::Error when cond is false.
#define PG_CHECK(cond, ...)                                                                \
  do {                                                                                     \
    if (!(cond)) {                                                                         \
      ::pg::detail::throw_error(__FILE__, __LINE__, #cond, ::pg::detail::concat(__VA_ARGS__)); \
    }                                                                                      \
  } while (0)

// PG_FAIL("message", ...) throws unconditionally.
#define PG_FAIL(...) ::pg::detail::throw_error(__FILE__, __LINE__, nullptr, ::pg::detail::concat(__VA_ARGS__))
