#include "models/nn/sequential.h"

#include "core/error.h"

namespace pg::nn {

namespace detail {

std::shared_ptr<Module> child_at(const Module& owner, const std::vector<std::shared_ptr<Module>>& list, size_t i) {
  PG_CHECK(i < list.size(), owner.type_name(), ": index ", i, " is out of range (", list.size(), " children)");
  return list[i];
}

void wrong_child_type(const Module& owner, size_t i, const Module& actual, const char* wanted) {
  PG_FAIL(owner.type_name(), ": child ", i, " is a ", actual.type_name(), ", not the requested type (", wanted, ")");
}

}  // namespace detail

Tensor Sequential::forward(const Tensor& x) const {
  Tensor h = x;
  for (const auto& call : calls_) h = call(h);
  return h;
}

}  // namespace pg::nn
