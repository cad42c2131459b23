// Error reporting: pg::Error carries file:line, the failed condition and a message built
// from the streamed values. Library code throws; it never exits or aborts.
//
// Two texts (docs/decisions.md, "Error text"): what() is the full text for developers and logs,
//   "<message> [<file>:<line>, check failed: <cond>]";
// message() is the sentence for people (the pg CLI prints it unless --verbose), without the
// source location and the check expression.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace pg {

class Error : public std::runtime_error {
 public:
  // An error whose message and full text are the same (no source location).
  explicit Error(const std::string& what) : std::runtime_error(what), message_(what) {}
  Error(std::string message, const std::string& full) : std::runtime_error(full), message_(std::move(message)) {}

  // The message alone: what a user reads (what() adds the source location and check).
  const std::string& message() const noexcept { return message_; }

 private:
  std::string message_;
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
