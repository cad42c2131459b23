// pg demo: fits a sphere (centre, radius) to noisy samples of a sphere's surface and a linear
// map to a rotated copy of the same cloud, by gradient descent through the autograd tape.
// It exercises random numbers, broadcasting, reductions, matmul, views and backward on the
// chosen device, and prints what it recovered against the ground truth.
#include <chrono>
#include <cmath>
#include <cstdio>

#include "ops/ops.h"
#include "tools/pg/cli_validators.h"
#include "tools/pg/commands.h"

namespace pg::cli {

namespace {

struct DemoOptions {
  std::string device = "cpu";
  int points = 4096;
  int steps = 300;
  double lr = 0.1;
  uint64_t seed = 7;
};

// Points uniformly on a sphere of `radius` around `centre`, with Gaussian noise.
Tensor sample_sphere(int n, const std::vector<double>& centre, double radius, double noise, Generator& gen,
                     Device dev) {
  Tensor dir = randn({n, 3}, TensorOptions(DType::f32, dev), &gen);
  Tensor unit = dir / sqrt(sum(dir * dir, {1}, true));
  Tensor c = from_vector(std::vector<float>(centre.begin(), centre.end()), {1, 3}, dev);
  return unit * radius + c + randn({n, 3}, TensorOptions(DType::f32, dev), &gen) * noise;
}

void run_demo(const DemoOptions& o) {
  const Device dev = Device::parse(o.device);
  Generator gen(o.seed);
  const std::vector<double> true_centre{0.3, -0.2, 0.5};
  const double true_radius = 0.8;
  const auto t0 = std::chrono::steady_clock::now();

  std::printf("pointgrad demo on %s: %d noisy points on a sphere, centre (%.2f, %.2f, %.2f), radius %.2f\n",
              dev.str().c_str(), o.points, true_centre[0], true_centre[1], true_centre[2], true_radius);
  Tensor pts = sample_sphere(o.points, true_centre, true_radius, 0.01, gen, dev);

  // 1) Sphere fit: minimise mean((|p - c| - r)^2) over c and r.
  Tensor c = zeros({1, 3}, TensorOptions(DType::f32, dev)).requires_grad_();
  Tensor r = full({1}, 0.1, TensorOptions(DType::f32, dev)).requires_grad_();
  for (int step = 0; step <= o.steps; ++step) {
    Tensor d = sqrt(sum(square(pts - c), {1}) + 1e-12);
    Tensor loss = mean(square(d - r));
    if (step % (o.steps / 5) == 0) std::printf("  sphere fit step %4d  loss %.6f\n", step, loss.item());
    if (step == o.steps) break;
    c.zero_grad();
    r.zero_grad();
    loss.backward();
    NoGradGuard ng;
    c.copy_(c - c.grad() * o.lr * 5.0);
    r.copy_(r - r.grad() * o.lr * 5.0);
  }
  const auto cv = c.to_vector<float>();
  std::printf("  recovered centre (%.3f, %.3f, %.3f), radius %.3f\n", cv[0], cv[1], cv[2], r.item());

  // 2) Linear map: find W with pts·W ≈ pts·R for a rotation R about z by 30 degrees.
  const double a = M_PI / 6.0;
  Tensor R = from_vector(std::vector<float>{float(std::cos(a)), float(std::sin(a)), 0.f, float(-std::sin(a)),
                                            float(std::cos(a)), 0.f, 0.f, 0.f, 1.f},
                         {3, 3}, dev);
  Tensor target = matmul(pts, R);
  Tensor W = zeros({3, 3}, TensorOptions(DType::f32, dev)).requires_grad_();
  double final_loss = 0.0;
  for (int step = 0; step <= o.steps; ++step) {
    Tensor loss = mean(square(matmul(pts, W) - target));
    final_loss = loss.item();
    if (step == o.steps) break;
    W.zero_grad();
    loss.backward();
    NoGradGuard ng;
    W.copy_(W - W.grad() * o.lr * 10.0);
  }
  const double err = max(abs(W - R)).item();
  std::printf("  rotation fit: final loss %.2e, max |W - R| = %.2e\n", final_loss, err);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double centre_err = std::sqrt((cv[0] - true_centre[0]) * (cv[0] - true_centre[0]) +
                                      (cv[1] - true_centre[1]) * (cv[1] - true_centre[1]) +
                                      (cv[2] - true_centre[2]) * (cv[2] - true_centre[2]));
  const bool ok = centre_err < 0.02 && std::fabs(r.item() - true_radius) < 0.02 && err < 0.05;
  std::printf("demo %s in %.2f s (centre error %.4f, radius error %.4f)\n", ok ? "succeeded" : "FAILED", secs,
              centre_err, std::fabs(r.item() - true_radius));
  PG_CHECK(ok, "demo: the fits did not converge to the ground truth");
}

}  // namespace

void register_demo(CLI::App& app) {
  static DemoOptions o;
  auto* cmd = app.add_subcommand("demo", "Fit a sphere and a rotation by gradient descent (tensor API demo)");
  cmd->add_option("--device", o.device, "cpu or cuda[:N]")->capture_default_str();
  cmd->add_option("--points", o.points, "number of points")->capture_default_str()->check(IntRange(16, 10000000));
  cmd->add_option("--steps", o.steps, "gradient steps per fit")->capture_default_str()->check(IntRange(5, 100000));
  cmd->add_option("--lr", o.lr, "learning rate")->capture_default_str()->check(PositiveReal());
  cmd->add_option("--seed", o.seed, "random seed")->capture_default_str();
  cmd->callback([] { run_demo(o); });
}

}  // namespace pg::cli
