// DataLoader: batching, seeded shuffling, augmentation statistics, prefetch determinism.
#include <catch2/catch.hpp>
#include <cmath>
#include <numeric>
#include <set>

#include "datasets/loader.h"

using namespace pg;
using namespace pg::datasets;

namespace {

// N shapes of P points; point j of shape i = (i, j, -i - j) / 100 (label i % 3).
struct Toy {
  Tensor points, labels;
  Toy(int64_t n, int64_t p) {
    std::vector<float> v(static_cast<size_t>(n * p * 3));
    std::vector<int64_t> l(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      l[static_cast<size_t>(i)] = i % 3;
      for (int64_t j = 0; j < p; ++j) {
        float* q = &v[static_cast<size_t>((i * p + j) * 3)];
        q[0] = static_cast<float>(i) / 100.0f;
        q[1] = static_cast<float>(j) / 100.0f;
        q[2] = static_cast<float>(-i - j) / 100.0f;
      }
    }
    points = from_vector(v, {n, p, 3});
    labels = from_vector(l, {n});
  }
};

std::vector<std::vector<float>> epoch_points(DataLoader& dl, int64_t epoch) {
  dl.start_epoch(epoch);
  std::vector<std::vector<float>> out;
  Batch b;
  while (dl.next(b)) out.push_back(b.points.to_vector<float>());
  return out;
}

}  // namespace

TEST_CASE("loader: batches, first-k points, drop_last", "[datasets]") {
  Toy toy(10, 8);
  LoaderOptions o;
  o.batch_size = 4;
  o.num_points = 5;
  o.shuffle = false;
  o.prefetch = 0;
  DataLoader dl(toy.points, toy.labels, o);
  CHECK(dl.batches_per_epoch() == 3);
  std::vector<int64_t> sizes, rows;
  Batch b;
  while (dl.next(b)) {
    sizes.push_back(b.size());
    REQUIRE(b.points.shape() == Shape{b.size(), 5, 3});
    REQUIRE(b.labels.dtype() == DType::i64);
    const auto pv = b.points.to_vector<float>();
    const auto lv = b.labels.to_vector<int64_t>();
    const auto iv = b.indices.to_vector<int64_t>();
    for (int64_t j = 0; j < b.size(); ++j) {
      rows.push_back(iv[static_cast<size_t>(j)]);
      CHECK(lv[static_cast<size_t>(j)] == iv[static_cast<size_t>(j)] % 3);
      CHECK(pv[static_cast<size_t>(j * 15)] == Approx(iv[static_cast<size_t>(j)] / 100.0));
      CHECK(pv[static_cast<size_t>(j * 15 + 4 * 3 + 1)] == Approx(0.04));  // point 4's y
    }
  }
  CHECK(sizes == std::vector<int64_t>{4, 4, 2});
  std::vector<int64_t> expect(10);
  std::iota(expect.begin(), expect.end(), 0);
  CHECK(rows == expect);
  CHECK_FALSE(dl.next(b));  // the epoch stays finished

  o.drop_last = true;
  DataLoader dd(toy.points, toy.labels, o);
  CHECK(dd.batches_per_epoch() == 2);
  int count = 0;
  while (dd.next(b)) ++count;
  CHECK(count == 2);

  o.num_points = -1;
  DataLoader all(toy.points, toy.labels, o);
  REQUIRE(all.next(b));
  CHECK(b.points.size(1) == 8);
  o.num_points = 9;
  CHECK_THROWS_AS(DataLoader(toy.points, toy.labels, o), pg::Error);
  o.num_points = 4;
  o.batch_size = 0;
  CHECK_THROWS_AS(DataLoader(toy.points, toy.labels, o), pg::Error);
}

TEST_CASE("loader: shuffling is a seeded permutation per epoch", "[datasets]") {
  Toy toy(50, 4);
  LoaderOptions o;
  o.batch_size = 7;
  o.num_points = 4;
  o.seed = 123;
  o.prefetch = 0;
  DataLoader a(toy.points, toy.labels, o), b(toy.points, toy.labels, o);
  const auto e0 = a.epoch_order(0), e1 = a.epoch_order(1);
  CHECK(e0 == b.epoch_order(0));
  CHECK(e0 != e1);
  std::vector<int64_t> sorted = e0;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int64_t> expect(50);
  std::iota(expect.begin(), expect.end(), 0);
  CHECK(sorted == expect);
  o.seed = 124;
  DataLoader c(toy.points, toy.labels, o);
  CHECK(c.epoch_order(0) != e0);
  // The batches follow the order.
  a.start_epoch(1);
  Batch batch;
  std::vector<int64_t> seen;
  while (a.next(batch)) {
    for (int64_t r : batch.indices.to_vector<int64_t>()) seen.push_back(r);
  }
  CHECK(seen == e1);
  // Position-wise, a shuffle should move most rows.
  int fixed = 0;
  for (size_t i = 0; i < e0.size(); ++i) fixed += e0[i] == static_cast<int64_t>(i);
  CHECK(fixed < 10);
}

