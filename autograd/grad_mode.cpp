#include "autograd/grad_mode.h"

#include "autograd/grad.h"

namespace pg::autograd {

namespace {
thread_local bool t_enabled = true;
}

bool grad_enabled() { return t_enabled; }
void set_grad_enabled(bool enabled) { t_enabled = enabled; }
NoGradGuard::NoGradGuard() : prev_(t_enabled) { t_enabled = false; }
NoGradGuard::~NoGradGuard() { t_enabled = prev_; }

GradModeGuard::GradModeGuard(bool enabled) : prev_(grad_enabled()) { set_grad_enabled(enabled); }
GradModeGuard::~GradModeGuard() { set_grad_enabled(prev_); }

}  // namespace pg::autograd
