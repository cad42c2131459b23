// Large benchmark clouds shared by bench_knn and bench_chamfer (issue 14, spatial indexes):
// float32 points uniform in the cube [-1, 1]^3 or uniform on the unit sphere's surface, from a
// fixed seed. With the environment variable PG_BENCH_DUMP_DIR set, every cloud a case uses is
// also written there as raw little-endian float32 [n, 3] (<case>.<role>.f32), so that
// tools/compare/scipy_knn.py times SciPy's cKDTree on exactly the same points.
#pragma once

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/tensor.h"
#include "harness.h"

namespace pg::bench {

// shape: "cube" or "sphere".
inline Tensor large_cloud(const std::string& shape, int64_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<float> v(static_cast<size_t>(n * 3));
  if (shape == "cube") {
    std::uniform_real_distribution<double> u(-1.0, 1.0);
    for (float& x : v) x = static_cast<float>(u(rng));
  } else if (shape == "sphere") {
    std::normal_distribution<double> g(0.0, 1.0);
    for (int64_t i = 0; i < n; ++i) {
      double p[3], s = 0.0;
      do {
        s = 0.0;
        for (double& c : p) {
          c = g(rng);
          s += c * c;
        }
      } while (s < 1e-12);
      const double inv = 1.0 / std::sqrt(s);
      for (int a = 0; a < 3; ++a) v[static_cast<size_t>(i * 3 + a)] = static_cast<float>(p[a] * inv);
    }
  } else {
    PG_CHECK(false, "large_cloud: unknown shape '", shape, "' (cube or sphere)");
  }
  return from_vector(v, {1, n, 3});
}

// Writes the cloud ([1, n, 3] float32) to $PG_BENCH_DUMP_DIR/<name>.f32 when that is set.
inline void dump_cloud(const std::string& name, const Tensor& cloud) {
  const char* dir = std::getenv("PG_BENCH_DUMP_DIR");
  if (dir == nullptr || *dir == '\0') return;
  const std::string path = std::string(dir) + "/" + name + ".f32";
  const std::vector<float> v = cloud.to_vector<float>();
  std::FILE* f = std::fopen(path.c_str(), "wb");
  PG_CHECK(f != nullptr, "dump_cloud: cannot open ", path);
  const size_t wrote = std::fwrite(v.data(), sizeof(float), v.size(), f);
  std::fclose(f);
  PG_CHECK(wrote == v.size(), "dump_cloud: short write to ", path);
}

// Seconds-long calls: one warm-up call, then --min-repeats timed calls (the harness policy
// would spend at least three warm-up calls and half a second of repeats on each).
inline Stats time_big(const Harness& h, const std::function<void()>& fn) {
  fn();
  std::vector<double> ms;
  for (int i = 0; i < h.options().repeats_min; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  return summarize(ms);
}

}  // namespace pg::bench
