#include "models/nn/model_config.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <sstream>

#include "core/error.h"

namespace pg::nn {

namespace {

constexpr const char* kModelKey = "model";
constexpr const char* kPrefix = "model.";

void check_key(const std::string& model, const std::string& key) {
  PG_CHECK(!key.empty(), "model config '", model, "': empty key");
  for (char c : key) {
    PG_CHECK(c != '=' && !std::isspace(static_cast<unsigned char>(c)), "model config '", model, "': key '", key,
             "' must not contain '=' or whitespace");
  }
}

std::string key_list(const std::map<std::string, std::string>& values) {
  std::string out;
  for (const auto& [k, v] : values) out += (out.empty() ? "" : ", ") + k;
  return out.empty() ? std::string("none") : out;
}

// Equal as strings, or both numbers with the same value ("0.3" and "0.29999999999999999").
bool same_value(const std::string& a, const std::string& b) {
  if (a == b) return true;
  double x = 0.0, y = 0.0;
  const auto rx = std::from_chars(a.data(), a.data() + a.size(), x);
  const auto ry = std::from_chars(b.data(), b.data() + b.size(), y);
  return rx.ec == std::errc() && ry.ec == std::errc() && rx.ptr == a.data() + a.size() &&
         ry.ptr == b.data() + b.size() && x == y;
}

}  // namespace

std::string format_double(double v) {
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, res.ptr);
}

ModelConfig::ModelConfig(std::string name) : name_(std::move(name)) {
  PG_CHECK(!name_.empty(), "ModelConfig: the model name must not be empty");
  check_key(name_, name_);
}

ModelConfig& ModelConfig::set(const std::string& key, const std::string& value) {
  check_key(name_, key);
  values_[key] = value;
  return *this;
}

ModelConfig& ModelConfig::set_int(const std::string& key, int64_t value) { return set(key, std::to_string(value)); }

ModelConfig& ModelConfig::set_double(const std::string& key, double value) { return set(key, format_double(value)); }

ModelConfig& ModelConfig::set_bool(const std::string& key, bool value) { return set(key, value ? "true" : "false"); }

const std::string& ModelConfig::get(const std::string& key) const {
  auto it = values_.find(key);
  PG_CHECK(it != values_.end(), "model config '", name_, "': no value for '", key, "' (keys: ", key_list(values_),
           ")");
  return it->second;
}

std::string ModelConfig::get_or(const std::string& key, const std::string& fallback) const {
  auto it = values_.find(key);
  return it == values_.end() ? fallback : it->second;
}

int64_t ModelConfig::get_int(const std::string& key) const {
  const std::string& s = get(key);
  int64_t v = 0;
  const auto res = std::from_chars(s.data(), s.data() + s.size(), v);
  PG_CHECK(res.ec == std::errc() && res.ptr == s.data() + s.size() && !s.empty(), "model config '", name_, "': '",
           key, "' = '", s, "' is not an integer");
  return v;
}

double ModelConfig::get_double(const std::string& key) const {
  const std::string& s = get(key);
  double v = 0.0;
  const auto res = std::from_chars(s.data(), s.data() + s.size(), v);
  PG_CHECK(res.ec == std::errc() && res.ptr == s.data() + s.size() && !s.empty(), "model config '", name_, "': '",
           key, "' = '", s, "' is not a number");
  return v;
}

bool ModelConfig::get_bool(const std::string& key) const {
  const std::string& s = get(key);
  if (s == "true" || s == "1") return true;
  if (s == "false" || s == "0") return false;
  PG_FAIL("model config '", name_, "': '", key, "' = '", s, "' is not a boolean (true or false)");
}

std::string ModelConfig::describe() const {
  if (values_.empty()) return name_;
  std::string out = name_ + " (";
  bool first = true;
  for (const auto& [k, v] : values_) {
    out += (first ? "" : ", ") + k + "=" + v;
    first = false;
  }
  return out + ")";
}

std::map<std::string, std::string> ModelConfig::to_attributes() const {
  std::map<std::string, std::string> out;
  out[kModelKey] = name_;
  for (const auto& [k, v] : values_) out[kPrefix + k] = v;
  return out;
}

std::optional<ModelConfig> ModelConfig::from_attributes(const std::map<std::string, std::string>& attributes) {
  auto it = attributes.find(kModelKey);
  if (it == attributes.end() || it->second.empty()) return std::nullopt;
  ModelConfig c(it->second);
  const std::string prefix = kPrefix;
  for (const auto& [k, v] : attributes) {
    if (k.size() > prefix.size() && k.compare(0, prefix.size(), prefix) == 0) c.set(k.substr(prefix.size()), v);
  }
  return c;
}

std::optional<ModelConfig> ModelConfig::from_legacy_string(const std::string& config) {
  std::istringstream in(config);
  std::string tok;
  std::optional<ModelConfig> out;
  std::map<std::string, std::string> values;
  while (in >> tok) {
    const size_t eq = tok.find('=');
    if (eq == std::string::npos || eq == 0) continue;
    const std::string key = tok.substr(0, eq), val = tok.substr(eq + 1);
    if (key == kModelKey) {
      if (!out && !val.empty()) out.emplace(val);
    } else {
      values[key] = val;
    }
  }
  if (out) {
    for (const auto& [k, v] : values) out->set(k, v);
  }
  return out;
}

std::vector<std::string> ModelConfig::differences_from(const ModelConfig& expected) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : expected.values()) {
    auto it = values_.find(k);
    if (it == values_.end()) {
      out.push_back(k + " missing (expected " + v + ")");
    } else if (!same_value(it->second, v)) {
      out.push_back(k + "=" + it->second + " (expected " + v + ")");
    }
  }
  return out;
}

}  // namespace pg::nn
