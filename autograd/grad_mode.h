// Grad mode: whether differentiable ops record nodes on the tape (per thread).
#pragma once

namespace pg::autograd {

bool grad_enabled();
void set_grad_enabled(bool enabled);

// Disables recording for its scope (restores the previous mode on exit).
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool prev_;
};

}  // namespace pg::autograd

namespace pg {
using autograd::NoGradGuard;
}
