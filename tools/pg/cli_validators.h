// Numeric option validators for the pg command line whose errors people can read. CLI11's own
// Range / PositiveNumber print their bounds as full doubles ("--m: Value 0 not in range 0.000000
// to 17976931348623157...000"); these print the rule as written in the help:
//   --m: must be >= 1, got 0
//   --test-fraction: must be in [0, 1], got 1.5
//   --lr: must be > 0, got -1
//   --points: must be an integer, got 12x
// Each validator also shows its rule in --help ("--m INT:>= 1", "--noise FLOAT:in [0, 0.2]").
#pragma once

#include <CLI/CLI.hpp>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <limits>
#include <sstream>
#include <string>

namespace pg::cli {

namespace rules {

// A double printed the way a person writes it (1e+06 stays short, 0.05 stays 0.05).
inline std::string num(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

inline bool parse_int(const std::string& s, int64_t& v) {
  const char* end = s.data() + s.size();
  const auto r = std::from_chars(s.data(), end, v);
  return r.ec == std::errc() && r.ptr == end && !s.empty();
}

inline bool parse_real(const std::string& s, double& v) {
  if (s.empty()) return false;
  char* end = nullptr;
  v = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size() && !std::isnan(v);
}

// A validator that accepts what parses as an integer and satisfies `ok`; `rule` is the text of
// the condition ("in [1, 64]", ">= 1").
inline CLI::Validator int_rule(const std::string& rule, std::function<bool(int64_t)> ok) {
  return CLI::Validator(
      [rule, ok](std::string& in) -> std::string {
        int64_t v = 0;
        if (!parse_int(in, v)) return "must be an integer, got " + in;
        return ok(v) ? std::string() : "must be " + rule + ", got " + in;
      },
      rule);
}

// Likewise for finite reals (NaN and infinities are always rejected).
inline CLI::Validator real_rule(const std::string& rule, std::function<bool(double)> ok) {
  return CLI::Validator(
      [rule, ok](std::string& in) -> std::string {
        double v = 0;
        if (!parse_real(in, v)) return "must be a number, got " + in;
        return std::isfinite(v) && ok(v) ? std::string() : "must be " + rule + ", got " + in;
      },
      rule);
}

}  // namespace rules

// An integer in [lo, hi] (inclusive).
inline CLI::Validator IntRange(int64_t lo, int64_t hi) {
  return rules::int_rule("in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]",
                          [lo, hi](int64_t v) { return v >= lo && v <= hi; });
}
// An integer >= lo.
inline CLI::Validator IntAtLeast(int64_t lo) {
  return rules::int_rule(">= " + std::to_string(lo), [lo](int64_t v) { return v >= lo; });
}
// An integer >= 1 (counts, sizes, epochs).
inline CLI::Validator PositiveInt() { return IntAtLeast(1); }
// An integer >= 0 (indices, "0 = automatic" settings).
inline CLI::Validator NonNegativeInt() { return IntAtLeast(0); }

// A finite real in [lo, hi] (inclusive).
inline CLI::Validator RealRange(double lo, double hi) {
  return rules::real_rule("in [" + rules::num(lo) + ", " + rules::num(hi) + "]",
                           [lo, hi](double v) { return v >= lo && v <= hi; });
}
// A finite real >= lo.
inline CLI::Validator RealAtLeast(double lo) {
  return rules::real_rule(">= " + rules::num(lo), [lo](double v) { return v >= lo; });
}
// A finite real > 0.
inline CLI::Validator PositiveReal() {
  return rules::real_rule("> 0", [](double v) { return v > 0.0; });
}

}  // namespace pg::cli
