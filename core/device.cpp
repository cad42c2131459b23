#include "core/device.h"

#include "core/error.h"

namespace pg {

Device Device::parse(const std::string& s) {
  if (s == "cpu") return cpu();
  if (s == "cuda") return cuda(0);
  if (s.rfind("cuda:", 0) == 0) {
    const std::string num = s.substr(5);
    PG_CHECK(!num.empty() && num.find_first_not_of("0123456789") == std::string::npos,
             "Device::parse: bad device string '", s, "' (expected cpu, cuda or cuda:N)");
    return cuda(std::stoi(num));
  }
  PG_FAIL("Device::parse: bad device string '", s, "' (expected cpu, cuda or cuda:N)");
}

std::string Device::str() const { return is_cpu() ? "cpu" : "cuda:" + std::to_string(index); }

std::ostream& operator<<(std::ostream& os, const Device& d) { return os << d.str(); }

}  // namespace pg
