// ops/check.h: every shared input check passes valid input and words its error as
// "<op>: <argument> ..." with the offending value; pg::Error keeps the message alone in
// message() and the source location and failed check in what().
#include <catch2/catch.hpp>
#include <cmath>
#include <functional>
#include <string>

#include "ops/check.h"
#include "ops/view.h"
#include "test_util.h"

using namespace pg;

namespace {

// The message of the pg::Error that f throws ("(no error)" when it returns).
std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.message();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("check: valid inputs pass", "[check]") {
  const Tensor c = zeros({2, 5, 3});
  CHECK_NOTHROW(check::cloud("op", "a", c));
  CHECK_NOTHROW(check::cloud_pair("op", "a", c, "b", zeros({2, 7, 3})));
  CHECK_NOTHROW(check::points("op", "p", zeros({0, 3}, DType::f64)));
  CHECK_NOTHROW(check::index_dtype("op", "i", zeros({4}, DType::i32)));
  CHECK_NOTHROW(check::index_range("op", "index", from_vector<int64_t>({0, 3, 1}, {3}), 4, "n"));
  CHECK_NOTHROW(check::finite("op", "a", c));
  CHECK_NOTHROW(check::rank("op", "x", zeros({2, 3}), 2, "[B, C]"));
  CHECK_NOTHROW(check::contiguous_buffer("op", "x", zeros({2, 3})));
  CHECK_NOTHROW(check::on_cpu("op", "x", zeros({1})));
}

TEST_CASE("check: messages name the op, the argument and the offending value", "[check]") {
  CHECK(message_of([] { check::cloud("knn", "query", zeros({2, 5})); }) ==
        "knn: query must be a [B, n, 3] point cloud, got shape [2, 5]");
  CHECK(message_of([] { check::cloud("knn", "ref", zeros({2, 0, 3})); }) ==
        "knn: ref is an empty cloud (shape [2, 0, 3])");
  CHECK(message_of([] { check::cloud("knn", "ref", zeros({0, 4, 3})); }) ==
        "knn: ref has an empty batch (shape [0, 4, 3])");
  CHECK(message_of([] { check::cloud("fps", "points", zeros({1, 4, 3}, DType::i32)); }) ==
        "fps: points must be float32 or float64, got int32");
  CHECK(message_of([] { check::points("p2f", "vertices", zeros({4, 2})); }) ==
        "p2f: vertices must be an [n, 3] point set, got shape [4, 2]");
  CHECK(message_of([] { check::defined("add", "b", Tensor()); }) == "add: b is an undefined tensor");
  CHECK(message_of([] { check::dtype("p2f", "faces", zeros({2, 3}, DType::i32), DType::i64); }) ==
        "p2f: faces must be int64, got int32");
  CHECK(message_of([] { check::index_dtype("gather", "index", zeros({2})); }) ==
        "gather: index must be int64 or int32, got float32");
  CHECK(message_of([] { check::numeric("neg", "x", zeros({2}, DType::b8)); }) ==
        "neg: x is bool, which is not supported (expected a numeric dtype)");
  CHECK(message_of([] { check::rank("bmm", "a", zeros({2, 3}), 3, "[B, n, k]"); }) ==
        "bmm: a must be [B, n, k], got shape [2, 3]");
  CHECK(message_of([] { check::same_dtype("bmm", "a", zeros({2, 3}), "b", zeros({2, 3}, DType::f64)); }) ==
        "bmm: dtype mismatch: a is float32 [2, 3] on cpu but b is float64 [2, 3] on cpu (no implicit promotion; "
        "convert with .to(dtype))");
  CHECK(message_of([] { check::same_shape("mse_loss", "input", zeros({2, 3}), "target", zeros({3, 2})); }) ==
        "mse_loss: input and target must have the same shape, got [2, 3] and [3, 2]");
  CHECK(message_of([] { check::cloud_pair("chamfer", "a", zeros({2, 4, 3}), "b", zeros({3, 4, 3})); }) ==
        "chamfer: batch sizes differ: a has 2 clouds, b has 3");
  CHECK(message_of([] { check::index_range("gather", "index", from_vector<int64_t>({0, 5}, {2}), 4, "dim 0"); }) ==
        "gather: index 5 is out of range for dim 0 = 4 (valid range 0..3)");
  CHECK(message_of([] { check::index_range("one_hot", "index", from_vector<int64_t>({-1}, {1}), 3, "n"); }) ==
        "one_hot: index -1 is out of range for n = 3 (valid range 0..2)");
  CHECK(message_of([] {
          const Tensor t = zeros({2, 3}).transpose(0, 1);
          check::contiguous_buffer("batch_norm", "running_mean", t);
        }) == "batch_norm: running_mean must be contiguous (it is updated in place), got shape [3, 2] with "
              "strides [1, 3]");
  CHECK(message_of([] {
          std::vector<float> v(12, 0.f);
          v[7] = NAN;
          check::finite("knn", "query", from_vector(v, {1, 4, 3}));
        }) == "knn: query contains NaN or Inf values");
  CHECK(message_of([] {
          std::vector<double> v(6, 0.0);
          v[0] = INFINITY;
          check::finite("knn", "ref", from_vector(v, {2, 3}));
        }) == "knn: ref contains NaN or Inf values");
}

TEST_CASE("pg::Error: message() is the message alone, what() adds location and check", "[check]") {
  try {
    check::cloud("knn", "query", zeros({2, 5}));
    FAIL("no error");
  } catch (const Error& e) {
    const std::string what = e.what();
    CHECK(what.rfind(e.message(), 0) == 0);
    CHECK(what.find("check.cpp:") != std::string::npos);
    CHECK(what.find("check failed: ") != std::string::npos);
    CHECK(e.message().find("check.cpp") == std::string::npos);
  }
  const Error plain("just text");
  CHECK(plain.message() == "just text");
  CHECK(std::string(plain.what()) == "just text");
}