TEST_CASE("loader: rotation about y, jitter, scale and shift statistics", "[datasets]") {
  // One shape repeated: points on the unit circle in xz, y = j / 100.
  const int64_t n = 400, p = 64;
  std::vector<float> v(static_cast<size_t>(n * p * 3));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < p; ++j) {
      const double a = 2.0 * M_PI * j / p;
      float* q = &v[static_cast<size_t>((i * p + j) * 3)];
      q[0] = static_cast<float>(std::cos(a));
      q[1] = static_cast<float>(j) / 100.0f;
      q[2] = static_cast<float>(std::sin(a));
    }
  Tensor pts = from_vector(v, {n, p, 3});
  Tensor lab = zeros({n}, TensorOptions(DType::i64));
  LoaderOptions o;
  o.batch_size = 50;
  o.num_points = p;
  o.prefetch = 0;
  o.seed = 5;

  SECTION("rotation: y and radii kept, angle uniform") {
    o.augment.rotate_y = true;
    DataLoader dl(pts, lab, o);
    Batch b;
    std::vector<double> angles;
    while (dl.next(b)) {
      const auto bv = b.points.to_vector<float>();
      for (int64_t s = 0; s < b.size(); ++s) {
        const float* q = &bv[static_cast<size_t>(s * p * 3)];
        for (int64_t j = 0; j < p; ++j) {
          CHECK(q[3 * j + 1] == Approx(j / 100.0).margin(1e-6));
          CHECK(std::hypot(q[3 * j], q[3 * j + 2]) == Approx(1.0).margin(1e-5));
        }
        // point 0 was (1, 0, 0) → (cos a, 0, sin a)
        angles.push_back(std::atan2(q[2], q[0]));
      }
    }
    REQUIRE(angles.size() == static_cast<size_t>(n));
    double mc = 0, ms = 0;
    int bins[4] = {0, 0, 0, 0};
    for (double a : angles) {
      mc += std::cos(a) / n;
      ms += std::sin(a) / n;
      bins[static_cast<int>((a + M_PI) / (M_PI / 2)) % 4]++;
    }
    CHECK(std::fabs(mc) < 0.15);  // uniform angles: mean cos, sin ~ N(0, 1/(2n))
    CHECK(std::fabs(ms) < 0.15);
    for (int c : bins) CHECK(c > 60);
  }

  SECTION("jitter: sigma 0.01, clipped at 0.05") {
    o.augment.jitter_sigma = 0.01;
    DataLoader dl(pts, lab, o);
    Batch b;
    double s1 = 0, s2 = 0;
    int64_t cnt = 0;
    double mx = 0;
    while (dl.next(b)) {
      const auto bv = b.points.to_vector<float>();
      for (size_t i = 0; i < bv.size(); ++i) {
        const double d = bv[i] - v[i % static_cast<size_t>(p * 3)];
        s1 += d;
        s2 += d * d;
        mx = std::max(mx, std::fabs(d));
        ++cnt;
      }
    }
    const double mean = s1 / cnt, sd = std::sqrt(s2 / cnt - mean * mean);
    CHECK(std::fabs(mean) < 5e-4);
    CHECK(sd == Approx(0.01).epsilon(0.03));
    CHECK(mx <= 0.05 + 1e-6);
    CHECK(mx > 0.03);  // 76,800 draws: 3σ+ values occur

    o.augment.jitter_sigma = 0.1;  // clipping dominates
    DataLoader dc(pts, lab, o);
    REQUIRE(dc.next(b));
    const auto bv = b.points.to_vector<float>();
    int at_clip = 0;
    for (size_t i = 0; i < bv.size(); ++i) {
      const double d = std::fabs(bv[i] - v[i % static_cast<size_t>(p * 3)]);
      CHECK(d <= 0.05 + 1e-6);
      at_clip += d > 0.05 - 1e-6;
    }
    CHECK(at_clip > static_cast<int>(bv.size()) / 2);  // P(|N(0, 0.1)| > 0.05) = 0.62
  }

  SECTION("scale and shift ranges") {
    o.augment.scale_lo = 0.8;
    o.augment.scale_hi = 1.25;
    o.augment.shift = 0.1;
    DataLoader dl(pts, lab, o);
    Batch b;
    double smin = 10, smax = 0, ssum = 0, shmax = 0;
    int64_t cnt = 0;
    while (dl.next(b)) {
      const auto bv = b.points.to_vector<float>();
      for (int64_t s = 0; s < b.size(); ++s) {
        const float* q = &bv[static_cast<size_t>(s * p * 3)];
        // points 0 and 16: (1,0,0) and (0,0.16,1) → difference scaled by s.
        const double dx = q[0] - q[48], dy = q[1] - q[49], dz = q[2] - q[50];
        const double sc = std::sqrt(dx * dx + dy * dy + dz * dz) / std::sqrt(1.0 + 0.16 * 0.16 + 1.0);
        smin = std::min(smin, sc);
        smax = std::max(smax, sc);
        ssum += sc;
        ++cnt;
        // shift = q0 - sc * (1, 0, 0)
        shmax = std::max({shmax, std::fabs(double(q[0]) - sc), std::fabs(double(q[1])), std::fabs(double(q[2]))});
      }
    }
    CHECK(smin >= 0.8 - 1e-5);
    CHECK(smax <= 1.25 + 1e-5);
    CHECK(smin < 0.85);
    CHECK(smax > 1.2);
    CHECK(ssum / cnt == Approx(1.025).margin(0.03));
    CHECK(shmax <= 0.1 + 1e-5);
    CHECK(shmax > 0.09);
  }
}

TEST_CASE("loader: prefetching yields exactly the synchronous batches", "[datasets]") {
  Toy toy(37, 16);
  LoaderOptions o;
  o.batch_size = 5;
  o.num_points = 12;
  o.seed = 99;
  o.augment = Augment::pointnet();
  o.augment.scale_lo = 0.9;
  o.augment.scale_hi = 1.1;
  o.prefetch = 0;
  DataLoader sync(toy.points, toy.labels, o);
  o.prefetch = 1;
  DataLoader p1(toy.points, toy.labels, o);
  o.prefetch = 4;
  DataLoader p4(toy.points, toy.labels, o);
  for (int64_t e : {0, 1, 2, 5, 3}) {
    const auto s = epoch_points(sync, e);
    CHECK(s.size() == 8);
    CHECK(epoch_points(p1, e) == s);
    CHECK(epoch_points(p4, e) == s);
  }
  // make_batch is the reference the prefetcher reproduces; epochs differ.
  CHECK(sync.make_batch(2, 3).points.to_vector<float>() == epoch_points(p4, 2)[3]);
  CHECK(epoch_points(sync, 0) != epoch_points(sync, 1));
  // Abandoning an epoch half-way and starting another still gives the right batches.
  p4.start_epoch(7);
  Batch b;
  REQUIRE(p4.next(b));
  REQUIRE(p4.next(b));
  CHECK(epoch_points(p4, 8) == epoch_points(sync, 8));
  CHECK(epoch_points(p4, 7) == epoch_points(sync, 7));
  // next() without start_epoch begins epoch 0.
  o.prefetch = 2;
  DataLoader fresh(toy.points, toy.labels, o);
  REQUIRE(fresh.next(b));
  CHECK(b.epoch == 0);
  CHECK(b.index == 0);
  CHECK(b.points.to_vector<float>() == sync.make_batch(0, 0).points.to_vector<float>());
}

TEST_CASE("loader: reads a PointCloudSet and keeps label dtypes", "[datasets]") {
  Toy toy(6, 4);
  PointCloudSet set;
  set.points = toy.points;
  set.labels = from_vector(std::vector<uint8_t>{5, 4, 3, 2, 1, 0}, {6});
  set.class_names = {"a", "b", "c", "d", "e", "f"};
  LoaderOptions o;
  o.batch_size = 6;
  o.num_points = 4;
  o.shuffle = false;
  DataLoader dl(set, o);
  Batch b;
  REQUIRE(dl.next(b));
  CHECK(b.labels.to_vector<int64_t>() == std::vector<int64_t>{5, 4, 3, 2, 1, 0});
  CHECK_FALSE(dl.next(b));
}
